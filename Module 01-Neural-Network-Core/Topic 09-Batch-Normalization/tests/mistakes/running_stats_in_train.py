"""Using the running statistics in train mode: the batch is normalised with running_mean/running_var.
The output is neither centred nor unit-variance (the running stats lag far behind the batch)."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(9, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def batchnorm_forward(x, gamma, beta, bn_param):
    x, gamma, beta, mode = _ref._check_and_prepare(x, gamma, beta, bn_param)
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.1)
    running_mean, running_var = bn_param["running_mean"], bn_param["running_var"]
    if mode == "train":
        N = x.shape[0]
        running_mean[...] = (1 - momentum) * running_mean + momentum * x.mean(axis=0)
        running_var[...] = (1 - momentum) * running_var + momentum * x.var(axis=0) * N / (N - 1)
    inv_std = 1.0 / np.sqrt(running_var + eps)   # the running statistics, in both modes
    xhat = (x - running_mean) * inv_std
    out = gamma * xhat + beta
    return out, {"mode": "test", "xhat": xhat, "gamma": gamma, "inv_std": inv_std}
