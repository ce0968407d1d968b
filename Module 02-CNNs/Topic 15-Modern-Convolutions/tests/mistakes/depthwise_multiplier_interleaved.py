"""Depthwise weight in the wrong layout convention: the (C * multiplier, 1, kH, kW) weight is read as if it
were (multiplier, C, kH, kW) flattened (TensorFlow-style channel-multiplier-major), so output channel o filters
input channel o % C instead of o // multiplier (PyTorch's groups=C layout). With depth_multiplier=1 both are the
same; with 2 or more, loaded PyTorch weights filter the wrong channels."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(15, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


class DepthwiseConv2d(_ref.DepthwiseConv2d):
    def _order(self):
        C, m = self.in_channels, self.depth_multiplier
        # mistake channel j*C + c is PyTorch channel c*m + j
        return np.array([(o % C) * m + o // C for o in range(C * m)])

    def forward(self, x):
        order = self._order()
        w_std = np.empty_like(self.weight.data)
        w_std[order] = self.weight.data
        b_std = None
        if self.bias is not None:
            b_std = np.empty_like(self.bias.data)
            b_std[order] = self.bias.data
        out, self._cache = _ref.conv2d_forward(x, w_std, b_std, self.stride, self.padding, self.dilation, self.groups)
        return out[:, order]

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError("DepthwiseConv2d.backward called before forward")
        order = self._order()
        dout = np.asarray(dout)
        dout_std = np.empty_like(dout)
        dout_std[:, order] = dout
        dx, dw, db = _ref.conv2d_backward(dout_std, self._cache)
        self.weight.grad += dw[order]
        if self.bias is not None:
            self.bias.grad += db[order]
        return dx
