"""A per-head attn_mask (B * h, T, S) read head-major, as (h, B, T, S), instead of torch's batch-major (B, h, T, S).

Both readings have the same shape, so nothing complains: with B = 2 and h = 3, batch 0's head 1 gets the mask
torch meant for batch 0's head 1 only by chance. torch builds it with view(B, h, T, S): index b * h + head."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(26, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _head_major(attn_mask, batch, num_heads):
    if attn_mask is None or np.ndim(attn_mask) != 3 or np.shape(attn_mask)[0] != batch * num_heads:
        return attn_mask
    m = np.asarray(attn_mask)
    return m.reshape((num_heads, batch) + m.shape[1:]).swapaxes(0, 1).reshape(m.shape)


def merge_masks(key_padding_mask, attn_mask, batch, num_heads, T, S):
    return _ref.merge_masks(key_padding_mask, _head_major(attn_mask, batch, num_heads), batch, num_heads, T, S)


def mha_forward(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None, **kwargs):
    if np.ndim(query) == 3 and isinstance(num_heads, int):
        attn_mask = _head_major(attn_mask, np.shape(query)[0], num_heads)
    return _ref.mha_forward(query, key, value, params, num_heads, key_padding_mask=key_padding_mask,
                            attn_mask=attn_mask, **kwargs)
