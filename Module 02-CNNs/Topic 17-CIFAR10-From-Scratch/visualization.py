"""Figures of Topic 17: what augmentation does to CIFAR-10 images, the learning-rate schedule, smoothed targets.

    python visualization.py [--out DIR] [--assets]

Writes three PNGs to outputs/ (or --out), drawn with this topic's implementation through load_topic (so
DLFS_USE_MINE=17 draws them with YOUR random_crop, random_flip, make_lr_schedule and smoothed_cross_entropy):
- augmentation.png: training images, then two random crops (padding 4) + flips of each;
- lr_schedule.png: the linear warmup and cosine decay of train.py's default run, step by step;
- label_smoothing.png: the one-hot and the smoothed target, and the loss against the true-class margin.
--assets also copies them into assets/ (the figures the lesson pages show).
train.py calls save_run_figures() for the learning curves, the confusion matrix and misclassified images of a run.
Exits with code 3 and one line when CIFAR-10 is not on this machine.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

HERE = Path(__file__).resolve().parent
from dlfs.components import load_topic
from dlfs.datasets import CIFAR10_CLASSES, load_cifar10, missing_reason


def _to_rgb(images, mean, std):
    """Normalised (N, 3, H, W) images -> displayable (N, H, W, 3) in [0, 1]."""
    rgb = images.transpose(0, 2, 3, 1) * np.asarray(std) + np.asarray(mean)
    return np.clip(rgb, 0.0, 1.0)


def augmentation_grid(cifar, x_uint8, labels, path, padding=4, seed=0):
    """Row 1: the images as stored; rows 2 and 3: two successive calls of one RandomCropFlip on them."""
    x, mean, std = cifar.normalize_images(x_uint8)
    augment = cifar.RandomCropFlip(padding=padding, flip=True, seed=seed)
    rows = [("original", x), ("augmented, call 1", augment(x)), ("augmented, call 2", augment(x))]
    n = len(x)
    fig, axes = plt.subplots(len(rows), n, figsize=(1.35 * n, 1.55 * len(rows) + 0.5))
    for r, (name, batch) in enumerate(rows):
        for i, image in enumerate(_to_rgb(np.asarray(batch), mean, std)):
            ax = axes[r, i]
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(CIFAR10_CLASSES[labels[i]], fontsize=9)
        axes[r, 0].set_ylabel(name, fontsize=8)
    fig.suptitle(f"Random crop (zero padding {padding}: the mean colour) + horizontal flip, "
                 "a new draw per image and per call", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def lr_schedule_plot(cifar, path, base_lr=0.2, epochs=5, train_images=45000, batch_size=128, warmup_epochs=0.5):
    """The learning rate of every step of a run (train.py's defaults), with the epochs marked."""
    steps_per_epoch = math.ceil(train_images / batch_size)
    total = steps_per_epoch * epochs
    warmup = min(total, round(warmup_epochs * steps_per_epoch))
    schedule = cifar.make_lr_schedule(base_lr, total, warmup_steps=warmup)
    steps = np.arange(total)
    lrs = np.array([schedule(int(s)) for s in steps])
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(steps, lrs, color="tab:blue")
    ax.axvspan(0, warmup, color="tab:orange", alpha=0.15, label=f"linear warmup ({warmup} steps)")
    for e in range(1, epochs):
        ax.axvline(e * steps_per_epoch, color="gray", lw=0.6, ls=":")
    ax.annotate(f"peak {base_lr:g}", (warmup, base_lr), xytext=(10, -12), textcoords="offset points")
    ax.set(xlabel=f"step ({steps_per_epoch} per epoch: {train_images:,} images / batch {batch_size})",
           ylabel="learning rate", title=f"Warmup + cosine over {epochs} epochs ({total} steps)")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def label_smoothing_plot(cifar, path, smoothing=0.1, num_classes=10, true_class=3):
    """Left: the target q for eps = 0 and eps = smoothing. Right: the loss of logits (m for the true class,
    0 elsewhere) against the margin m: with smoothing it has a minimum at a finite m."""
    fig, (ax_q, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.8))
    classes = np.arange(num_classes)
    one_hot = (classes == true_class).astype(float)
    smoothed = (1 - smoothing) * one_hot + smoothing / num_classes
    ax_q.bar(classes - 0.2, one_hot, width=0.4, label="one-hot (eps = 0)", color="tab:gray")
    ax_q.bar(classes + 0.2, smoothed, width=0.4, label=f"smoothed (eps = {smoothing:g})", color="tab:blue")
    ax_q.annotate(f"{1 - smoothing + smoothing / num_classes:.2f}", (true_class + 0.2, smoothed[true_class]),
                  ha="center", xytext=(0, 3), textcoords="offset points", fontsize=8)
    ax_q.annotate(f"{smoothing / num_classes:.2f} each", (true_class + 1.2, smoothed[true_class + 1]),
                  xytext=(0, 6), textcoords="offset points", fontsize=8)
    ax_q.set(xticks=classes, xticklabels=[c[:4] for c in CIFAR10_CLASSES[:num_classes]], ylabel="target q[c]",
             title=f"Target of a '{CIFAR10_CLASSES[true_class]}' image")
    ax_q.legend(fontsize=8)
    margins = np.linspace(-2.0, 12.0, 141)
    for eps, color in ((0.0, "tab:gray"), (smoothing, "tab:blue")):
        losses = []
        for m in margins:
            logits = np.zeros((1, num_classes))
            logits[0, true_class] = m
            losses.append(cifar.smoothed_cross_entropy(logits, np.array([true_class]), smoothing=eps)[0])
        ax_loss.plot(margins, losses, color=color, label=f"eps = {eps:g}")
    best = math.log((1 - smoothing + smoothing / num_classes) / (smoothing / num_classes))
    ax_loss.axvline(best, color="tab:blue", ls="--", lw=0.8)
    ax_loss.annotate(f"minimum at m = ln(q_true / q_other) = {best:.2f}", (best, 1.5), xytext=(6, 0),
                     textcoords="offset points", fontsize=8)
    ax_loss.set(xlabel="margin m: logit of the true class (the others 0)", ylabel="loss",
                title="Smoothing stops the push towards infinite logits", ylim=(0, 4))
    ax_loss.legend(fontsize=8)
    ax_loss.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def learning_curves(history, path, run=""):
    """Training (smoothed) and validation loss, validation accuracy and the learning rate, per epoch."""
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc, ax_lr) = plt.subplots(1, 3, figsize=(13, 3.8))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train (smoothed targets)")
    if history.get("val_loss"):
        ax_loss.plot(epochs, history["val_loss"], "s-", label="validation (plain cross-entropy)")
        ax_acc.plot(epochs, 100 * np.array(history["val_acc"]), "s-", color="tab:orange")
        ax_acc.annotate(f"{100 * history['val_acc'][-1]:.2f}%", (epochs[-1], 100 * history["val_acc"][-1]),
                        textcoords="offset points", xytext=(0, -14), ha="center")
    ax_lr.plot(epochs, history["lr"], "o-", color="tab:green")
    ax_loss.set(xlabel="epoch", ylabel="loss", title="Loss")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Validation accuracy")
    ax_lr.set(xlabel="epoch", ylabel="learning rate", title="Learning rate at the end of each epoch")
    ax_loss.legend(fontsize=8)
    for ax in (ax_loss, ax_acc, ax_lr):
        ax.grid(alpha=0.3)
        ax.set_xticks(epochs)
    if run:
        fig.suptitle(run)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_plot(counts, path, run=""):
    """Confusion matrix with class names; the colour shows the errors only (the diagonal would drown them)."""
    counts = np.asarray(counts)
    errors = counts.copy()
    np.fill_diagonal(errors, 0)
    fig, ax = plt.subplots(figsize=(6.4, 5.4))
    image = ax.imshow(errors, cmap="Reds")
    for (i, j), value in np.ndenumerate(counts):
        if value:
            ax.text(j, i, str(value), ha="center", va="center", fontsize=7,
                    color="tab:green" if i == j else "black", fontweight="bold" if i == j else "normal")
    names = list(CIFAR10_CLASSES[:len(counts)])
    ax.set(xlabel="predicted", ylabel="true", xticks=range(len(names)), yticks=range(len(names)),
           title=f"Test confusion matrix (accuracy {np.trace(counts) / counts.sum():.2%})" + (f"\n{run}" if run else ""))
    ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
    ax.set_yticklabels(names, fontsize=8)
    fig.colorbar(image, ax=ax, label="errors")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def misclassified_grid(x, y_true, y_pred, mean, std, path, run="", count=24):
    """The first `count` test images the model got wrong, each titled "true -> predicted"."""
    wrong = np.flatnonzero(np.asarray(y_pred) != np.asarray(y_true))[:count]
    cols = 8
    rows = max(1, -(-len(wrong) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(1.5 * cols, 1.7 * rows + 0.6), squeeze=False)
    images = _to_rgb(np.asarray(x[wrong]), mean, std)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, i in zip(axes.ravel(), images, wrong):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(f"{CIFAR10_CLASSES[y_true[i]]} -> {CIFAR10_CLASSES[y_pred[i]]}", fontsize=7)
    fig.suptitle(f"Misclassified test images ({len(wrong)} shown, true -> predicted)" + (f"\n{run}" if run else ""),
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_run_figures(cifar, model, data, history, out, run="", tta=False):
    """Learning curves, the test confusion matrix and misclassified test images of a trained model (train.py);
    returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x_test, y_test = data["test"]
    predictions = cifar.predict(model, x_test, tta=tta)
    return [learning_curves(history, out / "learning_curves.png", run),
            confusion_plot(cifar.confusion_matrix(y_test, predictions), out / "confusion_matrix.png", run),
            misclassified_grid(x_test, y_test, predictions, data["mean"], data["std"], out / "misclassified.png", run)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG files")
    parser.add_argument("--assets", action="store_true", help="also copy the figures into assets/")
    parser.add_argument("--data-dir", default=None, help="folder holding cifar-10/ (default: $DLFS_DATA)")
    args = parser.parse_args(argv)
    reason = missing_reason("cifar10", args.data_dir)
    if reason is not None:
        print(reason)
        return 3
    cifar = load_topic(17)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    x_train, y_train, _, _ = load_cifar10(data_dir=args.data_dir)
    picks = [int(np.flatnonzero(y_train == c)[0]) for c in range(8)]   # one image of each of 8 classes
    figures = [augmentation_grid(cifar, x_train[picks], y_train[picks], out / "augmentation.png"),
               lr_schedule_plot(cifar, out / "lr_schedule.png"),
               label_smoothing_plot(cifar, out / "label_smoothing.png")]
    for path in figures:
        print(f"wrote {path}")
        if args.assets:
            (HERE / "assets").mkdir(exist_ok=True)
            shutil.copyfile(path, HERE / "assets" / path.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
