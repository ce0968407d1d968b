"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- conv2d_forward is torch.nn.functional.conv2d(stride=, padding=, dilation=, groups=) (a padding string goes
  to PyTorch as it is, so 'same' is PyTorch's own rule); conv2d_backward is autograd
- The layers use that convolution, with the same initialisation as the NumPy levels (PyTorch's default
  distribution, drawn by NumPy from the given seed)
- conv_params counts the parameters of a real torch.nn.Conv2d; conv_flops runs that layer on PyTorch's "meta"
  device (shapes only) and counts with torch.utils.flop_counter.conv_flop_count, the rule FlopCounterMode
  applies to every convolution (2 FLOPs per multiply-add, bias not counted)
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse
import math
import warnings

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import conv_flop_count

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

optim = load_topic(3)          # Parameter (.data, .grad)
inits = load_topic(5)          # kaiming_uniform, PyTorch's default initialiser for convolutions
conv_output_size = load_topic(11).conv_output_size


def _tensor(a, requires_grad=False):
    return torch.from_numpy(np.ascontiguousarray(a)).requires_grad_(requires_grad)


# ----------------------------------------------------------------------------------------------------
# Task 1: grouped, dilated convolution
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """torch.nn.functional.conv2d. x: (N, C_in, H, W); w: (C_out, C_in // groups, kH, kW); b: (C_out,) or None."""
    x, w, b, s, d, pads, G, out_hw = _check_conv_inputs(x, w, b, stride, padding, dilation, groups)
    xt, wt = _tensor(x, True), _tensor(w, True)
    bt = None if b is None else _tensor(b, True)
    torch_padding = padding if isinstance(padding, str) else (pads[0], pads[2])
    with one_torch_thread(), warnings.catch_warnings():
        warnings.simplefilter("ignore")      # 'same' with an even kernel: PyTorch warns that it pads a copy
        out = F.conv2d(xt, wt, bt, stride=s, padding=torch_padding, dilation=d, groups=G)
    return out.detach().numpy(), {"x": xt, "w": wt, "b": bt, "out": out}


def conv2d_backward(dout, cache):
    """Autograd: dout (N, C_out, Ho, Wo) -> dx, dw, db (None without a bias)."""
    out = cache["out"]
    dout = _check_dout(dout, tuple(out.shape), cache["w"].detach().numpy().dtype)
    inputs = [cache["x"], cache["w"]] + ([] if cache["b"] is None else [cache["b"]])
    with one_torch_thread():
        grads = torch.autograd.grad(out, inputs, _tensor(dout), retain_graph=True, allow_unused=True)
    grads = [g.numpy() if g is not None else np.zeros(tuple(t.shape), dtype=dout.dtype) for g, t in zip(grads, inputs)]
    return grads[0], grads[1], (grads[2] if cache["b"] is not None else None)


# ----------------------------------------------------------------------------------------------------
# Task 2: the layers
# ----------------------------------------------------------------------------------------------------

class Conv2d:
    """2-D convolution with groups and dilation, as torch.nn.Conv2d.

    weight: Parameter (out_channels, in_channels // groups, kH, kW); bias: Parameter (out_channels,) or None.
    Initialised like PyTorch: Kaiming uniform with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
    weight and bias, fan_in = (in_channels // groups) * kH * kW. rng: Generator, int seed or None.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, rng=None, dtype=np.float32):
        self.in_channels, self.out_channels = _positive(in_channels, "in_channels"), _positive(out_channels, "out_channels")
        self.groups = _check_groups(self.in_channels, self.out_channels, groups)
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride, self.dilation = _pair(stride, "stride", 1), _pair(dilation, "dilation", 1)
        _resolve_padding(padding, self.kernel_size, self.stride, self.dilation)   # fails here, not at forward
        self.padding = padding
        kh, kw = self.kernel_size
        fan_in = self.in_channels // self.groups * kh * kw
        rng = np.random.default_rng(rng)
        # Topic 05 draws (fan_in, fan_out) for x @ W: each column is one filter, flattened as (C_in // g, kH, kW)
        wt = inits.kaiming_uniform(fan_in, self.out_channels, rng=rng, dtype=dtype, nonlinearity="leaky_relu",
                                   a=math.sqrt(5))
        self.weight = optim.Parameter(np.ascontiguousarray(wt.T).reshape(self.out_channels, fan_in // (kh * kw), kh, kw))
        self.bias = None
        if bias:
            bound = 1.0 / math.sqrt(fan_in)
            self.bias = optim.Parameter(rng.uniform(-bound, bound, size=self.out_channels).astype(dtype))
        self.training = True
        self._cache = None

    def forward(self, x):
        b = None if self.bias is None else self.bias.data
        out, self._cache = conv2d_forward(x, self.weight.data, b, self.stride, self.padding, self.dilation, self.groups)
        return out

    def backward(self, dout):
        """dout -> dx; ADDS dw (and db) into weight.grad (and bias.grad)."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
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
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, groups={self.groups}, "
                f"bias={self.bias is not None})")


class DepthwiseConv2d(Conv2d):
    """One k x k filter per input channel (depth_multiplier of them): Conv2d with groups = in_channels.

    weight: (in_channels * depth_multiplier, 1, kH, kW), PyTorch's layout: output channel o filters input
    channel o // depth_multiplier.
    """

    def __init__(self, in_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1, bias=True,
                 rng=None, dtype=np.float32):
        in_channels = _positive(in_channels, "in_channels")
        self.depth_multiplier = _positive(depth_multiplier, "depth_multiplier")
        super().__init__(in_channels, in_channels * self.depth_multiplier, kernel_size, stride, padding, dilation,
                         groups=in_channels, bias=bias, rng=rng, dtype=dtype)


class SeparableConv2d:
    """Depthwise-separable convolution (MobileNet): a depthwise k x k convolution, then a pointwise 1x1 one.

    depthwise: DepthwiseConv2d(in_channels, kernel_size, stride, padding, dilation, depth_multiplier, bias=False);
    pointwise: Conv2d(in_channels * depth_multiplier, out_channels, 1, bias=bias). The depthwise bias is left out:
    a constant per channel, mixed by the (linear) pointwise layer, is a constant per output channel, which the
    pointwise bias already is.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1,
                 bias=True, rng=None, dtype=np.float32):
        rng = np.random.default_rng(rng)
        self.depthwise = DepthwiseConv2d(in_channels, kernel_size, stride, padding, dilation, depth_multiplier,
                                         bias=False, rng=rng, dtype=dtype)
        self.pointwise = Conv2d(self.depthwise.out_channels, out_channels, 1, bias=bias, rng=rng, dtype=dtype)
        self.training = True

    def forward(self, x):
        return self.pointwise.forward(self.depthwise.forward(x))

    def backward(self, dout):
        return self.depthwise.backward(self.pointwise.backward(dout))

    def parameters(self):
        return self.depthwise.parameters() + self.pointwise.parameters()

    def train(self):
        self.training = True
        self.depthwise.train(), self.pointwise.train()
        return self

    def eval(self):
        self.training = False
        self.depthwise.eval(), self.pointwise.eval()
        return self

    def __repr__(self):
        return f"SeparableConv2d({self.depthwise!r}, {self.pointwise!r})"


# ----------------------------------------------------------------------------------------------------
# Task 3: parameter and FLOP counts, read off real PyTorch layers
# ----------------------------------------------------------------------------------------------------

def conv_params(in_channels, out_channels, kernel_size, groups=1, bias=True):
    """sum(p.numel()) of torch.nn.Conv2d(in_channels, out_channels, kernel_size, groups=groups, bias=bias)."""
    C_in, C_out = _positive(in_channels, "in_channels"), _positive(out_channels, "out_channels")
    G = _check_groups(C_in, C_out, groups)
    layer = torch.nn.Conv2d(C_in, C_out, _pair(kernel_size, "kernel_size", 1), groups=G, bias=bool(bias),
                            device="meta")
    return int(sum(p.numel() for p in layer.parameters()))


def conv_flops(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, dilation=1, groups=1):
    """FLOPs of one forward pass on ONE image, as torch.utils.flop_counter counts them."""
    C_in, C_out = _positive(in_channels, "in_channels"), _positive(out_channels, "out_channels")
    G = _check_groups(C_in, C_out, groups)
    k, s, d = _pair(kernel_size, "kernel_size", 1), _pair(stride, "stride", 1), _pair(dilation, "dilation", 1)
    H, W = _pair(input_size, "input_size", 1)
    top, bottom, left, right = _resolve_padding(padding, k, s, d)
    conv_output_size(H + top + bottom, k[0], s[0], 0, d[0])     # a kernel that does not fit: ValueError
    conv_output_size(W + left + right, k[1], s[1], 0, d[1])
    layer = torch.nn.Conv2d(C_in, C_out, k, stride=s, padding=padding, dilation=d, groups=G, bias=False,
                            device="meta")
    x = torch.empty(1, C_in, H, W, device="meta")
    out = layer(x)
    return int(conv_flop_count(list(x.shape), list(layer.weight.shape), list(out.shape), transposed=False))


# ----------------------------------------------------------------------------------------------------
# Task 4: dilation and the receptive field
# ----------------------------------------------------------------------------------------------------

def effective_kernel_size(kernel_size, dilation):
    """Pixels one dilated kernel spans along an axis: dilation * (kernel_size - 1) + 1."""
    k, d = _int(kernel_size, "kernel_size", 1), _int(dilation, "dilation", 1)
    return d * (k - 1) + 1


def receptive_field(layers):
    """(size, jump) of a stack of (kernel_size, stride, dilation) layers along one axis, input first.

    A dilated kernel covers effective_kernel_size pixels, so the stack is Topic 13's receptive_field of
    the effective kernels. (kernel_size, stride) pairs mean dilation 1.
    """
    dense = []
    for layer in layers:
        k, s, d = _check_layer_spec(layer)
        dense.append((effective_kernel_size(k, d), s))
    return load_topic(13).receptive_field(dense)


# ----------------------------------------------------------------------------------------------------
# Input checks: a wrong shape or argument is a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

def _int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int (or a pair of ints), got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _positive(value, name):
    return _int(value, name, 1)


def _pair(value, name, minimum):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return _int(value[0], name, minimum), _int(value[1], name, minimum)
    v = _int(value, name, minimum)
    return v, v


def _check_groups(C_in, C_out, groups):
    G = _int(groups, "groups", 1)
    if C_in % G or C_out % G:
        raise ValueError(f"groups={G} must divide in_channels={C_in} and out_channels={C_out}")
    return G


def _resolve_padding(padding, k, s, d):
    """padding -> zeros to add (top, bottom, left, right). 'same' (stride 1 only) adds d*(k-1) per axis, the
    odd one at the bottom / right, as PyTorch."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if tuple(s) != (1, 1):
                raise ValueError(f"padding='same' is not supported for strided convolutions (stride={tuple(s)})")
            th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = _pair(padding, "padding", 0)
    return (ph, ph, pw, pw)


def _check_conv_inputs(x, w, b, stride, padding, dilation, groups):
    x, w = np.asarray(x), np.asarray(w)
    b = None if b is None else np.asarray(b)
    if x.ndim != 4:
        raise ValueError(f"conv2d expects x of shape (N, C_in, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"conv2d expects w of shape (C_out, C_in // groups, kH, kW), got shape {w.shape}")
    N, C_in, H, W = x.shape
    C_out, Cg, kh, kw = w.shape
    if min(C_out, Cg, kh, kw) < 1:
        raise ValueError(f"w of shape {w.shape} has an empty dimension")
    G = _int(groups, "groups", 1)
    if C_out % G:
        raise ValueError(f"groups={G} must divide out_channels={C_out} (w of shape {w.shape})")
    if Cg * G != C_in:
        raise ValueError(f"w of shape {w.shape} with groups={G} expects x to have {Cg} * {G} = {Cg * G} channels "
                         f"(w is (C_out, C_in // groups, kH, kW)), but x {x.shape} has {C_in}")
    if b is not None and b.shape != (C_out,):
        raise ValueError(f"b must have shape ({C_out},), one bias per output channel, got {b.shape}")
    s, d = _pair(stride, "stride", 1), _pair(dilation, "dilation", 1)
    pads = _resolve_padding(padding, (kh, kw), s, d)
    Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
    span = (d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1)
    if span[0] > Hp or span[1] > Wp:
        raise ValueError(f"the kernel spans {span} pixels (kernel {(kh, kw)}, dilation {d}) but the padded input "
                         f"is only {(Hp, Wp)}")
    out_hw = (conv_output_size(Hp, kh, s[0], 0, d[0]), conv_output_size(Wp, kw, s[1], 0, d[1]))
    dtype = np.result_type(*((x, w) if b is None else (x, w, b)))
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return x, w, b, s, d, pads, G, out_hw


def _check_dout(dout, expected, dtype):
    dout = np.asarray(dout)
    if dout.shape != tuple(expected):
        raise ValueError(f"dout must have the shape of the output {tuple(expected)}, got {dout.shape}")
    return dout.astype(dtype, copy=False)


def _check_layer_spec(layer):
    if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
        raise ValueError(f"each layer must be (kernel_size, stride) or (kernel_size, stride, dilation), got {layer!r}")
    k, s = _int(layer[0], "kernel_size", 1), _int(layer[1], "stride", 1)
    d = _int(layer[2], "dilation", 1) if len(layer) == 3 else 1
    return k, s, d


# ----------------------------------------------------------------------------------------------------
# Input checks: a wrong shape or argument is a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

def _int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an int (or a pair of ints), got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _positive(value, name):
    return _int(value, name, 1)


def _pair(value, name, minimum):
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair (h, w), got {value!r}")
        return _int(value[0], name, minimum), _int(value[1], name, minimum)
    v = _int(value, name, minimum)
    return v, v


def _check_groups(C_in, C_out, groups):
    G = _int(groups, "groups", 1)
    if C_in % G or C_out % G:
        raise ValueError(f"groups={G} must divide in_channels={C_in} and out_channels={C_out}")
    return G


def _resolve_padding(padding, k, s, d):
    """padding -> zeros to add (top, bottom, left, right). 'same' (stride 1 only) adds d*(k-1) per axis, the
    odd one at the bottom / right, as PyTorch."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if tuple(s) != (1, 1):
                raise ValueError(f"padding='same' is not supported for strided convolutions (stride={tuple(s)})")
            th, tw = d[0] * (k[0] - 1), d[1] * (k[1] - 1)
            return (th // 2, th - th // 2, tw // 2, tw - tw // 2)
        raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    ph, pw = _pair(padding, "padding", 0)
    return (ph, ph, pw, pw)


def _pad(x, pads):
    top, bottom, left, right = pads
    N, C, H, W = x.shape
    xp = np.zeros((N, C, H + top + bottom, W + left + right), dtype=x.dtype)
    xp[:, :, top:top + H, left:left + W] = x
    return xp


def _check_conv_inputs(x, w, b, stride, padding, dilation, groups):
    x, w = np.asarray(x), np.asarray(w)
    b = None if b is None else np.asarray(b)
    if x.ndim != 4:
        raise ValueError(f"conv2d expects x of shape (N, C_in, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"conv2d expects w of shape (C_out, C_in // groups, kH, kW), got shape {w.shape}")
    N, C_in, H, W = x.shape
    C_out, Cg, kh, kw = w.shape
    if min(C_out, Cg, kh, kw) < 1:
        raise ValueError(f"w of shape {w.shape} has an empty dimension")
    G = _int(groups, "groups", 1)
    if C_out % G:
        raise ValueError(f"groups={G} must divide out_channels={C_out} (w of shape {w.shape})")
    if Cg * G != C_in:
        raise ValueError(f"w of shape {w.shape} with groups={G} expects x to have {Cg} * {G} = {Cg * G} channels "
                         f"(w is (C_out, C_in // groups, kH, kW)), but x {x.shape} has {C_in}")
    if b is not None and b.shape != (C_out,):
        raise ValueError(f"b must have shape ({C_out},), one bias per output channel, got {b.shape}")
    s, d = _pair(stride, "stride", 1), _pair(dilation, "dilation", 1)
    pads = _resolve_padding(padding, (kh, kw), s, d)
    Hp, Wp = H + pads[0] + pads[1], W + pads[2] + pads[3]
    span = (d[0] * (kh - 1) + 1, d[1] * (kw - 1) + 1)
    if span[0] > Hp or span[1] > Wp:
        raise ValueError(f"the kernel spans {span} pixels (kernel {(kh, kw)}, dilation {d}) but the padded input "
                         f"is only {(Hp, Wp)}")
    out_hw = (conv_output_size(Hp, kh, s[0], 0, d[0]), conv_output_size(Wp, kw, s[1], 0, d[1]))
    dtype = np.result_type(*((x, w) if b is None else (x, w, b)))
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    x, w = x.astype(dtype, copy=False), w.astype(dtype, copy=False)
    b = None if b is None else b.astype(dtype, copy=False)
    return x, w, b, s, d, pads, G, out_hw


def _check_dout(dout, expected, dtype):
    dout = np.asarray(dout)
    if dout.shape != tuple(expected):
        raise ValueError(f"dout must have the shape of the output {tuple(expected)}, got {dout.shape}")
    return dout.astype(dtype, copy=False)


def _check_layer_spec(layer):
    if not isinstance(layer, (tuple, list)) or len(layer) not in (2, 3):
        raise ValueError(f"each layer must be (kernel_size, stride) or (kernel_size, stride, dilation), got {layer!r}")
    k, s = _int(layer[0], "kernel_size", 1), _int(layer[1], "stride", 1)
    d = _int(layer[2], "dilation", 1) if len(layer) == 3 else 1
    return k, s, d


# ----------------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------------

# (name, x shape, w shape, bias, kwargs): every argument at a non-default value somewhere
CONV_CASES = [
    ("dilated", (2, 3, 7, 7), (4, 3, 3, 3), True, dict(padding=2, dilation=2)),
    ("grouped", (2, 4, 6, 6), (6, 2, 3, 3), True, dict(stride=2, padding=1, groups=2)),
    ("depthwise_x2", (2, 3, 6, 5), (6, 1, 3, 3), True, dict(padding=1, groups=3)),
    ("grouped_dilated_rect", (1, 4, 8, 7), (4, 1, 3, 2), False, dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=4)),
    ("same_even_dilated", (2, 2, 6, 6), (3, 2, 2, 2), True, dict(padding="same", dilation=3)),
    ("same_even", (2, 2, 5, 6), (2, 1, 4, 3), False, dict(padding="same", groups=2)),
    ("valid_bottleneck_1x1", (2, 6, 4, 4), (3, 6, 1, 1), True, dict(padding="valid")),
    ("strided_dilated", (2, 2, 9, 9), (4, 2, 3, 3), True, dict(stride=2, dilation=2)),
]

# (in, out, kernel, input size, stride, padding, dilation, groups, bias): the README's table and more
COUNT_CASES = [
    (128, 128, 3, 32, 1, 1, 1, 1, True),     # standard
    (128, 128, 3, 32, 1, 1, 1, 128, False),  # depthwise (of a separable pair)
    (128, 128, 1, 32, 1, 0, 1, 1, True),     # pointwise (of a separable pair)
    (128, 128, 3, 32, 1, 1, 1, 4, True),     # grouped
    (128, 32, 1, 32, 1, 0, 1, 1, True),      # bottleneck: reduce
    (32, 32, 3, 32, 1, 1, 1, 1, True),       # bottleneck: 3x3
    (32, 128, 1, 32, 1, 0, 1, 1, True),      # bottleneck: expand
    (64, 96, (3, 5), (20, 17), (2, 1), (1, 2), (2, 1), 8, True),
    (16, 48, 3, 15, 1, "same", 3, 16, False),
    (8, 8, 7, 9, 2, 0, 1, 2, True),
]


def _grid(rng, shape):
    """Random values in [-2, 2] on a grid of 1/16 (varied enough for every test, and the files stay small)."""
    return rng.integers(-32, 33, size=shape).astype(np.float64) / 16


def make_golden():
    rng = np.random.default_rng(1515)
    conv = {}
    for name, x_shape, w_shape, has_bias, kwargs in CONV_CASES:
        x, w = _grid(rng, x_shape), _grid(rng, w_shape)
        b = _grid(rng, w_shape[0]) if has_bias else None
        out, cache = conv2d_forward(x, w, b, **kwargs)
        dout = _grid(rng, out.shape)
        dx, dw, db = conv2d_backward(dout, cache)
        conv.update({f"{name}_x": x, f"{name}_w": w, f"{name}_out": out, f"{name}_dout": dout, f"{name}_dx": dx,
                     f"{name}_dw": dw})
        if has_bias:
            conv.update({f"{name}_b": b, f"{name}_db": db})
    # the layers: DepthwiseConv2d with a multiplier and SeparableConv2d, as torch modules
    x = _grid(rng, (2, 3, 6, 6))
    dw_layer = torch.nn.Conv2d(3, 6, 3, padding=1, dilation=1, groups=3, dtype=torch.float64)
    pw_layer = torch.nn.Conv2d(6, 5, 1, dtype=torch.float64)
    with torch.no_grad():
        dw_layer.weight.copy_(_tensor(_grid(rng, (6, 1, 3, 3))))
        pw_layer.weight.copy_(_tensor(_grid(rng, (5, 6, 1, 1))))
        pw_layer.bias.copy_(_tensor(_grid(rng, 5)))
    xt = _tensor(x, True)
    with one_torch_thread():
        mid = F.conv2d(xt, dw_layer.weight, None, padding=1, groups=3)    # the depthwise half has no bias
        out = pw_layer(mid)
        dout = _grid(rng, tuple(out.shape))
        out.backward(_tensor(dout))
    layers = {"x": x, "dw_weight": dw_layer.weight.detach().numpy(), "pw_weight": pw_layer.weight.detach().numpy(),
              "pw_bias": pw_layer.bias.detach().numpy(), "mid": mid.detach().numpy(), "out": out.detach().numpy(),
              "dout": dout, "dx": xt.grad.numpy(), "d_dw_weight": dw_layer.weight.grad.numpy(),
              "d_pw_weight": pw_layer.weight.grad.numpy(), "d_pw_bias": pw_layer.bias.grad.numpy()}
    params, flops = [], []
    for c_in, c_out, k, size, s, p, d, g, bias in COUNT_CASES:
        params.append(conv_params(c_in, c_out, k, groups=g, bias=bias))
        flops.append(conv_flops(c_in, c_out, k, size, stride=s, padding=p, dilation=d, groups=g))
    counts = {"params": np.array(params, dtype=np.int64), "flops": np.array(flops, dtype=np.int64)}
    return {"conv": conv, "layers": layers, "counts": counts}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 15 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 4, 9, 9)), rng.standard_normal((6, 2, 3, 3))
    out, cache = conv2d_forward(x, w, None, padding=2, dilation=2, groups=2)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert out.shape == (2, 6, 9, 9) and dx.shape == x.shape and dw.shape == w.shape and db is None
    assert conv_params(128, 128, 3) == 147584 and conv_flops(128, 128, 3, 32, padding=1) == 301989888
    assert conv_flops(128, 128, 3, 32, padding=1, groups=4) == 301989888 // 4
    print("All checks passed.")
