"""Optimization paths on the Beale function, and the learning-rate schedules.

    python visualization.py              # writes outputs/beale_paths.png and outputs/schedules.png
    python visualization.py --out DIR    # somewhere else
    DLFS_USE_MINE=3 python visualization.py   # draw with YOUR solution.py instead of the reference

Every optimizer starts from (1, 1.5), where the loss is 41.25, and takes 500 steps towards the minimum (3, 0.5).
The learning rates are the largest round values that do not diverge from that start (SGD at lr = 0.05 and
momentum at lr = 0.01 blow up within 10 steps: the gradient there is (34.5, 92.5)).
"""

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

HERE = Path(__file__).resolve().parent
from dlfs.components import load_topic

optim = load_topic(3)

START, MINIMUM, STEPS = (1.0, 1.5), (3.0, 0.5), 500
RUNS = [  # label, colour, optimizer factory
    ("SGD (lr=0.01)", "tab:gray", lambda ps: optim.SGD(ps, lr=0.01)),
    ("Momentum 0.9 (lr=0.003)", "tab:blue", lambda ps: optim.SGD(ps, lr=0.003, momentum=0.9)),
    ("Nesterov 0.9 (lr=0.003)", "tab:cyan", lambda ps: optim.SGD(ps, lr=0.003, momentum=0.9, nesterov=True)),
    ("RMSprop (lr=0.01)", "tab:orange", lambda ps: optim.RMSprop(ps, lr=0.01)),
    ("Adam (lr=0.1)", "tab:red", lambda ps: optim.Adam(ps, lr=0.1)),
]


def descend(make_optimizer, steps=STEPS, start=START):
    """(path (steps + 1, 2), losses (steps + 1,)) of one optimizer on Beale."""
    xy = optim.Parameter(np.array(start, dtype=np.float64))
    opt = make_optimizer([xy])
    path = [xy.data.copy()]
    for _ in range(steps):
        dx, dy = optim.beale_grad(xy.data[0], xy.data[1])
        xy.grad[0], xy.grad[1] = dx, dy
        opt.step()
        path.append(xy.data.copy())
    path = np.array(path)
    losses = np.array([float(optim.beale(x, y)) for x, y in path])
    return path, losses


def plot_paths(out_dir):
    xs, ys = np.meshgrid(np.linspace(-0.25, 4.25, 360), np.linspace(-1.75, 2.0, 300))
    zs = optim.beale(xs, ys)
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [1.35, 1]})
    levels = np.logspace(-3, 4.5, 31)  # log-spaced: the valley floor is 4 decades below the slopes
    ax.contourf(xs, ys, zs, levels=levels, norm=LogNorm(), cmap="viridis", alpha=0.45, extend="both")
    ax.contour(xs, ys, zs, levels=levels, norm=LogNorm(), colors="k", linewidths=0.25, alpha=0.4)
    for label, colour, make in RUNS:
        path, losses = descend(make)
        text = f"{label}: final loss {losses[-1]:.1e}"
        ax.plot(path[:, 0], path[:, 1], "-", color=colour, lw=1.6, label=text)
        ax.plot(path[-1, 0], path[-1, 1], "o", color=colour, ms=4)
        ax_loss.semilogy(np.maximum(losses, 1e-30), color=colour, lw=1.6, label=label)
        print(f"{label:26s} final loss {losses[-1]:.3e} at ({path[-1, 0]:.4f}, {path[-1, 1]:.4f})")
    ax.plot(*START, "ks", ms=7, label="start (1, 1.5)")
    ax.plot(*MINIMUM, "*", color="gold", mec="k", ms=16, label="minimum (3, 0.5)")
    ax.set(xlim=(-0.25, 4.25), ylim=(-1.75, 2.0), xlabel="x", ylabel="y",
           title=f"Beale function (log-spaced contours): {STEPS} steps from (1, 1.5)")
    ax.legend(loc="upper right", fontsize=7.5, framealpha=0.9)
    ax_loss.set(xlabel="step", ylabel="beale(x, y)  (log scale)", title="Loss per step", ylim=(1e-8, 1e3))
    ax_loss.grid(True, which="major", alpha=0.3)
    ax_loss.legend(fontsize=8)
    fig.tight_layout()
    path = out_dir / "beale_paths.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_schedules(out_dir, total=100):
    steps = np.arange(total + 1)
    curves = {
        "step_lr(step_size=30, gamma=0.3)": [optim.step_lr(s, 0.1, step_size=30, gamma=0.3) for s in steps],
        "cosine_lr(total_steps=100, min_lr=0.005)": [optim.cosine_lr(s, 0.1, total, min_lr=0.005) for s in steps],
        "linear_warmup(warmup_steps=20)": [optim.linear_warmup(s, 0.1, 20) for s in steps],
        "warmup_cosine_lr(warmup_steps=10, total_steps=100)": [optim.warmup_cosine_lr(s, 0.1, 10, total)
                                                               for s in steps],
    }
    fig, ax = plt.subplots(figsize=(11, 4.2))
    for (label, lrs), style in zip(curves.items(), ["-", "-", "--", "-"]):
        ax.plot(steps, lrs, style, lw=2, label=label, drawstyle="steps-post")  # lr is constant within a step
    ax.set(xlabel="step", ylabel="learning rate", title="Learning-rate schedules (base_lr = 0.1)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    path = out_dir / "schedules.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="folder for the PNG files (default outputs/)")
    parser.add_argument("--asset", action="store_true", help="also refresh assets/beale_paths.png for the README")
    args = parser.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [plot_paths(out_dir), plot_schedules(out_dir)]
    if args.asset:
        (HERE / "assets").mkdir(exist_ok=True)
        written.append(plot_paths(HERE / "assets"))
    for path in written:
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
