"""The normalisations, seen: which elements share a mean and a variance, and who depends on the batch.

    python visualization.py [--out DIR] [--asset]      (default: outputs/ next to this file)

Writes
    norm_axes.png          the classic N x C x (H*W) cube, four times: the elements that BatchNorm, LayerNorm,
                           InstanceNorm and GroupNorm normalise together (one set highlighted)
    batch_dependence.png   one fixed image put into 40 random batches of each size from 1 to 64: its BatchNorm
                           output moves with its batch-mates (less as the batch grows, like 1/sqrt(size)),
                           its LayerNorm and GroupNorm outputs do not move at all
--asset also refreshes both figures in assets/.

BatchNorm comes from Topic 09 (batchnorm_forward on the (N*H*W, C) view, as BatchNorm2d does); LayerNorm and
GroupNorm from this topic (your own with DLFS_USE_MINE=16).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlfs.components import load_topic

norms = load_topic(16)
bn = load_topic(9)

HERE = Path(__file__).resolve().parent
N, C, HW, GROUPS = 6, 6, 5, 3   # the sizes of the drawn cube


def norm_sets():
    """{title: (boolean (N, C, HW) mask of one set, caption)} for the four normalisations."""
    n, c, _ = np.indices((N, C, HW))
    per = C // GROUPS
    return {
        "BatchNorm": (c == 0, "one set per channel:\nmean over N, H, W"),
        "LayerNorm": (n == 0, "one set per sample:\nmean over C, H, W"),
        "InstanceNorm": ((n == 0) & (c == 0), "one set per (sample, channel):\nmean over H, W"),
        "GroupNorm": ((n == 0) & (c < per), (f"one set per (sample, group), {GROUPS} groups (tinted):\n"
                                             f"mean over C/G = {per} contiguous channels, H, W")),
    }


def plot_axes(paths):
    fig = plt.figure(figsize=(15, 4.6))
    highlight, other = np.array([0.12, 0.45, 0.85, 0.95]), np.array([0.85, 0.85, 0.85, 0.12])
    for k, (title, (mask, caption)) in enumerate(norm_sets().items()):
        ax = fig.add_subplot(1, 4, k + 1, projection="3d")
        colors = np.where(mask[..., None], highlight, other)
        if title == "GroupNorm":   # the other groups of the same sample, faintly: contiguous blocks of channels
            c = np.indices((N, C, HW))[1]
            for g, tint in ((1, (0.95, 0.6, 0.2, 0.35)), (2, (0.3, 0.7, 0.3, 0.35))):
                colors[(np.indices((N, C, HW))[0] == 0) & (c // (C // GROUPS) == g)] = tint
        edges = np.where(mask[..., None], np.array([0.05, 0.2, 0.5, 1.0]), np.array([0.5, 0.5, 0.5, 0.25]))
        ax.voxels(np.ones((N, C, HW), bool), facecolors=colors, edgecolors=edges, linewidth=0.4)
        ax.set_xlabel("N (batch)", labelpad=-8)
        ax.set_ylabel("C (channels)", labelpad=-8)
        ax.set_zlabel("H, W (positions)", labelpad=-8)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_zticks([])
        ax.view_init(elev=22, azim=-58)
        ax.set_box_aspect((N, C, HW))
        ax.set_title(title, fontsize=13, pad=0)
        ax.text2D(0.5, -0.04, caption, transform=ax.transAxes, ha="center", va="top", fontsize=9.5)
    fig.suptitle("Which elements share a mean and a variance (blue: one normalisation set)", fontsize=13)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.88, bottom=0.16, wspace=0.05)
    for path in paths:
        fig.savefig(path, dpi=80)
    plt.close(fig)


def batchnorm2d(x):
    """Train-mode BatchNorm2d via Topic 09: every channel over (N, H, W)."""
    n, c, h, w = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, c)
    out, _ = bn.batchnorm_forward(flat, np.ones(c), np.zeros(c), {"mode": "train"})
    return np.asarray(out).reshape(n, h, w, c).transpose(0, 3, 1, 2)


def batch_study(sizes=(1, 2, 4, 8, 16, 32, 64), draws=40, seed=0):
    """One fixed image inside `draws` random batches of each size.

    Returns sizes, {norm: (len(sizes), draws) outputs of the image's channel 0 at position (0, 0)} and
    {norm: spread per size = the mean over the image's elements of their standard deviation over the draws}.
    """
    rng = np.random.default_rng(seed)
    shape = (8, 4, 4)
    channel_loc = rng.uniform(-2, 2, size=(8, 1, 1))
    image = channel_loc + rng.standard_normal(shape)
    forward = {"BatchNorm": batchnorm2d,
               "LayerNorm": lambda b: np.asarray(norms.layernorm_forward(b, None, None, shape)[0]),
               "GroupNorm": lambda b: np.asarray(norms.groupnorm_forward(b, None, None, 4)[0])}
    values = {name: [] for name in forward}
    spread = {name: [] for name in forward}
    for size in sizes:
        outs = {name: [] for name in forward}
        for _ in range(draws):
            scale = rng.uniform(0.5, 2.0, (size - 1, 1, 1, 1))
            batch = np.concatenate([image[None], channel_loc + scale * rng.standard_normal((size - 1,) + shape)])
            for name, f in forward.items():
                outs[name].append(f(batch)[0])
        for name in forward:
            stack = np.array(outs[name])                    # (draws, 8, 4, 4): the image's output in each batch
            values[name].append(stack[:, 0, 0, 0])
            spread[name].append(stack.std(axis=0).mean())
    return (np.array(sizes), {k: np.array(v) for k, v in values.items()},
            {k: np.array(v) for k, v in spread.items()})


def plot_batch_dependence(paths):
    sizes, values, spread = batch_study()
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    ax = axes[0]
    colors = {"BatchNorm": "tab:red", "LayerNorm": "tab:blue", "GroupNorm": "tab:green"}
    positions = np.log2(sizes)
    parts = ax.violinplot(list(values["BatchNorm"][1:]), positions=positions[1:], widths=0.6, showextrema=False)
    for body in parts["bodies"]:
        body.set_facecolor(colors["BatchNorm"])
        body.set_alpha(0.45)
    ax.plot(positions, np.median(values["BatchNorm"], axis=1), "o", color=colors["BatchNorm"],
            label="BatchNorm (train mode), 40 random batches per size")
    for name, style in (("LayerNorm", "-"), ("GroupNorm", "--")):
        v = values[name]
        ax.plot(positions, v[:, 0], style, color=colors[name], linewidth=2.2,
                label=f"{name}: the same value in all {v.size} batches")
    ax.set_xticks(positions)
    ax.set_xticklabels([str(s) for s in sizes])
    ax.set_xlabel("batch size (the same image plus random batch-mates)")
    ax.set_ylabel("output of the image's channel 0, position (0, 0)")
    ax.set_title("One image, many batches: whose output moves?", fontsize=11)
    low, high = ax.get_ylim()
    ax.set_ylim(low, high + 0.6 * (high - low))          # room for the legend above the data
    ax.legend(fontsize=8.5, loc="upper right")
    ax.grid(alpha=0.3)

    ax = axes[1]
    ax.loglog(sizes[1:], spread["BatchNorm"][1:], "o-", color=colors["BatchNorm"],
              label="BatchNorm: spread of the image's output over 40 batches")
    ax.loglog(sizes[1:], spread["BatchNorm"][1] * np.sqrt(sizes[1] / sizes[1:]), ":", color="gray",
              label="proportional to 1 / sqrt(batch size)")
    for k, name in enumerate(("LayerNorm", "GroupNorm")):
        ax.text(0.03, 0.10 - 0.07 * k, f"{name}: spread {spread[name].max():.0e} (round-off) at every batch size",
                transform=ax.transAxes, color=colors[name], fontsize=9.5)
    ax.set_xticks(sizes[1:])
    ax.set_xticklabels([str(v) for v in sizes[1:]])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("batch size")
    ax.set_ylabel("std over the batches, mean over the image's elements")
    ax.set_title("How much the batch-mates move the image's output", fontsize=11)
    ax.legend(fontsize=8.5)
    ax.grid(alpha=0.3, which="both")
    fig.suptitle("BatchNorm depends on the other samples of the batch; LayerNorm and GroupNorm do not",
                 fontsize=13)
    fig.tight_layout()
    for path in paths:
        fig.savefig(path, dpi=80)
    plt.close(fig)
    return sizes, spread


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG files")
    parser.add_argument("--asset", action="store_true", help="also refresh the figures in assets/")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = ("norm_axes.png", "batch_dependence.png")
    targets = {name: [out / name] + ([HERE / "assets" / name] if args.asset else []) for name in names}
    plot_axes(targets["norm_axes.png"])
    sizes, spread = plot_batch_dependence(targets["batch_dependence.png"])
    print("batch size                        " + " ".join(f"{s:>8d}" for s in sizes))
    for name in ("BatchNorm", "LayerNorm", "GroupNorm"):
        print(f"{name:<10} spread over batches    " + " ".join(f"{d:8.1e}" for d in spread[name]))
    print(f"wrote {', '.join(str(p) for p in targets['norm_axes.png'] + targets['batch_dependence.png'])}")


if __name__ == "__main__":
    main()
