"""
PyTorch Reference Implementation
- Used only for verification, not the solution: the same interface as levels 1-3, on torch.nn and torch.optim
- The network starts from the SAME initial weights as the NumPy levels (drawn by the layers of Topics 06,
  12 and 14 with the same generator, then copied into torch.nn modules), the batches come from the same
  BatchIterator and the crops from the same NumPy Generator draws, so runs compare number for number
- Arrays go in and out as NumPy arrays; run this file with --make-golden to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.datasets import BatchIterator, load_cifar10
from dlfs.reference import one_torch_thread, write_golden

NUM_CLASSES = 10


def _torch_dtype(dtype):
    return torch.float64 if np.dtype(dtype) == np.float64 else torch.float32


# Task 1: data ------------------------------------------------------------------------------------------

def normalize_images(x, mean=None, std=None, dtype=np.float32):
    """uint8 (N, H, W, 3) -> ((N, 3, H, W), mean (3,), std (3,)): torchvision's ToTensor + Normalize."""
    x = np.asarray(x)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"expected uint8 images of shape (N, H, W, 3) (CIFAR-10's NHWC layout), got {x.shape}")
    t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).to(_torch_dtype(dtype)) / 255
    if mean is None:
        t64 = t.double()
        mean = t64.mean(dim=(0, 2, 3)).numpy()
        std = t64.std(dim=(0, 2, 3), unbiased=False).numpy()
    mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
    if mean.shape != (3,) or std.shape != (3,):
        raise ValueError(f"mean and std must have one value per channel, shape (3,), got {mean.shape} and {std.shape}")
    if not np.all(std > 0):
        raise ValueError(f"std must be > 0 in every channel to normalise, got {std}")
    m = torch.from_numpy(mean).to(t.dtype)[:, None, None]
    s = torch.from_numpy(std).to(t.dtype)[:, None, None]
    return ((t - m) / s).contiguous().numpy(), mean, std


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    """The same seeded split and per-channel statistics as the NumPy levels."""
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


# Task 2: augmentation ----------------------------------------------------------------------------------

def _check_batch(x):
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"expected a batch of images of shape (N, C, H, W), got shape {x.shape}")
    return x


def _check_padding(padding):
    if isinstance(padding, bool) or int(padding) != padding or padding < 0:
        raise ValueError(f"padding must be an int >= 0, got {padding!r}")
    return int(padding)


def random_crop(x, padding, rng):
    """F.pad, then one gather: row/column indices offset per image by the same Generator draws as NumPy."""
    x = _check_batch(x)
    padding = _check_padding(padding)
    rng = np.random.default_rng(rng)
    N, C, H, W = x.shape
    dy, dx = rng.integers(0, 2 * padding + 1, size=(2, N))
    t = F.pad(torch.from_numpy(np.ascontiguousarray(x)), (padding, padding, padding, padding))
    rows = torch.from_numpy(dy)[:, None] + torch.arange(H)          # (N, H)
    cols = torch.from_numpy(dx)[:, None] + torch.arange(W)          # (N, W)
    n = torch.arange(N)[:, None, None, None]
    c = torch.arange(C)[None, :, None, None]
    return t[n, c, rows[:, None, :, None], cols[:, None, None, :]].numpy()


def random_flip(x, rng, p=0.5):
    """torch.flip of the width axis for the images whose draw is < p."""
    x = _check_batch(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"the flip probability p must be in [0, 1], got {p!r}")
    rng = np.random.default_rng(rng)
    flip = torch.from_numpy(rng.random(len(x)) < p)
    t = torch.from_numpy(np.ascontiguousarray(x))
    return torch.where(flip[:, None, None, None], t.flip(3), t).numpy()


class RandomCropFlip:
    """random_crop then random_flip, from one NumPy Generator (its state goes into the checkpoint)."""

    def __init__(self, padding=4, flip=True, seed=0):
        self.padding = _check_padding(padding)
        self.flip = bool(flip)
        self.rng = np.random.default_rng(seed)

    def __call__(self, x):
        out = random_crop(x, self.padding, self.rng)
        return random_flip(out, self.rng) if self.flip else out


# Task 3: the loss --------------------------------------------------------------------------------------

def _check_logits_and_labels(logits, y):
    logits, y = np.asarray(logits), np.asarray(y)
    if logits.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {logits.shape}")
    N, C = logits.shape
    if N == 0:
        raise ValueError("empty batch: the mean loss over 0 samples is undefined")
    if y.shape != (N,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer class indices of shape ({N},), got {y.shape} {y.dtype}")
    if y.min() < 0 or y.max() >= C:
        raise ValueError(f"labels must be in [0, {C}), got values from {y.min()} to {y.max()}")
    return logits, y


def smoothed_cross_entropy(logits, y, smoothing=0.0):
    """F.cross_entropy(label_smoothing=smoothing) and its gradient by autograd."""
    logits, y = _check_logits_and_labels(logits, y)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"label smoothing must be in [0, 1], got {smoothing!r}")
    with one_torch_thread():
        t = torch.tensor(logits, requires_grad=True)
        loss = F.cross_entropy(t, torch.from_numpy(y.astype(np.int64)), label_smoothing=float(smoothing))
        loss.backward()
    return loss.item(), t.grad.numpy()


# Task 4: the model -------------------------------------------------------------------------------------

class _ResidualBlock(torch.nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + x), registered in Topic 14's order: conv1, bn1, conv2, bn2."""

    def __init__(self, channels, dtype):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype)
        self.bn1 = torch.nn.BatchNorm2d(channels, dtype=dtype)
        self.conv2 = torch.nn.Conv2d(channels, channels, 3, padding=1, bias=False, dtype=dtype)
        self.bn2 = torch.nn.BatchNorm2d(channels, dtype=dtype)

    def forward(self, x):
        return F.relu(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x))))) + x)


def _numpy_initial_weights(widths, num_classes, seed, dtype):
    """The initial conv/linear weights of the NumPy levels: the same layers of Topics 06, 12, 14, built in the
    same order from the same generator (only their weights are kept)."""
    conv, resnet, layers = load_topic(12, level=2), load_topic(14, level=2), load_topic(6, level=2)
    rng = np.random.default_rng(seed)
    weights = [conv.Conv2d(3, widths[0], 3, padding=1, bias=False, rng=rng, dtype=dtype).weight.data]
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        weights.append(conv.Conv2d(c_in, c_out, 3, padding=1, bias=False, rng=rng, dtype=dtype).weight.data)
        block = resnet.ResidualBlock(c_out, c_out, rng=rng, dtype=dtype)
        weights += [block.conv1.weight.data, block.conv2.weight.data]
    linear = layers.Linear(widths[-1], num_classes, rng=rng, dtype=dtype)
    return weights + [linear.weight.data.T, linear.bias.data]


def build_resnet(widths=(32, 64, 128), num_classes=NUM_CLASSES, seed=0, dtype=np.float32):
    """torch.nn.Sequential of the same network as the NumPy levels, with their initial weights."""
    widths = tuple(widths)
    if len(widths) < 1 or any(isinstance(w, bool) or int(w) != w or w < 1 for w in widths):
        raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths!r}")
    td = _torch_dtype(dtype)
    nn = torch.nn

    def conv_bn_relu(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False, dtype=td), nn.BatchNorm2d(c_out, dtype=td), nn.ReLU()]

    modules = [*conv_bn_relu(3, widths[0]), nn.MaxPool2d(2)]
    for c_in, c_out in zip(widths[:-1], widths[1:]):
        modules += [*conv_bn_relu(c_in, c_out), nn.MaxPool2d(2), _ResidualBlock(c_out, td)]
    modules += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(widths[-1], num_classes, dtype=td)]
    model = nn.Sequential(*modules)
    weights = _numpy_initial_weights(widths, num_classes, seed, dtype)
    convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    targets = [m.weight for m in convs] + [convs[-1].bias]
    with torch.no_grad():
        for t, w in zip(targets, weights):
            t.copy_(torch.from_numpy(np.ascontiguousarray(w)))
    return model


def parameter_groups(model):
    """(decay, no_decay) by dimension: conv and linear weights decay, biases and BN gamma/beta do not."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]
    return decay, no_decay


class GroupedOptimizer:
    """torch.optim over param_groups (PyTorch's native parameter groups); `lr` sets every group's lr."""

    def __init__(self, param_groups, name="sgd", lr=0.1, momentum=0.9, nesterov=True):
        groups = [{"params": list(g["params"]), "weight_decay": float(g.get("weight_decay", 0.0))}
                  for g in param_groups if len(g["params"]) > 0]
        if not groups:
            raise ValueError("GroupedOptimizer got no parameters")
        if name == "sgd":
            self.optimizer = torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov)
        elif name == "adam":
            self.optimizer = torch.optim.Adam(groups, lr=lr)
        elif name == "adamw":
            self.optimizer = torch.optim.AdamW(groups, lr=lr)
        else:
            raise ValueError(f"unknown optimizer {name!r}: use 'sgd', 'adam' or 'adamw'")
        self.param_groups = self.optimizer.param_groups

    @property
    def lr(self):
        return self.optimizer.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        for group in self.optimizer.param_groups:
            group["lr"] = float(value)

    def zero_grad(self):
        self.optimizer.zero_grad(set_to_none=False)

    def step(self):
        self.optimizer.step()

    def state_dict(self):
        """{"lr": float, "torch": uint8 array} (torch's state_dict serialised by torch.save)."""
        buffer = io.BytesIO()
        torch.save(self.optimizer.state_dict(), buffer)
        return {"lr": self.lr, "torch": np.frombuffer(buffer.getvalue(), dtype=np.uint8).copy()}

    def load_state_dict(self, state):
        if set(state) != {"lr", "torch"}:
            raise ValueError(f"unexpected keys in the optimizer state: {sorted(state)}")
        self.optimizer.load_state_dict(torch.load(io.BytesIO(np.asarray(state["torch"]).tobytes()),
                                                  weights_only=True))
        self.lr = float(state["lr"])


def make_optimizer(model, name="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4):
    decay, no_decay = parameter_groups(model)
    return GroupedOptimizer([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}],
                            name=name, lr=lr, momentum=momentum, nesterov=nesterov)


def make_lr_schedule(base_lr, total_steps, warmup_steps=0, min_lr=0.0):
    """torch's LinearLR(1/warmup_steps -> 1) then CosineAnnealingLR, as a function of the step."""
    if not 0 <= warmup_steps <= total_steps or total_steps <= 0:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps and total_steps > 0, "
                         f"got warmup_steps={warmup_steps}, total_steps={total_steps}")

    def schedule(step):
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        if step < warmup_steps:
            return base_lr * (step + 1) / warmup_steps
        if step >= total_steps:
            return float(min_lr)
        t = (step - warmup_steps) / (total_steps - warmup_steps)
        return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * t)) / 2

    return schedule


def _targets(model):
    """(tensor, transpose?) for every parameter (Linear weights transposed to the NumPy (in, out) layout),
    then every BatchNorm's running statistics."""
    params = [(p, p.ndim == 2) for p in model.parameters()]
    buffers = [(t, False) for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)
               for t in (m.running_mean, m.running_var)]
    return params + buffers


def get_weights(model):
    return [(t.detach().T if transpose else t.detach()).numpy().copy() for t, transpose in _targets(model)]


def set_weights(model, weights):
    targets = _targets(model)
    if len(weights) != len(targets):
        raise ValueError(f"expected {len(targets)} arrays, got {len(weights)}")
    for (t, transpose), w in zip(targets, weights):
        shape = tuple(np.shape(w)[::-1]) if transpose else tuple(np.shape(w))
        if shape != tuple(t.shape):
            raise ValueError(f"weight of shape {np.shape(w)} does not fit a parameter of shape {tuple(t.shape)}")
    with torch.no_grad():
        for (t, transpose), w in zip(targets, weights):
            w = torch.as_tensor(np.array(w), dtype=t.dtype)
            t.copy_(w.T if transpose else w)


# Task 5: a step, evaluation ----------------------------------------------------------------------------

def _as_input(model, x):
    return torch.as_tensor(np.ascontiguousarray(x), dtype=next(model.parameters()).dtype)


def _loss(model, x, y, smoothing):
    logits = model(_as_input(model, x))
    y = np.asarray(y)
    _check_logits_and_labels(logits.detach().numpy(), y)
    if not 0.0 <= smoothing <= 1.0:
        raise ValueError(f"label smoothing must be in [0, 1], got {smoothing!r}")
    return F.cross_entropy(logits, torch.from_numpy(y.astype(np.int64)), label_smoothing=float(smoothing))


def loss_and_grads(model, x, y, smoothing=0.0):
    model.zero_grad(set_to_none=False)
    loss = _loss(model, x, y, smoothing)
    loss.backward()
    return loss.item(), [(p.grad.T if p.ndim == 2 else p.grad).numpy().copy() for p in model.parameters()]


def train_step(model, optimizer, xb, yb, smoothing=0.0):
    optimizer.zero_grad()
    loss = _loss(model, xb, yb, smoothing)
    if not math.isfinite(loss.item()):
        raise FloatingPointError(f"the loss is {loss.item()}: check the inputs for NaN/Inf and lower the learning rate")
    loss.backward()
    optimizer.step()
    return loss.item()


def _eval_batches(model, x, y, batch_size, tta):
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    was_training = model.training
    model.eval()
    predictions = np.empty(len(x), dtype=np.int64)
    total = 0.0
    try:
        with torch.no_grad():
            for start in range(0, len(x), batch_size):
                xb = _as_input(model, x[start:start + batch_size])
                logits = model(xb)
                if tta:
                    logits = (logits + model(xb.flip(3))) / 2
                predictions[start:start + len(xb)] = logits.argmax(1).numpy()
                if y is not None:
                    yb = torch.from_numpy(np.asarray(y[start:start + batch_size], dtype=np.int64))
                    total += float(F.cross_entropy(logits, yb, reduction="sum"))
    finally:
        model.train(was_training)
    return total, predictions


def predict(model, x, batch_size=500, tta=False):
    return _eval_batches(model, _check_batch(x), None, batch_size, tta)[1]


def evaluate(model, x, y, batch_size=500, tta=False):
    x, y = _check_batch(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    total, predictions = _eval_batches(model, x, y, batch_size, tta)
    return total / len(x), float(np.mean(predictions == y))


def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} must have the same shape")
    index = torch.from_numpy((y_true * num_classes + y_pred).astype(np.int64).ravel())
    return torch.bincount(index, minlength=num_classes ** 2).reshape(num_classes, num_classes).numpy()


# Task 6: fit -------------------------------------------------------------------------------------------

def fit(model, optimizer, train, val=None, epochs=1, batch_size=512, seed=0, lr_schedule=None, smoothing=0.0,
        augment=None, checkpoint_path=None, start_epoch=0, history=None, progress=True, tta=False):
    x, y = _check_batch(train[0]), np.asarray(train[1])
    if len(x) == 0:
        raise ValueError("the training set is empty")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if history is None:
        history = {"train_loss": [], "val_loss": [], "val_acc": [], "lr": [], "epoch_seconds": []}
    batches = BatchIterator(x, y, batch_size=batch_size, seed=seed)
    steps = len(batches)
    for epoch in range(start_epoch, epochs):
        model.train()
        start = time.perf_counter()
        batches.set_epoch(epoch)
        loss_sum, seen = 0.0, 0
        for i, (xb, yb) in enumerate(batches):
            if lr_schedule is not None:
                optimizer.lr = lr_schedule(epoch * steps + i)
            if augment is not None:
                xb = augment(xb)
            loss_sum += train_step(model, optimizer, xb, yb, smoothing) * len(xb)
            seen += len(xb)
        history["train_loss"].append(loss_sum / seen)
        history["lr"].append(float(optimizer.lr))
        if val is not None:
            val_loss, val_acc = evaluate(model, *val, tta=tta)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        history["epoch_seconds"].append(time.perf_counter() - start)
        if progress:
            line = f"epoch {epoch + 1}/{epochs}  train loss {history['train_loss'][-1]:.4f}"
            if val is not None:
                line += f"  val acc {history['val_acc'][-1]:.2%}"
            print(line, flush=True)
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, epoch + 1, history, augment)
    return history


# Task 7: checkpoints -----------------------------------------------------------------------------------

def _batchnorms(model):
    return [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]


def save_checkpoint(path, model, optimizer, epoch, history, augment=None):
    path = Path(path)
    arrays = {f"weight.{i}": w for i, w in enumerate(get_weights(model))}
    arrays.update({f"opt.{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    meta = {"epoch": int(epoch), "history": history, "format": 1,
            "num_batches_tracked": [int(bn.num_batches_tracked) for bn in _batchnorms(model)],
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
        bn.num_batches_tracked.fill_(int(count))
    if optimizer is not None:
        state = {k[len("opt."):]: v for k, v in files.items() if k.startswith("opt.")}
        optimizer.load_state_dict({k: (v.item() if v.ndim == 0 else v) for k, v in state.items()})
    if augment is not None and hasattr(augment, "rng") and meta.get("augment_rng") is not None:
        augment.rng.bit_generator.state = meta["augment_rng"]
    return {"epoch": meta["epoch"], "history": meta["history"]}


# Golden files ------------------------------------------------------------------------------------------

def make_golden():
    """Label smoothing values and gradients, and a tiny network's loss and gradients, all from PyTorch."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((5, 4)) * 3
    y = np.array([0, 3, 1, 1, 2])
    smoothing = {"logits": logits, "y": y}
    for eps in (0.0, 0.1, 0.2, 1.0):
        loss, grad = smoothed_cross_entropy(logits, y, eps)
        key = f"{eps:.1f}".replace(".", "_")
        smoothing[f"loss_{key}"], smoothing[f"grad_{key}"] = np.array(loss), grad

    with one_torch_thread():
        model = build_resnet(widths=(3, 4), num_classes=3, seed=0, dtype=np.float64)
        x = rng.standard_normal((4, 3, 8, 8))
        labels = np.array([0, 2, 1, 2])
        weights = get_weights(model)
        # non-trivial BN affine parameters, so that gamma and beta are really checked
        weights = [w + 0.1 * rng.standard_normal(w.shape) if w.ndim == 1 and i < len(list(model.parameters()))
                   else w for i, w in enumerate(weights)]
        set_weights(model, weights)
        loss, grads = loss_and_grads(model, x, labels, smoothing=0.1)
        tiny = {"x": x, "y": labels, "loss": np.array(loss), "smoothing": np.array(0.1)}
        tiny.update({f"weight{i}": w for i, w in enumerate(weights)})
        tiny.update({f"grad{i}": g for i, g in enumerate(grads)})
        model.eval()
        with torch.no_grad():
            tiny["eval_logits"] = model(torch.from_numpy(x)).numpy()
    return {"label_smoothing": smoothing, "tiny_resnet": tiny}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()
    golden = make_golden()
    if args.make_golden:
        write_golden(golden, __file__)
    print(f"tiny ResNet loss with smoothing 0.1: {float(golden['tiny_resnet']['loss']):.6f}")
    print(f"label smoothing 0.1 loss: {float(golden['label_smoothing']['loss_0_1']):.6f}")
    sys.exit(0)
