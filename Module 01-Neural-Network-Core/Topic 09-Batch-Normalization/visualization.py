"""Batch normalization, seen: activations through a deep MLP, running statistics, train vs eval.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    bn_deep_mlp.png        pre-activation distributions layer by layer in an 8-layer ReLU MLP, with and
                           without BatchNorm1d, at initialisation and after training; the training losses
    bn_running_stats.png   running mean / variance converging (two momenta; unbiased vs biased variance)
                           and one sample's output in train mode (depends on the batch) vs eval mode

The layers come from the curriculum: Linear, ReLU, Sequential and softmax_cross_entropy from Topic 06,
SGD from Topic 03 and BatchNorm1d from this topic (your own with DLFS_USE_MINE=9).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlfs.components import load_topic

bn = load_topic(9)
nn = load_topic(6)
optim = load_topic(3)

HERE = Path(__file__).resolve().parent
DEPTH, WIDTH, CLASSES = 8, 64, 3


def spirals(n_per_class=300, seed=0):
    """Three interleaved 2-D spirals (CS231n's toy problem): x (3n, 2) float64, y (3n,) int."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for k in range(CLASSES):
        r = np.linspace(0.05, 1.0, n_per_class)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, n_per_class) + rng.normal(0, 0.2, n_per_class)
        xs.append(np.c_[r * np.sin(t), r * np.cos(t)])
        ys.append(np.full(n_per_class, k))
    return np.concatenate(xs), np.concatenate(ys)


def build_mlp(use_bn, seed):
    """Linear -> [BatchNorm1d] -> ReLU, DEPTH times, then a Linear classifier. Xavier init (too small for ReLU)."""
    rng = np.random.default_rng(seed)
    layers, fan_in = [], 2
    for _ in range(DEPTH):
        layers.append(nn.Linear(fan_in, WIDTH, rng=rng, init="xavier"))
        if use_bn:
            layers.append(bn.BatchNorm1d(WIDTH))
        layers.append(nn.ReLU())
        fan_in = WIDTH
    layers.append(nn.Linear(fan_in, CLASSES, rng=rng, init="xavier"))
    return nn.Sequential(*layers)


def pre_activations(model, x):
    """The input of every ReLU (after BatchNorm1d when there is one), one (N, WIDTH) array per layer."""
    seen = []
    for layer in model.layers:
        if isinstance(layer, nn.ReLU):
            seen.append(x.copy())
        x = layer.forward(x)
    return seen


def train(model, x, y, steps=400, batch=64, lr=0.1, seed=0):
    rng = np.random.default_rng(seed)
    opt = optim.SGD(model.parameters(), lr=lr)  # plain SGD, the same learning rate for both networks
    losses = []
    model.train()
    for _ in range(steps):
        idx = rng.choice(len(x), size=batch, replace=False)
        loss, dlogits = nn.softmax_cross_entropy(model.forward(x[idx]), y[idx])
        opt.zero_grad()
        model.backward(dlogits)
        opt.step()
        losses.append(loss)
    return np.array(losses)


def accuracy(model, x, y):
    model.eval()
    acc = float((model.forward(x).argmax(axis=1) == y).mean())
    model.train()
    return acc


def plot_deep_mlp(paths):
    x, y = spirals()
    probe = x[np.random.default_rng(1).choice(len(x), 128, replace=False)]
    runs = {}
    for use_bn in (False, True):
        model = build_mlp(use_bn, seed=0)  # both nets start from the same Linear weights
        before = pre_activations(model, probe)  # train mode: BatchNorm1d uses the probe batch's statistics
        losses = train(model, x, y)
        after = pre_activations(model, probe)
        runs[use_bn] = dict(before=before, after=after, losses=losses, acc=accuracy(model, x, y))

    fig = plt.figure(figsize=(12, 7.2))
    grid = fig.add_gridspec(2, 3, hspace=0.38, wspace=0.28)
    layers = np.arange(1, DEPTH + 1)
    for col, use_bn in enumerate((False, True)):
        ax = fig.add_subplot(grid[0, col])
        data = [a.ravel() for a in runs[use_bn]["before"]]
        parts = ax.violinplot(data, positions=layers, showextrema=False, widths=0.85)
        for body in parts["bodies"]:
            body.set_facecolor("tab:blue" if use_bn else "tab:red")
            body.set_alpha(0.55)
        ax.set_xticks(layers)
        ax.set_xlabel("hidden layer")
        ax.set_ylabel("pre-activation value (input of ReLU)")
        title = "with BatchNorm1d" if use_bn else "without BatchNorm"
        ax.set_title(f"At initialisation, {title}", fontsize=10)
        lim = max(np.percentile(np.abs(np.concatenate(data)), 99.5), 1e-3)
        ax.set_ylim(-lim, lim)
        ax.grid(alpha=0.3)

    ax = fig.add_subplot(grid[0, 2])
    for use_bn, color in ((False, "tab:red"), (True, "tab:blue")):
        label = "with BN" if use_bn else "without BN"
        ax.plot(layers, [a.std() for a in runs[use_bn]["before"]], "o-", color=color, label=f"{label}, at init")
        ax.plot(layers, [a.std() for a in runs[use_bn]["after"]], "s--", color=color, alpha=0.7,
                label=f"{label}, after training")
    ax.set_yscale("log")
    ax.set_xticks(layers)
    ax.set_xlabel("hidden layer")
    ax.set_ylabel("std of pre-activations (log scale)")
    ax.set_title("Scale of the signal through the depth", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")

    ax = fig.add_subplot(grid[1, :2])
    window = 20
    for use_bn, color in ((False, "tab:red"), (True, "tab:blue")):
        losses = runs[use_bn]["losses"]
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        label = "with BatchNorm1d" if use_bn else "without BatchNorm"
        ax.plot(losses, color=color, alpha=0.2)
        ax.plot(np.arange(window - 1, len(losses)), smooth, color=color,
                label=f"{label} (train accuracy in eval mode: {100 * runs[use_bn]['acc']:.0f}%)")
    ax.axhline(np.log(CLASSES), color="gray", linestyle=":", label="chance level, ln 3")
    ax.set_xlabel("SGD step (batch 64, lr 0.1, no momentum)")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(f"Training an {DEPTH}-layer ReLU MLP (width {WIDTH}, Xavier init) on 3 spirals", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)

    ax = fig.add_subplot(grid[1, 2])
    xs, ys = spirals()
    ax.scatter(xs[:, 0], xs[:, 1], c=ys, cmap="brg", s=5)
    ax.set_title("The data: 3 spirals, 900 points", fontsize=10)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.suptitle("BatchNorm1d keeps every layer's inputs at unit scale: the same net and the same SGD train "
                 "much faster", fontsize=12)
    for path in paths:
        fig.savefig(path, dpi=72, bbox_inches="tight")
    plt.close(fig)
    return runs


def plot_running_stats(path):
    rng = np.random.default_rng(0)
    true_mean, true_std = 3.0, 2.0
    steps = 300
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))

    ax = axes[0]
    for momentum, color in ((0.1, "tab:blue"), (0.01, "tab:orange")):
        layer = bn.BatchNorm1d(1, momentum=momentum)
        trace = []
        for _ in range(steps):
            layer.forward(rng.normal(true_mean, true_std, size=(32, 1)))
            trace.append(float(layer.running_mean[0]))
        ax.plot(trace, color=color, label=f"momentum = {momentum} (averages ~{int(1 / momentum)} batches)")
    ax.axhline(true_mean, color="k", linestyle="--", label="true mean")
    ax.set_xlabel("training step (batch of 32)")
    ax.set_ylabel("running_mean")
    ax.set_title("running = (1 - momentum) running + momentum batch_mean", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[1]
    N = 4
    layer = bn.BatchNorm1d(1, momentum=0.02)
    biased = 1.0
    unbiased_trace, biased_trace = [], []
    for _ in range(steps):
        batch = rng.normal(true_mean, true_std, size=(N, 1))
        layer.forward(batch)
        biased = 0.98 * biased + 0.02 * float(batch.var())
        unbiased_trace.append(float(layer.running_var[0]))
        biased_trace.append(biased)
    ax.plot(unbiased_trace, color="tab:blue", label="unbiased: var * N/(N-1) (PyTorch)")
    ax.plot(biased_trace, color="tab:red", alpha=0.8, label="biased: var (the classic mistake)")
    ax.axhline(true_std ** 2, color="k", linestyle="--", label=f"true variance {true_std ** 2:g}")
    ax.axhline(true_std ** 2 * (N - 1) / N, color="tab:red", linestyle=":", label=f"(N-1)/N of it, N = {N}")
    ax.set_xlabel(f"training step (batch of {N}, momentum 0.02)")
    ax.set_ylabel("running_var")
    ax.set_title("Small batches: why running_var stores the unbiased variance", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[2]
    layer = bn.BatchNorm1d(1)
    for _ in range(200):
        layer.forward(rng.normal(true_mean, true_std, size=(32, 1)))
    sample = np.array([[true_mean + 1.5 * true_std]])
    train_outputs = []
    for _ in range(500):  # the same sample inside 500 different batches, in train mode (stats saved and restored)
        saved = layer.state_dict()
        batch = np.vstack([sample, rng.normal(true_mean, true_std, size=(15, 1))])
        train_outputs.append(float(layer.forward(batch)[0, 0]))
        layer.load_state_dict(saved)
    layer.eval()
    eval_output = float(layer.forward(sample)[0, 0])
    ax.hist(train_outputs, bins=40, color="tab:purple", alpha=0.7, label="train mode: 500 batches of 16")
    ax.axvline(eval_output, color="k", linewidth=2, label=f"eval mode: always {eval_output:.3f}")
    ax.set_xlabel("output of BatchNorm1d for the sample x = mean + 1.5 std")
    ax.set_ylabel("count")
    ax.set_title("Train mode depends on the batch, eval mode does not", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG files")
    parser.add_argument("--asset", action="store_true", help="also refresh assets/bn_deep_mlp.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "bn_deep_mlp.png"]
    if args.asset:
        (HERE / "assets").mkdir(exist_ok=True)
        paths.append(HERE / "assets" / "bn_deep_mlp.png")
    runs = plot_deep_mlp(paths)
    for use_bn in (False, True):
        stds = ", ".join(f"{a.std():.3f}" for a in runs[use_bn]["before"])
        print(f"{'with' if use_bn else 'without'} BN: pre-activation std per layer at init [{stds}]; "
              f"final loss {runs[use_bn]['losses'][-20:].mean():.3f}, accuracy {100 * runs[use_bn]['acc']:.0f}%")
    plot_running_stats(out / "bn_running_stats.png")
    print(f"wrote {out / 'bn_deep_mlp.png'} and {out / 'bn_running_stats.png'}")


if __name__ == "__main__":
    main()
