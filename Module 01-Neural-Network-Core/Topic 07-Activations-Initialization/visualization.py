"""Topic 07 figures: the activation functions and their derivatives, what initialisation does to each of them
in a deep network, and how a too-large learning rate kills ReLU units.

    python visualization.py                 # writes PNGs to outputs/ next to this file
    python visualization.py --out /tmp/t07  # somewhere else
    python visualization.py --asset         # also refresh assets/init_comparison.png (shown by the README)

1. activations.png - ReLU, LeakyReLU, ELU, SiLU, GELU (exact and tanh) on one panel, their derivatives on a
   second; the dots mark the derivative AT 0 that PyTorch's autograd uses at the kinks.
2. init_comparison.png - compare_initializations: the std of every layer's activations (log scale) through
   10 layers of 256 units, one panel per activation, one line per init (Xavier, Kaiming, N(0, 1)).
3. activation_histograms.png - the distribution of the activations at layers 1, 4, 7 and 10, one row per
   (activation, init) pair.
4. dead_neurons.png - dead_relu_experiment over 5 seeds: the fraction of hidden units dead (ReLU) or in the
   negative region (LeakyReLU) after a burst of large steps, after a negative bias, and at a sane lr.

The functions come from load_topic(7): the level-2 reference, or your own solution.py with DLFS_USE_MINE=7.
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

t07 = load_topic(7)

ACTIVATIONS = ("relu", "leaky_relu", "elu", "silu", "gelu", "tanh")
INITS = (("xavier", "Xavier (gain 1)"), ("kaiming", "Kaiming (activation's gain)"), (1.0, "N(0, 1)"))
DEPTH, WIDTH, BATCH = 10, 256, 512
COLORS = {"xavier": "tab:blue", "kaiming": "tab:green", 1.0: "tab:red"}


def plot_activations(path: Path) -> None:
    x = np.linspace(-4, 3, 701)
    curves = [  # (label, forward, derivative, derivative at 0, color)
        ("ReLU", t07.relu, t07.relu_grad, 0.0, "black"),
        ("LeakyReLU (slope 0.1)", lambda v: t07.leaky_relu(v, 0.1), lambda v: t07.leaky_relu_grad(v, 0.1), 0.1,
         "tab:orange"),
        ("ELU (alpha 1)", t07.elu, t07.elu_grad, 1.0, "tab:green"),
        ("SiLU / Swish", t07.silu, t07.silu_grad, 0.5, "tab:red"),
        ("GELU (exact)", t07.gelu, t07.gelu_grad, 0.5, "tab:blue"),
        ("GELU (tanh)", lambda v: t07.gelu(v, "tanh"), lambda v: t07.gelu_grad(v, "tanh"), 0.5, "tab:cyan"),
    ]
    fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(12, 4.6))
    for label, f, df, d0, color in curves:
        style = "--" if "tanh" in label else "-"
        ax_f.plot(x, np.asarray(f(x)), style, color=color, lw=1.8, label=label)
        ax_d.plot(x, np.asarray(df(x)), style, color=color, lw=1.8, label=label)
        ax_d.plot([0], [d0], "o", color=color, ms=5)
    ax_f.set(title="Activations f(x)", xlabel="x", ylabel="f(x)", ylim=(-1.2, 3))
    ax_d.set(title="Derivatives f'(x)  (dots: the value used at x = 0)", xlabel="x", ylabel="f'(x)", ylim=(-0.2, 1.2))
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="grey", lw=0.6)
        ax.axvline(0, color="grey", lw=0.6)
        ax.grid(alpha=0.3)
    ax_f.legend(loc="upper left", fontsize=9)
    ax_d.annotate("SiLU and GELU dip below 0:\nnegative slope for x < -1.28 / -0.75", xy=(-1.3, -0.1),
                  xytext=(-3.9, 0.55), fontsize=8, arrowprops={"arrowstyle": "->", "color": "grey"})
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_init_comparison(table: dict, path: Path, dpi: int = 110) -> None:
    fig, axes = plt.subplots(2, 3, figsize=(12.5, 6.8), sharex=True)
    layers = np.arange(1, DEPTH + 1)
    for ax, act in zip(axes.ravel(), ACTIVATIONS):
        for init, label in INITS:
            stds = [s for _, s in table[(act, init)]]
            ax.semilogy(layers, stds, "o-", ms=3.5, color=COLORS[init], label=label)
            if stds[-1] > 30:                                   # off the top of the panel: say where it went
                ax.annotate(f"N(0, 1): x{stds[1] / stds[0]:.0f} per layer,\n{stds[-1]:.1e} at layer {DEPTH}",
                            xy=(2.2, 25), xytext=(3.2, 6), fontsize=8, color=COLORS[init],
                            arrowprops={"arrowstyle": "->", "color": COLORS[init]})
            elif init == 1.0 and act == "tanh":
                ax.text(5.5, 1.6, "N(0, 1): saturated at +-1", fontsize=8, color=COLORS[init], ha="center")
        ax.axhspan(0.5, 2.0, color="grey", alpha=0.15, lw=0)
        ax.set_title(act, fontsize=11)
        ax.set_ylim(1e-3, 30)
        ax.grid(alpha=0.3, which="major")
    for ax in axes[1]:
        ax.set_xlabel("layer")
        ax.set_xticks(layers)
    for ax in axes[:, 0]:
        ax.set_ylabel("std of the activations")
    axes[0, 0].legend(fontsize=8, loc="lower left")
    fig.suptitle(f"Activation std per layer: {DEPTH} layers of {WIDTH} units, {BATCH} N(0, 1) inputs, zero biases "
                 f"(grey band: std 0.5 to 2)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


def plot_histograms(path: Path) -> None:
    x = np.random.default_rng(1).standard_normal((BATCH, WIDTH))
    rows = [("relu", "xavier"), ("relu", "kaiming"), ("elu", "kaiming"), ("silu", "kaiming"), ("gelu", "kaiming")]
    shown = (1, 4, 7, 10)
    fig, axes = plt.subplots(len(rows), len(shown), figsize=(11, 9), sharey="row")
    for r, (act, init) in enumerate(rows):
        hs = t07.forward_activations([WIDTH] * (DEPTH + 1), act, init, x, seed=0)
        lo = min(float(np.percentile(hs[k - 1], 0.5)) for k in shown)
        hi = max(float(np.percentile(hs[k - 1], 99.5)) for k in shown)
        for c, layer in enumerate(shown):
            h = np.asarray(hs[layer - 1]).ravel()
            ax = axes[r, c]
            counts, edges = np.histogram(h, bins=60, range=(lo, hi))
            ax.stairs(np.maximum(counts, 0.8), edges, baseline=0.8, fill=True, color=COLORS[init], alpha=0.8)
            ax.set_yscale("log")
            ax.set_title(f"{act}, {init}: layer {layer}\nmean {h.mean():.2g}, std {h.std():.2g}", fontsize=8.5)
            ax.tick_params(labelsize=7)
            if c == 0:
                ax.set_ylabel("count (log)", fontsize=8)
    fig.suptitle("Where the activations live, layer by layer (a spike at 0 = units switched off)", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_dead_neurons(path: Path, seeds=range(5)) -> dict:
    settings = [("lr 0.5\n(sane)", {"lr": 0.5}), ("10 steps at lr 10,\nthen lr 0.5", {"lr": 10.0}),
                ("bias -3 at init,\nlr 0.5", {"lr": 0.5, "bias_init": -3.0})]
    series = [("ReLU: dead units", "relu", "dead_at_end", 0.1, "black"),
              ("LeakyReLU(0.1): units with z <= 0", "leaky_relu", "negative_at_end", 0.1, "tab:orange"),
              ("LeakyReLU(0.01): units with z <= 0", "leaky_relu", "negative_at_end", 0.01, "tab:olive"),
              ("LeakyReLU (either slope): dead units", "leaky_relu", "dead_at_end", 0.1, "tab:green")]
    runs = {(name, slope): [t07.dead_relu_experiment(negative_slope=slope, seed=s, **kw) for s in seeds]
            for name, kw in settings for slope in (0.1, 0.01)}
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.2
    summary = {}
    for i, (label, variant, key, slope, color) in enumerate(series):
        values = np.array([[r[variant][key] for r in runs[(name, slope)]] for name, _ in settings])
        mean = values.mean(axis=1)
        summary[label] = mean
        xs = np.arange(len(settings)) + (i - 1.5) * width
        ax.bar(xs, 100 * mean, width, color=color, label=label,
               yerr=[100 * (mean - values.min(axis=1)), 100 * (values.max(axis=1) - mean)], capsize=3)
        for xv, m, top in zip(xs, mean, values.max(axis=1)):
            ax.text(xv, 100 * top + 1.5, f"{100 * m:.0f}%", ha="center", fontsize=8)
    ax.set_xticks(np.arange(len(settings)))
    ax.set_xticklabels([name for name, _ in settings])
    ax.set_ylabel("% of the 32 hidden units (after training)")
    ax.set_ylim(0, 100)
    ax.set_title(f"Dead ReLUs: Linear(8, 32) -> act -> Linear(32, 3), {len(seeds)} seeds (bars: mean, whiskers: range)",
                 fontsize=10.5)
    ax.legend(fontsize=8.5, loc="upper left")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return summary


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="output folder (default: ./outputs)")
    parser.add_argument("--asset", action="store_true", help="also refresh assets/init_comparison.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    plot_activations(out / "activations.png")
    table = t07.compare_initializations(activations=ACTIVATIONS, inits=[i for i, _ in INITS], depth=DEPTH,
                                        width=WIDTH, batch=BATCH, seed=0)
    plot_init_comparison(table, out / "init_comparison.png")
    print("std at layer 1 -> layer 10:")
    for (act, init), stats in table.items():
        print(f"  {act:>10}, {str(init):>7}: {stats[0][1]:9.3g} -> {stats[-1][1]:9.3g}")
    plot_histograms(out / "activation_histograms.png")
    summary = plot_dead_neurons(out / "dead_neurons.png")
    print("dead-neuron experiment, mean over 5 seeds (settings: lr 0.5, burst at lr 10, bias -3):")
    for label, mean in summary.items():
        print(f"  {label:<36} " + "  ".join(f"{100 * m:4.0f}%" for m in mean))
    if args.asset:
        assets = HERE / "assets"
        assets.mkdir(exist_ok=True)
        plot_init_comparison(table, assets / "init_comparison.png", dpi=72)
        print(f"wrote {assets / 'init_comparison.png'}")
    print(f"wrote 4 figures to {out}")


if __name__ == "__main__":
    main()
