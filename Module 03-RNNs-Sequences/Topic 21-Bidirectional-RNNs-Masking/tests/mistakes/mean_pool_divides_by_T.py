"""The masked mean divides the sum of the real steps by T instead of by each sequence's own length.

The padding is kept out of the sum, but a short sequence's pooled vector is shrunk by L / T: the same sentence
padded to another T gets another representation."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(21, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def masked_mean_forward(hs, lengths):
    pooled, (mask, count, shape) = _ref.masked_mean_forward(hs, lengths)
    T = np.full_like(count, shape[1])
    return pooled * count / T, (mask, T, shape)
