"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- conv2d_forward is torch.nn.functional.conv2d (PyTorch resolves 'same' and 'valid' itself);
  conv2d_backward is autograd through that call; Conv2d is the NumPy layer of the other levels on top
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz

The inputs are checked exactly as in the NumPy levels (a clear ValueError where torch would raise a
RuntimeError, or would silently accept something the contract refuses), then handed to torch.
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

optim = load_topic(3)  # Parameter (.data, .grad): what Topic 03's optimizers update
inits = load_topic(5)  # kaiming_uniform, the initialiser PyTorch's Conv2d uses by default


# ----------------------------------------------------------------------------------------------------
# Task 1: the output size
# ----------------------------------------------------------------------------------------------------

def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Number of window positions along one axis, as PyTorch's shape rule for Conv2d:
    floor((size + 2p - d(k - 1) - 1) / s) + 1. Raises ValueError when the window does not fit."""
    size, kernel_size, stride, padding, dilation = _check_size_arguments(size, kernel_size, stride, padding, dilation)
    span = dilation * (kernel_size - 1) + 1
    padded = size + 2 * padding
    if span > padded:
        raise ValueError(f"kernel (size {kernel_size}, dilation {dilation}, span {span}) does not fit the padded "
                         f"input of size {size} + 2 * {padding} = {padded}")
    return (padded - span) // stride + 1


def _resolve_padding(padding, kernel, stride):
    """padding (int, (ph, pw), 'valid' or 'same') -> zeros to add (top, bottom, left, right), as PyTorch."""
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


# ----------------------------------------------------------------------------------------------------
# Task 2: forward
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """torch.nn.functional.conv2d on NumPy arrays: same contract as the NumPy levels.

    x: (N, C_in, H, W); w: (C_out, C_in, kH, kW); b: (C_out,) or None; stride: int or (sh, sw);
    padding: int, (ph, pw), 'valid' or 'same'. Returns out (N, C_out, H_out, W_out) and a cache holding
    the autograd graph.
    """
    x, w, b, stride, pads, out_hw = _check_conv_inputs(x, w, b, stride, padding)
    x_t = torch.tensor(x, requires_grad=True)                 # copies: torch never sees the caller's memory
    w_t = torch.tensor(w, requires_grad=True)
    b_t = None if b is None else torch.tensor(b, requires_grad=True)
    torch_padding = padding if isinstance(padding, str) else _pair(padding, "padding", minimum=0)
    with one_torch_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")                       # 'same' with an even kernel: PyTorch's note on the copy
        out_t = F.conv2d(x_t, w_t, b_t, stride=stride, padding=torch_padding)
    cache = {"x": x, "w": w, "has_bias": b is not None, "stride": stride, "pads": pads,
             "graph": (x_t, w_t, b_t, out_t)}
    return out_t.detach().numpy().copy(), cache


# ----------------------------------------------------------------------------------------------------
# Task 3: backward
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """dx, dw, db (None without bias) by autograd through F.conv2d's graph."""
    dout = _check_dout(dout, cache)
    x_t, w_t, b_t, out_t = cache["graph"]
    inputs = (x_t, w_t) if b_t is None else (x_t, w_t, b_t)
    with one_torch_thread():
        grads = torch.autograd.grad(out_t, inputs, torch.tensor(dout), retain_graph=True)
    grads = [g.numpy().copy() for g in grads]
    return grads[0], grads[1], (grads[2] if b_t is not None else None)


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


# ----------------------------------------------------------------------------------------------------
# Golden files for the value tests
# ----------------------------------------------------------------------------------------------------

# name -> (x shape, w shape, stride, padding, bias); tests/test_basic.py reads the same table
GOLDEN_CASES = {
    "basic": ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, True),
    "strided_padded": ((2, 2, 7, 6), (3, 2, 3, 3), 2, 1, True),
    "rectangular": ((2, 3, 6, 9), (2, 3, 2, 3), (2, 1), (1, 2), True),
    "same_even_kernel": ((1, 2, 5, 6), (3, 2, 2, 4), 1, "same", True),
    "valid_no_bias": ((2, 2, 5, 4), (2, 2, 3, 2), (1, 2), "valid", False),
}


def make_golden():
    """{file name: {array name: array}} for tests/golden/: float64 inputs from fixed seeds, torch's outputs."""
    golden = {}
    for k, (name, (x_shape, w_shape, stride, padding, bias)) in enumerate(GOLDEN_CASES.items()):
        rng = np.random.default_rng(1100 + k)
        x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0]) if bias else None
        out, cache = conv2d_forward(x, w, b, stride, padding)
        dout = rng.standard_normal(out.shape)
        dx, dw, db = conv2d_backward(dout, cache)
        arrays = {"x": x, "w": w, "out": out, "dout": dout, "dx": dx, "dw": dw}
        if bias:
            arrays.update(b=b, db=db)
        golden[f"conv_{name}"] = arrays
    return golden


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 11 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)

    x = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 2, 1]], dtype=np.float64)[None, None]
    w = np.array([[1, 0, 2], [0, -1, 0], [-1, 0, 0]], dtype=np.float64)[None, None]
    out, cache = conv2d_forward(x, w, np.array([0.5]), stride=2, padding=1)
    print("padding 1, stride 2 (torch):\n", out[0, 0])
    assert np.array_equal(out[0, 0], [[-0.5, -0.5], [0.5, 3.5]])
    dx, dw, db = conv2d_backward(np.ones((1, 1, 2, 2)), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (1,) and db[0] == 4.0

    layer = Conv2d(3, 4, kernel_size=(3, 2), stride=(2, 1), padding=1, rng=0)
    module = torch.nn.Conv2d(3, 4, kernel_size=(3, 2), stride=(2, 1), padding=1)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.weight.data))
        module.bias.copy_(torch.from_numpy(layer.bias.data))
    xb = np.random.default_rng(1).standard_normal((2, 3, 7, 6)).astype(np.float32)
    ours, theirs = layer.forward(xb), module(torch.from_numpy(xb)).detach().numpy()
    print(f"{layer} vs torch.nn.Conv2d: max |difference| {np.abs(ours - theirs).max():.2e}")
    assert np.allclose(ours, theirs, atol=1e-6)
    bound = 1 / math.sqrt(3 * 3 * 2)
    assert np.abs(layer.weight.data).max() <= bound and np.abs(module.weight.detach().numpy()).max() <= bound
    print("All checks passed.")
