"""Assertion helpers shared by every topic's tests.

Their messages say what was expected, what came back and where it first differs, so that a failing
test reads like a code review comment rather than a wall of numbers.
"""

from __future__ import annotations

import numpy as np

# the one gradient-check measure, defined once beside the finite differences it compares with
from dlfs.finite_difference_checker import relative_error as rel_error  # noqa: F401

CATEGORIES = ("shape", "value", "gradient", "edge", "determinism", "performance")


def as_array(x) -> np.ndarray:
    """Anything array-like (ndarray, nested lists, an object with .tolist() or .data) as an ndarray."""
    if isinstance(x, np.ndarray):
        return x
    for attr in ("numpy", "tolist"):
        method = getattr(x, attr, None)
        if callable(method):
            return np.asarray(method())
    data = getattr(x, "data", None)
    if data is not None and not isinstance(x, (list, tuple)):
        return np.asarray(data)
    return np.asarray(x)


def assert_shape(x, expected: tuple, what: str = "output") -> None:
    shape = tuple(np.shape(as_array(x)))
    assert shape == tuple(expected), f"{what} has shape {shape}, expected {tuple(expected)}"


def assert_close(actual, expected, rtol: float = 1e-6, atol: float = 1e-8, what: str = "output") -> None:
    """Like np.allclose, with a message naming the worst element and the shapes."""
    a, e = as_array(actual), np.asarray(expected)
    assert a.shape == e.shape, f"{what} has shape {a.shape}, expected {e.shape}"
    if a.size == 0:
        return
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    nan_mismatch = np.isnan(a64) != np.isnan(e64)
    assert not nan_mismatch.any(), (
        f"{what}: NaN where none was expected (or the reverse) at index "
        f"{tuple(int(i) for i in np.argwhere(nan_mismatch)[0])}")
    ok = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        diff = np.where(ok, 0.0, np.abs(a64 - e64))
        worst = np.unravel_index(int(np.nanargmax(diff)), a.shape) if a.ndim else ()
        raise AssertionError(
            f"{what} differs from the expected values in {int((~ok).sum())} of {a.size} elements; "
            f"worst at index {tuple(int(i) for i in worst)}: got {float(a64[worst]):.6g}, expected {float(e64[worst]):.6g} "
            f"(difference {float(diff[worst]):.3g}) "
            f"(rtol={rtol:g}, atol={atol:g})")


def assert_all_finite(x, what: str = "output") -> None:
    a = as_array(x).astype(np.float64)
    bad = ~np.isfinite(a)
    assert not bad.any(), f"{what} has {int(bad.sum())} NaN/Inf values (first at {tuple(np.argwhere(bad)[0])})"


def require_dataset(name: str) -> None:
    """Skip the calling test (or fixture) with one clear reason when dataset `name` is not on this machine.

    Under CI with DLFS_DATA set the data was promised, so its absence fails instead: a CI run never
    passes by skipping the tests it was given data for.
    """
    import os

    import pytest

    from dlfs.datasets import missing_reason

    reason = missing_reason(name)
    if reason is None:
        return
    if os.environ.get("CI") and os.environ.get("DLFS_DATA"):
        pytest.fail(f"CI gave DLFS_DATA={os.environ['DLFS_DATA']} but {reason}", pytrace=False)
    pytest.skip(f"needs data: {reason}")
