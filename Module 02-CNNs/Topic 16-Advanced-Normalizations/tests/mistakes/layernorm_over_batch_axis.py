"""LayerNorm with BatchNorm's axis: the statistics are taken over the batch (axis 0) instead of over the
trailing normalized_shape dims of each sample. Shapes still work out, but every sample's output now depends
on the rest of the batch and a sample is no longer centred on its own."""

from dlfs.components import load_topic

_ref = load_topic(16, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def layernorm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    x, gamma, beta, _ = _ref._check_layernorm(x, gamma, beta, normalized_shape)
    axes = (0,)                                      # the batch axis, as in BatchNorm: the wrong set
    xhat, mean, var, inv_std = _ref._standardize(x, axes, eps)
    out = _ref._affine(xhat, gamma, beta)
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "axes": axes}
    return out, cache
