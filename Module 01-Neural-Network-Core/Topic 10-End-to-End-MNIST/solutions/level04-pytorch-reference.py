"""
PyTorch Reference Implementation
- Used only for verification, not the solution: the same interface as levels 1-3, on torch.nn and torch.optim
- The weights start from the SAME Kaiming-normal numbers as the NumPy levels (Topic 05's initialiser, copied
  into nn.Linear), so that runs can be compared number for number; arrays go in and out as NumPy arrays
- Run this file with --make-golden to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch

from dlfs.components import load_topic
from dlfs.datasets import epoch_permutation, load_mnist
from dlfs.reference import one_torch_thread, write_golden

NUM_CLASSES = 10


def normalize_images(x, mean=None, std=None, dtype=np.float32):
    """uint8 images -> (N, 784) floats (x/255 - mean) / std (train statistics when mean/std are given)."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"expected a batch of images, got shape {x.shape}")
    t = torch.from_numpy(x.reshape(len(x), int(np.prod(x.shape[1:]))).astype(dtype)) / 255
    if mean is None:
        mean, std = float(t.double().mean()), float(t.double().std(unbiased=False))
    if not std > 0:
        raise ValueError(f"std must be > 0 to normalise, got {std!r}")
    return ((t - mean) / std).numpy(), mean, std


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    """MNIST as {"train", "val", "test"} (x, y) pairs; the same seeded split as the NumPy levels."""
    x_train, y_train, x_test, y_test = load_mnist(data_dir=data_dir)
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


def build_mlp(layer_sizes=(784, 512, 256, 10), dropout=0.0, batchnorm=False, seed=0, dtype=np.float32):
    """nn.Sequential of Linear -> [BatchNorm1d] -> ReLU -> [Dropout] ..., weights from Topic 05's NumPy init."""
    if len(layer_sizes) < 2:
        raise ValueError(f"layer_sizes needs at least an input and an output size, got {layer_sizes!r}")
    init = load_topic(5, level=2)
    rng = np.random.default_rng(seed)
    torch_dtype = torch.float64 if np.dtype(dtype) == np.float64 else torch.float32
    modules = []
    for i, (d_in, d_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        linear = torch.nn.Linear(d_in, d_out, dtype=torch_dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(init.kaiming_normal(d_in, d_out, rng=rng, dtype=np.float64).T))
            linear.bias.zero_()
        modules.append(linear)
        if i < len(layer_sizes) - 2:
            if batchnorm:
                modules.append(torch.nn.BatchNorm1d(d_out, dtype=torch_dtype))
            modules.append(torch.nn.ReLU())
            if dropout > 0:
                modules.append(torch.nn.Dropout(dropout))
    model = torch.nn.Sequential(*modules)
    model.dropout_generator = torch.Generator().manual_seed(seed)  # dropout draws come from here (see _dropout_rng)
    return model


def make_optimizer(model, name="adam", lr=1e-3, weight_decay=0.0, momentum=0.9):
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}: use 'adam', 'adamw' or 'sgd'")


def _targets(model):
    """(tensor, transpose?) for every parameter, then every BatchNorm running statistic."""
    params = [(p, p.ndim == 2) for p in model.parameters()]
    buffers = []
    for m in model:
        if isinstance(m, torch.nn.BatchNorm1d):
            buffers += [(m.running_mean, False), (m.running_var, False)]
    return params + buffers


def get_weights(model):
    """NumPy copies in the NumPy levels' layout: Linear weights as (in, out)."""
    return [(t.detach().T if transpose else t.detach()).numpy().copy() for t, transpose in _targets(model)]


def set_weights(model, weights):
    targets = _targets(model)
    if len(weights) != len(targets):
        raise ValueError(f"expected {len(targets)} arrays, got {len(weights)}")
    arrays = []
    for (t, transpose), w in zip(targets, weights):  # every shape is checked before anything is written
        w = torch.as_tensor(np.asarray(w), dtype=t.dtype)
        w = w.T if transpose and w.ndim == 2 else w
        if w.shape != t.shape:
            raise ValueError(f"weight of shape {tuple(w.shape)} does not fit a parameter of shape {tuple(t.shape)}")
        arrays.append(w)
    with torch.no_grad():
        for (t, _), w in zip(targets, arrays):
            t.copy_(w)


class _dropout_rng:
    """Make the model's dropout layers draw from model.dropout_generator (so a checkpoint can save it)."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.saved = torch.get_rng_state()
        torch.set_rng_state(self.model.dropout_generator.get_state())

    def __exit__(self, *exc):
        self.model.dropout_generator.set_state(torch.get_rng_state())
        torch.set_rng_state(self.saved)


def _forward_loss(model, x, y):
    param = next(model.parameters())
    logits = model(torch.as_tensor(np.asarray(x), dtype=param.dtype))
    return torch.nn.functional.cross_entropy(logits, torch.as_tensor(np.asarray(y), dtype=torch.long))


@one_torch_thread()
def loss_and_grads(model, x, y):
    model.zero_grad()
    with _dropout_rng(model):
        loss = _forward_loss(model, x, y)
    loss.backward()
    return loss.item(), [(p.grad.T if p.ndim == 2 else p.grad).numpy().copy() for p in model.parameters()]


@one_torch_thread()
def train_step(model, optimizer, xb, yb):
    optimizer.zero_grad()
    with _dropout_rng(model):
        loss = _forward_loss(model, xb, yb)
    if not math.isfinite(loss.item()):
        raise FloatingPointError(f"the loss is {loss.item()}: check the inputs for NaN/Inf and lower the learning rate")
    loss.backward()
    optimizer.step()
    return loss.item()


def _eval_batches(model, x, y, batch_size):
    was_training = model.training
    model.eval()
    predictions, total_loss = [], 0.0
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                param = next(model.parameters())
                logits = model(torch.as_tensor(x[start:start + batch_size], dtype=param.dtype))
                predictions.append(logits.argmax(1).numpy())
                if y is not None:
                    target = torch.as_tensor(y[start:start + batch_size], dtype=torch.long)
                    total_loss += float(torch.nn.functional.cross_entropy(logits, target, reduction="sum"))
    finally:
        model.train(was_training)
    return total_loss, np.concatenate(predictions) if predictions else np.zeros(0, np.int64)


@one_torch_thread()
def predict(model, x, batch_size=1000):
    return _eval_batches(model, np.asarray(x), None, batch_size)[1]


@one_torch_thread()
def evaluate(model, x, y, batch_size=1000):
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    total_loss, predictions = _eval_batches(model, x, y, batch_size)
    return total_loss / len(x), float(np.mean(predictions == y))


def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    t, p = torch.as_tensor(np.asarray(y_true)), torch.as_tensor(np.asarray(y_pred))
    if t.shape != p.shape:
        raise ValueError(f"y_true {tuple(t.shape)} and y_pred {tuple(p.shape)} must have the same shape")
    return torch.bincount(t * num_classes + p, minlength=num_classes ** 2).reshape(num_classes, num_classes).numpy()


@one_torch_thread()
def fit(model, optimizer, train, val=None, epochs=1, batch_size=128, seed=0, lr_schedule=None,
        early_stopping=None, checkpoint_path=None, start_epoch=0, history=None, progress=True):
    x, y = np.asarray(train[0]), np.asarray(train[1])
    if len(x) == 0:
        raise ValueError("the training set is empty")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    history = history if history is not None else {"train_loss": [], "val_loss": [], "val_acc": [],
                                                   "lr": [], "epoch_seconds": []}
    steps = math.ceil(len(x) / batch_size)
    for epoch in range(start_epoch, epochs):
        model.train()
        start = time.perf_counter()
        order = epoch_permutation(len(x), seed, epoch)
        loss_sum = 0.0
        for i in range(steps):
            idx = order[i * batch_size:(i + 1) * batch_size]
            if lr_schedule is not None:
                for group in optimizer.param_groups:
                    group["lr"] = lr_schedule(epoch * steps + i)
            loss_sum += train_step(model, optimizer, x[idx], y[idx]) * len(idx)
        history["train_loss"].append(loss_sum / len(x))
        history["lr"].append(float(optimizer.param_groups[0]["lr"]))
        if val is not None:
            val_loss, val_acc = evaluate(model, *val)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        history["epoch_seconds"].append(time.perf_counter() - start)
        if progress:
            print(f"epoch {epoch + 1}/{epochs}  train loss {history['train_loss'][-1]:.4f}"
                  + (f"  val acc {history['val_acc'][-1]:.2%}" if val is not None else ""))
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, epoch + 1, history)
        if early_stopping is not None and val is not None:
            # NumPy views of the torch parameters (same memory): a Topic 08 EarlyStopping can snapshot and restore them
            params = [p.detach().numpy() for p in model.parameters()]
            if early_stopping.step(history["val_loss"][-1], params):
                break
    return history


def save_checkpoint(path, model, optimizer, epoch, history):
    """np.savez of weights, torch optimizer state (serialised with torch.save into bytes) and RNG state, atomically."""
    path = Path(path)
    arrays = {f"weight.{i}": w for i, w in enumerate(get_weights(model))}
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    arrays["optimizer"] = np.frombuffer(buffer.getvalue(), dtype=np.uint8)
    arrays["dropout_rng"] = model.dropout_generator.get_state().numpy()
    arrays["meta"] = np.array(json.dumps({"epoch": int(epoch), "history": history, "format": 1}))
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
    try:
        with np.load(path, allow_pickle=False) as data:
            files = {k: data[k] for k in data.files}
        meta = json.loads(str(files["meta"]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"checkpoint {path} is unreadable or incomplete: {exc}") from exc
    set_weights(model, [files[f"weight.{i}"] for i in range(sum(k.startswith("weight.") for k in files))])
    if optimizer is not None:
        optimizer.load_state_dict(torch.load(io.BytesIO(files["optimizer"].tobytes()), weights_only=True))
    model.dropout_generator.set_state(torch.from_numpy(files["dropout_rng"].copy()))
    return {"epoch": meta["epoch"], "history": meta["history"]}


def make_golden():
    """A tiny deterministic model and batch: logits, loss and gradients, for the value tests and CI."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 12))
    y = np.array([0, 1, 2, 3, 1, 0])
    model = build_mlp((12, 8, 4), seed=0, dtype=np.float64)
    loss, grads = loss_and_grads(model, x, y)
    out = {"x": x, "y": y, "loss": np.array(loss)}
    out.update({f"weight{i}": w for i, w in enumerate(get_weights(model))})
    out.update({f"grad{i}": g for i, g in enumerate(grads)})
    return {"tiny_mlp": out}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()
    golden = make_golden()
    if args.make_golden:
        write_golden(golden, __file__)
    tiny = golden["tiny_mlp"]
    print(f"tiny model loss {float(tiny['loss']):.6f} (ln 4 = {math.log(4):.6f} for a random init)")
    assert abs(float(tiny["loss"]) - math.log(4)) < 1.0
