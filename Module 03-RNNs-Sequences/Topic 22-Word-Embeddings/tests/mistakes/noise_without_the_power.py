"""The noise distribution left as the plain unigram distribution (power 1, whatever power says).

Mikolov et al. raise the counts to 3/4 so that rare words are drawn as negatives more often than their
frequency; with the plain unigram almost every negative is "the", "and" or "to"."""


from dlfs.components import load_topic

_ref = load_topic(22, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def noise_distribution(counts, power=0.75):
    if not power >= 0:
        raise ValueError(f"power must be >= 0, got {power!r}")
    counts = _ref._check_counts(counts)
    return counts / counts.sum()                                   # the power is never applied
