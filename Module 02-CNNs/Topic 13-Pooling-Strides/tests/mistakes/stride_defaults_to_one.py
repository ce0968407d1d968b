"""stride=None read as stride 1 instead of stride = kernel_size: the windows overlap and the output is
almost as large as the input (7x7 -> 6x6 with a 2x2 kernel instead of 3x3). PyTorch's MaxPool2d(2) halves
the image. Explicit strides still work."""

from dlfs.components import load_topic

_ref = load_topic(13, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    return _ref.pool_output_size(size, kernel_size, 1 if stride is None else stride, padding, ceil_mode)


def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    return _ref.maxpool2d_forward(x, kernel_size, 1 if stride is None else stride, padding, ceil_mode)


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _ref.avgpool2d_forward(x, kernel_size, 1 if stride is None else stride, padding, ceil_mode,
                                  count_include_pad)
