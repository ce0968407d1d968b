"""The hidden bias b_hn added outside the reset gate: n = tanh(W_in x + b_in + r * (W_hn h) + b_hn).

Natural when the two biases are merged into one (b_in + b_hn), as many GRU write-ups do; PyTorch keeps b_hn inside
r * (...). With r = 0 the candidate still sees b_hn, and the outputs differ from torch.nn.GRU."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(20, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    _, cache = _ref.gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev, w_ih, w_hh, r, z, n, hn = cache
    H = h_prev.shape[1]
    b_hn = np.asarray(bias_hh)[2 * H:]
    i_n = x_t @ w_ih[2 * H:].T + np.asarray(bias_ih)[2 * H:]
    n = np.tanh(i_n + r * (hn - b_hn) + b_hn)                 # b_hn outside r * (...)
    h = (1 - z) * n + z * h_prev
    return h, (x_t, h_prev, w_ih, w_hh, r, z, n, hn)


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    _, cache = _ref.gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)   # the same shape checks
    x = np.asarray(x)
    hs, h = [], np.asarray(h0)
    for t in range(x.shape[1]):
        h, _ = gru_step_forward(x[:, t], h, weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
    return np.stack(hs, axis=1), cache
