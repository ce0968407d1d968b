"""Masks, packing and the two directions of a bidirectional GRU, seen on one small padded batch.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    masking_and_packing.png   the mask of a batch of 5 sequences (lengths 3, 7, 1, 5, 4, T = 8), the packed layout
                              (which sequence fills which row of `data` at each step, batch_sizes on top), and the
                              outputs of both directions of a bidirectional GRU (one unit), zero at the padding
    reverse_direction.png     the backward direction per sequence: run alone, in the padded batch, and with the
                              padded row reversed (x[:, ::-1]), which starts in the padding

The functions come from this topic (your own with DLFS_USE_MINE=21), the GRU cell from Topic 20.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from dlfs.components import load_topic

bi = load_topic(21)

HERE = Path(__file__).resolve().parent
LENGTHS = np.array([3, 7, 1, 5, 4])
T, D, H = 8, 2, 4


def batch(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((len(LENGTHS), T, D))
    mask = np.asarray(bi.sequence_mask(LENGTHS, T))
    layer = bi.StackedRNN(D, H, bidirectional=True, rng=seed, dtype=np.float64)
    return np.where(mask[:, :, None], x, 0.0), mask, layer


def plot_masking_and_packing(out_dir):
    x, mask, layer = batch()
    N = len(LENGTHS)
    # pack the sequence NUMBERS: data[r] tells which sequence (and step) row r of the packed data holds
    ids = np.broadcast_to(np.arange(N)[:, None, None], (N, T, 1)).astype(float)
    packed = bi.pack_padded_sequence(ids, LENGTHS, enforce_sorted=False)
    data, batch_sizes = np.asarray(packed.data)[:, 0].astype(int), np.asarray(packed.batch_sizes)
    out, _ = layer.forward(x, LENGTHS)
    out = np.asarray(out)

    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    ax = axes[0, 0]
    ax.imshow(mask, cmap="Greens", vmin=0, vmax=1.3, aspect="auto")
    for i in range(N):
        for t in range(T):
            ax.text(t, i, "x" if mask[i, t] else "pad", ha="center", va="center", fontsize=8,
                    color="black" if mask[i, t] else "grey")
    ax.set_yticks(range(N), [f"seq {i} (L={L})" for i, L in enumerate(LENGTHS)])
    ax.set_xticks(range(T))
    ax.set_xlabel("time step t")
    ax.set_title("mask[i, t] = t < lengths[i]")

    ax = axes[0, 1]
    grid = np.full((N, len(batch_sizes)), np.nan)
    row = 0
    for t, n in enumerate(batch_sizes):
        for k in range(n):
            grid[k, t] = data[row]
            ax.text(t, k, f"s{data[row]}\nrow {row}", ha="center", va="center", fontsize=7)
            row += 1
    ax.imshow(grid, cmap="tab10", vmin=0, vmax=9, alpha=0.45, aspect="auto")
    ax.set_xticks(range(len(batch_sizes)), [f"t={t}\nbs={b}" for t, b in enumerate(batch_sizes)], fontsize=8)
    ax.set_yticks(range(N), [f"sorted {k}" for k in range(N)])
    ax.set_title(f"packed: sorted_indices {np.asarray(packed.sorted_indices).tolist()}, "
                 f"{int(batch_sizes.sum())} rows, no padding", fontsize=10)

    for ax, half, name in ((axes[1, 0], slice(0, H), "forward direction (reads t = 0 .. L-1)"),
                           (axes[1, 1], slice(H, 2 * H), "backward direction (reads t = L-1 .. 0)")):
        im = ax.imshow(np.where(mask, out[:, :, half][:, :, 0], np.nan), cmap="RdBu_r", vmin=-1, vmax=1,
                       aspect="auto")
        for i, L in enumerate(LENGTHS):
            start = 0 if half.start == 0 else L - 1
            ax.plot(start, i, marker="o", mfc="none", mec="black", ms=14)
        ax.set_yticks(range(N), [f"seq {i}" for i in range(N)])
        ax.set_xticks(range(T))
        ax.set_xlabel("time step t (white: padding, output 0)")
        ax.set_title(f"{name}, unit 0; circle: first step", fontsize=10)
        fig.colorbar(im, ax=ax, pad=0.01)
    fig.suptitle("A padded batch: the mask, the packed layout and the two directions of a bidirectional GRU")
    fig.tight_layout()
    path = out_dir / "masking_and_packing.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_reverse_direction(out_dir):
    x, _, layer = batch(1)
    p = {k: np.asarray(v) for k, v in layer.state_dict().items()}
    w_f = [p[f"{n}_l0"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    w_b = [p[f"{n}_l0_reverse"] for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    h0 = np.zeros((2, len(LENGTHS), H))
    out, _, _ = bi.bidirectional_forward(x, LENGTHS, h0, w_f, w_b)
    # the classic bug: reverse the padded row and run every sequence over all T steps
    wrong, _, _ = bi.masked_forward(x[:, ::-1], np.full(len(LENGTHS), T), h0[1], *w_b)
    wrong = np.asarray(wrong)[:, ::-1]
    fig, axes = plt.subplots(1, len(LENGTHS), figsize=(15, 3.6), sharey=True)
    for i, (ax, L) in enumerate(zip(axes, LENGTHS)):
        alone, _, _ = bi.bidirectional_forward(x[i:i + 1, :L], [L], h0[:, i:i + 1], w_f, w_b)
        t = np.arange(L)
        ax.plot(t, np.asarray(alone)[0, :, H], "k-", lw=6, alpha=0.25, label="sequence alone")
        ax.plot(t, np.asarray(out)[i, :L, H], "C0o-", label="padded batch, reversed within L")
        ax.plot(t, wrong[i, :L, 0], "C3x--", label="padded row reversed (x[:, ::-1])")
        ax.set_title(f"seq {i}: L = {L}, {T - L} padded steps")
        ax.set_xlim(-0.5, max(L - 0.5, 0.5))
        ax.set_xlabel("time step t")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("backward direction, unit 0")
    axes[0].legend(fontsize=7, loc="lower left")
    fig.suptitle("The backward direction must start at each sequence's own last step: reversing the padded row "
                 "shifts every sequence shorter than T (the grey line, each sequence run alone, is under the blue one)")
    fig.tight_layout()
    path = out_dir / "reverse_direction.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="output folder (default: outputs/)")
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in (plot_masking_and_packing(out_dir), plot_reverse_direction(out_dir)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
