"""The forget gate's gradient multiplied by the new cell: df = dc * c' instead of dc * c_prev.

c' = f * c_prev + i * g, so dc'/df = c_prev, the cell BEFORE the step. Caching only the new cell and using it
here is an easy slip; the forward pass is right, the forget-gate rows of every weight gradient are wrong."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def lstm_step_backward(dh, dc, cache):
    _ref.lstm_step_backward(dh, dc, cache)                    # the same shape checks
    x_t, h_prev, c_prev, w_ih, w_hh, i, f, g, o, tc = cache
    dh, dc = np.asarray(dh), np.asarray(dc)
    do = dh * tc
    dc = dc + dh * o * (1 - tc * tc)
    c_new = f * c_prev + i * g
    di, df, dg = dc * g, dc * c_new, dc * i                   # c_new where c_prev belongs
    dc_prev = dc * f
    da = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)
    db = da.sum(axis=0)
    return da @ w_ih, da @ w_hh, dc_prev, da.T @ x_t, da.T @ h_prev, db, db.copy()


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
