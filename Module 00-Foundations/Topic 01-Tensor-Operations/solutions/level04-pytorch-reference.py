"""
Level 4: PyTorch Reference Implementation
- Used only for verification, not the solution: the same interface (NumPy in, NumPy out) with torch inside
- Writes the golden outputs of the test suite:
      python solutions/level04-pytorch-reference.py --make-golden   ->  tests/golden/*.npz
- Constraints: CPU, float64 kept as float64 (torch.from_numpy keeps the dtype; torch.tensor would not)

PyTorch's tensors are the same idea as NumPy's arrays: storage + shape + strides. torch.from_numpy
and Tensor.numpy() share the buffer, so the views made here (permute, expand, unfold, view) are
views of the caller's NumPy array as well.
"""

from __future__ import annotations

import argparse
from math import prod

import numpy as np
import torch
from numpy.lib.stride_tricks import as_strided

from dlfs.reference import write_golden

# ----------------------------------------------------------------------------------------------
# NumPy <-> torch without copies
# ----------------------------------------------------------------------------------------------

def _nested_shape(data, level: int = 0) -> tuple:
    """Shape of nested lists/tuples; ValueError naming the nesting level where lengths disagree."""
    if not isinstance(data, (list, tuple)):
        return ()
    shapes = [_nested_shape(item, level + 1) for item in data]
    for i, shape in enumerate(shapes[1:], start=1):
        if shape != shapes[0]:
            raise ValueError(f"ragged nested list at level {level + 1}: item {i} has shape {shape}, "
                             f"but item 0 has shape {shapes[0]}")
    return (len(data),) + (shapes[0] if shapes else ())


def _as_array(x) -> np.ndarray:
    if isinstance(x, Tensor):
        return x.data.numpy()
    if isinstance(x, torch.Tensor):
        return x.numpy()
    if isinstance(x, (list, tuple)):
        _nested_shape(x)
    return np.asarray(x)


def _to_torch(x) -> torch.Tensor:
    """A torch view of x's buffer (a copy only when torch cannot view it: read-only or negative strides)."""
    if isinstance(x, Tensor):
        return x.data
    x = _as_array(x)
    if not x.flags.writeable or any(s < 0 for s in x.strides):
        x = x.copy()
    return torch.from_numpy(x)


# ----------------------------------------------------------------------------------------------
# Shapes and strides
# ----------------------------------------------------------------------------------------------

def contiguous_strides(shape, itemsize: int) -> tuple:
    """Byte strides of a C-order array: strides[i] = itemsize * prod(shape[i+1:]).

    torch.empty(shape).stride() gives the same in elements when no size is 0 (torch counts a 0-sized
    axis as 1), so the product formula is written out to give one answer for every shape.
    """
    shape = tuple(int(n) for n in shape)
    if itemsize <= 0 or any(n < 0 for n in shape):
        raise ValueError(f"need itemsize > 0 and sizes >= 0, got shape {shape} and itemsize {itemsize}")
    return tuple(int(itemsize) * prod(shape[i + 1:]) for i in range(len(shape)))


def _incompatible_axis_error(shapes) -> ValueError:
    ndim = max(len(s) for s in shapes)
    for axis in range(-ndim, 0):
        stretched = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(stretched) > 1:
            return ValueError(f"shapes {', '.join(map(str, shapes))} do not broadcast: at axis {axis} "
                              f"(counted from the right) the sizes {sorted(stretched)} differ and none is 1")
    return ValueError(f"shapes {shapes} do not broadcast")


def broadcast_shapes(*shapes) -> tuple:
    """torch.broadcast_shapes, with a ValueError that names the axis (counted from the right)."""
    shapes = [(int(s),) if np.ndim(s) == 0 else tuple(int(n) for n in s) for s in shapes]
    if any(n < 0 for s in shapes for n in s):
        raise ValueError(f"sizes must be >= 0, got shapes {shapes}")
    try:
        return tuple(torch.broadcast_shapes(*shapes))
    except RuntimeError:
        raise _incompatible_axis_error(shapes) from None


# ----------------------------------------------------------------------------------------------
# Views
# ----------------------------------------------------------------------------------------------

def broadcast_to(x, shape) -> np.ndarray:
    """Read-only stride-0 view of x (the strides torch's expand() uses, applied with as_strided)."""
    x = _as_array(x)
    shape = tuple(int(n) for n in shape)
    if len(shape) < x.ndim or broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"cannot broadcast an array of shape {x.shape} to shape {shape}")
    lead = len(shape) - x.ndim
    strides = (0,) * lead + tuple(0 if size == 1 and target != 1 else stride
                                  for size, target, stride in zip(x.shape, shape[lead:], x.strides))
    return as_strided(x, shape=shape, strides=strides, writeable=False)


def transpose(x, axes=None) -> np.ndarray:
    """torch.permute: a view with permuted shape and strides."""
    x = _as_array(x)
    if axes is None:
        axes = tuple(reversed(range(x.ndim)))
    axes = tuple(int(a) for a in axes)
    if sorted(a + x.ndim if a < 0 else a for a in axes) != list(range(x.ndim)):
        raise ValueError(f"axes {axes} are not a permutation of the {x.ndim} axes of shape {x.shape}")
    return _to_torch(x).permute(axes).numpy()


def _resolve_shape(size: int, shape) -> tuple:
    shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(n) for n in shape)
    unknown = [i for i, n in enumerate(shape) if n == -1]
    if len(unknown) > 1 or any(n < -1 for n in shape):
        raise ValueError(f"shape {shape}: sizes must be >= 0 with at most one -1")
    known = prod(n for n in shape if n != -1)
    if (unknown and (known == 0 or size % known)) or (not unknown and known != size):
        raise ValueError(f"cannot reshape an array of size {size} into shape {shape}")
    return shape


def reshape(x, shape) -> np.ndarray:
    """torch.reshape: a view when the strides allow it, a C-order copy otherwise (-1 inferred by torch)."""
    x = _as_array(x)
    return _to_torch(x).reshape(_resolve_shape(x.size, shape)).numpy()


def sliding_windows(x, window: int) -> np.ndarray:
    """torch.Tensor.unfold(0, window, 1): a read-only (L - window + 1, window) view."""
    x = _as_array(x)
    window = int(window)
    if x.ndim != 1:
        raise ValueError(f"sliding_windows needs a 1-D array, got shape {x.shape}")
    if not 1 <= window <= x.shape[0]:
        raise ValueError(f"window must be between 1 and {x.shape[0]} for shape {x.shape}, got {window}")
    windows = _to_torch(x).unfold(0, window, 1).numpy()
    windows.flags.writeable = False  # overlapping windows: writing one element would change several
    return windows


# ----------------------------------------------------------------------------------------------
# Matrix multiplication
# ----------------------------------------------------------------------------------------------

def _matmul_shapes(a_shape: tuple, b_shape: tuple) -> tuple:
    """Check the shapes of a @ b with the same messages as the other levels; return the result shape."""
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
    return batch + ((a_full[-2],) if len(a_shape) > 1 else ()) + ((b_full[-1],) if len(b_shape) > 1 else ())


def matmul(a, b, out=None) -> np.ndarray:
    """torch.matmul; out (optional, the result's shape and dtype) is filled through a shared-memory view."""
    a, b = _as_array(a), _as_array(b)
    result_shape = _matmul_shapes(a.shape, b.shape)
    dtype = np.result_type(a.dtype, b.dtype)  # torch.matmul wants one dtype: promote as NumPy does
    ta, tb = _to_torch(a.astype(dtype, copy=False)), _to_torch(b.astype(dtype, copy=False))
    if out is None:
        return torch.matmul(ta, tb).numpy()
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be an ndarray, got {type(out).__name__}")
    if out.shape != result_shape:
        raise ValueError(f"out has shape {out.shape}, but the product of shapes {a.shape} and {b.shape} "
                         f"has shape {result_shape}")
    if np.may_share_memory(out, a) or np.may_share_memory(out, b):
        raise ValueError("out must not overlap an input: it would be overwritten while still being read")
    torch.from_numpy(out).copy_(torch.matmul(ta, tb))  # out= of torch would resize a (N,) buffer to (1, N)
    return out


# ----------------------------------------------------------------------------------------------
# Tensor: a torch.Tensor with the interface of the other levels
# ----------------------------------------------------------------------------------------------

class Tensor:
    """An n-dimensional array that tracks its shape; wraps a torch.Tensor (sharing an ndarray's memory)."""

    def __init__(self, data):
        self.data = _to_torch(data)

    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.dim()

    @property
    def size(self) -> int:
        return self.data.numel()

    def tolist(self):
        return self.data.tolist()

    def __repr__(self) -> str:
        return f"Tensor({self.data.tolist()!r}, shape={self.shape})"

    def _elementwise(self, op, other) -> "Tensor":
        other = _to_torch(other)
        broadcast_shapes(self.shape, tuple(other.shape))  # our ValueError naming the axis, not torch's RuntimeError
        return Tensor(op(self.data, other))

    def add(self, other) -> "Tensor":
        return self._elementwise(torch.add, other)

    def mul(self, other) -> "Tensor":
        return self._elementwise(torch.mul, other)

    def matmul(self, other) -> "Tensor":
        return Tensor(matmul(self.data.numpy(), _as_array(other)))

    def transpose(self, *axes) -> "Tensor":
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return Tensor(transpose(self.data.numpy(), axes or None))

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def reshape(self, *shape) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor(reshape(self.data.numpy(), shape))

    __add__ = add
    __radd__ = add
    __mul__ = mul
    __rmul__ = mul
    __matmul__ = matmul


# ----------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------

def make_golden() -> dict:
    """{file name: {array name: array}}: inputs drawn with NumPy's seeded generator, outputs from torch."""
    rng = np.random.default_rng(2024)

    def pair(name, a_shape, b_shape):
        a, b = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
        return {f"{name}_a": a, f"{name}_b": b,
                f"{name}_out": torch.matmul(torch.from_numpy(a), torch.from_numpy(b)).numpy()}

    matmul_files = {}
    for name, a_shape, b_shape in [("batched", (2, 3, 4), (2, 4, 5)),      # the blueprint's test
                                   ("broadcast_batch", (1, 3, 4), (5, 4, 2)),
                                   ("matrix_vector", (3, 4), (4,)),
                                   ("vector_matrix", (4,), (4, 5)),
                                   ("vector_vector", (4,), (4,))]:
        matmul_files.update(pair(name, a_shape, b_shape))

    column, row = rng.standard_normal((3, 1)), rng.standard_normal((1, 3))
    cube = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    t_cube = torch.from_numpy(cube)
    layout = {
        "column": column, "row": row,
        "add": torch.add(torch.from_numpy(column), torch.from_numpy(row)).numpy(),
        "mul": torch.mul(torch.from_numpy(column), torch.from_numpy(row)).numpy(),
        "cube": cube,
        "reshape_4_6": t_cube.reshape(4, -1).numpy(),
        "transpose_2_0_1": t_cube.permute(2, 0, 1).numpy(),
        "transpose_then_reshape": t_cube.permute(2, 0, 1).reshape(-1, 6).numpy(),
        "windows_5": torch.arange(10, dtype=torch.float64).unfold(0, 5, 1).numpy(),
    }
    return {"matmul": matmul_files, "layout": layout}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    else:
        # Self-test with toy data
        a = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
        b = np.arange(40, dtype=np.float64).reshape(2, 4, 5)
        out = matmul(a, b)
        print(f"(2,3,4) @ (2,4,5) -> {out.shape}")
        assert out.shape == (2, 3, 5), "Shape mismatch!"
        assert np.allclose(out, np.matmul(a, b))
        view = broadcast_to(np.arange(3.0), (4, 3))
        assert view.strides == (0, 8)
        windows = sliding_windows(np.arange(6.0), 3)
        assert windows.shape == (4, 3) and windows.strides == (8, 8)
        assert np.shares_memory(transpose(a), a)
        print(Tensor([[1, 2], [3, 4]]) @ Tensor([[5, 6], [7, 8]]))
        print("level 4 self-test passed")
