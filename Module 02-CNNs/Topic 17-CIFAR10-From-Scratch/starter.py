"""
Topic 17: CIFAR-10 From Scratch - your solution.

Copy this file to solution.py (same folder) and implement the tasks of questions.md, in order.
Test it from the repository root:  python utils/test_runner.py --day 17

The parts come from earlier topics through dlfs.components.load_topic: Topic 03's optimizers and schedules,
Topic 06's Linear/ReLU/Sequential, Topic 12's Conv2d, Topic 13's MaxPool2d/GlobalAvgPool2d and Topic 14's
BatchNorm2d/ResidualBlock (with DLFS_USE_MINE=3,6,12,13,14 these are YOUR files).
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic
from dlfs.datasets import BatchIterator, load_cifar10  # noqa: F401  (Tasks 1 and 6 use them)

optim = load_topic(3)     # Parameter, SGD, Adam, AdamW, warmup_cosine_lr, ...
layers = load_topic(6)    # Linear, ReLU, Sequential
conv = load_topic(12)     # Conv2d (im2col)
pooling = load_topic(13)  # MaxPool2d, GlobalAvgPool2d, Flatten
resnet = load_topic(14)   # BatchNorm2d, ResidualBlock

NUM_CLASSES = 10


# Task 1: data ------------------------------------------------------------------------------------

def normalize_images(x, mean=None, std=None, dtype=np.float32):
    """uint8 images (N, H, W, 3) -> ((N, 3, H, W) array of `dtype`, mean (3,), std (3,)).

    out[:, c] = (x[..., c] / 255 - mean[c]) / std[c]. When mean/std are None compute them per channel on
    THIS x (accumulate in float64); pass the training set's values for validation and test images.
    ValueError for anything but (N, H, W, 3), for mean/std not of shape (3,), or a std <= 0.
    """
    raise NotImplementedError("Task 1: normalize_images (see questions.md)")


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    """{"train": (x, y), "val": (x, y), "test": (x, y), "mean": (3,), "std": (3,)} from load_cifar10.

    Hold out `val_size` training images (a permutation from np.random.default_rng(seed)) for validation.
    subset: keep only `subset` training images and the first `subset` test images.
    x arrays (N, 3, 32, 32) normalised with the TRAIN split's statistics; y arrays int64.
    """
    raise NotImplementedError("Task 1: load_data (see questions.md)")


# Task 2: augmentation ----------------------------------------------------------------------------

def random_crop(x, padding, rng):
    """x (N, C, H, W) -> new (N, C, H, W): each image zero-padded by `padding` on every side, then the
    H x W window at offset (dy, dx), both drawn per image uniformly from 0 .. 2*padding.

    rng: np.random.Generator (or a seed). Vectorized over the batch. ValueError for x.ndim != 4 or padding < 0.
    """
    raise NotImplementedError("Task 2: random_crop (see questions.md)")


def random_flip(x, rng, p=0.5):
    """x (N, C, H, W) -> new array: each image mirrored left-right (last axis) with probability p.

    ValueError for x.ndim != 4 or p outside [0, 1].
    """
    raise NotImplementedError("Task 2: random_flip (see questions.md)")


class RandomCropFlip:
    """The training augmentation: aug = RandomCropFlip(padding=4, flip=True, seed=0); xb = aug(xb).

    Keeps ONE Generator in the attribute `rng` (np.random.default_rng(seed)); each call applies
    random_crop(padding) and then, if flip, random_flip, both drawing from self.rng.
    """

    def __init__(self, padding=4, flip=True, seed=0):
        raise NotImplementedError("Task 2: RandomCropFlip (see questions.md)")

    def __call__(self, x):
        raise NotImplementedError("Task 2: RandomCropFlip (see questions.md)")


# Task 3: label smoothing --------------------------------------------------------------------------

def smoothed_cross_entropy(logits, y, smoothing=0.0):
    """(loss: float, dlogits: (N, C)) of the mean cross-entropy against smoothed targets
    q = (1 - smoothing) * one_hot(y) + smoothing / C, as F.cross_entropy(label_smoothing=smoothing).

    dlogits = (softmax(logits) - q) / N, in the dtype of logits. ValueError for smoothing outside [0, 1],
    an empty batch, logits that are not 2-D, labels of the wrong shape, dtype or range.
    """
    raise NotImplementedError("Task 3: smoothed_cross_entropy (see questions.md)")


# Task 4: the model, its optimizer and schedule -------------------------------------------------------

def build_resnet(widths=(32, 64, 128), num_classes=NUM_CLASSES, seed=0, dtype=np.float32):
    """layers.Sequential:
        Conv2d(3, widths[0], 3, padding=1, bias=False) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
        for each next width w (previous width c):
            Conv2d(c, w, 3, padding=1, bias=False) -> BatchNorm2d -> ReLU -> MaxPool2d(2) -> ResidualBlock(w, w)
        GlobalAvgPool2d -> Linear(widths[-1], num_classes)
    One np.random.default_rng(seed) passed to every layer that draws weights, in order.
    ValueError for empty widths or a width < 1.
    """
    raise NotImplementedError("Task 4: build_resnet (see questions.md)")


def parameter_groups(model):
    """(decay, no_decay): conv and Linear weights (2 or more dims) / biases and BatchNorm gamma, beta (1-D)."""
    raise NotImplementedError("Task 4: parameter_groups (see questions.md)")


class GroupedOptimizer:
    """One optimizer over several parameter groups, each with its own weight decay.

    param_groups: [{"params": [...], "weight_decay": float}, ...] (empty groups are dropped);
    name: "sgd" (momentum, nesterov), "adam" or "adamw" -> one Topic 03 optimizer per group.
    Attributes and methods: lr (a property: setting it sets every group's lr), zero_grad(), step(),
    state_dict() (a flat dict np.savez can store), load_state_dict(state).
    """

    def __init__(self, param_groups, name="sgd", lr=0.1, momentum=0.9, nesterov=True):
        raise NotImplementedError("Task 4: GroupedOptimizer (see questions.md)")

    @property
    def lr(self):
        raise NotImplementedError("Task 4: GroupedOptimizer.lr (see questions.md)")

    @lr.setter
    def lr(self, value):
        raise NotImplementedError("Task 4: GroupedOptimizer.lr (see questions.md)")

    def zero_grad(self):
        raise NotImplementedError("Task 4: GroupedOptimizer.zero_grad (see questions.md)")

    def step(self):
        raise NotImplementedError("Task 4: GroupedOptimizer.step (see questions.md)")

    def state_dict(self):
        raise NotImplementedError("Task 4: GroupedOptimizer.state_dict (see questions.md)")

    def load_state_dict(self, state):
        raise NotImplementedError("Task 4: GroupedOptimizer.load_state_dict (see questions.md)")


def make_optimizer(model, name="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4):
    """GroupedOptimizer: weight_decay on parameter_groups(model)[0], 0 on [1]. ValueError for an unknown name."""
    raise NotImplementedError("Task 4: make_optimizer (see questions.md)")


def make_lr_schedule(base_lr, total_steps, warmup_steps=0, min_lr=0.0):
    """step -> lr: linear warmup (base_lr * (step + 1) / warmup_steps), then a cosine from base_lr down to
    min_lr at total_steps, min_lr afterwards (optim.warmup_cosine_lr). ValueError for bad arguments."""
    raise NotImplementedError("Task 4: make_lr_schedule (see questions.md)")


def get_weights(model):
    """Copies of every parameter's .data (model.parameters() order), then every BatchNorm's running_mean and
    running_var, in the order the BatchNorm layers appear (inside the residual blocks too)."""
    raise NotImplementedError("Task 4: get_weights (see questions.md)")


def set_weights(model, weights):
    """Write arrays shaped like get_weights(model) back in place; ValueError on a count or shape mismatch."""
    raise NotImplementedError("Task 4: set_weights (see questions.md)")


# Task 5: a training step, evaluation -------------------------------------------------------------

def loss_and_grads(model, x, y, smoothing=0.0):
    """(mean smoothed cross-entropy, [copy of every parameter's gradient]) for one batch, gradients zeroed first."""
    raise NotImplementedError("Task 5: loss_and_grads (see questions.md)")


def train_step(model, optimizer, xb, yb, smoothing=0.0):
    """zero_grad, forward, loss, backward, step; returns the loss. FloatingPointError if the loss is not finite
    (raised before the update)."""
    raise NotImplementedError("Task 5: train_step (see questions.md)")


def predict(model, x, batch_size=500, tta=False):
    """(N,) int predicted classes in eval mode, in batches; tta=True averages the logits of x and of its
    mirror image x[:, :, :, ::-1]. The model's previous mode is restored."""
    raise NotImplementedError("Task 5: predict (see questions.md)")


def evaluate(model, x, y, batch_size=500, tta=False):
    """(mean plain cross-entropy over all samples, accuracy) in eval mode, no augmentation; the mode is restored.
    ValueError on empty or mismatched data."""
    raise NotImplementedError("Task 5: evaluate (see questions.md)")


def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """(num_classes, num_classes) int64 counts: rows are true classes, columns predicted classes."""
    raise NotImplementedError("Task 5: confusion_matrix (see questions.md)")


# Task 6: fit -------------------------------------------------------------------------------------

def fit(model, optimizer, train, val=None, epochs=1, batch_size=512, seed=0, lr_schedule=None, smoothing=0.0,
        augment=None, checkpoint_path=None, start_epoch=0, history=None, progress=True, tta=False):
    """Train epochs start_epoch .. epochs-1 and return the history dict
    {"train_loss", "val_loss", "val_acc", "lr", "epoch_seconds"} (lists, one entry per epoch).

    Batches: BatchIterator(x, y, batch_size, seed=seed) with set_epoch(epoch) before each epoch.
    Before each step: optimizer.lr = lr_schedule(epoch * steps_per_epoch + i) if a schedule is given, and
    xb = augment(xb) if augment is given (training batches only). train_step with `smoothing`.
    After each epoch: evaluate(model, *val, tta=tta) if val is given, a progress line if progress, and
    save_checkpoint(checkpoint_path, model, optimizer, epoch + 1, history, augment) if a path is given.
    ValueError for an empty training set, mismatched lengths or batch_size < 1.
    """
    raise NotImplementedError("Task 6: fit (see questions.md)")


# Task 7: checkpoints -----------------------------------------------------------------------------

def save_checkpoint(path, model, optimizer, epoch, history, augment=None):
    """One .npz (np.savez, no pickle): get_weights(model), optimizer.state_dict(), the epoch, the history,
    every BatchNorm's num_batches_tracked and augment.rng.bit_generator.state; written to a temporary file in
    the same folder, flushed, fsync'ed and renamed into place with os.replace. Returns the path."""
    raise NotImplementedError("Task 7: save_checkpoint (see questions.md)")


def load_checkpoint(path, model, optimizer=None, augment=None):
    """Restore everything save_checkpoint wrote into the given objects; return {"epoch": int, "history": dict}.
    ValueError mentioning "checkpoint" for an unreadable file or one that does not fit the model."""
    raise NotImplementedError("Task 7: load_checkpoint (see questions.md)")
