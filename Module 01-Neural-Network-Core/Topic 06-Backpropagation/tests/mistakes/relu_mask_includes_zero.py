"""ReLU backward masked with x >= 0 instead of x > 0.
At exactly 0 (dead units, zero-padded inputs) the gradient leaks through, unlike PyTorch and the convention.
"""

from dlfs.components import load_topic

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def relu_backward(dout, cache):
    x = cache
    return dout * (x >= 0)   # should be x > 0
