"""Memory and time of the four levels of conv2d_forward / conv2d_backward, measured on this machine.

    python benchmark.py                 # the figures of the README (a few seconds, plus level 1 on a small case)
    python benchmark.py --repeats 20    # more timing runs (the best run is reported)

Peak memory is what tracemalloc sees during one call: every NumPy allocation, including the returned
arrays (out for the forward pass; dx, dw, db for the backward pass), excluding the inputs that already
existed. PyTorch allocates outside Python's allocator, so tracemalloc cannot see level 4's memory: only its
time is reported. Level 1 runs on a small case only (its seven Python loops would take minutes here).

    python benchmark.py --impl solution.py      # your file as one more column
"""

from __future__ import annotations

import argparse
import tracemalloc
from pathlib import Path

import numpy as np

from dlfs.components import load_module, load_topic
from dlfs.timer import measure

CASES = {
    "3x3, padding 1": dict(N=8, C_in=16, C_out=32, H=32, W=32, k=3, stride=1, padding=1),
    "3x3, padding 0": dict(N=8, C_in=16, C_out=32, H=32, W=32, k=3, stride=1, padding=0),
    "3x3, stride 2, padding 1": dict(N=8, C_in=16, C_out=32, H=32, W=32, k=3, stride=2, padding=1),
}
SMALL = dict(N=1, C_in=3, C_out=4, H=12, W=12, k=3, stride=1, padding=1)


def make_case(N, C_in, C_out, H, W, k, stride, padding, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, W)).astype(np.float32)
    w = (rng.standard_normal((C_out, C_in, k, k)) / np.sqrt(C_in * k * k)).astype(np.float32)
    b = rng.standard_normal(C_out).astype(np.float32)
    return x, w, b, stride, padding


def peak_bytes(fn):
    """Peak bytes allocated while fn() runs (its result kept alive until the peak is read)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def measure_level(mod, x, w, b, stride, padding, repeats, memory=True):
    out, cache = mod.conv2d_forward(x, w, b, stride, padding)
    dout = np.random.default_rng(1).standard_normal(out.shape).astype(np.float32)
    mod.conv2d_backward(dout, cache)                       # warm-up
    row = {"out_bytes": out.nbytes}
    if memory:
        row["fwd_peak"] = peak_bytes(lambda: mod.conv2d_forward(x, w, b, stride, padding))
        row["bwd_peak"] = peak_bytes(lambda: mod.conv2d_backward(dout, cache))
    row["fwd_time"] = measure(mod.conv2d_forward, x, w, b, stride, padding, repeats=repeats, warmup=0).best
    row["bwd_time"] = measure(mod.conv2d_backward, dout, cache, repeats=repeats, warmup=0).best
    return row


def mib(n):
    return f"{n / 2**20:.2f} MiB"


def ms(t):
    return f"{t * 1e3:.1f} ms" if t >= 1e-3 else f"{t * 1e3:.2f} ms"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Measure the memory and time of Topic 11's four levels.")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (the best is reported)")
    parser.add_argument("--impl", type=Path, help="also measure this file (e.g. your solution.py)")
    args = parser.parse_args(argv)
    columns = {"level 2": load_topic(11, level=2), "level 3": load_topic(11, level=3)}
    try:
        import torch
        torch.set_num_threads(1)                           # the NumPy levels run on one core as well
        columns["PyTorch CPU (1 thread)"] = load_topic(11, level=4)
    except ImportError:
        pass
    if args.impl:
        columns[f"{args.impl.name}"] = load_module(args.impl)
    for name, case in CASES.items():
        x, w, b, stride, padding = make_case(**case)
        rows = {col: measure_level(mod, x, w, b, stride, padding, args.repeats, memory=not col.startswith("PyTorch"))
                for col, mod in columns.items()}
        print(f"\n### x {x.shape} float32 ({mib(x.nbytes)}), w {w.shape}, {name}: output "
              f"{mib(rows['level 2']['out_bytes'])}\n")
        print("| | " + " | ".join(columns) + " |\n|---|" + "---|" * len(columns))
        for label, key, fmt in (("peak memory, forward", "fwd_peak", mib), ("peak memory, backward", "bwd_peak", mib),
                                ("forward", "fwd_time", ms), ("backward", "bwd_time", ms)):
            print(f"| {label} | " + " | ".join(fmt(r[key]) if key in r else "n/a" for r in rows.values()) + " |")
    x, w, b, stride, padding = make_case(**SMALL)
    level1 = measure_level(load_topic(11, level=1), x, w, b, stride, padding, repeats=3, memory=False)
    level2 = measure_level(columns["level 2"], x, w, b, stride, padding, args.repeats, memory=False)
    print(f"\n### level 1 on the small case x {x.shape}, w {w.shape}, padding 1")
    print(f"level 1: forward {ms(level1['fwd_time'])}, backward {ms(level1['bwd_time'])}; "
          f"level 2: forward {ms(level2['fwd_time'])}, backward {ms(level2['bwd_time'])} "
          f"({level1['fwd_time'] / level2['fwd_time']:.0f}x and {level1['bwd_time'] / level2['bwd_time']:.0f}x faster)")


if __name__ == "__main__":
    main()
