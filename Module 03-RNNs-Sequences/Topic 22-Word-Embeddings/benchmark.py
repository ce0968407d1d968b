"""Time and memory of one SGD step and of one training epoch, for the four levels of this topic.

    OPENBLAS_NUM_THREADS=1 python benchmark.py            # V = 3,322 (TinyShakespeare, min_count 5) and V = 100,000
    python benchmark.py --repeats 9

A step is B = 256 pairs with K = 5 negatives, D = 64, float32 (train.py's setting). Level 1 is timed once on a
smaller batch (B = 32) and scaled, it loops in Python. Peak memory is what tracemalloc sees during one call
(PyTorch allocates outside it). The epoch rows train on 100,000 pairs with train_skipgram.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from dlfs.components import load_topic


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def peak_mib(fn):
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2 ** 20


def step_inputs(V, B, K, D, seed=0):
    rng = np.random.default_rng(seed)
    W_in = ((rng.random((V, D)) - 0.5) / D).astype(np.float32)
    W_out = (rng.standard_normal((V, D)) * 0.01).astype(np.float32)
    hot = min(V, 3000)  # the pairs of a real batch fall on the frequent words
    return W_in, W_out, rng.integers(0, hot, B), rng.integers(0, hot, B), rng.integers(0, hot, (B, K))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    levels = {level: load_topic(22, level=level) for level in (1, 2, 3, 4)}
    B, K, D = 256, 5, 64
    print(f"one sgd_step: B = {B}, K = {K}, D = {D}, float32; median of {args.repeats} runs")
    print(f"{'V':>8} {'level':>6} {'time (ms)':>10} {'peak (MiB)':>11}")
    for V in (3322, 100_000):
        for level, w2v in levels.items():
            b = 32 if level == 1 else B
            W_in, W_out, c, o, neg = step_inputs(V, b, K, D)
            def step(w2v=w2v, W_in=W_in, W_out=W_out, c=c, o=o, neg=neg):
                return w2v.sgd_step(W_in, W_out, c, o, neg, 0.01)

            step()
            seconds = median_time(step, 1 if level == 1 else args.repeats) * (B / b)
            peak = peak_mib(step)
            note = f"  (B = {b}, time scaled x{B // b})" if b != B else ""
            print(f"{V:>8} {level:>6} {1000 * seconds:>10.2f} {peak:>11.2f}{note}")
    P, V = 100_000, 3322
    print(f"\none epoch of train_skipgram: {P:,} pairs, V = {V:,}, B = {B}, K = {K}, D = {D}, float32")
    for level in (2, 3, 4):
        w2v = levels[level]
        W_in, W_out, c, o, _ = step_inputs(V, P, K, D, seed=1)
        noise = np.full(V, 1 / V)
        def run(w2v=w2v, W_in=W_in, W_out=W_out, c=c, o=o, noise=noise):
            return w2v.train_skipgram(W_in, W_out, c, o, noise, num_negatives=K, lr=0.01, batch_size=B, rng=0)

        seconds = median_time(run, 3)
        print(f"level {level}: {seconds:.2f} s, peak {peak_mib(run):.2f} MiB")


if __name__ == "__main__":
    main()
