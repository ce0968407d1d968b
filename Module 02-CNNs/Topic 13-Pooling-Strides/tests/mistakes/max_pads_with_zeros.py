"""Max pooling padded with zeros instead of -inf: near the border of a map whose values are all negative
(common before a ReLU, or after a BatchNorm) the padding wins, the output is 0 and the gradient of that
window is lost in the padding. With non-negative inputs, or no padding, nothing looks wrong."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(13, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    x, k, s, p = _ref._check_pool_input(x, kernel_size, stride, padding)
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))         # zeros: they can win the max
    out, cache = _ref.maxpool2d_forward(xp, k, s, 0, ceil_mode)
    cache["crop"] = (p, x.shape)
    return out, cache


def maxpool2d_backward(dout, cache):
    (ph, pw), (N, C, H, W) = cache["crop"]
    dxp = _ref.maxpool2d_backward(dout, cache)
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()
