"""Subsampling with the discard probability used as the keep probability: P_keep = 1 - sqrt(t / f).

Mikolov et al. (2013) write the probability of DISCARDING a word, 1 - sqrt(t / f). Used as the probability of
keeping it, the frequent words are kept and the rare ones thrown away: the opposite of the intent."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(22, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def keep_probabilities(counts, t=1e-3):
    if not t > 0:
        raise ValueError(f"t must be > 0, got {t!r}")
    counts = _ref._check_counts(counts)
    f = counts / counts.sum()
    with np.errstate(divide="ignore"):
        return np.maximum(0.0, 1.0 - np.sqrt(t / f))            # the discard probability
