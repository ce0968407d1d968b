"""ELU derivative written as alpha * exp(min(x, 0)) everywhere, so the positive side gets alpha instead of 1.
With the default alpha = 1 nothing shows; with alpha = 1.3 every positive input's gradient is 30% too large.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def elu_grad(x, alpha=1.0):
    x = _ref._as_float(x)
    return alpha * np.exp(np.minimum(x, 0))          # should be 1 where x > 0
