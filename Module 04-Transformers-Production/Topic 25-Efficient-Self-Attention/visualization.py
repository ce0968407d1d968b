"""Self-attention, seen: what the masks do to the attention weights, and what the (L, S) matrix costs.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    attention_masks.png    the attention weights p of one sequence of 12 tokens (the last 3 padding): no mask,
                           causal, a key-padding mask, and causal + padding; a query row of zeros is a query
                           that sees no key
    attention_memory.png   the tracemalloc peak of one attention_forward call against the sequence length, beside
                           the size of one full (L, L) float32 matrix and of one block of 64 query rows

The attention comes from this topic (your own with DLFS_USE_MINE=25).
"""

from __future__ import annotations

import argparse
import tracemalloc
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlfs.components import load_topic

attention = load_topic(25)

HERE = Path(__file__).resolve().parent
L, PAD, D = 12, 3, 16


def weights(q, k, **kwargs):
    """The attention weights p themselves: attention with v = identity gives out = p."""
    return np.asarray(attention.attention_forward(q, k, np.eye(k.shape[-2]), **kwargs)[0])


def plot_masks(out_dir):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((L, D))
    q, k = x + 0.3 * rng.standard_normal((L, D)), x   # each query resembles its own key: a bright diagonal
    padding = np.arange(L) < L - PAD                  # True = takes part (SDPA's convention)
    panels = [("no mask", {}), ("causal=True", {"causal": True}),
              ("key padding\n(the last 3 keys hidden)", {"mask": padding[None, :]}),
              ("causal + padding\n(padded queries see no key: rows of 0)", {"causal": True, "mask": padding[None, :] & padding[:, None]})]
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.2))
    for ax, (title, kwargs) in zip(axes, panels):
        p = weights(q, k, **kwargs)
        im = ax.imshow(p, cmap="viridis", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("key j")
        if ax is axes[0]:
            ax.set_ylabel("query i")
        ax.set_xticks(range(0, L, 2))
        ax.set_yticks(range(0, L, 2))
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight p_ij (each row sums to 1, or is 0)")
    fig.suptitle("softmax(q k^T / sqrt(d) + mask): masks act on the scores, before the softmax")
    path = out_dir / "attention_masks.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def peak_mib(L, d=64):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((L, d)).astype(np.float32) for _ in range(3))
    tracemalloc.start()
    attention.attention_forward(q, k, v, causal=True)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def plot_memory(out_dir):
    lengths = [128, 256, 512, 1024, 2048]
    peaks = [peak_mib(n) for n in lengths]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.loglog(lengths, peaks, "o-", label="attention_forward, causal (measured)")
    ax.loglog(lengths, [n * n * 4 / 2**20 for n in lengths], "k:", label="one (L, L) float32 matrix")
    ax.loglog(lengths, [64 * n * 4 / 2**20 for n in lengths], "k--", label="one block of 64 x L float32")
    ax.set_xlabel("sequence length L = S (d = 64, float32)")
    ax.set_ylabel("peak memory of one call (MiB)")
    ax.set_title("Does your attention ever hold the whole (L, S) matrix?")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path = out_dir / "attention_memory.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="output folder (default: outputs/)")
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in (plot_masks(out_dir), plot_memory(out_dir)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
