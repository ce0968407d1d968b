"""
Level 3: Memory-Efficient Implementation
- Priority: Few and small temporaries; float32 stays float32; no copy of x, padded or not
- Constraints: the loops of level 2 over the kH * kW kernel offsets, on strided views of x itself; the
  padding is never materialised; outputs and one small scratch buffer preallocated, written with out=
- Target: Same results as level 2 (to float round-off), well under its peak memory, and faster

Topic 11: 2-D convolution as a sliding window, with PyTorch's semantics (torch.nn.functional.conv2d).
    out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * xp[n, c, i*sh + u, j*sw + v]
with xp = x inside a frame of zeros. A zero adds nothing to that sum, so level 3 never builds xp:

- For a kernel offset (u, v), output row i reads input row r = i*sh + u - top. Only the rows with
  0 <= r < H are inside the image; they form ONE contiguous range i0 <= i < i1 (two integer divisions,
  _inside below), and the rows they read are x[r0 : ... : sh], a strided view of x. The other output rows
  would only read padding zeros: they are skipped. The same holds for the columns. With padding 0 every
  offset covers the whole output and x is used as it is; with padding > 0 nothing is copied either
  (level 2 copies x into a zero frame, and its backward builds a padded dx and crops it).
- The channel mixing of one offset is a BLAS matrix product written straight into a scratch buffer:
  np.matmul(w[:, :, u, v], view transposed to (n, h, C_in, w), out=scratch view). Transposes of views
  are views: nothing is copied to line the axes up.
- The batch goes through in CHUNKS = 8 chunks, so the scratch buffer (the one temporary of the forward
  pass) is 1/8 of the output instead of a whole output-sized array; a Python loop of 8 steps costs
  nothing next to the products.
- out starts as the bias (np.empty + broadcast assignment) and each offset adds its scratch into the
  output block it covers, in place. dx is written directly (np.zeros of the shape of x: the gradient of
  the padding is never computed, so there is nothing to crop); dw[:, :, u, v] is one batched product
  per offset, summed.

Measured with `python benchmark.py` (peak memory by tracemalloc, best-of-n times): the table is in the README.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad): what Topic 03's optimizers update
inits = load_topic(5)  # kaiming_uniform, the initialiser PyTorch's Conv2d uses by default


# ----------------------------------------------------------------------------------------------------
# Task 1: the output size
# ----------------------------------------------------------------------------------------------------

def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Number of window positions along one axis: floor((size + 2p - d(k - 1) - 1) / s) + 1.

    size: input length; kernel_size: k; stride: s >= 1; padding: p >= 0 zeros added on EACH side;
    dilation: d >= 1 (the gap between kernel taps; 1 = a dense kernel).
    The window spans d(k - 1) + 1 input pixels; it fits size + 2p - span + 1 times with stride 1, and
    every s-th of those positions is kept.
    Raises ValueError when the window is larger than the padded input, or for a bad argument.
    """
    size, kernel_size, stride, padding, dilation = _check_size_arguments(size, kernel_size, stride, padding, dilation)
    span = dilation * (kernel_size - 1) + 1          # input pixels covered by one window
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(f"kernel (size {kernel_size}, dilation {dilation}, span {span}) does not fit the padded "
                         f"input of size {size} + 2 * {padding} = {padded}")
    return (padded - span) // stride + 1


# ----------------------------------------------------------------------------------------------------
# Padding, without padding: which output positions of a kernel offset read the image itself
# ----------------------------------------------------------------------------------------------------

def _resolve_padding(padding, kernel, stride):
    """padding (int, (ph, pw), 'valid' or 'same') -> zeros to add (top, bottom, left, right), as PyTorch.

    'valid' adds nothing. 'same' keeps H_out = H and W_out = W (stride 1 only): k - 1 zeros per axis, split
    as (k - 1) // 2 before and the rest AFTER, so an even kernel gets its extra zero at the bottom / right.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if tuple(stride) != (1, 1):
                raise ValueError(f"padding='same' is not supported for strided convolutions (stride={tuple(stride)})")
            total_h, total_w = kernel[0] - 1, kernel[1] - 1
            return (total_h // 2, total_h - total_h // 2, total_w // 2, total_w - total_w // 2)
        raise ValueError(f"Invalid padding string {padding!r}, should be one of 'valid', 'same'")
    ph, pw = _pair(padding, "padding", minimum=0)
    return (ph, ph, pw, pw)


def _inside(out_size, in_size, tap, stride, before):
    """Output indices i0 <= i < i1 whose input index i * stride + tap - before lies in [0, in_size).

    Returns (i0, i1, slice of the input indices they read). i0 >= i1 when the tap only sees padding.
    """
    i0 = max(0, -((tap - before) // stride))                 # ceil((before - tap) / stride), at least 0
    i1 = min(out_size, (in_size - 1 + before - tap) // stride + 1)
    first = i0 * stride + tap - before
    return i0, i1, slice(first, first + stride * (i1 - i0 - 1) + 1, stride)


def _taps(out_hw, in_hw, kernel, stride, pads):
    """For every kernel offset (u, v) that reads at least one image pixel: (u, v, output rows, output cols,
    input rows, input cols), the two output ranges as slices. Offsets that only ever see padding are left out."""
    taps = []
    for u in range(kernel[0]):
        i0, i1, rows = _inside(out_hw[0], in_hw[0], u, stride[0], pads[0])
        for v in range(kernel[1]):
            j0, j1, cols = _inside(out_hw[1], in_hw[1], v, stride[1], pads[2])
            if i0 < i1 and j0 < j1:
                taps.append((u, v, slice(i0, i1), slice(j0, j1), rows, cols))
    return taps


def _chunk(N):
    """Images per step: ceil(N / CHUNKS), so the scratch buffer holds at most about 1/CHUNKS of the output."""
    return max(1, -(-N // CHUNKS))


CHUNKS = 8  # more chunks: a smaller scratch buffer, more (smaller) BLAS calls


# ----------------------------------------------------------------------------------------------------
# Task 2: forward
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    x: (N, C_in, H, W); w: (C_out, C_in, kH, kW); b: (C_out,) or None (no bias);
    stride: int or (sh, sw); padding: int, (ph, pw), 'valid' or 'same' (stride 1 only).
    Returns out (N, C_out, H_out, W_out) in the dtype of x and w (float32 stays float32), and the cache
    conv2d_backward needs (x itself, not a copy).
    """
    x, w, b, stride, pads, out_hw = _check_conv_inputs(x, w, b, stride, padding)
    N, C_out = x.shape[0], w.shape[0]
    out = np.empty((N, C_out) + out_hw, dtype=x.dtype)
    out[...] = 0 if b is None else b[None, :, None, None]     # start from the bias: no separate pass later
    chunk = _chunk(N)
    scratch = np.empty((chunk, C_out) + out_hw, dtype=x.dtype)   # one tap's share for `chunk` images, reused
    taps = _taps(out_hw, x.shape[2:], w.shape[2:], stride, pads)
    for n0 in range(0, N, chunk):
        images = x[n0:n0 + chunk]                             # views, like everything below
        for u, v, out_rows, out_cols, rows, cols in taps:
            patch = images[:, :, rows, cols]                  # (n, C_in, h, w): the pixels under tap (u, v)
            part = scratch[:len(images), :, :patch.shape[2], :patch.shape[3]]
            # (C_out, C_in) @ (n, h, C_in, w) -> (n, h, C_out, w): one BLAS product per row, into the scratch
            np.matmul(w[:, :, u, v], patch.transpose(0, 2, 1, 3), out=part.transpose(0, 2, 1, 3))
            out[n0:n0 + chunk, :, out_rows, out_cols] += part
    cache = {"x": x, "w": w, "has_bias": b is not None, "stride": stride, "pads": pads}
    return out, cache


# ----------------------------------------------------------------------------------------------------
# Task 3: backward
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward, given dout = dL/dout of shape (N, C_out, H_out, W_out).

    Per kernel offset, only the output block that read the image: dw[:, :, u, v] = sum of dout (x) patch,
    and dout mixed back through w[:, :, u, v] is added to the pixels the patch came from. The padding
    zeros get no gradient at all (nothing to crop).
    Returns dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,) or None when there was no bias.
    """
    dout = _check_dout(dout, cache)
    x, w, stride, pads = cache["x"], cache["w"], cache["stride"], cache["pads"]
    (N, C_in), out_hw = x.shape[:2], dout.shape[2:]
    dx = np.zeros(x.shape, dtype=x.dtype)                     # C-contiguous, whatever the layout of x
    dw = np.zeros_like(w)                                     # taps that only see padding keep 0
    chunk = _chunk(N)
    scratch = np.empty((chunk, C_in) + out_hw, dtype=x.dtype)
    taps = _taps(out_hw, x.shape[2:], w.shape[2:], stride, pads)
    for n0 in range(0, N, chunk):
        images, grads, dimages = x[n0:n0 + chunk], dout[n0:n0 + chunk], dx[n0:n0 + chunk]
        for u, v, out_rows, out_cols, rows, cols in taps:
            patch = images[:, :, rows, cols]                  # (n, C_in, h, w) view
            grad = grads[:, :, out_rows, out_cols]            # (n, C_out, h, w) view
            # (n, h, C_out, w) @ (n, h, w, C_in) -> (n, h, C_out, C_in), summed over images and rows
            dw[:, :, u, v] += np.matmul(grad.transpose(0, 2, 1, 3), patch.transpose(0, 2, 3, 1)).sum(axis=(0, 1))
            part = scratch[:len(images), :, :patch.shape[2], :patch.shape[3]]
            # (C_in, C_out) @ (n, h, C_out, w) -> (n, h, C_in, w)
            np.matmul(w[:, :, u, v].T, grad.transpose(0, 2, 1, 3), out=part.transpose(0, 2, 1, 3))
            dimages[:, :, rows, cols] += part                 # back to the pixels this tap read (a view of dx)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None   # summed, not averaged, over the batch
    return dx, dw, db


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

class Conv2d:
    """2-D convolution layer, as torch.nn.Conv2d (groups=1, dilation=1, zero padding).

    weight: Parameter (out_channels, in_channels, kH, kW); bias: Parameter (out_channels,) or None.
    Initialised like PyTorch's default: Kaiming uniform with a = sqrt(5), which draws every weight and
    bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels * kH * kW.
    rng: np.random.Generator, an int seed or None (fresh entropy); dtype: float32 by default.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, rng=None,
                 dtype=np.float32):
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size", minimum=1)
        self.stride = _pair(stride, "stride", minimum=1)
        _resolve_padding(padding, self.kernel_size, self.stride)   # a bad padding fails here, not at forward
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", minimum=0)
        kH, kW = self.kernel_size
        fan_in = self.in_channels * kH * kW
        rng = np.random.default_rng(rng)
        # Topic 05 draws W (fan_in, fan_out) for x @ W: each column is one filter, flattened as (C_in, kH, kW)
        w = inits.kaiming_uniform(fan_in, self.out_channels, rng=rng, dtype=dtype,
                                  nonlinearity="leaky_relu", a=math.sqrt(5))   # bound = 1 / sqrt(fan_in)
        self.weight = optim.Parameter(np.ascontiguousarray(w.T).reshape(self.out_channels, self.in_channels, kH, kW))
        self.bias = None
        if bias:
            bound = 1.0 / math.sqrt(fan_in)
            self.bias = optim.Parameter(rng.uniform(-bound, bound, size=self.out_channels).astype(dtype))
        self.training = True
        self._cache = None

    def forward(self, x):
        """x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out)."""
        b = None if self.bias is None else self.bias.data
        out, self._cache = conv2d_forward(x, self.weight.data, b, self.stride, self.padding)
        return out

    def backward(self, dout):
        """dout: (N, out_channels, H_out, W_out) -> dx; ADDS dw (and db) into weight.grad (and bias.grad)."""
        if self._cache is None:
            raise RuntimeError("Conv2d.backward called before forward")
        dx, dw, db = conv2d_backward(dout, self._cache)
        self.weight.grad += dw
        if self.bias is not None:
            self.bias.grad += db
        return dx

    def parameters(self):
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None})")


# ----------------------------------------------------------------------------------------------------
# Input checks: a wrong shape or argument is a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _positive_int(value, name):
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _pair(value, name, minimum):
    """An int or a pair of ints, each >= minimum -> (int, int)."""
    if _is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise ValueError(f"{name} must be an int or a pair of ints (h, w), got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return pair


def _check_size_arguments(size, kernel_size, stride, padding, dilation):
    for name, value, minimum in (("size", size, 0), ("kernel_size", kernel_size, 1), ("stride", stride, 1),
                                 ("padding", padding, 0), ("dilation", dilation, 1)):
        if not _is_int(value) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(size), int(kernel_size), int(stride), int(padding), int(dilation)


def _check_conv_inputs(x, w, b, stride, padding):
    """Validate and normalise; returns (x, w, b, (sh, sw), (top, bottom, left, right), (H_out, W_out))."""
    x, w = np.asarray(x), np.asarray(w)
    b = None if b is None else np.asarray(b)
    if x.ndim != 4:
        raise ValueError(f"conv2d expects x of shape (N, C_in, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"conv2d expects w of shape (C_out, C_in, kH, kW), got shape {w.shape}")
    N, C_in, H, W = x.shape
    C_out, C_w, kH, kW = w.shape
    if C_w != C_in:
        raise ValueError(f"w of shape {w.shape} expects x to have {C_w} channels, but x {x.shape} has {C_in}")
    if kH < 1 or kW < 1 or C_out < 1:
        raise ValueError(f"w of shape {w.shape} has an empty kernel or no output channel")
    if b is not None and b.shape != (C_out,):
        raise ValueError(f"b must have shape ({C_out},), one bias per output channel, got {b.shape}")
    stride = _pair(stride, "stride", minimum=1)
    pads = _resolve_padding(padding, (kH, kW), stride)
    Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
    if kH > Hp or kW > Wp:
        raise ValueError(f"Calculated padded input size per channel: ({Hp} x {Wp}). Kernel size: ({kH} x {kW}). "
                         f"Kernel size can't be greater than actual input size")
    out_hw = (conv_output_size(Hp, kH, stride[0]), conv_output_size(Wp, kW, stride[1]))
    arrays = (x, w) if b is None else (x, w, b)
    dtype = np.result_type(*arrays)
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return x, w, b, stride, pads, out_hw


def _check_dout(dout, cache):
    dout = np.asarray(dout)
    x, w, stride, pads = cache["x"], cache["w"], cache["stride"], cache["pads"]
    expected = (x.shape[0], w.shape[0],
                (x.shape[2] + pads[0] + pads[1] - w.shape[2]) // stride[0] + 1,
                (x.shape[3] + pads[2] + pads[3] - w.shape[3]) // stride[1] + 1)
    if dout.shape != expected:
        raise ValueError(f"dout must have the shape of the output {expected}, got {dout.shape}")
    return dout.astype(x.dtype, copy=False)


if __name__ == "__main__":
    import time
    import tracemalloc

    # the worked example of math-refresh.md, with padding 1 and stride 2: no padded copy is made
    x = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 2, 1]], dtype=np.float32)[None, None]
    w = np.array([[1, 0, 2], [0, -1, 0], [-1, 0, 0]], dtype=np.float32)[None, None]
    out, cache = conv2d_forward(x, w, np.array([0.5], np.float32), stride=2, padding=1)
    print("padding 1, stride 2:\n", out[0, 0])
    assert np.array_equal(out[0, 0], [[-0.5, -0.5], [0.5, 3.5]]) and out.dtype == np.float32
    assert cache["x"] is x, "the cache holds x itself"

    # one 3x3 'same' layer on a CIFAR-size batch, float32
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 16, 32, 32)).astype(np.float32)
    layer = Conv2d(16, 32, kernel_size=3, padding=1, rng=rng)
    y = layer.forward(x)
    dout = rng.standard_normal(y.shape).astype(np.float32)
    layer.backward(dout)
    tracemalloc.start()
    y = layer.forward(x)
    forward_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.reset_peak()
    dx = layer.backward(dout)
    backward_peak = tracemalloc.get_traced_memory()[1] - y.nbytes
    tracemalloc.stop()
    start = time.perf_counter()
    for _ in range(10):
        layer.backward(layer.forward(x))
    step = (time.perf_counter() - start) / 10
    print(f"{layer} on {x.shape} float32 (x {x.nbytes / 2**20:.2f} MiB, out {y.nbytes / 2**20:.2f} MiB): "
          f"forward peak {forward_peak / 2**20:.2f} MiB, backward peak {backward_peak / 2**20:.2f} MiB, "
          f"forward + backward {step * 1e3:.1f} ms")
    assert y.dtype == dx.dtype == layer.weight.grad.dtype == np.float32
    assert forward_peak < 1.3 * y.nbytes, "forward allocates out and a scratch buffer of 1/8 of it"
    assert backward_peak < 1.5 * x.nbytes, "backward allocates dx, dw and a scratch buffer of 1/8 of x"
    print("All checks passed.")
