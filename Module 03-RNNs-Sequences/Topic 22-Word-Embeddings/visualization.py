"""Word vectors, seen: a 2-D PCA map of chosen words and the loss curve of a short training run.

    python visualization.py [--out DIR] [--epochs 2]      (default: outputs/ next to this file)

Trains skip-gram vectors on TinyShakespeare with train.py's loop (this topic's level 3, or your own file
with DLFS_USE_MINE=22) for a couple of epochs, then writes
    embeddings_pca.png   the input vectors of about 40 chosen words (royalty, family, the Montagues and
                         Capulets, pronouns, body parts), unit length, projected on their first two
                         principal components
    loss_curve.png       the mean loss per pair of every batch, and its running mean
Exits with code 3 and one line when TinyShakespeare is not on this machine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from dlfs.components import load_module, load_topic
from dlfs.datasets import load_tinyshakespeare, missing_reason

HERE = Path(__file__).resolve().parent
GROUPS = {
    "royalty": ["king", "queen", "prince", "duke", "lord", "lady", "crown", "throne", "majesty", "sovereign"],
    "family": ["father", "mother", "son", "daughter", "brother", "sister", "wife", "husband", "uncle", "cousin"],
    "verona": ["romeo", "juliet", "tybalt", "mercutio", "benvolio", "capulet", "montague", "nurse", "friar"],
    "pronouns": ["thou", "thee", "thy", "you", "your", "he", "she", "his", "her"],
    "body": ["hand", "eye", "eyes", "heart", "head", "face", "tongue", "blood"],
}
COLORS = dict(zip(GROUPS, ("tab:purple", "tab:green", "tab:red", "tab:blue", "tab:orange")))


def pca_2d(X):
    """Rows of X (N, D) projected on their first two principal components (N, 2), and the variance share."""
    Xc = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    return Xc @ vt[:2].T, (s[:2] ** 2).sum() / (s ** 2).sum()


def embeddings_pca(vocab, W, path, title=""):
    words = [(w, g) for g, ws in GROUPS.items() for w in ws if w in vocab.index]
    X = np.array([W[vocab.index[w]] for w, _ in words], dtype=np.float64)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    P, share = pca_2d(X)
    fig, ax = plt.subplots(figsize=(8.5, 7))
    for group in GROUPS:
        rows = [i for i, (_, g) in enumerate(words) if g == group]
        ax.scatter(P[rows, 0], P[rows, 1], color=COLORS[group], label=group, s=28)
        for i in rows:
            ax.annotate(words[i][0], P[i], textcoords="offset points", xytext=(4, 3), fontsize=9,
                        color=COLORS[group])
    ax.set(xlabel="principal component 1", ylabel="principal component 2",
           title=f"Skip-gram word vectors (unit length), PCA: {share:.0%} of the variance" + (f"\n{title}" if title else ""))
    ax.legend(loc="best", fontsize=9)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def loss_curve(losses, epochs, path, title=""):
    losses = np.asarray(losses)
    window = max(1, len(losses) // 100)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    fig, ax = plt.subplots(figsize=(8, 4))
    ax.plot(np.arange(len(losses)), losses, color="tab:blue", alpha=0.25, lw=0.6, label="one batch")
    ax.plot(np.arange(window - 1, len(losses)), smooth, color="tab:blue", lw=1.8, label=f"mean of {window} batches")
    for e in range(1, epochs):
        ax.axvline(e * len(losses) / epochs, color="gray", ls=":", lw=1)
    ax.set(xlabel="batch", ylabel="loss per pair (nats)", title="Negative-sampling loss" + (f"\n{title}" if title else ""))
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs"))
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)
    reason = missing_reason("tinyshakespeare")
    if reason is not None:
        print(reason)
        return 3
    w2v = load_topic(22)
    trainer = load_module(HERE / "train.py")
    settings = trainer.parse_args(["--epochs", str(args.epochs)])
    vocab, W_in, _, history = trainer.train(w2v, load_tinyshakespeare(), settings)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run = (f"TinyShakespeare, {len(vocab):,} words, D = {settings.dim}, window {settings.window}, "
           f"K = {settings.negatives}, {args.epochs} epochs")
    paths = [embeddings_pca(vocab, W_in, out / "embeddings_pca.png", run),
             loss_curve(history["loss"], args.epochs, out / "loss_curve.png", run)]
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


if __name__ == "__main__":
    sys.exit(main())
