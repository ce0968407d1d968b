"""
Level 1: Naive Implementation
- Priority: Correctness over speed; every rule written out as a loop you can follow by hand
- Constraints: pure Python, no NumPy import at all: a Tensor stores nested lists and tracks its shape
- Target: pass the functional tests (slow by design: a 64x64 matmul takes tens of milliseconds, tens
  of times the vectorized level)

What it teaches:
- a tensor is a flat list of numbers (C / row-major order) plus a shape;
- strides turn an index into a position in that list: position = sum(index[d] * stride[d]);
- broadcasting is a stride of 0 (stepping along that axis does not move), and transpose is a
  permutation of the strides. Every function below is "walk the output indices, read through strides".
Pure Python has no shared buffer to make views of, so broadcast_to, reshape, transpose and
sliding_windows return new nested lists here; levels 2 and 3 return views that copy nothing.
"""

from __future__ import annotations

from itertools import product
from math import prod

_NUMBER = (int, float, complex)


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
    strides = []
    step = int(itemsize)
    for n in reversed(shape):  # walk from the last (fastest) axis to the first
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def broadcast_shapes(*shapes) -> tuple:
    """The shape that NumPy broadcasting gives for these shapes.

    Shapes are aligned from the RIGHT; on each axis the sizes must be equal or 1 (a missing axis counts as 1).
    (3, 1) and (1, 3) -> (3, 3);   (2, 3, 4) and (4,) -> (2, 3, 4);   (2, 3) and (4, 3) -> ValueError (axis -2).
    """
    shapes = [(int(s),) if isinstance(s, int) else tuple(int(n) for n in s) for s in shapes]
    if any(n < 0 for s in shapes for n in s):
        raise ValueError(f"sizes must be >= 0, got shapes {shapes}")
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):  # negative axes: counted from the right, where shapes are aligned
        size = 1
        for s in shapes:
            if len(s) < -axis or s[axis] == 1:
                continue  # a missing axis or a 1 stretches to any size
            if size != 1 and s[axis] != size:
                raise ValueError(f"shapes {', '.join(map(str, shapes))} do not broadcast: at axis {axis} "
                                 f"(counted from the right) the sizes {size} and {s[axis]} differ and neither is 1")
            size = s[axis]
        result.append(size)
    return tuple(result)


def _element_strides(shape: tuple) -> tuple:
    """Strides counted in elements (not bytes) of a row-major shape."""
    return contiguous_strides(shape, 1)


def _broadcast_strides(shape: tuple, target: tuple) -> tuple:
    """Element strides that read an array of `shape` as if it had shape `target`: 0 on broadcast axes."""
    lead = len(target) - len(shape)  # axes added on the left
    own = _element_strides(shape)
    return (0,) * lead + tuple(0 if size == 1 and want != 1 else stride
                               for size, want, stride in zip(shape, target[lead:], own))


def _positions(shape: tuple, strides: tuple):
    """Flat-list position of every index of `shape`, in row-major order of the indices."""
    for index in product(*(range(n) for n in shape)):
        yield sum(i * s for i, s in zip(index, strides))


def _gather(flat: list, shape: tuple, strides: tuple) -> list:
    """Read `flat` through (shape, strides) into a new flat list: what a strided view shows."""
    return [flat[p] for p in _positions(shape, strides)]


# ----------------------------------------------------------------------------------------------
# Broadcasting, transpose, reshape, windows (as new nested lists)
# ----------------------------------------------------------------------------------------------

def _check_broadcast_to(shape: tuple, target: tuple) -> None:
    if len(target) < len(shape) or broadcast_shapes(shape, target) != target:
        raise ValueError(f"cannot broadcast an array of shape {shape} to shape {target}")


def broadcast_to(x, shape) -> list:
    """x repeated along broadcast axes to `shape` (a new nested list: pure Python has no views).

    x: (3,) -> shape (4, 3): four copies of the row. Reads x with stride 0 on the stretched axes.
    """
    flat, x_shape = _to_flat(x)
    shape = tuple(int(n) for n in shape)
    _check_broadcast_to(x_shape, shape)
    return _unflatten(_gather(flat, shape, _broadcast_strides(x_shape, shape)), shape)


def _check_axes(axes, shape: tuple) -> tuple:
    ndim = len(shape)
    if axes is None:
        return tuple(reversed(range(ndim)))
    axes = tuple(int(a) for a in axes)
    normalised = tuple(a + ndim if a < 0 else a for a in axes)
    if sorted(normalised) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes of shape {shape}")
    return normalised


def _transpose_flat(flat: list, shape: tuple, axes) -> tuple[list, tuple]:
    axes = _check_axes(axes, shape)
    strides = _element_strides(shape)
    new_shape = tuple(shape[a] for a in axes)
    # output index (j0, j1, ...) is input index with axis axes[d] = j_d: permute the strides the same way
    return _gather(flat, new_shape, tuple(strides[a] for a in axes)), new_shape


def transpose(x, axes=None) -> list:
    """Permute the axes of x (default: reverse them). x: (2, 3, 4), axes (2, 0, 1) -> (4, 2, 3)."""
    flat, shape = _to_flat(x)
    new_flat, new_shape = _transpose_flat(flat, shape, axes)
    return _unflatten(new_flat, new_shape)


def _resolve_shape(size: int, shape) -> tuple:
    """Replace the one allowed -1 by the size that makes the element count match; ValueError otherwise."""
    shape = (int(shape),) if isinstance(shape, int) else tuple(int(n) for n in shape)
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


def reshape(x, shape) -> list:
    """x with a new shape (one -1 is inferred). The row-major flat list is the same: only the shape changes."""
    flat, old_shape = _to_flat(x)
    return _unflatten(flat, _resolve_shape(prod(old_shape), shape))


def sliding_windows(x, window: int) -> list:
    """All windows of `window` consecutive elements of a 1-D x: (L,) -> (L - window + 1, window).

    Strides (1, 1) in elements: the next window starts one element later, the next item is one element on.
    """
    flat, shape = _to_flat(x)
    window = int(window)
    if len(shape) != 1:
        raise ValueError(f"sliding_windows needs a 1-D array, got shape {shape}")
    if not 1 <= window <= shape[0]:
        raise ValueError(f"window must be between 1 and {shape[0]} for shape {shape}, got {window}")
    out_shape = (shape[0] - window + 1, window)
    return _unflatten(_gather(flat, out_shape, (1, 1)), out_shape)


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


def _matmul_flat(a_flat: list, a_shape: tuple, b_flat: list, b_shape: tuple) -> tuple[list, tuple]:
    batch, m, k, n, result_shape = _matmul_shapes(a_shape, b_shape)
    a_full = (1,) + a_shape if len(a_shape) == 1 else a_shape
    b_full = b_shape + (1,) if len(b_shape) == 1 else b_shape
    # where each matrix of the batch starts: stride 0 on batch axes that broadcast
    a_starts = _positions(batch, _broadcast_strides(a_full, batch + (m, k))[:-2])
    b_starts = _positions(batch, _broadcast_strides(b_full, batch + (k, n))[:-2])
    result = []
    for a0, b0 in zip(a_starts, b_starts):
        for i in range(m):
            for j in range(n):
                total = 0
                for p in range(k):  # row i of a meets column j of b: a[i][p] * b[p][j]
                    total += a_flat[a0 + i * k + p] * b_flat[b0 + p * n + j]
                result.append(total)
    return result, result_shape


def _out_shape(out) -> tuple:
    if hasattr(out, "shape"):
        return tuple(int(n) for n in out.shape)
    return _nested_shape(out)


def _set_item(container, index: tuple, value) -> None:
    """container[i0][i1]...[ik] = value (works for nested lists and for ndarrays)."""
    if not index:
        container[()] = value  # a 0-d array
        return
    for i in index[:-1]:
        container = container[i]
    container[index[-1]] = value


def matmul(a, b, out=None):
    """Matrix product with NumPy's rules: (..., M, K) x (..., K, N) -> (..., M, N), batch axes broadcast.

    out: optional preallocated container of the result's shape (nested lists or an ndarray); it is
    filled and returned. Returns nested lists (a number for two 1-D operands) when out is None.
    """
    if out is not None and (out is a or out is b):
        raise ValueError("out must not overlap an input: it would be overwritten while still being read")
    a_flat, a_shape = _to_flat(a)
    b_flat, b_shape = _to_flat(b)
    result, result_shape = _matmul_flat(a_flat, a_shape, b_flat, b_shape)
    if out is None:
        return _unflatten(result, result_shape)
    if _out_shape(out) != result_shape:
        raise ValueError(f"out has shape {_out_shape(out)}, but the product of shapes {a_shape} and {b_shape} "
                         f"has shape {result_shape}")
    for index, value in zip(product(*(range(n) for n in result_shape)), result):
        _set_item(out, index, value)
    return out


# ----------------------------------------------------------------------------------------------
# Tensor: nested lists + shape
# ----------------------------------------------------------------------------------------------

class Tensor:
    """An n-dimensional array stored as nested lists, with its shape tracked and checked.

    Tensor([[1, 2, 3], [4, 5, 6]]).shape == (2, 3);  Tensor(5.0).shape == ().
    """

    def __init__(self, data):
        flat, shape = _to_flat(data)  # ValueError for ragged lists
        self.shape = shape
        self.data = _unflatten(flat, shape)  # our own copy, lists not tuples

    @classmethod
    def _from_flat(cls, flat: list, shape: tuple) -> "Tensor":
        tensor = cls.__new__(cls)
        tensor.shape = tuple(shape)  # kept apart from data: [] alone cannot say (0, 4) from (0,)
        tensor.data = _unflatten(flat, tensor.shape)
        return tensor

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return prod(self.shape)

    def tolist(self):
        return _unflatten(_flatten(self.data), self.shape)

    def __repr__(self) -> str:
        return f"Tensor({self.data!r}, shape={self.shape})"

    def _elementwise(self, other, op) -> "Tensor":
        a_flat, a_shape = _to_flat(self)
        b_flat, b_shape = _to_flat(other)
        shape = broadcast_shapes(a_shape, b_shape)  # ValueError naming the axis when they do not fit
        a_positions = _positions(shape, _broadcast_strides(a_shape, shape))
        b_positions = _positions(shape, _broadcast_strides(b_shape, shape))
        return Tensor._from_flat([op(a_flat[i], b_flat[j]) for i, j in zip(a_positions, b_positions)], shape)

    def add(self, other) -> "Tensor":
        """Elementwise self + other with broadcasting; other is a Tensor, list, array or number."""
        return self._elementwise(other, lambda x, y: x + y)

    def mul(self, other) -> "Tensor":
        """Elementwise self * other with broadcasting (not a matrix product)."""
        return self._elementwise(other, lambda x, y: x * y)

    def matmul(self, other) -> "Tensor":
        """Matrix product self @ other (batched, with broadcast batch axes)."""
        b_flat, b_shape = _to_flat(other)
        return Tensor._from_flat(*_matmul_flat(_flatten(self.data), self.shape, b_flat, b_shape))

    def transpose(self, *axes) -> "Tensor":
        """t.transpose() reverses the axes; t.transpose(1, 0, 2) or t.transpose((1, 0, 2)) permutes them."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return Tensor._from_flat(*_transpose_flat(_flatten(self.data), self.shape, axes or None))

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def reshape(self, *shape) -> "Tensor":
        """t.reshape(2, -1) or t.reshape((2, -1))."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor._from_flat(_flatten(self.data), _resolve_shape(self.size, shape))

    __add__ = add
    __radd__ = add
    __mul__ = mul
    __rmul__ = mul
    __matmul__ = matmul


# ----------------------------------------------------------------------------------------------
# Nested lists <-> (flat list, shape)
# ----------------------------------------------------------------------------------------------

def _nested_shape(data, level: int = 0) -> tuple:
    """Shape of nested lists/tuples; ValueError naming the nesting level where lengths disagree.

    The outer list is level 0, its items are level 1, their items level 2, and so on.
    """
    if isinstance(data, _NUMBER):
        return ()
    if not isinstance(data, (list, tuple)):
        raise TypeError(f"a tensor holds numbers and lists of numbers, not {type(data).__name__}")
    shapes = [_nested_shape(item, level + 1) for item in data]
    for i, shape in enumerate(shapes[1:], start=1):
        if shape != shapes[0]:
            raise ValueError(f"ragged nested list at level {level + 1}: item {i} has shape {shape}, "
                             f"but item 0 has shape {shapes[0]}")
    return (len(data),) + (shapes[0] if shapes else ())


def _flatten(nested) -> list:
    """Nested lists -> one flat list in row-major order (the last index moves fastest)."""
    if not isinstance(nested, (list, tuple)):
        return [nested]
    flat = []
    for item in nested:
        flat.extend(_flatten(item))
    return flat


def _unflatten(flat: list, shape: tuple):
    """Flat row-major list -> nested lists of `shape` (a plain number for shape ())."""
    if not shape:
        return flat[0]
    if len(shape) == 1:
        return list(flat)
    step = prod(shape[1:])  # how many numbers one item of the outer list holds
    return [_unflatten(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _to_flat(x) -> tuple[list, tuple]:
    """Tensor, nested lists, number or ndarray -> (flat list, shape)."""
    if isinstance(x, Tensor):
        return _flatten(x.data), x.shape
    if hasattr(x, "tolist") and hasattr(x, "shape"):  # an ndarray, read without importing NumPy
        return _flatten(x.tolist()), tuple(int(n) for n in x.shape)
    return _flatten(x), _nested_shape(x)


if __name__ == "__main__":
    # Self-test with toy data, checked by hand
    a = Tensor([[1, 2], [3, 4]])
    b = Tensor([[5, 6], [7, 8]])
    print(f"{a} @ {b} = {a @ b}")
    assert (a @ b).tolist() == [[19, 22], [43, 50]], "1*5 + 2*7 = 19, 1*6 + 2*8 = 22, ..."
    col, row = Tensor([[1], [2], [3]]), Tensor([[10, 20, 30]])
    print(f"(3,1) + (1,3) -> {(col + row).shape}: {(col + row).tolist()}")
    assert (col + row).shape == (3, 3) and (col + row).tolist()[2] == [13, 23, 33]
    batch_a = [[[float(i + j + k) for k in range(4)] for j in range(3)] for i in range(2)]
    batch_b = [[[1.0] * 5 for _ in range(4)] for _ in range(2)]
    out = Tensor(batch_a) @ Tensor(batch_b)
    print(f"(2,3,4) @ (2,4,5) -> {out.shape}")
    assert out.shape == (2, 3, 5), "Shape mismatch!"
    assert out.tolist()[1][2][0] == sum(batch_a[1][2]), "each entry sums one row of a"
    assert broadcast_shapes((3, 1), (1, 3)) == (3, 3)
    assert contiguous_strides((2, 3, 4), 8) == (96, 32, 8)
    assert reshape(list(range(6)), (2, -1)) == [[0, 1, 2], [3, 4, 5]]
    assert transpose([[1, 2, 3], [4, 5, 6]]) == [[1, 4], [2, 5], [3, 6]]
    assert sliding_windows([0, 1, 2, 3], 2) == [[0, 1], [1, 2], [2, 3]]
    try:
        Tensor([[1, 2], [3]])
    except ValueError as err:
        print("ragged input ->", err)
    else:
        raise AssertionError("ragged input must raise ValueError")
    print("level 1 self-test passed")
