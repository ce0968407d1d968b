"""The window loop runs over j in range(i - window, i + window + 1) without skipping j == i.

Every word becomes its own context once per position: the loss rewards u_w . v_w, which is learnt at once, and
the pairs the model should learn from are diluted by n useless ones."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(22, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def skipgram_pairs(ids, window=2, shrink=False, rng=None):
    ids = _ref._check_ids(ids, None, "ids", ndim=1)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    n = len(ids)
    reach = np.random.default_rng(rng).integers(1, window + 1, size=n) if shrink else np.full(n, window)
    offsets = np.arange(-window, window + 1)                      # includes the offset 0
    pos = np.arange(n)[:, None] + offsets[None, :]
    valid = (pos >= 0) & (pos < n) & (np.abs(offsets)[None, :] <= reach[:, None])
    rows, cols = np.nonzero(valid)
    return ids[rows], ids[pos[rows, cols]]
