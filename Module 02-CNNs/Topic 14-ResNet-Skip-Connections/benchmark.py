"""Peak memory and time of one training step (forward + backward) of BatchNorm2d and ResidualBlock, levels 2 and 3.

    python benchmark.py [--batch 32] [--channels 16] [--size 32] [--repeats 5]

Peak memory is measured with tracemalloc (NumPy reports its allocations to it) after one warm-up step, relative
to what was allocated before the step: it counts the new activations, caches and gradients of the step, and the
temporaries alive at the worst moment. Time: best of --repeats steps.

A residual block's peak is dominated by its convolutions' buffers, which Topic 12 decides. The rows "with the
other level's convolution" swap the `conv` module of a level for one run, to separate what this topic's level 3
saves (batch norm on NCHW, in-place ReLU and additions) from what Topic 12's level 3 saves.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np

from dlfs.components import load_topic

MiB = 2 ** 20


def step_peak(layer, x, dout):
    """(peak MiB of the forward, peak MiB of forward + backward) for one step after a warm-up step."""
    layer.forward(x)
    layer.backward(dout)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = layer.forward(x)
    forward_peak = tracemalloc.get_traced_memory()[1] - base
    dx = layer.backward(dout)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del out, dx
    return forward_peak / MiB, peak / MiB


def step_time(layer, x, dout, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        layer.forward(x)
        layer.backward(dout)
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--channels", type=int, default=16)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    N, C, S = args.batch, args.channels, args.size
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, C, S, S)).astype(np.float32)
    dout = rng.standard_normal(x.shape).astype(np.float32)
    print(f"input ({N}, {C}, {S}, {S}) float32: one activation = {x.nbytes / MiB:.2f} MiB")
    levels = {level: load_topic(14, level=level) for level in (2, 3)}
    convs = {level: load_topic(12, level=level) for level in (2, 3)}
    rows = [(f"level {lv} BatchNorm2d({C})", levels[lv], None, lambda m: m.BatchNorm2d(C)) for lv in (2, 3)]
    rows += [(f"level {lv} ResidualBlock({C}, {C})", levels[lv], None, lambda m: m.ResidualBlock(C, C, rng=0))
             for lv in (2, 3)]
    rows += [(f"level {lv} ResidualBlock, Topic 12 level {5 - lv} conv", levels[lv], convs[5 - lv],
              lambda m: m.ResidualBlock(C, C, rng=0)) for lv in (2, 3)]
    for name, module, conv_module, make in rows:
        original = module.conv
        if conv_module is not None:
            module.conv = conv_module
        try:
            layer = make(module)
            forward_peak, peak = step_peak(layer, x, dout)
            ms = step_time(layer, x, dout, args.repeats)
        finally:
            module.conv = original
        print(f"{name:45s} peak forward {forward_peak:7.2f} MiB   forward + backward {peak:7.2f} MiB   "
              f"step {ms:8.1f} ms")


if __name__ == "__main__":
    main()
