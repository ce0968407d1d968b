"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- Forward passes are torch.nn.functional.layer_norm / group_norm / instance_norm; every backward is autograd
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz

The golden files for the layers come from torch.nn.LayerNorm, nn.GroupNorm and nn.InstanceNorm2d themselves
(with track_running_stats=True through train and eval steps), so the conventions are PyTorch's own.
Where this topic defines what PyTorch leaves undefined or rejects, this file does it by hand, like the other
levels: an empty batch (N = 0) gives an empty output, zero dgamma and dbeta and unchanged running statistics
(torch would write NaN into the running statistics, or fail for instance_norm with weights).
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

Parameter = load_topic(3).Parameter  # .data and .grad; Topic 03's optimizers update it in place


def _leaf(a):
    """A NumPy array (or None) as a torch leaf that requires grad (copied: torch refuses negative strides)."""
    return None if a is None else torch.tensor(np.ascontiguousarray(a), requires_grad=True)


def _run(fn, x, gamma, beta, **info):
    """out = fn(x_t, gamma_t, beta_t) in torch; the cache holds the autograd graph."""
    leaves = (_leaf(x), _leaf(gamma), _leaf(beta))
    with one_torch_thread():
        out = fn(*leaves)
    cache = {"out": out, "leaves": leaves, "shape": x.shape, **info}
    return out.detach().numpy().copy(), cache


def _autograd_backward(dout, cache):
    """(dx, dgamma, dbeta) by torch.autograd.grad through the cached graph (None where there is no parameter)."""
    dout = np.asarray(dout)
    if dout.shape != cache["shape"]:
        raise ValueError(f"dout must have the shape of the output {cache['shape']}, got {dout.shape}")
    leaves = [t for t in cache["leaves"] if t is not None]
    dout_t = torch.tensor(np.ascontiguousarray(dout), dtype=cache["out"].dtype)
    with one_torch_thread():
        grads = torch.autograd.grad(cache["out"], leaves, dout_t, retain_graph=True, allow_unused=True)
    grads = iter(grads)
    result = []
    for t in cache["leaves"]:
        if t is None:
            result.append(None)
            continue
        g = next(grads)
        result.append(torch.zeros_like(t).numpy() if g is None else g.numpy().copy())
    return tuple(result)


# ----------------------------------------------------------------------------------------------------
# Task 1: LayerNorm
# ----------------------------------------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    """Layer normalization by F.layer_norm (same contract as the NumPy levels)."""
    x, gamma, beta, shape = _check_layernorm(x, gamma, beta, normalized_shape)
    return _run(lambda xt, gt, bt: F.layer_norm(xt, shape, gt, bt, eps), x, gamma, beta)


def layernorm_backward(dout, cache):
    """dx, dgamma (normalized_shape or None), dbeta (normalized_shape or None) by autograd."""
    return _autograd_backward(dout, cache)


# ----------------------------------------------------------------------------------------------------
# Task 2: GroupNorm
# ----------------------------------------------------------------------------------------------------

def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group normalization by F.group_norm (same contract as the NumPy levels)."""
    x, gamma, beta, G = _check_groupnorm(x, gamma, beta, num_groups)
    return _run(lambda xt, gt, bt: F.group_norm(xt, G, gt, bt, eps), x, gamma, beta)


def groupnorm_backward(dout, cache):
    """dx (shape of x), dgamma (C,) or None, dbeta (C,) or None by autograd."""
    return _autograd_backward(dout, cache)


# ----------------------------------------------------------------------------------------------------
# Task 3: InstanceNorm
# ----------------------------------------------------------------------------------------------------

def instancenorm_forward(x, gamma, beta, eps=1e-5, running_mean=None, running_var=None, momentum=0.1,
                         use_input_stats=True):
    """Instance normalization by F.instance_norm (same contract as the NumPy levels).

    torch updates its own copies of the running statistics; they are written back IN PLACE into the
    caller's arrays.
    """
    x, gamma, beta = _check_instancenorm(x, gamma, beta, running_mean, running_var, use_input_stats)
    if x.shape[0] == 0:  # defined here, not in torch: nothing to normalise, nothing to average
        return _run(lambda xt, gt, bt: xt.clone(), x, gamma, beta)   # dgamma, dbeta: zeros
    stats = None
    if running_mean is not None:
        dtype = torch.from_numpy(np.empty(0, dtype=x.dtype)).dtype
        stats = torch.tensor(running_mean, dtype=dtype), torch.tensor(running_var, dtype=dtype)
    rm, rv = stats if stats is not None else (None, None)
    out, cache = _run(lambda xt, gt, bt: F.instance_norm(xt, rm, rv, gt, bt, use_input_stats, momentum, eps),
                      x, gamma, beta)
    if stats is not None and use_input_stats:
        running_mean[...] = rm.numpy()
        running_var[...] = rv.numpy()
    return out, cache


def instancenorm_backward(dout, cache):
    """dx (shape of x), dgamma (C,) or None, dbeta (C,) or None by autograd."""
    return _autograd_backward(dout, cache)


# ----------------------------------------------------------------------------------------------------
# Tasks 4-6: the layers (the same NumPy-facing classes as the other levels, on the torch functions above)
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
    """torch.nn.LayerNorm: normalise over the trailing normalized_shape dims, any leading dims."""

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
    """torch.nn.InstanceNorm2d on (N, C, H, W); affine=False, track_running_stats=False by default."""

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
# Input checks: the same errors as the NumPy levels, raised before torch sees the arrays
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


# ----------------------------------------------------------------------------------------------------
# Golden files for the value tests
# ----------------------------------------------------------------------------------------------------

def _case(prefix, x, gamma, beta, dout, forward, backward, *args, **kwargs):
    """{prefix_x, prefix_gamma, ..., prefix_out, prefix_dx, ...} for one forward/backward (float64)."""
    out, cache = forward(x, gamma, beta, *args, **kwargs)
    dx, dgamma, dbeta = backward(dout, cache)
    arrays = {"x": x, "dout": dout, "out": out, "dx": dx}
    for name, value in (("gamma", gamma), ("beta", beta), ("dgamma", dgamma), ("dbeta", dbeta)):
        if value is not None:
            arrays[name] = value
    return {f"{prefix}_{k}": v for k, v in arrays.items()}


def make_golden():
    """{file name: {array name: array}} for tests/golden/, all float64 from fixed NumPy seeds."""
    rng = np.random.default_rng(1616)

    def data(*shape, small_set=None):
        x = rng.normal(2.0, 3.0, size=shape)
        if small_set is not None:   # one set of variance ~1e-4, where eps visibly matters
            x[small_set] = 0.5 + 0.01 * rng.standard_normal(x[small_set].shape)
        return x

    layernorm = {}
    for prefix, shape, ns in (("nd", (3, 5), (5,)), ("ntd", (2, 3, 4), (4,)), ("nchw", (2, 3, 2, 2), (3, 2, 2))):
        x = data(*shape, small_set=(0,))
        gamma, beta = rng.uniform(0.5, 2.0, ns), rng.normal(size=ns)
        layernorm.update(_case(prefix, x, gamma, beta, rng.standard_normal(shape),
                               layernorm_forward, layernorm_backward, ns))
    x = data(3, 5, small_set=(1,))
    layernorm.update(_case("eps", x, rng.uniform(0.5, 2.0, 5), rng.normal(size=5), rng.standard_normal((3, 5)),
                           layernorm_forward, layernorm_backward, 5, eps=1e-2))
    x = data(2, 3, 4)
    layernorm.update(_case("noaffine", x, None, None, rng.standard_normal((2, 3, 4)),
                           layernorm_forward, layernorm_backward, (3, 4)))

    groupnorm = {}
    x = data(2, 6, 2, 3, small_set=(0, slice(2, 4)))   # sample 0, group (2, 3) of 3 groups: tiny variance
    gamma, beta, dout = rng.uniform(0.5, 2.0, 6), rng.normal(size=6), rng.standard_normal((2, 6, 2, 3))
    groupnorm.update({"x": x, "gamma": gamma, "beta": beta, "dout": dout})   # shared by the cases below
    for G in (1, 2, 3, 6):
        case = _case(f"g{G}", x, gamma, beta, dout, groupnorm_forward, groupnorm_backward, G)
        groupnorm.update({k: v for k, v in case.items() if k.split("_", 1)[1] in ("out", "dx", "dgamma", "dbeta")})
    for prefix, g, b, G, eps in (("noaffine", None, None, 3, 1e-5), ("eps", gamma, beta, 2, 0.05)):
        case = _case(prefix, x, g, b, dout, groupnorm_forward, groupnorm_backward, G, eps=eps)
        groupnorm.update({k: v for k, v in case.items() if k.split("_", 1)[1] in ("out", "dx", "dgamma", "dbeta")})
    groupnorm.update(_case("nc", data(3, 4), rng.uniform(0.5, 2.0, 4), rng.normal(size=4), rng.standard_normal((3, 4)),
                           groupnorm_forward, groupnorm_backward, 2))
    groupnorm.update(_case("ncl", data(2, 4, 5), rng.uniform(0.5, 2.0, 4), rng.normal(size=4),
                           rng.standard_normal((2, 4, 5)), groupnorm_forward, groupnorm_backward, 2))

    instancenorm = {}
    x = data(2, 3, 3, 4, small_set=(1, 2))
    gamma, beta, dout = rng.uniform(0.5, 2.0, 3), rng.normal(size=3), rng.standard_normal((2, 3, 3, 4))
    instancenorm.update(_case("affine", x, gamma, beta, dout, instancenorm_forward, instancenorm_backward))
    instancenorm.update(_case("noaffine", x, None, None, dout, instancenorm_forward, instancenorm_backward))
    rm0, rv0 = rng.normal(size=3), rng.uniform(0.5, 2.0, 3)
    rm, rv = rm0.copy(), rv0.copy()
    instancenorm_forward(x, gamma, beta, running_mean=rm, running_var=rv, momentum=0.2)
    instancenorm.update({"running_mean0": rm0, "running_var0": rv0, "running_mean1": rm, "running_var1": rv})
    instancenorm.update(_case("eval", x, gamma, beta, dout, instancenorm_forward, instancenorm_backward,
                              running_mean=rm0.copy(), running_var=rv0.copy(), use_input_stats=False))
    instancenorm.update(_case("ncl", data(2, 3, 5), rng.uniform(0.5, 2.0, 3), rng.normal(size=3),
                              rng.standard_normal((2, 3, 5)), instancenorm_forward, instancenorm_backward, eps=1e-3))

    # the layers of torch.nn, with non-default parameters, through train and eval
    layers = {}
    torch_ln = torch.nn.LayerNorm(6, dtype=torch.float64)
    tokens, dtokens = data(2, 3, 6), rng.standard_normal((2, 3, 6))
    g_ln, b_ln = rng.uniform(0.5, 2.0, 6), rng.normal(size=6)
    torch_gn = torch.nn.GroupNorm(2, 4, dtype=torch.float64)
    images, dimages = data(2, 4, 3, 3), rng.standard_normal((2, 4, 3, 3))
    g_gn, b_gn = rng.uniform(0.5, 2.0, 4), rng.normal(size=4)
    for module, g, b, xin, dxin, name in ((torch_ln, g_ln, b_ln, tokens, dtokens, "layernorm"),
                                          (torch_gn, g_gn, b_gn, images, dimages, "groupnorm")):
        with torch.no_grad():
            module.weight.copy_(torch.from_numpy(g))
            module.bias.copy_(torch.from_numpy(b))
        xt = torch.from_numpy(xin).requires_grad_(True)
        with one_torch_thread():
            out = module(xt)
            out.backward(torch.from_numpy(dxin))
        layers.update({f"{name}_gamma": g, f"{name}_beta": b, f"{name}_x": xin, f"{name}_dout": dxin,
                       f"{name}_out": out.detach().numpy(), f"{name}_dx": xt.grad.numpy(),
                       f"{name}_dgamma": module.weight.grad.numpy(), f"{name}_dbeta": module.bias.grad.numpy()})

    torch_in = torch.nn.InstanceNorm2d(3, momentum=0.2, affine=True, track_running_stats=True, dtype=torch.float64)
    g_in, b_in = rng.uniform(0.5, 2.0, 3), rng.normal(size=3)
    with torch.no_grad():
        torch_in.weight.copy_(torch.from_numpy(g_in))
        torch_in.bias.copy_(torch.from_numpy(b_in))
    batches = data(3, 2, 3, 3, 3)                 # three training steps of (2, 3, 3, 3)
    x_eval, dout_eval = data(2, 3, 3, 3), rng.standard_normal((2, 3, 3, 3))
    means, variances = [], []
    torch_in.train()
    with torch.no_grad(), one_torch_thread():
        for batch in batches:
            torch_in(torch.from_numpy(batch))
            means.append(torch_in.running_mean.numpy().copy())
            variances.append(torch_in.running_var.numpy().copy())
    torch_in.eval()
    xe = torch.from_numpy(x_eval).requires_grad_(True)
    with one_torch_thread():
        out_eval = torch_in(xe)
        out_eval.backward(torch.from_numpy(dout_eval))
    layers.update({"instancenorm_gamma": g_in, "instancenorm_beta": b_in, "instancenorm_batches": batches,
                   "instancenorm_running_means": np.stack(means), "instancenorm_running_vars": np.stack(variances),
                   "instancenorm_x_eval": x_eval, "instancenorm_out_eval": out_eval.detach().numpy(),
                   "instancenorm_dout_eval": dout_eval, "instancenorm_dx_eval": xe.grad.numpy(),
                   "instancenorm_dgamma_eval": torch_in.weight.grad.numpy(),
                   "instancenorm_dbeta_eval": torch_in.bias.grad.numpy()})
    return {"layernorm": layernorm, "groupnorm": groupnorm, "instancenorm": instancenorm, "layers": layers}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 16 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)

    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(4, 6, 5, 5))
    gamma, beta = rng.uniform(0.5, 2.0, 6), rng.normal(size=6)
    out, cache = groupnorm_forward(x, gamma, beta, 3)
    print(f"Output shape: {out.shape}")
    assert out.shape == (4, 6, 5, 5), "Shape mismatch!"
    dx, dgamma, dbeta = groupnorm_backward(rng.standard_normal(out.shape), cache)
    assert np.allclose(dx.reshape(4, 3, -1).sum(axis=-1), 0, atol=1e-10)
    rm, rv = np.zeros(6), np.ones(6)
    instancenorm_forward(x, None, None, running_mean=rm, running_var=rv)
    assert np.allclose(rm, 0.1 * x.mean(axis=(2, 3)).mean(axis=0))
    assert np.allclose(rv, 0.9 + 0.1 * x.var(axis=(2, 3), ddof=1).mean(axis=0))
    print("All checks passed.")
