"""The stride forgotten in the backward pass: the gradient of output (i, j) is sent to the window at
(i + u, j + v) instead of (i * stride + u, j * stride + v).

With stride 1 nothing changes, so a gradient check at stride 1 passes; with stride 2 dx is accumulated at the
wrong pixels (dw is still right, it is computed from the correct windows)."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(11, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def conv2d_backward(dout, cache):
    dout = _ref._check_dout(dout, cache)
    x, w, stride, pads = cache["x"], cache["w"], cache["stride"], cache["pads"]
    H, W = x.shape[2:]
    H_out, W_out = dout.shape[2:]
    xp = _ref._pad(x, pads)
    dxp = np.zeros_like(xp)
    dw = np.empty_like(w)
    for u in range(w.shape[2]):
        for v in range(w.shape[3]):
            dw[:, :, u, v] = np.einsum("nohw,nchw->oc", dout, _ref._tap(xp, u, v, stride, (H_out, W_out)))
            dxp[:, :, u:u + H_out, v:v + W_out] += np.einsum("nohw,oc->nchw", dout, w[:, :, u, v])  # stride 1
    top, _, left, _ = pads
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    return dxp[:, :, top:top + H, left:left + W], dw, db
