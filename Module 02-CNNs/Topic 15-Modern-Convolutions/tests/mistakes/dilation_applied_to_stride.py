"""Dilation applied to the stride: the windows are moved `dilation` times further apart and the taps inside a
window stay adjacent (conv with stride * dilation and dilation 1). The output shrinks instead of the kernel
growing: a 3x3 kernel with dilation 2 and padding 2 on 9x9 gives 6x6 instead of 9x9, and each output sees a
3x3 patch instead of a 5x5 one."""

from dlfs.components import load_topic

_ref = load_topic(15, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    s, d = _ref._pair(stride, "stride", 1), _ref._pair(dilation, "dilation", 1)
    return _ref.conv2d_forward(x, w, b, (s[0] * d[0], s[1] * d[1]), padding, 1, groups)
