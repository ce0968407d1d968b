"""Cosine schedule over a full period, cos(2 pi step / total_steps), instead of half a period, cos(pi step / total_steps).
The learning rate reaches min_lr half way and climbs back to base_lr by the end of training, unlike torch's CosineAnnealingLR."""
import math

from dlfs.components import load_topic

_ref = load_topic(3, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    if step < 0 or total_steps <= 0:
        raise ValueError("step must be >= 0 and total_steps > 0")
    step = min(step, total_steps)
    return min_lr + (base_lr - min_lr) * (1 + math.cos(2 * math.pi * step / total_steps)) / 2


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    if step < warmup_steps:
        return _ref.linear_warmup(step, base_lr, warmup_steps)
    return cosine_lr(step - warmup_steps, base_lr, max(total_steps - warmup_steps, 1), min_lr)
