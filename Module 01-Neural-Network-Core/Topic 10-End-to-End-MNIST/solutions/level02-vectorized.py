"""
Level 2: Vectorized Implementation
- Priority: a clear, fully vectorized training pipeline (whole minibatches, no Python loop over samples)
- Constraints: NumPy only; float32; the layers of Topics 03, 06, 08 and 09 at their vectorized level 2
- Target: pass every test; the full MNIST run trains to 98% (level 3 does the same, faster)

The pipeline, top to bottom: normalise with the TRAIN statistics -> build Linear/ReLU(/BatchNorm/Dropout)
layers -> for each epoch, shuffle by (seed, epoch), slice minibatches, forward, loss, backward, step ->
evaluate on the validation set in eval mode -> checkpoint atomically.
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
from dlfs.datasets import BatchIterator, load_mnist

optim = load_topic(3, level=2)      # Parameter, Adam, SGD, schedules, clipping
layers = load_topic(6, level=2)     # Linear, ReLU, Sequential, softmax_cross_entropy
regularization = load_topic(8, level=2)  # Dropout
normalization = load_topic(9, level=2)  # BatchNorm1d

NUM_CLASSES = 10


# ----------------------------------------------------------------------------------------------------
# Task 1: data
# ----------------------------------------------------------------------------------------------------

def normalize_images(x, mean=None, std=None, dtype=np.float32):
    """uint8 images (N, 28, 28) or (N, 784) -> (N, 784) floats (x/255 - mean) / std, plus (mean, std).

    mean and std are computed on THIS x when not given: pass the training set's to the others.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"expected a batch of images, got shape {x.shape}")
    out = x.reshape(len(x), int(np.prod(x.shape[1:]))).astype(dtype)  # -1 cannot size the rows of 0 images
    out /= 255
    if mean is None:
        mean, std = float(out.mean()), float(out.std())
    if not std > 0:
        raise ValueError(f"std must be > 0 to normalise, got {std!r}")
    out -= dtype(mean)
    out /= dtype(std)
    return out, mean, std


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    """MNIST as {"train": (x, y), "val": (x, y), "test": (x, y)}, x (N, 784) normalised with train stats.

    subset: use only this many training samples (the 1,000-sample logic check), test set cut to the same size.
    val_size: samples held out of the training set (a seeded random split) for validation.
    """
    x_train, y_train, x_test, y_test = load_mnist(data_dir=data_dir)
    order = np.random.default_rng(seed).permutation(len(x_train))
    if subset is not None:
        order = order[:subset + val_size]
        x_test, y_test = x_test[:subset], y_test[:subset]
    val_idx, train_idx = order[:val_size], order[val_size:]
    x_tr, mean, std = normalize_images(x_train[train_idx], dtype=dtype)
    x_val, _, _ = normalize_images(x_train[val_idx], mean, std, dtype=dtype)
    x_te, _, _ = normalize_images(x_test, mean, std, dtype=dtype)
    as_labels = lambda y: np.asarray(y, dtype=np.int64)  # noqa: E731
    return {"train": (x_tr, as_labels(y_train[train_idx])), "val": (x_val, as_labels(y_train[val_idx])),
            "test": (x_te, as_labels(y_test)), "mean": mean, "std": std}


# ----------------------------------------------------------------------------------------------------
# Task 2: the model and its optimizer
# ----------------------------------------------------------------------------------------------------

def build_mlp(layer_sizes=(784, 512, 256, 10), dropout=0.0, batchnorm=False, seed=0, dtype=np.float32):
    """Linear -> [BatchNorm1d] -> ReLU -> [Dropout] for each hidden layer, then a final Linear (logits).

    Kaiming-normal weights, zero biases; one seeded Generator feeds every layer in order.
    """
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {layer_sizes!r}")
    rng = np.random.default_rng(seed)
    stack = []
    for i, (d_in, d_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        stack.append(layers.Linear(d_in, d_out, rng=rng, dtype=dtype))
        if i < len(layer_sizes) - 2:
            if batchnorm:
                stack.append(normalization.BatchNorm1d(d_out, dtype=dtype))
            stack.append(layers.ReLU())
            if dropout > 0:
                stack.append(regularization.Dropout(dropout, rng=rng))
    return layers.Sequential(*stack)


def make_optimizer(model, name="adam", lr=1e-3, weight_decay=0.0, momentum=0.9):
    """"adam", "adamw" or "sgd" (with momentum) over model.parameters()."""
    params = model.parameters()
    if name == "adam":
        return optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}: use 'adam', 'adamw' or 'sgd'")


def get_weights(model):
    """Copies of every parameter array, in model.parameters() order (then running stats of BatchNorm)."""
    return [p.data.copy() for p in model.parameters()] + [b.copy() for b in _buffers(model)]


def set_weights(model, weights):
    """Write arrays (as returned by get_weights) back into the model, in place."""
    targets = [p.data for p in model.parameters()] + _buffers(model)
    if len(weights) != len(targets):
        raise ValueError(f"expected {len(targets)} arrays, got {len(weights)}")
    weights = [np.asarray(w) for w in weights]
    for target, w in zip(targets, weights):  # every shape is checked before anything is written
        if w.shape != target.shape:
            raise ValueError(f"weight of shape {w.shape} does not fit a parameter of shape {target.shape}")
    for target, w in zip(targets, weights):
        target[...] = w


def _buffers(model):
    """Non-trainable state that a checkpoint must keep: BatchNorm running statistics."""
    out = []
    for layer in model.layers:
        if hasattr(layer, "running_mean"):
            out += [layer.running_mean, layer.running_var]
    return out


# ----------------------------------------------------------------------------------------------------
# Task 3: one training step, the loss and its gradients
# ----------------------------------------------------------------------------------------------------

def loss_and_grads(model, x, y):
    """Mean cross-entropy on (x, y) and copies of the gradients of every parameter (model.parameters() order)."""
    for p in model.parameters():
        p.zero_grad()
    logits = model.forward(x)
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    model.backward(dlogits)
    return loss, [p.grad.copy() for p in model.parameters()]


def train_step(model, optimizer, xb, yb):
    """Forward, loss, backward, update on one batch; returns the loss (a float).

    Raises FloatingPointError when the loss is not finite: training on NaN would silently ruin the weights.
    """
    optimizer.zero_grad()
    logits = model.forward(xb)
    loss, dlogits = layers.softmax_cross_entropy(logits, yb)
    if not math.isfinite(loss):
        raise FloatingPointError(f"the loss is {loss}: check the inputs for NaN/Inf and lower the learning rate")
    model.backward(dlogits)
    optimizer.step()
    return loss


# ----------------------------------------------------------------------------------------------------
# Task 4: evaluation
# ----------------------------------------------------------------------------------------------------

def predict(model, x, batch_size=1000):
    """Predicted class of every row of x (eval mode, in batches; the model's mode is restored)."""
    return _eval_batches(model, x, None, batch_size)[1]


def evaluate(model, x, y, batch_size=1000):
    """(mean cross-entropy, accuracy) of the model on (x, y), in eval mode; the model's mode is restored."""
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    total_loss, predictions = _eval_batches(model, x, y, batch_size)
    return total_loss / len(x), float(np.mean(predictions == y))


def _eval_batches(model, x, y, batch_size):
    was_training = model.training
    model.eval()
    predictions = np.empty(len(x), dtype=np.int64)
    total_loss = 0.0
    try:
        for start in range(0, len(x), batch_size):
            logits = model.forward(x[start:start + batch_size])
            predictions[start:start + len(logits)] = np.argmax(logits, axis=1)
            if y is not None:
                loss, _ = layers.softmax_cross_entropy(logits, y[start:start + batch_size])
                total_loss += loss * len(logits)
    finally:
        if was_training:
            model.train()
    return total_loss, predictions


def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """counts[i, j] = how many samples of true class i were predicted as class j (one np.add.at)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same shape")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts


# ----------------------------------------------------------------------------------------------------
# Task 5: fit, the training loop with validation
# ----------------------------------------------------------------------------------------------------

def fit(model, optimizer, train, val=None, epochs=1, batch_size=128, seed=0, lr_schedule=None,
        early_stopping=None, checkpoint_path=None, start_epoch=0, history=None, progress=True):
    """Train for `epochs` epochs (from start_epoch); returns the history dict.

    train, val: (x, y) pairs. lr_schedule(step) -> lr, called before every step (step counts from 0 over the
    whole run). early_stopping: a Topic 08 EarlyStopping (its step(val_loss, params) says when to stop).
    checkpoint_path: a checkpoint is written there (atomically) after every epoch.
    history: pass the one saved in a checkpoint to resume; it is extended in place.
    """
    x, y = np.asarray(train[0]), np.asarray(train[1])
    if len(x) == 0:
        raise ValueError("the training set is empty")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    history = history if history is not None else {"train_loss": [], "val_loss": [], "val_acc": [],
                                                   "lr": [], "epoch_seconds": []}
    batches = BatchIterator(x, y, batch_size=batch_size, seed=seed)  # the curriculum's one batching iterator
    steps_per_epoch = len(batches)
    for epoch in range(start_epoch, epochs):
        model.train()
        start = time.perf_counter()
        batches.set_epoch(epoch)  # epoch e is ordered by (seed, e) only: a resumed run replays the same batches
        loss_sum = 0.0
        for i, (xb, yb) in enumerate(batches):
            if lr_schedule is not None:
                optimizer.lr = lr_schedule(epoch * steps_per_epoch + i)
            loss_sum += train_step(model, optimizer, xb, yb) * len(xb)
            if progress:
                _progress_bar(epoch, epochs, i + 1, steps_per_epoch, loss_sum / min(len(x), (i + 1) * batch_size))
        history["train_loss"].append(loss_sum / len(x))
        history["lr"].append(float(optimizer.lr))
        if val is not None:
            val_loss, val_acc = evaluate(model, *val)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        history["epoch_seconds"].append(time.perf_counter() - start)
        if progress:
            _epoch_summary(epoch, epochs, history)
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, epoch + 1, history)
        if early_stopping is not None and val is not None:
            if early_stopping.step(history["val_loss"][-1], model.parameters()):
                if progress:
                    print(f"early stopping after epoch {epoch + 1}: best val loss {early_stopping.best:.4f}")
                break
    return history


def _progress_bar(epoch, epochs, step, steps, loss, width=24):
    if not sys.stdout.isatty() or (step % 20 and step != steps):
        return
    filled = width * step // steps
    sys.stdout.write(f"\repoch {epoch + 1}/{epochs} [{'#' * filled}{'.' * (width - filled)}] "
                     f"{step}/{steps} loss {loss:.4f}")
    sys.stdout.flush()


def _epoch_summary(epoch, epochs, history):
    line = f"epoch {epoch + 1}/{epochs}  train loss {history['train_loss'][-1]:.4f}"
    if history["val_acc"]:
        line += f"  val loss {history['val_loss'][-1]:.4f}  val acc {history['val_acc'][-1]:.2%}"
    line += f"  ({history['epoch_seconds'][-1]:.1f} s)"
    print(("\r" if sys.stdout.isatty() else "") + line + " " * 10)


# ----------------------------------------------------------------------------------------------------
# Task 6: checkpoints that save and resume exactly, and are never half-written
# ----------------------------------------------------------------------------------------------------

def save_checkpoint(path, model, optimizer, epoch, history):
    """Weights, optimizer state, epoch, history and dropout RNG states in one .npz, written atomically.

    The file is written under a temporary name in the same folder, flushed to disk, then renamed over
    `path` (os.replace is atomic): a crash mid-write leaves the previous checkpoint intact.
    """
    path = Path(path)
    arrays = {f"weight.{i}": w for i, w in enumerate(get_weights(model))}
    opt_state = optimizer.state_dict()
    arrays.update({f"opt.{k}": np.asarray(v) for k, v in opt_state.items()})
    meta = {"epoch": int(epoch), "history": history, "format": 1,
            "rng": [layer.rng.bit_generator.state for layer in model.layers if hasattr(layer, "rng")]}
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


def load_checkpoint(path, model, optimizer=None):
    """Restore weights (and optimizer state) saved by save_checkpoint; returns {"epoch", "history"}."""
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
        meta = json.loads(str(files.pop("meta")))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"checkpoint {path} is unreadable or incomplete: {exc}") from exc
    weights = [files[f"weight.{i}"] for i in range(sum(k.startswith("weight.") for k in files))]
    set_weights(model, weights)
    if optimizer is not None:
        state = {k[len("opt."):]: v for k, v in files.items() if k.startswith("opt.")}
        state = {k: (v.item() if v.ndim == 0 else v) for k, v in state.items()}
        optimizer.load_state_dict(state)
    rng_layers = [layer for layer in model.layers if hasattr(layer, "rng")]
    for layer, state in zip(rng_layers, meta.get("rng", [])):
        layer.rng.bit_generator.state = state
    return {"epoch": meta["epoch"], "history": meta["history"]}


if __name__ == "__main__":
    # Self-test on synthetic data: two Gaussian blobs per class in 20-D, learned in a few epochs.
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((NUM_CLASSES, 20)).astype(np.float32) * 3
    y = rng.integers(0, NUM_CLASSES, 2000)
    x = (centers[y] + rng.standard_normal((2000, 20))).astype(np.float32)
    model = build_mlp((20, 64, NUM_CLASSES), seed=0)
    opt = make_optimizer(model, "adam", lr=1e-2)
    hist = fit(model, opt, (x[:1500], y[:1500]), (x[1500:], y[1500:]), epochs=3, batch_size=64, progress=False)
    print(f"val accuracy per epoch: {[round(a, 3) for a in hist['val_acc']]}")
    assert hist["val_acc"][-1] > 0.9, "the synthetic problem should be learned"
    assert confusion_matrix(y[1500:], predict(model, x[1500:])).sum() == 500
