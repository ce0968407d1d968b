"""clip_grad_norm that clips each gradient by its own norm instead of one global norm for the whole model.
Each parameter ends with norm <= max_norm, but the direction of the full gradient changes, unlike torch's clip_grad_norm_."""
import math

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(3, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def clip_grad_norm(params, max_norm):
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm!r}")
    total_sq = 0.0
    for p in params:
        if p.grad is None:
            continue
        norm = math.sqrt(float(np.sum(p.grad * p.grad)))
        total_sq += norm * norm
        scale = max_norm / (norm + 1e-6)
        if scale < 1.0:
            p.grad *= scale  # each parameter by its own norm
    return math.sqrt(total_sq)
