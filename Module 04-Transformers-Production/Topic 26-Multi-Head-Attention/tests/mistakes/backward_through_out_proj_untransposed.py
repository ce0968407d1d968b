"""The backward pass through the output projection as dmerged = dout @ out_proj.weight^T instead of dout @ W.

out = merged W^T, so dmerged = dout W. W is square, so the transposed product runs; the forward pass is right,
out matches torch, and only the gradients reaching the heads (and below) are wrong."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(26, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def mha_backward(dout, cache):
    cache = list(cache)
    cache[5] = np.asarray(cache[5]).T                         # W_out read transposed on the way back
    dquery, dkey, dvalue, grads = _ref.mha_backward(dout, tuple(cache))
    return dquery, dkey, dvalue, grads
