"""
Level 1: Naive Implementation
- Priority: Correctness over speed: one Python loop per index, every window visited cell by cell
- Constraints: basic NumPy indexing only; padding is never built, a padded cell is simply skipped
- Target: Pass functional tests only (slow: a few microseconds per window cell)

Topic 13: pooling and strides, with PyTorch's semantics (F.max_pool2d, F.avg_pool2d, nn.Flatten).
    pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False) -> int
    maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False) -> (out, cache)
    maxpool2d_backward(dout, cache) -> dx
    avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True)
    avgpool2d_backward(dout, cache) -> dx
    global_avg_pool_forward(x) -> (out (N, C), cache);  global_avg_pool_backward(dout, cache) -> dx
    MaxPool2d, AvgPool2d, GlobalAvgPool2d, Flatten     layers (Layer protocol of Module 01, no parameters)
    receptive_field(layers) -> (size, jump)            for a stack of (kernel_size, stride) layers

Window (oh, ow) covers the input rows oh * sH - pH ... oh * sH - pH + kH - 1 (and the same for columns);
rows outside 0 .. H-1 are padding. stride=None means stride = kernel_size.
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
    span = size + 2 * p - k
    if span < 0:
        raise ValueError(f"kernel_size {k} is larger than the padded input ({size} + 2 * {p})")
    if not ceil_mode:
        return span // s + 1
    out = math.ceil(span / s) + 1
    if (out - 1) * s >= size + p:        # the last window would start in the right padding: drop it
        out -= 1
    return out


# ----------------------------------------------------------------------------------------------------
# Task 2: max pooling
# ----------------------------------------------------------------------------------------------------

def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Max over each kH x kW window. x: (N, C, H, W) -> out (N, C, Ho, Wo), same dtype; cache for backward.

    The cache records, for every window, the (row, column) in x of the maximum forward chose.
    """
    x, (kh, kw), (sh, sw), (ph, pw) = _check_pool_input(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    Ho, Wo = pool_output_size(H, kh, sh, ph, ceil_mode), pool_output_size(W, kw, sw, pw, ceil_mode)
    out = np.empty((N, C, Ho, Wo), dtype=x.dtype)
    argmax = np.zeros((N, C, Ho, Wo, 2), dtype=np.int64)      # the mask, as one (row, col) per window
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                for ow in range(Wo):
                    best, where = -np.inf, None
                    for i in range(kh):                      # row-major order inside the window
                        for j in range(kw):
                            h, w = oh * sh - ph + i, ow * sw - pw + j
                            if not (0 <= h < H and 0 <= w < W):
                                continue                      # padding: -inf, never the maximum
                            v = x[n, c, h, w]
                            # strictly greater: on a tie the FIRST maximum stays (PyTorch's rule);
                            # NaN always wins, so a window holding a NaN outputs NaN (PyTorch too)
                            if where is None or v > best or np.isnan(v):
                                best, where = v, (h, w)
                    out[n, c, oh, ow] = best
                    argmax[n, c, oh, ow] = where
    return out, {"argmax": argmax, "x_shape": x.shape, "dtype": x.dtype}


def maxpool2d_backward(dout, cache):
    """dx (N, C, H, W): each window's gradient goes to its one chosen position; overlapping windows ADD up."""
    argmax = cache["argmax"]
    dout = _check_dout(dout, argmax.shape[:4])
    N, C, Ho, Wo = dout.shape
    dx = np.zeros(cache["x_shape"], dtype=cache["dtype"])
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                for ow in range(Wo):
                    h, w = argmax[n, c, oh, ow]
                    dx[n, c, h, w] += dout[n, c, oh, ow]     # +=, not =: a cell can win several windows
    return dx


# ----------------------------------------------------------------------------------------------------
# Task 3: average pooling
# ----------------------------------------------------------------------------------------------------

def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over each window. x: (N, C, H, W) -> out (N, C, Ho, Wo), same dtype; cache for backward.

    Padding is zeros. count_include_pad=True (PyTorch's default) divides by the window size counted with the
    padding cells; False by the number of real cells. A ceil-mode window that runs past the padding counts
    only up to the end of the padding.
    """
    x, (kh, kw), (sh, sw), (ph, pw) = _check_pool_input(x, kernel_size, stride, padding)
    N, C, H, W = x.shape
    Ho, Wo = pool_output_size(H, kh, sh, ph, ceil_mode), pool_output_size(W, kw, sw, pw, ceil_mode)
    divisor = np.zeros((Ho, Wo), dtype=np.int64)
    for oh in range(Ho):
        for ow in range(Wo):
            h0, w0 = oh * sh - ph, ow * sw - pw
            h1, w1 = min(h0 + kh, H + ph), min(w0 + kw, W + pw)   # cut at the end of the padding
            if not count_include_pad:
                h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, H), min(w1, W)
            divisor[oh, ow] = (h1 - h0) * (w1 - w0)
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                for ow in range(Wo):
                    total = 0.0
                    for i in range(kh):
                        for j in range(kw):
                            h, w = oh * sh - ph + i, ow * sw - pw + j
                            if 0 <= h < H and 0 <= w < W:         # a padding cell adds 0
                                total += x[n, c, h, w]
                    out[n, c, oh, ow] = total / divisor[oh, ow]
    cache = {"divisor": divisor, "x_shape": x.shape, "dtype": x.dtype, "k": (kh, kw), "s": (sh, sw),
             "p": (ph, pw)}
    return out, cache


def avgpool2d_backward(dout, cache):
    """dx (N, C, H, W): every real cell of a window receives dout / divisor, summed over the windows."""
    N, C, H, W = cache["x_shape"]
    divisor = cache["divisor"]
    dout = _check_dout(dout, (N, C) + divisor.shape)
    (kh, kw), (sh, sw), (ph, pw) = cache["k"], cache["s"], cache["p"]
    Ho, Wo = divisor.shape
    dx = np.zeros(cache["x_shape"], dtype=cache["dtype"])
    for n in range(N):
        for c in range(C):
            for oh in range(Ho):
                for ow in range(Wo):
                    share = dout[n, c, oh, ow] / divisor[oh, ow]
                    for i in range(kh):
                        for j in range(kw):
                            h, w = oh * sh - ph + i, ow * sw - pw + j
                            if 0 <= h < H and 0 <= w < W:     # the padding's share is dropped
                                dx[n, c, h, w] += share
    return dx


# ----------------------------------------------------------------------------------------------------
# Task 4: global average pooling
# ----------------------------------------------------------------------------------------------------

def global_avg_pool_forward(x):
    """Mean over the whole feature map of each channel: x (N, C, H, W) -> out (N, C); cache for backward."""
    x = _check_image(x)
    N, C, H, W = x.shape
    if H * W == 0:
        raise ValueError(f"global average pooling needs H * W > 0, got x of shape {x.shape}")
    out = np.zeros((N, C), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            total = 0.0
            for h in range(H):
                for w in range(W):
                    total += x[n, c, h, w]
            out[n, c] = total / (H * W)
    return out, {"x_shape": x.shape, "dtype": x.dtype}


def global_avg_pool_backward(dout, cache):
    """dout (N, C) -> dx (N, C, H, W) = dout / (H * W) at every position."""
    N, C, H, W = cache["x_shape"]
    dout = _check_dout(dout, (N, C))
    dx = np.zeros(cache["x_shape"], dtype=cache["dtype"])
    for n in range(N):
        for c in range(C):
            dx[n, c, :, :] = dout[n, c] / (H * W)
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
        merged = 1
        for size in x.shape[start:end + 1]:
            merged *= size                       # computed, not -1: reshape(0, -1) fails on an empty batch
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
    are `jump` input cells apart.
    """
    size, jump = 1, 1
    for layer in layers:
        k, s = _check_layer_spec(layer)
        size = size + (k - 1) * jump     # k cells of this layer's input, each `jump` input cells apart
        jump = jump * s                  # one step of this layer's output = s steps of its input
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
    x = np.array([[[[1.0, 2.0, 5.0, 0.0],
                    [3.0, 4.0, 1.0, 1.0],
                    [0.0, 0.0, 2.0, 2.0],
                    [7.0, 0.0, 2.0, 1.0]]]])
    out, cache = maxpool2d_forward(x, 2)
    print(f"Output: {out[0, 0].tolist()}, Shape: {out.shape}")
    assert out.shape == (1, 1, 2, 2), "Shape mismatch!"
    assert out[0, 0].tolist() == [[4.0, 5.0], [7.0, 2.0]]
    dx = maxpool2d_backward(np.ones_like(out), cache)
    assert dx[0, 0, 1, 1] == 1 and dx[0, 0, 2, 2] == 1 and dx[0, 0, 3, 2] == 0, "first of the tied 2s"
    avg, cache = avgpool2d_forward(x, 2)
    assert avg[0, 0].tolist() == [[2.5, 1.75], [1.75, 1.75]]
    assert np.allclose(avgpool2d_backward(np.ones_like(avg), cache), 0.25)
    print("All checks passed.")
