"""Peak memory (tracemalloc) and median time of one forward + BPTT, levels 2 and 3, float32.

    python benchmark.py
"""

import time
import tracemalloc

import numpy as np

from dlfs.components import load_topic

N, T, D, H = 32, 100, 65, 128


def main():
    r = np.random.default_rng(0)
    x = r.standard_normal((N, T, D)).astype(np.float32)
    h0 = np.zeros((N, H), np.float32)
    w = [(r.standard_normal(s) * 0.1).astype(np.float32) for s in [(H, D), (H, H), (H,), (H,)]]
    for level in (2, 3):
        m = load_topic(18, level=level)
        hs, c = m.rnn_forward(x, h0, *w)
        m.rnn_backward(np.ones_like(hs), c)
        tracemalloc.start()
        hs, c = m.rnn_forward(x, h0, *w)
        fwd = tracemalloc.get_traced_memory()[1]
        m.rnn_backward(np.ones_like(hs), c)
        both = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            hs, c = m.rnn_forward(x, h0, *w)
            m.rnn_backward(np.ones_like(hs), c)
            times.append(time.perf_counter() - t0)
        print(f"level {level}: forward peak {fwd / 2**20:.2f} MiB, forward+backward peak {both / 2**20:.2f} MiB, "
              f"median forward+backward {np.median(times) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
