"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- Max pooling is F.max_pool2d(return_indices=True) and its backward PyTorch's own kernel
  (aten::max_pool2d_with_indices_backward); average pooling is F.avg_pool2d and aten::avg_pool2d_backward;
  global average pooling is F.adaptive_avg_pool2d(x, 1); Flatten is torch.flatten
- receptive_field is measured, not derived: a stack of 1-D convolutions with all-ones kernels is run on
  a ramp of ones, and the gradient of one output cell shows which input cells it sees
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz

The tie rule checked here is PyTorch's: inside a window, max_pool2d keeps the FIRST maximum in row-major
order (its CPU kernel replaces the running maximum only when a value is strictly greater, or NaN), and the
backward pass sends the window's gradient to that one index.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.reference import one_torch_thread, write_golden


def _tensor(x):
    return torch.from_numpy(np.ascontiguousarray(x))


# ----------------------------------------------------------------------------------------------------
# Task 1: output size
# ----------------------------------------------------------------------------------------------------

def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Number of window positions along one axis, read off the output of F.max_pool1d on a dummy input."""
    k, s, p = _check_1d(size, kernel_size, stride, padding)
    if size + 2 * p - k < 0:
        raise ValueError(f"kernel_size {k} is larger than the padded input ({size} + 2 * {p})")
    with one_torch_thread():
        out = F.max_pool1d(torch.zeros(1, 1, size), k, s, p, ceil_mode=bool(ceil_mode))
    return int(out.shape[-1])


# ----------------------------------------------------------------------------------------------------
# Task 2: max pooling
# ----------------------------------------------------------------------------------------------------

def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """F.max_pool2d with return_indices=True. x: (N, C, H, W) -> out (N, C, Ho, Wo); cache holds the indices."""
    x, k, s, p = _check_pool_input(x, kernel_size, stride, padding)
    Ho = pool_output_size(x.shape[2], k[0], s[0], p[0], ceil_mode)
    Wo = pool_output_size(x.shape[3], k[1], s[1], p[1], ceil_mode)
    xt = _tensor(x)
    with one_torch_thread():
        out, indices = F.max_pool2d(xt, k, s, p, ceil_mode=bool(ceil_mode), return_indices=True)
    cache = {"x": xt, "indices": indices, "k": k, "s": s, "p": p, "ceil_mode": bool(ceil_mode),
             "out_shape": (x.shape[0], x.shape[1], Ho, Wo)}
    return out.numpy(), cache


def maxpool2d_backward(dout, cache):
    """PyTorch's max-pool backward kernel: dout goes to the stored index of each window, summed over windows."""
    dout = _check_dout(dout, cache["out_shape"])
    with one_torch_thread():
        dx = torch.ops.aten.max_pool2d_with_indices_backward(
            _tensor(dout).to(cache["x"].dtype), cache["x"], list(cache["k"]), list(cache["s"]), list(cache["p"]),
            [1, 1], cache["ceil_mode"], cache["indices"])
    return dx.numpy()


# ----------------------------------------------------------------------------------------------------
# Task 3: average pooling
# ----------------------------------------------------------------------------------------------------

def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """F.avg_pool2d. x: (N, C, H, W) -> out (N, C, Ho, Wo)."""
    x, k, s, p = _check_pool_input(x, kernel_size, stride, padding)
    Ho = pool_output_size(x.shape[2], k[0], s[0], p[0], ceil_mode)
    Wo = pool_output_size(x.shape[3], k[1], s[1], p[1], ceil_mode)
    xt = _tensor(x)
    with one_torch_thread():
        out = F.avg_pool2d(xt, k, s, p, ceil_mode=bool(ceil_mode), count_include_pad=bool(count_include_pad))
    cache = {"x": xt, "k": k, "s": s, "p": p, "ceil_mode": bool(ceil_mode),
             "count_include_pad": bool(count_include_pad), "out_shape": (x.shape[0], x.shape[1], Ho, Wo)}
    return out.numpy(), cache


def avgpool2d_backward(dout, cache):
    """PyTorch's avg-pool backward kernel (aten::avg_pool2d_backward)."""
    dout = _check_dout(dout, cache["out_shape"])
    with one_torch_thread():
        dx = torch.ops.aten.avg_pool2d_backward(
            _tensor(dout).to(cache["x"].dtype), cache["x"], list(cache["k"]), list(cache["s"]), list(cache["p"]),
            cache["ceil_mode"], cache["count_include_pad"], None)
    return dx.numpy()


# ----------------------------------------------------------------------------------------------------
# Task 4: global average pooling
# ----------------------------------------------------------------------------------------------------

def global_avg_pool_forward(x):
    """F.adaptive_avg_pool2d(x, 1) flattened: (N, C, H, W) -> (N, C)."""
    x = _check_image(x)
    if x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"global average pooling needs H * W > 0, got x of shape {x.shape}")
    xt = _tensor(x).requires_grad_(True)
    with one_torch_thread():
        out = F.adaptive_avg_pool2d(xt, 1).flatten(1)
    return out.detach().numpy(), {"x": xt, "out": out}


def global_avg_pool_backward(dout, cache):
    """Autograd through adaptive_avg_pool2d: dout (N, C) -> dx (N, C, H, W)."""
    out = cache["out"]
    dout = _check_dout(dout, tuple(out.shape))
    with one_torch_thread():
        (dx,) = torch.autograd.grad(out, cache["x"], _tensor(dout).to(out.dtype), retain_graph=True)
    return dx.numpy()


# ----------------------------------------------------------------------------------------------------
# Task 5: the layers
# ----------------------------------------------------------------------------------------------------

class _Layer:
    def __init__(self):
        self.training = True
        self._cache = None

    def parameters(self):
        return []

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def _cached(self):
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return self._cache


class MaxPool2d(_Layer):
    """torch.nn.MaxPool2d's semantics through maxpool2d_forward/backward above."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        _pool_args(kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding, self.ceil_mode = kernel_size, stride, padding, ceil_mode

    def forward(self, x):
        out, self._cache = maxpool2d_forward(x, self.kernel_size, self.stride, self.padding, self.ceil_mode)
        return out

    def backward(self, dout):
        return maxpool2d_backward(dout, self._cached())


class AvgPool2d(_Layer):
    """torch.nn.AvgPool2d's semantics through avgpool2d_forward/backward above."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        _pool_args(kernel_size, stride, padding)
        self.kernel_size, self.stride, self.padding, self.ceil_mode = kernel_size, stride, padding, ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, x):
        out, self._cache = avgpool2d_forward(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                             self.count_include_pad)
        return out

    def backward(self, dout):
        return avgpool2d_backward(dout, self._cached())


class GlobalAvgPool2d(_Layer):
    """(N, C, H, W) -> (N, C), as nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())."""

    def forward(self, x):
        out, self._cache = global_avg_pool_forward(x)
        return out

    def backward(self, dout):
        return global_avg_pool_backward(dout, self._cached())


class Flatten(_Layer):
    """torch.flatten(x, start_dim, end_dim); backward reshapes dout back to the input's shape."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = np.asarray(x)
        _flatten_dims(x.ndim, self.start_dim, self.end_dim)
        out = torch.flatten(_tensor(x), self.start_dim, self.end_dim).numpy()
        self._cache = (x.shape, out.shape)
        return out

    def backward(self, dout):
        x_shape, out_shape = self._cached()
        return _tensor(_check_dout(dout, out_shape)).reshape(x_shape).numpy()


# ----------------------------------------------------------------------------------------------------
# Task 6: receptive field, measured with autograd
# ----------------------------------------------------------------------------------------------------

def receptive_field(layers):
    """(size, jump) of a stack of (kernel_size, stride) layers, found from the gradients of two output cells."""
    specs = [_check_layer_spec(layer) for layer in layers]
    bound_size = 1 + sum((k - 1) * math.prod(s for _, s in specs[:i]) for i, (k, _) in enumerate(specs))
    bound_jump = math.prod(s for _, s in specs)
    length = bound_size + 2 * bound_jump           # long enough for two neighbouring output cells
    x = torch.ones(1, 1, length, dtype=torch.float64, requires_grad=True)
    with one_torch_thread():
        y = x
        for k, s in specs:
            y = F.conv1d(y, torch.ones(1, 1, k, dtype=torch.float64), stride=s)
        seen = []
        for cell in (0, 1):
            (g,) = torch.autograd.grad(y[0, 0, cell], x, retain_graph=True)
            seen.append(torch.nonzero(g[0, 0]).flatten())
    size = int(seen[0][-1] - seen[0][0]) + 1
    jump = int(seen[1][0] - seen[0][0])
    return size, jump


# ----------------------------------------------------------------------------------------------------
# Input checks (the same rules and messages as the NumPy levels)
# ----------------------------------------------------------------------------------------------------

def _int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int (or a pair of ints), got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _pair(value, name, minimum):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return _int(value[0], name, minimum), _int(value[1], name, minimum)
    v = _int(value, name, minimum)
    return v, v


def _pool_args(kernel_size, stride, padding):
    k = _pair(kernel_size, "kernel_size", 1)
    s = k if stride is None else _pair(stride, "stride", 1)
    p = _pair(padding, "padding", 0)
    if p[0] > k[0] // 2 or p[1] > k[1] // 2:
        raise ValueError(f"padding {p} must be at most half of kernel_size {k} (as in PyTorch)")
    return k, s, p


def _check_1d(size, kernel_size, stride, padding):
    _int(size, "size", 0)
    k = _int(kernel_size, "kernel_size", 1)
    s = k if stride is None else _int(stride, "stride", 1)
    p = _int(padding, "padding", 0)
    if p > k // 2:
        raise ValueError(f"padding {p} must be at most half of kernel_size {k} (as in PyTorch)")
    return k, s, p


def _check_image(x):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"pooling expects x of shape (N, C, H, W), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(f"pooling expects a floating-point x, got dtype {x.dtype}")
    return x


def _check_pool_input(x, kernel_size, stride, padding):
    x = _check_image(x)
    k, s, p = _pool_args(kernel_size, stride, padding)
    return x, k, s, p


def _check_dout(dout, expected):
    dout = np.asarray(dout)
    if dout.shape != tuple(expected):
        raise ValueError(f"dout must have the shape of the output {tuple(expected)}, got {dout.shape}")
    return dout


def _flatten_dims(ndim, start_dim, end_dim):
    start = start_dim + ndim if start_dim < 0 else start_dim
    end = end_dim + ndim if end_dim < 0 else end_dim
    if not (0 <= start < ndim and 0 <= end < ndim) or start > end:
        raise ValueError(f"cannot flatten dims {start_dim}..{end_dim} of an input with {ndim} dims")
    return start, end


def _check_layer_spec(layer):
    if not isinstance(layer, (tuple, list)) or len(layer) != 2:
        raise ValueError(f"each layer must be a pair (kernel_size, stride), got {layer!r}")
    return _int(layer[0], "kernel_size", 1), _int(layer[1], "stride", 1)


# ----------------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------------

# (kernel_size, stride, padding, ceil_mode): every argument at a non-default value somewhere
POOL_CASES = [
    (2, None, 0, False),             # the classic 2x2, stride defaults to the kernel
    (3, 2, 1, False),                # overlapping windows with padding (ResNet's stem pool)
    (3, 1, 0, False),                # heavily overlapping: each cell in up to 9 windows
    ((2, 3), (2, 1), (1, 0), False), # rectangular everything
    (2, 2, 0, True),                 # ceil mode: a partial last window
    (3, 2, 1, True),                 # ceil mode with padding
]


def _grid(rng, shape):
    """Random values in [-2, 2] on a grid of 1/8 (varied enough for every test, and the files stay small)."""
    return rng.integers(-16, 17, size=shape).astype(np.float64) / 8


def make_golden():
    rng = np.random.default_rng(1313)
    golden = {"maxpool": {}, "avgpool": {}}
    for n, (k, s, p, ceil) in enumerate(POOL_CASES):
        # values on a coarse grid, so that many windows hold equal maxima: the golden dx pins the tie rule
        x = rng.integers(-4, 5, size=(2, 2, 7, 6)).astype(np.float64) / 2
        out, cache = maxpool2d_forward(x, k, s, p, ceil)
        dout = _grid(rng, out.shape)
        golden["maxpool"].update({
            f"case{n}_x": x, f"case{n}_kernel": np.broadcast_to(k, 2),
            f"case{n}_stride": np.broadcast_to(k if s is None else s, 2), f"case{n}_stride_is_none": np.array(s is None),
            f"case{n}_padding": np.broadcast_to(p, 2), f"case{n}_ceil": np.array(ceil),
            f"case{n}_out": out, f"case{n}_dout": dout, f"case{n}_dx": maxpool2d_backward(dout, cache)})
        xa = _grid(rng, (2, 2, 7, 6))
        golden["avgpool"][f"case{n}_x"] = xa
        for include in (True, False):
            out, cache = avgpool2d_forward(xa, k, s, p, ceil, count_include_pad=include)
            dout = _grid(rng, out.shape)
            tag = f"case{n}_{'incl' if include else 'excl'}"
            golden["avgpool"].update({f"{tag}_out": out, f"{tag}_dout": dout, f"{tag}_dx": avgpool2d_backward(dout, cache)})
    x = rng.standard_normal((3, 4, 5, 6))
    out, cache = global_avg_pool_forward(x)
    dout = rng.standard_normal(out.shape)
    golden["global_avg_pool"] = {"x": x, "out": out, "dout": dout, "dx": global_avg_pool_backward(dout, cache)}
    return golden


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 13 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)

    ties = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 2.0], [1.0, 3.0, 3.0]]]])
    out, cache = maxpool2d_forward(ties, 2, stride=1)
    print("PyTorch's indices for the tied windows:", cache["indices"].flatten().tolist(), "(first maximum)")
    dx = maxpool2d_backward(np.ones_like(out), cache)
    print("gradient:\n", dx[0, 0])
    assert np.array_equal(dx[0, 0], [[0, 2, 0], [1, 0, 0], [0, 1, 0]]), "PyTorch's tie rule changed?"
    assert receptive_field([(3, 1), (2, 2)]) == (4, 2) and receptive_field([(3, 2), (3, 2)]) == (7, 4)
    assert pool_output_size(5, 2, 2, 1, ceil_mode=True) == 3
    print("All checks passed.")
