"""Time and peak memory of one training step (loss + backward) of the four levels, at train.py's size.

    python benchmark.py                  # B = 64, source and target 11 tokens, V = 1,958 / 2,700, E = 128, H = 256
    python benchmark.py --repeats 3

Peak memory is what tracemalloc sees during one loss() + backward() (NumPy allocations, returned arrays included;
PyTorch allocates outside it). The (B, T, V) logits of this size are 64 x 11 x 2,700 float32 = 7.3 MiB.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import statistics
import time
import tracemalloc

import numpy as np
from dlfs.components import load_topic


def batch(B, S, T, Vs, Vt, seed=0):
    rng = np.random.default_rng(seed)
    src = np.concatenate([rng.integers(4, Vs, (B, S - 1)), np.full((B, 1), 2)], axis=1)
    tgt = np.concatenate([rng.integers(4, Vt, (B, T - 1)), np.full((B, 1), 2)], axis=1)
    return src, tgt


def measure(level, src, tgt, Vs, Vt, E, H, repeats):
    s2s = load_topic(23, level=level)
    model = s2s.Seq2Seq(Vs, Vt, E, H, rng=0)
    step = lambda: (model.loss(src, tgt, teacher_forcing=0.5, rng=0), model.backward())
    step()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    B, S, T, Vs, Vt, E, H = 64, 11, 11, 1958, 2700, 128, 256
    src, tgt = batch(B, S, T, Vs, Vt)
    print(f"one training step, B={B}, S=T={T}, V_src={Vs}, V_tgt={Vt}, E={E}, H={H}, float32, one BLAS thread")
    print(f"{'level':<7}{'time (median)':>15}{'peak memory':>14}")
    for level in (1, 2, 3, 4):
        seconds, peak = measure(level, src, tgt, Vs, Vt, E, H, args.repeats if level > 1 else 1)
        memory = f"{peak / 2**20:.2f} MiB" if level < 4 else "n/a"
        print(f"{level:<7}{1000 * seconds:>12.0f} ms{memory:>14}")


if __name__ == "__main__":
    main()
