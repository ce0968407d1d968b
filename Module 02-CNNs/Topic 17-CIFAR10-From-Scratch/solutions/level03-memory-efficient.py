"""
Level 3: Memory-Efficient (and Fast) Implementation
- Priority: the full CIFAR-10 run within the time budget of train.py on a 2-core CPU
- Constraints: NumPy only; float32 end to end; batch-sized arrays allocated once and reused where it matters
- Target: the same interface and (bit for bit, for the same seeds) the same augmentation as level 2

Where the time and memory go, and what this level does about it (measured figures: README.md, "Level 3"):
- the convolutions: the fast levels of Topics 12, 13 and 14 (their level 3), float32;
- the first convolution does not compute dL/dx: nobody needs the gradient of the pixels (PyTorch skips it
  too, for inputs that do not require grad), when the layer offers `needs_input_grad`;
- a minibatch is gathered with np.take(..., out=) into one preallocated buffer (BatchIterator(reuse_buffers=True));
- crop and flip are ONE pass: the zero-padded canvas is allocated once (its border stays zero), the batch is
  copied into its middle, and the images are grouped by their (dy, dx, flip) draw, so each group is one
  strided copy, read mirrored where it is flipped;
- the loss works in place on one (N, C) array: shifted logits -> exp -> probabilities -> gradient;
- level-3 layers return their own buffers: a result that must survive the next forward pass (the logits of
  the plain images while the mirrored ones are evaluated) is copied;
- the per-channel statistics of 50,000 images are accumulated in float64 over chunks, so the largest
  temporary is one chunk, not the whole (N, H, W) channel.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from dlfs.components import load_topic
from dlfs.datasets import BatchIterator, load_cifar10

optim = load_topic(3, level=3)     # Parameter, SGD, Adam, AdamW, warmup_cosine_lr: steps that allocate nothing
layers = load_topic(6, level=3)    # Linear, ReLU, Sequential: buffers reused from batch to batch
conv = load_topic(12, level=3)     # Conv2d: the fastest im2col convolution
pooling = load_topic(13, level=3)  # MaxPool2d, GlobalAvgPool2d
resnet = load_topic(14, level=3)   # BatchNorm2d, ResidualBlock

NUM_CLASSES = 10


# ----------------------------------------------------------------------------------------------------
# Task 1: data
# ----------------------------------------------------------------------------------------------------

def normalize_images(x, mean=None, std=None, dtype=np.float32):
    """uint8 images (N, H, W, 3) -> ((N, 3, H, W) array of `dtype`, mean (3,), std (3,)).

    out[:, c] = (x[..., c] / 255 - mean[c]) / std[c]. mean and std are computed on THIS x when not given
    (in float64: a float32 running sum of 51 million pixels stops growing at 2**24); pass the training
    set's statistics when normalising validation and test images.
    """
    x = _check_images(x)
    out = np.ascontiguousarray(x.transpose(0, 3, 1, 2), dtype=dtype)  # NHWC -> NCHW, one copy
    out /= 255
    if mean is None:
        mean, std = _channel_statistics(out)
    mean, std = _check_statistics(mean, std, out.shape[1])
    out -= mean.astype(dtype)[:, None, None]
    out /= std.astype(dtype)[:, None, None]
    return out, mean, std


def _channel_statistics(x, chunk=2048):
    """Per-channel mean and standard deviation of (N, C, H, W) values, accumulated in float64, `chunk`
    images at a time (two passes: the mean, then the squared deviations from it)."""
    N, C = x.shape[:2]
    mean = x.mean(axis=(0, 2, 3), dtype=np.float64)       # a reduction with a float64 accumulator: no copy
    scratch = np.empty((min(chunk, N),) + x.shape[1:], dtype=x.dtype)
    sq = np.zeros(C)
    shift = mean.astype(x.dtype)[:, None, None]
    for start in range(0, N, chunk):
        block = x[start:start + chunk]
        d = scratch[:len(block)]
        np.subtract(block, shift, out=d)
        np.square(d, out=d)
        sq += d.sum(axis=(0, 2, 3), dtype=np.float64)
    return mean, np.sqrt(sq / (N * x.shape[2] * x.shape[3]))


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    """CIFAR-10 as {"train": (x, y), "val": (x, y), "test": (x, y), "mean": (3,), "std": (3,)}.

    x arrays are (N, 3, 32, 32) normalised with the TRAIN split's per-channel statistics; y arrays int64.
    val_size: training images held out (a seeded permutation) for validation.
    subset: keep only `subset` training images (and the first `subset` test images).
    """
    x_train, y_train, x_test, y_test = load_cifar10(data_dir=data_dir)
    order = np.random.default_rng(seed).permutation(len(x_train))
    if subset is not None:
        order = order[:subset + val_size]
        x_test, y_test = x_test[:subset], y_test[:subset]
    val_idx, train_idx = order[:val_size], order[val_size:]
    x_tr, mean, std = normalize_images(x_train[train_idx], dtype=dtype)
    x_val, _, _ = normalize_images(x_train[val_idx], mean, std, dtype=dtype)
    x_te, _, _ = normalize_images(x_test, mean, std, dtype=dtype)
    labels = lambda y: np.asarray(y, dtype=np.int64)  # noqa: E731
    return {"train": (x_tr, labels(y_train[train_idx])), "val": (x_val, labels(y_train[val_idx])),
            "test": (x_te, labels(y_test)), "mean": mean, "std": std}


# ----------------------------------------------------------------------------------------------------
# Task 2: data augmentation, written by hand and vectorized over the batch
# ----------------------------------------------------------------------------------------------------

def random_crop(x, padding, rng):
    """Pad every image of x (N, C, H, W) with `padding` zeros on each side, cut an H x W window at a random
    offset (dy, dx), each uniform in 0..2*padding and drawn per image. Returns a new (N, C, H, W) array.

    Zero is the mean colour once the images are normalised, so the border shows "average" pixels.
    rng: a np.random.Generator (or a seed).
    """
    x = _check_batch(x)
    padding = _check_padding(padding)
    rng = np.random.default_rng(rng)
    dy, dx = rng.integers(0, 2 * padding + 1, size=(2, len(x)))
    return _crop_flip(x, padding, dy, dx, np.zeros(len(x), dtype=bool), None)


def random_flip(x, rng, p=0.5):
    """Mirror each image of x (N, C, H, W) left-right with probability p (one draw per image); a new array."""
    x = _check_batch(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the flip probability p must be in [0, 1], got {p!r}")
    rng = np.random.default_rng(rng)
    flip = np.flatnonzero(rng.random(len(x)) < p)
    out = x.copy()
    out[flip] = out[flip, :, :, ::-1]  # reverse the width axis of the chosen images only
    return out


def _crop_flip(x, padding, dy, dx, flip, canvas):
    """out[n] = window (dy[n], dx[n]) of x[n] padded with zeros, mirrored where flip[n]; one pass.

    canvas: a zero-bordered (>= N, C, H + 2p, W + 2p) buffer to reuse, or None for a fresh one.
    """
    N, C, H, W = x.shape
    if canvas is None:
        canvas = np.zeros((N, C, H + 2 * padding, W + 2 * padding), dtype=x.dtype)
    canvas = canvas[:N]
    canvas[:, :, padding:padding + H, padding:padding + W] = x   # only the middle is written: the border stays 0
    out = np.empty_like(canvas[:, :, :H, :W])
    side = 2 * padding + 1
    key = (dy * side + dx) * 2 + flip                            # one group per (dy, dx, flip) draw
    for k in np.unique(key):
        idx = np.flatnonzero(key == k)
        oy, ox, mirrored = int(k) // 2 // side, int(k) // 2 % side, bool(k % 2)
        window = canvas[idx, :, oy:oy + H, ox:ox + W]
        out[idx] = window[:, :, :, ::-1] if mirrored else window
    return out


class RandomCropFlip:
    """The training augmentation: random_crop(padding), then random_flip (if flip), from one Generator.

    aug = RandomCropFlip(padding=4, flip=True, seed=0); xb = aug(xb). `rng` is public: a checkpoint saves
    aug.rng.bit_generator.state, so that a resumed run draws the same crops as an uninterrupted one.
    """

    def __init__(self, padding=4, flip=True, seed=0):
        self.padding = _check_padding(padding)
        self.flip = bool(flip)
        self.rng = np.random.default_rng(seed)
        self._canvas = None   # the zero-padded batch, allocated once

    def __call__(self, x):
        x = _check_batch(x)
        N, C, H, W = x.shape
        dy, dx = self.rng.integers(0, 2 * self.padding + 1, size=(2, N))   # the draws of random_crop ...
        flip = (self.rng.random(N) < 0.5) if self.flip else np.zeros(N, dtype=bool)  # ... then random_flip's
        shape = (N, C, H + 2 * self.padding, W + 2 * self.padding)
        if (self._canvas is None or self._canvas.shape[1:] != shape[1:] or len(self._canvas) < N
                or self._canvas.dtype != x.dtype):
            self._canvas = np.zeros(shape, dtype=x.dtype)
        return _crop_flip(x, self.padding, dy, dx, flip, self._canvas)

    def __repr__(self):
        return f"RandomCropFlip(padding={self.padding}, flip={self.flip})"


# ----------------------------------------------------------------------------------------------------
# Task 3: cross-entropy with label smoothing
# ----------------------------------------------------------------------------------------------------

def smoothed_cross_entropy(logits, y, smoothing=0.0):
    """Mean cross-entropy of softmax(logits) against smoothed targets, and its gradient (PyTorch's
    F.cross_entropy(logits, y, label_smoothing=smoothing)).

    target q[n] = (1 - smoothing) * one_hot(y[n]) + smoothing / C     (C = number of classes)
    loss = -1/N * sum_n sum_c q[n, c] * log softmax(logits[n])[c]
    dL/dlogits = (softmax(logits) - q) / N
    logits (N, C), y (N,) ints -> (loss: float, dlogits: (N, C), dtype of logits).
    """
    logits, y = _check_logits_and_labels(logits, y)
    smoothing = _check_smoothing(smoothing)
    N, C = logits.shape
    rows = np.arange(N)
    grad = np.subtract(logits, logits.max(axis=1, keepdims=True))   # the one (N, C) array: shifted logits
    log_norm = np.log(np.exp(grad).sum(axis=1, dtype=np.float64))   # (N,) log of the softmax denominators
    nll = log_norm - grad[rows, y]                                  # -log p[y]
    uniform = log_norm - grad.mean(axis=1, dtype=np.float64)        # -mean_c log p[c]
    loss = float(np.mean((1 - smoothing) * nll + smoothing * uniform))
    np.exp(grad, out=grad)                                          # in place: exp(shifted)
    grad /= grad.sum(axis=1, keepdims=True)                         # softmax
    grad -= smoothing / C
    grad[rows, y] -= 1 - smoothing                                  # minus the smoothed target
    grad /= N
    return loss, grad


# ----------------------------------------------------------------------------------------------------
# Task 4: the model, its parameter groups, optimizer and learning-rate schedule
# ----------------------------------------------------------------------------------------------------

def build_resnet(widths=(32, 64, 128), num_classes=NUM_CLASSES, seed=0, dtype=np.float32):
    """A small ResNet for 32x32 images (NCHW in, logits out), every layer from an earlier topic:

        stem     Conv2d(3, widths[0], 3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
        stage k  Conv2d(widths[k-1], widths[k], 3x3, padding 1) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
                 -> ResidualBlock(widths[k], widths[k])               for k = 1 .. len(widths) - 1
        head     GlobalAvgPool2d -> Linear(widths[-1], num_classes)

    The convolutions have no bias (the BatchNorm after each has one). One np.random.default_rng(seed) feeds
    every layer in order, so the same seed gives the same initial weights.
    """
    widths = _check_widths(widths)
    rng = np.random.default_rng(seed)
    stack = [*_conv_bn_relu(3, widths[0], rng, dtype), pooling.MaxPool2d(2)]
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        stack += [*_conv_bn_relu(c_in, c_out, rng, dtype), pooling.MaxPool2d(2),
                  resnet.ResidualBlock(c_out, c_out, rng=rng, dtype=dtype)]
    stack += [pooling.GlobalAvgPool2d(), layers.Linear(widths[-1], num_classes, rng=rng, dtype=dtype)]
    if hasattr(stack[0], "needs_input_grad"):
        stack[0].needs_input_grad = False  # the pixels need no gradient: skip dx of the first convolution
    return layers.Sequential(*stack)


def _conv_bn_relu(c_in, c_out, rng, dtype):
    return [conv.Conv2d(c_in, c_out, 3, padding=1, bias=False, rng=rng, dtype=dtype),
            resnet.BatchNorm2d(c_out, dtype=dtype), layers.ReLU()]


def parameter_groups(model):
    """(decay, no_decay): the parameters weight decay should shrink, and the others.

    decay: the weight of every convolution and Linear layer (arrays with 2 or more dimensions).
    no_decay: biases and BatchNorm's gamma and beta (1-D): shrinking gamma towards 0 would only fight the
    normalisation, and a bias has no reason to be small.
    """
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.data.ndim >= 2 else no_decay).append(p)
    return decay, no_decay


class GroupedOptimizer:
    """One optimizer over several parameter groups, each with its own weight decay (PyTorch's param_groups).

    param_groups: [{"params": [...], "weight_decay": float}, ...]; name: "sgd" (momentum, optionally
    Nesterov), "adam" (L2 weight decay) or "adamw" (decoupled). Each group is stepped by a Topic 03 optimizer;
    `lr` is shared: setting opt.lr sets it for every group (what a schedule does before each step).
    """

    def __init__(self, param_groups, name="sgd", lr=0.1, momentum=0.9, nesterov=True):
        groups = [g for g in param_groups if len(g["params"]) > 0]  # an empty group has nothing to step
        if not groups:
            raise ValueError("GroupedOptimizer got no parameters")
        self.param_groups = [{"params": list(g["params"]), "weight_decay": float(g.get("weight_decay", 0.0))}
                             for g in groups]
        self.optimizers = [_make_one(name, g["params"], lr, momentum, nesterov, g["weight_decay"])
                           for g in self.param_groups]

    @property
    def lr(self):
        return self.optimizers[0].lr

    @lr.setter
    def lr(self, value):
        for opt in self.optimizers:
            opt.lr = float(value)

    def zero_grad(self):
        for opt in self.optimizers:
            opt.zero_grad()

    def step(self):
        for opt in self.optimizers:
            opt.step()

    def state_dict(self):
        """{"lr": float, "group<g>.<key>": value for every entry of group g's Topic 03 state_dict}."""
        out = {"lr": self.lr}
        for g, opt in enumerate(self.optimizers):
            out.update({f"group{g}.{k}": v for k, v in opt.state_dict().items() if k != "lr"})
        return out

    def load_state_dict(self, state):
        """Restore a state_dict(); ValueError for a key that belongs to no group."""
        per_group = [{"lr": state["lr"]} for _ in self.optimizers]
        for key, value in state.items():
            if key == "lr":
                continue
            head, _, rest = key.partition(".")
            g = int(head[len("group"):]) if head.startswith("group") and head[len("group"):].isdigit() else -1
            if not 0 <= g < len(self.optimizers):
                raise ValueError(f"unexpected key {key!r} in the optimizer state (this optimizer has "
                                 f"{len(self.optimizers)} groups)")
            per_group[g][rest] = value
        for opt, sub in zip(self.optimizers, per_group):
            opt.load_state_dict(sub)


def _make_one(name, params, lr, momentum, nesterov, weight_decay):
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}: use 'sgd', 'adam' or 'adamw'")


def make_optimizer(model, name="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4):
    """GroupedOptimizer with weight decay on parameter_groups(model)[0] only."""
    decay, no_decay = parameter_groups(model)
    return GroupedOptimizer([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            name=name, lr=lr, momentum=momentum, nesterov=nesterov)


def make_lr_schedule(base_lr, total_steps, warmup_steps=0, min_lr=0.0):
    """step -> learning rate: linear warmup to base_lr over warmup_steps, then a cosine down to min_lr at
    total_steps (Topic 03's warmup_cosine_lr, with its arguments checked once here)."""
    optim.warmup_cosine_lr(0, base_lr, warmup_steps, total_steps, min_lr)  # raises ValueError for bad arguments

    def schedule(step):
        return optim.warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr)

    return schedule


def get_weights(model):
    """Copies of every parameter (model.parameters() order), then each BatchNorm's running_mean, running_var."""
    return [p.data.copy() for p in model.parameters()] + [b.copy() for b in _buffers(model)]


def set_weights(model, weights):
    """Write arrays shaped like get_weights(model) back into the model, in place."""
    targets = [p.data for p in model.parameters()] + _buffers(model)
    if len(weights) != len(targets):
        raise ValueError(f"expected {len(targets)} arrays, got {len(weights)}")
    for target, w in zip(targets, weights):
        w = np.asarray(w)
        if w.shape != target.shape:
            raise ValueError(f"weight of shape {w.shape} does not fit a parameter of shape {target.shape}")
    for target, w in zip(targets, weights):
        target[...] = w


def _all_layers(model):
    """Every layer inside the model, depth first, each once: Sequential.layers, then sub-layers held as
    attributes (a ResidualBlock's conv1, bn1, ...)."""
    found, seen = [], set()

    def visit(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        found.append(layer)
        children = layer.layers if isinstance(getattr(layer, "layers", None), list) else vars(layer).values()
        for child in children:
            if hasattr(child, "forward") and hasattr(child, "parameters") and not isinstance(child, type):
                visit(child)

    visit(model)
    return found


def _batchnorms(model):
    return [layer for layer in _all_layers(model) if hasattr(layer, "running_mean")]


def _buffers(model):
    """Non-trainable state a checkpoint must keep: the running statistics of every BatchNorm."""
    return [b for bn in _batchnorms(model) for b in (bn.running_mean, bn.running_var)]


# ----------------------------------------------------------------------------------------------------
# Task 5: one training step, and evaluation
# ----------------------------------------------------------------------------------------------------

def loss_and_grads(model, x, y, smoothing=0.0):
    """(mean smoothed cross-entropy, [copy of each parameter's gradient]) on one batch, gradients zeroed first."""
    for p in model.parameters():
        p.zero_grad()
    loss, dlogits = smoothed_cross_entropy(model.forward(x), y, smoothing)
    model.backward(dlogits)
    return loss, [p.grad.copy() for p in model.parameters()]


def train_step(model, optimizer, xb, yb, smoothing=0.0):
    """zero_grad, forward, loss, backward, step; returns the loss. FloatingPointError (before any update)
    when the loss is not finite."""
    optimizer.zero_grad()
    loss, dlogits = smoothed_cross_entropy(model.forward(xb), yb, smoothing)
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss is {loss}: check the inputs for NaN/Inf and lower the learning rate")
    model.backward(dlogits)
    optimizer.step()
    return loss


def predict(model, x, batch_size=500, tta=False):
    """(N,) predicted classes in eval mode, in batches; tta=True averages the logits of each image and its
    mirror image. The model's mode is restored."""
    return _eval_batches(model, _check_batch(x), None, batch_size, tta)[1]


def evaluate(model, x, y, batch_size=500, tta=False):
    """(mean cross-entropy over all samples, accuracy) in eval mode, without augmentation (tta: see predict).

    The loss is the plain cross-entropy (no smoothing): the number to compare between runs.
    """
    x, y = _check_batch(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    total_loss, predictions = _eval_batches(model, x, y, batch_size, tta)
    return total_loss / len(x), float(np.mean(predictions == y))


def _eval_batches(model, x, y, batch_size, tta):
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    was_training = model.training
    model.eval()
    predictions = np.empty(len(x), dtype=np.int64)
    total_loss = 0.0
    mirror = None
    try:
        for start in range(0, len(x), batch_size):
            xb = x[start:start + batch_size]
            logits = model.forward(xb)
            if tta:
                if mirror is None or mirror.shape[1:] != xb.shape[1:] or len(mirror) < len(xb):
                    mirror = np.empty_like(xb)
                m = mirror[:len(xb)]
                np.copyto(m, xb[:, :, :, ::-1])           # a contiguous mirrored batch, in one buffer
                logits = logits.copy()                    # the next forward pass reuses the layers' buffers
                logits += model.forward(m)
                logits /= 2
            predictions[start:start + len(xb)] = np.argmax(logits, axis=1)
            if y is not None:
                loss, _ = smoothed_cross_entropy(logits, y[start:start + batch_size])
                total_loss += loss * len(xb)  # weighted by the batch size: a short last batch counts less
    finally:
        if was_training:
            model.train()
    return total_loss, predictions


def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """counts[i, j] = number of samples of true class i predicted as class j."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same shape")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


# ----------------------------------------------------------------------------------------------------
# Task 6: fit, the training loop
# ----------------------------------------------------------------------------------------------------

def fit(model, optimizer, train, val=None, epochs=1, batch_size=512, seed=0, lr_schedule=None, smoothing=0.0,
        augment=None, checkpoint_path=None, start_epoch=0, history=None, progress=True, tta=False):
    """Train epochs start_epoch .. epochs-1; returns the history dict (extended in place when given).

    train, val: (x, y) pairs. Batches: BatchIterator(x, y, batch_size, seed=seed), epoch e ordered by
    (seed, e). augment: a callable applied to every training batch (a RandomCropFlip), never to val.
    lr_schedule(step) -> lr is called before every step (step counts from 0 over the whole run).
    A checkpoint (weights, BN statistics, optimizer state, augmentation RNG, epoch, history) is written
    atomically to checkpoint_path after every epoch.
    """
    x, y = _check_batch(train[0]), np.asarray(train[1])
    if len(x) == 0:
        raise ValueError("the training set is empty")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if history is None:
        history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "epoch_seconds": []}
    batches = BatchIterator(x, y, batch_size=batch_size, seed=seed, reuse_buffers=True)  # one gather buffer
    steps_per_epoch = len(batches)
    for epoch in range(start_epoch, epochs):
        model.train()
        start = time.perf_counter()
        batches.set_epoch(epoch)  # epoch e is ordered by (seed, e) alone: a resumed run replays the same batches
        loss_sum, seen = 0.0, 0
        for i, (xb, yb) in enumerate(batches):
            if lr_schedule is not None:
                optimizer.lr = lr_schedule(epoch * steps_per_epoch + i)
            if augment is not None:
                xb = augment(xb)
            loss_sum += train_step(model, optimizer, xb, yb, smoothing) * len(xb)
            seen += len(xb)
            if progress:
                _progress_bar(epoch, epochs, i + 1, steps_per_epoch, loss_sum / seen, start)
        history["train_loss"].append(loss_sum / seen)
        history["lr"].append(float(optimizer.lr))
        if val is not None:
            val_loss, val_acc = evaluate(model, *val, tta=tta)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        history["epoch_seconds"].append(time.perf_counter() - start)
        if progress:
            _epoch_summary(epoch, epochs, history)
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, epoch + 1, history, augment)
    return history


def _progress_bar(epoch, epochs, step, steps, loss, start, width=24):
    if not sys.stdout.isatty() or (step % 5 and step != steps):
        return
    elapsed = time.perf_counter() - start
    eta = elapsed / step * (steps - step)
    filled = width * step // steps
    sys.stdout.write(f"\repoch {epoch + 1}/{epochs} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{step}/{steps} loss {loss:.4f} ({elapsed:.0f} s, {eta:.0f} s left)")
    sys.stdout.flush()


def _epoch_summary(epoch, epochs, history):
    line = f"epoch {epoch + 1}/{epochs}  train loss {history['train_loss'][-1]:.4f}"
    if history["val_acc"]:
        line += f"  val loss {history['val_loss'][-1]:.4f}  val acc {history['val_acc'][-1]:.2%}"
    line += f"  lr {history['lr'][-1]:.4g}  ({history['epoch_seconds'][-1]:.1f} s)"
    print(("\r" if sys.stdout.isatty() else "") + line + " " * 10, flush=True)


# ----------------------------------------------------------------------------------------------------
# Task 7: checkpoints that resume exactly and are never half-written
# ----------------------------------------------------------------------------------------------------

def save_checkpoint(path, model, optimizer, epoch, history, augment=None):
    """Weights and BN statistics, optimizer state, epoch, history and the augmentation RNG state in one
    .npz (np.savez, no pickle), written to a temporary file in the same folder, flushed, fsync'ed and
    renamed onto `path` (os.replace is atomic): a crash mid-write leaves the previous checkpoint intact."""
    path = Path(path)
    arrays = {f"weight.{i}": w for i, w in enumerate(get_weights(model))}
    arrays.update({f"opt.{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    meta = {"epoch": int(epoch), "history": history, "format": 1,
            "num_batches_tracked": [int(getattr(bn, "num_batches_tracked", 0)) for bn in _batchnorms(model)],
            "augment_rng": augment.rng.bit_generator.state if hasattr(augment, "rng") else None}
    arrays["meta"] = np.array(json.dumps(meta))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def load_checkpoint(path, model, optimizer=None, augment=None):
    """Restore what save_checkpoint wrote (into the given objects, in place); returns {"epoch", "history"}.

    ValueError mentioning "checkpoint" when the file is unreadable, incomplete or does not fit the model.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
        meta = json.loads(str(files.pop("meta")))
        weights = [files[f"weight.{i}"] for i in range(sum(k.startswith("weight.") for k in files))]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"checkpoint {path} is unreadable or incomplete: {exc}") from exc
    try:
        set_weights(model, weights)
    except ValueError as exc:
        raise ValueError(f"checkpoint {path} does not fit this model: {exc}") from exc
    for bn, count in zip(_batchnorms(model), meta.get("num_batches_tracked", [])):
        if hasattr(bn, "num_batches_tracked"):
            bn.num_batches_tracked = int(count)
    if optimizer is not None:
        state = {k[len("opt."):]: v for k, v in files.items() if k.startswith("opt.")}
        optimizer.load_state_dict({k: (v.item() if v.ndim == 0 else v) for k, v in state.items()})
    if augment is not None and hasattr(augment, "rng") and meta.get("augment_rng") is not None:
        augment.rng.bit_generator.state = meta["augment_rng"]
    return {"epoch": meta["epoch"], "history": meta["history"]}


# ----------------------------------------------------------------------------------------------------
# Input checks (below the lesson)
# ----------------------------------------------------------------------------------------------------

def _check_images(x):
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W, 3) (CIFAR-10's NHWC layout), got {x.shape}")
    return x


def _check_statistics(mean, std, channels):
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if mean.shape != (channels,) or std.shape != (channels,):
        raise ValueError(f"mean and std must have one value per channel, shape ({channels},), "
                         f"got {mean.shape} and {std.shape}")
    if not np.all(std > 0):
        raise ValueError(f"std must be > 0 in every channel to normalise, got {std}")
    return mean, std


def _check_batch(x):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"expected a batch of images of shape (N, C, H, W), got shape {x.shape}")
    return x


def _check_padding(padding):
    if isinstance(padding, bool) or int(padding) != padding or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    return int(padding)


def _check_smoothing(smoothing):
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"label smoothing must be in [0, 1], got {smoothing!r}")
    return float(smoothing)


def _check_logits_and_labels(logits, y):
    logits, y = np.asarray(logits), np.asarray(y)
    if logits.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {logits.shape}")
    N, C = logits.shape
    if N == 0:
        raise ValueError("empty batch: the mean loss over 0 samples is undefined")
    if y.shape != (N,):
        raise ValueError(f"y must hold one class index per sample, shape ({N},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer class indices, got dtype {y.dtype}")
    if y.min() < 0 or y.max() >= C:
        raise ValueError(f"labels must be in [0, {C}), got values from {y.min()} to {y.max()}")
    return logits, y


def _check_widths(widths):
    widths = tuple(widths)
    if len(widths) < 1 or any(isinstance(w, bool) or int(w) != w or w < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths!r}")
    return tuple(int(w) for w in widths)


if __name__ == "__main__":
    # Self-test on random images: augmentation keeps shapes, the loss matches its definition, a tiny
    # ResNet learns to separate two classes of synthetic images (bright left half vs bright right half).
    rng = np.random.default_rng(0)
    images = rng.standard_normal((6, 3, 8, 8)).astype(np.float32)
    crops = RandomCropFlip(padding=2, seed=0)(images)
    assert crops.shape == images.shape and crops.dtype == np.float32
    loss, dlogits = smoothed_cross_entropy(np.zeros((4, 10)), np.array([0, 1, 2, 3]), smoothing=0.1)
    assert abs(loss - math.log(10)) < 1e-12 and abs(dlogits.sum()) < 1e-12, "uniform logits: loss ln 10"
    y = rng.integers(0, 2, 256)
    x = rng.standard_normal((256, 3, 8, 8)).astype(np.float32) * 0.5
    x[y == 0, :, :, :4] += 1.0
    x[y == 1, :, :, 4:] += 1.0
    model = build_resnet(widths=(8, 16), num_classes=2, seed=0)
    opt = make_optimizer(model, lr=0.05)
    hist = fit(model, opt, (x[:192], y[:192]), (x[192:], y[192:]), epochs=3, batch_size=32, progress=False,
               smoothing=0.1, augment=RandomCropFlip(padding=1, flip=False, seed=1))
    print(f"val accuracy per epoch: {[round(a, 3) for a in hist['val_acc']]}")
    assert hist["val_acc"][-1] > 0.9, "the synthetic problem should be learned"
    print("level 3 self-test passed")
