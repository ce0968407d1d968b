"""Nodes are processed in the order a depth-first walk from the output first meets them, without a topological sort. It works on trees, but a node used along paths of different lengths runs its backward before all its consumers have added their part."""

from dlfs.components import load_module, topic_file

# a private copy of the level-2 reference, so that patching it cannot leak into the real one
_ref = load_module(topic_file(2, level=2), name="dlfs_topic02_mistake_depth_first_order")
EXPECTED_HINT = 2


def _topological_order(root, parents_of):
    seen, first_met, stack = set(), [], [root]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        first_met.append(node)            # the mistake: listed when first met, not after its inputs
        stack.extend(parents_of(node))
    return first_met[::-1]                # the engine walks the list backwards: output first


_ref._topological_order = _topological_order   # used by Value.backward and Tensor.backward of the copy
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
