"""
Level 1: Naive Implementation
- Priority: Correctness over speed: one loop per index of the formula, one window at a time
- Constraints: basic NumPy indexing and np.sum over one receptive field; no im2col, no matrix products
- Target: Pass functional tests only (slow: a Python iteration per output value)

Topic 15: modern convolutions, with PyTorch's semantics (torch.nn.functional.conv2d(groups=, dilation=)).
    conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1) -> (out, cache)
    conv2d_backward(dout, cache) -> (dx, dw, db)                  db is None without a bias
    Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias, rng, dtype)
    DepthwiseConv2d(in_channels, kernel_size, ..., depth_multiplier=1)     groups = in_channels
    SeparableConv2d(in_channels, out_channels, kernel_size, ...)           depthwise k x k, then pointwise 1x1
    conv_params(...), conv_flops(...)                             counts per layer (FLOPs = 2 x multiply-adds)
    effective_kernel_size(kernel_size, dilation), receptive_field(layers)

Layout NCHW: x (N, C_in, H, W), w (C_out, C_in // groups, kH, kW), b (C_out,). With G = groups,
Cg = C_in // G input channels and Og = C_out // G output channels per group, output channel o belongs to
group g = o // Og and sees only the input channels g*Cg .. (g+1)*Cg - 1:
    out[n, o, i, j] = b[o] + sum_{c < Cg, u, v} w[o, c, u, v] * xp[n, g*Cg + c, i*sh + u*dh, j*sw + v*dw]
(xp: x padded with zeros). The receptive field of output (i, j) is the slice
xp[n, g*Cg:(g+1)*Cg, i*sh : i*sh + dh*(kH-1) + 1 : dh, j*sw : j*sw + dw*(kW-1) + 1 : dw]: a (Cg, kH, kW)
block whose taps are d pixels apart.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)          # Parameter (.data, .grad)
inits = load_topic(5)          # kaiming_uniform, PyTorch's default initialiser for convolutions
conv_output_size = load_topic(11).conv_output_size   # floor((size + 2p - d(k-1) - 1) / s) + 1
pooling = load_topic(13)       # receptive_field of (kernel_size, stride) layers


# ----------------------------------------------------------------------------------------------------
# Task 1: grouped, dilated convolution
# ----------------------------------------------------------------------------------------------------

def _window(n, g, i, j, Cg, k, s, d):
    """Index of the receptive field of output (i, j) of group g in the padded input: (Cg, kH, kW) cells."""
    (kh, kw), (sh, sw), (dh, dw) = k, s, d
    return (n, slice(g * Cg, (g + 1) * Cg),
            slice(i * sh, i * sh + dh * (kh - 1) + 1, dh),     # kH rows, dh apart
            slice(j * sw, j * sw + dw * (kw - 1) + 1, dw))     # kW columns, dw apart


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Grouped, dilated 2-D cross-correlation, as torch.nn.functional.conv2d.

    x: (N, C_in, H, W); w: (C_out, C_in // groups, kH, kW); b: (C_out,) or None.
    stride, dilation: int or (h, w); padding: int, (h, w), 'valid' or 'same' (stride 1 only).
    Returns out (N, C_out, Ho, Wo) in the dtype of x and w, and the cache for conv2d_backward.
    """
    x, w, b, s, d, pads, G, (Ho, Wo) = _check_conv_inputs(x, w, b, stride, padding, dilation, groups)
    N = x.shape[0]
    C_out, Cg, kh, kw = w.shape
    Og = C_out // G
    xp = _pad(x, pads)
    out = np.zeros((N, C_out, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for o in range(C_out):
            g = o // Og                                    # output channel o belongs to group g ...
            for i in range(Ho):
                for j in range(Wo):
                    field = xp[_window(n, g, i, j, Cg, (kh, kw), s, d)]   # ... and sees only its Cg channels
                    out[n, o, i, j] = np.sum(field * w[o]) + (0 if b is None else b[o])
    cache = {"x": x, "w": w, "pads": pads, "s": s, "d": d, "groups": G, "has_bias": b is not None,
             "out_hw": (Ho, Wo)}
    return out, cache


def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward: dout (N, C_out, Ho, Wo) -> dx (N, C_in, H, W), dw like w, db (C_out,) or None."""
    x, w, G, s, d = cache["x"], cache["w"], cache["groups"], cache["s"], cache["d"]
    N, C_in, H, W = x.shape
    C_out, Cg, kh, kw = w.shape
    Ho, Wo = cache["out_hw"]
    dout = _check_dout(dout, (N, C_out, Ho, Wo), w.dtype)
    Og = C_out // G
    xp = _pad(x, cache["pads"])
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.zeros(C_out, dtype=w.dtype) if cache["has_bias"] else None
    for n in range(N):
        for o in range(C_out):
            g = o // Og
            for i in range(Ho):
                for j in range(Wo):
                    where = _window(n, g, i, j, Cg, (kh, kw), s, d)
                    g_out = dout[n, o, i, j]
                    dw[o] += g_out * xp[where]             # every weight met this receptive field
                    dxp[where] += g_out * w[o]             # += : receptive fields overlap
                    if db is not None:
                        db[o] += g_out
    top, _, left, _ = cache["pads"]
    return dxp[:, :, top:top + H, left:left + W].copy(), dw, db


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
# Task 3: parameter and FLOP counts
# ----------------------------------------------------------------------------------------------------

def conv_params(in_channels, out_channels, kernel_size, groups=1, bias=True):
    """Number of parameters of a Conv2d: out_channels * (in_channels / groups) * kH * kW (+ out_channels)."""
    C_in, C_out = _positive(in_channels, "in_channels"), _positive(out_channels, "out_channels")
    G = _check_groups(C_in, C_out, groups)
    kh, kw = _pair(kernel_size, "kernel_size", 1)
    return C_out * (C_in // G) * kh * kw + (C_out if bias else 0)


def conv_flops(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, dilation=1, groups=1):
    """FLOPs of one forward pass for ONE image, counting a multiply-add as 2 FLOPs (torch.utils.flop_counter's
    convention); the bias is not counted. = 2 * Ho * Wo * out_channels * (in_channels / groups) * kH * kW."""
    C_in, C_out = _positive(in_channels, "in_channels"), _positive(out_channels, "out_channels")
    G = _check_groups(C_in, C_out, groups)
    k, s, d = _pair(kernel_size, "kernel_size", 1), _pair(stride, "stride", 1), _pair(dilation, "dilation", 1)
    H, W = _pair(input_size, "input_size", 1)
    top, bottom, left, right = _resolve_padding(padding, k, s, d)
    Ho = conv_output_size(H + top + bottom, k[0], s[0], 0, d[0])
    Wo = conv_output_size(W + left + right, k[1], s[1], 0, d[1])
    macs_per_output = (C_in // G) * k[0] * k[1]       # each output reads only its group's channels
    return 2 * Ho * Wo * C_out * macs_per_output


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
    return pooling.receptive_field(dense)


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


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 9, 9))
    w = rng.standard_normal((6, 2, 3, 3))
    out, cache = conv2d_forward(x, w, None, padding=2, dilation=2, groups=2)
    print(f"grouped (2) dilated (2) conv: {x.shape} * {w.shape} -> {out.shape}")
    assert out.shape == (2, 6, 9, 9), "Shape mismatch!"
    # a grouped convolution is G separate convolutions side by side
    first, _ = conv2d_forward(x[:, :2], w[:3], padding=2, dilation=2)
    assert np.allclose(out[:, :3], first)
    # a dilated kernel is a dense kernel with zeros between its taps
    w_dense = np.zeros((6, 2, 5, 5))
    w_dense[:, :, ::2, ::2] = w
    dense, _ = conv2d_forward(x, w_dense, None, padding=2, groups=2)
    assert np.allclose(out, dense)
    dx, dw, db = conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape and dw.shape == w.shape and db is None
    print("MobileNet layer 128 -> 128, 3x3 on 32x32:",
          f"standard {conv_params(128, 128, 3):,} params / {conv_flops(128, 128, 3, 32, padding=1):,} FLOPs,",
          f"separable {conv_params(128, 128, 3, groups=128, bias=False) + conv_params(128, 128, 1):,} params")
    assert receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)]) == (31, 1)
    print("All checks passed.")
