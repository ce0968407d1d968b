"""Forgetting eps inside the square root: xhat = (x - mu) / sqrt(var). A constant feature divides 0 by 0
(NaN), and features of small variance are normalised differently from PyTorch."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(9, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def batchnorm_forward(x, gamma, beta, bn_param):
    _ref._check_and_prepare(x, gamma, beta, bn_param)   # creates the running statistics in the caller's dict
    no_eps = dict(bn_param, eps=0.0)                # the same running-stat arrays; sqrt(var) without eps
    with np.errstate(divide="ignore", invalid="ignore"):
        return _ref.batchnorm_forward(x, gamma, beta, no_eps)
