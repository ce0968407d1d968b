"""See what one neuron can and cannot draw.

    python visualization.py                 # PNGs into ./outputs/
    python visualization.py --out DIR       # PNGs into DIR
    python visualization.py --assets        # also refresh assets/decision_boundaries.png (the README figure)
    DLFS_USE_MINE=4 python visualization.py # the same pictures from your own solution.py

Figures:
  decision_boundaries.png  the perceptron's line on separable data; the perceptron and logistic
                           regression failing on XOR; the 2-layer net's curved boundary, with the
                           line each hidden tanh unit draws (dashed)
  training_curves.png      mistakes per epoch of the perceptron, and the losses of logistic
                           regression and of the 2-layer net, on separable data and on XOR
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
from dlfs.components import load_topic

COLORS = np.array(["#1f77b4", "#d62728"])  # class 0 blue, class 1 red


def draw_points(ax, X, y):
    ax.scatter(X[:, 0], X[:, 1], c=COLORS[y], s=14, edgecolors="white", linewidths=0.4, zorder=3)


def draw_line(ax, w, b, xlim, **style):
    """The line w . x + b = 0 across the x-range (vertical if w[1] is 0)."""
    w = np.asarray(w, dtype=float)
    if abs(w[1]) > 1e-12:
        xs = np.array(xlim)
        ax.plot(xs, -(w[0] * xs + b) / w[1], **style)
    elif abs(w[0]) > 1e-12:
        ax.axvline(-b / w[0], **style)


def grid(xlim, ylim, steps=200):
    xx, yy = np.meshgrid(np.linspace(*xlim, steps), np.linspace(*ylim, steps))
    return xx, yy, np.column_stack([xx.ravel(), yy.ravel()])


def draw_probability(ax, xx, yy, probs):
    ax.contourf(xx, yy, probs.reshape(xx.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.contour(xx, yy, probs.reshape(xx.shape), levels=[0.5], colors="black", linewidths=1.5)


def draw_regions(ax, xx, yy, labels):
    """Shade the area the model calls class 0 (blue) and class 1 (red)."""
    ax.contourf(xx, yy, labels.reshape(xx.shape), levels=[-0.5, 0.5, 1.5], colors=COLORS, alpha=0.15)


def accuracy(pred, y):
    return float(np.mean(np.asarray(pred) == y))


def decision_boundaries(topic, out_paths):
    X_sep, y_sep = topic.make_linearly_separable(150, seed=1, margin=0.3)
    X_xor, y_xor = topic.make_xor(n_per_corner=30, noise=0.12, seed=0)

    fig, axes = plt.subplots(2, 2, figsize=(9.4, 8.6))
    lim_sep, lim_xor = (-2.1, 2.1), (-0.5, 1.5)

    ax = axes[0, 0]
    w, b, errors = topic.perceptron_train(X_sep, y_sep, seed=0)
    xx, yy, points = grid(lim_sep, lim_sep)
    draw_regions(ax, xx, yy, topic.perceptron_predict(points, w, b))
    draw_points(ax, X_sep, y_sep)
    draw_line(ax, w, b, lim_sep, color="black", lw=2)
    acc = accuracy(topic.perceptron_predict(X_sep, w, b), y_sep)
    ax.set_title(f"Perceptron, separable data\nconverged in {len(errors)} epochs, accuracy {acc:.0%}")

    ax = axes[0, 1]
    xx, yy, points = grid(lim_xor, lim_xor)
    for epochs in range(41, 50):  # the same seed replays the same run, so this is the line after each epoch
        w, b, _ = topic.perceptron_train(X_xor, y_xor, epochs=epochs, seed=0)
        draw_line(ax, w, b, lim_xor, color="gray", lw=0.8)
    w, b, errors = topic.perceptron_train(X_xor, y_xor, epochs=50, seed=0)
    draw_regions(ax, xx, yy, topic.perceptron_predict(points, w, b))
    draw_points(ax, X_xor, y_xor)
    draw_line(ax, w, b, lim_xor, color="black", lw=2)
    acc = accuracy(topic.perceptron_predict(X_xor, w, b), y_xor)
    ax.set_title(f"Perceptron, XOR: the line never settles\nepoch 50: {errors[-1]} mistakes, accuracy {acc:.0%}")

    ax = axes[1, 0]
    w, b, losses = topic.logistic_train(X_xor, y_xor, lr=0.5, epochs=300)
    draw_probability(ax, xx, yy, topic.logistic_predict_proba(points, w, b))
    draw_points(ax, X_xor, y_xor)
    acc = accuracy(topic.logistic_predict_proba(X_xor, w, b) > 0.5, y_xor)
    ax.set_title(f"Logistic regression, XOR\nloss stuck at {losses[-1]:.3f} (ln 2 = 0.693), accuracy {acc:.0%}")

    ax = axes[1, 1]
    net = topic.TwoLayerXOR(hidden=4, seed=0)
    losses = net.train(X_xor, y_xor)
    draw_probability(ax, xx, yy, net.forward(points))
    W1, b1 = net.params["W1"], net.params["b1"]
    for k in range(W1.shape[1]):  # each hidden unit is a line; the output bends them into a curve
        draw_line(ax, W1[:, k], b1[k], lim_xor, color="gray", lw=1, ls="--")
    draw_points(ax, X_xor, y_xor)
    acc = accuracy(net.predict(X_xor), y_xor)
    ax.set_title(f"2-layer net (4 tanh units), XOR\nloss {losses[-1]:.3f}, accuracy {acc:.0%}")

    for ax, lim in [(axes[0, 0], lim_sep), (axes[0, 1], lim_xor), (axes[1, 0], lim_xor), (axes[1, 1], lim_xor)]:
        ax.set_xlim(*lim)
        ax.set_ylim(*lim)
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
    fig.suptitle("One neuron draws one straight line: XOR needs a hidden layer\n"
                 "points: blue class 0, red class 1;  black: decision boundary;  shading: predicted class or P(y = 1);\n"
                 "gray: the perceptron's line after epochs 41-49;  dashed: the line each hidden unit draws",
                 fontsize=10)
    fig.tight_layout()
    for path in out_paths:
        fig.savefig(path, dpi=110 if "assets" not in path.parts else 72)
        print(f"wrote {path}")
    plt.close(fig)


def training_curves(topic, out_path):
    X_sep, y_sep = topic.make_linearly_separable(1000, seed=2, margin=0.02)
    X_xor, y_xor = topic.make_xor(n_per_corner=30, noise=0.12, seed=0)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))

    ax = axes[0]
    for X, y, label in [(X_sep, y_sep, "separable"), (X_xor, y_xor, "XOR")]:
        _, _, errors = topic.perceptron_train(X, y, epochs=40, seed=0)
        ax.plot(np.arange(1, len(errors) + 1), errors, marker="o", ms=3, label=f"{label} ({len(errors)} epochs)")
    ax.set_title("Perceptron: mistakes per epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("updates made")
    ax.legend()

    ax = axes[1]
    for X, y, label in [(X_sep, y_sep, "separable"), (X_xor, y_xor, "XOR")]:
        _, _, losses = topic.logistic_train(X, y, lr=0.5, epochs=300)
        ax.plot(losses, label=label)
    ax.axhline(np.log(2), color="gray", ls=":", label="ln 2 (w = 0)")
    ax.set_title("Logistic regression: mean cross-entropy")
    ax.set_xlabel("epoch (full batch)")
    ax.set_ylabel("loss")
    ax.legend()

    ax = axes[2]
    _, _, logistic = topic.logistic_train(X_xor, y_xor, lr=1.0, epochs=500)
    ax.semilogy(logistic, label="logistic regression")
    for hidden in (2, 4, 8):
        net = topic.TwoLayerXOR(hidden=hidden, seed=0)
        ax.semilogy(net.train(X_xor, y_xor, lr=1.0, epochs=500), label=f"2-layer net, {hidden} tanh units")
    ax.set_title("XOR: one neuron vs a hidden layer (lr 1.0)")
    ax.set_xlabel("epoch (full batch)")
    ax.set_ylabel("loss (log scale)")
    ax.legend(fontsize=8)

    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    print(f"wrote {out_path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNGs (default ./outputs)")
    parser.add_argument("--assets", action="store_true", help="also refresh assets/decision_boundaries.png")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    topic = load_topic(4)
    targets = [out / "decision_boundaries.png"] + ([HERE / "assets" / "decision_boundaries.png"] if args.assets else [])
    decision_boundaries(topic, targets)
    training_curves(topic, out / "training_curves.png")


if __name__ == "__main__":
    main()
