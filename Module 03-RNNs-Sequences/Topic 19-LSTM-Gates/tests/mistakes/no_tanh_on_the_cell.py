"""The hidden state shows the raw cell: h' = o * c' instead of h' = o * tanh(c').

The cell state is unbounded (it adds up to one unit per step), so without the tanh the hidden state is too: the
network still runs, but its outputs differ from torch.nn.LSTM's and grow with the length of the sequence."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    _, c, cache = _ref.lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh)
    o = cache[8]
    return o * c, c, cache                                    # no tanh on the cell


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    _, _, (_, D) = _ref.lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)   # the same shape checks
    x = np.asarray(x)
    hs, caches, h, c = [], [], np.asarray(h0), np.asarray(c0)
    for t in range(x.shape[1]):
        h, c, cache = lstm_step_forward(x[:, t], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        hs.append(h)
        caches.append(cache)
    return np.stack(hs, axis=1), c, (caches, D)
