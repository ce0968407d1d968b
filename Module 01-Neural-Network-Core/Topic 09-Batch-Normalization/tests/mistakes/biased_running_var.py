"""Updating running_var with the biased batch variance (divide by N) instead of the unbiased one (N - 1).
Test mode then under-estimates the variance, by a factor (N - 1) / N: 25% for a batch of 4."""

from dlfs.components import load_topic

_ref = load_topic(9, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def batchnorm_forward(x, gamma, beta, bn_param):
    x, gamma, beta, mode = _ref._check_and_prepare(x, gamma, beta, bn_param)
    if mode == "test":
        return _ref.batchnorm_forward(x, gamma, beta, bn_param)
    momentum = bn_param.get("momentum", 0.1)
    saved_var = bn_param["running_var"].copy()
    out, cache = _ref.batchnorm_forward(x, gamma, beta, bn_param)
    bn_param["running_var"][...] = (1 - momentum) * saved_var + momentum * x.var(axis=0)  # biased: / N
    return out, cache
