"""
Topic 15: Modern Convolutions - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 15

Conventions (Module 02): x is (N, C_in, H, W); w is (C_out, C_in // groups, kH, kW); b is (C_out,) or None.
PyTorch's semantics (torch.nn.functional.conv2d with stride, padding, dilation, groups):
    groups split the channels in CONTIGUOUS blocks; output channel o belongs to group o // (C_out // groups)
    dilation spreads the taps of a kernel d pixels apart (it is not a stride)
    padding: int, (h, w), 'valid' or 'same' (stride 1 only; the odd zero at the bottom / right)
    FLOPs: 2 per multiply-add, for one image, bias not counted (torch.utils.flop_counter's convention)
Bad arguments and wrong shapes raise ValueError; an empty batch gives an empty output.
"""

from __future__ import annotations

import math  # noqa: F401  (kaiming bounds)

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)                                  # optim.Parameter(data): .data and .grad
inits = load_topic(5)                                  # inits.kaiming_uniform(fan_in, fan_out, rng, dtype, nonlinearity, a)
conv_output_size = load_topic(11).conv_output_size     # conv_output_size(size, kernel_size, stride, padding, dilation)
pooling = load_topic(13)                               # pooling.receptive_field([(kernel_size, stride), ...])


# ----------------------------------------------------------------------------------------------------
# Task 1: grouped, dilated convolution
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Grouped, dilated 2-D cross-correlation, as torch.nn.functional.conv2d.

    x: (N, C_in, H, W); w: (C_out, C_in // groups, kH, kW); b: (C_out,) or None.
    out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * xp[n, g*Cg + c, i*sh + u*dh, j*sw + v*dw], g = o // Og.
    Returns (out (N, C_out, Ho, Wo), cache). Raises ValueError for bad shapes or arguments (questions.md).
    """
    raise NotImplementedError("Task 1: conv2d_forward (see questions.md)")


def conv2d_backward(dout, cache):
    """dout (N, C_out, Ho, Wo) -> (dx (N, C_in, H, W), dw like w, db (C_out,) or None when b was None)."""
    raise NotImplementedError("Task 1: conv2d_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: the layers (Layer protocol of Module 01)
# ----------------------------------------------------------------------------------------------------

class Conv2d:
    """torch.nn.Conv2d with groups and dilation. weight (out, in // groups, kH, kW), bias (out,) or None,
    both U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = (in // groups) * kH * kW (Kaiming uniform, a = sqrt(5))."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, rng=None, dtype=np.float32):
        raise NotImplementedError("Task 2: Conv2d.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 2: Conv2d.forward (see questions.md)")

    def backward(self, dout):
        """Returns dx; ADDS dw (and db) into weight.grad (and bias.grad). RuntimeError before forward."""
        raise NotImplementedError("Task 2: Conv2d.backward (see questions.md)")

    def parameters(self):
        """[weight, bias], or [weight] without a bias."""
        raise NotImplementedError("Task 2: Conv2d.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 2: Conv2d.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 2: Conv2d.eval (see questions.md)")


class DepthwiseConv2d(Conv2d):
    """Conv2d with groups = in_channels; weight (in_channels * depth_multiplier, 1, kH, kW), PyTorch's layout:
    output channel o filters input channel o // depth_multiplier."""

    def __init__(self, in_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1, bias=True,
                 rng=None, dtype=np.float32):
        raise NotImplementedError("Task 2: DepthwiseConv2d.__init__ (see questions.md)")


class SeparableConv2d:
    """MobileNet's depthwise-separable convolution: self.depthwise (k x k, no bias), then self.pointwise (1x1)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, depth_multiplier=1,
                 bias=True, rng=None, dtype=np.float32):
        raise NotImplementedError("Task 2: SeparableConv2d.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 2: SeparableConv2d.forward (see questions.md)")

    def backward(self, dout):
        raise NotImplementedError("Task 2: SeparableConv2d.backward (see questions.md)")

    def parameters(self):
        raise NotImplementedError("Task 2: SeparableConv2d.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 2: SeparableConv2d.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 2: SeparableConv2d.eval (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: parameter and FLOP counts
# ----------------------------------------------------------------------------------------------------

def conv_params(in_channels, out_channels, kernel_size, groups=1, bias=True):
    """out_channels * (in_channels // groups) * kH * kW (+ out_channels with a bias)."""
    raise NotImplementedError("Task 3: conv_params (see questions.md)")


def conv_flops(in_channels, out_channels, kernel_size, input_size, stride=1, padding=0, dilation=1, groups=1):
    """FLOPs of one forward pass on ONE image: 2 * Ho * Wo * out_channels * (in_channels // groups) * kH * kW."""
    raise NotImplementedError("Task 3: conv_flops (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: dilation and the receptive field
# ----------------------------------------------------------------------------------------------------

def effective_kernel_size(kernel_size, dilation):
    """dilation * (kernel_size - 1) + 1."""
    raise NotImplementedError("Task 4: effective_kernel_size (see questions.md)")


def receptive_field(layers):
    """(size, jump) of (kernel_size, stride, dilation) layers, input first: Topic 13's receptive_field of the
    effective kernels."""
    raise NotImplementedError("Task 4: receptive_field (see questions.md)")
