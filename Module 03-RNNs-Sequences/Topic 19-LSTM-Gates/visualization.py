"""The LSTM, seen: its gates reading Shakespeare, its two states, and how far back a gradient reaches.

    python visualization.py [--out DIR] [--steps 300]          (default: outputs/ next to this file)

Writes
    lstm_gates.png                 a character LSTM (H = 32) trained for --steps Adam steps on Tiny Shakespeare,
                                   reading one line of the validation text: the input, forget and output gates
                                   of 12 units per character, and the cell state c next to the hidden state h
    lstm_gradient_through_time.png the norm of dL/dc_t and dL/dh_t for a loss on the last hidden state of a
                                   100-step sequence, t = 0 .. 99, for an LSTM at PyTorch's initialisation,
                                   one whose forget bias starts at +3, and the vanilla tanh RNN of Topic 18
                                   (same size, same input), on a log scale

The LSTM comes from this topic (your own with DLFS_USE_MINE=19), the character tools and the RNN from Topic 18,
the optimizer from Topic 03. Needs Tiny Shakespeare (exit code 3 and one line when it is absent).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from dlfs.components import load_topic
from dlfs.datasets import load_tinyshakespeare, missing_reason

lstm = load_topic(19)
rnn = load_topic(18)
optim = load_topic(3)

HERE = Path(__file__).resolve().parent
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
H, BATCH, SEQ = 32, 16, 50


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def one_hot(ids, V):
    x = np.zeros(ids.shape + (V,))
    x[..., :] = np.arange(V) == ids[..., None]
    return x


def train_char_lstm(text, steps, seed=0):
    """LSTM(V, H) + a linear read-out, softmax cross-entropy, Adam, truncated BPTT with the state carried."""
    vocab = rnn.CharVocab(text)
    V = len(vocab)
    train, val = rnn.train_val_split(text)
    rng = np.random.default_rng(seed)
    layer = lstm.LSTM(V, H, rng=rng, dtype=np.float64)
    bound = 1 / np.sqrt(H)
    w_out = optim.Parameter(rng.uniform(-bound, bound, size=(V, H)))
    b_out = optim.Parameter(np.zeros(V))
    params = layer.parameters() + [w_out, b_out]
    opt = optim.Adam(params, lr=1e-2)
    losses, state = [], None
    for k, (xi, yi) in enumerate(rnn.tbptt_batches(vocab.encode(train), BATCH, SEQ)):
        if k == steps:
            break
        out, state = layer.forward(one_hot(xi, V), state)
        logits = out @ w_out.data.T + b_out.data
        logits -= logits.max(axis=-1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=-1, keepdims=True)
        losses.append(float(-np.log(np.take_along_axis(p, yi[..., None], axis=-1)).mean()))
        dlogits = p
        np.put_along_axis(dlogits, yi[..., None], np.take_along_axis(p, yi[..., None], axis=-1) - 1, axis=-1)
        dlogits /= yi.size
        for q in params:
            q.grad[...] = 0
        w_out.grad[...] = np.einsum("ntv,nth->vh", dlogits, out)
        b_out.grad[...] = dlogits.sum(axis=(0, 1))
        layer.backward(dlogits @ w_out.data)
        rnn.clip_grad_norm(params, 5.0)
        opt.step()
    return layer, vocab, val, losses


def read_line(layer, vocab, line):
    """i, f, o, c, h (T, H) of the layer reading `line` from a zero state, one character at a time."""
    w = [getattr(layer, k).data for k in NAMES]
    x = one_hot(vocab.encode(line), len(vocab))
    h, c = np.zeros((1, H)), np.zeros((1, H))
    rows = {k: [] for k in "ifoch"}
    for t in range(len(line)):
        a = x[t:t + 1] @ w[0].T + w[2] + h @ w[1].T + w[3]
        rows["i"].append(sigmoid(a[0, :H]))
        rows["f"].append(sigmoid(a[0, H:2 * H]))
        rows["o"].append(sigmoid(a[0, 3 * H:]))
        h, c, _ = lstm.lstm_step_forward(x[t:t + 1], h, c, *w)
        rows["c"].append(np.asarray(c)[0])
        rows["h"].append(np.asarray(h)[0])
    return {k: np.array(v) for k, v in rows.items()}


def plot_gates(out_dir, text, steps):
    layer, vocab, val, losses = train_char_lstm(text, steps)
    start = val.index("\n", 200) + 1
    line = val[start:start + 60]
    r = read_line(layer, vocab, line)
    units = np.argsort(-np.abs(r["c"]).max(axis=0))[:12]         # the units whose cells move the most
    fig, axes = plt.subplots(5, 1, figsize=(13, 12), gridspec_kw={"height_ratios": [1, 1, 1, 1.3, 1.3]})
    labels = [ch if ch != "\n" else "\\n" for ch in line]
    for ax, key, name in ((axes[0], "i", "input gate i (how much of g is written)"),
                          (axes[1], "f", "forget gate f (how much of c is kept)"),
                          (axes[2], "o", "output gate o (how much of tanh(c) is shown)")):
        im = ax.imshow(r[key][:, units].T, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_ylabel("unit")
        ax.set_yticks(range(len(units)), [str(u) for u in units], fontsize=6)
        ax.set_title(name, fontsize=10)
        ax.set_xticks(range(len(line)), labels, fontsize=7, family="monospace")
        fig.colorbar(im, ax=ax, pad=0.01)
    for ax, key, name in ((axes[3], "c", "cell state c (additive: not bounded by 1)"),
                          (axes[4], "h", "hidden state h = o * tanh(c) (always in (-1, 1))")):
        for u in units[:4]:
            ax.plot(r[key][:, u], marker=".", label=f"unit {u}")
        ax.axhline(1, color="k", lw=0.5, ls=":")
        ax.axhline(-1, color="k", lw=0.5, ls=":")
        ax.set_xticks(range(len(line)), labels, fontsize=7, family="monospace")
        ax.set_xlim(-0.5, len(line) - 0.5)
        ax.set_title(name, fontsize=10)
        ax.legend(fontsize=7, loc="upper right", ncol=4)
        ax.grid(alpha=0.3)
    fig.suptitle(f"A character LSTM({H}) after {len(losses)} Adam steps on Tiny Shakespeare "
                 f"(train loss {np.mean(losses[:10]):.2f} -> {np.mean(losses[-10:]):.2f} nats/char), "
                 "reading a validation line", fontsize=11)
    fig.tight_layout()
    path = out_dir / "lstm_gates.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def lstm_gradient_norms(forget_bias, steps=100, N=16, D=8, seed=0):
    """Mean ||dL/dc_t||, ||dL/dh_t|| for L = <g, h_(T-1)>, g random: how much of the gradient reaches step t."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    w = [rng.uniform(-bound, bound, size=s) for s in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))]
    w[2][H:2 * H] += forget_bias
    x = rng.standard_normal((N, steps, D))
    h, c, caches = np.zeros((N, H)), np.zeros((N, H)), []
    for t in range(steps):
        h, c, cache = lstm.lstm_step_forward(x[:, t], h, c, *w)
        caches.append(cache)
    dh, dc = rng.standard_normal((N, H)), np.zeros((N, H))
    dh_norm, dc_norm = np.empty(steps), np.empty(steps)
    for t in reversed(range(steps)):
        dh_norm[t] = np.linalg.norm(dh, axis=1).mean()
        _, dh, dc, *_ = lstm.lstm_step_backward(dh, dc, caches[t])
        dc_norm[t] = np.linalg.norm(dc, axis=1).mean()       # dL/dc_(t-1): what the cell carries to step t - 1
    return dc_norm, dh_norm


def rnn_gradient_norms(steps=100, N=16, D=8, seed=0):
    """The same measurement for Topic 18's tanh RNN with PyTorch's initialisation, the same x."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    rng.uniform(-bound, bound, size=(4 * H, D))                    # draw as the LSTM does, so x is the same
    rng.uniform(-bound, bound, size=(4 * H, H))
    rng.uniform(-bound, bound, size=(4 * H,))
    rng.uniform(-bound, bound, size=(4 * H,))
    x = rng.standard_normal((N, steps, D))
    dh = rng.standard_normal((N, H))
    w_rng = np.random.default_rng(seed + 1)
    w = [w_rng.uniform(-bound, bound, size=s) for s in ((H, D), (H, H), (H,), (H,))]
    h, caches = np.zeros((N, H)), []
    for t in range(steps):
        h, cache = rnn.rnn_step_forward(x[:, t], h, *w)
        caches.append(cache)
    norms = np.empty(steps)
    for t in reversed(range(steps)):
        norms[t] = np.linalg.norm(dh, axis=1).mean()
        _, dh, *_ = rnn.rnn_step_backward(dh, caches[t])
    return norms


def plot_gradients(out_dir):
    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    for bias, color, label in ((0.0, "C0", "LSTM, PyTorch's init (f about 0.5)"),
                               (3.0, "C2", "LSTM, forget bias +3 (f about 0.95)")):
        dc_norm, dh_norm = lstm_gradient_norms(bias)
        ax.semilogy(dc_norm, color=color, label=f"{label}: ||dL/dc_t||")
        ax.semilogy(dh_norm, color=color, ls=":", label=f"{label}: ||dL/dh_t||")
    ax.semilogy(rnn_gradient_norms(), "k--", label="vanilla tanh RNN (Topic 18): ||dL/dh_t||")
    ax.set_xlabel("time step t (the loss reads h at t = 99)")
    ax.set_ylabel("mean gradient norm")
    ax.set_title("How far back the gradient reaches: the cell's path is dc_prev = dc * f")
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3, which="both")
    fig.tight_layout()
    path = out_dir / "lstm_gradient_through_time.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "outputs"), help="output folder (default: outputs/)")
    parser.add_argument("--steps", type=int, default=300, help="Adam steps of the character LSTM (default 300)")
    args = parser.parse_args()
    reason = missing_reason("tinyshakespeare")
    if reason is not None:
        print(reason)
        return 3
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in (plot_gates(out_dir, load_tinyshakespeare(download=False), args.steps), plot_gradients(out_dir)):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
