"""InstanceNorm normalising with the UNBIASED variance (divide by H*W - 1, the torch.var default) instead of
the biased one. The running variance is unbiased, the normalisation is not: each channel of the output comes
out with variance (M - 1) / M instead of 1, and nothing matches PyTorch."""

import math

from dlfs.components import load_topic

_ref = load_topic(16, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def instancenorm_forward(x, gamma, beta, eps=1e-5, running_mean=None, running_var=None, momentum=0.1,
                         use_input_stats=True):
    if not use_input_stats:
        return _ref.instancenorm_forward(x, gamma, beta, eps, running_mean, running_var, momentum, use_input_stats)
    x, gamma, beta = _ref._check_instancenorm(x, gamma, beta, running_mean, running_var, use_input_stats)
    N, C = x.shape[:2]
    axes = tuple(range(2, x.ndim))
    M = math.prod(x.shape[2:])
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (M - 1)      # unbiased: the wrong variance here
    inv_std = 1.0 / (var + eps) ** 0.5
    xhat = (x - mean) * inv_std
    if running_mean is not None and N > 0:
        running_mean[...] = (1 - momentum) * running_mean + momentum * mean.reshape(N, C).mean(axis=0)
        running_var[...] = (1 - momentum) * running_var + momentum * var.reshape(N, C).mean(axis=0)
    out = _ref._affine(xhat, _ref._per_channel(gamma, x.ndim), _ref._per_channel(beta, x.ndim))
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "use_input_stats": True}
    return out, cache
