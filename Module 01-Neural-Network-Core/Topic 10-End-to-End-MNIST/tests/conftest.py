"""Shared data for Topic 10's tests: a small real-MNIST split, loaded once per session.

The data comes from dlfs.datasets (DLFS_DATA, else the user cache, else a download) and is normalised
here with NumPy, so every implementation is tested on exactly the same arrays.
"""

from pathlib import Path

import numpy as np
import pytest

from dlfs.datasets import load_mnist


HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Every test of this topic trains or evaluates on real MNIST: without it they skip, with one reason."""
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.data("mnist"))


@pytest.fixture(scope="session")
def mnist_arrays():
    return load_mnist()


@pytest.fixture(scope="session")
def small(mnist_arrays):
    """1,000 training and 500 validation samples (seeded split), 1,000 test samples; float32 (N, 784)."""
    x_train, y_train, x_test, y_test = mnist_arrays
    order = np.random.default_rng(0).permutation(len(x_train))[:1500]
    x = x_train[order].reshape(-1, 784).astype(np.float32) / 255
    mean, std = x[:1000].mean(), x[:1000].std()
    norm = lambda a: ((a.reshape(len(a), -1).astype(np.float32) / 255 - mean) / std).astype(np.float32)  # noqa: E731
    y = y_train[order].astype(np.int64)
    return {"train": (norm(x_train[order[:1000]]), y[:1000]), "val": (norm(x_train[order[1000:]]), y[1000:]),
            "test": (norm(x_test[:1000]), y_test[:1000].astype(np.int64))}
