"""Data shared by Topic 04's tests, built here rather than by the code under test.

The perceptron, logistic and XOR tests must not depend on the learner's own data generators
(a broken generator would otherwise make every other test fail for the wrong reason).
"""

import numpy as np
import pytest


def separable_points(n, seed=0, margin=0.2):
    """n points in [-2, 2]^2 labelled by the fixed line 0.6 x1 - 0.8 x2 + 0.3 = 0, none within `margin` of it."""
    rng = np.random.default_rng(seed)
    normal, offset = np.array([0.6, -0.8]), 0.3
    X = rng.uniform(-2.0, 2.0, size=(4 * n, 2))
    X = X[np.abs(X @ normal + offset) >= margin][:n]
    assert len(X) == n
    return X, (X @ normal + offset > 0).astype(np.int64)


def noisy_xor_points(n_per_corner, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    corners = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    X = np.repeat(corners, n_per_corner, axis=0) + noise * rng.standard_normal((4 * n_per_corner, 2))
    return X, np.repeat([0, 1, 1, 0], n_per_corner).astype(np.int64)


@pytest.fixture
def xor_points():
    """The XOR truth table: X (4, 2), y (4,)."""
    return np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), np.array([0, 1, 1, 0])


@pytest.fixture
def separable():
    """200 linearly separable points with a margin of 0.2."""
    return separable_points(200, seed=0, margin=0.2)


@pytest.fixture
def noisy_xor():
    """XOR with 10 points per corner and Gaussian noise of std 0.1: X (40, 2), y (40,)."""
    return noisy_xor_points(10, noise=0.1, seed=0)


@pytest.fixture
def make_separable():
    """make_separable(n, seed=0, margin=0.2) -> (X, y): separable data of any size."""
    return separable_points


@pytest.fixture
def make_noisy_xor():
    """make_noisy_xor(n_per_corner, noise=0.1, seed=0) -> (X, y)."""
    return noisy_xor_points
