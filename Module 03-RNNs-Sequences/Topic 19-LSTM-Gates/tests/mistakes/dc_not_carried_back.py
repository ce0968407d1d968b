"""Backward through time forgets the cell's gradient from the next step: each step starts from dc = 0.

Only dh is carried from step t + 1 to step t; dc_prev is computed and thrown away. The forward pass is right, so
the outputs match PyTorch, but the gradient that rides the cell (the whole point of the LSTM) never arrives:
dc0 is zero and every gradient check through time fails."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def lstm_backward(dhs, cache, dc_n=None):
    caches, D = cache
    N, H = caches[0][1].shape
    dtype = caches[0][1].dtype
    T = len(caches)
    dhs = np.asarray(dhs)
    if dhs.shape != (N, T, H):
        raise ValueError(f"dhs must have shape {(N, T, H)}, got {dhs.shape}")
    dc_last = np.zeros((N, H), dtype=dtype) if dc_n is None else np.asarray(dc_n)
    dx = np.empty((N, T, D), dtype=dtype)
    dh_next, total = np.zeros((N, H), dtype=dtype), None
    for t in reversed(range(T)):
        dc = dc_last if t == T - 1 else np.zeros((N, H), dtype=dtype)      # dc_prev of step t + 1 dropped
        dxt, dh_next, _dc_prev, *g = _ref.lstm_step_backward(dhs[:, t] + dh_next, dc, caches[t])
        dx[:, t] = dxt
        total = g if total is None else [a + b for a, b in zip(total, g)]
    return (dx, dh_next, np.zeros((N, H), dtype=dtype), *total)
