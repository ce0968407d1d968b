"""The mask applied to the probabilities after the softmax: p = softmax(s) * mask, without renormalising.

The hidden keys still take their share of the denominator, so the rows no longer sum to 1 and a hidden key's
score still moves every visible weight. (The backward pass here is the level-2 one for the masked softmax.)"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def masked_softmax(scores, mask=None):
    p = _ref.masked_softmax(scores)
    return p if mask is None else p * np.broadcast_to(mask, p.shape)


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    q, k, v, mask, scale = _ref._check(q, k, v, mask, scale)
    scores = q @ k.swapaxes(-1, -2) * scale
    if mask is not None and mask.dtype != np.bool_:
        scores += mask
    p = _ref._softmax_rows(scores)
    allowed = _ref._allowed(mask, causal, q.shape[-2], k.shape[-2])
    if allowed is not None:
        p = p * np.broadcast_to(allowed, p.shape)            # after the softmax
    return p @ v, (q, k, v, p, scale)
