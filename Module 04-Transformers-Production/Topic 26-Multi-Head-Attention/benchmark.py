"""Memory and time of the multi-head attention levels against torch.nn.MultiheadAttention.

    python benchmark.py                  # forward + backward time, levels 2 and 3 vs torch (CPU, one thread)
    python benchmark.py --memory         # tracemalloc peak of one forward (and forward + backward) vs the heads
    python benchmark.py --memory --plot assets   # also draws mha_memory_levels.png into that folder

Every run prints a table and, as its last line, one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

from dlfs.components import load_topic

LEVELS = {2: load_topic(26, level=2), 3: load_topic(26, level=3)}


def inputs(B, T, E, heads, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, E)).astype(np.float32)
    layer = LEVELS[2].MultiheadAttention(E, heads, rng=seed)
    return x, {name: p.data for name, p in zip(LEVELS[2].NAMES, layer.parameters())}


def peak_bytes(fn, repeats=3):
    """Median over repeats of tracemalloc's peak during fn() (the inputs allocated before are not counted)."""
    peaks = []
    for _ in range(repeats):
        tracemalloc.start()
        tracemalloc.reset_peak()
        fn()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return statistics.median(peaks)


def median_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def memory(head_counts, B=1, T=512, E=256, plot_dir=None):
    rows = []
    mask = np.triu(np.ones((T, T), bool), 1)                 # causal, torch's convention (True = hidden)
    for h in head_counts:
        x, params = inputs(B, T, E, h)
        dout = np.ones_like(x)
        row = {"heads": h, "one_head_TxT_float32_MiB": B * T * T * 4 / 2**20}
        for level, m in LEVELS.items():
            def forward(m=m, x=x, params=params, h=h):
                m.mha_forward(x, x, x, params, h, attn_mask=mask, need_weights=False)
            row[f"level{level}_forward_MiB"] = peak_bytes(forward) / 2**20

            def both(m=m, x=x, params=params, h=h, dout=dout):
                _, _, cache = m.mha_forward(x, x, x, params, h, attn_mask=mask, need_weights=False)
                m.mha_backward(dout, cache)
            row[f"level{level}_fwd_bwd_MiB"] = peak_bytes(both) / 2**20
        rows.append(row)
        print(" | ".join(f"{key} {val:.2f}" if isinstance(val, float) else f"{key} {val}" for key, val in row.items()))
    if plot_dir is not None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        hs = [r["heads"] for r in rows]
        ax.plot(hs, [r["one_head_TxT_float32_MiB"] * r["heads"] for r in rows], "k:",
                label="all heads' (T, T) float32 scores")
        for level, style in ((2, "o-"), (3, "s-")):
            ax.plot(hs, [r[f"level{level}_forward_MiB"] for r in rows], style, label=f"level {level}, forward")
            ax.plot(hs, [r[f"level{level}_fwd_bwd_MiB"] for r in rows], style, alpha=0.5,
                    label=f"level {level}, forward + backward")
        ax.set_xscale("log", base=2)
        ax.set_xticks(hs, [str(h) for h in hs])
        ax.set_xlabel(f"number of heads (B = {B}, T = S = {T}, E = {E}, float32, causal)")
        ax.set_ylabel("peak memory of one call (MiB)")
        ax.set_title("Level 2 holds every head's (T, S) matrix; level 3 one head at a time")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = Path(plot_dir) / "mha_memory_levels.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        print(f"wrote {path}")
    return rows


def timing(lengths, B=2, E=128, heads=8):
    import torch

    torch.set_num_threads(1)
    rows = []
    for T in lengths:
        x, params = inputs(B, T, E, heads)
        dout = np.ones_like(x)
        mask = np.triu(np.ones((T, T), bool), 1)
        row = {"T": T}
        for level, m in LEVELS.items():
            def step(m=m, x=x, params=params, mask=mask, dout=dout):
                _, _, cache = m.mha_forward(x, x, x, params, heads, attn_mask=mask, need_weights=False)
                m.mha_backward(dout, cache)
            row[f"level{level}_ms"] = median_time(step) * 1e3
        mha = torch.nn.MultiheadAttention(E, heads, batch_first=True)
        tx, tmask, tdout = torch.tensor(x, requires_grad=True), torch.from_numpy(mask), torch.from_numpy(dout)

        def torch_step(mha=mha, tx=tx, tmask=tmask, tdout=tdout):
            out, _ = mha(tx, tx, tx, attn_mask=tmask, need_weights=False)
            out.backward(tdout)
        row["torch_ms"] = median_time(torch_step) * 1e3
        rows.append(row)
        print(" | ".join(f"{key} {val:.1f}" if isinstance(val, float) else f"{key} {val}" for key, val in row.items()))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="peak memory against the number of heads")
    parser.add_argument("--heads", default="1,2,4,8,16", help="head counts for --memory")
    parser.add_argument("--lengths", default="128,512", help="sequence lengths for the timing")
    parser.add_argument("--plot", default=None, help="folder to draw mha_memory_levels.png into (with --memory)")
    args = parser.parse_args()
    if args.memory:
        rows = memory([int(h) for h in args.heads.split(",")], plot_dir=args.plot)
    else:
        rows = timing([int(n) for n in args.lengths.split(",")])
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
