"""z and (1 - z) swapped: h' = z * n + (1 - z) * h.

The convention of Cho et al. (2014) and of some tutorials; PyTorch's z is the fraction of the OLD state kept. The
network is just as expressive (z learns the other sign), but the same weights give other outputs, z = 1 no longer
keeps the state, and the backward pass (unchanged) no longer matches the forward."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(20, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    _, cache = _ref.gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev, w_ih, w_hh, r, z, n, hn = cache
    h = z * n + (1 - z) * h_prev                              # swapped
    return h, cache


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    _, cache = _ref.gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)
    x = np.asarray(x)
    hs, h = [], np.asarray(h0)
    for t in range(x.shape[1]):
        h, _ = gru_step_forward(x[:, t], h, weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
    return np.stack(hs, axis=1), cache
