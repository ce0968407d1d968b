"""The scores divided by d instead of sqrt(d): softmax(q k^T / d) v.

It runs and trains, but the softmax is flatter than the one of Vaswani et al. (2017) and of every library: the same
weights give other outputs, and for d = 1 nothing would show."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    if scale is None:
        scale = 1.0 / max(np.shape(q)[-1], 1)                # 1 / d
    return _ref.attention_forward(q, k, v, mask=mask, causal=causal, scale=scale)
