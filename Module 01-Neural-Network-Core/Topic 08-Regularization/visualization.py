"""Regularization at work on a small overfitting problem, and Adam + L2 against AdamW.

    python visualization.py                # writes outputs/regularization.png and outputs/adam_l2_vs_adamw.png
    python visualization.py --out DIR      # somewhere else
    DLFS_USE_MINE=8 python visualization.py    # the same figures with YOUR solution.py

The problem: a 3-arm spiral with 90 training points, 15% of their labels flipped at random, and a network
far larger than the data (2 -> 96 -> 96 -> 3, Topic 06 layers, Topic 03's Adam). Without regularization it
memorises the flipped labels: the training loss goes to zero while the validation loss climbs. Three runs
from the same initial weights:
    none      plain cross-entropy
    L2        cross-entropy + l2_penalty(weights, lam) (the gradient lam * W added to every weight's grad)
    dropout   Dropout(p) after each hidden ReLU (switched off by model.eval() for every evaluation)
An EarlyStopping(patience) watches the unregularized run: the figure marks where it stops and which epoch
it restores.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # tiny matrices: a second BLAS thread costs more than it saves
import matplotlib  # noqa: E402
import numpy as np  # noqa: E402

from dlfs.components import load_topic

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

reg = load_topic(8)      # this topic: l2_penalty, Dropout, EarlyStopping, adam_l2_vs_adamw
layers = load_topic(6)   # Linear, ReLU, Sequential, softmax_cross_entropy
optim = load_topic(3)    # Adam

HERE = Path(__file__).resolve().parent
COLORS = {"none": "#d62728", "L2": "#1f77b4", "dropout": "#2ca02c"}
LAM, P_DROP, PATIENCE, EPOCHS, HIDDEN = 1e-2, 0.5, 30, 500, 96


def spiral(n_per_class, rng, classes=3, angle_noise=0.3, label_noise=0.15):
    """Points on `classes` spiral arms; a fraction label_noise of the labels is redrawn at random."""
    X, y = [], []
    for c in range(classes):
        r = rng.uniform(0.15, 1.0, n_per_class)
        t = c * 2 * np.pi / classes + 5.0 * r + angle_noise * rng.standard_normal(n_per_class)
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        y.append(np.full(n_per_class, c))
    X, y = np.concatenate(X), np.concatenate(y)
    flip = rng.random(len(y)) < label_noise
    y[flip] = rng.integers(0, classes, int(flip.sum()))
    return X, y


def build_model(p_drop, seed=1):
    rng = np.random.default_rng(seed)  # same seed, same initial weights for every run
    stack = [layers.Linear(2, HIDDEN, rng=rng), layers.ReLU()]
    if p_drop:
        stack.append(reg.Dropout(p_drop, rng=rng))
    stack += [layers.Linear(HIDDEN, HIDDEN, rng=rng), layers.ReLU()]
    if p_drop:
        stack.append(reg.Dropout(p_drop, rng=rng))
    stack.append(layers.Linear(HIDDEN, 3, rng=rng))
    return layers.Sequential(*stack)


def train(train_set, val_set, lam=0.0, p_drop=0.0, stopper=None):
    """Full-batch Adam for EPOCHS epochs; returns (model, history). The stopper only observes: training goes on
    to the end so the figure can show what early stopping avoided."""
    (x, y), (x_val, y_val) = train_set, val_set
    model = build_model(p_drop)
    weights = [layer.weight for layer in model.layers if isinstance(layer, layers.Linear)]  # not the biases
    opt = optim.Adam(model.parameters(), lr=0.01)
    history = {"train": [], "val": [], "stop_epoch": None}
    for epoch in range(EPOCHS):
        model.train()
        opt.zero_grad()
        _, dlogits = layers.softmax_cross_entropy(model.forward(x), y)
        model.backward(dlogits)
        if lam:
            _, grads = reg.l2_penalty([w.data for w in weights], lam)
            for w, g in zip(weights, grads):
                w.grad += g
        opt.step()
        model.eval()  # measure without dropout: eval mode is the identity
        history["train"].append(layers.softmax_cross_entropy(model.forward(x), y)[0])
        history["val"].append(layers.softmax_cross_entropy(model.forward(x_val), y_val)[0])
        if stopper is not None and history["stop_epoch"] is None and stopper.step(history["val"][-1],
                                                                                   model.parameters()):
            history["stop_epoch"] = epoch
    return model, history


def accuracy(model, x, y):
    model.eval()
    return float(np.mean(np.argmax(model.forward(x), axis=1) == y))


def plot_regions(ax, model, x, y, title):
    grid = np.linspace(-1.15, 1.15, 160)
    gx, gy = np.meshgrid(grid, grid)
    model.eval()
    labels = np.argmax(model.forward(np.stack([gx.ravel(), gy.ravel()], axis=1)), axis=1).reshape(gx.shape)
    cmap = matplotlib.colors.ListedColormap(["#fbb4ae", "#b3cde3", "#ccebc5"])
    ax.pcolormesh(gx, gy, labels, cmap=cmap, shading="auto", vmin=0, vmax=2)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap=matplotlib.colors.ListedColormap(["#e41a1c", "#377eb8", "#4daf4a"]),
               s=14, edgecolors="k", linewidths=0.4, vmin=0, vmax=2)
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal")


def regularization_figure(out_dir, assets_dir=None):
    """Loss curves with the early-stopping point, weight histograms, decision regions. Returns (paths, numbers)."""
    rng = np.random.default_rng(0)
    train_set, val_set = spiral(30, rng), spiral(200, rng)
    stopper = reg.EarlyStopping(patience=PATIENCE, restore_best=False)
    runs = {"none": train(train_set, val_set, stopper=stopper),
            "L2": train(train_set, val_set, lam=LAM),
            "dropout": train(train_set, val_set, p_drop=P_DROP)}
    labels = {"none": "no regularization", "L2": f"L2, lam = {LAM:g}", "dropout": f"dropout, p = {P_DROP}"}
    numbers = {name: {"train_loss": hist["train"][-1], "val_loss": hist["val"][-1],
                      "best_val_loss": min(hist["val"]), "val_acc": accuracy(model, *val_set)}
               for name, (model, hist) in runs.items()}

    fig = plt.figure(figsize=(15, 8.4))
    grid = fig.add_gridspec(2, 4, height_ratios=[1.15, 1], hspace=0.3, wspace=0.22)

    ax = fig.add_subplot(grid[0, :3])
    epochs = np.arange(EPOCHS)
    for name, (_, hist) in runs.items():
        ax.plot(epochs, hist["train"], "--", color=COLORS[name], lw=1.2, alpha=0.8, label=f"{labels[name]}: train")
        ax.plot(epochs, hist["val"], "-", color=COLORS[name], lw=2, label=f"{labels[name]}: validation")
    stop, best = runs["none"][1]["stop_epoch"], stopper.best_epoch
    ax.axvline(stop, color="k", ls=":", lw=1.2)
    ax.plot(best, stopper.best, "k*", ms=14, zorder=5)
    ax.annotate(f"early stopping (patience {PATIENCE}) on the unregularized run:\n"
                f"stops at epoch {stop}, restores epoch {best} (val loss {stopper.best:.2f})",
                xy=(best, stopper.best), xytext=(stop + 40, 2.6), fontsize=9,
                bbox={"boxstyle": "round", "fc": "white", "ec": "0.6", "alpha": 0.9},
                arrowprops={"arrowstyle": "->", "color": "k"})
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss (log scale)")
    ax.set_title("90 training points (15% wrong labels), a 2-96-96-3 network, full-batch Adam", fontsize=10)
    ax.legend(fontsize=8, ncol=3, loc="lower left")
    ax.grid(alpha=0.3, which="both")

    ax = fig.add_subplot(grid[0, 3])
    bins = np.linspace(-0.8, 0.8, 65)
    for name in ("none", "L2"):
        w = runs[name][0].layers[2].weight.data.ravel()  # the hidden 96 x 96 layer
        ax.hist(w, bins=bins, histtype="step" if name == "none" else "stepfilled", lw=1.6,
                alpha=1.0 if name == "none" else 0.45, color=COLORS[name], label=f"{labels[name]}\nstd {w.std():.3f}")
    ax.set_yscale("log")
    ax.set_ylim(0.7, 3e4)  # room for the legend above the bars
    ax.set_xlabel("weight value (96 x 96 hidden layer)")
    ax.set_ylabel("count (log scale)")
    ax.set_title(f"weights after {EPOCHS} epochs", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")

    none_model = runs["none"][0]
    plot_regions(fig.add_subplot(grid[1, 0]), none_model, *train_set,
                 f"no regularization, epoch {EPOCHS}\nvalidation accuracy {numbers['none']['val_acc']:.0%}")
    stopper.restore(none_model.parameters())  # the best epoch's weights, copied back in place
    numbers["early_stopping"] = {"stop_epoch": stop, "best_epoch": best, "best_val_loss": stopper.best,
                                 "val_acc": accuracy(none_model, *val_set)}
    plot_regions(fig.add_subplot(grid[1, 1]), none_model, *train_set,
                 f"early stopping: weights of epoch {best}\n"
                 f"validation accuracy {numbers['early_stopping']['val_acc']:.0%}")
    for k, name in enumerate(("L2", "dropout"), start=2):
        plot_regions(fig.add_subplot(grid[1, k]), runs[name][0], *train_set,
                     f"{labels[name]}, epoch {EPOCHS}\nvalidation accuracy {numbers[name]['val_acc']:.0%}")
    fig.suptitle("Topic 08: L2, dropout and early stopping against overfitting (dots: the training set)", fontsize=12)
    paths = [Path(out_dir) / "regularization.png"]
    fig.savefig(paths[0], dpi=110, bbox_inches="tight")
    if assets_dir is not None:
        paths.append(Path(assets_dir) / "regularization.png")
        fig.savefig(paths[-1], dpi=72, bbox_inches="tight")
    plt.close(fig)
    return paths, numbers


def noisy_decay(optimizer_class, sigmas, wd, lr, steps, width=200, seed=0):
    """Weights whose loss gradient is pure noise of scale sigma (one row of `width` weights per sigma), all
    starting at 1: only the weight decay moves them on average.

    Returns the mean weight of each row after every step, shape (steps + 1, len(sigmas)).
    """
    rng = np.random.default_rng(seed)
    param = optim.Parameter(np.ones((len(sigmas), width)))
    opt = optimizer_class([param], lr=lr, weight_decay=wd)
    scale = np.asarray(sigmas, dtype=float)[:, None]
    means = [param.data.mean(axis=1)]
    for _ in range(steps):
        param.grad[...] = scale * rng.standard_normal(param.data.shape)
        opt.step()
        means.append(param.data.mean(axis=1))
    return np.array(means)


def adam_figure(out_dir):
    """Top: Adam + L2 vs AdamW on 0.5 * sum(h * (w - 1)^2), curvatures 100, 1, 0.01, starting at the minimum w = 1.
    Bottom: the same two optimizers when the loss gradient is noise of three different scales."""
    curvature, wd, lr, steps = np.array([100.0, 1.0, 0.01]), 0.1, 0.01, 1500
    w0 = target = np.ones(3)
    path_l2, path_w = reg.adam_l2_vs_adamw(w0, curvature, target, steps=steps, lr=lr, wd=wd)
    sgd_path = [w0]
    for _ in range(steps):  # SGD + L2 (identical to SGD + decoupled decay), a step size stable for h = 100
        sgd_path.append(reg.sgd_step_l2(sgd_path[-1], curvature * (sgd_path[-1] - target), 0.009, wd))
    sgd_path = np.array(sgd_path)

    fig = plt.figure(figsize=(14, 8.6))
    grid = fig.add_gridspec(2, 6, hspace=0.42, wspace=0.5)
    for k in range(3):
        ax = fig.add_subplot(grid[0, 2 * k:2 * k + 2])
        optimum = curvature[k] * target[k] / (curvature[k] + wd)
        ax.plot(path_l2[:, k], color="#1f77b4", lw=2, label="Adam(weight_decay): L2 added to the gradient")
        ax.plot(path_w[:, k], color="#ff7f0e", lw=2, label="AdamW(weight_decay): decoupled decay")
        ax.plot(sgd_path[:, k], color="0.4", lw=1.2, ls="--", label="SGD + L2 (= SGD + decoupled decay)")
        ax.axhline(optimum, color="k", ls=":", lw=1, label="minimum of loss + 0.5 wd ||w||^2")
        ax.set_title(f"curvature h = {curvature[k]:g}\nL2 optimum h / (h + wd) = {optimum:.3f}", fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(0, 1.08)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.set_ylabel("weight")
            ax.legend(fontsize=7.5, loc="lower left")

    sigmas, colors = (10.0, 1.0, 0.1), ("#762a83", "#1b7837", "#e08214")
    decay_only = (1 - lr * wd) ** np.arange(steps + 1)
    for k, (optimizer_class, title) in enumerate(((optim.Adam, "Adam + L2: the decay is divided by sqrt(v) ~ sigma"),
                                                  (optim.AdamW, "AdamW: every weight decays as (1 - lr wd)^t"))):
        ax = fig.add_subplot(grid[1, 3 * k:3 * k + 3])
        means = noisy_decay(optimizer_class, sigmas, wd, lr, steps)
        for j, sigma in enumerate(sigmas):
            ax.plot(means[:, j], color=colors[j], lw=2, label=f"gradient noise sigma = {sigma:g}")
        ax.plot(decay_only, "k:", lw=1.2, label="(1 - lr * wd)^t")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(-0.05, 1.08)
        ax.grid(alpha=0.3)
        if k == 0:
            ax.set_ylabel("mean of 200 weights")
        ax.legend(fontsize=8, loc="center right")
    fig.suptitle(f"Adam + L2 is not AdamW (wd = {wd}, lr = {lr}). Top: a noise-free quadratic; Adam + L2 finds the L2 "
                 "optimum, AdamW's decay of lr * wd * w per step\nloses against Adam's normalized steps of ~lr. "
                 "Bottom: noisy gradients with no signal; how fast Adam + L2 decays depends on the gradient scale, "
                 "AdamW's does not.", fontsize=10, y=0.995)
    path = Path(out_dir) / "adam_l2_vs_adamw.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(HERE / "outputs"), help="directory for the PNGs (default: ./outputs)")
    parser.add_argument("--assets", action="store_true", help="also refresh assets/regularization.png")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    paths, numbers = regularization_figure(out_dir, HERE / "assets" if args.assets else None)
    paths.append(adam_figure(out_dir))
    for name in ("none", "L2", "dropout"):
        n = numbers[name]
        print(f"{name:>8}: train loss {n['train_loss']:.3f}, val loss {n['val_loss']:.3f} "
              f"(best {n['best_val_loss']:.3f}), val accuracy {n['val_acc']:.1%}")
    e = numbers["early_stopping"]
    print(f"early stopping: stop at epoch {e['stop_epoch']}, best epoch {e['best_epoch']}, "
          f"val loss {e['best_val_loss']:.3f}, val accuracy {e['val_acc']:.1%}")
    for path in paths:
        print(f"wrote {path}")
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
