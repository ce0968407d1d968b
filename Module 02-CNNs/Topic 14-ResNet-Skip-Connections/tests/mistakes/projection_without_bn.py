"""The projection shortcut without its batch norm: shortcut(x) = conv1x1_stride(x), not bn(conv1x1_stride(x)).

Shapes work out and the block trains, but the shortcut branch is not normalised like the main path (which
ends with bn2), so the two branches are added on different scales, and the block differs from PyTorch's."""

from dlfs.components import load_topic

_ref = load_topic(14, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


class ResidualBlock(_ref.ResidualBlock):
    def __init__(self, in_channels, out_channels, stride=1, rng=None, dtype=_ref.np.float32, batchnorm=True):
        super().__init__(in_channels, out_channels, stride=stride, rng=rng, dtype=dtype, batchnorm=batchnorm)
        self.shortcut_bn = None     # the 1x1 convolution alone
