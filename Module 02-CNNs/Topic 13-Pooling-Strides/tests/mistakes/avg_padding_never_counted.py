"""Padding counted wrongly in average pooling: the mean always divides by the number of REAL cells, as if
count_include_pad were False. PyTorch's default is count_include_pad=True: a border window of a 3x3 pool with
padding 1 divides by 9, not by 4 or 6. Without padding both rules agree, so only padded tests see it."""

from dlfs.components import load_topic

_ref = load_topic(13, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _ref.avgpool2d_forward(x, kernel_size, stride, padding, ceil_mode, count_include_pad=False)
