"""The textbook softmax with no guard for a row whose every key is masked: exp(s - max) / sum gives NaN there.

max of a row of -inf is -inf, and -inf - (-inf) is NaN; torch's SDPA does the same. One padded query then turns
its output, and through the backward pass every gradient that touches it, into NaN."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _softmax_rows(s):
    with np.errstate(invalid="ignore"):
        e = np.exp(s - s.max(axis=-1, keepdims=True)) if s.shape[-1] else s
        return e / e.sum(axis=-1, keepdims=True)


def masked_softmax(scores, mask=None):
    s = np.array(scores, dtype=np.result_type(np.asarray(scores), np.float32))
    if mask is not None:
        s[~np.broadcast_to(mask, s.shape)] = -np.inf
    return _softmax_rows(s)


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    q, k, v, mask, scale = _ref._check(q, k, v, mask, scale)
    scores = q @ k.swapaxes(-1, -2) * scale
    if mask is not None and mask.dtype != np.bool_:
        scores += mask
    allowed = _ref._allowed(mask, causal, q.shape[-2], k.shape[-2])
    if allowed is not None:
        scores[~np.broadcast_to(allowed, scores.shape)] = -np.inf
    p = _softmax_rows(scores)
    return p @ v, (q, k, v, p, scale)
