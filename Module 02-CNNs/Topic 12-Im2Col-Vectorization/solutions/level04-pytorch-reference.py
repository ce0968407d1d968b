"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- im2col is torch.nn.functional.unfold, col2im is torch.nn.functional.fold (its adjoint: overlaps are
  summed), the convolution is torch.nn.functional.conv2d and its backward pass is autograd
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz

F.unfold returns (N, C * kh * kw, H_out * W_out): the same rows (c, i, j) as this topic's im2col, one
matrix per image. This topic puts the images side by side in ONE matrix, columns (n, ho, wo), so that
the convolution of the whole batch is one matrix product; the permute below converts one into the other.
Asymmetric padding ('same' with an even kernel) is F.pad first, because unfold and fold pad symmetrically.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

optim = load_topic(3)  # Parameter (.data, .grad): what Topic 03's optimizers update
inits = load_topic(5)  # kaiming_uniform, the initialiser PyTorch's Conv2d uses by default


# ----------------------------------------------------------------------------------------------------
# Task 1: im2col = F.unfold, with the images side by side
# ----------------------------------------------------------------------------------------------------

def im2col(x, kh, kw, stride=1, padding=0):
    """cols (C * kh * kw, N * H_out * W_out): cols[(c*kh + i)*kw + j, (n*H_out + ho)*W_out + wo] = xp[n, c, ho*sh + i, wo*sw + j]."""
    x, stride, pads, (H_out, W_out) = _check_im2col_inputs(x, kh, kw, stride, padding)
    N, C = x.shape[:2]
    top, bottom, left, right = pads
    with one_torch_thread():
        xp = F.pad(torch.from_numpy(np.ascontiguousarray(x)), (left, right, top, bottom))
        blocks = F.unfold(xp, (kh, kw), stride=stride)                # (N, C * kh * kw, H_out * W_out)
        cols = blocks.permute(1, 0, 2).reshape(C * kh * kw, N * H_out * W_out)
    return cols.numpy().copy()


# ----------------------------------------------------------------------------------------------------
# Task 2: col2im = F.fold (sums the overlaps), then the padding is cut off
# ----------------------------------------------------------------------------------------------------

def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """The adjoint of im2col: every entry of cols ADDED to the pixel it came from; returns x_shape."""
    cols, x_shape, stride, pads, (H_out, W_out) = _check_col2im_inputs(cols, x_shape, kh, kw, stride, padding)
    N, C, H, W = x_shape
    top, bottom, left, right = pads
    with one_torch_thread():
        blocks = torch.from_numpy(np.ascontiguousarray(cols)).reshape(C * kh * kw, N, H_out * W_out).permute(1, 0, 2)
        xp = F.fold(blocks, (H + top + bottom, W + left + right), (kh, kw), stride=stride)
    return xp[:, :, top:top + H, left:left + W].numpy().copy()


# ----------------------------------------------------------------------------------------------------
# Task 3: forward = F.conv2d
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """F.conv2d (after F.pad for the padding); the cache holds the autograd graph."""
    x, w, b, stride, pads, out_hw = _check_conv_inputs(x, w, b, stride, padding)
    top, bottom, left, right = pads
    x_t = torch.tensor(x, requires_grad=True)
    w_t = torch.tensor(w, requires_grad=True)
    b_t = None if b is None else torch.tensor(b, requires_grad=True)
    with one_torch_thread():
        out_t = F.conv2d(F.pad(x_t, (left, right, top, bottom)), w_t, b_t, stride=stride)
    cache = {"x_shape": x.shape, "w": w, "has_bias": b is not None, "stride": stride, "pads": pads,
             "x_t": x_t, "w_t": w_t, "b_t": b_t, "out_t": out_t}
    return out_t.detach().numpy().copy(), cache


# ----------------------------------------------------------------------------------------------------
# Task 4: backward = autograd
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """dx, dw, db (None without a bias) by autograd through F.conv2d's graph."""
    dout = _check_dout(dout, cache)
    leaves = [cache["x_t"], cache["w_t"]] + ([cache["b_t"]] if cache["has_bias"] else [])
    with one_torch_thread():
        grads = torch.autograd.grad(cache["out_t"], leaves, torch.from_numpy(np.ascontiguousarray(dout)),
                                    retain_graph=True)
    dx, dw = grads[0].numpy().copy(), grads[1].numpy().copy()
    db = grads[2].numpy().copy() if cache["has_bias"] else None
    return dx, dw, db


# ----------------------------------------------------------------------------------------------------
# Task 5: the layer
# ----------------------------------------------------------------------------------------------------

class Conv2d:
    """2-D convolution layer, as torch.nn.Conv2d (groups=1, dilation=1, zero padding), computed by torch.

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


# ----------------------------------------------------------------------------------------------------
# Golden files for the value tests
# ----------------------------------------------------------------------------------------------------

GOLDEN_IM2COL = {  # name: (x shape, kh, kw, stride, padding)
    "im2col_strided_padded": ((2, 3, 5, 6), 3, 2, (2, 1), (1, 2)),
    "im2col_same_even_kernel": ((1, 2, 4, 5), 2, 4, 1, "same"),
}
GOLDEN_CONV = {  # name: (x shape, w shape, bias?, stride, padding)
    "conv_basic": ((2, 3, 5, 5), (4, 3, 3, 3), True, 1, 1),
    "conv_strided_rectangular": ((2, 3, 7, 6), (4, 3, 3, 2), True, 2, (1, 0)),
    "conv_same_even_kernel": ((2, 2, 5, 6), (3, 2, 4, 2), True, 1, "same"),
    "conv_valid_no_bias": ((3, 2, 6, 7), (2, 2, 2, 3), False, (1, 2), "valid"),
}


PADDING_NAMES = ("valid", "same")  # a padding string is stored as its index here: golden files hold numbers only


def _geometry_arrays(stride, padding):
    """stride as a pair; padding as a pair, or as "padding_name" (the index in PADDING_NAMES) for a string."""
    arrays = {"stride": np.array(stride if isinstance(stride, tuple) else (stride, stride))}
    if isinstance(padding, str):
        arrays["padding_name"] = np.array(PADDING_NAMES.index(padding))
    else:
        arrays["padding"] = np.array(padding if isinstance(padding, tuple) else (padding, padding))
    return arrays


def make_golden():
    """{file name: {array name: array}} for tests/golden/, all float64 from fixed NumPy seeds."""
    golden = {}
    rng = np.random.default_rng(12)
    for name, (shape, kh, kw, stride, padding) in GOLDEN_IM2COL.items():
        x = rng.standard_normal(shape)
        cols = im2col(x, kh, kw, stride, padding)
        c = rng.standard_normal(cols.shape)
        golden[name] = {"x": x, "kh": np.array(kh), "kw": np.array(kw), **_geometry_arrays(stride, padding),
                        "cols": cols, "c": c, "col2im_c": col2im(c, shape, kh, kw, stride, padding)}
    for name, (x_shape, w_shape, bias, stride, padding) in GOLDEN_CONV.items():
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0]) if bias else None
        out, cache = conv2d_forward(x, w, b, stride, padding)
        dout = rng.standard_normal(out.shape)
        dx, dw, db = conv2d_backward(dout, cache)
        arrays = {"x": x, "w": w, **_geometry_arrays(stride, padding), "out": out, "dout": dout, "dx": dx, "dw": dw}
        if bias:
            arrays.update(b=b, db=db)
        golden[name] = arrays
    return golden


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 12 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)

    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    cols = im2col(x, 2, 2)
    print("F.unfold as im2col(x, 2, 2):\n", cols)
    assert np.array_equal(cols, [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8], [5, 6, 8, 9]])
    assert np.array_equal(col2im(np.ones_like(cols), x.shape, 2, 2)[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), rng.standard_normal(4)
    out, cache = conv2d_forward(x, w, b, stride=2, padding=1)
    cols = im2col(x, 3, 2, 2, 1)
    by_matmul = (w.reshape(4, -1) @ cols).reshape(4, 2, *out.shape[2:]).transpose(1, 0, 2, 3) + b[None, :, None, None]
    print(f"F.conv2d vs w_mat @ im2col: max |difference| {np.abs(out - by_matmul).max():.2e}")
    assert np.allclose(out, by_matmul, atol=1e-12)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and np.allclose(db, out[:, 0].size)
    print("All checks passed.")
