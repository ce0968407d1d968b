"""NumPy against PyTorch on the CPU: the same ResNet, the same batches, timed side by side in one run.

    python benchmark.py                          # training steps, levels 2 and 3 against level 4 (PyTorch)
    python benchmark.py --repeats 7 --steps 10   # more samples for the medians
    python benchmark.py --levels 3 --batch-size 256

It ends with conv2d forward + backward at the network's shapes: Topic 12's fastest level against torch.

Every level builds the network from the same seed (level 4 copies the NumPy initial weights into torch.nn
modules), and trains on the same real CIFAR-10 batches. The levels take turns, round after round, so that a
slow moment of a shared machine falls on all of them alike; each figure is the median over the rounds of the
mean time of one training step (forward, backward, SGD update) or of one evaluation batch. The ratio
NumPy / PyTorch is taken within each round, then its median is reported. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time

import numpy as np

from dlfs.components import load_topic
from dlfs.datasets import DatasetNotFoundError

TOPIC = 17


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="2,3", help="NumPy levels to time against level 4")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--widths", default="32,64,128")
    parser.add_argument("--steps", type=int, default=5, help="training steps per level and round")
    parser.add_argument("--repeats", type=int, default=5, help="rounds")
    parser.add_argument("--data-dir", default=None)
    return parser.parse_args(argv)


def time_training(topic, model, optimizer, batches):
    """Mean seconds of one training step over the batches (the first batch of the run warms up outside)."""
    start = time.perf_counter()
    for xb, yb in batches:
        topic.train_step(model, optimizer, xb, yb, smoothing=0.1)
    return (time.perf_counter() - start) / len(batches)


def time_evaluation(topic, model, x, y):
    start = time.perf_counter()
    topic.evaluate(model, x, y, batch_size=len(x))
    return time.perf_counter() - start


# (N, C_in, H, W, C_out) of the 3x3, padding-1 convolutions of the default network, batch 128
FLAGSHIP_CONVS = [(128, 3, 32, 32, 32), (128, 32, 16, 16, 64), (128, 64, 8, 8, 64), (128, 64, 8, 8, 128),
                  (128, 128, 4, 4, 128)]


def time_convolutions(repeats):
    """conv2d forward + backward at the flagship's shapes: Topic 12's fastest level against torch, interleaved."""
    import torch
    conv = load_topic(12, level=3)
    rng = np.random.default_rng(0)
    rows = []
    for N, C, H, W, C_out in FLAGSHIP_CONVS:
        x = rng.standard_normal((N, C, H, W), dtype=np.float32)
        w = rng.standard_normal((C_out, C, 3, 3), dtype=np.float32)
        dout = rng.standard_normal((N, C_out, H, W), dtype=np.float32)
        tx, tw = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
        tdout = torch.from_numpy(dout)

        def numpy_pass():
            _, cache = conv.conv2d_forward(x, w, None, 1, 1)
            conv.conv2d_backward(dout, cache)

        def torch_pass():
            torch.nn.functional.conv2d(tx, tw, padding=1).backward(tdout)

        numpy_pass(), torch_pass()
        samples = {"numpy": [], "torch": []}
        for _ in range(repeats):
            for name, f in (("numpy", numpy_pass), ("torch", torch_pass)):
                start = time.perf_counter()
                f()
                samples[name].append(time.perf_counter() - start)
        t_np, t_torch = statistics.median(samples["numpy"]), statistics.median(samples["torch"])
        rows.append({"shape": [N, C, H, W, C_out], "numpy_s": round(t_np, 4), "torch_s": round(t_torch, 4),
                     "ratio": round(t_np / t_torch, 2)})
    return rows


def main(argv=None):
    args = parse_args(argv)
    levels = [int(v) for v in args.levels.split(",")] + [4]
    widths = tuple(int(w) for w in args.widths.split(","))
    reference = load_topic(TOPIC, level=3)
    try:
        data = reference.load_data(subset=args.batch_size * args.steps, data_dir=args.data_dir)
    except DatasetNotFoundError as exc:
        raise SystemExit(f"benchmark.py: {exc}")
    x, y = data["train"]
    batches = [(x[i:i + args.batch_size], y[i:i + args.batch_size]) for i in range(0, len(x), args.batch_size)]
    runs = {}
    for level in levels:
        topic = load_topic(TOPIC, level=level)
        model = topic.build_resnet(widths, seed=0)
        optimizer = topic.make_optimizer(model, lr=0.05)
        topic.train_step(model, optimizer, *batches[0])          # warm-up: buffers, caches, thread pools
        runs[level] = (topic, model, optimizer)

    train = {level: [] for level in levels}
    evaluate = {level: [] for level in levels}
    for _ in range(args.repeats):
        for level, (topic, model, optimizer) in runs.items():
            train[level].append(time_training(topic, model, optimizer, batches))
            evaluate[level].append(time_evaluation(topic, model, *batches[0]))

    def ratio(samples, level):
        return statistics.median(a / b for a, b in zip(samples[level], samples[4]))

    print(f"CIFAR-10 ResNet widths {widths}, batch {args.batch_size}, {args.steps} steps x {args.repeats} rounds "
          f"({platform.processor() or platform.machine()})")
    print(f"{'level':<22}{'train step':>12}{'eval batch':>12}{'train ÷ torch':>15}{'eval ÷ torch':>14}")
    result = {"batch_size": args.batch_size, "widths": list(widths), "steps": args.steps, "repeats": args.repeats}
    for level in levels:
        name = {1: "1 naive", 2: "2 vectorized", 3: "3 memory-efficient", 4: "4 PyTorch"}[level]
        t, e = statistics.median(train[level]), statistics.median(evaluate[level])
        rt, re_ = ratio(train, level), ratio(evaluate, level)
        print(f"{name:<22}{t:>11.3f}s{e:>11.3f}s{rt:>15.2f}{re_:>14.2f}")
        result[f"level{level}"] = {"train_step_s": round(t, 4), "eval_batch_s": round(e, 4),
                                   "train_ratio_to_torch": round(rt, 3), "eval_ratio_to_torch": round(re_, 3)}
    print("\nconv2d 3x3 forward + backward, Topic 12 level 3 against torch.nn.functional.conv2d (median of "
          f"{args.repeats * 2} each)")
    result["conv2d"] = time_convolutions(args.repeats * 2)
    for row in result["conv2d"]:
        N, C, H, W, C_out = row["shape"]
        print(f"  x ({N}, {C:>3}, {H:>2}, {W:>2}) -> {C_out:>3} channels: {row['numpy_s'] * 1000:7.1f} ms  "
              f"torch {row['torch_s'] * 1000:6.1f} ms  ratio {row['ratio']:.2f}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
