"""'same' padding for an even kernel with the extra zero at the top/left instead of the bottom/right.

For a kernel of size k, 'same' needs k - 1 zeros per axis; with k even they cannot be split evenly. PyTorch
puts (k - 1) // 2 before the image and the rest after; this puts the larger half before. Odd kernels are
unaffected, so only the even-kernel cases catch it."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(11, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def conv2d_forward(x, w, b=None, stride=1, padding=0):
    x, w, b, stride, pads, out_hw = _ref._check_conv_inputs(x, w, b, stride, padding)
    if isinstance(padding, str) and padding == "same":
        top, bottom, left, right = pads
        pads = (bottom, top, right, left)        # the larger half before the image
    xp = _ref._pad(x, pads)
    out = np.zeros((x.shape[0], w.shape[0]) + out_hw, dtype=x.dtype)
    for u in range(w.shape[2]):
        for v in range(w.shape[3]):
            out += np.einsum("nchw,oc->nohw", _ref._tap(xp, u, v, stride, out_hw), w[:, :, u, v])
    if b is not None:
        out += b[None, :, None, None]
    return out, {"x": x, "w": w, "has_bias": b is not None, "stride": stride, "pads": pads}
