"""col2im crops the padding at the bottom/right only: dxp[:, :, :H, :W] instead of dxp[:, :, top:top + H, left:left + W].

The result has the shape of x, but it is the gradient of the pixels shifted by the padding: the top rows
receive what belonged to the zeros of the border, and the real last rows are dropped."""

import types

from dlfs.components import load_topic

_ref = load_topic(12, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    cols, x_shape, stride, pads, (H_out, W_out) = _ref._check_col2im_inputs(cols, x_shape, kh, kw, stride, padding)
    N, C, H, W = x_shape
    sh, sw = stride
    top, bottom, left, right = pads
    blocks = cols.reshape(C, kh, kw, N, H_out, W_out)
    dxp = _ref.np.zeros((N, C, H + top + bottom, W + left + right), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            dxp[:, :, i:i + sh * H_out:sh, j:j + sw * W_out:sw] += blocks[:, i, j].transpose(1, 0, 2, 3)
    return dxp[:, :, :H, :W]                    # the top and left borders kept, the last rows cut instead


def _in_this_file(f):
    """Level 2's function f, looking up the names it calls in this file; its default arguments kept."""
    return types.FunctionType(f.__code__, globals(), f.__name__, f.__defaults__)


conv2d_backward = _in_this_file(_ref.conv2d_backward)
