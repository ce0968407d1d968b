"""The input gate tied to the forget gate: c' = f * c + (1 - f) * g, the "coupled" LSTM (CIFG) of some write-ups.

It is a real variant (Greff et al., 2017) and it trains, but it is not torch.nn.LSTM: the input-gate rows of the
weights are ignored, and with f = 1 and i = 1 the cell no longer adds g."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    _, _, cache = _ref.lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev, c_prev, w_ih, w_hh, _, f, g, o, tc = cache        # the input gate i is not used
    c = f * c_prev + (1 - f) * g                              # i replaced by 1 - f
    tc = np.tanh(c)
    return o * tc, c, (x_t, h_prev, c_prev, w_ih, w_hh, 1 - f, f, g, o, tc)


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    _, _, (_, D) = _ref.lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)   # the same shape checks
    x = np.asarray(x)
    hs, caches, h, c = [], [], np.asarray(h0), np.asarray(c0)
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), c, (caches, D)
