"""
Topic 10: End-to-End MNIST - your solution.

Copy this file to solution.py (same folder) and implement the tasks of questions.md, in order.
Test it from the repository root:  python utils/test_runner.py --day 10

The parts come from earlier topics through dlfs.components.load_topic: Topic 03's optimizers and
Parameter, Topic 06's Linear/ReLU/Sequential/softmax_cross_entropy, Topic 08's Dropout and Topic 09's
BatchNorm1d (with DLFS_USE_MINE=3,6,8,9 these are YOUR files).
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic
from dlfs.datasets import BatchIterator, load_mnist  # noqa: F401  (Tasks 1 and 5 use them)

optim = load_topic(3)           # Parameter, Adam, AdamW, SGD, cosine_lr, ...
layers = load_topic(6)          # Linear, ReLU, Sequential, softmax_cross_entropy
regularization = load_topic(8)  # Dropout, EarlyStopping
normalization = load_topic(9)   # BatchNorm1d

NUM_CLASSES = 10


# Task 1: data ------------------------------------------------------------------------------------

def normalize_images(x, mean=None, std=None, dtype=np.float32):
    """uint8 images (N, 28, 28) or (N, 784) -> ((N, 784) array of `dtype`, mean, std).

    out = (x / 255 - mean) / std. When mean/std are None, compute them (two floats) on THIS x;
    pass the training set's mean/std when normalising validation and test images.
    Raises ValueError for an input that is not a batch (ndim < 2) or std <= 0.
    """
    raise NotImplementedError("Task 1: normalize_images (see questions.md)")


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    """{"train": (x, y), "val": (x, y), "test": (x, y), "mean": float, "std": float}.

    Hold out `val_size` training samples (a permutation from np.random.default_rng(seed)) for validation.
    subset: keep only `subset` training samples and the first `subset` test samples.
    x arrays are (N, 784) normalised with the TRAIN split's statistics; y arrays are int64.
    """
    raise NotImplementedError("Task 1: load_data (see questions.md)")


# Task 2: the model and its optimizer --------------------------------------------------------------

def build_mlp(layer_sizes=(784, 512, 256, 10), dropout=0.0, batchnorm=False, seed=0, dtype=np.float32):
    """layers.Sequential: for each hidden size, Linear -> [BatchNorm1d] -> ReLU -> [Dropout]; then a last Linear.

    Dropout(dropout) only when dropout > 0; layer_sizes of two sizes (no hidden layer) is that one last Linear.

    One np.random.default_rng(seed) feeds every layer in order (Linear init, Dropout masks).
    """
    raise NotImplementedError("Task 2: build_mlp (see questions.md)")


def make_optimizer(model, name="adam", lr=1e-3, weight_decay=0.0, momentum=0.9):
    """Topic 03's Adam ("adam"), AdamW ("adamw") or SGD with momentum ("sgd") over model.parameters().

    Raises ValueError for any other name.
    """
    raise NotImplementedError("Task 2: make_optimizer (see questions.md)")


def get_weights(model):
    """Copies of every parameter's .data (model.parameters() order), then each BatchNorm's running_mean, running_var."""
    raise NotImplementedError("Task 2: get_weights (see questions.md)")


def set_weights(model, weights):
    """Write arrays shaped like get_weights(model) back into the model, in place; ValueError on a count/shape mismatch."""
    raise NotImplementedError("Task 2: set_weights (see questions.md)")


# Task 3: one training step -------------------------------------------------------------------------

def loss_and_grads(model, x, y):
    """(mean cross-entropy: float, [copy of each parameter's gradient]) for one batch, gradients zeroed first."""
    raise NotImplementedError("Task 3: loss_and_grads (see questions.md)")


def train_step(model, optimizer, xb, yb):
    """zero_grad, forward, loss, backward, step; returns the loss. FloatingPointError if the loss is not finite."""
    raise NotImplementedError("Task 3: train_step (see questions.md)")


# Task 4: evaluation ------------------------------------------------------------------------------

def predict(model, x, batch_size=1000):
    """(N,) int predicted classes, computed in eval mode in batches; the model's previous mode is restored."""
    raise NotImplementedError("Task 4: predict (see questions.md)")


def evaluate(model, x, y, batch_size=1000):
    """(mean cross-entropy over all samples, accuracy) in eval mode; ValueError on empty or mismatched data."""
    raise NotImplementedError("Task 4: evaluate (see questions.md)")


def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """(num_classes, num_classes) int64 counts: rows are true classes, columns predicted classes."""
    raise NotImplementedError("Task 4: confusion_matrix (see questions.md)")


# Task 5: the training loop -------------------------------------------------------------------------

def fit(model, optimizer, train, val=None, epochs=1, batch_size=128, seed=0, lr_schedule=None,
        early_stopping=None, checkpoint_path=None, start_epoch=0, history=None, progress=True):
    """Train epochs start_epoch..epochs-1 and return the history dict.

    history keys: "train_loss" (mean over the epoch's samples), "val_loss", "val_acc" (when val is given),
    "lr" (the learning rate of the epoch's last step), "epoch_seconds". Pass a saved history to extend it.
    Batches come from dlfs.datasets.BatchIterator(x, y, batch_size, seed=seed): call its set_epoch(epoch)
    before each epoch, so that epoch e is always ordered the same way (resuming depends on it).
    Each epoch: model.train(), the minibatches (the last one may be smaller), optimizer.lr =
    lr_schedule(global_step) before each step if given.
    After each epoch: evaluate on val, save_checkpoint(checkpoint_path, ...) if given, and stop early when
    early_stopping.step(val_loss, model.parameters()) returns True.
    progress=True prints a progress bar and one line per epoch; it must not change the run.
    Raises ValueError for an empty training set, mismatched x/y lengths or batch_size < 1.
    """
    raise NotImplementedError("Task 5: fit (see questions.md)")


# Task 6: checkpoints -----------------------------------------------------------------------------

def save_checkpoint(path, model, optimizer, epoch, history):
    """One .npz (np.savez, no pickle) with the weights, optimizer.state_dict(), epoch, history and the RNG state
    of every layer that has an `rng`; written to a temporary file in the same folder and renamed into place
    (os.replace), so a crash mid-write never damages the previous checkpoint. Missing folders of path are created."""
    raise NotImplementedError("Task 6: save_checkpoint (see questions.md)")


def load_checkpoint(path, model, optimizer=None):
    """Restore everything save_checkpoint wrote; return {"epoch": int, "history": dict}.

    Raises ValueError (mentioning "checkpoint") when the file is unreadable or incomplete, or holds pickled
    objects (load with np.load(path, allow_pickle=False): unpickling can run any code).
    """
    raise NotImplementedError("Task 6: load_checkpoint (see questions.md)")
