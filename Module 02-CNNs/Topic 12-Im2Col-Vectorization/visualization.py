"""Im2col, seen: how a window becomes a column, what the column matrix of an image looks like, what it costs.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    im2col_window_to_column.png   a 5x5 image and its 3x3 windows: two windows outlined, the 9 x 9 column matrix
                                  with the same two columns outlined, and col2im(ones), the number of windows
                                  that hold each pixel (what col2im adds up in the backward pass)
    column_matrix.png             the column matrix of a 2-channel 10x10 image (3x3 kernel, padding 1) as an
                                  image: 18 rows, one per (channel, kernel row, kernel column); each row of
                                  channel 0 reshaped back to 10x10 is the image moved by one kernel offset
    memory_overhead.png           bytes of the column matrix / bytes of the input, for layers of this module
                                  and a ResNet stem, computed from the matrix im2col returns

Everything is computed by this topic's im2col and col2im (your own with DLFS_USE_MINE=12); no dataset needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from dlfs.components import load_topic  # noqa: E402

conv = load_topic(12)

HERE = Path(__file__).resolve().parent
COLOURS = ("tab:red", "tab:blue")

# (label, N, C, H, W, k, stride, padding): the layers of benchmark.py's memory table
LAYERS = [
    ("CIFAR-10 input\n3 ch 32x32, 3x3 same", 128, 3, 32, 32, 3, 1, 1),
    ("64 ch 32x32\n3x3 same", 128, 64, 32, 32, 3, 1, 1),
    ("64 ch 16x16\n3x3 same", 128, 64, 16, 16, 3, 1, 1),
    ("128 ch 16x16\n3x3 stride 2", 128, 128, 16, 16, 3, 2, 1),
    ("64 ch 16x16\n1x1", 128, 64, 16, 16, 1, 1, 0),
    ("ResNet stem 224x224\n7x7 stride 2", 32, 3, 224, 224, 7, 2, 3),
]


def annotate(ax, values, fmt="{:.0f}", size=9):
    for (r, c), v in np.ndenumerate(values):
        ax.text(c, r, fmt.format(v), ha="center", va="center", fontsize=size)


def window_to_column(path):
    """A 5x5 image, 3x3 windows (stride 1, no padding): 9 windows, each a column of 9 numbers."""
    x = np.arange(1.0, 26.0).reshape(1, 1, 5, 5)
    k, W_out = 3, 3
    cols = conv.im2col(x, k, k)
    counts = conv.col2im(np.ones_like(cols), x.shape, k, k)[0, 0]
    shown = [(0, 0), (1, 2)]                                   # (ho, wo) of the two outlined windows

    fig, axes = plt.subplots(1, 3, figsize=(15, 5.2), gridspec_kw={"width_ratios": [1, 1.6, 1]})
    ax = axes[0]
    ax.imshow(x[0, 0], cmap="Greys", vmin=-10, vmax=40)
    annotate(ax, x[0, 0])
    for (ho, wo), colour in zip(shown, COLOURS):
        ax.add_patch(Rectangle((wo - 0.45, ho - 0.45), k - 0.1, k - 0.1, fill=False, lw=3, ec=colour))
    ax.set_title("x (5x5): the windows of outputs (0, 0) and (1, 2)")
    ax.set_xticks(range(5))
    ax.set_yticks(range(5))

    ax = axes[1]
    ax.imshow(cols, cmap="Greys", vmin=-10, vmax=40, aspect="auto")
    annotate(ax, cols, size=8)
    for (ho, wo), colour in zip(shown, COLOURS):
        q = ho * W_out + wo
        ax.add_patch(Rectangle((q - 0.45, -0.45), 0.9, cols.shape[0] - 0.1, fill=False, lw=3, ec=colour))
    ax.set_xticks(range(cols.shape[1]))
    ax.set_xticklabels([f"{q}\n({q // W_out},{q % W_out})" for q in range(cols.shape[1])], fontsize=8)
    ax.set_yticks(range(cols.shape[0]))
    ax.set_yticklabels([f"(i={r // k}, j={r % k})" for r in range(cols.shape[0])], fontsize=8)
    ax.set_xlabel("column q = ho * W_out + wo: one window (one output position)")
    ax.set_title(f"im2col(x, 3, 3): shape {cols.shape}, 81 numbers for 25 pixels")

    ax = axes[2]
    im = ax.imshow(counts, cmap="viridis")
    annotate(ax, counts)
    for t in ax.texts:
        t.set_color("white")
    ax.set_title("col2im(ones): windows holding each pixel")
    ax.set_xticks(range(5))
    ax.set_yticks(range(5))
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle("One column per window, its rows in the order (c, i, j) of w.reshape(C_out, -1); "
                 "col2im sends each entry back and adds", fontsize=12)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def blocky_image(H=10, W=10):
    """Two channels with sharp edges, so that a shift by one pixel is visible: a letter F and a diagonal ramp."""
    f = np.zeros((H, W))
    f[2:8, 3] = 1.0                                            # the stem
    f[2, 3:7] = 1.0                                            # the top bar
    f[4, 3:6] = 1.0                                            # the middle bar
    yy, xx = np.mgrid[0:H, 0:W]
    ramp = np.clip((xx + yy - 6) / 8, 0, 1)
    return np.stack([f, ramp])[None]                           # (1, 2, H, W)


def column_matrix(path):
    x = blocky_image()
    _, C, H, W = x.shape
    k = 3
    cols = conv.im2col(x, k, k, 1, 1)                          # (18, 100)

    fig = plt.figure(figsize=(15, 7.5))
    grid = fig.add_gridspec(3, 6, width_ratios=[1, 0.2, 1.6, 1, 1, 1])
    for c in range(C):
        ax = fig.add_subplot(grid[c, 0])
        ax.imshow(x[0, c], cmap="magma", vmin=0, vmax=1)
        ax.set_title(f"x, channel {c} ({H}x{W})", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    for r in range(k * k):                                      # channel 0's rows, reshaped back to images
        i, j = divmod(r, k)
        ax = fig.add_subplot(grid[r // 3, 3 + r % 3])
        ax.imshow(cols[r].reshape(H, W), cmap="magma", vmin=0, vmax=1)
        ax.add_patch(Rectangle((2.5, 1.5), 1, 6, fill=False, ec="tab:cyan", lw=1.5))   # where the stem is in x
        ax.set_title(f"row {r}, (0, {i}, {j}): moved ({1 - i:+d}, {1 - j:+d})", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = fig.add_subplot(grid[:, 2])
    ax.imshow(cols, cmap="magma", aspect="auto", interpolation="nearest", vmin=0, vmax=1)
    ax.axhline(k * k - 0.5, color="white", lw=2)
    ax.set_yticks(range(C * k * k))
    ax.set_yticklabels([f"c{r // 9} ({r % 9 // 3},{r % 3})" for r in range(C * k * k)], fontsize=8)
    ax.set_xlabel(f"column q = ho * {W} + wo ({H * W} output positions)")
    ax.set_title(f"im2col(x, 3, 3, padding=1): {cols.shape[0]} x {cols.shape[1]}")
    fig.suptitle("The column matrix of one image. Row (c, i, j), reshaped to H x W, is channel c moved by one "
                 "kernel offset (cyan: where the stem of the F is in x);\nthe centre row (i = j = 1) is the image "
                 "itself, and with a 3x3 kernel every pixel is stored 9 times", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def memory_overhead(path):
    labels, factors, sizes = [], [], []
    for label, N, C, H, W, k, stride, padding in LAYERS:
        one = conv.im2col(np.zeros((1, C, H, W), dtype=np.float32), k, k, stride, padding)
        cols_bytes = one.nbytes * N                             # the matrix grows linearly with the batch
        input_bytes = N * C * H * W * 4
        labels.append(label)
        factors.append(cols_bytes / input_bytes)
        sizes.append((input_bytes / 2 ** 20, cols_bytes / 2 ** 20))
    fig, ax = plt.subplots(figsize=(12, 5.5))
    bars = ax.bar(range(len(labels)), factors, color=["tab:orange" if f > 4 else "tab:green" for f in factors])
    for bar, f, (mib_x, mib_cols) in zip(bars, factors, sizes):
        ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + 0.2,
                f"{f:.2f}x\n{mib_x:.1f} -> {mib_cols:.1f} MiB", ha="center", va="bottom", fontsize=9)
    ax.axhline(1, color="grey", ls="--", lw=1)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, fontsize=9)
    ax.set_ylabel("bytes of the column matrix / bytes of the input")
    ax.set_ylim(0, max(factors) * 1.3)
    ax.set_title("Memory overhead of im2col, float32 (batch 128; the ResNet stem with batch 32): "
                 "k^2 * H_out * W_out / (H * W)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Draw the figures of Topic 12 (im2col).")
    parser.add_argument("--out", type=Path, default=HERE / "outputs", help="folder for the PNG files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, draw in [("im2col_window_to_column.png", window_to_column), ("column_matrix.png", column_matrix),
                       ("memory_overhead.png", memory_overhead)]:
        draw(args.out / name)
        print(f"wrote {args.out / name}")


if __name__ == "__main__":
    main()
