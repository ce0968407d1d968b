"""
Level 3: Memory-Efficient Implementation
- Priority: one fused routine for all three normalisations; few input-sized arrays; float32 stays float32
- Constraints: views instead of copies, in-place ufuncs with out=, einsum sums of products without temporaries,
  a cache of only xhat and inv_std
- Target: Same results as level 2 (to float round-off) with half its cache, a third of its backward peak, 2-3x faster

The three normalisations are ONE computation on a view of x in which the last axes hold one set:
    LayerNorm     x itself                          (*, *normalized_shape)   gamma varies along the set axes
    GroupNorm     x.reshape(N, G, C // G, *spatial)                           gamma varies along (G, C // G)
    InstanceNorm  x itself                          (N, C, *spatial)          gamma varies along C
Splitting one axis into two is always a view (whatever the strides), so no copy of x is made, even for a
transposed or sliced x. On that view, _fused_forward and _fused_backward do the work for all three.

Measured (`python solutions/level03-memory-efficient.py`; peaks by tracemalloc, times the best of 20 on a
shared 2-core CPU) for x of shape (32, 64, 32, 32) float32, one array = 8 MiB:
                                      GroupNorm, 8 groups, gamma and beta     InstanceNorm, no affine
                                      level 2          level 3                level 2          level 3
    cache kept, forward to backward   16 MiB (x, xhat) 8 MiB (xhat)           16 MiB           8 MiB
    peak memory, forward              16 MiB           16 MiB (xhat, out)     16 MiB           8 MiB (out = xhat)
    peak memory, backward             24 MiB           8.25 MiB (dx + block)  16 MiB           8.3 MiB
    forward + backward                29.0 ms          10.8 ms                20.9 ms          8.4 ms
PyTorch's fused CPU kernels (1 thread) take 2.5 ms for the same GroupNorm step: NumPy needs several passes
over the data where a fused kernel needs two.

How:
- forward: the mean comes from a reduction over the set axes of the view (no copy); x - mean is written
  straight into the xhat buffer (np.subtract(..., out=)), the variance is np.einsum("rm,rm->r", xhat, xhat)
  (a sum of squares without a squared copy) and xhat is then scaled in place. `out` is the only other array.
  Without gamma and beta, out IS xhat (the cached array, returned read-only): one array instead of two.
- backward: dx starts as dout * gamma in its own buffer and is turned into the closed form in place; the
  sums over a set are a mean and an einsum; dgamma is an einsum over the batch and spatial axes. The term
  xhat * sum(g * xhat) / M needs a temporary (NumPy has no fused multiply-subtract): it is taken one block of
  rows at a time, at most BLOCK_ELEMENTS elements, so the backward pass allocates dx and almost nothing else.
- levels 1 and 2 keep x, the mean and the variance in the cache (the node-by-node backward of level 1 needs
  x - mean); the closed form needs only xhat and inv_std, so that is all this cache holds.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # .data and .grad; Topic 03's optimizers update it in place

BLOCK_ELEMENTS = 1 << 16  # the largest temporary the backward pass allocates (elements), whatever the input size


# ----------------------------------------------------------------------------------------------------
# The one routine: standardise the sets of a view, forward and backward
# ----------------------------------------------------------------------------------------------------

def _fused_forward(xv, nred, eps, gamma_v, beta_v, stats=None):
    """Normalise the R sets of M elements held by the last `nred` axes of the view xv.

    gamma_v, beta_v: None or arrays broadcastable to xv; stats: None (each set's own mean and biased
    variance) or (mean, var) broadcastable to the leading axes of xv (constants, e.g. running statistics).
    Returns out (xv.shape), xhat (xv.shape, a fresh C-contiguous buffer), mean, var, inv_std (R,).
    """
    lead = xv.shape[:xv.ndim - nred]
    R, M = math.prod(lead), math.prod(xv.shape[xv.ndim - nred:])
    keep = lead + (1,) * nred
    xhat = np.empty(xv.shape, dtype=xv.dtype)
    xhat2 = xhat.reshape(R, M)                                  # a view of our own buffer
    if stats is None:
        mean = xv.mean(axis=tuple(range(len(lead), xv.ndim)))   # (lead), a reduction: no copy of x
        np.subtract(xv, mean.reshape(keep), out=xhat)           # xhat holds x - mean for now
        var = np.einsum("rm,rm->r", xhat2, xhat2) / M           # biased variance, no squared temporary
        mean = mean.reshape(R)
    else:
        mean = np.broadcast_to(np.asarray(stats[0], dtype=xv.dtype), lead).reshape(R)
        var = np.broadcast_to(np.asarray(stats[1], dtype=xv.dtype), lead).reshape(R)
        np.subtract(xv, mean.reshape(keep), out=xhat)
    inv_std = 1.0 / np.sqrt(var + eps)                          # eps inside the root
    xhat2 *= inv_std[:, None]                                   # now the normalised input
    if gamma_v is not None:
        out = np.multiply(xhat, gamma_v)                        # the only other input-sized array
        if beta_v is not None:
            out += beta_v
    elif beta_v is not None:
        out = np.add(xhat, beta_v)
    else:
        xhat.flags.writeable = False                            # out is the cache: read-only, no copy
        out = xhat
    return out, xhat, mean, var, inv_std


def _fused_backward(dout_v, xhat, nred, inv_std, gamma_v, through_stats=True):
    """dL/dx (shape of the view) from dL/dout for the sets of _fused_forward, built in place in one buffer.

    through_stats=False: the statistics were constants (running statistics), dx = dout * gamma * inv_std.
    """
    R, M = inv_std.shape[0], math.prod(xhat.shape[xhat.ndim - nred:])
    dx = np.empty(xhat.shape, dtype=xhat.dtype)                 # C-contiguous, so that the (R, M) view is a view
    if gamma_v is not None:
        np.multiply(dout_v, gamma_v, out=dx)                    # g = dL/dxhat
    else:
        np.copyto(dx, dout_v)
    g2 = dx.reshape(R, M)
    if through_stats:
        x2 = xhat.reshape(R, M)
        mean_g = g2.mean(axis=1)                                # the path through the mean
        mean_gx = np.einsum("rm,rm->r", g2, x2) / M             # the path through the variance
        g2 -= mean_g[:, None]
        # g2 -= x2 * mean_gx needs a temporary of the size of x2: take it in blocks of about 64K elements
        step = max(1, BLOCK_ELEMENTS // M)
        for start in range(0, R, step):
            rows = slice(start, start + step)
            g2[rows] -= x2[rows] * mean_gx[rows, None]
    g2 *= inv_std[:, None]
    return dx


def _param_grads(dout_v, xhat, keep, has_gamma, has_beta):
    """dgamma = sum of dout * xhat and dbeta = sum of dout over every axis of the view not in `keep`."""
    letters = "abcdefghijklmnopqrstuvwxyz"[:xhat.ndim]
    kept = "".join(letters[i] for i in keep)
    summed = tuple(i for i in range(xhat.ndim) if i not in keep)
    dgamma = np.einsum(f"{letters},{letters}->{kept}", dout_v, xhat) if has_gamma else None
    dbeta = dout_v.sum(axis=summed) if has_beta else None
    return dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 1: LayerNorm: the view is x, the set is the trailing normalized_shape dims
# ----------------------------------------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    """Layer normalization, as torch.nn.functional.layer_norm.

    x: (*, *normalized_shape), any number of leading dims ((N, D), (N, T, D), (N, C, H, W) with (C, H, W), ...)
    gamma, beta: arrays of shape normalized_shape, or None (no scale / no shift)
    normalized_shape: int or tuple of ints, the trailing dims of x that one normalisation set spans
    Returns out (shape of x, dtype of x) and the cache layernorm_backward needs.
    """
    x, gamma, beta, shape = _check_layernorm(x, gamma, beta, normalized_shape)
    k = len(shape)
    out, xhat, _, _, inv_std = _fused_forward(x, k, eps, gamma, beta)
    cache = {"xhat": xhat, "inv_std": inv_std, "gamma": gamma, "has_beta": beta is not None,
             "shape": x.shape, "keep": tuple(range(x.ndim - k, x.ndim))}
    return out, cache


def layernorm_backward(dout, cache):
    """dout: shape of the output. Returns dx, dgamma (normalized_shape or None), dbeta (normalized_shape or None)."""
    dout = _check_dout(dout, cache)
    gamma = cache["gamma"]
    dgamma, dbeta = _param_grads(dout, cache["xhat"], cache["keep"], gamma is not None, cache["has_beta"])
    dx = _fused_backward(dout, cache["xhat"], len(cache["keep"]), cache["inv_std"], gamma)
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 2: GroupNorm: the view splits C into (G, C // G), the set is (C // G, *spatial)
# ----------------------------------------------------------------------------------------------------

def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group normalization, as torch.nn.functional.group_norm.

    x: (N, C, *spatial) (spatial may be empty: (N, C) works); num_groups divides C
    gamma, beta: (C,) or None. Group g holds the channels g * C/G ... (g + 1) * C/G - 1.
    Returns out (shape of x, dtype of x) and the cache groupnorm_backward needs.
    """
    x, gamma, beta, G = _check_groupnorm(x, gamma, beta, num_groups)
    view = _group_view(x.shape, G)
    out, xhat, _, _, inv_std = _fused_forward(x.reshape(view), len(view) - 2, eps,
                                              _grouped(gamma, view), _grouped(beta, view))
    cache = {"xhat": xhat, "inv_std": inv_std, "gamma": gamma, "has_beta": beta is not None,
             "shape": x.shape, "num_groups": G}
    return out.reshape(x.shape), cache


def groupnorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None."""
    dout = _check_dout(dout, cache)
    xhat, gamma, shape = cache["xhat"], cache["gamma"], cache["shape"]
    dout_v = dout.reshape(xhat.shape)                           # the same split: a view of dout
    dgamma, dbeta = _param_grads(dout_v, xhat, (1, 2), gamma is not None, cache["has_beta"])
    dx = _fused_backward(dout_v, xhat, xhat.ndim - 2, cache["inv_std"], _grouped(gamma, xhat.shape))
    C = shape[1]
    return (dx.reshape(shape), None if dgamma is None else dgamma.reshape(C),
            None if dbeta is None else dbeta.reshape(C))


# ----------------------------------------------------------------------------------------------------
# Task 3: InstanceNorm: the view is x, the set is the spatial dims
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
    nred = x.ndim - 2
    stats = None if use_input_stats else (running_mean, running_var)
    out, xhat, mean, var, inv_std = _fused_forward(x, nred, eps, _per_channel(gamma, x.ndim),
                                                   _per_channel(beta, x.ndim), stats)
    if use_input_stats and running_mean is not None and N > 0:
        S = math.prod(x.shape[2:])
        running_mean *= 1 - momentum
        running_mean += momentum * mean.reshape(N, C).mean(axis=0)
        running_var *= 1 - momentum
        running_var += (momentum * S / (S - 1)) * var.reshape(N, C).mean(axis=0)   # unbiased, as PyTorch
    cache = {"xhat": xhat, "inv_std": inv_std, "gamma": gamma, "has_beta": beta is not None,
             "shape": x.shape, "use_input_stats": bool(use_input_stats)}
    return out, cache


def instancenorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None."""
    dout = _check_dout(dout, cache)
    xhat, gamma = cache["xhat"], cache["gamma"]
    dgamma, dbeta = _param_grads(dout, xhat, (1,), gamma is not None, cache["has_beta"])
    dx = _fused_backward(dout, xhat, xhat.ndim - 2, cache["inv_std"], _per_channel(gamma, xhat.ndim),
                         cache["use_input_stats"])
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
            np.copyto(target, state[name], casting="unsafe")


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
# Views, and input checks: a wrong shape is a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

def _group_view(shape, G):
    """(N, C, *spatial) -> (N, G, C // G, *spatial): channel c = g * (C // G) + k, contiguous groups."""
    return (shape[0], G, shape[1] // G, *shape[2:])


def _grouped(v, view):
    """(C,) -> (G, C // G, 1, ..., 1), broadcastable against the group view; None stays None."""
    return None if v is None else v.reshape(view[1], view[2], *[1] * (len(view) - 3))


def _per_channel(v, ndim):
    """(C,) -> (C, 1, ..., 1), broadcastable against (N, C, *spatial); None stays None."""
    return None if v is None else v.reshape(v.shape[0], *[1] * (ndim - 2))


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
    if dout.shape != cache["shape"]:
        raise ValueError(f"dout must have the shape of the output {cache['shape']}, got {dout.shape}")
    return dout


# ----------------------------------------------------------------------------------------------------
# The measurements of the module docstring and README.md
# ----------------------------------------------------------------------------------------------------

def _cache_bytes(cache):
    """Bytes of the distinct arrays a cache keeps alive (views counted once, through their base)."""
    seen, total = set(), 0
    for value in cache.values():
        if isinstance(value, np.ndarray):
            owner = value if value.base is None else value.base
            if id(owner) not in seen:
                seen.add(id(owner))
                total += owner.nbytes
    return total


def measure(level2, shape=(32, 64, 32, 32), repeats=5):
    """Level 2 vs level 3 on x of `shape` float32, for GroupNorm(8 groups) with gamma and beta and for
    InstanceNorm without them (InstanceNorm2d's default): cache MiB, peak MiB of the forward and of the
    backward (tracemalloc; the backward's beyond what forward left allocated), best time in ms."""
    import gc
    import sys
    import time
    import tracemalloc

    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape, dtype=np.float32)
    dout = rng.standard_normal(shape, dtype=np.float32)
    gamma, beta = np.ones(shape[1], np.float32), np.zeros(shape[1], np.float32)
    cases = {"GroupNorm, 8 groups, affine": ("groupnorm", (gamma, beta, 8)),
             "InstanceNorm, no affine": ("instancenorm", (None, None))}
    results = {}
    for case, (norm, args) in cases.items():
        for name, module in (("level 2", level2), ("level 3", sys.modules[__name__])):
            forward, backward = getattr(module, f"{norm}_forward"), getattr(module, f"{norm}_backward")
            out, cache = forward(x, *args)                                  # warm-up
            backward(dout, cache)
            del out, cache
            gc.collect()
            tracemalloc.start()
            out, cache = forward(x, *args)
            peak_forward = tracemalloc.get_traced_memory()[1]
            tracemalloc.reset_peak()
            held = tracemalloc.get_traced_memory()[0]                       # out and the cache
            grads = backward(dout, cache)
            peak_backward = tracemalloc.get_traced_memory()[1] - held
            tracemalloc.stop()
            cache_mib = _cache_bytes(cache) / 2**20                         # level 2's includes x, kept alive
            del out, cache, grads
            times_f, times_b = [], []
            for _ in range(repeats):
                t0 = time.perf_counter()
                out, cache = forward(x, *args)
                t1 = time.perf_counter()
                backward(dout, cache)
                times_f.append(t1 - t0)
                times_b.append(time.perf_counter() - t1)
                del out, cache
            results[case, name] = {"cache kept (MiB)": cache_mib, "peak forward (MiB)": peak_forward / 2**20,
                                   "peak backward (MiB)": peak_backward / 2**20,
                                   "forward (ms)": 1e3 * min(times_f), "backward (ms)": 1e3 * min(times_b)}
    return results


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(4, 6, 5, 5)).astype(np.float32)
    gamma, beta = rng.uniform(0.5, 2.0, 6).astype(np.float32), rng.normal(size=6).astype(np.float32)
    out, cache = groupnorm_forward(x, gamma, beta, num_groups=3)
    print(f"GroupNorm output: shape {out.shape}, dtype {out.dtype}; cache keys {sorted(cache)}")
    assert out.dtype == np.float32 and out.shape == x.shape
    dx, dgamma, dbeta = groupnorm_backward(rng.standard_normal(x.shape).astype(np.float32), cache)
    assert dx.dtype == np.float32 and np.allclose(dx.reshape(4, 3, -1).sum(axis=-1), 0, atol=1e-4)
    # a transposed input is read through a view, not copied, and gives the same result
    xt = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).transpose(0, 1, 3, 2)
    assert np.allclose(groupnorm_forward(xt, gamma, beta, 3)[0], out, atol=1e-6)

    from dlfs.components import load_topic as _load

    shape = (32, 64, 32, 32)
    figures = measure(_load(16, level=2), shape)
    print(f"x of shape {shape} float32 ({4 * math.prod(shape) / 2**20:.0f} MiB):")
    for case in dict.fromkeys(c for c, _ in figures):
        print(f"  {case}")
        for label in figures[case, "level 2"]:
            print(f"    {label:<22} level 2: {figures[case, 'level 2'][label]:7.2f}   "
                  f"level 3: {figures[case, 'level 3'][label]:7.2f}")
        assert figures[case, "level 3"]["cache kept (MiB)"] < figures[case, "level 2"]["cache kept (MiB)"]
    print("All checks passed.")
