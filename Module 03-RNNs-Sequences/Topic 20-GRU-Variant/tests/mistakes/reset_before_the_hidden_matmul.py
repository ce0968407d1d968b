"""The reset gate applied to h BEFORE the hidden matrix product: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn).

That is the GRU of Cho et al. (2014), Keras's reset_after=False. It trains, but it is not torch.nn.GRU: the same
weights give other outputs, and b_hn is no longer switched off by the reset gate."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(20, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    h_ok, cache = _ref.gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev, w_ih, w_hh, r, z, n, hn = cache
    H = h_prev.shape[1]
    gi = x_t @ w_ih.T + bias_ih
    hn = (r * h_prev) @ w_hh[2 * H:].T + bias_hh[2 * H:]      # reset before the product
    n = np.tanh(gi[:, 2 * H:] + hn)
    h = (1 - z) * n + z * h_prev
    return h, (x_t, h_prev, w_ih, w_hh, r, z, n, hn)


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    _ref.gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)   # the same shape checks
    x = np.asarray(x)
    hs, h = [], np.asarray(h0)
    for t in range(x.shape[1]):
        h, _ = gru_step_forward(x[:, t], h, weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
    return np.stack(hs, axis=1), _ref.gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)[1]
