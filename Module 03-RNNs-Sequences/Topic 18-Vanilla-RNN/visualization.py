"""Topic 18 figure: the gradient norm ||dL/dh_t|| of a loss at the last step, against the distance in time,
for recurrent weights of three scales (vanishing, borderline, exploding).

    python visualization.py --out assets
"""

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from dlfs.components import load_topic

rnn = load_topic(18, level=2)


def gradient_by_distance(scale, T=60, H=32, seed=0):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    w = [rng.standard_normal((H, 4)) * 0.1, q * scale, np.zeros(H), np.zeros(H)]
    x = rng.standard_normal((1, T, 4)) * 0.1
    hs, cache = rnn.rnn_forward(x, np.zeros((1, H)), *w)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = 1.0
    dx = rnn.rnn_backward(dhs, cache)[0]
    norms = np.linalg.norm(dx[0], axis=1)[::-1]       # index k = k steps back from the loss
    return norms / norms[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(Path(__file__).parent / "assets"))
    out = Path(parser.parse_args().out)
    out.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for scale, label in [(0.7, "W_hh = 0.7 Q (vanishes)"), (1.0, "W_hh = Q (borderline)"),
                         (1.5, "W_hh = 1.5 Q (grows until tanh saturates)")]:
        ax.semilogy(gradient_by_distance(scale), label=label)
    ax.set_xlabel("distance in time (steps back from the loss)")
    ax.set_ylabel("||dL/dx_t|| / ||dL/dx_T||")
    ax.set_title("Vanilla RNN: gradient norm against distance in time (Q orthogonal, H = 32)")
    ax.legend()
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = out / "rnn_gradient_vs_distance.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
