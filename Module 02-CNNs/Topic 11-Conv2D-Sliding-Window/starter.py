"""
Topic 11: Conv2D Sliding Window - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 11

Conventions (shared by Module 02, the same as PyTorch):
    layout NCHW: x (N, C_in, H, W), w (C_out, C_in, kH, kW), b (C_out,), out (N, C_out, H_out, W_out)
    out[n, o, i, j] = b[o] + sum_{c, u, v} w[o, c, u, v] * xp[n, c, i*sh + u, j*sw + v]
        xp = x with zeros around it (the padding); (sh, sw) = stride. The kernel is NOT flipped
        (a cross-correlation, what torch.nn.functional.conv2d computes).
    H_out = floor((H + 2 * ph - kH) / sh) + 1 (and the same for W)
    padding: int, (ph, pw), 'valid' (no padding) or 'same' (stride 1 only; for an even kernel the extra
    zero goes at the bottom / right)
    every function keeps the dtype (float32 stays float32); wrong shapes raise ValueError
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # optim.Parameter(data): .data and .grad (zeros like data)
inits = load_topic(5)  # inits.kaiming_uniform(fan_in, fan_out, rng=..., dtype=..., nonlinearity=..., a=...)


# ----------------------------------------------------------------------------------------------------
# Task 1: the output size
# ----------------------------------------------------------------------------------------------------

def conv_output_size(size, kernel_size, stride=1, padding=0, dilation=1):
    """Number of window positions along one axis: floor((size + 2p - d(k - 1) - 1) / s) + 1.

    size: input length (int >= 0); kernel_size: k >= 1; stride: s >= 1; padding: p >= 0 zeros added on
    EACH side; dilation: d >= 1 (the gap between kernel taps; 1 = a dense kernel).
    Returns an int >= 1. Raises ValueError when the window (d(k - 1) + 1 pixels) is larger than the padded
    input, or when an argument is not an integer in range.
    """
    raise NotImplementedError("Task 1: conv_output_size (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: forward
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, as torch.nn.functional.conv2d (groups=1, dilation=1).

    x: (N, C_in, H, W); w: (C_out, C_in, kH, kW); b: (C_out,) or None (no bias);
    stride: int or (sh, sw), >= 1; padding: int >= 0, (ph, pw), 'valid' or 'same' (stride 1 only).
    Returns (out, cache): out (N, C_out, H_out, W_out) in the dtype of x and w; cache = whatever your
    backward needs. N = 0 gives an empty output of shape (0, C_out, H_out, W_out).
    Raises ValueError: x or w not 4-D, channels of x and w differ, b not (C_out,), bad stride or padding,
    'same' with a stride, a kernel larger than the padded input.
    """
    raise NotImplementedError("Task 2: conv2d_forward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: backward
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward.

    dout: (N, C_out, H_out, W_out), the upstream gradient dL/dout; cache: from conv2d_forward.
    Returns (dx, dw, db): dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,), or db = None when the
    forward pass had no bias. db is dout SUMMED over the batch and the positions.
    Raises ValueError if dout does not have the shape of the output.
    """
    raise NotImplementedError("Task 3: conv2d_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

class Conv2d:
    """2-D convolution layer, as torch.nn.Conv2d (groups=1, dilation=1, zero padding).

    Attributes:
        weight     optim.Parameter of shape (out_channels, in_channels, kH, kW), dtype
        bias       optim.Parameter of shape (out_channels,), or None when bias=False
        in_channels, out_channels, kernel_size (kH, kW), stride (sh, sw), padding
        training   True at creation; train() / eval() switch it (a convolution behaves the same in both)
    Initialisation as PyTorch's default: weight and bias uniform in [-1/sqrt(fan_in), 1/sqrt(fan_in)],
    fan_in = in_channels * kH * kW (Kaiming uniform with a = sqrt(5)), drawn from np.random.default_rng(rng).
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, rng=None,
                 dtype=np.float32):
        """kernel_size, stride: int or pair; padding: int, pair, 'valid' or 'same' (checked here: ValueError);
        rng: np.random.Generator, int seed or None; dtype of the parameters (float32 by default)."""
        raise NotImplementedError("Task 4: Conv2d.__init__ (see questions.md)")

    def forward(self, x):
        """x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out); keeps the cache for backward.
        Reads weight.data and bias.data at every call (an optimizer updates them in place)."""
        raise NotImplementedError("Task 4: Conv2d.forward (see questions.md)")

    def backward(self, dout):
        """dout: (N, out_channels, H_out, W_out) -> dx (N, in_channels, H, W); ADDS dw into weight.grad and
        db into bias.grad (an optimizer's zero_grad() resets them)."""
        raise NotImplementedError("Task 4: Conv2d.backward (see questions.md)")

    def parameters(self):
        """[weight, bias], or [weight] when bias=False: the Parameter objects themselves."""
        raise NotImplementedError("Task 4: Conv2d.parameters (see questions.md)")

    def train(self):
        """Set training = True; return self."""
        raise NotImplementedError("Task 4: Conv2d.train (see questions.md)")

    def eval(self):
        """Set training = False; return self."""
        raise NotImplementedError("Task 4: Conv2d.eval (see questions.md)")
