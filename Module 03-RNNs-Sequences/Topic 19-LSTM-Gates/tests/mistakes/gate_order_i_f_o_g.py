"""The row blocks read in the order (i, f, o, g) instead of PyTorch's (i, f, g, o).

Some write-ups (and ONNX's i, o, f, c; TensorFlow 1's i, j, f, o) stack the four gates in another order; a learner who
takes the output gate from rows 2H:3H and the candidate from rows 3H:4H gets an LSTM that runs and trains, but
torch.nn.LSTM's weights (and the golden files) give other outputs."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _swap(a):
    a = np.asarray(a)
    H = a.shape[0] // 4
    return np.concatenate([a[:2 * H], a[3 * H:], a[2 * H:3 * H]], axis=0)


def lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return _ref.lstm_step_forward(x_t, h_prev, c_prev, _swap(weight_ih), _swap(weight_hh), _swap(bias_ih),
                                  _swap(bias_hh))


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    return _ref.lstm_forward(x, h0, c0, _swap(weight_ih), _swap(weight_hh), _swap(bias_ih), _swap(bias_hh))
