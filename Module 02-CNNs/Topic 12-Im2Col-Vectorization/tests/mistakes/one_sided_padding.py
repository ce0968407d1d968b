"""All the padding put on one side: padding p adds 2p zeros at the top and on the left, none at the bottom/right.

The padded image has the right size, so every shape is right; but every window is shifted by p pixels and
reads zeros where the image should be (and misses its last rows and columns)."""

import types

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(12, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def _pad(x, pads):
    top, bottom, left, right = pads
    return np.pad(x, ((0, 0), (0, 0), (top + bottom, 0), (left + right, 0)))   # everything before, nothing after


def _in_this_file(f):
    """Level 2's function f, looking up the names it calls in this file; its default arguments kept."""
    return types.FunctionType(f.__code__, globals(), f.__name__, f.__defaults__)


im2col = _in_this_file(_ref.im2col)
conv2d_forward = _in_this_file(_ref.conv2d_forward)
