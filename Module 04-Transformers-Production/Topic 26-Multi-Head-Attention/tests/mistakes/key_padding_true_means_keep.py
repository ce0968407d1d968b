"""A boolean key_padding_mask read with Topic 25's convention (True = takes part) instead of torch's (True = hidden).

Topic 25's attention keeps where True (SDPA's attn_mask); nn.MultiheadAttention hides where True. Passed straight
through, the padding mask hides the words and attends to the padding: it runs, and every padded batch is wrong."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(26, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _flip(mask):
    return ~np.asarray(mask) if mask is not None and np.asarray(mask).dtype == np.bool_ else mask


def merge_masks(key_padding_mask, attn_mask, batch, num_heads, T, S):
    return _ref.merge_masks(_flip(key_padding_mask), attn_mask, batch, num_heads, T, S)


def mha_forward(query, key, value, params, num_heads, key_padding_mask=None, **kwargs):
    return _ref.mha_forward(query, key, value, params, num_heads, key_padding_mask=_flip(key_padding_mask), **kwargs)
