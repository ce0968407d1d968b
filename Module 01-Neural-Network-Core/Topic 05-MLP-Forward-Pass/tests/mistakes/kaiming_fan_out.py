"""Kaiming initialisation scaled by fan_out instead of fan_in.
For a (784, 100) layer the std is sqrt(2/100) = 0.14, not sqrt(2/784) = 0.05: 2.8x too large.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(5, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def kaiming_uniform(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0):
    dtype = _ref._check_fans(fan_in, fan_out, dtype)
    bound = _ref.calculate_gain(nonlinearity, a) * np.sqrt(3.0 / fan_out)   # should be fan_in
    return np.random.default_rng(rng).uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)


def kaiming_normal(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0):
    dtype = _ref._check_fans(fan_in, fan_out, dtype)
    std = _ref.calculate_gain(nonlinearity, a) / np.sqrt(fan_out)   # should be fan_in
    return np.random.default_rng(rng).normal(0.0, std, size=(fan_in, fan_out)).astype(dtype)
