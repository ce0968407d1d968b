"""Figures of an MNIST training run: learning curves, misclassified digits, confusion matrix.

    python visualization.py [--out DIR] [--subset 5000] [--epochs 3]

Trains a small model quickly (Topic 10's implementation through load_topic, so DLFS_USE_MINE=10 shows
YOUR run) and writes three PNGs to outputs/quick-run/ (train.py's figures of the full run, drawn with the
same functions, go to outputs/ and are never overwritten by this quick run). Exits with code 3 and one
line when MNIST is not on this machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
from dlfs.components import load_topic
from dlfs.datasets import missing_reason


def learning_curves(history, path, run=""):
    """Training and validation loss (log scale) and validation accuracy per epoch."""
    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax_loss.plot(epochs, history["train_loss"], "o-", label="train")
    if history["val_loss"]:
        ax_loss.plot(epochs, history["val_loss"], "s-", label="validation")
        ax_acc.plot(epochs, 100 * np.array(history["val_acc"]), "s-", color="tab:orange")
        best = int(np.argmax(history["val_acc"]))
        ax_acc.annotate(f"{100 * history['val_acc'][best]:.2f}%", (epochs[best], 100 * history["val_acc"][best]),
                        textcoords="offset points", xytext=(0, -14), ha="center")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="Loss", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Validation accuracy")
    ax_loss.legend()
    if run:
        fig.suptitle(run)
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.set_xticks(epochs)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def misclassified_grid(images, labels, predictions, path, mean=0.0, std=1.0, max_images=40, run=""):
    """The first misclassified test digits with 'true→predicted' titles."""
    wrong = np.flatnonzero(predictions != labels)
    fig, axes = plt.subplots(4, 10, figsize=(10, 4.6))
    for ax in axes.flat:
        ax.axis("off")
    for ax, i in zip(axes.flat, wrong[:max_images]):
        ax.imshow(images[i].reshape(28, 28) * std + mean, cmap="gray_r")
        ax.set_title(f"{labels[i]}→{predictions[i]}", fontsize=9, color="crimson")
    fig.suptitle(f"Misclassified test digits (true→predicted): {len(wrong)} of {len(labels)}"
                 + (f"\n{run}" if run else ""))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def confusion_plot(counts, path, run=""):
    """Confusion matrix with the off-diagonal errors emphasised (the diagonal would drown them)."""
    counts = np.asarray(counts)
    errors = counts.copy()
    np.fill_diagonal(errors, 0)
    fig, ax = plt.subplots(figsize=(5.4, 4.6))
    image = ax.imshow(errors, cmap="Reds")
    for (i, j), value in np.ndenumerate(counts):
        if value:
            ax.text(j, i, str(value), ha="center", va="center", fontsize=7,
                    color="black" if i != j else "tab:green", fontweight="bold" if i == j else "normal")
    ax.set(xlabel="predicted", ylabel="true", xticks=range(10), yticks=range(10),
           title=f"Confusion matrix (accuracy {np.trace(counts) / counts.sum():.2%})" + (f"\n{run}" if run else ""))
    fig.colorbar(image, ax=ax, label="errors")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def save_run_figures(mnist, model, data, history, out, run=""):
    """All three figures for a trained model (`run` describes the training in each title); returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    x_test, y_test = data["test"]
    predictions = mnist.predict(model, x_test)
    return [learning_curves(history, out / "learning_curves.png", run),
            misclassified_grid(x_test, y_test, predictions, out / "misclassified.png", data["mean"], data["std"],
                               run=run),
            confusion_plot(mnist.confusion_matrix(y_test, predictions), out / "confusion_matrix.png", run)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs" / "quick-run"))
    parser.add_argument("--subset", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    reason = missing_reason("mnist")
    if reason is not None:
        print(reason)
        return 3
    mnist = load_topic(10)
    data = mnist.load_data(subset=args.subset, val_size=1000)
    model = mnist.build_mlp((784, 128, 10), seed=0)
    history = mnist.fit(model, mnist.make_optimizer(model, "adam", lr=1e-3), data["train"], data["val"],
                        epochs=args.epochs, batch_size=64, progress=False)
    run = f"quick run: {len(data['train'][0]):,} training images, {args.epochs} epochs (train.py trains the full model)"
    for path in save_run_figures(mnist, model, data, history, args.out, run):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
