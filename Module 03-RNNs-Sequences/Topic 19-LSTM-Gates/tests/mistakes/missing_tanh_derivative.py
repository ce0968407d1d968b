"""The gradient from h to the cell skips tanh': dc += dh * o instead of dc += dh * o * (1 - tanh(c)^2).

h = o * tanh(c), so the chain rule passes through tanh. Forgetting its derivative leaves a backward pass that runs
and even trains a little, but every gradient that reaches the cell through h is too large."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def lstm_step_backward(dh, dc, cache):
    _ref.lstm_step_backward(dh, dc, cache)                    # the same shape checks
    o, tc = cache[8], cache[9]
    # (1 - tc^2) is missing from the dh -> dc path: pretend the cell were linear, then reuse the reference
    wrong_dc = dc + dh * o * tc * tc
    return _ref.lstm_step_backward(dh, wrong_dc, cache)


def lstm_backward(dhs, cache, dc_n=None):
    caches, D = cache
    N, H = caches[0][1].shape
    dtype = caches[0][1].dtype
    T = len(caches)
    _ref.lstm_backward(dhs, cache, dc_n)                      # the same shape checks
    dhs = np.asarray(dhs)
    dx = np.empty((N, T, D), dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)
    dc_next = np.zeros((N, H), dtype=dtype) if dc_n is None else np.asarray(dc_n)
    total = None
    for t in reversed(range(T)):
        dxt, dh_next, dc_next, *g = lstm_step_backward(dhs[:, t] + dh_next, dc_next, caches[t])
        dx[:, t] = dxt
        total = g if total is None else [a + b for a, b in zip(total, g)]
    return (dx, dh_next, dc_next, *total)
