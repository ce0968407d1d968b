"""A true convolution instead of a cross-correlation: the kernel is flipped by 180 degrees before it slides.

That is the convolution of a signal-processing textbook, but torch.nn.functional.conv2d (and this topic) lay
the kernel on the image as it is: out[i, j] = sum w[u, v] * x[i + u, j + v]. Every output is wrong for an
asymmetric kernel, and the backward pass (unchanged) no longer matches the forward."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(11, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    w = np.asarray(w)
    if w.ndim == 4:
        w = w[:, :, ::-1, ::-1]           # flipped: out[i, j] = sum w[kH-1-u, kW-1-v] * x[i + u, j + v]
    return _ref.conv2d_forward(x, w, b, stride, padding)
