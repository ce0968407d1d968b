"""Plot how tensors live in memory: the flat buffer against the grid that indexing shows.

    python visualization.py                 # writes outputs/memory_layout.png and outputs/matmul_memory.png
    python visualization.py --out /tmp/fig  # somewhere else
    python visualization.py --assets        # also refresh assets/memory_layout.png (the figure in README.md)

memory_layout.png: four views made by this topic's functions (a C-order array, its transpose, a
broadcast view, sliding windows). Each buffer cell has its own colour; each grid cell takes the colour
of the buffer cell it reads, so a transpose shows the colours reordered, a broadcast shows them
repeated (stride 0), and a copy shows a new buffer.
matmul_memory.png: the tracemalloc peak of one matmul call, vectorized against memory-efficient.

The functions come from load_topic(1): the level-2 reference, or your own solution.py with
DLFS_USE_MINE=1 (a pure-Python solution returns lists, which the figure shows as copies).
"""

from __future__ import annotations

import argparse
import tracemalloc
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

HERE = Path(__file__).resolve().parent
from dlfs.components import load_module, load_topic
from dlfs.curriculum import topic

TOPIC = 1
CMAP = plt.get_cmap("tab20")


def buffer_positions(view, base: np.ndarray) -> tuple[np.ndarray, bool]:
    """For every element of `view`, the index of the buffer cell of `base` it reads, and whether it is a view.

    A result that does not share base's memory (a copy, or nested lists) gets its own new buffer.
    """
    arr = np.asarray(view)
    if not np.shares_memory(arr, base):
        return np.arange(arr.size).reshape(arr.shape), False
    start = arr.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    offsets = np.full(arr.shape, start, dtype=np.int64)
    for axis, stride in enumerate(arr.strides):  # byte offset = start + sum(index[d] * stride[d])
        shape = [1] * arr.ndim
        shape[axis] = arr.shape[axis]
        offsets = offsets + np.arange(arr.shape[axis]).reshape(shape) * stride
    return offsets // base.itemsize, True


def draw_panel(ax, title: str, base: np.ndarray, view, highlight: tuple) -> None:
    """Buffer strip on top (one cell per stored number), logical grid below, strides in the title."""
    arr = np.asarray(view)
    cells, is_view = buffer_positions(arr, base)
    buffer = base.ravel() if is_view else np.ascontiguousarray(arr).ravel()
    rows, cols = arr.shape
    top = rows + 1.2  # y of the buffer strip

    for k, value in enumerate(buffer):
        ax.add_patch(Rectangle((k, top), 1, 1, facecolor=CMAP(k % 20), edgecolor="white", lw=1.5))
        ax.text(k + 0.5, top + 0.5, f"{value:g}", ha="center", va="center", fontsize=9)
        ax.text(k + 0.5, top + 1.22, f"{k * base.itemsize}", ha="center", va="center", fontsize=6.5, color="0.35")
    ax.text(-0.2, top + 0.5, "buffer", ha="right", va="center", fontsize=9, style="italic")
    ax.text(-0.2, top + 1.22, "byte", ha="right", va="center", fontsize=6.5, color="0.35")

    for i in range(rows):
        for j in range(cols):
            k = int(cells[i, j])
            y = rows - 1 - i
            strong = (i, j) == highlight
            ax.add_patch(Rectangle((j, y), 1, 1, facecolor=CMAP(k % 20), edgecolor="black" if strong else "white",
                                   lw=2.5 if strong else 1.5))
            ax.text(j + 0.5, y + 0.5, f"{arr[i, j]:g}", ha="center", va="center", fontsize=9)
    ax.text(-0.2, rows / 2, "grid", ha="right", va="center", fontsize=9, style="italic")

    i, j = highlight
    k = int(cells[i, j])
    ax.add_patch(Rectangle((k, top), 1, 1, fill=False, edgecolor="black", lw=2.5))
    s0, s1 = arr.strides if is_view else np.ascontiguousarray(arr).strides
    # drawn under the cells: it leaves the grid above the highlighted column and ends at the buffer cell
    ax.annotate("", xy=(k + 0.5, top), xytext=(j + 0.5, rows - 1 - i + 0.5), zorder=0,
                arrowprops=dict(arrowstyle="->", color="black", lw=1.2))
    kind = "view: no copy" if is_view else "COPY: a new buffer"
    ax.set_title(f"{title}\nshape {arr.shape}, strides {(s0, s1)} bytes ({kind})", fontsize=10,
                 color="black" if is_view else "firebrick")
    ax.text(0, -0.55, f"[{i}, {j}] -> {i}*{s0} + {j}*{s1} = byte {i * s0 + j * s1}", fontsize=8.5, va="top")
    ax.set_xlim(-1.4, max(len(buffer), cols) + 0.2)
    ax.set_ylim(-1.3, top + 1.6)
    ax.set_aspect("equal")
    ax.axis("off")


def plot_memory_layout(path: Path) -> None:
    ops = load_topic(TOPIC)
    matrix = np.arange(12.0).reshape(3, 4)
    row = np.array([10.0, 20.0, 30.0, 40.0])
    signal = np.arange(6.0)
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.2))
    draw_panel(axes[0, 0], "C-order array x = arange(12).reshape(3, 4)", matrix, matrix, (1, 2))
    draw_panel(axes[0, 1], "transpose(x)", matrix, ops.transpose(matrix), (2, 1))
    draw_panel(axes[1, 0], "broadcast_to(row of 4, (3, 4))", row, ops.broadcast_to(row, (3, 4)), (2, 1))
    draw_panel(axes[1, 1], "sliding_windows(arange(6), 3)", signal, ops.sliding_windows(signal, 3), (2, 1))
    fig.suptitle("One buffer, many views: element [i, j] is read at byte i*stride0 + j*stride1", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def peak_bytes(fn, *args, **kwargs) -> int:
    tracemalloc.start()
    try:
        fn(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def plot_matmul_memory(path: Path, sizes=(32, 64, 128)) -> None:
    chosen = load_topic(TOPIC)  # level 2, or your solution.py with DLFS_USE_MINE=1
    level3 = load_module(topic(TOPIC).level_file(3))
    rng = np.random.default_rng(0)
    series = {f"{Path(chosen.__file__).name}": [], "level03-memory-efficient.py": [],
              "level03-memory-efficient.py, out= given": [], "the result itself (n*n*8 bytes)": []}
    for n in sizes:
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        out = np.empty((n, n))
        values = [peak_bytes(chosen.matmul, a, b), peak_bytes(level3.matmul, a, b),
                  peak_bytes(level3.matmul, a, b, out=out), out.nbytes]
        for key, value in zip(series, values):
            series[key].append(value / 1024)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    width = 0.2
    x = np.arange(len(sizes))
    for shift, (label, values) in enumerate(series.items()):
        bars = ax.bar(x + (shift - 1.5) * width, values, width, label=label)
        ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize=7, padding=2)
    ax.set_yscale("log")
    ax.set_xticks(x, [f"{n} x {n}" for n in sizes])
    ax.set_xlabel("matmul of two n x n float64 matrices")
    ax.set_ylabel("tracemalloc peak (KiB, log scale)")
    ax.set_title("Peak memory of one matmul: all n*n*n products at once vs rank-1 updates", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    for label, values in series.items():
        print(f"  {label:45s} " + "  ".join(f"{n}: {v:9,.0f} KiB" for n, v in zip(sizes, values)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE / "outputs", help="folder for the PNG files")
    parser.add_argument("--assets", action="store_true", help="also write assets/memory_layout.png")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    layout = args.out / "memory_layout.png"
    plot_memory_layout(layout)
    print(f"wrote {layout}")
    if args.assets:
        plot_memory_layout(HERE / "assets" / "memory_layout.png")
        print(f"wrote {HERE / 'assets' / 'memory_layout.png'}")
    print("peak memory of one matmul:")
    plot_matmul_memory(args.out / "matmul_memory.png")
    print(f"wrote {args.out / 'matmul_memory.png'}")


if __name__ == "__main__":
    main()
