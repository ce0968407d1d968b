"""
Level 2: Vectorized Implementation
- Priority: Clarity and speed: each normalisation is one reshape plus the same "standardise over these axes"
- Constraints: NumPy reshapes, reductions with keepdims and broadcasting; no Python loops over the data
- Target: Pass every test; the reference later topics import with load_topic(16) (Module 04 reuses LayerNorm)

Topic 16: LayerNorm, GroupNorm and InstanceNorm with PyTorch's semantics. All three compute

    mean = mean of x over one set of elements      var = mean of (x - mean)^2 over that set  (biased: / M)
    xhat = (x - mean) / sqrt(var + eps)            out = gamma * xhat + beta

and differ only in the set (x is (N, C, H, W) for the last two):
    LayerNorm     the trailing `normalized_shape` dims of one sample (one token of an (N, T, D) sequence)
    GroupNorm     the channels of one group (contiguous: group g = channels g*C/G .. (g+1)*C/G - 1) of one sample
    InstanceNorm  one channel of one sample (H * W elements)
BatchNorm (Topic 09) is the fourth member: one channel over the whole batch. gamma and beta have the shape
normalized_shape for LayerNorm and (C,) (one per channel) for GroupNorm and InstanceNorm.

    layernorm_forward(x, gamma, beta, normalized_shape, eps)     -> (out, cache)
    groupnorm_forward(x, gamma, beta, num_groups, eps)           -> (out, cache)
    instancenorm_forward(x, gamma, beta, eps, running_mean, running_var, momentum, use_input_stats) -> (out, cache)
    *_backward(dout, cache)                                      -> (dx, dgamma, dbeta)  (None where no parameter)
    LayerNorm, GroupNorm, InstanceNorm2d                          the layers (Layer protocol of Module 01)

The backward pass of every one of them is the closed form derived in math-refresh.md (g = dout * gamma):
    dx = inv_std / M * (M * g - sum_set(g) - xhat * sum_set(g * xhat))
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # .data and .grad; Topic 03's optimizers update it in place


# ----------------------------------------------------------------------------------------------------
# The one idea: standardise over a set of axes, forward and backward
# ----------------------------------------------------------------------------------------------------

def _standardize(x, axes, eps):
    """Standardise x over `axes` (one set = all elements that share the indices of the other axes).

    Returns xhat (shape of x) and mean, var, inv_std with keepdims (size 1 along `axes`).
    """
    mean = x.mean(axis=axes, keepdims=True)
    xmu = x - mean
    var = (xmu * xmu).mean(axis=axes, keepdims=True)   # biased: divide by M, the size of a set
    inv_std = 1.0 / np.sqrt(var + eps)                  # eps INSIDE the root: a constant set gives xhat = 0
    xhat = xmu * inv_std
    return xhat, mean, var, inv_std


def _standardize_backward(dxhat, xhat, inv_std, axes):
    """dL/dx from dL/dxhat when xhat = standardise(x) over `axes` (the closed form, math-refresh.md section 3)."""
    M = math.prod(xhat.shape[a] for a in axes)
    sum_g = dxhat.sum(axis=axes, keepdims=True)                 # the path through the mean
    sum_gx = (dxhat * xhat).sum(axis=axes, keepdims=True)       # the path through the variance
    return (inv_std / M) * (M * dxhat - sum_g - xhat * sum_gx)


def _affine(xhat, gamma, beta):
    """gamma * xhat + beta, either of them may be None (always a new array: out never aliases the cache)."""
    out = xhat * gamma if gamma is not None else xhat.copy()
    if beta is not None:
        out += beta
    return out


# ----------------------------------------------------------------------------------------------------
# Task 1: LayerNorm, over the trailing normalized_shape dims
# ----------------------------------------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    """Layer normalization, as torch.nn.functional.layer_norm.

    x: (*, *normalized_shape), any number of leading dims ((N, D), (N, T, D), (N, C, H, W) with (C, H, W), ...)
    gamma, beta: arrays of shape normalized_shape, or None (no scale / no shift)
    normalized_shape: int or tuple of ints, the trailing dims of x that one normalisation set spans
    Returns out (shape of x, dtype of x) and the cache layernorm_backward needs.
    """
    x, gamma, beta, shape = _check_layernorm(x, gamma, beta, normalized_shape)
    axes = tuple(range(x.ndim - len(shape), x.ndim))           # the trailing dims: one set per leading index
    xhat, mean, var, inv_std = _standardize(x, axes, eps)
    out = _affine(xhat, gamma, beta)                           # gamma (normalized_shape) broadcasts over the leading dims
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "axes": axes}
    return out, cache


def layernorm_backward(dout, cache):
    """dout: shape of the output. Returns dx, dgamma (normalized_shape or None), dbeta (normalized_shape or None)."""
    dout = _check_dout(dout, cache)
    xhat, gamma, axes = cache["xhat"], cache["gamma"], cache["axes"]
    lead = tuple(range(xhat.ndim - len(axes)))                 # gamma and beta were shared by every leading index
    dgamma = (dout * xhat).sum(axis=lead) if gamma is not None else None
    dbeta = dout.sum(axis=lead) if cache["has_beta"] else None
    dxhat = dout * gamma if gamma is not None else dout
    dx = _standardize_backward(dxhat, xhat, cache["inv_std"], axes)
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 2: GroupNorm, over contiguous groups of channels
# ----------------------------------------------------------------------------------------------------

def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group normalization, as torch.nn.functional.group_norm.

    x: (N, C, *spatial) (spatial may be empty: (N, C) works); num_groups divides C
    gamma, beta: (C,) or None. Group g holds the channels g * C/G ... (g + 1) * C/G - 1.
    Returns out (shape of x, dtype of x) and the cache groupnorm_backward needs.
    """
    x, gamma, beta, G = _check_groupnorm(x, gamma, beta, num_groups)
    N, C = x.shape[:2]
    xg = x.reshape(N, G, C // G, *x.shape[2:])                 # split the channel axis: contiguous groups
    axes = tuple(range(2, xg.ndim))                            # one set = one group of one sample
    xhat, mean, var, inv_std = _standardize(xg, axes, eps)
    xhat = xhat.reshape(x.shape)
    out = _affine(xhat, _per_channel(gamma, x.ndim), _per_channel(beta, x.ndim))
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "num_groups": G}
    return out, cache


def groupnorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None."""
    dout = _check_dout(dout, cache)
    xhat, gamma, G = cache["xhat"], cache["gamma"], cache["num_groups"]
    N, C = xhat.shape[:2]
    not_channel = (0, *range(2, xhat.ndim))                    # gamma[c] was shared by every sample and position
    dgamma = (dout * xhat).sum(axis=not_channel) if gamma is not None else None
    dbeta = dout.sum(axis=not_channel) if cache["has_beta"] else None
    dxhat = dout * _per_channel(gamma, xhat.ndim) if gamma is not None else dout
    grouped = (N, G, C // G, *xhat.shape[2:])
    axes = tuple(range(2, len(grouped)))
    dx = _standardize_backward(dxhat.reshape(grouped), xhat.reshape(grouped), cache["inv_std"], axes)
    return dx.reshape(xhat.shape), dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 3: InstanceNorm, over the spatial positions of one channel of one sample
# ----------------------------------------------------------------------------------------------------

def instancenorm_forward(x, gamma, beta, eps=1e-5, running_mean=None, running_var=None, momentum=0.1,
                         use_input_stats=True):
    """Instance normalization, as torch.nn.functional.instance_norm.

    x: (N, C, *spatial) with at least one spatial dim; gamma, beta: (C,) or None
    use_input_stats=True: normalise each (sample, channel) with its own statistics; if running_mean and
        running_var (C,) are given, update them IN PLACE with the batch average of the per-instance mean
        and UNBIASED variance: running = (1 - momentum) * running + momentum * stat
    use_input_stats=False: normalise with running_mean and running_var (required), change nothing.
    Returns out (shape of x, dtype of x) and the cache instancenorm_backward needs.
    """
    x, gamma, beta = _check_instancenorm(x, gamma, beta, running_mean, running_var, use_input_stats)
    N, C = x.shape[:2]
    axes = tuple(range(2, x.ndim))                             # one set = one channel of one sample
    if use_input_stats:
        xhat, mean, var, inv_std = _standardize(x, axes, eps)
        if running_mean is not None and N > 0:
            S = math.prod(x.shape[2:])
            running_mean[...] = (1 - momentum) * running_mean + momentum * mean.reshape(N, C).mean(axis=0)
            unbiased = var.reshape(N, C) * (S / (S - 1))       # Bessel's correction, as PyTorch
            running_var[...] = (1 - momentum) * running_var + momentum * unbiased.mean(axis=0)
    else:                                                      # the running statistics are constants here
        mean = _per_channel(running_mean, x.ndim).astype(x.dtype)
        var = _per_channel(running_var, x.ndim).astype(x.dtype)
        inv_std = 1.0 / np.sqrt(var + eps)
        xhat = (x - mean) * inv_std
    out = _affine(xhat, _per_channel(gamma, x.ndim), _per_channel(beta, x.ndim))
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "use_input_stats": bool(use_input_stats)}
    return out, cache


def instancenorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None."""
    dout = _check_dout(dout, cache)
    xhat, gamma = cache["xhat"], cache["gamma"]
    not_channel = (0, *range(2, xhat.ndim))
    dgamma = (dout * xhat).sum(axis=not_channel) if gamma is not None else None
    dbeta = dout.sum(axis=not_channel) if cache["has_beta"] else None
    dxhat = dout * _per_channel(gamma, xhat.ndim) if gamma is not None else dout
    if cache["use_input_stats"]:
        dx = _standardize_backward(dxhat, xhat, cache["inv_std"], tuple(range(2, xhat.ndim)))
    else:
        dx = dxhat * cache["inv_std"]                          # xhat is an affine function of x
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Tasks 4-6: the layers
# ----------------------------------------------------------------------------------------------------

class _NormLayer:
    """What the three layers share: parameters, modes, accumulating backward, state_dict."""

    gamma = beta = None
    _backward = None

    def backward(self, dout):
        """dout: shape of the last output -> dx; ADDS dgamma, dbeta into gamma.grad, beta.grad."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dx, dgamma, dbeta = type(self)._backward(dout, self._cache)
        if self.gamma is not None:
            self.gamma.grad += dgamma
        if self.beta is not None:
            self.beta.grad += dbeta
        return dx

    def parameters(self):
        return [p for p in (self.gamma, self.beta) if p is not None]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def _state_arrays(self):
        arrays = {"gamma": self.gamma.data if self.gamma is not None else None,
                  "beta": self.beta.data if self.beta is not None else None,
                  "running_mean": getattr(self, "running_mean", None),
                  "running_var": getattr(self, "running_var", None)}
        return {name: a for name, a in arrays.items() if a is not None}

    def state_dict(self):
        """COPIES of every parameter and buffer ({} for a layer without any)."""
        return {name: a.copy() for name, a in self._state_arrays().items()}

    def load_state_dict(self, state):
        """Copy state's arrays INTO the existing ones (optimizers keep references); wrong keys or shapes raise."""
        targets = self._state_arrays()
        if set(state) != set(targets):
            raise ValueError(f"{type(self).__name__}.load_state_dict: keys {sorted(state)} != expected {sorted(targets)}")
        for name, target in targets.items():
            if np.shape(state[name]) != target.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {np.shape(state[name])}, expected {target.shape}")
        for name, target in targets.items():
            target[...] = state[name]


class LayerNorm(_NormLayer):
    """torch.nn.LayerNorm: normalise over the trailing normalized_shape dims, any leading dims.

    gamma (ones) and beta (zeros) have the shape normalized_shape; elementwise_affine=False removes both,
    bias=False removes beta. The same computation in train and eval mode.
    """

    _backward = staticmethod(layernorm_backward)

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float32):
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.gamma = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            self.beta = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) if bias else None
        self.training = True
        self._cache = None

    def forward(self, x):
        out, self._cache = layernorm_forward(x, _data(self.gamma), _data(self.beta), self.normalized_shape, self.eps)
        return out

    def __repr__(self):
        return f"LayerNorm({self.normalized_shape}, eps={self.eps:g}, elementwise_affine={self.elementwise_affine})"


class GroupNorm(_NormLayer):
    """torch.nn.GroupNorm: num_groups contiguous groups of channels, per sample; gamma, beta (num_channels,)."""

    _backward = staticmethod(groupnorm_backward)

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32):
        num_groups, num_channels = int(num_groups), int(num_channels)
        if num_groups < 1 or num_channels < 1:
            raise ValueError(f"num_groups and num_channels must be >= 1, got {num_groups} and {num_channels}")
        if num_channels % num_groups != 0:
            raise ValueError(f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps = float(eps)
        self.affine = bool(affine)
        if self.affine:
            self.gamma = Parameter(np.ones(num_channels, dtype=dtype))
            self.beta = Parameter(np.zeros(num_channels, dtype=dtype))
        self.training = True
        self._cache = None

    def forward(self, x):
        _check_channels(x, self.num_channels, type(self).__name__, min_ndim=2)
        out, self._cache = groupnorm_forward(x, _data(self.gamma), _data(self.beta), self.num_groups, self.eps)
        return out

    def __repr__(self):
        return f"GroupNorm({self.num_groups}, {self.num_channels}, eps={self.eps:g}, affine={self.affine})"


class InstanceNorm2d(_NormLayer):
    """torch.nn.InstanceNorm2d on (N, C, H, W): each channel of each sample on its own.

    affine=False and track_running_stats=False by default (as PyTorch). With track_running_stats=True the
    layer keeps running_mean (zeros) and running_var (ones), updated in train mode and used in eval mode.
    """

    _backward = staticmethod(instancenorm_backward)

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 dtype=np.float32):
        self.num_features = int(num_features)
        if self.num_features < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        if self.affine:
            self.gamma = Parameter(np.ones(self.num_features, dtype=dtype))
            self.beta = Parameter(np.zeros(self.num_features, dtype=dtype))
        self.running_mean = np.zeros(self.num_features, dtype=dtype) if self.track_running_stats else None
        self.running_var = np.ones(self.num_features, dtype=dtype) if self.track_running_stats else None
        self.training = True
        self._cache = None

    def forward(self, x):
        _check_channels(x, self.num_features, type(self).__name__, exact_ndim=4)
        use_input_stats = self.training or not self.track_running_stats
        out, self._cache = instancenorm_forward(x, _data(self.gamma), _data(self.beta), self.eps, self.running_mean,
                                                self.running_var, self.momentum, use_input_stats)
        return out

    def __repr__(self):
        return (f"InstanceNorm2d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats})")


# ----------------------------------------------------------------------------------------------------
# Input checks: a wrong shape is a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

def _as_float(x):
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _data(p):
    return None if p is None else p.data


def _per_channel(v, ndim):
    """(C,) -> (C, 1, ..., 1), broadcastable against (N, C, *spatial); None stays None."""
    return None if v is None else v.reshape(v.shape[0], *[1] * (ndim - 2))


def _check_param(p, shape, name, dtype, what):
    if p is None:
        return None
    p = np.asarray(p)
    if p.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)} ({what}), got {p.shape}: "
                         f"it is not broadcast")
    return p.astype(dtype, copy=False)


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, (int, np.integer)):
        shape = (int(normalized_shape),)
    else:
        try:
            shape = tuple(int(d) for d in normalized_shape)
        except TypeError:
            raise ValueError(f"normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}") from None
    if not shape or any(d < 1 for d in shape):
        raise ValueError(f"normalized_shape must be non-empty with positive sizes, got {shape}")
    return shape


def _check_layernorm(x, gamma, beta, normalized_shape):
    x, shape = _as_float(x), _normalized_shape(normalized_shape)
    if x.ndim < len(shape) or x.shape[x.ndim - len(shape):] != shape:
        raise ValueError(f"Given normalized_shape={shape}, expected input with shape (*, {', '.join(map(str, shape))}), "
                         f"but got input of shape {x.shape}")
    gamma = _check_param(gamma, shape, "gamma", x.dtype, "normalized_shape")
    beta = _check_param(beta, shape, "beta", x.dtype, "normalized_shape")
    return x, gamma, beta, shape


def _check_groupnorm(x, gamma, beta, num_groups):
    x = _as_float(x)
    if x.ndim < 2:
        raise ValueError(f"groupnorm expects x of shape (N, C, *spatial), got shape {x.shape}")
    C = x.shape[1]
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups < 1:
        raise ValueError(f"num_groups must be a positive int, got {num_groups!r}")
    if C % num_groups != 0:
        raise ValueError(f"num_channels ({C}) must be divisible by num_groups ({num_groups})")
    gamma = _check_param(gamma, (C,), "gamma", x.dtype, "one value per channel")
    beta = _check_param(beta, (C,), "beta", x.dtype, "one value per channel")
    return x, gamma, beta, int(num_groups)


def _check_instancenorm(x, gamma, beta, running_mean, running_var, use_input_stats):
    x = _as_float(x)
    if x.ndim < 3:
        raise ValueError(f"instancenorm expects x of shape (N, C, *spatial) with a spatial dim, got shape {x.shape}")
    C = x.shape[1]
    gamma = _check_param(gamma, (C,), "gamma", x.dtype, "one value per channel")
    beta = _check_param(beta, (C,), "beta", x.dtype, "one value per channel")
    if (running_mean is None) != (running_var is None):
        raise ValueError("give both running_mean and running_var, or neither")
    for name, r in (("running_mean", running_mean), ("running_var", running_var)):
        if r is not None and (not isinstance(r, np.ndarray) or r.shape != (C,)):
            raise ValueError(f"{name} must be an ndarray of shape ({C},) (it is updated in place), got {np.shape(r)}")
    if not use_input_stats and running_mean is None:
        raise ValueError("use_input_stats=False normalises with running_mean and running_var: give them")
    if use_input_stats and math.prod(x.shape[2:]) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {x.shape}")
    return x, gamma, beta


def _check_channels(x, channels, layer, min_ndim=None, exact_ndim=None):
    shape = np.shape(x)
    wrong_ndim = len(shape) != exact_ndim if exact_ndim else len(shape) < min_ndim
    if wrong_ndim or shape[1] != channels:
        want = "(N, C, H, W)" if exact_ndim == 4 else "(N, C, *spatial)"
        raise ValueError(f"{layer} expects x of shape {want} with C = {channels}, got shape {shape}")


def _check_dout(dout, cache):
    dout = np.asarray(dout)
    if dout.shape != cache["xhat"].shape:
        raise ValueError(f"dout must have the shape of the output {cache['xhat'].shape}, got {dout.shape}")
    return dout


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(4, 6, 5, 5))
    gamma, beta = rng.uniform(0.5, 2.0, 6), rng.normal(size=6)

    out, cache = groupnorm_forward(x, gamma, beta, num_groups=3)
    print(f"GroupNorm output shape: {out.shape}")
    xhat = cache["xhat"].reshape(4, 3, -1)
    assert np.allclose(xhat.mean(axis=-1), 0) and np.allclose(xhat.var(axis=-1), 1, atol=1e-4), "per-group stats"

    # GroupNorm with one group is LayerNorm over (C, H, W); with C groups it is InstanceNorm
    ln, _ = layernorm_forward(x, np.broadcast_to(gamma[:, None, None], (6, 5, 5)),
                              np.broadcast_to(beta[:, None, None], (6, 5, 5)), (6, 5, 5))
    assert np.allclose(groupnorm_forward(x, gamma, beta, 1)[0], ln), "G = 1 is LayerNorm"
    assert np.allclose(groupnorm_forward(x, gamma, beta, 6)[0], instancenorm_forward(x, gamma, beta)[0]), "G = C"

    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = groupnorm_backward(dout, cache)
    # dx has no component along the constant and along xhat within each group
    print(f"max |sum of dx over a group| = {np.abs(dx.reshape(4, 3, -1).sum(axis=-1)).max():.2e}")
    assert np.allclose(dx.reshape(4, 3, -1).sum(axis=-1), 0, atol=1e-10)

    tokens = rng.normal(size=(2, 7, 16)).astype(np.float32)     # (N, T, D) as in a transformer
    layer = LayerNorm(16)
    y = layer.forward(tokens)
    assert y.shape == (2, 7, 16) and y.dtype == np.float32
    assert np.allclose(y.mean(axis=-1), 0, atol=1e-5), "each token is normalised over its features"
    dx = layer.backward(rng.standard_normal(y.shape).astype(np.float32))
    assert dx.dtype == np.float32 and layer.gamma.grad.shape == (16,)
    print("All checks passed.")
