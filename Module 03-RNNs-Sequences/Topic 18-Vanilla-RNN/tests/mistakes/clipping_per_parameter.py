"""Gradient clipping per parameter instead of over the global norm.

clip_grad_norm rescales all gradients by one factor, max_norm / total_norm, so the update keeps its
direction. Clipping each array to max_norm on its own changes the direction and lets the total norm
reach sqrt(#params) * max_norm."""

import math

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(18, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def clip_grad_norm(params, max_norm):
    params = list(params)
    total = math.sqrt(sum(float(np.sum(p.grad.astype(np.float64) ** 2)) for p in params))
    for p in params:
        norm = float(np.linalg.norm(p.grad))
        if norm > max_norm:
            p.grad *= max_norm / norm              # each parameter on its own
    return total
