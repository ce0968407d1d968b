"""
Level 1: Naive Implementation
- Priority: Correctness over speed: the definition of the convolution, written as the seven loops it means
- Constraints: Python loops and scalar arithmetic; NumPy only to hold the arrays
- Target: Pass functional tests only (slow: about 1 microsecond per multiply-add, 150-200x slower than
  level 2 on a 12x12 image, so the README's 3x3 layer on 8 images of 32x32, 16 -> 32 channels, would take
  about half a minute forward; the tests use tiny inputs)

Topic 11: 2-D convolution as a sliding window, with PyTorch's semantics (torch.nn.functional.conv2d).
Layout NCHW: x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,), out (N, C_out, H_out, W_out):

    out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * xp[n, c, i*sh + u, j*sw + v]

xp is x inside a frame of zeros (the padding), (sh, sw) the stride. The kernel is laid on the image as it
is, NOT flipped: a cross-correlation, which is what PyTorch and every deep learning library call "conv".
Output size per axis: floor((H + 2p - (k - 1) - 1) / s) + 1.

Backward, from the same loops: every product w[o, c, u, v] * xp[n, c, r, q] of the forward pass sends
    dout[n, o, i, j] * w[o, c, u, v]   to dxp[n, c, r, q]      (the pixel the window read)
    dout[n, o, i, j] * xp[n, c, r, q]  to dw[o, c, u, v]       (the weight it used)
with r = i*sh + u and q = j*sw + v; the bias collects dout summed over the batch and the positions.
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
    Raises ValueError when the window is larger than the padded input, or for a bad argument.
    """
    size, kernel_size, stride, padding, dilation = _check_size_arguments(size, kernel_size, stride, padding, dilation)
    span = dilation * (kernel_size - 1) + 1          # input pixels covered by one window
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(f"kernel (size {kernel_size}, dilation {dilation}, span {span}) does not fit the padded "
                         f"input of size {size} + 2 * {padding} = {padded}")
    # count the positions by walking the window along the axis, one stride at a time
    positions, start = 0, 0
    while start + span <= padded:
        positions += 1
        start += stride
    return positions


# ----------------------------------------------------------------------------------------------------
# Padding
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


def _pad(x, pads):
    """x (N, C, H, W) inside a zero frame: (N, C, H + top + bottom, W + left + right), pixel by pixel."""
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for r in range(H):
                for q in range(W):
                    xp[n, c, top + r, left + q] = x[n, c, r, q]
    return xp


# ----------------------------------------------------------------------------------------------------
# Task 2: forward
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, as torch.nn.functional.conv2d.

    x: (N, C_in, H, W); w: (C_out, C_in, kH, kW); b: (C_out,) or None (no bias);
    stride: int or (sh, sw); padding: int, (ph, pw), 'valid' or 'same' (stride 1 only).
    Returns out (N, C_out, H_out, W_out) in the dtype of x and w (float32 stays float32), and the cache
    conv2d_backward needs.
    """
    x, w, b, stride, pads, out_hw = _check_conv_inputs(x, w, b, stride, padding)
    N, C_in = x.shape[:2]
    C_out, _, kH, kW = w.shape
    sh, sw = stride
    H_out, W_out = out_hw
    xp = _pad(x, pads)
    out = np.zeros((N, C_out, H_out, W_out), dtype=x.dtype)
    for n in range(N):                          # every image of the batch
        for o in range(C_out):                  # every filter
            for i in range(H_out):              # every window position: row ...
                for j in range(W_out):          # ... and column
                    total = 0.0 if b is None else b[o]
                    for c in range(C_in):       # the window covers all input channels
                        for u in range(kH):     # and kH x kW pixels of each,
                            for v in range(kW):  # starting at (i * sh, j * sw) of the padded image
                                total += w[o, c, u, v] * xp[n, c, i * sh + u, j * sw + v]
                    out[n, o, i, j] = total
    cache = {"x": x, "w": w, "has_bias": b is not None, "stride": stride, "pads": pads}
    return out, cache


# ----------------------------------------------------------------------------------------------------
# Task 3: backward
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward, given dout = dL/dout of shape (N, C_out, H_out, W_out).

    The same seven loops as the forward pass; each product of the forward pass sends its share of
    dout[n, o, i, j] back to the pixel and to the weight it multiplied.
    Returns dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,) or None when there was no bias.
    """
    dout = _check_dout(dout, cache)
    x, w, (sh, sw), pads = cache["x"], cache["w"], cache["stride"], cache["pads"]
    N, C_in, H, W = x.shape
    C_out, _, kH, kW = w.shape
    H_out, W_out = dout.shape[2:]
    xp = _pad(x, pads)
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(C_out, dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, o, i, j]
                    db[o] += g                  # the bias was added at every position of every image
                    for c in range(C_in):
                        for u in range(kH):
                            for v in range(kW):
                                r, q = i * sh + u, j * sw + v   # the padded pixel this product read
                                dxp[n, c, r, q] += g * w[o, c, u, v]
                                dw[o, c, u, v] += g * xp[n, c, r, q]
    top, _, left, _ = pads
    dx = np.zeros_like(x)
    for n in range(N):                          # drop the gradient of the padding zeros: they are not inputs
        for c in range(C_in):
            for r in range(H):
                for q in range(W):
                    dx[n, c, r, q] = dxp[n, c, top + r, left + q]
    return dx, dw, (db if cache["has_bias"] else None)


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
    # the worked example of math-refresh.md: one channel, a 4x4 image, a 3x3 kernel
    x = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 2, 1]], dtype=np.float64)[None, None]
    w = np.array([[1, 0, 2], [0, -1, 0], [-1, 0, 0]], dtype=np.float64)[None, None]
    b = np.array([0.5])
    out, _ = conv2d_forward(x, w, b)
    print("valid, stride 1:\n", out[0, 0])
    assert np.array_equal(out[0, 0], [[-1.5, 0.5], [4.5, 3.5]])
    out, cache = conv2d_forward(x, w, b, stride=2, padding=1)
    print("padding 1, stride 2:\n", out[0, 0])
    assert np.array_equal(out[0, 0], [[-0.5, -0.5], [0.5, 3.5]])
    dx, dw, db = conv2d_backward(np.array([[[[1.0, 0.0], [0.0, 0.0]]]]), cache)
    print("dx for dout = one-hot at output (0, 0):\n", dx[0, 0])
    assert np.array_equal(dx[0, 0, :2, :2], w[0, 0, 1:, 1:]) and db[0] == 1.0
    assert [conv_output_size(28, 3, 1, 1), conv_output_size(28, 3, 2, 1), conv_output_size(7, 3, dilation=2)] == [28, 14, 3]
    layer = Conv2d(2, 3, kernel_size=(3, 2), stride=2, padding=1, rng=0)
    y = layer.forward(np.ones((1, 2, 5, 4), dtype=np.float32))
    print(f"{layer}: output {y.shape} {y.dtype}")
    assert y.shape == (1, 3, 3, 3) and y.dtype == np.float32
    print("All checks passed.")
