"""The final ReLU applied to F(x) BEFORE the addition: out = relu(F(x)) + shortcut(x) instead of
relu(F(x) + shortcut(x)). It runs and even trains, but the block can no longer output negative corrections
to x, its output is not non-negative any more, and it is not the block of He et al. (2015) or of PyTorch."""

from dlfs.components import load_topic

_ref = load_topic(14, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


class ResidualBlock(_ref.ResidualBlock):
    def forward(self, x):
        x = _ref._check_block_input(x, self.in_channels, "ResidualBlock")
        out = self.conv1.forward(x)
        if self.bn1 is not None:
            out = self.bn1.forward(out)
        out = self.conv2.forward(self.relu1.forward(out))
        if self.bn2 is not None:
            out = self.bn2.forward(out)
        shortcut = x
        if self.shortcut_conv is not None:
            shortcut = self.shortcut_conv.forward(x)
            if self.shortcut_bn is not None:
                shortcut = self.shortcut_bn.forward(shortcut)
        out = self.relu2.forward(out) + shortcut          # ReLU first, then the addition
        self._out_shape = out.shape
        return out

    def backward(self, dout):
        dout = _ref._check_block_dout(dout, self._out_shape, "ResidualBlock")
        d = self.relu2.backward(dout)                     # only the residual branch goes through the ReLU
        d = self.bn2.backward(d) if self.bn2 is not None else d
        d = self.relu1.backward(self.conv2.backward(d))
        if self.bn1 is not None:
            d = self.bn1.backward(d)
        dx = self.conv1.backward(d)
        if self.shortcut_conv is None:
            return dx + dout
        ds = self.shortcut_bn.backward(dout) if self.shortcut_bn is not None else dout
        return dx + self.shortcut_conv.backward(ds)
