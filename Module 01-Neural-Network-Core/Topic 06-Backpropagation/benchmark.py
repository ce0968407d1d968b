"""Time and memory of one training step, level by level: the figures quoted in the README and in level 3.

    python benchmark.py                      # 784-512-10 on a batch of 256, levels 2, 3 (and 4 with PyTorch)
    python benchmark.py --impl solution.py   # add your own file to the table
    python benchmark.py --batch 64 --repeats 50

One step = forward + softmax_cross_entropy + backward of Sequential(Linear(784, 512), ReLU(), Linear(512, 10)),
the model Topic 10 trains on MNIST, measured in steady state (after a first step has sized any buffers).
"peak MB" is the largest amount of memory the step allocates on top of what already exists (tracemalloc);
"ms" is the median wall-clock time per step, "best ms" the fastest step, and "cpu ms" the median CPU time of
the process per step (all threads). On a busy machine, run `OPENBLAS_NUM_THREADS=1 python benchmark.py`:
with one BLAS thread the CPU time hardly depends on what else is running.
PyTorch (level 4) allocates through its own allocator, which tracemalloc does not see. "no dX" rows set
needs_input_grad = False on the first layer (level 3 only), as a training loop may: the data needs no gradient.
Level 1 is left out: its loops take about 100 s per step at this size.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

from dlfs.components import load_module
from dlfs.curriculum import LEVELS, topic_of_path
from dlfs.timer import measure


def training_step(module, sizes, batch, dtype, seed=0, input_grad=True):
    """A zero-argument function running one forward + loss + backward step of `module`'s layers.

    input_grad=False sets needs_input_grad = False on the first Linear (level 3): no gradient for the data.
    """
    rng = np.random.default_rng(seed)
    d_in, hidden, classes = sizes
    model = module.Sequential(module.Linear(d_in, hidden, rng=rng, dtype=dtype), module.ReLU(),
                              module.Linear(hidden, classes, rng=rng, dtype=dtype))
    if not input_grad:
        model[0].needs_input_grad = False
    X = rng.standard_normal((batch, d_in)).astype(dtype)
    y = rng.integers(0, classes, batch)

    def step():
        loss, dlogits = module.softmax_cross_entropy(model.forward(X), y)
        model.backward(dlogits)
        return loss

    return step


def peak_allocation(step) -> int:
    """Bytes allocated at the peak of one call of step(), on top of what was allocated before it."""
    step()  # steady state: buffers that are kept from call to call exist before the measurement
    tracemalloc.start()
    base, _ = tracemalloc.get_traced_memory()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak - base


def cpu_time(step, repeats: int) -> float:
    """Median CPU seconds (process time, every thread) per call of step()."""
    samples = []
    for _ in range(repeats):
        start = time.process_time()
        step()
        samples.append(time.process_time() - start)
    return statistics.median(samples)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Time and memory of one training step per level.")
    parser.add_argument("--impl", action="append", default=[], help="another file with the Topic 06 interface")
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--sizes", type=int, nargs=3, default=(784, 512, 10), metavar=("D", "H", "C"))
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)

    topic = topic_of_path(Path(__file__))
    files = {f"level {lv}": topic.level_file(lv) for lv in (2, 3, 4)}
    files.update({Path(p).name: Path(p) for p in args.impl})
    print(f"one training step of {args.sizes[0]}-{args.sizes[1]}-{args.sizes[2]} on a batch of {args.batch} "
          f"(median of {args.repeats})\n")
    print(f"{'implementation':<22} {'dtype':<8} {'peak MB':>9} {'ms':>8} {'best ms':>8} {'cpu ms':>8}")
    for label, path in files.items():
        try:
            module = load_module(path)
        except ImportError as exc:  # level 4 without PyTorch
            print(f"{label:<22} skipped ({exc})")
            continue
        variants = [(label, True)]
        if hasattr(module.Linear(2, 2), "needs_input_grad"):
            variants.append((label + ", no dX", False))
        for name, input_grad in variants:
            for dtype in (np.float32, np.float64):
                step = training_step(module, args.sizes, args.batch, dtype, input_grad=input_grad)
                peak = peak_allocation(step)
                timing = measure(step, repeats=args.repeats, warmup=2)
                cpu = cpu_time(step, args.repeats)
                print(f"{name:<22} {np.dtype(dtype).name:<8} {peak / 1e6:>9.3f} {timing.median * 1e3:>8.2f} "
                      f"{timing.best * 1e3:>8.2f} {cpu * 1e3:>8.2f}")
    print(f"\nlevels: {', '.join(f'{k} = {v}' for k, v in LEVELS.items())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
