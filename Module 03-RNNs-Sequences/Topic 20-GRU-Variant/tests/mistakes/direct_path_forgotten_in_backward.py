"""The backward pass forgets the direct path h' = ... + z * h: dh_prev gets only the paths through the gates.

The forward pass is right, so the outputs match PyTorch; the gradient reaching earlier steps is far too small (the
direct path is what lets a GRU carry gradients over long spans) and every gradient check through time fails."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(20, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def gru_step_backward(dh, cache):
    dx, dh_prev, *grads = _ref.gru_step_backward(dh, cache)
    z = cache[5]
    return (dx, dh_prev - dh * z, *grads)                     # the direct term z * dh dropped


def gru_backward(dhs, cache):
    caches, D = cache
    N, H = caches[0][1].shape
    T = len(caches)
    dx = np.empty((N, T, D))
    total = None
    dh_next = np.zeros((N, H))
    for t in reversed(range(T)):
        dxt, dh_next, *g = gru_step_backward(np.asarray(dhs)[:, t] + dh_next, caches[t])
        dx[:, t] = dxt
        total = g if total is None else [a + b for a, b in zip(total, g)]
    return (dx, dh_next, *total)
