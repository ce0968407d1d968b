"""Only bias_ih is added to the gate pre-activations; bias_hh is kept as a parameter but never used.

The textbook equations have one bias per gate, so a learner writes a = W_ih x + W_hh h + b_ih. torch.nn.LSTM adds
both vectors (cuDNN's layout): with PyTorch's weights every gate is off by b_hh."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(19, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return _ref.lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, np.zeros_like(bias_hh))


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    return _ref.lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, np.zeros_like(np.asarray(bias_hh)))
