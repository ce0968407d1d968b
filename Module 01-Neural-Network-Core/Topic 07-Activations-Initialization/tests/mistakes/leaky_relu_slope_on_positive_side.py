"""LeakyReLU with the slope applied to the positive side: negative_slope * x for x > 0, x for x <= 0.
The function still runs and is still piecewise linear, but it now squashes the useful half of the signal.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def leaky_relu(x, negative_slope=0.01):
    x = _ref._as_float(x)
    return np.where(x > 0, negative_slope * x, x)    # the branches are swapped
