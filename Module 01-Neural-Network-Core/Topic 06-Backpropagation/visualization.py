"""Pictures of backpropagation: the gradient check as a chart, and the 2-layer net's computational graph.

    python visualization.py                 # writes outputs/gradient_check.png and outputs/computational_graph.png
    python visualization.py --out DIR       # somewhere else
    python visualization.py --assets        # also refresh assets/computational_graph.png (shown in the README)

Runs on the Topic 06 reference, or on your solution.py with DLFS_USE_MINE=6.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from dlfs.components import load_topic
from dlfs.finite_difference_checker import numerical_gradient, relative_error
from dlfs.gradient_check import TOLERANCE, check_layer, check_model

HERE = Path(__file__).resolve().parent
PASS_COLOR, WARN_COLOR, BUG_COLOR = "#2e7d32", "#ef6c00", "#c62828"
FORWARD_COLOR, BACKWARD_COLOR = "#1565c0", "#c62828"


# ----------------------------------------------------------------------------------------------------
# 1. The gradient check, parameter by parameter, with and without the classic mistakes
# ----------------------------------------------------------------------------------------------------

def gradient_errors(bp) -> tuple[dict, dict]:
    """Relative errors of the correct gradients, and of the same gradients with a classic mistake in them."""
    rng = np.random.default_rng(0)
    X, y, reg = rng.standard_normal((8, 6)), rng.integers(0, 4, 8), 0.5
    net = bp.TwoLayerNet(6, 10, 4, seed=0, reg=reg)
    net.params["b1"] = rng.standard_normal(10) * 0.1
    net.params["b2"] = rng.standard_normal(4) * 0.1
    _, grads = net.loss(X, y)
    correct = {f"TwoLayerNet {k}": v for k, v in check_model(lambda: net.loss(X, y)[0], net.params, grads).items()}

    x, W, b = rng.standard_normal((5, 6)), rng.standard_normal((6, 6)), rng.standard_normal(6)
    names = {"input0": "linear dx", "input1": "linear dW", "input2": "linear db"}
    correct.update({names[k]: v for k, v in check_layer(bp.linear_forward, bp.linear_backward, x, W, b).items()})
    xr = rng.standard_normal((5, 6))
    xr[np.abs(xr) < 0.1] = 0.5  # away from the kink at 0
    correct["relu dx"] = check_layer(bp.relu_forward, bp.relu_backward, xr)["input0"]
    logits = rng.standard_normal((8, 4))
    _, dlogits = bp.softmax_cross_entropy(logits, y)
    correct["softmax-CE dlogits"] = check_model(lambda: bp.softmax_cross_entropy(logits, y)[0],
                                                {"z": logits}, {"z": dlogits})["z"]

    # the same checks with a mistake planted in the analytic gradient
    def numeric(name):
        return numerical_gradient(lambda: net.loss(X, y)[0], net.params[name])

    N = X.shape[0]
    out, cache = bp.linear_forward(x, W, b)
    dout = np.random.default_rng(0).standard_normal(out.shape)  # the upstream gradient check_layer uses
    wrong_dx = dout @ W                                          # missing .T (runs because W is square)
    numeric_dx = numerical_gradient(lambda: float(np.sum(bp.linear_forward(x, W, b)[0] * dout)), x)
    mistakes = {
        "db1 averaged (÷N twice)": relative_error(grads["b1"] / N, numeric("b1")),
        "dW2 without ÷N in dlogits": relative_error((grads["W2"] - reg * net.params["W2"]) * N
                                                    + reg * net.params["W2"], numeric("W2")),
        "dW1 with 2·reg·W1": relative_error(grads["W1"] + reg * net.params["W1"], numeric("W1")),
        "dW1 with no reg term": relative_error(grads["W1"] - reg * net.params["W1"], numeric("W1")),
        "linear dx = dout @ W": relative_error(wrong_dx, numeric_dx),
    }
    return correct, mistakes


def plot_gradient_check(bp, path: Path) -> None:
    correct, mistakes = gradient_errors(bp)
    labels = list(correct) + list(mistakes)
    values = np.array([max(v, 1e-16) for v in list(correct.values()) + list(mistakes.values())])
    colors = [PASS_COLOR if v < TOLERANCE else WARN_COLOR if v < 1e-2 else BUG_COLOR for v in values]
    fig, ax = plt.subplots(figsize=(9, 6.2))
    ypos = np.arange(len(labels))[::-1]
    ax.barh(ypos, values, color=colors, height=0.65)
    ax.set_xscale("log")
    ax.set_yticks(ypos, labels)
    ax.set_xlim(1e-13, 10)
    ax.axvline(TOLERANCE, color="black", linestyle="--", linewidth=1)
    ax.axvline(1e-2, color=BUG_COLOR, linestyle=":", linewidth=1)
    ax.text(TOLERANCE * 1.3, ypos[0] + 0.55, "pass < 1e-5", fontsize=9, va="bottom")
    ax.text(1.3e-2, ypos[0] + 0.55, "bug > 1e-2", fontsize=9, va="bottom", color=BUG_COLOR)
    split = ypos[len(correct) - 1] - 0.5
    ax.axhline(split, color="grey", linewidth=0.8)
    ax.text(1e-7, split + 0.12, "↑ correct backprop    ↓ with a classic mistake", fontsize=9, color="dimgrey",
            va="bottom")
    for yp, v in zip(ypos, values):
        ax.text(v * 1.4, yp, f"{v:.1e}", va="center", fontsize=8)
    ax.set_xlabel("relative error  max |analytic − numerical| / (|analytic| + |numerical|)   (log scale)")
    ax.set_title("Gradient check: analytic vs finite-difference gradients (float64)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------------------------------
# 2. The computational graph of the 2-layer net: shapes forward, gradients backward
# ----------------------------------------------------------------------------------------------------

def _box(ax, x, y, text, face, edge, width=1.3, height=0.62, fontsize=10, weight="normal"):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.04",
                                facecolor=face, edgecolor=edge, linewidth=1.4))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, weight=weight)


def _arrow(ax, start, end, color, style="-|>", lw=1.6):
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, linewidth=lw,
                                 shrinkA=2, shrinkB=2))


def plot_computational_graph(path: Path, N=256, D=784, H=512, C=10) -> None:
    fig, ax = plt.subplots(figsize=(15, 5.6))
    ax.set_xlim(-0.9, 17.2)
    ax.set_ylim(-2.75, 3.0)
    ax.axis("off")
    # the chain: value nodes (blue) and operations (beige), left to right
    nodes = [("value", 0.0, f"X\n({N}, {D})"), ("op", 2.1, "linear\nX·W1 + b1"), ("value", 4.2, f"h\n({N}, {H})"),
             ("op", 6.2, "ReLU\nmax(h, 0)"), ("value", 8.2, f"a\n({N}, {H})"), ("op", 10.2, "linear\na·W2 + b2"),
             ("value", 12.2, f"scores\n({N}, {C})"), ("op", 14.3, "softmax\ncross-entropy"),
             ("value", 16.3, "L\n(scalar)")]
    half = {}
    for kind, x, text in nodes:
        if kind == "value":
            width = 1.1 if text.startswith("L") else 1.35
            _box(ax, x, 0.0, text, "#e3f2fd", FORWARD_COLOR, width=width)
        else:
            width = 1.5
            _box(ax, x, 0.0, text, "#fff8e1", "#8d6e63", width=width, height=0.8, fontsize=9.5, weight="bold")
        half[x] = width / 2 + 0.06
    xs = [x for _, x, _ in nodes]
    for a, b in zip(xs[:-1], xs[1:]):
        _arrow(ax, (a + half[a], 0.14), (b - half[b], 0.14), FORWARD_COLOR)
        _arrow(ax, (b - half[b], -0.16), (a + half[a], -0.16), BACKWARD_COLOR, lw=1.3)
    # inputs of the operations: parameters (purple) and labels (grey)
    params = [(1.35, f"W1 ({D}, {H})", 2.1), (2.85, f"b1 ({H},)", 2.1), (9.45, f"W2 ({H}, {C})", 10.2),
              (10.95, f"b2 ({C},)", 10.2), (14.3, f"y ({N},) labels", 14.3)]
    for x, text, target in params:
        is_label = text.startswith("y")
        _box(ax, x, 1.6, text, "#eeeeee" if is_label else "#f3e5f5", "grey" if is_label else "#6a1b9a",
             width=1.6 if is_label else 1.3, height=0.45, fontsize=8.5)
        _arrow(ax, (x, 1.37), (target + (x - target) * 0.3, 0.42), FORWARD_COLOR, lw=1.1)
    # what flows back along each edge (red, under the edge) and the parameter gradients (purple)
    back = [((12.2 + 14.3) / 2, f"dscores = (P − onehot(y)) / N\n({N}, {C})"),
            ((8.2 + 10.2) / 2, f"da = dscores · W2ᵀ\n({N}, {H})"),
            ((4.2 + 6.2) / 2, f"dh = da ⊙ [h > 0]\n({N}, {H})"),
            ((0.0 + 2.1) / 2, f"dX = dh · W1ᵀ\n({N}, {D}), unused")]
    for x, text in back:
        ax.text(x, -0.55, text, ha="center", va="top", fontsize=9.5, color=BACKWARD_COLOR, linespacing=1.5)
    ax.text(15.6, -0.55, "dL/dL = 1", ha="center", va="top", fontsize=9.5, color=BACKWARD_COLOR)
    grads = [(2.1, f"dW1 = Xᵀ · dh   ({D}, {H})\ndb1 = Σₙ dh   ({H},)"),
             (10.2, f"dW2 = aᵀ · dscores   ({H}, {C})\ndb2 = Σₙ dscores   ({C},)")]
    for x, text in grads:
        ax.text(x, -1.65, text, ha="center", va="top", fontsize=9.5, color="#6a1b9a", linespacing=1.5,
                bbox=dict(boxstyle="round,pad=0.35", facecolor="#faf5fb", edgecolor="#6a1b9a", linewidth=0.8))
    ax.text(14.3, -1.65, "with L2: loss + 0.5·reg·(ΣW1² + ΣW2²)\ndW1, dW2 += reg·W (weights only)", ha="center",
            va="top", fontsize=9, color="#6a1b9a", linespacing=1.5)
    ax.text(-0.8, 2.85, "forward (blue): shapes for a batch of N = 256 in the 784-512-10 net of Topic 10",
            color=FORWARD_COLOR, fontsize=11, weight="bold", va="top")
    ax.text(-0.8, 2.45, "backward (red): each node turns dL/d(its output) into dL/d(its inputs)",
            color=BACKWARD_COLOR, fontsize=11, weight="bold", va="top")
    ax.set_title("The 2-layer network as a computational graph", fontsize=13, pad=4)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "outputs", help="folder for the PNGs (default: outputs/)")
    parser.add_argument("--assets", action="store_true", help="also refresh assets/computational_graph.png")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    bp = load_topic(6)
    written = [args.out / "gradient_check.png", args.out / "computational_graph.png"]
    plot_gradient_check(bp, written[0])
    plot_computational_graph(written[1])
    if args.assets:
        (HERE / "assets").mkdir(exist_ok=True)
        plot_computational_graph(HERE / "assets" / "computational_graph.png")
        written.append(HERE / "assets" / "computational_graph.png")
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
