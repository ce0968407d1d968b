"""Memory and time of the convolution levels, the figures quoted in README.md ("Level 3: memory and time").

    python benchmark.py [--n 8] [--c 64] [--size 32] [--repeats 5]

For x of shape (N, C, size, size) in float32 and C -> C channels it measures, for levels 2 and 3 (and
PyTorch when installed), a standard 3x3, a grouped 3x3 (groups=4), a dilated 3x3 (dilation 2), a depthwise
3x3 and a pointwise 1x1 convolution:
- the peak memory of the forward pass and of forward + backward (tracemalloc: every NumPy allocation);
- the bytes the cache keeps between forward and backward;
- the best time of `repeats` forward + backward calls.
Level 4 is timed, not traced (tracemalloc does not see PyTorch's allocator).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from dlfs.components import load_topic

MiB = 2 ** 20


def cases(c):
    return [("standard 3x3", (c, c, 3, 3), dict(padding=1)),
            ("grouped 3x3, g=4", (c, c // 4, 3, 3), dict(padding=1, groups=4)),
            ("dilated 3x3, d=2", (c, c, 3, 3), dict(padding=2, dilation=2)),
            ("depthwise 3x3", (c, 1, 3, 3), dict(padding=1, groups=c)),
            ("pointwise 1x1", (c, c, 1, 1), dict())]


def cache_bytes(cache):
    return sum(v.nbytes for v in cache.values() if isinstance(v, np.ndarray))


def peak(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    _, top = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return top, result


def best_time(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--c", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.n, args.c, args.size, args.size)).astype(np.float32)
    print(f"x {x.shape} float32 = {x.nbytes / MiB:.2f} MiB")
    levels = {2: load_topic(15, level=2), 3: load_topic(15, level=3)}
    try:
        levels[4] = load_topic(15, level=4)
    except ImportError:
        pass
    print(f"{'case':<18} {'level':>5} {'fwd peak':>10} {'fwd+bwd peak':>13} {'cache':>10} {'fwd+bwd time':>13}")
    for name, w_shape, kwargs in cases(args.c):
        w = rng.standard_normal(w_shape).astype(np.float32) * 0.1
        b = np.zeros(args.c, dtype=np.float32)
        for level, m in levels.items():
            out, cache = m.conv2d_forward(x, w, b, **kwargs)
            dout = np.ones_like(out)
            if level != 4:
                del out, cache
                fwd_peak, (out, cache) = peak(lambda: m.conv2d_forward(x, w, b, **kwargs))
                kept = cache_bytes(cache)
                del out, cache
                both_peak, _ = peak(lambda: m.conv2d_backward(dout, m.conv2d_forward(x, w, b, **kwargs)[1]))
                mem = f"{fwd_peak / MiB:>9.2f}M {both_peak / MiB:>12.2f}M {kept / MiB:>9.2f}M"
            else:
                mem = f"{'-':>10} {'-':>13} {'-':>10}"
            t = best_time(lambda: m.conv2d_backward(dout, m.conv2d_forward(x, w, b, **kwargs)[1]), args.repeats)
            print(f"{name:<18} {level:>5} {mem} {t * 1e3:>10.1f} ms")


if __name__ == "__main__":
    main()
