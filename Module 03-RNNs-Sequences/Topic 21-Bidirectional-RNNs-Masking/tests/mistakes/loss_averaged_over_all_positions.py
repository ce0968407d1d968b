"""The masked cross-entropy divides by N * T (every position) instead of the number of real tokens.

The padded positions contribute 0 to the sum but still count in the denominator: the loss (and every gradient)
shrinks by the share of padding, so a batch with more padding trains with a smaller learning rate."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(21, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def masked_cross_entropy(logits, targets, lengths):
    loss, dlogits = _ref.masked_cross_entropy(logits, targets, lengths)
    N, T = np.shape(targets)
    n_real = int(np.asarray(lengths).sum())
    return loss * n_real / (N * T), dlogits * n_real / (N * T)
