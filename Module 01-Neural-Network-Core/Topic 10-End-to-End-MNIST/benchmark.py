"""NumPy (this curriculum, level 3) vs PyTorch on the CPU: the same MNIST training, side by side.

    python benchmark.py                   # 3 repeats x 3 epochs of each, interleaved
    python benchmark.py --epochs 8 --repeats 5 --markdown

Both sides train the same model (784-512-256-10 ReLU MLP) from the SAME initial weights (copied from the
NumPy model into torch.nn.Linear), with the same optimizer (Adam, lr 1e-3, cosine decay), batch size,
batch order (the same index arrays), float32 and all the machine's cores. The runs alternate
(NumPy, PyTorch, NumPy, ...) so that a busy moment of the machine hits both alike.
Reported: median seconds per epoch of each, their ratio (NumPy / PyTorch: below 1.0 means NumPy is faster),
and the final test accuracy of each. The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
from dlfs.components import load_topic
from dlfs.datasets import epoch_permutation


def numpy_run(mnist, optim, data, args, hidden):
    """Train with the NumPy level-3 stack; returns (seconds per epoch, test accuracy, initial weights)."""
    model = mnist.build_mlp([784, *hidden, 10], seed=args.seed)
    initial = mnist.get_weights(model)
    optimizer = mnist.make_optimizer(model, "adam", lr=args.lr)
    total = args.epochs * -(-len(data["train"][0]) // args.batch_size)
    history = mnist.fit(model, optimizer, data["train"], None, epochs=args.epochs, batch_size=args.batch_size,
                        seed=args.seed, lr_schedule=lambda s: optim.cosine_lr(s, args.lr, total), progress=False)
    return history["epoch_seconds"], mnist.evaluate(model, *data["test"])[1], initial


def torch_run(mnist, optim, data, args, hidden, initial):
    """The same training in PyTorch (nn.Linear, F.cross_entropy, torch.optim.Adam), same init and batches."""
    import torch

    sizes = [784, *hidden, 10]
    modules = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        linear = torch.nn.Linear(d_in, d_out)
        with torch.no_grad():  # NumPy keeps W as (in, out), torch as (out, in)
            linear.weight.copy_(torch.from_numpy(initial[2 * i].T.copy()))
            linear.bias.copy_(torch.from_numpy(initial[2 * i + 1]))
        modules.append(linear)
        if i < len(sizes) - 2:
            modules.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*modules)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    x, y = (torch.from_numpy(a) for a in data["train"])
    steps = -(-len(x) // args.batch_size)
    total = args.epochs * steps
    epoch_seconds = []
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.from_numpy(epoch_permutation(len(x), args.seed, epoch))
        for i in range(steps):
            idx = order[i * args.batch_size:(i + 1) * args.batch_size]
            for group in optimizer.param_groups:
                group["lr"] = optim.cosine_lr(epoch * steps + i, args.lr, total)
            loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
    with torch.no_grad():
        logits = model(torch.from_numpy(data["test"][0]))
        accuracy = float((logits.argmax(1).numpy() == data["test"][1]).mean())
    return epoch_seconds, accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", default="512,256")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--level", type=int, default=3, help="level of the NumPy side")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        sys.exit("the benchmark needs PyTorch: pip install -r requirements-dev.txt")
    torch.set_num_threads(os.cpu_count() or 1)
    mnist = load_topic(10, level=args.level)
    optim = load_topic(3, level=2)
    hidden = [int(h) for h in args.hidden.split(",") if h]
    data = mnist.load_data(seed=args.seed)

    np_epochs, torch_epochs, np_acc, torch_acc = [], [], [], []
    for r in range(args.repeats):
        seconds, acc, initial = numpy_run(mnist, optim, data, args, hidden)
        np_epochs += seconds
        np_acc.append(acc)
        seconds_t, acc_t = torch_run(mnist, optim, data, args, hidden, initial)
        torch_epochs += seconds_t
        torch_acc.append(acc_t)
        print(f"repeat {r + 1}/{args.repeats}: NumPy {statistics.median(seconds):.2f} s/epoch ({acc:.2%}), "
              f"PyTorch {statistics.median(seconds_t):.2f} s/epoch ({acc_t:.2%})")
    np_median, torch_median = statistics.median(np_epochs), statistics.median(torch_epochs)
    ratio = np_median / torch_median
    result = {
        "model": f"MLP 784-{'-'.join(map(str, hidden))}-10", "epochs": args.epochs, "repeats": args.repeats,
        "batch_size": args.batch_size, "threads": torch.get_num_threads(), "torch": torch.__version__,
        "numpy": np.__version__, "numpy_seconds_per_epoch": round(np_median, 3),
        "torch_seconds_per_epoch": round(torch_median, 3), "ratio_numpy_over_torch": round(ratio, 3),
        "numpy_test_accuracy": round(statistics.median(np_acc), 4),
        "torch_test_accuracy": round(statistics.median(torch_acc), 4),
    }
    print(f"\nmedian seconds per epoch: NumPy level {args.level} {np_median:.2f}, PyTorch {torch_median:.2f}; "
          f"ratio NumPy/PyTorch = {ratio:.2f}")
    if args.markdown:
        print("\n| | seconds / epoch (median) | test accuracy after "
              f"{args.epochs} epochs |\n|---|---|---|")
        print(f"| NumPy (level {args.level}) | {np_median:.2f} | {result['numpy_test_accuracy']:.2%} |")
        print(f"| PyTorch {torch.__version__} | {torch_median:.2f} | {result['torch_test_accuracy']:.2%} |")
        print(f"| ratio NumPy / PyTorch | {ratio:.2f} | |")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
