"""Shared data for Topic 17's tests: tiny synthetic images, a small slice of real CIFAR-10, and helpers.

Most tests run on synthetic 8x8 images (milliseconds per call, on every level). The tests that train on
real images take 256 CIFAR-10 training images, loaded once per session through dlfs.datasets and averaged
down to 16x16 here with NumPy, so that every implementation sees exactly the same arrays. Without the
dataset those tests skip with one clear reason (dlfs.testing.require_dataset).
"""

import sys

import numpy as np
import pytest

from dlfs.testing import require_dataset

TINY_WIDTHS = (4, 8)


@pytest.fixture(autouse=True)
def _torch_on_one_thread(request):
    """The level-4 reference works on tiny tensors: one torch thread is much faster on a shared CPU."""
    if "impl" in request.fixturenames:
        request.getfixturevalue("impl")
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


@pytest.fixture(scope="session")
def cifar_small():
    """256 real training images, normalised per channel with their own statistics, 16x16 (2x2 averages)."""
    require_dataset("cifar10")
    from dlfs.datasets import load_cifar10

    x_train, y_train, _, _ = load_cifar10()
    order = np.random.default_rng(0).permutation(len(x_train))[:256]
    x = x_train[order].astype(np.float64) / 255                      # (256, 32, 32, 3)
    x = x.reshape(256, 16, 2, 16, 2, 3).mean(axis=(2, 4))            # (256, 16, 16, 3)
    x = (x - x.mean(axis=(0, 1, 2))) / x.std(axis=(0, 1, 2))
    return x.transpose(0, 3, 1, 2).astype(np.float32).copy(), y_train[order].astype(np.int64)


def _striped_images(n, seed=0, size=8, dtype=np.float32):
    """A learnable synthetic problem that survives flips: class 0 is brighter in the top half, class 1 in the
    bottom half."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.standard_normal((n, 3, size, size)) * 0.5
    x[y == 0, :, :size // 2, :] += 1.0
    x[y == 1, :, size // 2:, :] += 1.0
    return x.astype(dtype), y.astype(np.int64)


@pytest.fixture
def striped():
    """{"train": (x, y), "val": (x, y)}: 96 + 32 synthetic 8x8 images of two classes, float32."""
    x, y = _striped_images(128)
    return {"train": (x[:96], y[:96]), "val": (x[96:], y[96:])}


@pytest.fixture
def tiny(impl):
    """tiny(seed=0, num_classes=2, dtype=np.float32): a ResNet of widths (4, 8), small enough for every level."""
    def build(seed=0, num_classes=2, dtype=np.float32):
        return impl.build_resnet(widths=TINY_WIDTHS, num_classes=num_classes, seed=seed, dtype=dtype)
    return build
