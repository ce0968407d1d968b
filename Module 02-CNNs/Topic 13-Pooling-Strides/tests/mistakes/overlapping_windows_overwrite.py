"""Overlapping windows: dx is written with fancy-index ASSIGNMENT (dx[n, c, rows, cols] = dout), so when one
cell is the maximum of several windows (stride < kernel_size) only the last window's gradient survives.
With the default stride = kernel_size the windows never overlap and every answer is right."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(13, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def maxpool2d_backward(dout, cache):
    dout = _ref._check_dout(dout, cache["idx"].shape)
    (_, kw), (sh, sw), (ph, pw) = cache["k"], cache["s"], cache["p"]
    N, C, H, W = cache["x_shape"]
    Ho, Wo = dout.shape[2:]
    idx = cache["idx"]
    n, c, oh, ow = np.indices(idx.shape)
    rows, cols = oh * sh + idx // kw, ow * sw + idx % kw
    dxp = np.zeros(cache["padded_shape"], dtype=cache["dtype"])
    dxp[n, c, rows, cols] = dout                 # "=": a cell chosen by two windows keeps only one gradient
    return dxp[:, :, ph:ph + H, pw:pw + W].copy()
