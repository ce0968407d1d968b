"""db averaged over the batch (dout.mean(axis=0)) instead of summed.
The 1/N of the mean loss is already inside dout, so the bias gradient is divided by N twice and the biases barely learn.
"""

from dlfs.components import load_topic

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def linear_backward(dout, cache):
    x, W, b = cache
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.mean(axis=0)   # averaged again: should be dout.sum(axis=0)
    return dx, dW, db
