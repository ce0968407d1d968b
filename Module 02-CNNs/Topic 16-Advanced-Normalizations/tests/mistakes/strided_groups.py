"""GroupNorm grouping the channels with a stride (group g = channels g, g + G, g + 2G, ...) instead of in
contiguous blocks (group g = channels g*C/G .. (g+1)*C/G - 1). It comes from x.reshape(N, C // G, G, ...)
with the statistics over axis 1. G = 1 and G = C are unaffected, every other G mixes the wrong channels."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(16, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    x, gamma, beta, G = _ref._check_groupnorm(x, gamma, beta, num_groups)
    N, C = x.shape[:2]
    xg = x.reshape(N, C // G, G, *x.shape[2:])       # channel c = k * G + g: a strided group
    axes = (1, *range(3, xg.ndim))
    xhat, mean, var, inv_std = _ref._standardize(xg, axes, eps)
    xhat = xhat.reshape(x.shape)
    out = _ref._affine(xhat, _ref._per_channel(gamma, x.ndim), _ref._per_channel(beta, x.ndim))
    # the cache in the grouped layout the reference backward expects (so that only the grouping is wrong)
    contiguous = xhat.reshape(N, G, C // G, *x.shape[2:])
    inv_std_c = np.moveaxis(inv_std, 2, 1).reshape(N, G, 1, *([1] * (x.ndim - 2)))
    cache = {"x": x, "xhat": contiguous.reshape(x.shape), "mean": mean, "var": var, "inv_std": inv_std_c,
             "gamma": gamma, "has_beta": beta is not None, "num_groups": G}
    return out, cache
