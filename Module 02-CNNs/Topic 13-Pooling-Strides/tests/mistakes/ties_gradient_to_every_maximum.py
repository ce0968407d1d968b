"""Ties: the mask keeps EVERY maximum of a window (mask = window == max), so a window whose maximum appears
twice sends its full gradient to both cells. The forward pass is right; dx counts tied gradients twice,
whereas PyTorch gives the gradient to the first maximum only."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(13, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    out, cache = _ref.maxpool2d_forward(x, kernel_size, stride, padding, ceil_mode)
    N, C, Ho, Wo = out.shape
    windows, _ = _ref._windows(np.asarray(x), cache["k"], cache["s"], cache["p"], (Ho, Wo), fill=-np.inf)
    cache["mask"] = windows == out[..., None, None]          # every maximum, not just the first
    return out, cache


def maxpool2d_backward(dout, cache):
    dout = _ref._check_dout(dout, cache["idx"].shape)
    (kh, kw), (sh, sw), (ph, pw) = cache["k"], cache["s"], cache["p"]
    H, W = cache["x_shape"][2:]
    Ho, Wo = dout.shape[2:]
    dxp = np.zeros(cache["padded_shape"], dtype=cache["dtype"])
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += dout * cache["mask"][..., i, j]
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()
