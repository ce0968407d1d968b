"""A boolean mask read with nn.MultiheadAttention's convention (True = hidden) instead of SDPA's (True = takes part).

Both conventions exist in PyTorch itself: scaled_dot_product_attention's attn_mask keeps where True, MultiheadAttention's
attn_mask and key_padding_mask hide where True. Read the wrong way, a padding mask hides the words and keeps the padding."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def masked_softmax(scores, mask=None):
    return _ref.masked_softmax(scores, None if mask is None else ~np.asarray(mask))


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    if mask is not None and np.asarray(mask).dtype == np.bool_:
        mask = ~np.asarray(mask)                            # True read as "hidden"
    return _ref.attention_forward(q, k, v, mask=mask, causal=causal, scale=scale)
