"""broadcast_shapes aligns the shapes from the LEFT (pads the shorter one with 1s on the right).
(3, 1) + (1, 3) still works, but (2, 3, 4) + (4,) fails and (5, 1, 4) + (3, 1) compares 5 with 3."""


from dlfs.components import load_topic

_ref = load_topic(1, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 1


def broadcast_shapes(*shapes):
    shapes = [tuple(int(n) for n in s) for s in shapes]
    ndim = max((len(s) for s in shapes), default=0)
    padded = [s + (1,) * (ndim - len(s)) for s in shapes]  # wrong side: the 1s belong on the left
    result = []
    for axis, sizes in enumerate(zip(*padded)):
        stretched = set(sizes) - {1}
        if len(stretched) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast at axis {axis}")
        result.append(stretched.pop() if stretched else 1)
    return tuple(result)
