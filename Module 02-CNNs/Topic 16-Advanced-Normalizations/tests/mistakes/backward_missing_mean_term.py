"""The LayerNorm backward pass without the path through the mean: dx = inv_std / M * (M g - xhat sum(g xhat)),
the "- sum(g)" term forgotten. The loss still goes down, but dx no longer sums to zero over a sample and the
gradient check fails."""

import math

from dlfs.components import load_topic

_ref = load_topic(16, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def layernorm_backward(dout, cache):
    dout = _ref._check_dout(dout, cache)
    xhat, gamma, axes = cache["xhat"], cache["gamma"], cache["axes"]
    lead = tuple(range(xhat.ndim - len(axes)))
    dgamma = (dout * xhat).sum(axis=lead) if gamma is not None else None
    dbeta = dout.sum(axis=lead) if cache["has_beta"] else None
    g = dout * gamma if gamma is not None else dout
    M = math.prod(xhat.shape[a] for a in axes)
    sum_gx = (g * xhat).sum(axis=axes, keepdims=True)
    dx = (cache["inv_std"] / M) * (M * g - xhat * sum_gx)     # the mean's term, - sum(g), is missing
    return dx, dgamma, dbeta
