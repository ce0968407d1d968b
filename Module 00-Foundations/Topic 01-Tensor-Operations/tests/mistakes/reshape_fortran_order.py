"""reshape reads and fills the elements in Fortran order (first axis fastest) instead of C order.
The shapes are right, the numbers land in the wrong places, and reshaping a C-contiguous array now copies."""


import numpy as np

from dlfs.components import load_topic

_ref = load_topic(1, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 3


def reshape(x, shape):
    x = np.asarray(x)
    return np.reshape(x, _ref._resolve_shape(x.size, shape), order="F")
