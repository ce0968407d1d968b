"""The heads split with a reshape alone: (B, T, E) -> (B, h, T, hd), without the transpose.

The shapes are those of the right answer, and merge_heads by a reshape alone undoes it exactly, so everything runs
and round-trips; but "head 0" now holds the first T / h time steps with all their features cut into pieces: the
heads mix time steps, and no head sees one feature slice of the whole sequence."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(26, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def split_heads(x, num_heads):
    x = np.asarray(x)
    _ref.split_heads(x, num_heads)                            # the same checks
    return x.reshape(x.shape[:-2] + (num_heads, x.shape[-2], x.shape[-1] // num_heads))


def merge_heads(x):
    x = np.asarray(x)
    _ref.merge_heads(x)
    return x.reshape(x.shape[:-3] + (x.shape[-2], x.shape[-3] * x.shape[-1]))
