"""Label smoothing that gives the true class exactly 1 - eps and spreads eps over the C - 1 OTHER classes. A reasonable-looking target, but not PyTorch's: F.cross_entropy(label_smoothing=eps) spreads eps over ALL C classes, so the true class gets 1 - eps + eps / C."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def smoothed_cross_entropy(logits, y, smoothing=0.0):
    logits, y = np.asarray(logits), np.asarray(y)
    N, C = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    q = np.full_like(logits, smoothing / (C - 1))
    q[np.arange(N), y] = 1 - smoothing
    return float(-(q * log_probs).sum(axis=1).mean()), (np.exp(log_probs) - q) / N
