"""Batch-norm statistics over the wrong axes: each (sample, channel) normalised over its own H x W pixels
(axes (2, 3)) instead of each channel over the batch AND the pixels (axes (0, 2, 3)). That is InstanceNorm
(Topic 16): it runs, every map has mean 0, but one image's output no longer depends on the batch statistics
and the running statistics no longer describe what was used to normalise."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(14, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def batchnorm2d_forward(x, gamma, beta, bn_param):
    _, cache = _ref.batchnorm2d_forward(x, gamma, beta, bn_param)   # running statistics as usual
    x = np.asarray(x)
    if bn_param.get("mode", "train") == "test":
        return _ref.batchnorm2d_forward(x, gamma, beta, bn_param)
    mu = x.mean(axis=(2, 3), keepdims=True)                      # per sample and channel: wrong axes
    var = x.var(axis=(2, 3), keepdims=True)
    eps = bn_param.get("eps", 1e-5)
    out = gamma[None, :, None, None] * (x - mu) / np.sqrt(var + eps) + beta[None, :, None, None]
    return out.astype(x.dtype, copy=False), cache
