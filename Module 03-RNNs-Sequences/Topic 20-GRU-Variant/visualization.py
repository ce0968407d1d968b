"""The GRU, seen: its gates at work on a sequence, and how far back a gradient reaches.

    python visualization.py [--out DIR]          (default: outputs/ next to this file)

Writes
    gru_gates.png                 a GRU trained (Topic 03's Adam) to output, at every step, the input of 5 steps
                                  earlier: the input, the reset gate r, the update gate z and the state h over time
    gru_gradient_through_time.png the norm of dL/dh_t for a loss on the last state only, t = 0 .. 59, for a GRU
                                  whose update gate starts at z = 0.12, 0.5, 0.88 and for the vanilla RNN it
                                  contains (z = 0, r = 1), on a log scale

The step functions come from this topic (your own with DLFS_USE_MINE=20), the optimizer from Topic 03.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from dlfs.components import load_topic

gru = load_topic(20)
optim = load_topic(3)

HERE = Path(__file__).resolve().parent
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
DELAY, T, H = 5, 40, 8


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def delayed_copy_batch(rng, N):
    x = rng.choice([-1.0, 1.0], size=(N, T, 1)) * (rng.random((N, T, 1)) < 0.3)
    y = np.zeros((N, T))
    y[:, DELAY:] = x[:, :-DELAY, 0]
    return x, y


def train_delayed_copy(steps=300, seed=0):
    """A GRU(1, H) plus a linear read-out of h, trained with Adam on the delayed-copy task."""
    rng = np.random.default_rng(seed)
    layer = gru.GRU(1, H, rng=seed, dtype=np.float64)
    readout = optim.Parameter(rng.normal(0, 0.3, size=(H,)))
    opt = optim.Adam(layer.parameters() + [readout], lr=0.02)
    losses = []
    for _ in range(steps):
        x, y = delayed_copy_batch(rng, 32)
        out, _ = layer.forward(x)
        pred = out @ readout.data
        err = pred - y
        losses.append(float((err ** 2).mean()))
        dpred = 2 * err / err.size
        for p in layer.parameters() + [readout]:
            p.grad[...] = 0
        readout.grad[...] = np.einsum("nt,nth->h", dpred, out)
        layer.backward(dpred[:, :, None] * readout.data)
        opt.step()
    return layer, readout, losses


def gates_over_time(layer, x):
    """r, z, h (T, H) for one sequence x (T, 1), recomputed from the weights step by step."""
    w = [getattr(layer, k).data for k in NAMES]
    h = np.zeros((1, H))
    rs, zs, hs = [], [], []
    for t in range(x.shape[0]):
        gi = x[t:t + 1] @ w[0].T + w[2]
        gh = h @ w[1].T + w[3]
        rs.append(sigmoid(gi[0, :H] + gh[0, :H]))
        zs.append(sigmoid(gi[0, H:2 * H] + gh[0, H:2 * H]))
        h, _ = gru.gru_step_forward(x[t:t + 1], h, *w)
        hs.append(np.asarray(h)[0])
    return np.array(rs), np.array(zs), np.array(hs)


def plot_gates(out_dir):
    layer, readout, losses = train_delayed_copy()
    x, y = delayed_copy_batch(np.random.default_rng(123), 1)
    r, z, h = gates_over_time(layer, x[0])
    pred = h @ readout.data
    fig, axes = plt.subplots(4, 1, figsize=(10, 9), sharex=True)
    axes[0].step(range(T), x[0, :, 0], where="mid", label="input x_t")
    axes[0].step(range(T), pred, where="mid", label=f"prediction (target: x_(t-{DELAY}))", alpha=0.8)
    axes[0].plot(range(T), y[0], "k:", label="target")
    axes[0].legend(loc="upper right", fontsize=8)
    axes[0].set_title(f"GRU({H}) trained {len(losses)} Adam steps to repeat the input {DELAY} steps later "
                      f"(MSE {np.mean(losses[:10]):.3f} -> {np.mean(losses[-10:]):.3f})")
    for ax, data, name, cmap, lim in ((axes[1], r, "reset gate r", "viridis", (0, 1)),
                                      (axes[2], z, "update gate z (1 = keep the state)", "viridis", (0, 1)),
                                      (axes[3], h, "state h", "RdBu_r", (-1, 1))):
        im = ax.imshow(data.T, aspect="auto", cmap=cmap, vmin=lim[0], vmax=lim[1], interpolation="nearest")
        ax.set_ylabel("unit")
        ax.set_title(name)
        fig.colorbar(im, ax=ax, pad=0.01)
    axes[3].set_xlabel("time step t")
    fig.tight_layout()
    path = out_dir / "gru_gates.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def gradient_norms(update_bias, reset_bias=0.0, steps=60, N=16, D=4, seed=0):
    """||dL/dh_t|| (averaged over the batch) for L = <g, h_T>, g random: how much of the gradient reaches step t."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    w = [rng.uniform(-bound, bound, size=s) for s in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,))]
    w[1] *= 3.0                                            # a recurrent matrix of norm about 1
    w[2][H:2 * H] += update_bias
    w[2][:H] += reset_bias
    x = rng.standard_normal((N, steps, D))
    h = np.zeros((N, H))
    caches = []
    for t in range(steps):
        h, cache = gru.gru_step_forward(x[:, t], h, *w)
        caches.append(cache)
    dh = rng.standard_normal((N, H))
    norms = np.empty(steps)
    for t in reversed(range(steps)):
        norms[t] = np.linalg.norm(dh, axis=1).mean()
        _, dh, *_ = gru.gru_step_backward(dh, caches[t])
    return norms


def plot_gradients(out_dir):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for bias, label in ((-2.0, "GRU, z = 0.12 at start"), (0.0, "GRU, z = 0.5 (PyTorch's init)"),
                        (2.0, "GRU, z = 0.88 at start")):
        ax.semilogy(gradient_norms(bias), label=label)
    ax.semilogy(gradient_norms(-60.0, reset_bias=60.0), "k--", label="z = 0, r = 1: a vanilla tanh RNN")
    ax.set_xlabel("time step t (the loss reads h at t = 59)")
    ax.set_ylabel("mean ||dL/dh_t||")
    ax.set_title("How far back the gradient reaches: the direct path z * h")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path = out_dir / "gru_gradient_through_time.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="output folder (default: outputs/)")
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in (plot_gates(out_dir), plot_gradients(out_dir)):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
