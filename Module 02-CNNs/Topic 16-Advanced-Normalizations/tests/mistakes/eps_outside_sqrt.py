"""eps added OUTSIDE the square root: xhat = (x - mean) / (sqrt(var) + eps). A constant input still gives
beta (0 / eps), so nothing crashes, but every set of small variance is normalised differently from PyTorch
(for var = 1e-6 the scale is off by a factor of about 3)."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(16, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def layernorm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    x, gamma, beta, shape = _ref._check_layernorm(x, gamma, beta, normalized_shape)
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    inv_std = 1.0 / (np.sqrt(var) + eps)             # eps outside the root
    xhat = (x - mean) * inv_std
    out = _ref._affine(xhat, gamma, beta)
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "axes": axes}
    return out, cache
