"""im2col rows ordered (i, j, c), the kernel position first and the channel last, instead of (c, i, j).

Natural when one thinks "for each kernel position, all the channels" (the NHWC habit). The matrix has the
right shape and holds the right numbers, but w.reshape(C_out, -1) lists its weights in the order (c, i, j):
row r of the columns is multiplied by the wrong weight. With one input channel the two orders coincide."""

import types

from dlfs.components import load_topic

_ref = load_topic(12, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def im2col(x, kh, kw, stride=1, padding=0):
    x, stride, pads, (H_out, W_out) = _ref._check_im2col_inputs(x, kh, kw, stride, padding)
    N, C = x.shape[:2]
    sh, sw = stride
    xp = _ref._pad(x, pads)
    windows = _ref.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]   # (N, C, H_out, W_out, kh, kw)
    return windows.transpose(4, 5, 1, 0, 2, 3).reshape(C * kh * kw, N * H_out * W_out)   # rows (i, j, c)


def _in_this_file(f):
    """Level 2's function f, looking up the names it calls in this file; its default arguments kept."""
    return types.FunctionType(f.__code__, globals(), f.__name__, f.__defaults__)


# level 2's forward pass, looking up im2col in this file
conv2d_forward = _in_this_file(_ref.conv2d_forward)
