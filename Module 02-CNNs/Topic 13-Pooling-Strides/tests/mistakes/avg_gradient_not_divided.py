"""Average pooling backward without the division: every cell of a window receives the window's whole dout
instead of dout / window size. The forward pass is right; dx is kH * kW times too large, and a network
trained with it sees gradients that grow with the pooling window."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(13, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def avgpool2d_backward(dout, cache):
    N, C = cache["x_shape"][:2]
    dout = _ref._check_dout(dout, (N, C) + cache["divisor"].shape)
    (kh, kw), (sh, sw), (ph, pw) = cache["k"], cache["s"], cache["p"]
    H, W = cache["x_shape"][2:]
    Ho, Wo = dout.shape[2:]
    dxp = np.zeros(cache["padded_shape"], dtype=cache["dtype"])
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += dout      # forgot: / divisor
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()
