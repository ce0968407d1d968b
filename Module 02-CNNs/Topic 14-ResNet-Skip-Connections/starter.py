"""
Topic 14: ResNet Skip Connections - your implementation.

Copy this file to solution.py (in this folder) and fill in every function and class; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 14

Conventions (the Module 02 layer contract): NCHW layout; layers follow the Layer protocol of Module 01
(forward(x), backward(dout) returning dx and ADDING into p.grad, parameters(), train()/eval() returning self,
.training); initialisation takes rng (Generator, int seed or None) and dtype (float32 by default).
Everything is built from earlier topics, loaded below; write no convolution of your own.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Topic 03: Parameter(data) with .data and .grad
nn = load_topic(6)     # Topic 06: ReLU, Linear, Sequential, softmax_cross_entropy(logits, y) -> (loss, dlogits)
bn = load_topic(9)     # Topic 09: batchnorm_forward(x2d, gamma, beta, bn_param), batchnorm_backward_alt(dout, cache)
conv = load_topic(12)  # Topic 12: Conv2d(in, out, kernel_size, stride=1, padding=0, bias=True, rng=None, dtype=...)
pool = load_topic(13)  # Topic 13: GlobalAvgPool2d(): (N, C, H, W) -> (N, C)


# ----------------------------------------------------------------------------------------------------
# Task 1: spatial batch norm, functional form
# ----------------------------------------------------------------------------------------------------

def batchnorm2d_forward(x, gamma, beta, bn_param):
    """Batch norm of x (N, C, H, W): every channel is normalised over its N * H * W values (axes 0, 2, 3).

    gamma, beta: (C,). bn_param: the dict of Topic 09 (mode 'train' | 'test', eps 1e-5, momentum 0.1,
    running_mean / running_var of shape (C,), created as zeros / ones with the dtype of x if absent and updated
    IN PLACE in train mode, the variance stored being the unbiased one, var * M / (M - 1) with M = N * H * W).
    Suggested route: x.transpose(0, 2, 3, 1).reshape(N * H * W, C) is Topic 09's (M, D) problem.
    Returns (out, cache): out (N, C, H, W) with the dtype of x.
    Raises ValueError: x not 4-D; gamma/beta not (C,); running statistics not (C,); unknown mode; an empty
    input (N * H * W == 0); and in train mode one value per channel (N * H * W == 1) with PyTorch's message
    "Expected more than 1 value per channel when training, got input size (1, C, 1, 1)".
    """
    raise NotImplementedError("Task 1: batchnorm2d_forward (see questions.md)")


def batchnorm2d_backward(dout, cache):
    """dout (N, C, H, W) -> (dx (N, C, H, W), dgamma (C,), dbeta (C,)), for either mode.
    Raises ValueError if dout does not have the shape of the output."""
    raise NotImplementedError("Task 1: batchnorm2d_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: the layer BatchNorm2d
# ----------------------------------------------------------------------------------------------------

class BatchNorm2d:
    """torch.nn.BatchNorm2d. Attributes: gamma (ones) and beta (zeros), Parameters of shape (num_features,);
    running_mean (zeros), running_var (ones): arrays of that shape; num_batches_tracked (int, train-mode
    forwards); eps, momentum, training (True at creation). All arrays in `dtype`. rng is accepted for the
    uniform Module 02 signature (the initialisation is fixed).

    forward(x) -> out (train mode: batch statistics, running statistics updated; eval mode: running statistics)
    backward(dout) -> dx, ADDING dgamma, dbeta into gamma.grad, beta.grad
    parameters() -> [gamma, beta];  train() / eval() -> self
    state_dict() -> COPIES {"gamma", "beta", "running_mean", "running_var", "num_batches_tracked"}
    load_state_dict(state): copies INTO the existing arrays; ValueError for missing/extra keys or wrong shapes
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, rng=None, dtype=np.float32):
        raise NotImplementedError("Task 2: BatchNorm2d (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 2: BatchNorm2d.forward")

    def backward(self, dout):
        raise NotImplementedError("Task 2: BatchNorm2d.backward")

    def parameters(self):
        raise NotImplementedError("Task 2: BatchNorm2d.parameters")

    def train(self):
        raise NotImplementedError("Task 2: BatchNorm2d.train")

    def eval(self):
        raise NotImplementedError("Task 2: BatchNorm2d.eval")

    def state_dict(self):
        raise NotImplementedError("Task 2: BatchNorm2d.state_dict")

    def load_state_dict(self, state):
        raise NotImplementedError("Task 2: BatchNorm2d.load_state_dict")


# ----------------------------------------------------------------------------------------------------
# Task 3: the residual block and the plain block
# ----------------------------------------------------------------------------------------------------

class ResidualBlock:
    """out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), the basic block of ResNet-18/34.

    conv1: Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False); bn1: BatchNorm2d;
    conv2: Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False); bn2: BatchNorm2d.
    shortcut: the identity (shortcut_conv = shortcut_bn = None) when stride == 1 and in_channels ==
    out_channels; otherwise shortcut_bn(shortcut_conv(x)) with shortcut_conv = Conv2d(in, out, 1, stride=stride).
    relu1, relu2: ReLU layers. rng: one Generator (np.random.default_rng(rng)) drawn by conv1, conv2, shortcut_conv
    in that order. batchnorm=False: no BN layers (bn1, bn2, shortcut_bn are None), every convolution has a bias.
    Methods: forward, backward (the shortcut's gradient ADDS to the main path's at the input), parameters,
    train, eval, state_dict ({"conv1.weight", "bn1.gamma", ..., "shortcut_bn.num_batches_tracked"}), load_state_dict.
    Raises ValueError for non-positive channels or stride, x that is not (N, in_channels, H, W), a dout of the
    wrong shape; RuntimeError for backward before forward.
    """

    def __init__(self, in_channels, out_channels, stride=1, rng=None, dtype=np.float32, batchnorm=True):
        raise NotImplementedError("Task 3: ResidualBlock (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 3: ResidualBlock.forward")

    def backward(self, dout):
        raise NotImplementedError("Task 3: ResidualBlock.backward")

    def parameters(self):
        raise NotImplementedError("Task 3: ResidualBlock.parameters")

    def train(self):
        raise NotImplementedError("Task 3: ResidualBlock.train")

    def eval(self):
        raise NotImplementedError("Task 3: ResidualBlock.eval")

    def state_dict(self):
        raise NotImplementedError("Task 3: ResidualBlock.state_dict")

    def load_state_dict(self, state):
        raise NotImplementedError("Task 3: ResidualBlock.load_state_dict")


class PlainBlock:
    """out = relu(bn2(conv2(relu(bn1(conv1(x)))))): ResidualBlock without the shortcut (same constructor and
    attributes; shortcut_conv and shortcut_bn are always None)."""

    def __init__(self, in_channels, out_channels, stride=1, rng=None, dtype=np.float32, batchnorm=True):
        raise NotImplementedError("Task 3: PlainBlock (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 3: PlainBlock.forward")

    def backward(self, dout):
        raise NotImplementedError("Task 3: PlainBlock.backward")

    def parameters(self):
        raise NotImplementedError("Task 3: PlainBlock.parameters")

    def train(self):
        raise NotImplementedError("Task 3: PlainBlock.train")

    def eval(self):
        raise NotImplementedError("Task 3: PlainBlock.eval")

    def state_dict(self):
        raise NotImplementedError("Task 3: PlainBlock.state_dict")

    def load_state_dict(self, state):
        raise NotImplementedError("Task 3: PlainBlock.load_state_dict")


# ----------------------------------------------------------------------------------------------------
# Task 4: deep networks and their gradient norms
# ----------------------------------------------------------------------------------------------------

def make_plain_net(depth, in_channels=3, num_classes=10, widths=(16, 32, 64), rng=None, dtype=np.float32,
                   batchnorm=True):
    """nn.Sequential(stem Conv2d 3x3 (bias only without BN), [BatchNorm2d], ReLU, PlainBlocks, GlobalAvgPool2d,
    Linear(widths[-1], num_classes)). depth = number of weight layers on the main path = 2 + 2 * blocks;
    (depth - 2) / (2 * len(widths)) blocks per stage, the first block of every stage after the first has
    stride 2. ValueError when depth does not fit."""
    raise NotImplementedError("Task 4: make_plain_net (see questions.md)")


def make_resnet(depth, in_channels=3, num_classes=10, widths=(16, 32, 64), rng=None, dtype=np.float32,
                batchnorm=True):
    """The same network as make_plain_net with ResidualBlocks (make_resnet(20) is ResNet-20)."""
    raise NotImplementedError("Task 4: make_resnet (see questions.md)")


def gradient_norms(model, x, y):
    """{name: L2 norm of dL/dW} for the depth main-path weight layers, input to output, where L is the mean
    softmax cross-entropy of model.forward(x) against y. Zero every gradient first. Names: 'layers[i]' for a
    conv or Linear layer of model.layers, 'layers[i].conv1' / 'layers[i].conv2' for a block."""
    raise NotImplementedError("Task 4: gradient_norms (see questions.md)")
