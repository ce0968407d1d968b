"""The causal mask off by one: j < i instead of j <= i, so a query cannot see its own position.

np.triu(..., k=1) used where np.tril was meant (or `>` for `>=`): the first query then sees nothing at all,
and every other one misses the key it should weigh the most in a language model."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def causal_mask(L, S=None):
    S = L if S is None else S
    return np.arange(S)[None, :] < np.arange(L)[:, None]     # the diagonal hidden


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    if not causal:
        return _ref.attention_forward(q, k, v, mask=mask, causal=False, scale=scale)
    q = np.asarray(q)
    tri = causal_mask(q.shape[-2], np.shape(k)[-2])
    if mask is not None and np.asarray(mask).dtype == np.bool_:
        tri = tri & mask
    elif mask is not None:
        tri = np.where(tri, mask, -np.inf)
    return _ref.attention_forward(q, k, v, mask=tri, scale=scale)
