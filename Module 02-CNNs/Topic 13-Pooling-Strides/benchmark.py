"""Memory and time of the pooling levels, the figures quoted in README.md ("Level 3: memory").

    python benchmark.py [--n 64] [--c 32] [--size 32] [--repeats 20]

For x of shape (N, C, H, W) in float32 it measures, for levels 2 and 3 (and PyTorch when installed):
- the peak memory of the forward pass and of forward + backward (tracemalloc: every NumPy allocation);
- the bytes the cache keeps between forward and backward (the mask of max pooling);
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

CASES = [
    ("max 2x2", "max", dict(kernel_size=2)),
    ("max 3x3 s2 p1", "max", dict(kernel_size=3, stride=2, padding=1)),
    ("avg 2x2", "avg", dict(kernel_size=2)),
    ("avg 3x3 s2 p1", "avg", dict(kernel_size=3, stride=2, padding=1)),
]


def cache_bytes(cache):
    """Bytes of the arrays a cache holds (what stays alive between forward and backward)."""
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
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--c", type=int, default=32)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args(argv)
    x = np.random.default_rng(0).standard_normal((args.n, args.c, args.size, args.size)).astype(np.float32)
    print(f"x {x.shape} float32 = {x.nbytes / MiB:.2f} MiB")
    levels = {2: load_topic(13, level=2), 3: load_topic(13, level=3)}
    try:
        levels[4] = load_topic(13, level=4)
    except ImportError:
        pass
    header = f"{'case':<15} {'level':>5} {'fwd peak':>10} {'fwd+bwd peak':>13} {'cache':>10} {'fwd+bwd time':>13}"
    print(header)
    for name, kind, kwargs in CASES:
        for level, m in levels.items():
            fwd = getattr(m, f"{kind}pool2d_forward")
            bwd = getattr(m, f"{kind}pool2d_backward")
            out, cache = fwd(x, **kwargs)
            dout = np.ones_like(out)
            if level != 4:
                fwd_peak, (out, cache) = peak(lambda: fwd(x, **kwargs))
                kept = cache_bytes(cache)
                del out, cache
                both_peak, _ = peak(lambda: bwd(dout, fwd(x, **kwargs)[1]))
                mem = f"{fwd_peak / MiB:>9.2f}M {both_peak / MiB:>12.2f}M {kept / MiB:>9.3f}M"
            else:
                mem = f"{'-':>10} {'-':>13} {'-':>10}"
            t = best_time(lambda: bwd(dout, fwd(x, **kwargs)[1]), args.repeats)
            print(f"{name:<15} {level:>5} {mem} {t * 1e3:>10.2f} ms")
    n_out = out.size
    print(f"\nmask of max 2x2 as a boolean array of x's shape (CS231n style): {x.size / MiB:.2f} MiB; "
          f"one int64 per window: {8 * n_out / MiB:.2f} MiB; one uint8 per window: {n_out / MiB:.2f} MiB")


if __name__ == "__main__":
    main()
