"""
Level 1: Naive Implementation
- Priority: Correctness over speed: one Python loop iteration per normalisation set (a sample, a group of
  channels of a sample, a channel of a sample), so that you SEE which elements share a mean and a variance
- Constraints: loops over samples, groups and channels; NumPy only for the arithmetic inside one set
- Target: Pass functional tests only (slow for big batches: every set is a separate little computation)

Topic 16: the three normalisations that do not average over the batch. For one set S of M elements:
    mean = (1/M) sum_{i in S} x_i        var = (1/M) sum_{i in S} (x_i - mean)^2        (biased: / M)
    xhat_i = (x_i - mean) / sqrt(var + eps)        out_i = gamma * xhat_i + beta
    LayerNorm     S = the trailing normalized_shape dims of one sample     gamma, beta: normalized_shape
    GroupNorm     S = the channels of one group of one sample (contiguous) gamma, beta: (C,)
    InstanceNorm  S = the H * W positions of one channel of one sample     gamma, beta: (C,)
The backward pass walks the graph of one set node by node (mean -> x - mean -> var -> inv_std -> xhat);
level 2 replaces it with the closed form.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # .data and .grad; Topic 03's optimizers update it in place


# ----------------------------------------------------------------------------------------------------
# One set: the forward pass and the backward pass, node by node
# ----------------------------------------------------------------------------------------------------

def _standardize_set(block, eps):
    """block: the M elements of one set (any shape). Returns xhat (shape of block), mean, var, inv_std (scalars)."""
    mean = block.mean()                          # node 1: the mean of the set
    xmu = block - mean                           # node 2: centre
    var = (xmu * xmu).mean()                     # node 3: biased variance (divide by M)
    inv_std = 1.0 / np.sqrt(var + eps)           # node 4: eps INSIDE the square root
    xhat = xmu * inv_std                         # node 5: normalised
    return xhat, mean, var, inv_std


def _standardize_set_backward(dxhat, block, mean, inv_std):
    """dL/dblock from dL/dxhat for one set, by the chain rule through the five nodes in reverse."""
    M = block.size
    xmu = block - mean
    # node 5: xhat = xmu * inv_std            (inv_std is shared by the whole set: its gradient is a sum)
    dinv_std = np.sum(dxhat * xmu)
    dxmu = dxhat * inv_std
    # node 4: inv_std = (var + eps) ** -1/2   d/dvar = -1/2 (var + eps) ** -3/2 = -1/2 inv_std ** 3
    dvar = -0.5 * inv_std ** 3 * dinv_std
    # node 3: var = (1/M) sum xmu ** 2         (a second path into xmu)
    dxmu = dxmu + dvar * 2.0 * xmu / M
    # node 2: xmu = x - mean                   node 1: mean = (1/M) sum x
    dmean = -np.sum(dxmu)
    return dxmu + dmean / M


# ----------------------------------------------------------------------------------------------------
# Task 1: LayerNorm, one sample (one leading index) at a time
# ----------------------------------------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    """Layer normalization, as torch.nn.functional.layer_norm.

    x: (*, *normalized_shape), any number of leading dims ((N, D), (N, T, D), (N, C, H, W) with (C, H, W), ...)
    gamma, beta: arrays of shape normalized_shape, or None (no scale / no shift)
    normalized_shape: int or tuple of ints, the trailing dims of x that one normalisation set spans
    Returns out (shape of x, dtype of x) and the cache layernorm_backward needs.
    """
    x, gamma, beta, shape = _check_layernorm(x, gamma, beta, normalized_shape)
    lead = x.shape[:x.ndim - len(shape)]
    xhat, out = np.empty_like(x), np.empty_like(x)
    mean, var, inv_std = (np.empty(lead + (1,) * len(shape), dtype=x.dtype) for _ in range(3))
    for idx in np.ndindex(*lead):                # every sample (every token of a sequence) on its own
        xhat[idx], mean[idx], var[idx], inv_std[idx] = _standardize_set(x[idx], eps)
        out[idx] = xhat[idx]
        if gamma is not None:
            out[idx] *= gamma                    # one scale per element of the normalized shape
        if beta is not None:
            out[idx] += beta
    axes = tuple(range(x.ndim - len(shape), x.ndim))
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "axes": axes}
    return out, cache


def layernorm_backward(dout, cache):
    """dout: shape of the output. Returns dx, dgamma (normalized_shape or None), dbeta (normalized_shape or None)."""
    dout = _check_dout(dout, cache)
    x, xhat, gamma = cache["x"], cache["xhat"], cache["gamma"]
    shape = x.shape[x.ndim - len(cache["axes"]):]
    dx = np.empty_like(xhat)
    dgamma = np.zeros(shape, dtype=xhat.dtype) if gamma is not None else None
    dbeta = np.zeros(shape, dtype=xhat.dtype) if cache["has_beta"] else None
    for idx in np.ndindex(*x.shape[:x.ndim - len(shape)]):
        dxhat = dout[idx] * gamma if gamma is not None else dout[idx]
        dx[idx] = _standardize_set_backward(dxhat, x[idx], cache["mean"][idx], cache["inv_std"][idx])
        if gamma is not None:
            dgamma += dout[idx] * xhat[idx]      # gamma was used by every sample: sum their contributions
        if dbeta is not None:
            dbeta += dout[idx]
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 2: GroupNorm, one group of one sample at a time
# ----------------------------------------------------------------------------------------------------

def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group normalization, as torch.nn.functional.group_norm.

    x: (N, C, *spatial) (spatial may be empty: (N, C) works); num_groups divides C
    gamma, beta: (C,) or None. Group g holds the channels g * C/G ... (g + 1) * C/G - 1.
    Returns out (shape of x, dtype of x) and the cache groupnorm_backward needs.
    """
    x, gamma, beta, G = _check_groupnorm(x, gamma, beta, num_groups)
    N, C = x.shape[:2]
    per_group = C // G
    xhat, out = np.empty_like(x), np.empty_like(x)
    mean, var, inv_std = (np.empty((N, G), dtype=x.dtype) for _ in range(3))
    for n in range(N):
        for g in range(G):
            channels = slice(g * per_group, (g + 1) * per_group)    # contiguous: channels of group g
            xhat[n, channels], mean[n, g], var[n, g], inv_std[n, g] = _standardize_set(x[n, channels], eps)
        for c in range(C):                                          # the affine step is per CHANNEL
            out[n, c] = xhat[n, c]
            if gamma is not None:
                out[n, c] *= gamma[c]
            if beta is not None:
                out[n, c] += beta[c]
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "num_groups": G}
    return out, cache


def groupnorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None."""
    dout = _check_dout(dout, cache)
    x, xhat, gamma, G = cache["x"], cache["xhat"], cache["gamma"], cache["num_groups"]
    N, C = x.shape[:2]
    per_group = C // G
    dx = np.empty_like(xhat)
    dgamma = np.zeros(C, dtype=xhat.dtype) if gamma is not None else None
    dbeta = np.zeros(C, dtype=xhat.dtype) if cache["has_beta"] else None
    for n in range(N):
        dxhat = np.empty_like(dout[n])
        for c in range(C):
            dxhat[c] = dout[n, c] * gamma[c] if gamma is not None else dout[n, c]
            if gamma is not None:
                dgamma[c] += np.sum(dout[n, c] * xhat[n, c])
            if dbeta is not None:
                dbeta[c] += np.sum(dout[n, c])
        for g in range(G):
            channels = slice(g * per_group, (g + 1) * per_group)
            dx[n, channels] = _standardize_set_backward(dxhat[channels], x[n, channels], cache["mean"][n, g],
                                                        cache["inv_std"][n, g])
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 3: InstanceNorm, one channel of one sample at a time
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
    S = math.prod(x.shape[2:])
    xhat, out = np.empty_like(x), np.empty_like(x)
    mean, var, inv_std = (np.empty((N, C), dtype=x.dtype) for _ in range(3))
    for n in range(N):
        for c in range(C):
            if use_input_stats:                  # the statistics of this channel of this sample
                xhat[n, c], mean[n, c], var[n, c], inv_std[n, c] = _standardize_set(x[n, c], eps)
            else:                                # the running statistics, constants
                mean[n, c], var[n, c] = running_mean[c], running_var[c]
                inv_std[n, c] = 1.0 / np.sqrt(var[n, c] + eps)
                xhat[n, c] = (x[n, c] - mean[n, c]) * inv_std[n, c]
            out[n, c] = xhat[n, c]
            if gamma is not None:
                out[n, c] *= gamma[c]
            if beta is not None:
                out[n, c] += beta[c]
    if use_input_stats and running_mean is not None and N > 0:
        for c in range(C):                       # average over the batch of the per-instance statistics
            batch_mean = sum(float(mean[n, c]) for n in range(N)) / N
            batch_var = sum(float(var[n, c]) * S / (S - 1) for n in range(N)) / N   # unbiased, as PyTorch
            running_mean[c] = (1 - momentum) * float(running_mean[c]) + momentum * batch_mean
            running_var[c] = (1 - momentum) * float(running_var[c]) + momentum * batch_var
    cache = {"x": x, "xhat": xhat, "mean": mean, "var": var, "inv_std": inv_std, "gamma": gamma,
             "has_beta": beta is not None, "use_input_stats": bool(use_input_stats)}
    return out, cache


def instancenorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None."""
    dout = _check_dout(dout, cache)
    x, xhat, gamma = cache["x"], cache["xhat"], cache["gamma"]
    N, C = x.shape[:2]
    dx = np.empty_like(xhat)
    dgamma = np.zeros(C, dtype=xhat.dtype) if gamma is not None else None
    dbeta = np.zeros(C, dtype=xhat.dtype) if cache["has_beta"] else None
    for n in range(N):
        for c in range(C):
            dxhat = dout[n, c] * gamma[c] if gamma is not None else dout[n, c]
            if cache["use_input_stats"]:
                dx[n, c] = _standardize_set_backward(dxhat, x[n, c], cache["mean"][n, c], cache["inv_std"][n, c])
            else:                                # the statistics are constants: only node 5 remains
                dx[n, c] = dxhat * cache["inv_std"][n, c]
            if gamma is not None:
                dgamma[c] += np.sum(dout[n, c] * xhat[n, c])
            if dbeta is not None:
                dbeta[c] += np.sum(dout[n, c])
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
    # The worked example of math-refresh.md: one sample [1, 3, 5, 7], mean 4, biased variance 5
    x = np.array([[1.0, 3.0, 5.0, 7.0]])
    out, cache = layernorm_forward(x, np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(4), 4, eps=0.0)
    print(f"LayerNorm of [1, 3, 5, 7] with gamma [1, 2, 3, 4]: {np.round(out, 5)}")
    assert np.allclose(out, np.array([[-3.0, -2.0, 3.0, 12.0]]) / np.sqrt(5.0))
    dx, dgamma, dbeta = layernorm_backward(np.array([[1.0, 0.0, 0.0, 0.0]]), cache)
    print(f"dx for dout = [1, 0, 0, 0]: {np.round(dx, 6)}")
    assert np.allclose(dx, np.array([[1.2, -1.6, -0.4, 0.8]]) / (4 * np.sqrt(5.0)))

    rng = np.random.default_rng(0)
    images = rng.normal(2.0, 3.0, size=(2, 4, 3, 3))
    gn, _ = groupnorm_forward(images, None, None, num_groups=2)
    for n in range(2):
        for g in range(2):
            group = gn[n, 2 * g:2 * g + 2]       # channels (0, 1) and (2, 3): contiguous groups
            assert abs(group.mean()) < 1e-12 and abs(group.var() - 1) < 1e-4
    inorm, _ = instancenorm_forward(images, None, None)
    assert np.allclose(inorm, groupnorm_forward(images, None, None, num_groups=4)[0]), "G = C is InstanceNorm"
    print("All checks passed.")
