"""The CS231n momentum convention (momentum = fraction KEPT: running = m * running + (1 - m) * batch) used
with PyTorch's momentum=0.1: the running statistics jump 90% of the way to each batch instead of 10%."""

from dlfs.components import load_topic

_ref = load_topic(9, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def batchnorm_forward(x, gamma, beta, bn_param):
    x, gamma, beta, mode = _ref._check_and_prepare(x, gamma, beta, bn_param)
    if mode == "test":
        return _ref.batchnorm_forward(x, gamma, beta, bn_param)
    momentum = bn_param.get("momentum", 0.1)
    saved = bn_param["running_mean"].copy(), bn_param["running_var"].copy()
    out, cache = _ref.batchnorm_forward(x, gamma, beta, bn_param)
    N = x.shape[0]
    bn_param["running_mean"][...] = momentum * saved[0] + (1 - momentum) * x.mean(axis=0)
    bn_param["running_var"][...] = momentum * saved[1] + (1 - momentum) * x.var(axis=0) * N / (N - 1)
    return out, cache
