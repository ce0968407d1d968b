"""Train the 784-256-10 network on MNIST on the GPU (NeuralNetworkGPU), then print a JSON line.

    make && python train_mnist.py [--epochs 5] [--lr 0.1] [--batch-size 128]

The data comes from dl-from-scratch's data layer (DLFS_DATA, else the user cache, else a download).
Target of the ports track: more than 95 % test accuracy in less than 30 seconds.
"""

import argparse
import json
import time

import numpy as np

from dlfs.datasets import BatchIterator, load_mnist
from nn_gpu import NeuralNetworkGPU


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    x_train, y_train, x_test, y_test = load_mnist(flatten=True, normalize=True)
    x_train, x_test = x_train.astype(np.float32), x_test.astype(np.float32)
    net = NeuralNetworkGPU(hidden_size=args.hidden, batch_size=args.batch_size, seed=args.seed)
    batches = BatchIterator(x_train, y_train, args.batch_size, seed=args.seed)
    for epoch in range(args.epochs):
        batches.set_epoch(epoch)
        losses = [net.train_batch(xb, yb, args.lr) for xb, yb in batches]
        print(f"epoch {epoch + 1}/{args.epochs}: mean loss {np.mean(losses):.4f}, "
              f"test accuracy {net.evaluate(x_test, y_test):.2%}")
    result = {"test_accuracy": net.evaluate(x_test, y_test), "wall_seconds": time.perf_counter() - start,
              "epochs": args.epochs, "hidden": args.hidden, "lr": args.lr}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
