"""Updating the running statistics in eval (test) mode too. Evaluating the model on validation data
silently changes it: the same input gives different outputs from one evaluation to the next."""

from dlfs.components import load_topic

_ref = load_topic(9, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def batchnorm_forward(x, gamma, beta, bn_param):
    x, gamma, beta, mode = _ref._check_and_prepare(x, gamma, beta, bn_param)
    if mode == "test":
        momentum = bn_param.get("momentum", 0.1)
        N = x.shape[0]
        bn_param["running_mean"][...] = (1 - momentum) * bn_param["running_mean"] + momentum * x.mean(axis=0)
        if N > 1:
            unbiased = x.var(axis=0) * N / (N - 1)
            bn_param["running_var"][...] = (1 - momentum) * bn_param["running_var"] + momentum * unbiased
    return _ref.batchnorm_forward(x, gamma, beta, bn_param)
