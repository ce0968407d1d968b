"""Topic 05 figures: what initialisation does to activations, and what temperature does to softmax.

    python visualization.py                 # writes PNGs to outputs/ next to this file
    python visualization.py --out /tmp/t05  # somewhere else
    python visualization.py --asset         # also refresh assets/activation_histograms.png (shown by the README)

1. activation_histograms.png - the CS231n experiment: 1000 unit-Gaussian inputs through 10 hidden layers
   of width 500, one row per (activation, init) pair, one histogram per layer. Too-small weights squeeze
   every activation to 0, too-large weights saturate tanh at +-1 (or blow ReLU up), Xavier suits tanh,
   Kaiming suits ReLU.
2. activation_std_per_layer.png - the same runs summarised: std of each layer's activations (log scale),
   plus ReLU with N(0, 1) weights, which explodes by ~16x per layer.
3. softmax_temperature.png - softmax(logits / T) for several temperatures T, and its entropy against T.

The functions come from load_topic(5): the level-2 reference, or your own solution.py with DLFS_USE_MINE=5.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
from dlfs.components import load_topic

t05 = load_topic(5)

WIDTH, DEPTH, BATCH = 500, 10, 1000
CONFIGS = [  # (activation, init, label)
    ("tanh", 0.01, "tanh, N(0, 0.01²)"),
    ("tanh", 1.0, "tanh, N(0, 1) (saturated)"),
    ("tanh", "xavier", "tanh, Xavier"),
    ("relu", "xavier", "ReLU, Xavier"),
    ("relu", "kaiming", "ReLU, Kaiming"),
]
EXTRA_STD_CONFIGS = [("relu", 1.0, "ReLU, N(0, 1)")]  # only in the std plot: it explodes off any histogram
SHOWN_LAYERS = (1, 2, 4, 6, 8, 10)


def run_configs() -> dict:
    """{label: list of hidden activations (BATCH, WIDTH), one per layer} for every config."""
    x = np.random.default_rng(0).standard_normal((BATCH, WIDTH))
    sizes = [WIDTH] * (DEPTH + 1) + [10]
    return {label: t05.MLP(sizes, activation=act, init=init, seed=0).hidden_activations(x)
            for act, init, label in CONFIGS + EXTRA_STD_CONFIGS}


def plot_histograms(acts: dict, path: Path, dpi: int = 100) -> None:
    fig, axes = plt.subplots(len(CONFIGS), len(SHOWN_LAYERS), figsize=(13, 9.5))
    for r, (act, _init, label) in enumerate(CONFIGS):
        for c, layer in enumerate(SHOWN_LAYERS):
            ax = axes[r, c]
            h = np.asarray(acts[label][layer - 1]).ravel()
            std = float(h.std())
            if act == "tanh":
                values, span, color = h, (-1, 1), "tab:blue"
            else:                                # ReLU: half the values are exactly 0, show the positive part
                values, span, color = h[h > 0], (0, 3), "tab:orange"
            ax.hist(values, bins=40, range=span, color=color)
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            ax.set_title(f"layer {layer}: std {std:.2g}", fontsize=8)
            if c == 0:
                ax.set_ylabel(label, fontsize=10)
    fig.suptitle("Activations layer by layer (10 hidden layers of 500 units, 1000 N(0, 1) inputs; "
                 "ReLU rows: positive values only)", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_std_per_layer(acts: dict, path: Path) -> None:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    layers = np.arange(1, DEPTH + 1)
    for _act, _init, label in CONFIGS + EXTRA_STD_CONFIGS:
        stds = [max(float(np.std(h)), 1e-300) for h in acts[label]]
        ax.semilogy(layers, stds, marker="o", label=label)
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("std of the activations (log scale)")
    ax.set_title("Does the signal survive 10 layers?")
    ax.set_xticks(layers)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_softmax_temperature(path: Path) -> None:
    logits = np.array([3.0, 1.5, 0.5, 0.0, -1.0])
    temps = [0.25, 0.5, 1.0, 2.0, 5.0]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / len(temps)
    for k, T in enumerate(temps):
        p = np.asarray(t05.softmax(logits / T))
        ax1.bar(np.arange(len(logits)) + (k - len(temps) / 2 + 0.5) * width, p, width, label=f"T = {T:g}")
    ax1.set_xticks(range(len(logits)), [f"class {i}\nlogit {z:g}" for i, z in enumerate(logits)], fontsize=8)
    ax1.set_ylabel("probability")
    ax1.set_title("softmax(logits / T)")
    ax1.legend(fontsize=8)
    grid = np.logspace(-2, 2, 200)
    probs = np.asarray(t05.softmax(logits[None, :] / grid[:, None]))
    logp = np.asarray(t05.log_softmax(logits[None, :] / grid[:, None]))
    entropy = -(probs * logp).sum(axis=1)               # log_softmax keeps 0 * log 0 finite (0 * -large)
    ax2.semilogx(grid, entropy, color="tab:purple")
    ax2.axhline(np.log(len(logits)), ls="--", color="gray", label=f"uniform: ln {len(logits)} = {np.log(5):.2f}")
    ax2.set_xlabel("temperature T (log scale)")
    ax2.set_ylabel("entropy (nats)")
    ax2.set_title("T → 0: one-hot argmax,  T → ∞: uniform")
    ax2.legend(fontsize=8)
    ax2.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="output folder (default: ./outputs)")
    parser.add_argument("--asset", action="store_true", help="also refresh assets/activation_histograms.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    acts = run_configs()
    plot_histograms(acts, out / "activation_histograms.png")
    plot_std_per_layer(acts, out / "activation_std_per_layer.png")
    plot_softmax_temperature(out / "softmax_temperature.png")
    for _act, _init, label in CONFIGS + EXTRA_STD_CONFIGS:
        stds = " ".join(f"{float(np.std(h)):.2g}" for h in acts[label])
        print(f"{label:26s} std per layer: {stds}")
    if args.asset:
        plot_histograms(acts, HERE / "assets" / "activation_histograms.png", dpi=60)
        print(f"refreshed {HERE / 'assets' / 'activation_histograms.png'}")
    print(f"wrote activation_histograms.png, activation_std_per_layer.png, softmax_temperature.png to {out}")


if __name__ == "__main__":
    main()
