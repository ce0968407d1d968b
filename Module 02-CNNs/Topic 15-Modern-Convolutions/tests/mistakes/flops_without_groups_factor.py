"""FLOPs counted without the 1/groups factor: every output is charged in_channels * kH * kW multiply-adds, as if
it read all the input channels. A depthwise 3x3 layer of 128 channels is then reported as expensive as a
standard one (302 MFLOPs instead of 2.4 on 32x32), and MobileNet's savings vanish from the table."""

from dlfs.components import load_topic

_ref = load_topic(15, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def conv_flops(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, dilation=1, groups=1):
    per_group = _ref.conv_flops(in_channels, out_channels, kernel_size, input_size, stride, padding, dilation, groups)
    return per_group * groups          # forgot that each output reads only in_channels / groups channels
