"""Shared data for Topic 10's tests.

Two kinds of data:
- real MNIST (`mnist_arrays`, `small`: 1,000 training and 500 validation digits), loaded once per session
  from dlfs.datasets (DLFS_DATA, else the user cache). Without it on this machine, every test that asks
  for these fixtures is skipped with one reason that says how to get the data; the other tests still run.
- tiny synthetic data (`blobs`, `fake_mnist`) that needs no download: the data pipeline's bookkeeping
  (splits, alignment, statistics), evaluation averages, seeds and checkpoints are checked on it, in
  milliseconds.
"""

import sys

import numpy as np
import pytest

from dlfs.testing import require_dataset


@pytest.fixture(scope="session")
def mnist_arrays():
    """(x_train, y_train, x_test, y_test) of real MNIST, uint8 images; skips when MNIST is not here."""
    require_dataset("mnist")
    from dlfs.datasets import load_mnist

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


def make_blobs(n, dim=12, num_classes=10, seed=0, spread=2.5):
    """n float32 samples of `dim` features around one random centre per class, and their int64 labels."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((num_classes, dim)) * spread
    y = rng.integers(0, num_classes, n)
    x = centres[y] + rng.standard_normal((n, dim))
    return x.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="session")
def blobs():
    """A small separable 10-class problem with 12 features: train (90 samples), val (40)."""
    x, y = make_blobs(130)
    return {"train": (x[:90], y[:90]), "val": (x[90:], y[90:])}


def fake_mnist_arrays(n_train=300, n_test=60):
    """MNIST-shaped uint8 arrays whose every image says which sample it is and which label it has.

    Pixel 0 holds the label (times 20), pixels 1 and 2 the sample's index in its file (high and low byte);
    the other pixels are noise. So after any split, shuffle and normalisation, each row can be traced back
    to its file index, and its label checked against the image.
    """
    rng = np.random.default_rng(123)

    def make(n, offset):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, n).astype(np.uint8)
        flat = images.reshape(n, -1)
        flat[:, 0] = labels * 20
        flat[:, 1] = (np.arange(n) + offset) // 256
        flat[:, 2] = (np.arange(n) + offset) % 256
        return images, labels

    x_train, y_train = make(n_train, 0)
    x_test, y_test = make(n_test, 1000)
    return x_train, y_train, x_test, y_test


def patch_load_mnist(monkeypatch, impl, arrays):
    """Replace load_mnist (the one the implementation imported, and dlfs.datasets') by one returning `arrays`."""
    import dlfs.datasets

    def fake_load_mnist(*args, **kwargs):
        return tuple(a.copy() for a in arrays)

    monkeypatch.setattr(dlfs.datasets, "load_mnist", fake_load_mnist)
    home = sys.modules.get(getattr(getattr(impl, "load_data", None), "__module__", None))  # where load_data lives
    for module in {id(m): m for m in (impl, home) if m is not None}.values():
        if hasattr(module, "load_mnist"):
            monkeypatch.setattr(module, "load_mnist", fake_load_mnist)
    return arrays


@pytest.fixture
def fake_mnist(monkeypatch, impl):
    """fake_mnist_arrays() (300 training, 60 test images) in place of MNIST."""
    return patch_load_mnist(monkeypatch, impl, fake_mnist_arrays())


@pytest.fixture
def fake_mnist_5200(monkeypatch, impl):
    """fake_mnist_arrays(5200, 60) in place of MNIST: enough training images for load_data's default val_size."""
    return patch_load_mnist(monkeypatch, impl, fake_mnist_arrays(n_train=5200, n_test=60))
