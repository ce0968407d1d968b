"""
Level 1: Naive Implementation
- Priority: Correctness over speed: im2col and col2im as explicit loops over the output positions
- Constraints: Python loops over (n, ho, wo) to build and scatter the columns; one matrix product (@)
  for the convolution itself
- Target: Pass every test (slowly: the loops run N * H_out * W_out times)

Topic 12: convolution as a matrix product (im2col), with PyTorch's semantics (torch.nn.functional.conv2d).
    im2col(x, kh, kw, stride=1, padding=0)              -> cols (C * kh * kw, N * H_out * W_out)
    col2im(cols, x_shape, kh, kw, stride=1, padding=0)  -> (N, C, H, W), overlapping windows ADDED up
    conv2d_forward(x, w, b=None, stride=1, padding=0)   -> (out, cache)
    conv2d_backward(dout, cache)                        -> (dx, dw, db)     db is None without a bias
    Conv2d(in_channels, out_channels, kernel_size, ...)  the layer (Layer protocol of Module 01)

The column layout (the whole lesson is in this one line):
    cols[(c * kh + i) * kw + j, (n * H_out + ho) * W_out + wo] = xp[n, c, ho * sh + i, wo * sw + j]
Column q is the window (patch) of output position q, flattened in the order (c, i, j): exactly the order
of w.reshape(C_out, -1). So every output pixel of every image and every output channel is one dot product:
    out_mat = w.reshape(C_out, -1) @ cols            (C_out, N * H_out * W_out)
and out is out_mat with its axes put back in NCHW order.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad): what Topic 03's optimizers update
inits = load_topic(5)  # kaiming_uniform, the initialiser PyTorch's Conv2d uses by default


# ----------------------------------------------------------------------------------------------------
# Task 1: im2col
# ----------------------------------------------------------------------------------------------------

def im2col(x, kh, kw, stride=1, padding=0):
    """Every kh x kw window of the (padded) batch as one column of a matrix.

    x: (N, C, H, W); stride: int or (sh, sw); padding: int, (ph, pw), 'valid' or 'same' (stride 1 only).
    Returns cols of shape (C * kh * kw, N * H_out * W_out), dtype of x, with
        cols[(c * kh + i) * kw + j, (n * H_out + ho) * W_out + wo] = xp[n, c, ho * sh + i, wo * sw + j]
    where xp is x with the zeros of the padding around it.
    """
    x, stride, pads, (H_out, W_out) = _check_im2col_inputs(x, kh, kw, stride, padding)
    N, C = x.shape[:2]
    sh, sw = stride
    xp = _pad(x, pads)
    cols = np.zeros((C * kh * kw, N * H_out * W_out), dtype=x.dtype)
    for n in range(N):
        for ho in range(H_out):
            for wo in range(W_out):
                q = (n * H_out + ho) * W_out + wo                       # the column of this output position
                window = xp[n, :, ho * sh:ho * sh + kh, wo * sw:wo * sw + kw]   # (C, kh, kw)
                cols[:, q] = window.reshape(-1)                         # flattened in the order (c, i, j)
    return cols


# ----------------------------------------------------------------------------------------------------
# Task 2: col2im, the adjoint of im2col
# ----------------------------------------------------------------------------------------------------

def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Send every entry of cols back to the pixel it was copied from, ADDING where windows overlap.

    cols: (C * kh * kw, N * H_out * W_out) in the layout of im2col; x_shape: (N, C, H, W).
    Returns an array of shape x_shape (dtype of cols). The padding is cut off at the end: those zeros were
    not inputs. col2im is the transpose (adjoint) of im2col, not its inverse: <im2col(x), c> == <x, col2im(c)>.
    """
    cols, x_shape, stride, pads, (H_out, W_out) = _check_col2im_inputs(cols, x_shape, kh, kw, stride, padding)
    N, C, H, W = x_shape
    sh, sw = stride
    top, bottom, left, right = pads
    dxp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=cols.dtype)
    for n in range(N):
        for ho in range(H_out):
            for wo in range(W_out):
                q = (n * H_out + ho) * W_out + wo
                # += : a pixel shared by overlapping windows collects the contribution of each of them
                dxp[n, :, ho * sh:ho * sh + kh, wo * sw:wo * sw + kw] += cols[:, q].reshape(C, kh, kw)
    return dxp[:, :, top:top + H, left:left + W]


# ----------------------------------------------------------------------------------------------------
# Task 3: forward
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, as torch.nn.functional.conv2d, by one matrix product.

    x: (N, C_in, H, W); w: (C_out, C_in, kH, kW); b: (C_out,) or None (no bias);
    stride: int or (sh, sw); padding: int, (ph, pw), 'valid' or 'same' (stride 1 only).
    Returns out (N, C_out, H_out, W_out) in the dtype of x and w (float32 stays float32), and the cache.
    """
    x, w, b, stride, pads, (H_out, W_out) = _check_conv_inputs(x, w, b, stride, padding)
    N, C_out, kh, kw = x.shape[0], w.shape[0], w.shape[2], w.shape[3]
    cols = im2col(x, kh, kw, stride, pads)             # (C_in * kh * kw, N * H_out * W_out)
    w_mat = w.reshape(C_out, -1)                       # (C_out, C_in * kh * kw): rows (c, i, j), as cols
    out_mat = w_mat @ cols                             # (C_out, N * H_out * W_out): the whole convolution
    out = np.ascontiguousarray(out_mat.reshape(C_out, N, H_out, W_out).transpose(1, 0, 2, 3))   # back to NCHW
    if b is not None:
        out += b[None, :, None, None]                  # one bias per output channel, at every position
    cache = {"x_shape": x.shape, "w": w, "cols": cols, "has_bias": b is not None, "stride": stride, "pads": pads}
    return out, cache


# ----------------------------------------------------------------------------------------------------
# Task 4: backward
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward, given dout = dL/dout of shape (N, C_out, H_out, W_out).

    The forward pass was out_mat = w_mat @ cols, a plain matrix product, so
        dw_mat = dout_mat @ cols.T        (every position of every image adds its patch: summed over the batch)
        dcols  = w_mat.T @ dout_mat       (the gradient of each patch), sent back to the pixels by col2im
        db     = dout summed over the batch and the positions
    Returns dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,) or None when there was no bias.
    """
    dout = _check_dout(dout, cache)
    w, cols, stride, pads = cache["w"], cache["cols"], cache["stride"], cache["pads"]
    C_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    dout_mat = dout.transpose(1, 0, 2, 3).reshape(C_out, -1)   # (C_out, N * H_out * W_out), columns as cols
    dw = (dout_mat @ cols.T).reshape(w.shape)
    dcols = w.reshape(C_out, -1).T @ dout_mat                  # (C_in * kh * kw, N * H_out * W_out)
    dx = col2im(dcols, cache["x_shape"], kh, kw, stride, pads)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    return dx, dw, db


# ----------------------------------------------------------------------------------------------------
# Task 5: the layer
# ----------------------------------------------------------------------------------------------------

class Conv2d:
    """2-D convolution layer, as torch.nn.Conv2d (groups=1, dilation=1, zero padding), computed by im2col.

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
        kh, kw = self.kernel_size
        fan_in = self.in_channels * kh * kw
        rng = np.random.default_rng(rng)
        # Topic 05 draws W (fan_in, fan_out) for x @ W: column o is filter o, flattened in the order (c, i, j)
        w = inits.kaiming_uniform(fan_in, self.out_channels, rng=rng, dtype=dtype,
                                  nonlinearity="leaky_relu", a=math.sqrt(5))   # bound = 1 / sqrt(fan_in)
        self.weight = optim.Parameter(np.ascontiguousarray(w.T).reshape(self.out_channels, self.in_channels, kh, kw))
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
# Padding and input checks: a wrong shape or argument is a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

def _pad(x, pads):
    """x (N, C, H, W) inside a frame of zeros: (N, C, H + top + bottom, W + left + right)."""
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=x.dtype)
    xp[:, :, top:top + H, left:left + W] = x
    return xp


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


def _resolve_padding(padding, kernel, stride):
    """padding -> the zeros to add (top, bottom, left, right), as PyTorch.

    int p or (ph, pw): that many zeros on each side; 'valid': none; 'same' (stride 1 only): k - 1 zeros
    per axis, (k - 1) // 2 before and the rest after (an even kernel gets its extra zero at the bottom/right).
    A 4-tuple (top, bottom, left, right) is accepted too: it is what the functions pass to each other.
    """
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if tuple(stride) != (1, 1):
                raise ValueError(f"padding='same' is not supported for strided convolutions (stride={tuple(stride)})")
            th, tw = kernel[0] - 1, kernel[1] - 1
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"Invalid padding string {padding!r}, should be one of 'valid', 'same'")
    if isinstance(padding, tuple) and len(padding) == 4 and all(_is_int(p) and p >= 0 for p in padding):
        return tuple(int(p) for p in padding)
    ph, pw = _pair(padding, "padding", minimum=0)
    return (ph, ph, pw, pw)


def _geometry(x_shape, kh, kw, stride, padding):
    """Validate the window arguments; returns ((sh, sw), (top, bottom, left, right), (H_out, W_out))."""
    kh, kw = _positive_int(kh, "kh"), _positive_int(kw, "kw")
    stride = _pair(stride, "stride", minimum=1)
    pads = _resolve_padding(padding, (kh, kw), stride)
    H, W = x_shape[2], x_shape[3]
    Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
    if kh > Hp or kw > Wp:
        raise ValueError(f"Calculated padded input size per channel: ({Hp} x {Wp}). Kernel size: ({kh} x {kw}). "
                         f"Kernel size can't be greater than actual input size")
    return stride, pads, ((Hp - kh) // stride[0] + 1, (Wp - kw) // stride[1] + 1)


def _float(a):
    a = np.asarray(a)
    return a if a.dtype.kind == "f" else a.astype(np.float64)


def _check_im2col_inputs(x, kh, kw, stride, padding):
    x = _float(x)
    if x.ndim != 4:
        raise ValueError(f"im2col expects x of shape (N, C, H, W), got shape {x.shape}")
    stride, pads, out_hw = _geometry(x.shape, kh, kw, stride, padding)
    return x, stride, pads, out_hw


def _check_col2im_inputs(cols, x_shape, kh, kw, stride, padding):
    cols = _float(cols)
    if not (isinstance(x_shape, (tuple, list)) and len(x_shape) == 4 and all(_is_int(s) and s >= 0 for s in x_shape)):
        raise ValueError(f"x_shape must be (N, C, H, W), got {x_shape!r}")
    x_shape = tuple(int(s) for s in x_shape)
    stride, pads, (H_out, W_out) = _geometry(x_shape, kh, kw, stride, padding)
    N, C = x_shape[:2]
    expected = (C * kh * kw, N * H_out * W_out)
    if cols.shape != expected:
        raise ValueError(f"cols must have shape (C * kh * kw, N * H_out * W_out) = {expected} for x_shape "
                         f"{x_shape}, got {cols.shape}")
    return cols, x_shape, stride, pads, (H_out, W_out)


def _check_conv_inputs(x, w, b, stride, padding):
    """Validate and normalise; returns (x, w, b, (sh, sw), (top, bottom, left, right), (H_out, W_out))."""
    x, w = np.asarray(x), np.asarray(w)
    b = None if b is None else np.asarray(b)
    if x.ndim != 4:
        raise ValueError(f"conv2d expects x of shape (N, C_in, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"conv2d expects w of shape (C_out, C_in, kH, kW), got shape {w.shape}")
    C_out, C_w, kh, kw = w.shape
    if C_w != x.shape[1]:
        raise ValueError(f"w of shape {w.shape} expects x to have {C_w} channels, but x {x.shape} has {x.shape[1]}")
    if kh < 1 or kw < 1 or C_out < 1:
        raise ValueError(f"w of shape {w.shape} has an empty kernel or no output channel")
    if b is not None and b.shape != (C_out,):
        raise ValueError(f"b must have shape ({C_out},), one bias per output channel, got {b.shape}")
    stride, pads, out_hw = _geometry(x.shape, kh, kw, stride, padding)
    dtype = np.result_type(*((x, w) if b is None else (x, w, b)))
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return x, w, b, stride, pads, out_hw


def _check_dout(dout, cache):
    dout = np.asarray(dout)
    (N, _, H, W), (top, bottom, left, right), (sh, sw) = cache["x_shape"], cache["pads"], cache["stride"]
    C_out, _, kh, kw = cache["w"].shape
    expected = (N, C_out, (H + top + bottom - kh) // sh + 1, (W + left + right - kw) // sw + 1)
    if dout.shape != expected:
        raise ValueError(f"dout must have the shape of the output {expected}, got {dout.shape}")
    return dout.astype(cache["w"].dtype, copy=False)


if __name__ == "__main__":
    # im2col of one 3x3 image with a 2x2 kernel: 4 windows, each a column of 4 numbers
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    cols = im2col(x, 2, 2)
    print("x =\n", x[0, 0], "\nim2col(x, 2, 2) =\n", cols)
    assert np.array_equal(cols, [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]])
    # col2im adds the overlaps: the centre pixel is in all 4 windows
    print("col2im(ones) =\n", col2im(np.ones_like(cols), x.shape, 2, 2)[0, 0])
    assert np.array_equal(col2im(np.ones_like(cols), x.shape, 2, 2)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])

    # a strided, padded convolution with a non-square kernel, checked by finite differences
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, stride=2, padding=1)
    dout = rng.standard_normal(out.shape)
    dx, dw, db = conv2d_backward(dout, cache)
    from dlfs.gradient_check import check_layer

    report = check_layer(lambda x, w, b: conv2d_forward(x, w, b, 2, 1), conv2d_backward, x, w, b)
    print(report)
    assert report.passed

    layer = Conv2d(3, 8, kernel_size=3, padding="same", rng=rng)
    x = rng.standard_normal((2, 3, 10, 12)).astype(np.float32)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    print(f"{layer}: {x.shape} -> {y.shape} {y.dtype}; dx {dx.shape} {dx.dtype}")
    assert y.shape == (2, 8, 10, 12) and y.dtype == np.float32 and dx.dtype == np.float32
    print("All checks passed.")
