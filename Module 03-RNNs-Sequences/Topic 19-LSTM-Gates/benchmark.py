"""Topic 19's four levels timed on one character batch: forward, backward and peak memory.

    python benchmark.py [--repeats 9] [--threads 1]

One LSTM layer on x (32, 50, 65) float32 (the one-hot characters of a Tiny Shakespeare batch: 32 sequences of
50 characters, 65 distinct), H = 128, h0 = c0 = 0, a random upstream gradient on the hidden states and on c_n.
Printed: the median time of `--repeats` runs per level (level 1: one run), and the peak memory tracemalloc sees
during one call, the returned arrays included (PyTorch allocates outside it: n/a). BLAS and torch run on
`--threads` threads (default 1), so that the levels are compared as algorithms, not as thread pools.
Every level's outputs are checked against level 2 before they are timed.
"""

from __future__ import annotations

import argparse
import os
import sys


def _threads_from_argv(default="1"):
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return default


for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _threads_from_argv())  # must be set before NumPy loads its BLAS

import statistics
import time
import tracemalloc

import numpy as np

from dlfs.components import load_topic

N, T, D, H = 32, 50, 65, 128


def inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((N, T, D), np.float32)
    x[np.arange(N)[:, None], np.arange(T)[None], rng.integers(0, D, size=(N, T))] = 1.0   # one-hot characters
    bound = 1 / np.sqrt(H)
    w = [rng.uniform(-bound, bound, size=s).astype(np.float32) for s in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))]
    zeros = np.zeros((N, H), np.float32)
    dhs = rng.standard_normal((N, T, H)).astype(np.float32)
    dc_n = rng.standard_normal((N, H)).astype(np.float32)
    return x, zeros, w, dhs, dc_n


def timed(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mib(fn):
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2 ** 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="runs per level (level 1: one)")
    parser.add_argument("--threads", default="1", help="BLAS and torch threads (default 1)")
    args = parser.parse_args()
    x, zeros, w, dhs, dc_n = inputs()
    ref = load_topic(19, level=2)
    hs_ref, _, cache_ref = ref.lstm_forward(x, zeros, zeros, *w)
    dx_ref = ref.lstm_backward(dhs, cache_ref, dc_n)[0]
    print(f"LSTM layer, x ({N}, {T}, {D}) float32 -> H = {H}, {os.environ['OPENBLAS_NUM_THREADS']} BLAS thread(s)")
    print(f"{'level':<8} {'forward':>10} {'backward':>10} {'peak fwd':>10} {'peak bwd':>10}")
    for level in (1, 2, 3, 4):
        try:
            m = load_topic(19, level=level)
        except ImportError as exc:  # level 4 without PyTorch
            print(f"level {level}  skipped ({exc})")
            continue
        if level == 4:
            import torch

            torch.set_num_threads(int(args.threads))
        hs, _, cache = m.lstm_forward(x, zeros, zeros, *w)
        dx = m.lstm_backward(dhs, cache, dc_n)[0]
        assert np.allclose(hs, hs_ref, atol=1e-4) and np.allclose(dx, dx_ref, atol=1e-4), f"level {level} disagrees"
        repeats = 1 if level == 1 else args.repeats

        def forward(m=m):
            return m.lstm_forward(x, zeros, zeros, *w)

        def backward(m=m, cache=cache):
            return m.lstm_backward(dhs, cache, dc_n)

        fwd, bwd = timed(forward, repeats), timed(backward, repeats)
        mem = ("n/a", "n/a") if level == 4 else (f"{peak_mib(forward):.2f} MiB", f"{peak_mib(backward):.2f} MiB")
        print(f"level {level}  {fwd * 1e3:>8.1f} ms {bwd * 1e3:>8.1f} ms {mem[0]:>10} {mem[1]:>10}")


if __name__ == "__main__":
    main()
