"""tanh-GELU without the 0.044715 x^3 term: 0.5 x (1 + tanh(sqrt(2/pi) x)).
That is x * sigmoid(1.6 x), a different curve: up to 0.034 away from the GELU it is meant to approximate.
"""
import math

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def gelu(x, approximate="none"):
    if approximate == "tanh":
        x = _ref._as_float(x)
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * x))     # the cubic term is missing
    return _ref.gelu(x, approximate)
