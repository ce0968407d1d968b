"""Time and memory of the attention levels against torch's scaled_dot_product_attention.

    python benchmark.py                  # forward + backward time, levels 2 and 3 vs SDPA (CPU, one thread)
    python benchmark.py --memory         # tracemalloc peak of one forward (and forward + backward) vs L
    python benchmark.py --memory --plot assets   # also draws attention_memory_levels.png into that folder

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

LEVELS = {2: load_topic(25, level=2), 3: load_topic(25, level=3)}


def inputs(L, d=64, heads=1, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal((heads, L, d)).astype(np.float32) for _ in range(3))


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


def memory(lengths, plot_dir=None):
    rows = []
    for L in lengths:
        q, k, v = inputs(L)
        dout = np.ones_like(q)
        row = {"L": L, "one_LxS_float32_MiB": L * L * 4 / 2**20}
        for level, m in LEVELS.items():
            def forward(m=m, q=q, k=k, v=v):
                m.attention_forward(q, k, v, causal=True)
            row[f"level{level}_forward_MiB"] = peak_bytes(forward) / 2**20

            def both(m=m, q=q, k=k, v=v, dout=dout):
                _, cache = m.attention_forward(q, k, v, causal=True)
                m.attention_backward(dout, cache)
            row[f"level{level}_fwd_bwd_MiB"] = peak_bytes(both) / 2**20
        rows.append(row)
        print(" | ".join(f"{key} {val:.2f}" if isinstance(val, float) else f"{key} {val}" for key, val in row.items()))
    if plot_dir is not None:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7.5, 4.5))
        Ls = [r["L"] for r in rows]
        ax.loglog(Ls, [r["one_LxS_float32_MiB"] for r in rows], "k:", label="one (L, L) float32 matrix")
        for level, style in ((2, "o-"), (3, "s-")):
            ax.loglog(Ls, [r[f"level{level}_forward_MiB"] for r in rows], style, label=f"level {level}, forward")
            ax.loglog(Ls, [r[f"level{level}_fwd_bwd_MiB"] for r in rows], style, alpha=0.5,
                      label=f"level {level}, forward + backward")
        ax.set_xlabel("sequence length L = S (d = 64, float32, causal)")
        ax.set_ylabel("peak memory, tracemalloc (MiB)")
        ax.set_title("Naive attention grows as L^2, query blocks of 64 as L")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, which="both")
        fig.tight_layout()
        path = Path(plot_dir) / "attention_memory_levels.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        print(f"wrote {path}")
    return {"memory": rows}


def speed(lengths, heads=4):
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    rows = []
    for L in lengths:
        q, k, v = inputs(L, heads=heads)
        dout = np.ones_like(q)
        row = {"L": L}
        for level, m in LEVELS.items():
            def step(m=m, q=q, k=k, v=v, dout=dout):
                _, cache = m.attention_forward(q, k, v, causal=True)
                m.attention_backward(dout, cache)
            row[f"level{level}_s"] = median_time(step)
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        tdout = torch.from_numpy(dout)

        def torch_step(tq=tq, tk=tk, tv=tv, tdout=tdout):
            F.scaled_dot_product_attention(tq, tk, tv, is_causal=True).backward(tdout)
        row["torch_sdpa_s"] = median_time(torch_step)
        for level in LEVELS:
            row[f"level{level}_vs_torch"] = row[f"level{level}_s"] / row["torch_sdpa_s"]
        rows.append(row)
        print(" | ".join(f"{key} {val:.4g}" if isinstance(val, float) else f"{key} {val}" for key, val in row.items()))
    return {"speed": rows, "heads": heads, "d": 64}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory", action="store_true", help="peak memory instead of time")
    parser.add_argument("--lengths", default="256,512,1024,2048", help="comma-separated sequence lengths")
    parser.add_argument("--plot", default=None, help="with --memory: folder for attention_memory_levels.png")
    args = parser.parse_args()
    lengths = [int(x) for x in args.lengths.split(",")]
    result = memory(lengths, args.plot) if args.memory else speed(lengths)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
