"""Convolution, seen: a 3x3 filter sliding over a handwritten digit while the output map fills in, and a bank
of edge detectors applied to the same digit.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    conv_sliding_window.gif          the animation: the window on the (zero-padded) image, the 9 products of
                                     the current window with the kernel, and the output map filling in
    conv_sliding_window_frames.png   six moments of the same animation as one still image
    conv_edge_detectors.png          one call of conv2d_forward with a bank of 4 hand-made 3x3 filters (Sobel x,
                                     Sobel y, Laplacian, blur): 4 output channels, and the gradient magnitude

The image is the first digit of the MNIST test set (dlfs.datasets.load_mnist, from $DLFS_DATA); without the
data a synthetic digit is drawn instead and the titles say so. The GIF is written with matplotlib's Pillow
writer; without Pillow only the PNG files are written (the script says so). The convolution is
conv2d_forward of this topic: your own with DLFS_USE_MINE=11.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import animation  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from dlfs.components import load_topic  # noqa: E402

conv = load_topic(11)

HERE = Path(__file__).resolve().parent
SOBEL_X = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])   # responds to vertical edges
FILTERS = {
    "Sobel x (vertical edges)": SOBEL_X,
    "Sobel y (horizontal edges)": SOBEL_X.T.copy(),
    "Laplacian (blobs, lines)": np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]]),
    "box blur (1/9 each)": np.full((3, 3), 1.0 / 9.0),
}
DETAIL_ROW = 10  # the output row the animation shows position by position (it crosses the digit)


def load_digit():
    """(28x28 float image in [0, 1], description). MNIST's first test digit, or a synthetic one."""
    try:
        from dlfs.datasets import load_mnist

        _, _, x_test, y_test = load_mnist(download=False, normalize=True)
        return x_test[0].astype(np.float64), f"MNIST test digit #0 (a {int(y_test[0])})"
    except Exception as exc:  # no data here: draw a digit-like stroke so the figures still teach
        print(f"MNIST not available ({type(exc).__name__}); using a synthetic digit instead")
        r, c = np.mgrid[0:28, 0:28]
        ring = np.exp(-((np.hypot((r - 14) / 1.25, c - 14) - 7.5) ** 2) / 3.0)
        stroke = np.exp(-((c - 0.35 * r - 9) ** 2) / 2.0) * ((r > 4) & (r < 24))
        return np.clip(ring + stroke, 0, 1), "a synthetic digit (MNIST not found)"


def convolve(image, kernels, bias=None):
    """The topic's conv2d_forward on one image (1, 1, H, W) with a bank of kernels (C_out, 3, 3), padding 'same'."""
    w = np.asarray(kernels, dtype=np.float64)[:, None]
    out, _ = conv.conv2d_forward(image[None, None], w, bias, 1, "same")
    return np.asarray(out)[0]


# ----------------------------------------------------------------------------------------------------
# The animation
# ----------------------------------------------------------------------------------------------------

def frame_positions(H, W):
    """Output positions (i, j) shown, in order: rows before DETAIL_ROW one frame per row, DETAIL_ROW position by
    position, then one frame per row again."""
    positions = [(i, W - 1) for i in range(DETAIL_ROW)]
    positions += [(DETAIL_ROW, j) for j in range(W)]
    positions += [(i, W - 1) for i in range(DETAIL_ROW + 1, H)]
    return positions


class SlidingWindowFigure:
    """Three panels: the padded input with the window, the window's products with the kernel, the output so far."""

    def __init__(self, image, kernel, out, title):
        self.image, self.kernel, self.out = image, kernel, out
        self.padded = np.pad(image, 1)
        H, W = image.shape
        self.fig, axes = plt.subplots(1, 3, figsize=(9.6, 3.7), gridspec_kw={"width_ratios": [1, 0.8, 1]})
        self.ax_in, self.ax_win, self.ax_out = axes
        self.fig.suptitle(title, fontsize=10)
        self.ax_in.imshow(self.padded, cmap="gray", vmin=0, vmax=1, extent=(-1.5, W + 0.5, H + 0.5, -1.5))
        self.ax_in.add_patch(Rectangle((-0.5, -0.5), W, H, fill=False, ec="tab:orange", ls="--", lw=0.8))
        self.ax_in.set_title("input, padding 1 (zeros outside the dashes)", fontsize=9)
        self.window = Rectangle((-1.5, -1.5), 3, 3, fill=False, ec="tab:red", lw=2)
        self.ax_in.add_patch(self.window)
        self.limit = float(np.abs(out).max())
        cmap = plt.get_cmap("RdBu_r").copy()
        cmap.set_bad("0.92")
        self.shown = np.full_like(out, np.nan)
        self.out_im = self.ax_out.imshow(self.shown, cmap=cmap, vmin=-self.limit, vmax=self.limit)
        self.cell = Rectangle((-0.5, -0.5), 1, 1, fill=False, ec="black", lw=1.5)
        self.ax_out.add_patch(self.cell)
        self.ax_out.set_title("output map (Sobel x response)", fontsize=9)
        self.fig.colorbar(self.out_im, ax=self.ax_out, fraction=0.046, pad=0.04)
        self.win_im = self.ax_win.imshow(np.zeros((3, 3)), cmap="gray", vmin=0, vmax=1)
        self.win_text = [[self.ax_win.text(v, u, "", ha="center", va="center", fontsize=8, color="tab:red")
                          for v in range(3)] for u in range(3)]
        for ax in axes:
            ax.set_xticks([])
            ax.set_yticks([])
        self.fig.tight_layout()

    def draw(self, i, j, filled_until):
        """Window at output (i, j); outputs up to position number filled_until (row-major) are shown."""
        H, W = self.out.shape
        self.window.set_xy((j - 1.5, i - 1.5))               # padded row/col i..i+2 = image rows i-1..i+1
        patch = self.padded[i:i + 3, j:j + 3]
        self.win_im.set_data(patch)
        for u in range(3):
            for v in range(3):
                self.win_text[u][v].set_text(f"{patch[u, v]:.2f}\n×{self.kernel[u, v]:g}")
                self.win_text[u][v].set_color("white" if patch[u, v] < 0.5 else "black")
        self.ax_win.set_title(f"window at ({i}, {j}): sum of products\n= {self.out[i, j]:+.3f}", fontsize=9)
        flat = self.shown.reshape(-1)
        flat[:] = np.nan
        flat[:filled_until + 1] = self.out.reshape(-1)[:filled_until + 1]
        self.out_im.set_data(self.shown)
        self.cell.set_xy((j - 0.5, i - 0.5))
        return [self.window, self.win_im, self.out_im, self.cell]


def save_animation(image, description, out_dir):
    out = convolve(image, [SOBEL_X])[0]
    fig = SlidingWindowFigure(image, SOBEL_X, out, f"A 3x3 Sobel-x filter sliding over {description} "
                                                     f"(stride 1, padding 1: output 28x28)")
    H, W = out.shape
    positions = frame_positions(H, W)
    positions += [positions[-1]] * 8                         # hold the finished map for a second

    def update(k):
        i, j = positions[k]
        return fig.draw(i, j, i * W + j)

    path = out_dir / "conv_sliding_window.gif"
    if animation.PillowWriter.isAvailable():
        anim = animation.FuncAnimation(fig.fig, update, frames=len(positions), blit=False)
        anim.save(path, writer=animation.PillowWriter(fps=8), dpi=90)
        print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KiB, {len(positions)} frames)")
    else:
        print("matplotlib's Pillow writer is not available (pip install pillow): no GIF, only the PNG strip")
        path = None
    plt.close(fig.fig)
    save_frames_strip(image, out, description, out_dir)
    return path


def save_frames_strip(image, out, description, out_dir):
    """Six moments of the animation: the window on the image (top) and the output filled so far (bottom)."""
    H, W = out.shape
    moments = [(0, 0), (5, 27), (DETAIL_ROW, 6), (DETAIL_ROW, 14), (DETAIL_ROW, 22), (H - 1, W - 1)]
    padded = np.pad(image, 1)
    limit = float(np.abs(out).max())
    cmap = plt.get_cmap("RdBu_r").copy()
    cmap.set_bad("0.92")
    fig, axes = plt.subplots(2, len(moments), figsize=(2.1 * len(moments), 5.0))
    for col, (i, j) in enumerate(moments):
        top, bottom = axes[0, col], axes[1, col]
        top.imshow(padded, cmap="gray", vmin=0, vmax=1, extent=(-1.5, W + 0.5, H + 0.5, -1.5))
        top.add_patch(Rectangle((j - 1.5, i - 1.5), 3, 3, fill=False, ec="tab:red", lw=2))
        top.set_title(f"window at ({i}, {j})", fontsize=9)
        shown = np.full(H * W, np.nan)
        shown[:i * W + j + 1] = out.reshape(-1)[:i * W + j + 1]
        bottom.imshow(shown.reshape(H, W), cmap=cmap, vmin=-limit, vmax=limit)
        bottom.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="black", lw=1.2))
        bottom.set_title(f"out[{i}, {j}] = {out[i, j]:+.2f}", fontsize=9)
        for ax in (top, bottom):
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"Sobel x sliding over {description}: input with the window (top), output so far (bottom)",
                 fontsize=10)
    fig.tight_layout(h_pad=2.0)
    path = out_dir / "conv_sliding_window_frames.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


# ----------------------------------------------------------------------------------------------------
# Edge detectors
# ----------------------------------------------------------------------------------------------------

def save_edge_detectors(image, description, out_dir):
    names = list(FILTERS)
    bank = np.stack([FILTERS[n] for n in names])             # (4, 3, 3): one conv layer with 4 output channels
    responses = convolve(image, bank)                         # (4, 28, 28)
    magnitude = np.hypot(responses[0], responses[1])
    fig, axes = plt.subplots(2, 5, figsize=(13, 5.6), gridspec_kw={"height_ratios": [0.55, 1]})
    axes[0, 0].imshow(image, cmap="gray", vmin=0, vmax=1)
    axes[0, 0].set_title("input", fontsize=9)
    axes[1, 0].imshow(magnitude, cmap="magma")
    axes[1, 0].set_title("gradient magnitude\nsqrt(Sobel x² + Sobel y²)", fontsize=9)
    for col, name in enumerate(names, start=1):
        kernel = FILTERS[name]
        lim = 1.6 * np.abs(kernel).max()                      # pale colours: the numbers stay readable
        axes[0, col].imshow(kernel, cmap="RdBu_r", vmin=-lim, vmax=lim)
        for u in range(3):
            for v in range(3):
                label = "1/9" if name.startswith("box") else f"{kernel[u, v]:g}"
                axes[0, col].text(v, u, label, ha="center", va="center", fontsize=9)
        axes[0, col].set_title(f"w[{col - 1}]: {name}", fontsize=9)
        r = responses[col - 1]
        rlim = max(np.abs(r).max(), 1e-12)
        cmap = "gray" if name.startswith("box") else "RdBu_r"
        vmin = 0 if name.startswith("box") else -rlim
        axes[1, col].imshow(r, cmap=cmap, vmin=vmin, vmax=rlim)
        axes[1, col].set_title(f"out[{col - 1}] in [{r.min():+.2f}, {r.max():+.2f}]", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"One conv2d_forward call, w of shape (4, 1, 3, 3), padding 'same', on {description}: "
                 f"4 filters give 4 output channels (red > 0, blue < 0)", fontsize=10)
    fig.tight_layout()
    path = out_dir / "conv_edge_detectors.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Topic 11 figures: the sliding window animation, edge detectors")
    parser.add_argument("--out", type=Path, default=HERE / "outputs", help="output folder (default: ./outputs)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    image, description = load_digit()
    save_edge_detectors(image, description, args.out)
    save_animation(image, description, args.out)


if __name__ == "__main__":
    main()
