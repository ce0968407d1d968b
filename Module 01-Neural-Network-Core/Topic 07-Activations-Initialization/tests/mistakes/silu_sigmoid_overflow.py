"""SiLU computed as x / (1 + exp(-x)): exp(-x) overflows for x < -709 (float64) or x < -88 (float32).
The value happens to come out right (x / inf = -0), but every call on such inputs raises an overflow warning.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def silu(x):
    x = _ref._as_float(x)
    return x / (1 + np.exp(-x))
