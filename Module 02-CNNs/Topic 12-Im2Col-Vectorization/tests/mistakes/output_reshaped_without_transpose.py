"""The product w_mat @ cols, of shape (C_out, N * H_out * W_out), reshaped straight to (N, C_out, H_out, W_out).

Its columns run over (n, ho, wo): the reshape that keeps the numbers in place is (C_out, N, H_out, W_out),
then the first two axes are swapped. Reshaping directly gives the right shape and, for N = 1, even the
right numbers; with a batch, the outputs of different images and channels are mixed up."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(12, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    x, w, b, stride, pads, (H_out, W_out) = _ref._check_conv_inputs(x, w, b, stride, padding)
    N, C_out, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    cols = _ref.im2col(x, kh, kw, stride, pads)
    out = (w.reshape(C_out, -1) @ cols).reshape(N, C_out, H_out, W_out)        # no transpose
    if b is not None:
        out = out + b[None, :, None, None]
    cache = {"x_shape": x.shape, "w": w, "cols": cols, "has_bias": b is not None, "stride": stride, "pads": pads}
    return np.ascontiguousarray(out), cache
