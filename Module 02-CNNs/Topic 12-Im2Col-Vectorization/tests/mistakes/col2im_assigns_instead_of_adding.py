"""col2im ASSIGNS each window back (dxp[...] = ...) instead of adding it (dxp[...] += ...).

With a stride smaller than the kernel, a pixel belongs to several windows and must collect the gradient of
every one of them; with = only the last window written survives. At stride >= kernel the windows do not
overlap and nothing changes, which is why a test with a single non-overlapping case passes."""

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
            dxp[:, :, i:i + sh * H_out:sh, j:j + sw * W_out:sw] = blocks[:, i, j].transpose(1, 0, 2, 3)   # = not +=
    return dxp[:, :, top:top + H, left:left + W]


def _in_this_file(f):
    """Level 2's function f, looking up the names it calls in this file; its default arguments kept."""
    return types.FunctionType(f.__code__, globals(), f.__name__, f.__defaults__)


# level 2's backward pass, looking up col2im in this file
conv2d_backward = _in_this_file(_ref.conv2d_backward)
