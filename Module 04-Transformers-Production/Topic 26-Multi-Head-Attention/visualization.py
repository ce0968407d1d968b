"""Multi-head attention, seen: four heads of one layer, each looking for something else, and what they cost.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    mha_heads.png    the per-head attention weights (average_attn_weights=False) of one MultiheadAttention(16, 4)
                     on a sequence of 10 tokens, causal, the last 2 tokens padding; the weights are set by hand so
                     that head 0 looks at the previous token, head 1 at earlier copies of the same token, head 2 at
                     the first token and head 3 everywhere alike; the last panel is torch's default, their average
    mha_memory.png   the tracemalloc peak of one mha_forward (need_weights=False) against the number of heads,
                     beside the size of every head's (T, S) float32 scores and of one head's

The layer comes from this topic (your own with DLFS_USE_MINE=26).
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

mha = load_topic(26)

HERE = Path(__file__).resolve().parent
TOKENS = ["the", "cat", "sat", "the", "mat", "cat", "sat", "the", "<pad>", "<pad>"]
VOCAB = ["the", "cat", "sat", "mat"]
L, V, E, H = len(TOKENS), len(VOCAB), 16, 4
HD = E // H
CONST = L + V                    # feature 14 is always 1, feature 15 always 0


def embed():
    """x (1, L, E): a one-hot position (features 0:10), a one-hot token (10:14), a constant 1 (14)."""
    x = np.zeros((1, L, E))
    for i, tok in enumerate(TOKENS):
        x[0, i, i] = 1.0
        if tok in VOCAB:
            x[0, i, L + VOCAB.index(tok)] = 1.0
        x[0, i, CONST] = 1.0
    return x


def hand_set_weights(layer):
    """in_proj rows chosen so that each head's q . k is large for one kind of key (see the module docstring)."""
    Wq, Wk = np.zeros((E, E)), np.zeros((E, E))
    theta = np.pi / L
    for p in range(L):                                        # head 0: q_i . k_j = 400 cos(theta (i - j - 1))
        Wq[0:2, p] = 20 * np.array([np.cos(theta * p), np.sin(theta * p)])
        Wk[0:2, p] = 20 * np.array([np.cos(theta * (p + 1)), np.sin(theta * (p + 1))])
    for t in range(V):                                        # head 1: a large score for the same token
        Wq[HD + t, L + t] = Wk[HD + t, L + t] = 4.0
    Wq[2 * HD, CONST] = 4.0                                   # head 2: every query asks for position 0
    Wk[2 * HD, 0] = 4.0
    rng = np.random.default_rng(0)                            # head 3: q = 0, equal scores; values: anything
    Wv, Wo = rng.standard_normal((E, E)) / 4, rng.standard_normal((E, E)) / 4
    state = {"in_proj_weight": np.concatenate([Wq, Wk, Wv]), "in_proj_bias": np.zeros(3 * E),
             "out_proj.weight": Wo, "out_proj.bias": np.zeros(E)}
    layer.load_state_dict(state)


def plot_heads(out_dir):
    layer = mha.MultiheadAttention(E, H, rng=0, dtype=np.float64)
    hand_set_weights(layer)
    x = embed()
    causal = np.triu(np.ones((L, L), bool), 1)                # torch's convention: True = hidden (the future)
    padding = np.array([[tok == "<pad>" for tok in TOKENS]])  # True = hidden (the padding)
    _, per_head = layer.forward(x, x, x, key_padding_mask=padding, attn_mask=causal, average_attn_weights=False)
    _, average = layer.forward(x, x, x, key_padding_mask=padding, attn_mask=causal)
    titles = ["head 0: the previous token", "head 1: copies of the same\ntoken (itself included)", "head 2: the first token",
              "head 3: every visible token\nalike (q = 0)", "need_weights default:\nthe mean over the 4 heads"]
    maps = [np.asarray(per_head)[0, i] for i in range(H)] + [np.asarray(average)[0]]
    fig, axes = plt.subplots(1, 5, figsize=(19, 4.6))
    for ax, title, w in zip(axes, titles, maps):
        im = ax.imshow(w, cmap="viridis", vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(L), TOKENS, rotation=90, fontsize=7)
        ax.set_yticks(range(L), TOKENS if ax is axes[0] else [""] * L, fontsize=7)
        ax.set_xlabel("key")
    axes[0].set_ylabel("query")
    fig.colorbar(im, ax=axes, shrink=0.8, label="attention weight (a row sums to 1; padded keys get 0)")
    fig.suptitle("One MultiheadAttention(16, 4), causal, 2 padded keys: each head attends in its own 4-feature space")
    path = out_dir / "mha_heads.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def peak_mib(heads, T=256, E=128):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, T, E)).astype(np.float32)
    layer = mha.MultiheadAttention(E, heads, rng=0)
    params = layer.state_dict()
    tracemalloc.start()
    mha.mha_forward(x, x, x, params, heads, need_weights=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def plot_memory(out_dir, T=256):
    heads = [1, 2, 4, 8, 16]
    peaks = [peak_mib(h, T) for h in heads]
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    ax.plot(heads, peaks, "o-", label="mha_forward, need_weights=False (measured)")
    ax.plot(heads, [h * T * T * 4 / 2**20 for h in heads], "k:", label="every head's (T, S) float32 scores")
    ax.plot(heads, [T * T * 4 / 2**20] * len(heads), "k--", label="one head's (T, S) float32 scores")
    ax.set_xscale("log", base=2)
    ax.set_xticks(heads, [str(h) for h in heads])
    ax.set_xlabel(f"number of heads (B = 1, T = S = {T}, E = 128, float32)")
    ax.set_ylabel("peak memory of one call (MiB)")
    ax.set_title("Does your multi-head attention hold every head's scores at once?")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = out_dir / "mha_memory.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="output folder (default: outputs/)")
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in (plot_heads(out_dir), plot_memory(out_dir)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
