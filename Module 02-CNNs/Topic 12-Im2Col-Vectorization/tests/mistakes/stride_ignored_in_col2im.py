"""The stride forgotten in col2im: offset (i, j) of window (ho, wo) is sent back to pixel (ho + i, wo + j)
instead of (ho * sh + i, wo * sw + j).

At stride 1 the two are the same, so every stride-1 test passes; at stride 2 the gradient lands on the wrong
pixels (and the pixels at the bottom/right get none). dw is still right: it does not go through col2im."""

import types

from dlfs.components import load_topic

_ref = load_topic(12, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    cols, x_shape, stride, pads, (H_out, W_out) = _ref._check_col2im_inputs(cols, x_shape, kh, kw, stride, padding)
    N, C, H, W = x_shape
    top, bottom, left, right = pads
    blocks = cols.reshape(C, kh, kw, N, H_out, W_out)
    dxp = _ref.np.zeros((N, C, H + top + bottom, W + left + right), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + H_out, j:j + W_out] += blocks[:, i, j].transpose(1, 0, 2, 3)   # step 1, not the stride
    return dxp[:, :, top:top + H, left:left + W]


def _in_this_file(f):
    """Level 2's function f, looking up the names it calls in this file; its default arguments kept."""
    return types.FunctionType(f.__code__, globals(), f.__name__, f.__defaults__)


conv2d_backward = _in_this_file(_ref.conv2d_backward)
