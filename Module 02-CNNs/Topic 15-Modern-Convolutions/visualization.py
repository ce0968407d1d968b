"""Modern convolutions, seen: dilated kernel footprints and receptive fields, and what each design costs.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    dilated_receptive_field.png   the taps of a 3x3 kernel with dilation 1, 2, 4; the input pixels one output
                                  pixel reaches through two stacked layers (dilations 1-2 and 2-2: the second
                                  leaves holes), measured with conv2d_backward; receptive field vs depth for
                                  dense, constant-dilation and exponentially dilated stacks
    conv_costs.png                parameters and FLOPs of a 128 -> 128, 3x3 layer on 32x32: standard, grouped,
                                  depthwise-separable and bottleneck, from conv_params / conv_flops

Everything comes from this topic (your own with DLFS_USE_MINE=15).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlfs.components import load_topic  # noqa: E402

conv = load_topic(15)
HERE = Path(__file__).resolve().parent


def gradient_footprint(dilations, size=21):
    """|d out[centre] / d x| through stacked 3x3 convolutions of ones with the given dilations (2-D, 'same')."""
    x = np.ones((1, 1, size, size))
    caches, y = [], x
    for d in dilations:
        y, cache = conv.conv2d_forward(y, np.ones((1, 1, 3, 3)), None, padding="same", dilation=d)
        caches.append(cache)
    g = np.zeros(np.shape(y))
    g[0, 0, size // 2, size // 2] = 1.0
    for cache in reversed(caches):
        g = conv.conv2d_backward(g, cache)[0]
    return np.asarray(g)[0, 0]


def figure_dilation(out_dir):
    fig, axes = plt.subplots(1, 5, figsize=(19, 4.2))
    for ax, d in zip(axes[:2], (1, 2)):
        span = conv.effective_kernel_size(3, d)
        grid = np.zeros((9, 9))
        c = 4 - (span - 1) // 2
        grid[c:c + span:d, c:c + span:d] = 1
        ax.imshow(grid, cmap="Blues", vmin=0, vmax=1.3)
        ax.set_xticks(np.arange(-0.5, 9, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, 9, 1), minor=True)
        ax.grid(which="minor", color="lightgray")
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_title(f"3x3 kernel, dilation {d}:\n9 weights over {span}x{span} pixels", fontsize=10)
    ax = axes[2]
    grid = np.zeros((9, 9))
    grid[0::4, 0::4] = 1
    ax.imshow(grid, cmap="Blues", vmin=0, vmax=1.3)
    ax.set_xticks(np.arange(-0.5, 9, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, 9, 1), minor=True)
    ax.grid(which="minor", color="lightgray")
    ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
    ax.set_title(f"dilation 4: {conv.effective_kernel_size(3, 4)}x{conv.effective_kernel_size(3, 4)} pixels", fontsize=10)

    ax = axes[3]
    both = np.stack([gradient_footprint([1, 2]), gradient_footprint([2, 2])])
    crop = both[:, 4:17, 4:17]
    panel = np.concatenate([crop[0] > 0, np.zeros((13, 1)), crop[1] > 0], axis=1)
    ax.imshow(panel, cmap="Oranges")
    ax.set_title("pixels one output reaches, two layers\n(conv2d_backward): dilations 1, 2 (left)\n"
                 "cover 7x7; 2, 2 (right) span 9x9 with holes", fontsize=10)
    ax.axis("off")

    ax = axes[4]
    depth = np.arange(1, 9)
    dense = [conv.receptive_field([(3, 1, 1)] * n)[0] for n in depth]
    constant = [conv.receptive_field([(3, 1, 2)] * n)[0] for n in depth]
    exponential = [conv.receptive_field([(3, 1, 2 ** i) for i in range(n)])[0] for n in depth]
    ax.plot(depth, exponential, "o-", label="dilation 1, 2, 4, 8, ... (WaveNet)")
    ax.plot(depth, constant, "s-", label="dilation 2 everywhere")
    ax.plot(depth, dense, "^-", label="dense 3x3")
    ax.set_yscale("log", base=2)
    ax.set_xlabel("number of 3x3 layers (stride 1)")
    ax.set_ylabel("receptive field (pixels, log scale)")
    ax.set_title("receptive field vs depth: exponential\nwith doubling dilations, linear otherwise", fontsize=10)
    ax.legend(fontsize=8)
    fig.suptitle("Dilated (atrous) convolutions: the same weights, a wider view", fontsize=13)
    fig.tight_layout()
    path = out_dir / "dilated_receptive_field.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cost_table(c=128, size=32):
    """(name, params, FLOPs) of four ways to map c -> c channels with a 3x3 receptive field on size x size."""
    p, f = conv.conv_params, conv.conv_flops
    mid = c // 4
    return [
        ("standard 3x3", p(c, c, 3), f(c, c, 3, size, padding=1)),
        ("grouped 3x3\n(groups=4)", p(c, c, 3, groups=4), f(c, c, 3, size, padding=1, groups=4)),
        ("depthwise-separable\n(3x3 dw, then 1x1)", p(c, c, 3, groups=c, bias=False) + p(c, c, 1),
         f(c, c, 3, size, padding=1, groups=c) + f(c, c, 1, size)),
        (f"bottleneck 1x1, 3x3, 1x1\n({c} -> {mid} -> {mid} -> {c})", p(c, mid, 1) + p(mid, mid, 3) + p(mid, c, 1),
         f(c, mid, 1, size) + f(mid, mid, 3, size, padding=1) + f(mid, c, 1, size)),
    ]


def figure_costs(out_dir):
    rows = cost_table()
    names = [r[0] for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(15, 4.8))
    colors = ["gray", "goldenrod", "seagreen", "steelblue"]
    for ax, k, label in ((axes[0], 1, "parameters"), (axes[1], 2, "FLOPs per image (2 per multiply-add)")):
        values = [r[k] for r in rows]
        bars = ax.bar(names, values, color=colors)
        for bar, v in zip(bars, values):
            ax.text(bar.get_x() + bar.get_width() / 2, v, f"{v:,}\n({v / values[0]:.1%})", ha="center",
                    va="bottom", fontsize=8)
        ax.set_ylabel(label)
        ax.set_ylim(0, max(values) * 1.25)
        ax.tick_params(axis="x", labelsize=8)
    axes[0].set_title("parameters, 128 -> 128 channels", fontsize=11)
    axes[1].set_title("FLOPs on a 32x32 input (padding 1)", fontsize=11)
    fig.suptitle("What a 3x3 layer costs, four ways (conv_params / conv_flops)", fontsize=13)
    fig.tight_layout()
    path = out_dir / "conv_costs.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path, rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG files")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"wrote {figure_dilation(out_dir)}")
    path, rows = figure_costs(out_dir)
    print(f"wrote {path}")
    print("\n128 -> 128 channels, 3x3 receptive field, 32x32 input (padding 1), one image:")
    print(f"{'design':<44} {'params':>9} {'FLOPs':>13} {'MACs':>13}")
    for name, params, flops in rows:
        print(f"{name.replace(chr(10), ' '):<44} {params:>9,} {flops:>13,} {flops // 2:>13,}")


if __name__ == "__main__":
    main()
