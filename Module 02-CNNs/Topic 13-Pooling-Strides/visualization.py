"""Pooling, seen: max vs average pooling on a real digit, where max-pool gradients go, and strided
convolution vs convolution + pooling.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    pooling_max_vs_avg.png     an MNIST digit (a synthetic one, said in the title, when MNIST is not on this
                               machine) through 2x2 max / average pooling and a 3x3 stride-2 max pool; below,
                               the gradient each pooling sends back for dout = 1 everywhere: one cell per
                               window for max pooling (counts above 1 where windows overlap), an even
                               spread for average pooling
    strided_conv_vs_pool.png   a 3x3 convolution with stride 2 vs a 3x3 convolution then a 2x2 max or average
                               pool: output sizes, parameters and multiply-adds of real layers, and the input
                               cells one output cell sees (its receptive field, and where its gradient goes)

Pooling comes from this topic (your own with DLFS_USE_MINE=13); the convolution from Topic 12 (Topic 11 when
Topic 12 is not there).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlfs.components import load_topic  # noqa: E402
from dlfs.datasets import load_mnist_subset, missing_reason  # noqa: E402

pool = load_topic(13)
HERE = Path(__file__).resolve().parent


def load_convolution():
    """(topic number, module) of the fastest convolution available: Topic 12, else Topic 11, else (None, None)."""
    for number in (12, 11):
        try:
            return number, load_topic(number)
        except FileNotFoundError:
            continue
    return None, None


def digit_image():
    """(image (28, 28) float64 in [0, 1], description). A real MNIST digit, or a drawn '8' when MNIST is absent."""
    if missing_reason("mnist") is None:
        x, y, _, _ = load_mnist_subset(n=16, seed=3, n_test=0, download=False, normalize=True)
        return x[0].astype(np.float64), f"MNIST digit {int(y[0])}"
    yy, xx = np.mgrid[0:28, 0:28]
    ring = lambda cy, r: np.exp(-((np.hypot(yy - cy, (xx - 14) * 1.2) - r) ** 2) / 3.0)  # noqa: E731
    img = np.clip(ring(9, 4.5) + ring(19, 5.5), 0, 1)
    return img, "synthetic '8' (MNIST not found on this machine)"


def figure_pooling(out_dir):
    img, what = digit_image()
    x = img[None, None]
    mx, mx_cache = pool.maxpool2d_forward(x, 2)
    av, av_cache = pool.avgpool2d_forward(x, 2)
    mx3, mx3_cache = pool.maxpool2d_forward(x, 3, stride=2, padding=1)
    dmx = pool.maxpool2d_backward(np.ones_like(mx), mx_cache)[0, 0]
    av3, av3_cache = pool.avgpool2d_forward(x, 3, stride=2, padding=1)
    dav3 = pool.avgpool2d_backward(np.ones_like(av3), av3_cache)[0, 0]
    dmx3 = pool.maxpool2d_backward(np.ones_like(mx3), mx3_cache)[0, 0]

    fig, axes = plt.subplots(2, 4, figsize=(15, 7.8))
    top = [(img, f"input 28x28\n{what}"), (mx[0, 0], "max pool 2x2 -> 14x14\n(keeps the strokes' peaks)"),
           (av[0, 0], "average pool 2x2 -> 14x14\n(blurs: thin strokes fade)"),
           (mx3[0, 0], "max pool 3x3, stride 2, padding 1\n-> 14x14 (overlapping windows)")]
    for ax, (im, title) in zip(axes[0], top):
        ax.imshow(im, cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.axis("off")
    ax = axes[1, 0]
    ax.imshow(img, cmap="gray", vmin=0, vmax=1, alpha=0.35)
    ys, xs = np.nonzero(dmx)
    ax.scatter(xs, ys, s=10, c="crimson")
    ax.set_title("max 2x2: dx for dout = 1, one cell per window\n(flat background = a tie: the first cell wins)",
                 fontsize=10)
    ax.axis("off")
    im = axes[1, 1].imshow(dav3 * 9, cmap="viridis")
    axes[1, 1].set_title("average 3x3 stride 2: 9 x dx for dout = 1\n= how many windows hold the cell (1, 2 or 4)",
                         fontsize=10)
    axes[1, 1].axis("off")
    fig.colorbar(im, ax=axes[1, 1], fraction=0.046)
    im = axes[1, 2].imshow(dmx3, cmap="magma", vmin=0)
    axes[1, 2].set_title("max 3x3 stride 2: dx for dout = 1\na cell winning k windows gets k", fontsize=10)
    axes[1, 2].axis("off")
    fig.colorbar(im, ax=axes[1, 2], fraction=0.046)
    counts = np.bincount(dmx3.astype(int).ravel())
    axes[1, 3].bar(range(len(counts)), counts, color="slateblue")
    axes[1, 3].set_yscale("log")
    axes[1, 3].set_xlabel("number of windows a cell wins (3x3, stride 2)")
    axes[1, 3].set_ylabel("cells")
    axes[1, 3].set_title(f"{int((dmx3 > 1).sum())} cells win more than one window:\ntheir gradients ADD", fontsize=10)
    fig.suptitle("Max vs average pooling, forward and backward", fontsize=13)
    fig.tight_layout()
    path = out_dir / "pooling_max_vs_avg.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def footprint(conv, layers, x, cell):
    """The input cells the gradient of one output cell reaches, through conv (and pooling) layers."""
    caches, y = [], x
    for kind, layer in layers:
        if kind == "conv":
            y, c = conv.conv2d_forward(y, *layer)
        else:
            y, c = getattr(pool, f"{kind}pool2d_forward")(y, 2)
        caches.append((kind, c))
    dout = np.zeros(y.shape)
    dout[(0, 0) + cell] = 1.0
    g = dout
    for kind, c in reversed(caches):
        g = conv.conv2d_backward(g, c)[0] if kind == "conv" else getattr(pool, f"{kind}pool2d_backward")(g, c)
    return np.abs(g[0, 0]), y.shape


def compare_downsampling(conv, channels=32, size=32, repeats=5):
    """Real layers of Topic 12 (or 11): output shape, parameters, multiply-adds and time of the three designs."""
    x = np.random.default_rng(0).standard_normal((8, channels, size, size)).astype(np.float32)
    designs = {"conv 3x3 stride 2": (conv.Conv2d(channels, channels, 3, stride=2, padding=1, rng=0), None),
               "conv 3x3 + max pool 2": (conv.Conv2d(channels, channels, 3, stride=1, padding=1, rng=0), pool.MaxPool2d(2)),
               "conv 3x3 + avg pool 2": (conv.Conv2d(channels, channels, 3, stride=1, padding=1, rng=0), pool.AvgPool2d(2))}
    rows = []
    for name, (c, p) in designs.items():
        def step():
            y = c.forward(x)
            z = p.forward(y) if p is not None else y
            g = np.ones_like(z)
            c.backward(p.backward(g) if p is not None else g)
            return y, z
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            y, z = step()
            best = min(best, time.perf_counter() - start)
        params = sum(q.data.size for q in c.parameters())
        macs = int(np.prod(y.shape[1:])) * channels * 9           # per image: each conv output sums C_in * 3 * 3
        rf = pool.receptive_field([(3, 2)] if p is None else [(3, 1), (2, 2)])
        rows.append((name, z.shape[1:], params, macs, rf, best / len(x)))
    return rows


def figure_strided(out_dir):
    number, conv = load_convolution()
    fig, axes = plt.subplots(1, 4, figsize=(16, 4.4))
    if conv is None:
        for ax in axes:
            ax.axis("off")
        axes[1].text(0, 0.5, "No convolution topic (12 or 11) on this machine:\nthe comparison needs one.",
                     fontsize=12)
        rows = []
    else:
        img, _ = digit_image()
        x = img[None, None]
        k = np.ones((1, 1, 3, 3))
        designs = [("conv 3x3 stride 2", [("conv", (k, None, 2, 1))]),
                   ("conv 3x3 + max pool 2", [("conv", (k, None, 1, 1)), ("max", None)]),
                   ("conv 3x3 + avg pool 2", [("conv", (k, None, 1, 1)), ("avg", None)])]
        for ax, (name, layers) in zip(axes[:3], designs):
            g, shape = footprint(conv, layers, x, (6, 6))
            ax.imshow(img, cmap="gray", alpha=0.3)
            ys, xs = np.nonzero(g > 0)
            ax.imshow(np.ma.masked_where(g == 0, g), cmap="autumn", alpha=0.9)
            size, jump = pool.receptive_field([(3, 2)] if len(layers) == 1 else [(3, 1), (2, 2)])
            start = 6 * jump - 1                      # output cell 6, first input cell: 6 * jump - padding 1
            ax.add_patch(plt.Rectangle((start - 0.5, start - 0.5), size, size, fill=False, lw=2.5, color="navy"))
            ax.set_xlim(7.5, 17.5)
            ax.set_ylim(17.5, 7.5)
            ax.set_title(f"{name} -> {shape[2]}x{shape[3]}\nreceptive field {size}x{size} (blue); the gradient of\n"
                         f"output cell (6, 6) reaches {len(ys)} input cells (red)", fontsize=10)
        rows = compare_downsampling(conv)
        names = [r[0].replace(" + ", "\n+ ") for r in rows]
        macs = [r[3] / 1e6 for r in rows]
        ax = axes[3]
        bars = ax.bar(names, macs, color=["seagreen", "indianred", "steelblue"])
        for bar, r in zip(bars, rows):
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), f"{r[2]} params\n{r[5] * 1e3:.1f} ms/img",
                    ha="center", va="bottom", fontsize=8)
        ax.set_ylabel("multiply-adds per image (millions)")
        ax.set_title(f"32 -> 32 channels on 32x32 (Topic {number}'s Conv2d):\nsame parameters, 4x the work", fontsize=10)
        ax.set_ylim(0, max(macs) * 1.3)
    fig.suptitle("Downsampling by a strided convolution or by convolution + pooling", fontsize=13)
    fig.tight_layout()
    path = out_dir / "strided_conv_vs_pool.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path, number, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG files")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"wrote {figure_pooling(out_dir)}")
    path, number, rows = figure_strided(out_dir)
    print(f"wrote {path}")
    if rows:
        print(f"\nDownsampling 32 -> 32 channels, 32x32 input, with Topic {number}'s Conv2d (float32, batch of 8):")
        print(f"{'design':<24} {'output':>12} {'params':>7} {'MACs/image':>11} {'receptive field':>16} {'fwd+bwd/image':>14}")
        for name, shape, params, macs, rf, t in rows:
            print(f"{name:<24} {str(tuple(shape)):>12} {params:>7} {macs:>11,} {f'{rf[0]} (jump {rf[1]})':>16} "
                  f"{t * 1e3:>11.2f} ms")


if __name__ == "__main__":
    main()
