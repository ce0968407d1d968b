"""
Level 3: Memory-Efficient Implementation
- Priority: Speed and a bounded memory: the column matrix is never built for the whole batch
- Constraints: the windows are a strided VIEW (as_strided) copied chunk by chunk into ONE preallocated
  workspace that every call reuses; no np.pad (the zeros are written once, around a copy of x);
  float32 stays float32; the backward pass recomputes the columns instead of caching them
- Target: Same results as level 2 (to float round-off), a fraction of its memory, as fast as PyTorch's CPU
  convolution; the level Topic 17's CIFAR-10 ResNet uses

What changes from level 2, one idea at a time (figures: README, "Measured"; `python benchmark.py`):
1. The column matrix of the whole batch is (C * kh * kw) x (N * H_out * W_out): 9x the input for a 3x3
   kernel with padding 1 (302 MB for N=128, C=64, 32x32 in float32). Level 3 takes the batch m images at
   a time, with m chosen so that one chunk's columns fit a WORKSPACE_BYTES buffer (16 MiB), allocated
   once and reused by every call: the overhead is bounded whatever the batch size.
2. The chunk's columns come from a zero-copy window view of the padded input (np.lib.stride_tricks.
   as_strided, already in the (c, i, j, n, ho, wo) order of the matrix): one np.copyto, no transpose copy.
3. The cache keeps the padded input (the size of x), not the columns (9x x): backward rebuilds each
   chunk's columns, a copy that costs less than the GEMMs and saves the memory.
4. Backward per chunk: dw += cols @ dout_mat.T, or its transpose dout_mat @ cols.T when C_out > C * kh * kw
   (the long inner dimension N * H_out * W_out is best split with the LARGER of the two as the rows:
   with 27 rows, a 3-channel input, OpenBLAS's two threads stalled now and then, for up to 30x the time),
   then the chunk's dcols = w_mat.T @ dout_mat is written INTO the same workspace, and col2im adds it
   straight into dx with each kernel offset's range clipped to the real pixels: no padded dx, no crop copy.
5. A 1x1 kernel with stride 1 and no padding needs no column matrix at all: x[n] IS image n's matrix,
   and out[n] = w_mat @ x[n] is written directly in NCHW order.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import as_strided

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad): what Topic 03's optimizers update
inits = load_topic(5)  # kaiming_uniform, the initialiser PyTorch's Conv2d uses by default

WORKSPACE_BYTES = 16 * 2 ** 20  # the columns of one chunk of the batch (at least one image) must fit here


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
    xp = _pad(x, pads)
    cols = np.empty((C * kh * kw, N * H_out * W_out), dtype=x.dtype)
    # the window view is already in the matrix's (c, i, j, n, ho, wo) order: one copy, nothing else
    np.copyto(cols.reshape(C, kh, kw, N, H_out, W_out), _windows(xp, kh, kw, stride, (H_out, W_out)))
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
    cols, x_shape, stride, pads, out_hw = _check_col2im_inputs(cols, x_shape, kh, kw, stride, padding)
    dx = np.zeros(x_shape, dtype=cols.dtype)
    _col2im_add(dx, cols, kh, kw, stride, pads, out_hw)
    return dx


def _col2im_add(dx, cols, kh, kw, stride, pads, out_hw):
    """dx (m, C, H, W) += col2im(cols (C*kh*kw, m*H_out*W_out)), with no padded buffer.

    For kernel offset (i, j) the windows land on rows ho*sh + i - top of x: only the output rows ho whose
    pixel is inside x (not in the padding) are added, so nothing is written where it would be cut off.
    """
    m, C, H, W = dx.shape
    (sh, sw), (top, _, left, _), (H_out, W_out) = stride, pads, out_hw
    blocks = cols.reshape(C, kh, kw, m, H_out, W_out)
    for i in range(kh):
        h0, h1 = _inside(i - top, sh, H_out, H)        # output rows whose offset-i pixel is a real row of x
        if h0 >= h1:
            continue
        for j in range(kw):
            w0, w1 = _inside(j - left, sw, W_out, W)
            if w0 >= w1:
                continue
            r, c = h0 * sh + i - top, w0 * sw + j - left
            target = dx[:, :, r:r + sh * (h1 - h0 - 1) + 1:sh, c:c + sw * (w1 - w0 - 1) + 1:sw]
            target += blocks[:, i, j, :, h0:h1, w0:w1].transpose(1, 0, 2, 3)


# ----------------------------------------------------------------------------------------------------
# Task 3: forward
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, as torch.nn.functional.conv2d: one matrix product per chunk of the batch.

    x: (N, C_in, H, W); w: (C_out, C_in, kH, kW); b: (C_out,) or None (no bias);
    stride: int or (sh, sw); padding: int, (ph, pw), 'valid' or 'same' (stride 1 only).
    Returns out (N, C_out, H_out, W_out) in the dtype of x and w (float32 stays float32), and the cache.
    """
    x, w, b, stride, pads, (H_out, W_out) = _check_conv_inputs(x, w, b, stride, padding)
    N, C, H, W = x.shape
    C_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    L = H_out * W_out
    xp = _pad(x, pads)                                   # the one copy of x, kept in the cache
    w_mat = np.ascontiguousarray(w.reshape(C_out, -1))   # (C_out, C * kh * kw)
    out = np.empty((N, C_out, H_out, W_out), dtype=x.dtype)
    if _pointwise(kh, kw, stride, pads):
        # x[n] reshaped (C, H * W) is image n's column matrix already: a batch of GEMMs writing NCHW directly
        np.matmul(np.broadcast_to(w_mat, (N, C_out, C)), xp.reshape(N, C, L), out=out.reshape(N, C_out, L))
    else:
        view = _windows(xp, kh, kw, stride, (H_out, W_out))
        for n0, n1 in _chunks(N, w_mat.shape[1] * L * x.dtype.itemsize):
            m = n1 - n0
            cols = _columns(view, n0, n1, x.dtype)                          # (C * kh * kw, m * L), workspace
            res = np.matmul(w_mat, cols, out=_scratch("gemm", (C_out, m * L), x.dtype))
            out[n0:n1] = res.reshape(C_out, m, H_out, W_out).transpose(1, 0, 2, 3)   # to NCHW
    if b is not None:
        out += b[:, None, None]
    cache = {"x_shape": x.shape, "w": w, "xp": xp, "has_bias": b is not None, "stride": stride, "pads": pads}
    return out, cache


# ----------------------------------------------------------------------------------------------------
# Task 4: backward
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward, given dout = dL/dout of shape (N, C_out, H_out, W_out).

    Chunk by chunk of the batch (the forward pass was out_mat = w_mat @ cols on each chunk):
        dw_mat += dout_mat @ cols.T   (as (cols @ dout_mat.T).T when cols has more rows: BLAS splits it well)
        dcols   = w_mat.T @ dout_mat, added back into dx by col2im
    and db = dout summed over the batch and the positions.
    Returns dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,) or None when there was no bias.
    """
    dout = _check_dout(dout, cache)
    w, xp, stride, pads = cache["w"], cache["xp"], cache["stride"], cache["pads"]
    N, C, H, W = cache["x_shape"]
    C_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    H_out, W_out = dout.shape[2:]
    L, K = H_out * W_out, C * kh * kw
    w_mat = np.ascontiguousarray(w.reshape(C_out, K))
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    dw_t = np.zeros((K, C_out), dtype=w.dtype)          # dw_mat.T, accumulated chunk by chunk
    if _pointwise(kh, kw, stride, pads):
        x3, d3 = xp.reshape(N, C, L), dout.reshape(N, C_out, L)
        dx = np.matmul(np.broadcast_to(w_mat.T, (N, C, C_out)), d3).reshape(N, C, H, W)
        dw_t += np.matmul(x3, d3.transpose(0, 2, 1)).sum(axis=0)     # sum over the images of x[n] @ dout[n].T
        return dx, np.ascontiguousarray(dw_t.T).reshape(w.shape), db
    dx = np.zeros((N, C, H, W), dtype=w.dtype)
    view = _windows(xp, kh, kw, stride, (H_out, W_out))
    rows_first = K >= C_out                             # the GEMM orientation with the most output rows
    part = np.empty((K, C_out) if rows_first else (C_out, K), dtype=w.dtype)
    for n0, n1 in _chunks(N, K * L * w.dtype.itemsize):
        m = n1 - n0
        cols = _columns(view, n0, n1, w.dtype)                              # rebuilt, not cached
        d_mat = _scratch("gemm", (C_out, m, H_out, W_out), w.dtype)
        np.copyto(d_mat, dout[n0:n1].transpose(1, 0, 2, 3))                # dout in the column order
        d_mat = d_mat.reshape(C_out, m * L)
        if rows_first:
            dw_t += np.matmul(cols, d_mat.T, out=part)
        else:
            dw_t += np.matmul(d_mat, cols.T, out=part).T
        dcols = np.matmul(w_mat.T, d_mat, out=cols)                         # overwrites the columns in place
        _col2im_add(dx[n0:n1], dcols, kh, kw, stride, pads, (H_out, W_out))
    return dx, np.ascontiguousarray(dw_t.T).reshape(w.shape), db


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
# Padding, window views, the workspace; input checks (a wrong shape or argument is a clear ValueError)
# ----------------------------------------------------------------------------------------------------

def _pad(x, pads):
    """A new C-contiguous (N, C, H + top + bottom, W + left + right) array: x inside a frame of zeros.

    np.pad would work too; here the frame is zeroed strip by strip and x is copied once into the middle,
    so every byte is written exactly once (this is also the copy that makes a strided x contiguous).
    """
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    xp = np.empty((N, C, H + top + bottom, W + left + right), dtype=x.dtype)
    xp[:, :, :top] = 0
    xp[:, :, top + H:] = 0
    xp[:, :, top:top + H, :left] = 0
    xp[:, :, top:top + H, left + W:] = 0
    xp[:, :, top:top + H, left:left + W] = x
    return xp


def _windows(xp, kh, kw, stride, out_hw):
    """Every window of xp as a read-only VIEW of shape (C, kh, kw, N, H_out, W_out), in the matrix's order.

    Element [c, i, j, n, ho, wo] is xp[n, c, ho * sh + i, wo * sw + j]: only the strides are new, no byte is
    copied. (as_strided trusts its arguments: xp is our own contiguous array, and every index stays inside.)
    """
    (sh, sw), (H_out, W_out) = stride, out_hw
    sN, sC, sH, sW = xp.strides
    return as_strided(xp, shape=(xp.shape[1], kh, kw, xp.shape[0], H_out, W_out),
                      strides=(sC, sH, sW, sN, sh * sH, sw * sW), writeable=False)


def _pointwise(kh, kw, stride, pads):
    """A 1x1 kernel, stride 1, no padding: the image itself is its column matrix."""
    return kh == kw == 1 and tuple(stride) == (1, 1) and not any(pads)


_WORKSPACE = {}  # (name, dtype) -> flat buffer, grown on demand and reused by every call (one thread at a time)


def _scratch(name, shape, dtype):
    """A view of shape `shape` into the reusable buffer `name`; its previous content is overwritten."""
    size = math.prod(shape)
    key = (name, np.dtype(dtype))
    buf = _WORKSPACE.get(key)
    if buf is None or buf.size < size:
        buf = _WORKSPACE[key] = np.empty(size, dtype=dtype)
    return buf[:size].reshape(shape)


def _chunks(N, bytes_per_image):
    """(n0, n1) ranges covering the batch, as many images per chunk as fit WORKSPACE_BYTES (at least one)."""
    step = max(1, WORKSPACE_BYTES // max(1, bytes_per_image))
    return [(n0, min(N, n0 + step)) for n0 in range(0, N, step)]


def _columns(view, n0, n1, dtype):
    """im2col of images n0..n1-1, copied from the window view into the workspace: (C * kh * kw, m * L)."""
    C, kh, kw, _, H_out, W_out = view.shape
    cols = _scratch("cols", (C, kh, kw, n1 - n0, H_out, W_out), dtype)
    np.copyto(cols, view[:, :, :, n0:n1])
    return cols.reshape(C * kh * kw, (n1 - n0) * H_out * W_out)


def _inside(offset, step, n_out, size):
    """[o0, o1): the outputs o whose pixel o * step + offset lies in [0, size) (not in the padding)."""
    o0 = max(0, -(offset // step))
    o1 = min(n_out, (size - 1 - offset) // step + 1)
    return o0, o1


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
