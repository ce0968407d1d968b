"""The softmax taken over the queries (axis -2) instead of the keys (axis -1).

Each COLUMN of p then sums to 1: a key distributes its attention over the queries, and a query's weights over
the keys no longer form a distribution. The shapes are the same when L = S, so nothing crashes."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def _softmax_axis0(s):
    s = np.swapaxes(s, -1, -2).copy()
    return np.swapaxes(_ref._softmax_rows(s), -1, -2)


def masked_softmax(scores, mask=None):
    s = np.array(scores, dtype=float)
    if mask is not None:
        s[~np.broadcast_to(mask, s.shape)] = -np.inf
    return _softmax_axis0(s) if s.ndim >= 2 else _ref._softmax_rows(s)


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    q, k, v, mask, scale = _ref._check(q, k, v, mask, scale)
    scores = q @ k.swapaxes(-1, -2) * scale
    if mask is not None and mask.dtype != np.bool_:
        scores += mask
    allowed = _ref._allowed(mask, causal, q.shape[-2], k.shape[-2])
    if allowed is not None:
        scores[~np.broadcast_to(allowed, scores.shape)] = -np.inf
    p = _softmax_axis0(scores)                               # over the queries
    return p @ v, (q, k, v, p, scale)
