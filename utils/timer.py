"""Benchmark helpers: repeat a call, take the median, compare two implementations as a ratio.

Speed is judged by ratios measured in one process (yours vs the reference, same inputs, same machine),
never by absolute times, which change from laptop to laptop.

    python utils/timer.py        # runnable example: loops vs NumPy for a dot product
"""

from __future__ import annotations

import statistics
import time
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass
class Timing:
    median: float  # seconds per call
    best: float
    repeats: int

    def __str__(self) -> str:
        return f"median {format_seconds(self.median)} (best {format_seconds(self.best)}, {self.repeats} runs)"


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def measure(fn, *args, repeats: int = 5, warmup: int = 1, min_time: float = 0.0, **kwargs) -> Timing:
    """Call fn(*args, **kwargs) `warmup` times, then `repeats` timed times; return the median and best.

    With min_time > 0, each timed sample loops the call until it lasts at least min_time seconds
    (useful for calls of a few microseconds, where the clock's resolution would dominate).
    """
    if repeats < 1:
        raise ValueError("repeats must be >= 1")
    for _ in range(warmup):
        fn(*args, **kwargs)
    samples = []
    for _ in range(repeats):
        calls, start = 0, time.perf_counter()
        while True:
            fn(*args, **kwargs)
            calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        samples.append(elapsed / calls)
    return Timing(median=statistics.median(samples), best=min(samples), repeats=repeats)


def speed_ratio(candidate, reference, *args, repeats: int = 5, **kwargs) -> tuple[float, Timing, Timing]:
    """Median time of candidate / median time of reference, both called with the same arguments.

    The two are interleaved sample by sample so that a busy moment of the machine hits both alike.
    A ratio of 2.0 means the candidate is twice as slow as the reference.
    """
    cand, ref = [], []
    candidate(*args, **kwargs)
    reference(*args, **kwargs)
    for _ in range(repeats):
        cand.append(measure(candidate, *args, repeats=1, warmup=0, **kwargs).median)
        ref.append(measure(reference, *args, repeats=1, warmup=0, **kwargs).median)
    c = Timing(statistics.median(cand), min(cand), repeats)
    r = Timing(statistics.median(ref), min(ref), repeats)
    return c.median / max(r.median, 1e-12), c, r


@contextmanager
def timed(label: str = "block", printer=print):
    """Context manager that prints how long its block took: `with timed("epoch"): ...`."""
    start = time.perf_counter()
    yield
    printer(f"{label}: {format_seconds(time.perf_counter() - start)}")


if __name__ == "__main__":
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(20_000), rng.standard_normal(20_000)

    def dot_loop(x, y):
        total = 0.0
        for xi, yi in zip(x.tolist(), y.tolist()):
            total += xi * yi
        return total

    ratio, loop_t, numpy_t = speed_ratio(dot_loop, np.dot, a, b)
    print(f"python loop : {loop_t}")
    print(f"np.dot      : {numpy_t}")
    print(f"ratio       : the loop is {ratio:.0f}x slower than np.dot")
    with timed("one more loop"):
        dot_loop(a, b)
