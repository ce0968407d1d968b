"""Two figures of Topic 23, drawn with load_topic(23) (your solution.py with DLFS_USE_MINE=23).

    python visualization.py [--out DIR]     # default ./outputs/

- teacher_forcing.png: three encoder-decoders trained with Adam to reverse 5-token sequences, with teacher-forcing
  ratios 1, 0.5 and 0; left, the training loss; right, the loss of the same sequences when the decoder reads its
  OWN predictions (what decoding does). On this easy task ratio 1 learns fastest even judged free-running; the gap
  between its two curves around step 50 (free running 0.3, teacher-forced 0.2 nats) is exposure bias.
- beam_search.png: the hand-built next-token table of the tests, drawn as a tree: greedy follows the likeliest
  token (A, then <eos>: P = 0.20), a beam of 2 keeps B alive and finds B <eos> (P = 0.36).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from dlfs.components import load_topic

s2s = load_topic(23)
optim = load_topic(3)


def reversal_data(rng, n=64, length=5, vocab=12):
    body = rng.integers(4, vocab, (n, length))
    eos = np.full((n, 1), s2s.EOS)
    return np.concatenate([body, eos], axis=1), np.concatenate([body[:, ::-1], eos], axis=1)


def train_curves(ratios=(1.0, 0.5, 0.0), steps=250):
    src, tgt = reversal_data(np.random.default_rng(0))
    curves = {}
    for ratio in ratios:
        model = s2s.Seq2Seq(12, 12, 16, 48, rng=0)
        adam = optim.Adam(model.parameters(), lr=0.01)
        rng = np.random.default_rng(1)
        train, free = [], []
        for _ in range(steps):
            adam.zero_grad()
            train.append(model.loss(src, tgt, teacher_forcing=ratio, rng=rng))
            model.backward()
            optim.clip_grad_norm(model.parameters(), 5.0)
            adam.step()
            free.append(model.loss(src, tgt, teacher_forcing=0.0))
        curves[ratio] = (train, free)
    return curves


def plot_teacher_forcing(path):
    curves = train_curves()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    colors = {1.0: "tab:blue", 0.5: "tab:orange", 0.0: "tab:green"}
    for ratio, (train, free) in curves.items():
        axes[0].plot(train, color=colors[ratio], label=f"ratio {ratio:g}")
        axes[1].plot(free, color=colors[ratio], label=f"trained with ratio {ratio:g}")
    axes[0].set_title("training loss (inputs chosen by the ratio)")
    axes[1].set_title("free-running loss (the decoder reads its own argmax)")
    for ax in axes:
        ax.set_xlabel("Adam step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_ylabel("masked cross-entropy (nats / token)")
    fig.suptitle("Reversing 64 sequences of 5 tokens: GRU encoder-decoder, E = 16, H = 48")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


class TableModel:
    """The next-token table of test_beam_search_finds_a_likelier_sentence_than_greedy."""

    def __init__(self):
        self.names = {1: "<sos>", 2: "<eos>", 4: "A", 5: "B"}
        rows = {1: {4: 0.5, 5: 0.4, 2: 0.1}, 4: {4: 0.3, 5: 0.3, 2: 0.4}, 5: {2: 0.9, 4: 0.05, 5: 0.05}}
        self.P = np.full((6, 6), 1e-6)
        for prev, dist in rows.items():
            for tok, p in dist.items():
                self.P[prev, tok] = p
        self.P /= self.P.sum(axis=1, keepdims=True)

    def encode(self, src):
        return np.zeros((np.asarray(src).shape[0], 1))

    def decoder_step(self, ids, h):
        return np.log(self.P[np.asarray(ids)]), h


def plot_beam(path):
    model = TableModel()
    greedy = s2s.greedy_decode(model, np.array([[4, 2]]), max_len=4)[0]
    beam, _ = s2s.beam_search(model, np.array([4, 2]), beam_size=2, max_len=4, alpha=0.0)
    fig, ax = plt.subplots(figsize=(9, 4.5))
    level1 = {4: 3.0, 5: 0.0, 2: -2.5}
    ax.text(0, 0.5, "<sos>", ha="center", va="center", bbox={"boxstyle": "round", "fc": "w"})
    for tok, y in level1.items():
        p1 = model.P[1, tok]
        on_greedy, on_beam = greedy[:1] == [tok], beam[:1] == [tok]
        color = "tab:green" if on_beam else ("tab:red" if on_greedy else "0.6")
        ax.plot([0.25, 1.75], [0.5, y], color=color, lw=3 if (on_beam or on_greedy) else 1)
        ax.text(1, (0.5 + y) / 2 + 0.25, f"{p1:.2f}", ha="center", color=color)
        ax.text(2, y, model.names[tok], ha="center", va="center", bbox={"boxstyle": "round", "fc": "w"})
        if tok == 2:
            ax.text(2.4, y, f"P = {p1:.2f}", va="center")
            continue
        for k, nxt in enumerate((4, 5, 2)):
            y2 = y + (1 - k) * 1.0
            p2 = model.P[tok, nxt]
            path_tokens = [tok] if nxt == 2 else [tok, nxt]
            win_b, win_g = beam == path_tokens and nxt == 2, greedy == path_tokens and nxt == 2
            c = "tab:green" if win_b else ("tab:red" if win_g else "0.6")
            ax.plot([2.25, 3.75], [y, y2], color=c, lw=3 if (win_b or win_g) else 1)
            ax.text(3, (y + y2) / 2 + 0.15, f"{p2:.2f}", ha="center", color=c, fontsize=9)
            ax.text(4, y2, model.names[nxt], ha="center", va="center", bbox={"boxstyle": "round", "fc": "w"})
            ax.text(4.35, y2, f"P = {model.P[1, tok] * p2:.2f}", va="center", fontsize=9)
    ax.plot([], [], color="tab:red", lw=3, label=f"greedy: {' '.join(model.names[t] for t in greedy)} <eos>, P = 0.20")
    ax.plot([], [], color="tab:green", lw=3, label=f"beam 2: {' '.join(model.names[t] for t in beam)} <eos>, P = 0.36")
    ax.legend(loc="lower right")
    ax.set_xlim(-0.5, 5.5)
    ax.axis("off")
    ax.set_title("Greedy commits to the likeliest first token; a beam of 2 keeps the runner-up alive")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(Path.cwd() / "outputs"), help="folder for the PNGs")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    plot_teacher_forcing(out / "teacher_forcing.png")
    plot_beam(out / "beam_search.png")
    print(f"wrote {out / 'teacher_forcing.png'} and {out / 'beam_search.png'}")


if __name__ == "__main__":
    main()
