"""
Level 2: Vectorized Implementation
- Priority: no Python loops over data; every view is built from strides with as_strided
- Constraints: NumPy only, and no np.matmul / `@` / np.einsum / np.tensordot: matmul is a broadcast
  product followed by a sum over the inner index
- Target: pass every test; this level is the reference the performance tests compare against

What it teaches:
- a NumPy array is a flat buffer + shape + strides (bytes to step along each axis);
- transpose, reshape (of a contiguous array), broadcast_to and sliding_windows only compute new
  strides over the same buffer: no element is copied (stride 0 = "repeat this element");
- matmul of (..., M, K) by (..., K, N) is out[..., i, j] = sum_k a[..., i, k] * b[..., k, j]:
  broadcast a to (..., M, K, 1) and b to (..., 1, K, N), multiply, and sum over the K axis.
  Simple and loop-free, but it materialises the whole (..., M, K, N) product (2 MiB for 64x64x64 in
  float64): level 3 shows how to avoid that.
"""

from __future__ import annotations

from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided


# ----------------------------------------------------------------------------------------------
# Shapes and strides
# ----------------------------------------------------------------------------------------------

def contiguous_strides(shape, itemsize: int) -> tuple:
    """Byte strides of a C-order (row-major) array: strides[i] = itemsize * prod(shape[i+1:]).

    contiguous_strides((2, 3, 4), 8) -> (96, 32, 8): the last axis moves one item, the first a whole 3x4 block.
    """
    shape = tuple(int(n) for n in shape)
    if itemsize <= 0 or any(n < 0 for n in shape):
        raise ValueError(f"need itemsize > 0 and sizes >= 0, got shape {shape} and itemsize {itemsize}")
    strides, step = [], int(itemsize)
    for n in reversed(shape):  # walk from the last (fastest) axis to the first
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def broadcast_shapes(*shapes) -> tuple:
    """The shape that NumPy broadcasting gives for these shapes.

    Shapes are aligned from the RIGHT; on each axis the sizes must be equal or 1 (a missing axis counts as 1).
    (3, 1) and (1, 3) -> (3, 3);   (2, 3, 4) and (4,) -> (2, 3, 4);   (2, 3) and (4, 3) -> ValueError (axis -2).
    """
    shapes = [(int(s),) if np.ndim(s) == 0 else tuple(int(n) for n in s) for s in shapes]
    if any(n < 0 for s in shapes for n in s):
        raise ValueError(f"sizes must be >= 0, got shapes {shapes}")
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):  # negative axes: counted from the right, where shapes are aligned
        sizes = {s[axis] for s in shapes if len(s) >= -axis}
        stretched = sizes - {1}
        if len(stretched) > 1:
            raise ValueError(f"shapes {', '.join(map(str, shapes))} do not broadcast: at axis {axis} "
                             f"(counted from the right) the sizes {sorted(stretched)} differ and none is 1")
        result.append(stretched.pop() if stretched else 1)
    return tuple(result)


# ----------------------------------------------------------------------------------------------
# Views: new strides over the same buffer
# ----------------------------------------------------------------------------------------------

def broadcast_to(x, shape) -> np.ndarray:
    """A read-only view of x with the given shape: stride 0 on every axis that is added or stretched.

    x: (3,) -> shape (4, 3) has strides (0, 8): all 4 rows read the same 3 numbers. No copy is made.
    """
    x = _as_array(x)
    shape = tuple(int(n) for n in shape)
    if len(shape) < x.ndim or broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"cannot broadcast an array of shape {x.shape} to shape {shape}")
    lead = len(shape) - x.ndim  # new axes on the left
    strides = (0,) * lead + tuple(0 if size == 1 and target != 1 else stride
                                  for size, target, stride in zip(x.shape, shape[lead:], x.strides))
    return as_strided(x, shape=shape, strides=strides, writeable=False)


def transpose(x, axes=None) -> np.ndarray:
    """Permute the axes of x (default: reverse them). A view: shape and strides are permuted together.

    x: (2, 3, 4), axes (2, 0, 1) -> (4, 2, 3).
    """
    x = _as_array(x)
    axes = _check_axes(axes, x.shape)
    return as_strided(x, shape=tuple(x.shape[a] for a in axes), strides=tuple(x.strides[a] for a in axes))


def _check_axes(axes, shape) -> tuple:
    ndim = len(shape)
    if axes is None:
        return tuple(reversed(range(ndim)))
    axes = tuple(int(a) for a in axes)
    normalised = tuple(a + ndim if a < 0 else a for a in axes)
    if sorted(normalised) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes of shape {shape}")
    return normalised


def _resolve_shape(size: int, shape) -> tuple:
    """Replace the one allowed -1 by the size that makes the element count match; ValueError otherwise."""
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"shape {shape}: sizes must be >= 0 with at most one -1")
    if unknown:
        known = prod(n for n in shape if n != -1)
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape an array of size {size} into shape {shape}")
        shape = shape[:unknown[0]] + (size // known,) + shape[unknown[0] + 1:]
    if prod(shape) != size:
        raise ValueError(f"cannot reshape an array of size {size} into shape {shape}")
    return shape


def reshape(x, shape) -> np.ndarray:
    """x with a new shape (one -1 is inferred), elements read in C (row-major) order.

    A C-contiguous x is reshaped as a view: only the strides change. Any other x (a transpose, a
    broadcast view) cannot be, so it is copied once into C order first, which is what NumPy does too.
    """
    x = _as_array(x)
    shape = _resolve_shape(x.size, shape)
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    return as_strided(x, shape=shape, strides=contiguous_strides(shape, x.itemsize))


def sliding_windows(x, window: int) -> np.ndarray:
    """All windows of `window` consecutive elements of a 1-D x, as a read-only view.

    x: (L,) -> (L - window + 1, window), strides (s, s): stepping to the next window moves one element.
    """
    x = _as_array(x)
    window = int(window)
    if x.ndim != 1:
        raise ValueError(f"sliding_windows needs a 1-D array, got shape {x.shape}")
    if not 1 <= window <= x.shape[0]:
        raise ValueError(f"window must be between 1 and {x.shape[0]} for shape {x.shape}, got {window}")
    (step,) = x.strides
    return as_strided(x, shape=(x.shape[0] - window + 1, window), strides=(step, step), writeable=False)


# ----------------------------------------------------------------------------------------------
# Matrix multiplication
# ----------------------------------------------------------------------------------------------

def _matmul_shapes(a_shape: tuple, b_shape: tuple):
    """Check the shapes of a @ b; return (batch, M, K, N, result_shape).

    A 1-D a is a row (1, K) and a 1-D b a column (K, 1); those added axes are dropped from the result.
    """
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"matmul needs operands with at least 1 dimension, got shapes {a_shape} and {b_shape}")
    a_full = (1,) + a_shape if len(a_shape) == 1 else a_shape
    b_full = b_shape + (1,) if len(b_shape) == 1 else b_shape
    if a_full[-1] != b_full[-2]:
        raise ValueError(f"matmul: inner dimensions differ: a has shape {a_shape} (K={a_full[-1]}) "
                         f"but b has shape {b_shape} (K={b_full[-2]})")
    try:
        batch = broadcast_shapes(a_full[:-2], b_full[:-2])
    except ValueError as err:
        raise ValueError(f"matmul: the batch dimensions of shapes {a_shape} and {b_shape} do not broadcast: "
                         f"{err}") from None
    m, k, n = a_full[-2], a_full[-1], b_full[-1]
    result_shape = batch + ((m,) if len(a_shape) > 1 else ()) + ((n,) if len(b_shape) > 1 else ())
    return batch, m, k, n, result_shape


def _check_out(out, result_shape, a_shape, b_shape, *inputs):
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be an ndarray, got {type(out).__name__}")
    if out.shape != result_shape:
        raise ValueError(f"out has shape {out.shape}, but the product of shapes {a_shape} and {b_shape} "
                         f"has shape {result_shape}")
    if any(np.may_share_memory(out, x) for x in inputs):
        raise ValueError("out must not overlap an input: it would be overwritten while still being read")


def _with_matrix_axes(out: np.ndarray, a_ndim: int, b_ndim: int) -> np.ndarray:
    """View of `out` with the axes that a 1-D operand dropped put back, so it has shape (..., M, N)."""
    if a_ndim == 1:
        out = out[..., None, :] if b_ndim > 1 else out[..., None]
    if b_ndim == 1:
        out = out[..., None]
    return out


def matmul(a, b, out=None) -> np.ndarray:
    """Matrix product with NumPy's rules, without np.matmul: (..., M, K) x (..., K, N) -> (..., M, N).

    Batch axes (all but the last two) broadcast: (1, 3, 4) x (5, 4, 2) -> (5, 3, 2).
    out: optional preallocated array of the result's shape; it is filled and returned.
    """
    a, b = _as_array(a), _as_array(b)
    batch, m, k, n, result_shape = _matmul_shapes(a.shape, b.shape)
    if out is not None:
        _check_out(out, result_shape, a.shape, b.shape, a, b)
    a_full = a[None, :] if a.ndim == 1 else a  # (..., M, K)
    b_full = b[:, None] if b.ndim == 1 else b  # (..., K, N)
    # (..., M, K, 1) * (..., 1, K, N) -> (..., M, K, N): every product a[i, k] * b[k, j] at once
    products = a_full[..., :, :, None] * b_full[..., None, :, :]
    if out is None:
        return products.sum(axis=-2).reshape(result_shape)
    products.sum(axis=-2, out=_with_matrix_axes(out, a.ndim, b.ndim))
    return out


# ----------------------------------------------------------------------------------------------
# Tensor: an ndarray with the operations above
# ----------------------------------------------------------------------------------------------

class Tensor:
    """An n-dimensional array that tracks its shape and checks it on every operation.

    Tensor([[1, 2, 3], [4, 5, 6]]).shape == (2, 3). Wraps an ndarray (not copied when given one).
    """

    def __init__(self, data):
        self.data = _as_array(data)

    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    def tolist(self):
        return self.data.tolist()

    def __repr__(self) -> str:
        return f"Tensor({self.data.tolist()!r}, shape={self.shape})"

    def _elementwise(self, ufunc, other) -> "Tensor":
        a, b = self.data, _as_array(other)
        shape = broadcast_shapes(a.shape, b.shape)  # ValueError naming the axis when they do not fit
        return Tensor(ufunc(broadcast_to(a, shape), broadcast_to(b, shape)))

    def add(self, other) -> "Tensor":
        """Elementwise self + other with broadcasting; other is a Tensor, array, list or number."""
        return self._elementwise(np.add, other)

    def mul(self, other) -> "Tensor":
        """Elementwise self * other with broadcasting (not a matrix product)."""
        return self._elementwise(np.multiply, other)

    def matmul(self, other) -> "Tensor":
        """Matrix product self @ other (batched, with broadcast batch axes)."""
        return Tensor(matmul(self.data, _as_array(other)))

    def transpose(self, *axes) -> "Tensor":
        """t.transpose() reverses the axes; t.transpose(1, 0, 2) or t.transpose((1, 0, 2)) permutes them."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return Tensor(transpose(self.data, axes or None))

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def reshape(self, *shape) -> "Tensor":
        """t.reshape(2, -1) or t.reshape((2, -1))."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor(reshape(self.data, shape))

    __add__ = add
    __radd__ = add
    __mul__ = mul
    __rmul__ = mul
    __matmul__ = matmul


# ----------------------------------------------------------------------------------------------
# Input checking
# ----------------------------------------------------------------------------------------------

def _nested_shape(data, level: int = 0) -> tuple:
    """Shape of nested lists/tuples; ValueError naming the nesting level where lengths disagree.

    The outer list is level 0, its items are level 1, their items level 2, and so on.
    """
    if not isinstance(data, (list, tuple)):
        return ()
    shapes = [_nested_shape(item, level + 1) for item in data]
    for i, shape in enumerate(shapes[1:], start=1):
        if shape != shapes[0]:
            raise ValueError(f"ragged nested list at level {level + 1}: item {i} has shape {shape}, "
                             f"but item 0 has shape {shapes[0]}")
    return (len(data),) + (shapes[0] if shapes else ())


def _as_array(x) -> np.ndarray:
    """Tensor, nested lists, scalar or ndarray -> ndarray (an ndarray is returned as is: no copy)."""
    if isinstance(x, Tensor):
        return x.data
    if isinstance(x, (list, tuple)):
        _nested_shape(x)  # a clear error for ragged data, before NumPy's generic one
    return np.asarray(x)


if __name__ == "__main__":
    # Self-test with toy data
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    b = np.arange(40, dtype=np.float64).reshape(2, 4, 5)
    out = matmul(a, b)
    print(f"(2,3,4) @ (2,4,5) -> {out.shape}")
    assert out.shape == (2, 3, 5), "Shape mismatch!"
    assert np.allclose(out, np.matmul(a, b)), "Values differ from np.matmul!"
    assert matmul(np.ones((1, 3, 4)), np.ones((5, 4, 2))).shape == (5, 3, 2)
    print("broadcast (3,1) + (1,3) ->", broadcast_shapes((3, 1), (1, 3)))
    assert broadcast_shapes((3, 1), (1, 3)) == (3, 3)
    row = np.arange(3.0)
    view = broadcast_to(row, (4, 3))
    print(f"broadcast_to view: shape {view.shape}, strides {view.strides}, shares memory: "
          f"{np.shares_memory(view, row)}")
    assert view.strides == (0, 8) and np.shares_memory(view, row)
    assert contiguous_strides((2, 3, 4), 8) == (96, 32, 8)
    assert np.array_equal(reshape(a, (4, -1)), a.reshape(4, 6))
    assert np.array_equal(transpose(a, (2, 0, 1)), a.transpose(2, 0, 1))
    print("windows of [0..5], width 3:\n", sliding_windows(np.arange(6), 3))
    t = Tensor([[1, 2], [3, 4]])
    print(t @ Tensor([[5, 6], [7, 8]]))
    assert (t @ Tensor([[5, 6], [7, 8]])).tolist() == [[19, 22], [43, 50]]
    print("level 2 self-test passed")
