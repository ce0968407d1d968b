"""get_weights returns the model's own arrays instead of copies. A "snapshot" (the best weights of early
stopping, the arrays written into a checkpoint later) then keeps changing with every optimizer step, and
editing the returned list edits the model."""

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def get_weights(model):
    return [p.data for p in model.parameters()] + _ref._buffers(model)   # references: should be .copy()
