"""dv computed as p @ dout instead of p^T @ dout.

out = p v, so out_i = sum_j p_ij v_j and dv_j = sum_i p_ij dout_i: p transposed. Without the transpose the shapes
still agree whenever L = S (self-attention), and the gradient is silently wrong; with L != S it crashes."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def attention_backward(dout, cache):
    dq, dk, _ = _ref.attention_backward(dout, cache)
    p = cache[3]
    return dq, dk, p @ np.asarray(dout).astype(p.dtype)     # p not transposed
