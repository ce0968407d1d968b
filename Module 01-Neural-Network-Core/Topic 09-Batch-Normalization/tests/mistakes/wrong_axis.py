"""Normalising over the wrong axis: the statistics are taken per SAMPLE (axis=1) instead of per feature.
Each row comes out with mean 0 and variance 1, but the features keep their own offsets and scales."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(9, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def batchnorm_forward(x, gamma, beta, bn_param):
    x, gamma, beta, mode = _ref._check_and_prepare(x, gamma, beta, bn_param)
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    if mode == "test":
        return _ref.batchnorm_forward(x, gamma, beta, bn_param)
    N = x.shape[0]
    mu = x.mean(axis=1, keepdims=True)          # (N, 1): one mean per sample, the wrong axis
    var = x.var(axis=1, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    out = gamma * xhat + beta
    bn_param["running_mean"][...] = (1 - momentum) * bn_param["running_mean"] + momentum * x.mean(axis=0)
    bn_param["running_var"][...] = (1 - momentum) * bn_param["running_var"] + momentum * x.var(axis=0) * N / (N - 1)
    inv_std = 1.0 / np.sqrt(var + eps)
    return out, {"mode": "test", "xhat": xhat, "gamma": gamma, "inv_std": inv_std}
