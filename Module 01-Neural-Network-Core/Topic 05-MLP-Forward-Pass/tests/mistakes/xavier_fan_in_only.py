"""Xavier initialisation with fan_in + fan_out replaced by fan_in.
It drops the fan_out half of Glorot's compromise: for a (100, 784) layer the std is 2.97x too large.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(5, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def xavier_uniform(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0):
    dtype = _ref._check_fans(fan_in, fan_out, dtype)
    bound = gain * np.sqrt(6.0 / fan_in)   # should be fan_in + fan_out
    return np.random.default_rng(rng).uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)


def xavier_normal(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0):
    dtype = _ref._check_fans(fan_in, fan_out, dtype)
    std = gain * np.sqrt(2.0 / fan_in)   # should be fan_in + fan_out
    return np.random.default_rng(rng).normal(0.0, std, size=(fan_in, fan_out)).astype(dtype)
