"""Kaiming initialisation without the sqrt(2) ReLU gain (std = 1/sqrt(fan_in)).
ReLU zeroes half the units, so the activation variance halves at every layer and a deep net fades out.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(5, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def kaiming_uniform(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0):
    dtype = _ref._check_fans(fan_in, fan_out, dtype)
    gain = _ref.calculate_gain(nonlinearity, a)  # noqa: F841  (computed, then forgotten)
    bound = np.sqrt(3.0 / fan_in)
    return np.random.default_rng(rng).uniform(-bound, bound, size=(fan_in, fan_out)).astype(dtype)


def kaiming_normal(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0):
    dtype = _ref._check_fans(fan_in, fan_out, dtype)
    gain = _ref.calculate_gain(nonlinearity, a)  # noqa: F841  (computed, then forgotten)
    std = 1.0 / np.sqrt(fan_in)
    return np.random.default_rng(rng).normal(0.0, std, size=(fan_in, fan_out)).astype(dtype)
