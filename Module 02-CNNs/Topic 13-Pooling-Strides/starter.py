"""
Topic 13: Pooling & Strides - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 13

Conventions (Module 02): x is (N, C, H, W), a floating dtype kept as it is (float32 in, float32 out).
kernel_size, stride and padding are an int or a pair (h, w). PyTorch's semantics throughout:
    stride=None means stride = kernel_size
    0 <= padding <= kernel_size // 2, padding is -inf for max pooling and 0 for average pooling
    max pooling ties: the FIRST maximum in row-major order of the window gets the whole gradient
    average pooling divides by the window size counted WITH the padding (count_include_pad=True), or not
Bad arguments and wrong shapes raise ValueError; an empty batch (N == 0) gives an empty output.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (your solution will need it)


# ----------------------------------------------------------------------------------------------------
# Task 1: output size
# ----------------------------------------------------------------------------------------------------

def pool_output_size(size, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Number of window positions along one axis of length `size` (ints).

    floor((size + 2 * padding - kernel_size) / stride) + 1; with ceil_mode the ceiling, minus one when the
    last window would start in the right padding. stride=None means kernel_size.
    Raises ValueError: kernel_size < 1, stride < 1, padding < 0 or > kernel_size // 2, kernel larger than
    the padded input.
    """
    raise NotImplementedError("Task 1: pool_output_size (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: max pooling, with mask tracking
# ----------------------------------------------------------------------------------------------------

def maxpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False):
    """Max over each kH x kW window.

    x: (N, C, H, W) -> out (N, C, Ho, Wo) with the dtype of x, and a cache recording which cell of each
    window was the maximum (the FIRST one in row-major order on a tie). Padding is -inf.
    """
    raise NotImplementedError("Task 2: maxpool2d_forward (see questions.md)")


def maxpool2d_backward(dout, cache):
    """dout: (N, C, Ho, Wo) -> dx: (N, C, H, W).

    Each window's dout goes to its one recorded cell; where windows overlap the contributions ADD up.
    Raises ValueError if dout does not have the output's shape.
    """
    raise NotImplementedError("Task 2: maxpool2d_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: average pooling
# ----------------------------------------------------------------------------------------------------

def avgpool2d_forward(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over each window. x: (N, C, H, W) -> out (N, C, Ho, Wo); cache for the backward pass.

    Padding is zeros. The divisor counts the padding cells when count_include_pad=True (PyTorch's default),
    only the real cells when False; a ceil-mode window is cut at the end of the padding.
    """
    raise NotImplementedError("Task 3: avgpool2d_forward (see questions.md)")


def avgpool2d_backward(dout, cache):
    """dout: (N, C, Ho, Wo) -> dx: (N, C, H, W); each real cell gets dout / divisor of every window holding it."""
    raise NotImplementedError("Task 3: avgpool2d_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: global average pooling
# ----------------------------------------------------------------------------------------------------

def global_avg_pool_forward(x):
    """x: (N, C, H, W) -> out (N, C), the mean of each channel's map; cache for the backward pass."""
    raise NotImplementedError("Task 4: global_avg_pool_forward (see questions.md)")


def global_avg_pool_backward(dout, cache):
    """dout: (N, C) -> dx: (N, C, H, W) = dout / (H * W) everywhere. A dout of another shape is a ValueError."""
    raise NotImplementedError("Task 4: global_avg_pool_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: the layers (Layer protocol of Module 01: forward, backward, parameters, train, eval, training)
# ----------------------------------------------------------------------------------------------------

class MaxPool2d:
    """Max pooling layer, as torch.nn.MaxPool2d. No parameters."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False):
        raise NotImplementedError("Task 5: MaxPool2d.__init__ (see questions.md)")

    def forward(self, x):
        """(N, C, H, W) -> (N, C, Ho, Wo); keeps the cache for backward."""
        raise NotImplementedError("Task 5: MaxPool2d.forward (see questions.md)")

    def backward(self, dout):
        """dout -> dx. RuntimeError if called before forward."""
        raise NotImplementedError("Task 5: MaxPool2d.backward (see questions.md)")

    def parameters(self):
        """[] (nothing to learn)."""
        raise NotImplementedError("Task 5: MaxPool2d.parameters (see questions.md)")

    def train(self):
        """training = True; return self."""
        raise NotImplementedError("Task 5: MaxPool2d.train (see questions.md)")

    def eval(self):
        """training = False; return self."""
        raise NotImplementedError("Task 5: MaxPool2d.eval (see questions.md)")


class AvgPool2d:
    """Average pooling layer, as torch.nn.AvgPool2d. No parameters."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        raise NotImplementedError("Task 5: AvgPool2d.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 5: AvgPool2d.forward (see questions.md)")

    def backward(self, dout):
        raise NotImplementedError("Task 5: AvgPool2d.backward (see questions.md)")

    def parameters(self):
        raise NotImplementedError("Task 5: AvgPool2d.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 5: AvgPool2d.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 5: AvgPool2d.eval (see questions.md)")


class GlobalAvgPool2d:
    """(N, C, H, W) -> (N, C). No parameters."""

    def __init__(self):
        raise NotImplementedError("Task 5: GlobalAvgPool2d.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 5: GlobalAvgPool2d.forward (see questions.md)")

    def backward(self, dout):
        raise NotImplementedError("Task 5: GlobalAvgPool2d.backward (see questions.md)")

    def parameters(self):
        raise NotImplementedError("Task 5: GlobalAvgPool2d.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 5: GlobalAvgPool2d.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 5: GlobalAvgPool2d.eval (see questions.md)")


class Flatten:
    """Merge dims start_dim..end_dim, as torch.nn.Flatten: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim=1, end_dim=-1):
        raise NotImplementedError("Task 5: Flatten.__init__ (see questions.md)")

    def forward(self, x):
        """Works on an empty batch: (0, 3, 4, 4) -> (0, 48)."""
        raise NotImplementedError("Task 5: Flatten.forward (see questions.md)")

    def backward(self, dout):
        """dout (the output's shape exactly) -> dout reshaped to the input's shape."""
        raise NotImplementedError("Task 5: Flatten.backward (see questions.md)")

    def parameters(self):
        raise NotImplementedError("Task 5: Flatten.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 5: Flatten.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 5: Flatten.eval (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 6: receptive field
# ----------------------------------------------------------------------------------------------------

def receptive_field(layers):
    """layers: sequence of (kernel_size, stride) pairs along one axis, input first.

    Returns (size, jump): one output cell sees `size` input cells; neighbouring outputs are `jump` apart.
    Each layer: size += (kernel_size - 1) * jump, then jump *= stride. ValueError for a bad layer.
    """
    raise NotImplementedError("Task 6: receptive_field (see questions.md)")
