"""The row blocks read in the order (z, r, n) instead of PyTorch's (r, z, n).

Keras stores its GRU kernels as [z, r, h]; a learner who copies that layout gets a GRU that runs and trains, but
PyTorch's weights (and the golden files) put the reset gate in rows 0:H and the update gate in rows H:2H."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(20, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _swap(a):
    a = np.asarray(a)
    H = a.shape[0] // 3
    return np.concatenate([a[H:2 * H], a[:H], a[2 * H:]], axis=0)


def gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    return _ref.gru_step_forward(x_t, h_prev, _swap(weight_ih), _swap(weight_hh), _swap(bias_ih), _swap(bias_hh))


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    return _ref.gru_forward(x, h0, _swap(weight_ih), _swap(weight_hh), _swap(bias_ih), _swap(bias_hh))
