"""dx computed as dout @ W, missing the .T.
It only runs when D_in == D_out, and even then dx is wrong: the error reaching the layer below is scrambled.
"""

from dlfs.components import load_topic

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def linear_backward(dout, cache):
    x, W, b = cache
    dx = dout @ W            # should be dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db
