"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside every layer
- batchnorm2d_forward is torch.nn.functional.batch_norm on the (N, C, H, W) tensor itself (no reshape),
  its backward is autograd; the convolutions are torch.nn.functional.conv2d with autograd for the backward
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz

The golden files do not come from these classes: make_golden() builds each block as a torch.nn.Module
(nn.Conv2d, nn.BatchNorm2d, autograd through the whole block), copies the same weights into it and records
its outputs, running statistics and the gradients of every parameter. The value tests then hold every
level, this one included, to those numbers.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

optim = load_topic(3)  # Parameter (.data, .grad)
nn = load_topic(6)     # ReLU, Linear, Sequential, softmax_cross_entropy
pool = load_topic(13)  # GlobalAvgPool2d: (N, C, H, W) -> (N, C)


def _torch_dtype(array):
    return torch.from_numpy(np.empty(0, dtype=array.dtype)).dtype


# ----------------------------------------------------------------------------------------------------
# Task 1: spatial batch norm, functional form (F.batch_norm reduces over N, H and W itself)
# ----------------------------------------------------------------------------------------------------

def batchnorm2d_forward(x, gamma, beta, bn_param):
    """Batch norm of (N, C, H, W) inputs by F.batch_norm (same contract as the NumPy levels).

    bn_param: mode ('train' | 'test'), eps (1e-5), momentum (0.1), running_mean / running_var (C,), created
    as zeros / ones if absent and updated IN PLACE in train mode. Returns out and a cache holding the graph.
    """
    x, gamma, beta = _check_bn2d_input(x, gamma, beta, bn_param)
    mode = bn_param.get("mode", "train")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    C = x.shape[1]
    for name, fill in (("running_mean", 0.0), ("running_var", 1.0)):
        if bn_param.get(name) is None:
            bn_param[name] = np.full(C, fill, dtype=x.dtype)
        if np.shape(bn_param[name]) != (C,):
            raise ValueError(f"bn_param[{name!r}] has shape {np.shape(bn_param[name])}, expected ({C},)")
    dtype = _torch_dtype(x)
    x_t = torch.tensor(x, requires_grad=True)
    gamma_t = torch.tensor(gamma, dtype=dtype, requires_grad=True)
    beta_t = torch.tensor(beta, dtype=dtype, requires_grad=True)
    running_mean_t = torch.tensor(bn_param["running_mean"], dtype=dtype)
    running_var_t = torch.tensor(bn_param["running_var"], dtype=dtype)
    with one_torch_thread():
        out_t = F.batch_norm(x_t, running_mean_t, running_var_t, gamma_t, beta_t, mode == "train",
                             float(bn_param.get("momentum", 0.1)), float(bn_param.get("eps", 1e-5)))
    if mode == "train":  # torch updated its copies: write them back into the caller's arrays
        bn_param["running_mean"][...] = running_mean_t.numpy()
        bn_param["running_var"][...] = running_var_t.numpy()
    cache = {"x": x_t, "gamma": gamma_t, "beta": beta_t, "out": out_t, "shape": x.shape}
    return out_t.detach().numpy().copy(), cache


def batchnorm2d_backward(dout, cache):
    """dx (N, C, H, W), dgamma (C,), dbeta (C,) by autograd through F.batch_norm's graph."""
    dout = _check_dout(dout, cache["shape"], "batchnorm2d_backward")
    with one_torch_thread():
        dx, dgamma, dbeta = torch.autograd.grad(cache["out"], (cache["x"], cache["gamma"], cache["beta"]),
                                                torch.tensor(dout, dtype=cache["out"].dtype), retain_graph=True)
    return dx.numpy().copy(), dgamma.numpy().copy(), dbeta.numpy().copy()


# ----------------------------------------------------------------------------------------------------
# The convolution of the blocks: torch.nn.functional.conv2d, with the Conv2d interface of Topics 11-12
# ----------------------------------------------------------------------------------------------------

class _TorchConv2d:
    """Conv2d(in, out, kernel_size, stride, padding, bias, rng, dtype) computed by F.conv2d.

    Weights and bias are initialised like torch.nn.Conv2d (kaiming_uniform with a = sqrt(5), i.e.
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), the bias from the same range), drawn from the NumPy generator `rng`.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, rng=None,
                 dtype=np.float32):
        rng = np.random.default_rng(rng)
        fan_in = in_channels * kernel_size * kernel_size
        bound = 1.0 / math.sqrt(fan_in)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = optim.Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype))
        self.bias = optim.Parameter(rng.uniform(-bound, bound, size=out_channels).astype(dtype)) if bias else None
        self.stride, self.padding = stride, padding
        self.training = True
        self._graph = None

    def forward(self, x):
        x = np.asarray(x)
        x_t = torch.tensor(x, requires_grad=True)
        w_t = torch.tensor(self.weight.data, requires_grad=True)
        b_t = None if self.bias is None else torch.tensor(self.bias.data, requires_grad=True)
        with one_torch_thread():
            out_t = F.conv2d(x_t, w_t, b_t, stride=self.stride, padding=self.padding)
        self._graph = (x_t, w_t, b_t, out_t)
        return out_t.detach().numpy().copy()

    def backward(self, dout):
        if self._graph is None:
            raise RuntimeError("Conv2d.backward called before forward")
        x_t, w_t, b_t, out_t = self._graph
        dout = _check_dout(dout, tuple(out_t.shape), "Conv2d.backward")
        inputs = (x_t, w_t) if b_t is None else (x_t, w_t, b_t)
        with one_torch_thread():
            grads = torch.autograd.grad(out_t, inputs, torch.tensor(dout, dtype=out_t.dtype), retain_graph=True)
        self.weight.grad += grads[1].numpy()
        if b_t is not None:
            self.bias.grad += grads[2].numpy()
        return grads[0].numpy().copy()

    def parameters(self):
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self


# ----------------------------------------------------------------------------------------------------
# Task 2: the layer BatchNorm2d
# ----------------------------------------------------------------------------------------------------

class BatchNorm2d:
    """torch.nn.BatchNorm2d: gamma (ones) and beta (zeros) are Parameters, running_mean (zeros) and running_var
    (ones) plain arrays updated in place in train mode, num_batches_tracked counts the train-mode batches.

    rng is accepted so that every layer of Module 02 has the same signature; the initialisation is fixed.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, rng=None, dtype=np.float32):
        self.num_features = _positive_int(num_features, "num_features")
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.gamma = optim.Parameter(np.ones(self.num_features, dtype=dtype))
        self.beta = optim.Parameter(np.zeros(self.num_features, dtype=dtype))
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self.num_batches_tracked = 0
        self.training = True
        self._cache = None

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C, H, W); train mode normalises with the batch and updates the running statistics."""
        bn_param = {"mode": "train" if self.training else "test", "eps": self.eps, "momentum": self.momentum,
                    "running_mean": self.running_mean, "running_var": self.running_var}  # the SAME arrays
        out, self._cache = batchnorm2d_forward(x, self.gamma.data, self.beta.data, bn_param)
        if self.training:
            self.num_batches_tracked += 1
        return out

    def backward(self, dout):
        """dout -> dx; ADDS dgamma, dbeta into gamma.grad, beta.grad."""
        if self._cache is None:
            raise RuntimeError("BatchNorm2d.backward called before forward")
        dx, dgamma, dbeta = batchnorm2d_backward(dout, self._cache)
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        return dx

    def parameters(self):
        return [self.gamma, self.beta]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def state_dict(self):
        """Copies of gamma, beta, running_mean, running_var and the int num_batches_tracked."""
        return {"gamma": self.gamma.data.copy(), "beta": self.beta.data.copy(),
                "running_mean": self.running_mean.copy(), "running_var": self.running_var.copy(),
                "num_batches_tracked": int(self.num_batches_tracked)}

    def load_state_dict(self, state):
        """Restore a state_dict() IN PLACE (optimizers keep references to gamma.data and beta.data)."""
        arrays = {"gamma": self.gamma.data, "beta": self.beta.data,
                  "running_mean": self.running_mean, "running_var": self.running_var}
        _check_state(state, {**arrays, "num_batches_tracked": np.int64(0)}, "BatchNorm2d")
        for name, target in arrays.items():
            target[...] = state[name]
        self.num_batches_tracked = int(state["num_batches_tracked"])

    def __repr__(self):
        return f"BatchNorm2d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"


# ----------------------------------------------------------------------------------------------------
# Task 3: the residual block and the plain block
# ----------------------------------------------------------------------------------------------------

class ResidualBlock:
    """The basic block of ResNet-18/34: out = relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).

    conv1: 3x3, stride `stride`, padding 1; conv2: 3x3, stride 1, padding 1; no conv bias (BN has beta).
    shortcut: the identity when stride == 1 and in_channels == out_channels, otherwise the projection
    shortcut_bn(shortcut_conv(x)) with a 1x1 convolution of stride `stride`.
    batchnorm=False drops every BN layer (bn1, bn2, shortcut_bn are None) and gives the convolutions a bias.
    """

    def __init__(self, in_channels, out_channels, stride=1, rng=None, dtype=np.float32, batchnorm=True):
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.stride = _positive_int(stride, "stride")
        rng = np.random.default_rng(rng)  # one generator, drawn in order: conv1, conv2, shortcut_conv
        self.conv1, self.bn1, self.conv2, self.bn2 = _main_path(in_channels, out_channels, stride, rng, dtype,
                                                                batchnorm)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()
        self.shortcut_conv = self.shortcut_bn = None
        if self.stride != 1 or self.in_channels != self.out_channels:
            # x has the wrong shape to be added to F(x): project it (fewer pixels, more channels)
            self.shortcut_conv = _TorchConv2d(in_channels, out_channels, 1, stride=stride, padding=0,
                                              bias=not batchnorm, rng=rng, dtype=dtype)
            self.shortcut_bn = BatchNorm2d(out_channels, dtype=dtype) if batchnorm else None
        self.training = True
        self._out_shape = None

    def forward(self, x):
        """x: (N, in_channels, H, W) -> (N, out_channels, H', W'), H' = (H - 1) // stride + 1."""
        x = _check_block_input(x, self.in_channels, type(self).__name__)
        out = self.conv1.forward(x)
        if self.bn1 is not None:
            out = self.bn1.forward(out)
        out = self.relu1.forward(out)
        out = self.conv2.forward(out)
        if self.bn2 is not None:
            out = self.bn2.forward(out)                        # out is now F(x), the residual
        if self.shortcut_conv is None:
            shortcut = x                                       # identity: x itself
        else:
            shortcut = self.shortcut_conv.forward(x)
            if self.shortcut_bn is not None:
                shortcut = self.shortcut_bn.forward(shortcut)
        out = self.relu2.forward(out + shortcut)               # the ReLU comes AFTER the addition
        self._out_shape = out.shape
        return out

    def backward(self, dout):
        """dout: output-shaped -> dx; ADDS the gradient of every parameter into its .grad."""
        dsum = self.relu2.backward(_check_block_dout(dout, self._out_shape, type(self).__name__))
        # out = relu(F(x) + shortcut(x)): the sum hands dsum to BOTH branches unchanged
        d = self.bn2.backward(dsum) if self.bn2 is not None else dsum
        d = self.conv2.backward(d)
        d = self.relu1.backward(d)
        if self.bn1 is not None:
            d = self.bn1.backward(d)
        dx = self.conv1.backward(d)                            # the main path's share of dL/dx
        if self.shortcut_conv is None:
            dx = dx + dsum                                     # identity: dL/dx gets dsum itself, untouched
        else:
            ds = self.shortcut_bn.backward(dsum) if self.shortcut_bn is not None else dsum
            dx = dx + self.shortcut_conv.backward(ds)
        return dx

    def parameters(self):
        return [p for _, layer in _named_layers(self) for p in layer.parameters()]

    def train(self):
        return _set_mode(self, True)

    def eval(self):
        return _set_mode(self, False)

    def state_dict(self):
        """{'conv1.weight', 'bn1.gamma', 'bn1.running_mean', ..., 'shortcut_conv.weight', ...}: copies."""
        return _block_state_dict(self)

    def load_state_dict(self, state):
        _block_load_state_dict(self, state)

    def __repr__(self):
        shortcut = "identity" if self.shortcut_conv is None else "projection"
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, stride={self.stride}, "
                f"shortcut={shortcut}, batchnorm={self.bn1 is not None})")


class PlainBlock:
    """The same two convolutions without the shortcut: out = relu(bn2(conv2(relu(bn1(conv1(x)))))).

    Same constructor and attributes as ResidualBlock (shortcut_conv and shortcut_bn are always None).
    """

    def __init__(self, in_channels, out_channels, stride=1, rng=None, dtype=np.float32, batchnorm=True):
        self.in_channels = _positive_int(in_channels, "in_channels")
        self.out_channels = _positive_int(out_channels, "out_channels")
        self.stride = _positive_int(stride, "stride")
        rng = np.random.default_rng(rng)
        self.conv1, self.bn1, self.conv2, self.bn2 = _main_path(in_channels, out_channels, stride, rng, dtype,
                                                                batchnorm)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()
        self.shortcut_conv = self.shortcut_bn = None
        self.training = True
        self._out_shape = None

    def forward(self, x):
        x = _check_block_input(x, self.in_channels, type(self).__name__)
        out = self.conv1.forward(x)
        if self.bn1 is not None:
            out = self.bn1.forward(out)
        out = self.relu1.forward(out)
        out = self.conv2.forward(out)
        if self.bn2 is not None:
            out = self.bn2.forward(out)
        out = self.relu2.forward(out)
        self._out_shape = out.shape
        return out

    def backward(self, dout):
        d = self.relu2.backward(_check_block_dout(dout, self._out_shape, type(self).__name__))
        if self.bn2 is not None:
            d = self.bn2.backward(d)
        d = self.conv2.backward(d)
        d = self.relu1.backward(d)
        if self.bn1 is not None:
            d = self.bn1.backward(d)
        return self.conv1.backward(d)                          # the only path back to x

    def parameters(self):
        return [p for _, layer in _named_layers(self) for p in layer.parameters()]

    def train(self):
        return _set_mode(self, True)

    def eval(self):
        return _set_mode(self, False)

    def state_dict(self):
        return _block_state_dict(self)

    def load_state_dict(self, state):
        _block_load_state_dict(self, state)

    def __repr__(self):
        return (f"PlainBlock({self.in_channels}, {self.out_channels}, stride={self.stride}, "
                f"batchnorm={self.bn1 is not None})")


def _main_path(in_channels, out_channels, stride, rng, dtype, batchnorm):
    """conv1 (3x3, stride), bn1, conv2 (3x3), bn2: the layers both blocks share. No conv bias before a BN."""
    conv1 = _TorchConv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=not batchnorm, rng=rng,
                         dtype=dtype)
    conv2 = _TorchConv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=not batchnorm, rng=rng,
                         dtype=dtype)
    bn1 = BatchNorm2d(out_channels, dtype=dtype) if batchnorm else None
    bn2 = BatchNorm2d(out_channels, dtype=dtype) if batchnorm else None
    return conv1, bn1, conv2, bn2


# ----------------------------------------------------------------------------------------------------
# Task 4: deep networks and their gradient norms
# ----------------------------------------------------------------------------------------------------

def make_plain_net(depth, in_channels=3, num_classes=10, widths=(16, 32, 64), rng=None, dtype=np.float32,
                   batchnorm=True):
    """A CIFAR-style plain network with `depth` weight layers: stem conv, PlainBlocks, global pooling, Linear."""
    return _make_net(PlainBlock, depth, in_channels, num_classes, widths, rng, dtype, batchnorm)


def make_resnet(depth, in_channels=3, num_classes=10, widths=(16, 32, 64), rng=None, dtype=np.float32,
                batchnorm=True):
    """The same network with ResidualBlocks (ResNet-20 is make_resnet(20))."""
    return _make_net(ResidualBlock, depth, in_channels, num_classes, widths, rng, dtype, batchnorm)


def _make_net(block, depth, in_channels, num_classes, widths, rng, dtype, batchnorm):
    """stem: conv3x3 -> BN -> ReLU; one stage per width, the first block of each later stage has stride 2;
    then global average pooling and a Linear classifier. depth = 2 + 2 * (number of blocks)."""
    per_stage = _blocks_per_stage(depth, widths)
    rng = np.random.default_rng(rng)
    layers = [_TorchConv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=not batchnorm, rng=rng,
                           dtype=dtype)]
    if batchnorm:
        layers.append(BatchNorm2d(widths[0], dtype=dtype))
    layers.append(nn.ReLU())
    channels = widths[0]
    for stage, width in enumerate(widths):
        for k in range(per_stage):
            stride = 2 if (stage > 0 and k == 0) else 1
            layers.append(block(channels, width, stride=stride, rng=rng, dtype=dtype, batchnorm=batchnorm))
            channels = width
    layers += [pool.GlobalAvgPool2d(), nn.Linear(channels, num_classes, rng=rng, dtype=dtype)]
    return nn.Sequential(*layers)


def gradient_norms(model, x, y):
    """{layer name: L2 norm of dL/dweight} for the `depth` weight layers of the main path, input to output.

    L is the mean softmax cross-entropy of model.forward(x) against the labels y. Every gradient is zeroed
    first; the gradients of this batch are left in p.grad. The model's mode is used as it is (a train-mode
    forward also updates the running statistics). Names: 'layers[i]' for a conv or Linear layer,
    'layers[i].conv1' and 'layers[i].conv2' for a block; shortcut projections are not on the main path.
    """
    for p in model.parameters():
        p.grad[...] = 0
    logits = model.forward(x)
    _, dlogits = nn.softmax_cross_entropy(logits, y)
    model.backward(dlogits)
    norms = {}
    for name, weight in _main_path_weights(model):
        norms[name] = float(np.sqrt(np.sum(np.square(weight.grad, dtype=np.float64))))
    return norms


def _main_path_weights(model):
    """(name, weight Parameter) of every convolution and Linear layer on the main path, in forward order."""
    for i, layer in enumerate(model.layers):
        if isinstance(layer, (ResidualBlock, PlainBlock)):
            yield f"layers[{i}].conv1", layer.conv1.weight
            yield f"layers[{i}].conv2", layer.conv2.weight
        elif getattr(layer, "weight", None) is not None:
            yield f"layers[{i}]", layer.weight


def _blocks_per_stage(depth, widths):
    widths = tuple(widths)
    if not widths or any(int(w) != w or w < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths}")
    if int(depth) != depth or depth < 2 + 2 * len(widths) or (depth - 2) % (2 * len(widths)):
        raise ValueError(f"depth must be 2 + 2 * k * {len(widths)} (k >= 1 blocks in each of the {len(widths)} "
                         f"stages), e.g. {2 + 2 * len(widths)}, {2 + 4 * len(widths)}, {2 + 6 * len(widths)}; "
                         f"got {depth}")
    return (int(depth) - 2) // (2 * len(widths))


# ----------------------------------------------------------------------------------------------------
# Input checks, modes and checkpoints (below the lesson)
# ----------------------------------------------------------------------------------------------------

def _positive_int(value, name):
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _check_bn2d_input(x, gamma, beta, bn_param):
    x, gamma, beta = np.asarray(x), np.asarray(gamma), np.asarray(beta)
    if x.ndim != 4:
        raise ValueError(f"batchnorm2d expects x of shape (N, C, H, W), got shape {x.shape}")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    N, C, H, W = x.shape
    if gamma.shape != (C,) or beta.shape != (C,):
        raise ValueError(f"gamma and beta must have shape ({C},) (one per channel) for x {x.shape}, "
                         f"got {gamma.shape} and {beta.shape}")
    if N * H * W == 0:
        raise ValueError(f"empty input {x.shape}: batch norm needs at least one value per channel")
    if bn_param.get("mode", "train") == "train" and N * H * W == 1:  # PyTorch's rule and message
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {x.shape}")
    return x, gamma, beta


def _check_dout(dout, shape, where):
    dout = np.asarray(dout)
    if dout.shape != tuple(shape):
        raise ValueError(f"{where}: dout must have the shape of the output {tuple(shape)}, got {dout.shape}")
    return dout


def _check_block_input(x, in_channels, name):
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[1] != in_channels:
        raise ValueError(f"{name} expects x of shape (N, {in_channels}, H, W), got shape {x.shape}")
    return x


def _check_block_dout(dout, out_shape, name):
    if out_shape is None:
        raise RuntimeError(f"{name}.backward called before forward")
    return _check_dout(dout, out_shape, f"{name}.backward")


def _named_layers(block):
    """(name, layer) for every sub-layer that exists, in forward order (ReLUs have no state)."""
    names = ("conv1", "bn1", "conv2", "bn2", "shortcut_conv", "shortcut_bn")
    return [(name, getattr(block, name)) for name in names if getattr(block, name) is not None]


def _set_mode(block, training):
    block.training = training
    for layer in (*(layer for _, layer in _named_layers(block)), block.relu1, block.relu2):
        layer.train() if training else layer.eval()
    return block


def _layer_state(layer):
    """A layer's state as copies: BatchNorm2d through its own state_dict, a convolution by its weight and bias."""
    if isinstance(layer, BatchNorm2d):
        return layer.state_dict()
    state = {"weight": layer.weight.data.copy()}
    if getattr(layer, "bias", None) is not None:
        state["bias"] = layer.bias.data.copy()
    return state


def _block_state_dict(block):
    return {f"{name}.{key}": value for name, layer in _named_layers(block) for key, value in _layer_state(layer).items()}


def _block_load_state_dict(block, state):
    _check_state(state, _block_state_dict(block), type(block).__name__)
    for name, layer in _named_layers(block):
        sub = {key[len(name) + 1:]: value for key, value in state.items() if key.startswith(name + ".")}
        if isinstance(layer, BatchNorm2d):
            layer.load_state_dict(sub)
        else:
            layer.weight.data[...] = sub["weight"]
            if "bias" in sub:
                layer.bias.data[...] = sub["bias"]


def _check_state(state, expected, owner):
    """Same keys as `expected` and the same shape for every entry, or a ValueError naming the difference."""
    missing, extra = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or extra:
        raise ValueError(f"{owner}.load_state_dict: missing keys {missing}, unexpected keys {extra}")
    for key, value in expected.items():
        if np.shape(state[key]) != np.shape(value):
            raise ValueError(f"{owner}.load_state_dict: {key!r} has shape {np.shape(state[key])}, "
                             f"expected {np.shape(value)}")


# ----------------------------------------------------------------------------------------------------
# Golden files for the value tests: every block as a torch.nn.Module, the weights copied in
# ----------------------------------------------------------------------------------------------------

class _TorchBlock(torch.nn.Module):
    """The block as PyTorch users write it, with the sub-module names of ResidualBlock / PlainBlock."""

    def __init__(self, in_channels, out_channels, stride, residual, batchnorm):
        super().__init__()
        tnn = torch.nn
        self.residual, self.batchnorm = residual, batchnorm
        self.conv1 = tnn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=not batchnorm, dtype=torch.float64)
        self.conv2 = tnn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=not batchnorm, dtype=torch.float64)
        if batchnorm:
            self.bn1 = tnn.BatchNorm2d(out_channels, dtype=torch.float64)
            self.bn2 = tnn.BatchNorm2d(out_channels, dtype=torch.float64)
        self.projection = residual and (stride != 1 or in_channels != out_channels)
        if self.projection:
            self.shortcut_conv = tnn.Conv2d(in_channels, out_channels, 1, stride, 0, bias=not batchnorm,
                                            dtype=torch.float64)
            if batchnorm:
                self.shortcut_bn = tnn.BatchNorm2d(out_channels, dtype=torch.float64)

    def forward(self, x):
        out = self.conv1(x)
        out = torch.relu(self.bn1(out) if self.batchnorm else out)
        out = self.conv2(out)
        out = self.bn2(out) if self.batchnorm else out
        if self.residual:
            if self.projection:
                short = self.shortcut_conv(x)
                out = out + (self.shortcut_bn(short) if self.batchnorm else short)
            else:
                out = out + x
        return torch.relu(out)


_TORCH_NAMES = {"gamma": "weight", "beta": "bias"}  # our BN names -> torch's; conv names are the same


def _torch_key(key):
    layer, name = key.rsplit(".", 1)
    return f"{layer}.{_TORCH_NAMES.get(name, name)}" if layer.startswith(("bn", "shortcut_bn")) else key


def _block_golden(rng, in_channels, out_channels, stride, residual, batchnorm, size=6):
    """One training step (forward, backward), then an eval-mode forward and backward, of a torch block."""
    block = _TorchBlock(in_channels, out_channels, stride, residual, batchnorm)
    params = {}
    for name, p in block.named_parameters():
        if name.endswith("weight") and p.dim() == 4:
            value = rng.normal(0.0, 0.4, size=tuple(p.shape))
        elif ".weight" in name:                               # a BN gamma
            value = rng.uniform(0.5, 1.5, size=tuple(p.shape))
        else:                                                 # a BN beta or a conv bias
            value = rng.normal(0.0, 0.3, size=tuple(p.shape))
        params[name] = value
        with torch.no_grad():
            p.copy_(torch.from_numpy(value))
    ours = {key.replace(".weight", ".gamma").replace(".bias", ".beta") if key.startswith(("bn", "shortcut_bn"))
            else key: value for key, value in params.items()}
    x = rng.normal(0.5, 1.0, size=(2, in_channels, size, size))
    x_eval = rng.normal(0.5, 1.0, size=(2, in_channels, size, size))
    xt = torch.from_numpy(x.copy()).requires_grad_(True)
    with one_torch_thread():
        out = block.train()(xt)
        dout = rng.standard_normal(tuple(out.shape))
        out.backward(torch.from_numpy(dout))
    record = {"x": x, "out": out.detach().numpy(), "dout": dout, "dx": xt.grad.numpy().copy()}
    record.update({f"param.{key}": value for key, value in ours.items()})
    record.update({f"grad.{key}": dict(block.named_parameters())[_torch_key(key)].grad.numpy().copy()
                   for key in ours})
    for name, buffer in block.named_buffers():
        if "running" in name:
            record[f"after.{name}"] = buffer.numpy().copy()
    block.zero_grad()
    xe = torch.from_numpy(x_eval.copy()).requires_grad_(True)
    with one_torch_thread():
        out_eval = block.eval()(xe)
        dout_eval = rng.standard_normal(tuple(out_eval.shape))
        out_eval.backward(torch.from_numpy(dout_eval))
    record.update({"x_eval": x_eval, "out_eval": out_eval.detach().numpy(), "dout_eval": dout_eval,
                   "dx_eval": xe.grad.numpy().copy()})
    record.update({f"grad_eval.{key}": dict(block.named_parameters())[_torch_key(key)].grad.numpy().copy()
                   for key in ours})
    return record


def make_golden():
    """{file name: {array name: array}} for tests/golden/, float64 from fixed NumPy seeds."""
    rng = np.random.default_rng(14)
    C = 4
    loc = np.array([3.0, -2.0, 0.0, 10.0])[None, :, None, None]
    scale = np.array([1.5, 0.2, 4.0, 0.01])[None, :, None, None]   # 0.01: a tiny variance, where eps matters

    # spatial batch norm: one training step with gamma and beta, from fresh running statistics
    x = rng.normal(loc, scale, size=(3, C, 5, 5))
    gamma, beta = rng.uniform(0.5, 2.0, size=C), rng.normal(size=C)
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": 0.1}
    out, cache = batchnorm2d_forward(x, gamma, beta, bn_param)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm2d_backward(dout, cache)
    bn2d_train = {"x": x, "gamma": gamma, "beta": beta, "out": out, "running_mean": bn_param["running_mean"].copy(),
                  "running_var": bn_param["running_var"].copy(), "dout": dout, "dx": dx, "dgamma": dgamma,
                  "dbeta": dbeta}

    # torch.nn.BatchNorm2d itself: five training steps, then eval mode (forward and backward)
    batches = rng.normal(loc, scale, size=(5, 2, C, 3, 3))
    x_eval = rng.normal(loc, scale, size=(2, C, 3, 3))
    dout_eval = rng.standard_normal(x_eval.shape)
    layer = torch.nn.BatchNorm2d(C, eps=1e-5, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(gamma))
        layer.bias.copy_(torch.from_numpy(beta))
    means, variances = [], []
    with torch.no_grad(), one_torch_thread():
        for batch in batches:
            layer.train()(torch.from_numpy(batch))
            means.append(layer.running_mean.numpy().copy())
            variances.append(layer.running_var.numpy().copy())
    xe = torch.from_numpy(x_eval.copy()).requires_grad_(True)
    with one_torch_thread():
        out_eval = layer.eval()(xe)
        out_eval.backward(torch.from_numpy(dout_eval))
    bn2d_running = {"gamma": gamma, "beta": beta, "batches": batches, "running_means": np.stack(means),
                    "running_vars": np.stack(variances), "num_batches_tracked": np.int64(layer.num_batches_tracked),
                    "x_eval": x_eval, "out_eval": out_eval.detach().numpy(), "dout_eval": dout_eval,
                    "dx_eval": xe.grad.numpy(), "dgamma_eval": layer.weight.grad.numpy(),
                    "dbeta_eval": layer.bias.grad.numpy()}

    return {"bn2d_train": bn2d_train, "bn2d_running": bn2d_running,
            "block_identity": _block_golden(rng, 3, 3, 1, residual=True, batchnorm=True),
            "block_projection": _block_golden(rng, 3, 5, 2, residual=True, batchnorm=True),
            "block_plain": _block_golden(rng, 3, 4, 2, residual=False, batchnorm=True),
            "block_no_bn": _block_golden(rng, 3, 4, 2, residual=True, batchnorm=False)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 14 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)

    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(4, 3, 6, 6))
    out, _ = batchnorm2d_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    print(f"BatchNorm2d: output {out.shape}, per-channel mean {np.round(out.mean(axis=(0, 2, 3)), 8)}")
    assert out.shape == (4, 3, 6, 6), "Shape mismatch!"
    block = ResidualBlock(3, 8, stride=2, rng=0, dtype=np.float64)
    y = block.forward(x)
    dx = block.backward(rng.standard_normal(y.shape))
    print(f"projection block: {x.shape} -> {y.shape}, dx {dx.shape}")
    assert y.shape == (4, 8, 3, 3) and dx.shape == x.shape
    print("All checks passed.")
