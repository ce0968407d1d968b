"""BPTT that forgets the tanh derivative: da = dh instead of da = dh * (1 - h**2).

h = tanh(a), so the gradient reaching the pre-activation a is scaled by 1 - h^2 at every step. Without it
the gradients are too large (and never vanish in saturated units); training still runs."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(18, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def rnn_step_backward(dh, cache):
    x_t, h_prev, weight_ih, weight_hh, h = cache
    da = np.asarray(dh)                        # the tanh derivative is missing
    db = da.sum(axis=0)
    return da @ weight_ih, da @ weight_hh, da.T @ x_t, da.T @ h_prev, db, db.copy()


def rnn_backward(dhs, cache):
    x, h0, weight_ih, weight_hh, hs = cache
    N, T, H = hs.shape
    da_all = np.empty_like(hs)
    dh = np.zeros_like(h0)
    for t in range(T - 1, -1, -1):
        da = dhs[:, t] + dh                    # the tanh derivative is missing
        da_all[:, t] = da
        dh = da @ weight_hh
    h_prevs = np.concatenate([h0[:, None], hs[:, :-1]], axis=1)
    db = da_all.sum(axis=(0, 1))
    return (da_all @ weight_ih, dh, np.einsum("nth,ntd->hd", da_all, x), np.einsum("nth,ntk->hk", da_all, h_prevs),
            db, db.copy())
