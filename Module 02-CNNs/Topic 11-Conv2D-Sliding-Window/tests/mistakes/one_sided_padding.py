"""Padding applied to one side only: all 2p zeros go above and to the left of the image, none below or right.

The output has the right shape (the total number of zeros is right), so nothing crashes; but every window is
shifted by p pixels, the outputs near the bottom/right edge never see the zero frame, and the values differ
from PyTorch's everywhere."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(11, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    x, w, b, stride, pads, out_hw = _ref._check_conv_inputs(x, w, b, stride, padding)
    top, bottom, left, right = pads
    pads = (top + bottom, 0, left + right, 0)   # the whole padding before the image
    xp = _ref._pad(x, pads)
    out = np.zeros((x.shape[0], w.shape[0]) + out_hw, dtype=x.dtype)
    for u in range(w.shape[2]):
        for v in range(w.shape[3]):
            out += np.einsum("nchw,oc->nohw", _ref._tap(xp, u, v, stride, out_hw), w[:, :, u, v])
    if b is not None:
        out += b[None, :, None, None]
    return out, {"x": x, "w": w, "has_bias": b is not None, "stride": stride, "pads": pads}
