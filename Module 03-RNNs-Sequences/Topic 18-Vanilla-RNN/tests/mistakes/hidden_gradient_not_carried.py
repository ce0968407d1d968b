"""BPTT that does not carry the gradient of h to the previous step: each step sees only dhs[:, t].

h_{t-1} feeds h_t, so dL/dh_{t-1} = dhs[:, t-1] + (the gradient coming back from step t). Dropping the
second term is backpropagation with a truncation length of 1: every step learns, but nothing links a
character to what came several steps before, and dh0 is wrong."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(18, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def rnn_backward(dhs, cache):
    x, h0, weight_ih, weight_hh, hs = cache
    N, T, H = hs.shape
    da_all = np.empty_like(hs)
    dh = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da = dhs[:, t] * (1 - hs[:, t] ** 2)   # the carried dh is never added
        da_all[:, t] = da
        dh = da @ weight_hh
    h_prevs = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    db = da_all.sum(axis=(0, 1))
    return (da_all @ weight_ih, dh, np.einsum("nth,ntd->hd", da_all, x), np.einsum("nth,ntk->hk", da_all, h_prevs),
            db, db.copy())
