"""What packing saves: the four levels of this topic on a batch of very different lengths.

    python benchmark.py [--n 64] [--t 100] [--repeats 5]

A 2-layer bidirectional GRU (input 32, hidden 64, float32) on a padded batch of N sequences of T steps at most,
the lengths drawn uniformly in [1, T] (about half of the batch is padding), and the same batch with every length
T (no padding, so nothing to save). For each level: the median time of stacked_forward and of stacked_backward,
the peak memory tracemalloc sees during one forward + backward (including the returned arrays; PyTorch allocates
outside it), and the number of rows the cell computes (N * T for a masked batch, sum(lengths) for a packed one).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

import numpy as np
from dlfs.components import load_topic


def make_inputs(N, T, lengths, D=32, H=64, seed=0):
    rng = np.random.default_rng(seed)
    layer = load_topic(21, level=2).StackedRNN(D, H, num_layers=2, bidirectional=True, rng=seed)
    x = rng.standard_normal((N, T, D)).astype(np.float32)
    h0 = np.zeros((4, N, H), np.float32)
    dout = rng.standard_normal((N, T, 2 * H)).astype(np.float32)
    return x, lengths, h0, layer.state_dict(), dout


def measure(m, inputs, repeats):
    x, lengths, h0, params, dout = inputs
    fwd, bwd = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        _, _, cache = m.stacked_forward(x, lengths, h0, params, 2, True)
        t1 = time.perf_counter()
        m.stacked_backward(dout, cache)
        t2 = time.perf_counter()
        fwd.append(t1 - t0)
        bwd.append(t2 - t1)
        del cache
    tracemalloc.start()
    _, _, cache = m.stacked_forward(x, lengths, h0, params, 2, True)
    m.stacked_backward(dout, cache)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(fwd), statistics.median(bwd), peak / 2 ** 20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--t", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    N, T = args.n, args.t
    spread = np.random.default_rng(1).integers(1, T + 1, size=N)
    for label, lengths in (("lengths uniform in [1, T]", spread), ("every length T", np.full(N, T))):
        inputs = make_inputs(N, T, lengths)
        print(f"\n{label}: N = {N}, T = {T}, sum(lengths) = {int(lengths.sum())} of N * T = {N * T} rows "
              f"({100 * lengths.sum() / (N * T):.0f} %)")
        print("| level | forward | backward | peak memory, forward + backward |")
        print("|---|---|---|---|")
        for level in (1, 2, 3, 4):
            m = load_topic(21, level=level)
            f, b, peak = measure(m, inputs, 1 if level == 1 else args.repeats)
            print(f"| {level} | {1000 * f:.0f} ms | {1000 * b:.0f} ms | {peak:.2f} MiB |")


if __name__ == "__main__":
    main()
