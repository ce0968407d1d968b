"""
Level 1: Naive Implementation
- Priority: Correctness and the story: batch norm one channel at a time, the sliding-window convolution
- Constraints: a Python loop over the channels (each one is Topic 09's batch norm of a single column);
  the convolutions are Topic 11's (load_topic(11)), the ones you wrote first
- Target: Pass every test. On the tiny blocks of the tests it is about 2x slower than level 2 (one Topic 09 call
  per channel); on larger maps the convolutions dominate, and Topic 11's loop over the 9 kernel taps is about as
  fast as Topic 12's im2col on a 2-core CPU (16 x 16 x 16 x 16 float32: 28 ms vs 41 ms per conv step, best of 15)

Topic 14: residual blocks (He et al., 2015), built from earlier topics.
    batchnorm2d_forward(x, gamma, beta, bn_param) -> (out, cache)   spatial batch norm, (N, C, H, W)
    batchnorm2d_backward(dout, cache) -> (dx, dgamma, dbeta)
    BatchNorm2d(num_features, eps, momentum, rng, dtype)            the layer, with running statistics
    ResidualBlock(in_channels, out_channels, stride, rng, dtype)    relu(F(x) + shortcut(x))
    PlainBlock(in_channels, out_channels, stride, rng, dtype)       relu(F(x)), the same block without the shortcut
    make_plain_net(depth, ...), make_resnet(depth, ...)             CIFAR-style networks of `depth` weight layers
    gradient_norms(model, x, y) -> {layer: |dL/dW|}                 the vanishing / exploding gradient measurement

Spatial batch norm: channel c of x (N, C, H, W) has N * H * W values, one per pixel of every image, and batch
norm treats each of them as one sample of that channel. So channel c is Topic 09's batch norm of the
column x[:, c].reshape(N * H * W, 1), with its own gamma[c], beta[c] and running statistics.
The block, with F(x) = bn2(conv2(relu(bn1(conv1(x))))) (3x3 convolutions, padding 1, the first one strided):
    out = relu(F(x) + x)                           identity shortcut, when the shapes match
    out = relu(F(x) + bn_s(conv1x1_s(x)))          projection shortcut (1x1 convolution with the block's stride)
Backward: the sum sends the same gradient into both branches, so at the input dx = dF/dx + dshortcut/dx.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad)
nn = load_topic(6)     # ReLU, Linear, Sequential, softmax_cross_entropy
bn = load_topic(9)     # batchnorm_forward, batchnorm_backward_alt: batch norm of (M, D) arrays
conv = load_topic(11)  # Conv2d: the sliding-window convolution (Topic 12's has the same interface, faster)
pool = load_topic(13)  # GlobalAvgPool2d: (N, C, H, W) -> (N, C)


# ----------------------------------------------------------------------------------------------------
# Task 1: spatial batch norm, functional form
# ----------------------------------------------------------------------------------------------------

def batchnorm2d_forward(x, gamma, beta, bn_param):
    """Batch norm of (N, C, H, W) inputs: per channel, over the N * H * W values of that channel.

    x: (N, C, H, W); gamma, beta: (C,); bn_param: as Topic 09 (mode 'train' | 'test', eps, momentum,
    running_mean and running_var of shape (C,), created if absent and updated IN PLACE in train mode).
    Returns out (N, C, H, W) with the dtype of x, and the cache batchnorm2d_backward needs.
    """
    x, gamma, beta = _check_bn2d_input(x, gamma, beta, bn_param)
    N, C, H, W = x.shape
    running_mean, running_var = _running_statistics(bn_param, C, x.dtype)
    out = np.empty_like(x)
    caches = []
    for c in range(C):
        # every pixel of every image is one sample of channel c: a column of N * H * W values
        column = x[:, c].reshape(N * H * W, 1)
        channel_param = {"mode": bn_param.get("mode", "train"), "eps": bn_param.get("eps", 1e-5),
                         "momentum": bn_param.get("momentum", 0.1),
                         "running_mean": running_mean[c:c + 1],   # views: Topic 09 updates them in place,
                         "running_var": running_var[c:c + 1]}     # so the caller's (C,) arrays see it
        out_c, cache_c = bn.batchnorm_forward(column, gamma[c:c + 1], beta[c:c + 1], channel_param)
        out[:, c] = out_c.reshape(N, H, W)
        caches.append(cache_c)
    return out, {"bn": caches, "shape": x.shape}


def batchnorm2d_backward(dout, cache):
    """dout: (N, C, H, W) -> dx (N, C, H, W), dgamma (C,), dbeta (C,): Topic 09's backward, channel by channel."""
    dout = _check_dout(dout, cache["shape"], "batchnorm2d_backward")
    N, C, H, W = cache["shape"]
    dxs, dgammas, dbetas = [], [], []
    for c in range(C):
        dx_c, dgamma_c, dbeta_c = bn.batchnorm_backward_alt(dout[:, c].reshape(N * H * W, 1), cache["bn"][c])
        dxs.append(dx_c.reshape(N, H, W))
        dgammas.append(dgamma_c)
        dbetas.append(dbeta_c)
    return np.stack(dxs, axis=1), np.concatenate(dgammas), np.concatenate(dbetas)


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
            self.shortcut_conv = conv.Conv2d(in_channels, out_channels, 1, stride=stride, padding=0,
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
    conv1 = conv.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=not batchnorm, rng=rng,
                        dtype=dtype)
    conv2 = conv.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=not batchnorm, rng=rng, dtype=dtype)
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
    layers = [conv.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=not batchnorm, rng=rng, dtype=dtype)]
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


def _running_statistics(bn_param, C, dtype):
    """bn_param's running_mean and running_var, created as zeros and ones (C,) if absent; checked BEFORE the loop
    over the channels, so that a wrong shape or mode changes nothing."""
    mode = bn_param.get("mode", "train")
    if mode not in ("train", "test"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'test', got {mode!r}")
    for name, fill in (("running_mean", 0.0), ("running_var", 1.0)):
        if bn_param.get(name) is None:
            bn_param[name] = np.full(C, fill, dtype=dtype)
        if np.shape(bn_param[name]) != (C,):
            raise ValueError(f"bn_param[{name!r}] has shape {np.shape(bn_param[name])}, expected ({C},)")
    return bn_param["running_mean"], bn_param["running_var"]


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


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(4, 3, 6, 6))
    out, cache = batchnorm2d_forward(x, np.ones(3), np.zeros(3), {"mode": "train"})
    print(f"BatchNorm2d: per-channel mean {np.round(out.mean(axis=(0, 2, 3)), 8)}, "
          f"var {np.round(out.var(axis=(0, 2, 3)), 5)}")
    assert out.shape == x.shape and np.allclose(out.mean(axis=(0, 2, 3)), 0)

    block = ResidualBlock(3, 3, rng=0, dtype=np.float64)
    y = block.forward(x)
    dx = block.backward(rng.standard_normal(y.shape))
    print(f"identity block: {x.shape} -> {y.shape}, dx {dx.shape}, {len(block.parameters())} parameters")
    block.bn2.gamma.data[...] = 0  # F(x) = 0: the block is relu(x)
    assert np.allclose(block.forward(x), np.maximum(x, 0)), "with bn2.gamma = 0 a residual block is relu(x)"

    down = ResidualBlock(3, 8, stride=2, rng=1, dtype=np.float64)
    print(f"projection block: {x.shape} -> {down.forward(x).shape}, keys {sorted(down.state_dict())[-3:]}")
    assert down.forward(x).shape == (4, 8, 3, 3) and down.shortcut_conv is not None

    images, labels = rng.standard_normal((8, 3, 8, 8)), rng.integers(0, 10, 8)
    for maker in (make_plain_net, make_resnet):
        for batchnorm in (True, False):
            norms = list(gradient_norms(maker(20, widths=(4, 8, 16), rng=0, dtype=np.float64,
                                              batchnorm=batchnorm), images, labels).values())
            print(f"{maker.__name__:15s} batchnorm={batchnorm!s:5s}: {len(norms)} layers, "
                  f"|dW| first / last = {norms[0] / norms[-1]:.3g}")
    print("level 1 self-test passed")
