"""dW computed as dout.T @ x instead of x.T @ dout.
dW comes out as (D_out, D_in), the transpose of W: the update fails, or for a square W silently goes wrong.
"""

from dlfs.components import load_topic

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def linear_backward(dout, cache):
    x, W, b = cache
    dx = dout @ W.T
    dW = dout.T @ x          # wrong order: (D_out, N) @ (N, D_in)
    db = dout.sum(axis=0)
    return dx, dW, db
