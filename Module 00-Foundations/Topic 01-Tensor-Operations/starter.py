"""
Topic 01: Tensor Operations & Broadcasting - your implementation.

Copy this file to solution.py (same folder) and fill in each function, task by task (questions.md):
    cp starter.py solution.py
    python utils/test_runner.py --day 1        # run from the repository root

Two ways to go, both pass every test:
- pure Python (nested lists, loops), as solutions/level01-naive.py does: you then return nested lists,
  and the memory tests (views, stride 0) are skipped, because views need a shared buffer;
- NumPy: return ndarrays, and build broadcast_to / sliding_windows as views with
  numpy.lib.stride_tricks.as_strided.
Either way: no np.matmul, no `@` on arrays, no np.einsum, no np.tensordot. np.dot on 1-D rows is fine.
"""

from __future__ import annotations

import numpy as np  # noqa: F401  (not needed if you stay in pure Python)
from numpy.lib.stride_tricks import as_strided  # noqa: F401  (Task 4 and Task 8 in the NumPy way)


# ----------------------------------------------------------------------------------------------
# Task 2: memory layout
# ----------------------------------------------------------------------------------------------

def contiguous_strides(shape, itemsize: int) -> tuple:
    """Byte strides of a C-order (row-major) array of this shape and item size.

    strides[i] = itemsize * (product of shape[i+1:]): the last axis steps one item, the first axis
    steps over a whole block. contiguous_strides((2, 3, 4), 8) -> (96, 32, 8).
    For shapes without a 0 this equals np.empty(shape, dtype).strides; a shape with a 0 follows the
    formula, e.g. contiguous_strides((3, 0), 8) -> (0, 8).

    Args:
        shape: tuple of ints >= 0 (may be empty: () -> ()).
        itemsize: bytes per element (8 for float64), > 0.
    Returns:
        tuple of ints, one per axis.
    Raises:
        ValueError: itemsize <= 0 or a negative size.
    """
    raise NotImplementedError("Task 2: contiguous_strides (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 3 and Task 4: broadcasting
# ----------------------------------------------------------------------------------------------

def broadcast_shapes(*shapes) -> tuple:
    """The shape NumPy broadcasting gives for these shapes.

    Align the shapes from the RIGHT (pad the shorter ones with 1s on the LEFT); on each axis the sizes
    must be equal or 1, and the result takes the size that is not 1.
        (3, 1), (1, 3)       -> (3, 3)
        (2, 3, 4), (4,)      -> (2, 3, 4)
        (8, 1, 6, 1), (7, 1, 5) -> (8, 7, 6, 5)
        no shapes            -> ()

    Args:
        *shapes: any number of tuples of ints >= 0.
    Returns:
        the broadcast shape, a tuple.
    Raises:
        ValueError: sizes that differ and are not 1; the message names the axis counted from the
            right, e.g. (2, 3) and (4, 3) -> "... at axis -2 ...".
    """
    raise NotImplementedError("Task 3: broadcast_shapes (see questions.md)")


def broadcast_to(x, shape):
    """x stretched to `shape` by the broadcasting rules, as a read-only VIEW with stride 0.

    x: array of shape S, where broadcast_shapes(S, shape) == shape.
    Returns: an array of shape `shape` that shares memory with x: strides are 0 on axes that are
    added on the left or stretched from size 1, and x's own strides elsewhere (pure-Python solutions
    return nested lists instead). np.broadcast_to, np.tile and np.repeat are not allowed here.
        x = np.arange(3.0); v = broadcast_to(x, (4, 3)) -> v.strides == (0, 8), v[2, 1] == 1.0
    Raises:
        ValueError: x's shape cannot be broadcast to `shape` (including `shape` with fewer axes).
    """
    raise NotImplementedError("Task 4: broadcast_to (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 6: matrix multiplication
# ----------------------------------------------------------------------------------------------

def matmul(a, b, out=None):
    """Matrix product with NumPy's matmul rules, WITHOUT np.matmul / `@` / np.einsum / np.tensordot.

    a: (..., M, K), b: (..., K, N) -> (..., M, N);  out[..., i, j] = sum_k a[..., i, k] * b[..., k, j]
    The batch axes (all but the last two) broadcast: (2, 3, 4) x (2, 4, 5) -> (2, 3, 5) and
    (1, 3, 4) x (5, 4, 2) -> (5, 3, 2).
    1-D operands as NumPy treats them: a (K,) is a row (1, K) and b (K,) a column (K, 1), and that
    added axis is removed from the result: (K,) x (K, N) -> (N,), (M, K) x (K,) -> (M,), (K,) x (K,) -> ().

    Args:
        a, b: arrays or nested lists with at least 1 dimension.
        out: optional preallocated array of the result's shape; when given, it is overwritten with
            the result (whatever it held before) and returned.
    Returns:
        the product (an ndarray; nested lists in pure Python; a 0-d result for two 1-D operands).
    Raises:
        ValueError: a 0-d operand; inner sizes that differ (the message shows both shapes, e.g.
            "(2, 3)" and "(4, 5)"); batch axes that do not broadcast; out of the wrong shape;
            out being a or b.
    """
    raise NotImplementedError("Task 6: matmul (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 7: transpose and reshape
# ----------------------------------------------------------------------------------------------

def transpose(x, axes=None):
    """Permute the axes of x: result.shape[d] == x.shape[axes[d]]; axes=None reverses them.

    x: (2, 3, 4), axes=(2, 0, 1) -> (4, 2, 3). In NumPy, a view: permute shape and strides together.
    Raises:
        ValueError: axes is not a permutation of range(x.ndim) (negative axes count from the end).
    """
    raise NotImplementedError("Task 7: transpose (see questions.md)")


def reshape(x, shape):
    """x with a new shape, elements read and written in C (row-major) order, like np.reshape.

    One entry of `shape` may be -1: it is inferred so that the number of elements stays the same.
        reshape(np.arange(24), (2, -1, 4)).shape == (2, 3, 4)
    A C-contiguous x can be reshaped as a view (new strides: contiguous_strides(new_shape, itemsize)).
    Raises:
        ValueError: more than one -1, a size < -1, or a shape whose element count differs from x.size.
    """
    raise NotImplementedError("Task 7: reshape (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 8: a stride trick you will reuse for convolutions
# ----------------------------------------------------------------------------------------------

def sliding_windows(x, window: int):
    """All windows of `window` consecutive elements of a 1-D x, as rows.

    x: (L,) -> (L - window + 1, window); row i is x[i:i + window].
        sliding_windows(np.arange(5), 3) -> [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    In NumPy, a read-only view with strides (s, s), where s = x.strides[0]: no element copied.
    Raises:
        ValueError: x is not 1-D, or window < 1, or window > L.
    """
    raise NotImplementedError("Task 8: sliding_windows (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 1, 5, 6, 7: the Tensor class
# ----------------------------------------------------------------------------------------------

class Tensor:
    """An n-dimensional array that tracks its shape and checks it on every operation.

    Tensor([[1, 2, 3], [4, 5, 6]]).shape == (2, 3);  Tensor(5.0).shape == ()
    Store the data however you like: nested lists (as level 1 does) or an ndarray (levels 2-3).
    """

    def __init__(self, data):
        """data: a number, nested lists/tuples of numbers, an ndarray, or another Tensor.

        Sets self.shape (a tuple of ints). An ndarray keeps its shape even when it has no elements:
        Tensor(np.zeros((0, 3))).shape == (0, 3).
        Raises:
            ValueError: ragged nested lists; the message names the nesting level where the lengths
                differ (the outer list is level 0, its items level 1, ...):
                Tensor([[1, 2], [3]]) -> "... level 1 ...".
        """
        raise NotImplementedError("Task 1: Tensor.__init__ (see questions.md)")

    @property
    def ndim(self) -> int:
        """Number of axes: len(self.shape)."""
        raise NotImplementedError("Task 1: Tensor.ndim (see questions.md)")

    @property
    def size(self) -> int:
        """Number of elements: the product of self.shape (1 for a scalar)."""
        raise NotImplementedError("Task 1: Tensor.size (see questions.md)")

    def tolist(self):
        """The data as nested Python lists (a plain number for shape ())."""
        raise NotImplementedError("Task 1: Tensor.tolist (see questions.md)")

    def __repr__(self) -> str:
        """Shows the data and the shape, e.g. "Tensor([[1, 2], [3, 4]], shape=(2, 2))"."""
        raise NotImplementedError("Task 1: Tensor.__repr__ (see questions.md)")

    def add(self, other) -> "Tensor":
        """Elementwise self + other with broadcasting; other: Tensor, nested lists, array or number.

        (3, 1) + (1, 3) -> (3, 3). Raises ValueError (naming the axis) when the shapes do not broadcast.
        """
        raise NotImplementedError("Task 5: Tensor.add (see questions.md)")

    def mul(self, other) -> "Tensor":
        """Elementwise self * other with broadcasting (not a matrix product)."""
        raise NotImplementedError("Task 5: Tensor.mul (see questions.md)")

    def matmul(self, other) -> "Tensor":
        """Matrix product self @ other with the rules of matmul() (Task 6)."""
        raise NotImplementedError("Task 6: Tensor.matmul (see questions.md)")

    def transpose(self, *axes) -> "Tensor":
        """t.transpose() reverses the axes; t.transpose(1, 0, 2) or t.transpose((1, 0, 2)) permutes them."""
        raise NotImplementedError("Task 7: Tensor.transpose (see questions.md)")

    @property
    def T(self) -> "Tensor":
        """Same as self.transpose(): all axes reversed."""
        raise NotImplementedError("Task 7: Tensor.T (see questions.md)")

    def reshape(self, *shape) -> "Tensor":
        """t.reshape(2, -1) or t.reshape((2, -1)), with the rules of reshape() (Task 7)."""
        raise NotImplementedError("Task 7: Tensor.reshape (see questions.md)")

    # operators: t1 + t2, 2 * t, t1 @ t2 (nothing to write here once the methods work)
    def __add__(self, other):
        return self.add(other)

    def __radd__(self, other):
        return self.add(other)

    def __mul__(self, other):
        return self.mul(other)

    def __rmul__(self, other):
        return self.mul(other)

    def __matmul__(self, other):
        return self.matmul(other)


if __name__ == "__main__":
    # Try your work on toy data (the real checks: python utils/test_runner.py --day 1)
    print(broadcast_shapes((3, 1), (1, 3)))                        # (3, 3)
    print(matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]]))             # [[19, 22], [43, 50]]
    print(Tensor([[1, 2, 3]]).add(Tensor([[10], [20]])).shape)    # (2, 3)
