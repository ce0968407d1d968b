"""
Topic 12: Im2Col Vectorization - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 12

Conventions (the Module 02 contract, the same as Topic 11): NCHW layout, x (N, C_in, H, W), w (C_out, C_in, kH, kW),
b (C_out,) or None; stride an int or (sh, sw); padding an int, (ph, pw), 'valid' or 'same' (stride 1 only; an
even kernel gets its extra zero at the bottom / right), as torch.nn.functional.conv2d. A cross-correlation:
the kernel is not flipped. float32 in, float32 out. Wrong shapes and arguments raise ValueError.

The column matrix of this topic (questions.md, "The layout"):
    cols[(c * kh + i) * kw + j, (n * H_out + ho) * W_out + wo] = xp[n, c, ho * sh + i, wo * sw + j]
one COLUMN per window (output position), rows in the order (c, i, j) of w.reshape(C_out, -1).
"""

from __future__ import annotations

import math  # noqa: F401  (math.sqrt(5) for the initialisation of Task 5)

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Topic 03: optim.Parameter(data) has .data and .grad (zeros like data)
inits = load_topic(5)  # Topic 05: inits.kaiming_uniform(fan_in, fan_out, rng=..., dtype=..., nonlinearity=..., a=...)


# ----------------------------------------------------------------------------------------------------
# Task 1: im2col
# ----------------------------------------------------------------------------------------------------

def im2col(x, kh, kw, stride=1, padding=0):
    """Every kh x kw window of the (padded) batch as one column of a matrix.

    x: (N, C, H, W); kh, kw: the window's height and width (ints >= 1); stride: int or (sh, sw);
    padding: int, (ph, pw), (top, bottom, left, right), 'valid' or 'same' (stride 1 only).
    Returns cols of shape (C * kh * kw, N * H_out * W_out), in the dtype of x, with
        cols[(c * kh + i) * kw + j, (n * H_out + ho) * W_out + wo] = xp[n, c, ho * sh + i, wo * sw + j]
    where xp is x with the zeros of the padding around it, H_out = (H + top + bottom - kh) // sh + 1 (same for W).
    N = 0 gives a (C * kh * kw, 0) matrix.
    Raises ValueError: x not 4-D, kh or kw < 1, a bad stride or padding, 'same' with a stride, a window larger
    than the padded input.
    """
    raise NotImplementedError("Task 1: im2col (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: col2im, the adjoint of im2col
# ----------------------------------------------------------------------------------------------------

def col2im(cols, x_shape, kh, kw, stride=1, padding=0):
    """Send every entry of cols back to the pixel it was copied from, ADDING where windows overlap.

    cols: (C * kh * kw, N * H_out * W_out), in the layout of im2col; x_shape: (N, C, H, W);
    kh, kw, stride, padding: as for im2col.
    Returns an array of shape x_shape (dtype of cols): the padding is cut off (those zeros were not inputs).
    col2im is the transpose (adjoint) of im2col, not its inverse: sum(im2col(x) * c) == sum(x * col2im(c)).
    Raises ValueError: cols not of the shape that x_shape, the kernel, stride and padding give; a bad x_shape;
    the same argument errors as im2col.
    """
    raise NotImplementedError("Task 2: col2im (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: forward
# ----------------------------------------------------------------------------------------------------

def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """2-D cross-correlation, as torch.nn.functional.conv2d, by ONE matrix product:

        out_mat = w.reshape(C_out, -1) @ im2col(x, kH, kW, stride, padding)     (C_out, N * H_out * W_out)

    then out_mat's axes are put back in NCHW order and the bias is added per output channel.
    x: (N, C_in, H, W); w: (C_out, C_in, kH, kW); b: (C_out,) or None (no bias).
    Returns (out, cache): out (N, C_out, H_out, W_out) in the dtype of x and w; cache = whatever your backward
    needs. N = 0 gives an empty output.
    Raises ValueError: x or w not 4-D, channels that do not match, b not of shape (C_out,) (e.g. (1,)), a bad
    stride or padding, 'same' with a stride, a kernel larger than the padded input.
    """
    raise NotImplementedError("Task 3: conv2d_forward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: backward
# ----------------------------------------------------------------------------------------------------

def conv2d_backward(dout, cache):
    """Gradients of conv2d_forward, given dout = dL/dout of shape (N, C_out, H_out, W_out):

        dw = dout_mat @ cols.T  (reshaped to w's shape)     dx = col2im(w_mat.T @ dout_mat)
        db = dout summed over the batch and the positions   (None when the forward pass had no bias)

    with dout_mat = dout in the column order of cols: (C_out, N * H_out * W_out).
    Returns dx (N, C_in, H, W), dw (C_out, C_in, kH, kW), db (C_out,) or None, in the dtype of the forward pass.
    N = 0 gives an empty dx, and dw and db full of zeros.
    Raises ValueError if dout does not have exactly the shape of the output.
    """
    raise NotImplementedError("Task 4: conv2d_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: the layer
# ----------------------------------------------------------------------------------------------------

class Conv2d:
    """2-D convolution layer, as torch.nn.Conv2d (groups=1, dilation=1, zero padding), on your im2col.

    Attributes:
        weight        Parameter (out_channels, in_channels, kH, kW), dtype
        bias          Parameter (out_channels,), dtype, or None when bias=False
        in_channels, out_channels, kernel_size (a pair), stride (a pair), padding, training (True at creation)
    Initialisation (PyTorch's default): fan_in = in_channels * kH * kW; every weight and bias drawn from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), all from np.random.default_rng(rng) (a Generator, an int seed or None).
    Bad arguments raise ValueError at creation.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, rng=None,
                 dtype=np.float32):
        raise NotImplementedError("Task 5: Conv2d.__init__ (see questions.md)")

    def forward(self, x):
        """x: (N, in_channels, H, W) -> (N, out_channels, H_out, W_out); keeps the cache for backward."""
        raise NotImplementedError("Task 5: Conv2d.forward (see questions.md)")

    def backward(self, dout):
        """dout: (N, out_channels, H_out, W_out) -> dx; ADDS dw into weight.grad (and db into bias.grad).
        Raises RuntimeError before any forward."""
        raise NotImplementedError("Task 5: Conv2d.backward (see questions.md)")

    def parameters(self):
        """[weight, bias], or [weight] when bias=False: the Parameter objects themselves."""
        raise NotImplementedError("Task 5: Conv2d.parameters (see questions.md)")

    def train(self):
        """Set training = True; return self."""
        raise NotImplementedError("Task 5: Conv2d.train (see questions.md)")

    def eval(self):
        """Set training = False; return self (a convolution computes the same thing in both modes)."""
        raise NotImplementedError("Task 5: Conv2d.eval (see questions.md)")
