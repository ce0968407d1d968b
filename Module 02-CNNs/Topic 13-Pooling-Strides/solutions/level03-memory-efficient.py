"""
Level 3: Memory-Efficient Implementation
- Priority: No copy of the input, a compact mask: the cache of max pooling is one byte per window
- Constraints: strided views of x only (no padded copy, no windows array), ufuncs writing with out= into
  preallocated arrays; float32 stays float32
- Target: Same results as level 2 (bit for bit for max pooling), a fraction of its memory

How: instead of building every window (level 2 pads x, then reshapes the window view into a
(N, C, Ho, Wo, kH*kW) copy), loop over the kH * kW offsets inside a window. The cells at offset (i, j) of
all windows form ONE strided slice of x, x[:, :, i - pH :: sH, j - pW :: sW], cut to the windows whose cell
at that offset is real, so padding is never built: a padded cell is simply not visited (for max pooling it
is -inf, for average pooling 0). The running maximum is updated in place by np.maximum, whatever is
larger, and a second pass over the offsets, backwards, writes into a uint8 index the first offset that
holds the maximum. Masked ufuncs (where=) are used only for that index, never for the floats: with a random
mask they take a slow path, while np.maximum and a multiply by a boolean mask run at full speed.
Measured figures: README.md, "Level 3: memory".

Topic 13: pooling and strides, with PyTorch's semantics (F.max_pool2d, F.avg_pool2d, nn.Flatten).
    pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False) -> int
    maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False) -> (out, cache)
    maxpool2d_backward(dout, cache) -> dx
    avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    avgpool2d_backward(dout, cache) -> dx
    global_avg_pool_forward(x) -> (out (N, C), cache);  global_avg_pool_backward(dout, cache) -> dx
    MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten     layers (Layer protocol of Module 01, no parameters)
    receptive_field(layers) -> (size, jump)            for a stack of (kernel_size, stride) layers

Layout NCHW. stride=None means stride = kernel_size (non-overlapping windows), as in PyTorch.
Max pooling: ties go to the FIRST maximum in row-major order of the window (PyTorch's rule), and only that
position receives the gradient; padding is -inf, so it is never the maximum. Average pooling divides by the
window size counted with the padding (count_include_pad=True, PyTorch's default) or without it.
"""

from __future__ import annotations

import math

import numpy as np


# ----------------------------------------------------------------------------------------------------
# Task 1: output size
# ----------------------------------------------------------------------------------------------------

def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Number of window positions along one axis of length `size` (PyTorch's formula).

    floor((size + 2 * padding - kernel_size) / stride) + 1, or with ceil_mode the ceiling, minus one when the
    last window would start in the right padding (it must start inside the input or the left padding).
    """
    k, s, p = _check_1d(size, kernel_size, stride, padding)
    span = size + 2 * p - k                       # how far the window can slide
    if span < 0:
        raise ValueError(f"kernel_size {k} is larger than the padded input ({size} + 2 * {p})")
    if not ceil_mode:
        return span // s + 1
    out = -(-span // s) + 1                       # ceil(span / s) + 1
    if (out - 1) * s >= size + p:                 # that last window would start in the right padding
        out -= 1
    return out


# ----------------------------------------------------------------------------------------------------
# Window offsets: the cells at offset (i, j) of all windows form one strided slice of x
# ----------------------------------------------------------------------------------------------------

def _valid(out_size, in_size, offset, s, p):
    """Along one axis: the output cells whose window has a REAL input cell at `offset`, and those input cells.

    Window o covers input cells o * s - p + offset; keep the o for which that is inside 0 .. in_size - 1.
    Returns (slice of outputs, slice of inputs), or None when every window has padding at this offset.
    """
    lo = max(0, -(-(p - offset) // s))                     # first o with o * s - p + offset >= 0
    hi = min(out_size, (in_size - 1 + p - offset) // s + 1)  # one past the last o with it <= in_size - 1
    if hi <= lo:
        return None
    start = lo * s - p + offset
    return slice(lo, hi), slice(start, start + (hi - lo - 1) * s + 1, s)


def _offsets(x_shape, out_hw, k, s, p):
    """(k_index, output slices, input slices) for every offset (i, j) inside the window, row-major."""
    (H, W), (Ho, Wo), (kh, kw) = x_shape[2:], out_hw, k
    for i in range(kh):
        rows = _valid(Ho, H, i, s[0], p[0])
        for j in range(kw):
            cols = _valid(Wo, W, j, s[1], p[1])
            if rows is not None and cols is not None:
                yield i * kw + j, (slice(None), slice(None), rows[0], cols[0]), \
                    (slice(None), slice(None), rows[1], cols[1])


def _index_dtype(n_cells):
    """The smallest unsigned integer type that holds a window index 0 .. n_cells - 1: uint8 up to 16 x 16."""
    return np.min_scalar_type(max(n_cells - 1, 0))


# ----------------------------------------------------------------------------------------------------
# Task 2: max pooling
# ----------------------------------------------------------------------------------------------------

def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Max over each kH x kW window. x: (N, C, H, W) -> out (N, C, Ho, Wo), same dtype; cache for backward.

    stride=None means kernel_size. The cache keeps, per window, the index (0 .. kH*kW-1, row-major) of the
    maximum that forward chose, the first one when several are equal, in one byte for windows up to 16 x 16.
    """
    x, k, s, p = _check_pool_input(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    Ho, Wo = pool_output_size(H, k[0], s[0], p[0], ceil_mode), pool_output_size(W, k[1], s[1], p[1], ceil_mode)
    offsets = list(_offsets(x.shape, (Ho, Wo), k, s, p))
    out = np.full((N, C, Ho, Wo), -np.inf, dtype=x.dtype)    # padding is never visited: it cannot win
    for _, o, i in offsets:
        np.maximum(out[o], x[i], out=out[o])                 # the running maximum, in place (NaN propagates)
    # Which offset holds the maximum: walk the offsets BACKWARDS and overwrite on equality, so that the last
    # write, the one that stays, is the FIRST maximum in row-major order (PyTorch's tie rule). A window
    # whose cells are all -inf points at its first real cell, as in PyTorch, and so does a NaN window.
    idx = np.empty((N, C, Ho, Wo), dtype=_index_dtype(k[0] * k[1]))
    first_row = np.maximum(0, p[0] - np.arange(Ho) * s[0])
    first_col = np.maximum(0, p[1] - np.arange(Wo) * s[1])
    idx[...] = first_row[:, None] * k[1] + first_col[None, :]
    is_max = np.empty(out.shape, dtype=bool)                 # one scratch mask, reused for every offset
    for kk, o, i in reversed(offsets):
        np.equal(x[i], out[o], out=is_max[o])
        np.copyto(idx[o], idx.dtype.type(kk), where=is_max[o])
    cache = {"idx": idx, "x_shape": x.shape, "k": k, "s": s, "p": p, "dtype": x.dtype}
    return out, cache


def maxpool2d_backward(dout, cache):
    """dx (N, C, H, W): each window's upstream gradient goes to the one position forward chose, and ADDS up
    where windows overlap (stride < kernel_size)."""
    idx = cache["idx"]
    dout = _check_dout(dout, idx.shape)
    dx = np.zeros(cache["x_shape"], dtype=cache["dtype"])
    chosen = np.empty(idx.shape, dtype=bool)                 # scratch, reused for every offset
    routed = np.empty(idx.shape, dtype=cache["dtype"])
    for kk, o, i in _offsets(cache["x_shape"], idx.shape[2:], cache["k"], cache["s"], cache["p"]):
        np.equal(idx[o], kk, out=chosen[o])
        np.multiply(dout[o], chosen[o], out=routed[o])       # dout where this offset won, 0 elsewhere
        np.add(dx[i], routed[o], out=dx[i])                  # one offset: distinct cells, no clash; the
    return dx                                                # offsets add up where windows overlap


# ----------------------------------------------------------------------------------------------------
# Task 3: average pooling
# ----------------------------------------------------------------------------------------------------

def _divisor_1d(size, out, k, s, p, count_include_pad):
    """How many cells each window along one axis averages over."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)          # a ceil-mode window is cut at the end of the padding
    if not count_include_pad:                      # only the real cells
        start, end = np.maximum(start, 0), np.minimum(end, size)
    return end - start


def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over each window. x: (N, C, H, W) -> out (N, C, Ho, Wo), same dtype; cache for backward.

    Padding is zeros. count_include_pad=True (PyTorch's default) divides by the window size counted with the
    padding cells; False divides by the number of real cells. A ceil-mode window that runs past the padding
    counts only up to the end of the padding.
    """
    x, k, s, p = _check_pool_input(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    Ho, Wo = pool_output_size(H, k[0], s[0], p[0], ceil_mode), pool_output_size(W, k[1], s[1], p[1], ceil_mode)
    divisor = np.outer(_divisor_1d(H, Ho, k[0], s[0], p[0], count_include_pad),
                       _divisor_1d(W, Wo, k[1], s[1], p[1], count_include_pad)).astype(x.dtype)   # (Ho, Wo)
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for _, o, i in _offsets(x.shape, (Ho, Wo), k, s, p):   # a padding cell adds 0: it is simply skipped
        np.add(out[o], x[i], out=out[o])
    np.divide(out, divisor, out=out)
    cache = {"divisor": divisor, "x_shape": x.shape, "k": k, "s": s, "p": p, "dtype": x.dtype}
    return out, cache


def avgpool2d_backward(dout, cache):
    """dx (N, C, H, W): every cell of a window receives dout / divisor of that window, summed over windows."""
    N, C = cache["x_shape"][:2]
    dout = _check_dout(dout, (N, C) + cache["divisor"].shape)
    share = np.divide(dout, cache["divisor"], dtype=cache["dtype"])   # each window's gradient, spread evenly
    dx = np.zeros(cache["x_shape"], dtype=cache["dtype"])
    for _, o, i in _offsets(cache["x_shape"], share.shape[2:], cache["k"], cache["s"], cache["p"]):
        np.add(dx[i], share[o], out=dx[i])                            # the padding's share is never written
    return dx


# ----------------------------------------------------------------------------------------------------
# Task 4: global average pooling
# ----------------------------------------------------------------------------------------------------

def global_avg_pool_forward(x):
    """Mean over the whole feature map of each channel: x (N, C, H, W) -> out (N, C); cache for backward."""
    x = _check_image(x)
    if x.shape[2] * x.shape[3] == 0:
        raise ValueError(f"global average pooling needs H * W > 0, got x of shape {x.shape}")
    return x.mean(axis=(2, 3)), {"x_shape": x.shape, "dtype": x.dtype}


def global_avg_pool_backward(dout, cache):
    """dout (N, C) -> dx (N, C, H, W) = dout / (H * W) at every position."""
    N, C, H, W = cache["x_shape"]
    dout = _check_dout(dout, (N, C))
    dx = np.empty(cache["x_shape"], dtype=cache["dtype"])
    dx[...] = (dout / (H * W))[:, :, None, None]
    return dx


# ----------------------------------------------------------------------------------------------------
# Task 5: the layers
# ----------------------------------------------------------------------------------------------------

class _Layer:
    """What every parameter-free layer shares: no parameters, a train/eval flag, a cache between the passes."""

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
    """Max pooling layer, as torch.nn.MaxPool2d (stride=None means kernel_size)."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        super().__init__()
        _pool_args(kernel_size, stride, padding)   # a bad configuration fails here, not at the first forward
        self.kernel_size, self.stride, self.padding, self.ceil_mode = kernel_size, stride, padding, ceil_mode

    def forward(self, x):
        out, self._cache = maxpool2d_forward(x, self.kernel_size, self.stride, self.padding, self.ceil_mode)
        return out

    def backward(self, dout):
        return maxpool2d_backward(dout, self._cached())

    def __repr__(self):
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


class AvgPool2d(_Layer):
    """Average pooling layer, as torch.nn.AvgPool2d (count_include_pad=True by default)."""

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

    def __repr__(self):
        return f"AvgPool2d(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


class GlobalAvgPool2d(_Layer):
    """(N, C, H, W) -> (N, C): the mean of each channel's map (nn.AdaptiveAvgPool2d(1) followed by a flatten)."""

    def forward(self, x):
        out, self._cache = global_avg_pool_forward(x)
        return out

    def backward(self, dout):
        return global_avg_pool_backward(dout, self._cached())

    def __repr__(self):
        return "GlobalAvgPool2d()"


class Flatten(_Layer):
    """Merge dims start_dim..end_dim into one, as torch.nn.Flatten: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        x = np.asarray(x)
        start, end = _flatten_dims(x.ndim, self.start_dim, self.end_dim)
        merged = math.prod(x.shape[start:end + 1])   # computed, not -1: reshape(0, -1) fails on an empty batch
        out = x.reshape(x.shape[:start] + (merged,) + x.shape[end + 1:])
        self._cache = (x.shape, out.shape)
        return out

    def backward(self, dout):
        x_shape, out_shape = self._cached()
        return _check_dout(dout, out_shape).reshape(x_shape)

    def __repr__(self):
        return f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim})"


# ----------------------------------------------------------------------------------------------------
# Task 6: receptive field
# ----------------------------------------------------------------------------------------------------

def receptive_field(layers):
    """Receptive field of a stack of layers, each (kernel_size, stride) along one axis (conv or pooling).

    Returns (size, jump): one output cell sees `size` consecutive input cells, and neighbouring output cells
    are `jump` input cells apart. Each layer widens the field by (kernel_size - 1) * jump, then multiplies the
    jump by its stride.
    """
    size, jump = 1, 1
    for layer in layers:
        k, s = _check_layer_spec(layer)
        size += (k - 1) * jump
        jump *= s
    return size, jump


# ----------------------------------------------------------------------------------------------------
# Input checks: a wrong shape or argument is a clear ValueError, never a silent broadcast
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
        raise ValueError(f"padding {p} must be at most half of kernel_size {k} (as in PyTorch): "
                         f"a window must always hold a real cell")
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


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8))
    out, cache = maxpool2d_forward(x, 2)
    print(f"max pool 2x2: {x.shape} -> {out.shape}")
    assert out.shape == (2, 3, 4, 4), "Shape mismatch!"
    assert np.array_equal(out, x.reshape(2, 3, 4, 2, 4, 2).max(axis=(3, 5)))
    dx = maxpool2d_backward(np.ones_like(out), cache)
    assert dx.sum() == out.size and set(np.unique(dx)) <= {0.0, 1.0}, "one winner per window"

    # the tie rule: the first maximum in row-major order gets the whole gradient
    ties = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 2.0], [1.0, 3.0, 3.0]]]])
    out, cache = maxpool2d_forward(ties, 2, stride=1)
    dx = maxpool2d_backward(np.ones_like(out), cache)
    print("gradient of a 2x2/stride-1 max pool with ties:\n", dx[0, 0])
    assert np.array_equal(dx[0, 0], [[0, 2, 0], [1, 0, 0], [0, 1, 0]])

    ones = np.ones((1, 1, 3, 3))
    assert np.allclose(avgpool2d_forward(ones, 2, 2, padding=1)[0], [[[[0.25, 0.5], [0.5, 1.0]]]])
    assert np.allclose(avgpool2d_forward(ones, 2, 2, padding=1, count_include_pad=False)[0], 1.0)
    assert receptive_field([(3, 1), (2, 2)]) == (4, 2) and receptive_field([(3, 2)]) == (3, 2)
    assert Flatten().forward(np.zeros((0, 3, 4, 4))).shape == (0, 48)
    print("All checks passed.")
