"""The running variance updated with the BIASED variance of the batch (divide by M = N * H * W) instead of the
unbiased one (M - 1). Train mode is unaffected; eval mode under-estimates every channel's variance by
(M - 1) / M, which matters for small feature maps late in a network (2 images of 2 x 2 pixels: 12%)."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(14, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def batchnorm2d_forward(x, gamma, beta, bn_param):
    if bn_param.get("mode", "train") != "train" or bn_param.get("running_var") is None:
        C = np.shape(x)[1] if np.ndim(x) == 4 else 0
        bn_param.setdefault("running_var", np.ones(C, dtype=np.asarray(x).dtype))
    saved = np.array(bn_param["running_var"], copy=True)
    out, cache = _ref.batchnorm2d_forward(x, gamma, beta, bn_param)
    if bn_param.get("mode", "train") == "train":
        momentum = bn_param.get("momentum", 0.1)
        bn_param["running_var"][...] = (1 - momentum) * saved + momentum * np.asarray(x).var(axis=(0, 2, 3))
    return out, cache
