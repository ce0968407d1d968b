"""A backward that treats the batch mean and variance as constants: dx = dout * gamma * inv_std.
dgamma and dbeta are right and training still runs, but dx is wrong in train mode (gradient check fails)."""

from dlfs.components import load_topic

_ref = load_topic(9, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def batchnorm_backward(dout, cache):
    dout = _ref._check_dout(dout, cache)
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    dx = dout * gamma * inv_std          # forgets that mu and var are functions of x too
    return dx, dgamma, dbeta


batchnorm_backward_alt = batchnorm_backward
