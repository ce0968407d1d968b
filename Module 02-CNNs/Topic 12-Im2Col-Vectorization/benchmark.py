"""Speed and memory of im2col convolution, measured on this machine: levels 1-3 against PyTorch's CPU kernel.

    python benchmark.py                     # the memory table and the four timed shapes (a few minutes on 2 cores)
    python benchmark.py --repeats 9         # more timing runs per implementation (the median is reported)
    python benchmark.py --case 64x64-32x32  # one shape only
    python benchmark.py --impl solution.py  # your file as one more column
    python benchmark.py --memory-only       # the column-matrix sizes only (no timing, a second)

Time: one training step of a convolution, forward + backward (dx, dw, db) on float32, as the median of
--repeats runs. The implementations are run in turn within each repeat (level 2, level 3, PyTorch, ...),
so that a busy moment of the machine hits all of them alike, and every ratio compares numbers of this one
run. PyTorch runs with as many threads as NumPy's BLAS (OPENBLAS_NUM_THREADS, else every core).
Level 1 loops over the N * H_out * W_out output positions in Python: it is timed with --slow-repeats runs.
Topic 11's naive level (seven nested Python loops) would take hours: it is timed on one image and one
output channel, and its time is multiplied by N * C_out (its loops are linear in both).

Memory: the column matrix of the whole batch against the input (the formula C * kh * kw * N * H_out * W_out
elements, checked against the array im2col returns for one image) for the layers of MEMORY_SHAPES, and, for the
timed shapes, the peak that tracemalloc sees during one forward and during one backward pass of levels 2 and 3
(PyTorch allocates outside Python's allocator: not measured).

At the end one summary table gives every timed shape's forward and backward time per implementation and its
ratio to PyTorch, all from this one run. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
import tracemalloc
from pathlib import Path

import numpy as np

from dlfs.components import load_module, load_topic
from dlfs.curriculum import topic

CASES = {
    "cifar-3x64-32x32": dict(N=128, C_in=3, C_out=64, H=32, W=32, k=3, stride=1, padding=1),
    "64x64-32x32": dict(N=128, C_in=64, C_out=64, H=32, W=32, k=3, stride=1, padding=1),
    "64x64-16x16": dict(N=128, C_in=64, C_out=64, H=16, W=16, k=3, stride=1, padding=1),
    "128x128-16x16-s2": dict(N=128, C_in=128, C_out=128, H=16, W=16, k=3, stride=2, padding=1),
}

# (name, N, C, H, W, k, stride, padding): layers of the networks of this module and a few well-known ones
MEMORY_SHAPES = [
    ("CIFAR-10 input, 3x3 'same'", 128, 3, 32, 32, 3, 1, 1),
    ("64 channels 32x32, 3x3 'same'", 128, 64, 32, 32, 3, 1, 1),
    ("64 channels 16x16, 3x3 'same'", 128, 64, 16, 16, 3, 1, 1),
    ("128 channels 16x16, 3x3 stride 2", 128, 128, 16, 16, 3, 2, 1),
    ("64 channels 16x16, 1x1", 128, 64, 16, 16, 1, 1, 0),
    ("ResNet stem, ImageNet 224x224, 7x7 stride 2", 32, 3, 224, 224, 7, 2, 3),
]


def make_case(N, C_in, C_out, H, W, k, stride, padding, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, C_in, H, W), dtype=np.float32)
    w = (rng.standard_normal((C_out, C_in, k, k), dtype=np.float32) / np.float32(np.sqrt(C_in * k * k)))
    b = rng.standard_normal(C_out, dtype=np.float32)
    Ho = (H + 2 * padding - k) // stride + 1
    Wo = (W + 2 * padding - k) // stride + 1
    dout = rng.standard_normal((N, C_out, Ho, Wo), dtype=np.float32)
    return x, w, b, dout


def numpy_step(mod, x, w, b, stride, padding, dout):
    """One forward + backward of a NumPy level; returns (forward seconds, backward seconds)."""
    t0 = time.perf_counter()
    out, cache = mod.conv2d_forward(x, w, b, stride, padding)
    t1 = time.perf_counter()
    mod.conv2d_backward(dout, cache)
    t2 = time.perf_counter()
    return t1 - t0, t2 - t1


def torch_step_factory(x, w, b, stride, padding, dout):
    import torch
    import torch.nn.functional as F

    xt = torch.from_numpy(x).requires_grad_(True)
    wt = torch.from_numpy(w).requires_grad_(True)
    bt = torch.from_numpy(b).requires_grad_(True)
    gt = torch.from_numpy(dout)

    def step():
        t0 = time.perf_counter()
        out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
        t1 = time.perf_counter()
        torch.autograd.grad(out, (xt, wt, bt), gt)
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1

    return step


def peak_bytes(fn):
    """Peak bytes NumPy allocates while fn() runs (its result alive until the peak is read), inputs excluded."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak


def mib(n):
    return f"{n / 2 ** 20:.1f} MiB"


def ms(t):
    return f"{t * 1e3:.0f} ms" if t >= 0.1 else f"{t * 1e3:.1f} ms"


def run_case(name, case, columns, repeats, slow_repeats, skip_slow):
    x, w, b, dout = make_case(**case)
    stride, padding, k = case["stride"], case["padding"], case["k"]
    steps = {label: (lambda mod=mod: numpy_step(mod, x, w, b, stride, padding, dout)) for label, mod in columns.items()}
    try:
        steps["PyTorch"] = torch_step_factory(x, w, b, stride, padding, dout)
    except ImportError:
        pass
    for step in steps.values():                                   # warm-up: workspaces, BLAS threads, caches
        step()
    times = {label: [] for label in steps}
    for _ in range(repeats):
        for label, step in steps.items():
            times[label].append(step())
    result = {"case": name, **case, "time_s": {}, "memory_bytes": {}}
    for label, samples in times.items():
        fwd = statistics.median(s[0] for s in samples)
        bwd = statistics.median(s[1] for s in samples)
        step_med = statistics.median(s[0] + s[1] for s in samples)
        result["time_s"][label] = {"forward": fwd, "backward": bwd, "step": step_med}

    if not skip_slow:
        level1 = load_topic(12, level=1)
        samples = [numpy_step(level1, x, w, b, stride, padding, dout) for _ in range(slow_repeats)]
        result["time_s"]["level 1"] = {"forward": statistics.median(s[0] for s in samples),
                                       "backward": statistics.median(s[1] for s in samples),
                                       "step": statistics.median(s[0] + s[1] for s in samples)}
        if topic(11).level_file(1).is_file():
            t11 = load_topic(11, level=1)
            one = numpy_step(t11, x[:1], w[:1], b[:1], stride, padding, dout[:1, :1])
            scale = case["N"] * case["C_out"]
            result["time_s"]["Topic 11 level 1 (extrapolated)"] = {"forward": one[0] * scale,
                                                                   "backward": one[1] * scale,
                                                                   "step": (one[0] + one[1]) * scale}

    reference = columns.get("level 2") or next(iter(columns.values()))
    cols = reference.im2col(x[:2], k, k, stride, padding)
    Ho = (case["H"] + 2 * padding - k) // stride + 1
    Wo = (case["W"] + 2 * padding - k) // stride + 1
    formula = case["C_in"] * k * k * case["N"] * Ho * Wo * x.itemsize
    assert cols.nbytes * case["N"] // 2 == formula, "the column matrix does not have the size of the formula"
    result["memory_bytes"]["input"] = x.nbytes
    result["memory_bytes"]["column matrix (whole batch)"] = formula
    result["memory_bytes"]["overhead factor"] = formula / x.nbytes
    for label, mod in columns.items():
        _, cache = mod.conv2d_forward(x, w, b, stride, padding)
        result["memory_bytes"][f"{label} forward peak"] = peak_bytes(lambda: mod.conv2d_forward(x, w, b, stride, padding))
        result["memory_bytes"][f"{label} backward peak"] = peak_bytes(lambda: mod.conv2d_backward(dout, cache))
        cache = None  # free the column matrices before the next level
    return result


def memory_table(im2col):
    """The column matrix against the input for every layer of MEMORY_SHAPES, in float32 bytes."""
    rows = []
    for name, N, C, H, W, k, stride, padding in MEMORY_SHAPES:
        Ho, Wo = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
        formula = C * k * k * N * Ho * Wo * 4
        one = im2col(np.zeros((1, C, H, W), dtype=np.float32), k, k, stride, padding)
        assert one.nbytes * N == formula, f"{name}: im2col's matrix does not have the size of the formula"
        rows.append({"layer": name, "x_shape": [N, C, H, W], "k": k, "stride": stride, "padding": padding,
                     "input_bytes": N * C * H * W * 4, "cols_bytes": formula,
                     "overhead": formula / (N * C * H * W * 4)})
    return rows


def print_memory_table(rows):
    print("\n### The column matrix of the whole batch against the input (float32)\n")
    print("| layer | x (N, C, H, W) | kernel, stride, padding | input | column matrix | overhead |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['layer']} | {tuple(r['x_shape'])} | {r['k']}x{r['k']}, {r['stride']}, {r['padding']} | "
              f"{mib(r['input_bytes'])} | {mib(r['cols_bytes'])} | {r['overhead']:.2f}x |")


def print_summary(results):
    """One table for every timed shape: forward and backward per implementation, and the ratio to PyTorch."""
    print("\n### Summary: median forward / backward time, and the ratio to PyTorch's of the same run\n")
    labels = list(dict.fromkeys(label for r in results for label in r["time_s"]))
    print("| shape | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for r in results:
        t = r["time_s"]
        torch_t = t.get("PyTorch")
        cells = []
        for label in labels:
            if label not in t:
                cells.append("")
                continue
            fwd, bwd = t[label]["forward"], t[label]["backward"]
            ratio = f" ({fwd / torch_t['forward']:.1f}x / {bwd / torch_t['backward']:.1f}x)" \
                if torch_t and label != "PyTorch" else ""
            cells.append(f"{ms(fwd)} / {ms(bwd)}{ratio}")
        shape = (f"{r['N']}x{r['C_in']}x{r['H']}x{r['W']} -> {r['C_out']}, {r['k']}x{r['k']}, "
                 f"s{r['stride']} p{r['padding']}")
        print(f"| {shape} | " + " | ".join(cells) + " |")


def print_case(result):
    c = result
    print(f"\n### N={c['N']}, C_in={c['C_in']} -> C_out={c['C_out']}, {c['H']}x{c['W']}, {c['k']}x{c['k']}, "
          f"stride {c['stride']}, padding {c['padding']} (float32)\n")
    t = c["time_s"]
    torch_step = t.get("PyTorch", {}).get("step")
    print("| implementation | forward | backward | forward + backward | vs PyTorch | vs level 1 |")
    print("|---|---|---|---|---|---|")
    level1 = t.get("level 1", {}).get("step")
    for label, row in t.items():
        vs_torch = f"{row['step'] / torch_step:.2f}x" if torch_step else "n/a"
        vs_l1 = f"{level1 / row['step']:.0f}x faster" if level1 and label != "level 1" else ""
        print(f"| {label} | {ms(row['forward'])} | {ms(row['backward'])} | {ms(row['step'])} | {vs_torch} | {vs_l1} |")
    m = c["memory_bytes"]
    print(f"\ninput {mib(m['input'])}; column matrix of the whole batch {mib(m['column matrix (whole batch)'])} "
          f"= {m['overhead factor']:.2f}x the input (C_in * k^2 * H_out * W_out / (C_in * H * W))")
    for key, value in m.items():
        if "peak" in key:
            print(f"- {key}: {mib(value)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description="Time and memory of Topic 12's im2col convolution vs PyTorch.")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per implementation (median reported)")
    parser.add_argument("--slow-repeats", type=int, default=1, help="timed runs of level 1")
    parser.add_argument("--skip-slow", action="store_true", help="do not time level 1 and Topic 11's naive level")
    parser.add_argument("--case", choices=sorted(CASES), action="append", help="shape(s) to run (default: all)")
    parser.add_argument("--batch", type=int, help="override the batch size N of every case")
    parser.add_argument("--impl", type=Path, help="also measure this file (e.g. your solution.py)")
    parser.add_argument("--memory-only", action="store_true", help="only the table of column-matrix sizes")
    args = parser.parse_args(argv)

    threads = int(os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or os.cpu_count())
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        pass
    columns = {"level 2": load_topic(12, level=2), "level 3": load_topic(12, level=3)}
    if args.impl:
        columns[args.impl.name] = load_module(args.impl)
    print(f"NumPy {np.__version__} (BLAS threads: {threads}); PyTorch with {threads} threads; "
          f"{os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f}")
    memory = memory_table(columns["level 2"].im2col)
    print_memory_table(memory)
    results = []
    for name in [] if args.memory_only else (args.case or list(CASES)):
        case = dict(CASES[name])
        if args.batch:
            case["N"] = args.batch
        result = run_case(name, case, columns, args.repeats, args.slow_repeats, args.skip_slow)
        print_case(result)
        results.append(result)
    if results:
        print_summary(results)
    print(json.dumps({"threads": threads, "repeats": args.repeats, "slow_repeats": args.slow_repeats,
                      "cpu_count": os.cpu_count(), "memory": memory, "cases": results}))


if __name__ == "__main__":
    main()
