"""The shortcut's gradient dropped in the backward pass: dx is only the main path's dL/dx.

The forward pass is right, so the outputs and every parameter gradient still match; but the gradient that the
identity (or the projection) carries straight back to the block input is lost, and with it the whole point of
the skip connection: a deep stack of such blocks has vanishing gradients again."""

from dlfs.components import load_topic

_ref = load_topic(14, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


class ResidualBlock(_ref.ResidualBlock):
    def backward(self, dout):
        dsum = self.relu2.backward(_ref._check_block_dout(dout, self._out_shape, "ResidualBlock"))
        d = self.bn2.backward(dsum) if self.bn2 is not None else dsum
        d = self.relu1.backward(self.conv2.backward(d))
        if self.bn1 is not None:
            d = self.bn1.backward(d)
        if self.shortcut_conv is not None:   # the projection's parameters still get their gradients ...
            ds = self.shortcut_bn.backward(dsum) if self.shortcut_bn is not None else dsum
            self.shortcut_conv.backward(ds)
        return self.conv1.backward(d)        # ... but dx forgets the shortcut's share
