"""Topic 01 basic tests: the shapes and values of Tensor, broadcasting, matmul, reshape, transpose, windows.

Values come from the golden files written by the PyTorch level (tests/golden/*.npz) or are worked out
by hand in the test (see math-refresh.md for the same examples on paper).
"""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape

# ----------------------------------------------------------------------------------------------
# Shape tests
# ----------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_tensor_tracks_shape_ndim_size(impl):
    t = impl.Tensor([[1, 2, 3], [4, 5, 6]])
    assert isinstance(t.shape, tuple), f"Tensor.shape must be a tuple, got {type(t.shape).__name__}"
    assert t.shape == (2, 3), f"Tensor([[1, 2, 3], [4, 5, 6]]).shape is {t.shape}, expected (2, 3): rows, then columns"
    assert (t.ndim, t.size) == (2, 6), f"ndim, size = {t.ndim}, {t.size}; expected 2 axes and 6 elements"
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]], f"tolist() gave {t.tolist()}"
    cube = impl.Tensor([[[1.0], [2.0]], [[3.0], [4.0]], [[5.0], [6.0]]])
    assert cube.shape == (3, 2, 1), f"3 blocks of 2 rows of 1 number: shape (3, 2, 1), got {cube.shape}"
    scalar = impl.Tensor(5.0)
    assert (scalar.shape, scalar.ndim, scalar.size) == ((), 0, 1), (
        f"a number is a 0-d tensor: shape (), ndim 0, size 1; got {scalar.shape}, {scalar.ndim}, {scalar.size}")
    assert scalar.tolist() == 5.0


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_tensor_from_ndarray_keeps_its_shape(impl):
    t = impl.Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    empty = impl.Tensor(np.zeros((0, 3)))
    assert empty.shape == (0, 3), (
        f"Tensor(np.zeros((0, 3))).shape is {empty.shape}: tolist() of it is [], so read the shape from the array")
    assert empty.size == 0
    assert impl.Tensor(np.float64(2.5)).shape == ()


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_repr_shows_the_shape(impl):
    text = repr(impl.Tensor([[1, 2], [3, 4]]))
    assert "Tensor" in text and "(2, 2)" in text, f"repr should name the class and show the shape (2, 2), got {text!r}"
    assert text.startswith("Tensor(") and text.endswith(")") and "shape=(2, 2)" in text, (
        f"repr should read like the call that makes it, Tensor([[1, 2], [3, 4]], shape=(2, 2)), got {text!r}")


BROADCAST_CASES = [
    ((3, 1), (1, 3), (3, 3)),
    ((2, 3, 4), (4,), (2, 3, 4)),
    ((5, 1, 4), (3, 1), (5, 3, 4)),
    ((8, 1, 6, 1), (7, 1, 5), (8, 7, 6, 5)),
    ((), (2, 2), (2, 2)),
    ((4, 3), (3,), (4, 3)),
]


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("a,b,expected", BROADCAST_CASES, ids=[f"{a}+{b}" for a, b, _ in BROADCAST_CASES])
def test_broadcast_shapes_aligns_from_the_right(impl, a, b, expected):
    got = tuple(impl.broadcast_shapes(a, b))
    assert got == expected, (f"broadcast_shapes({a}, {b}) = {got}, expected {expected}: shapes are aligned "
                             f"from the RIGHT, the shorter one padded with 1s on the left")
    assert tuple(impl.broadcast_shapes(b, a)) == expected, "broadcasting is symmetric: the order must not matter"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_broadcast_shapes_of_three_shapes(impl):
    got = tuple(impl.broadcast_shapes((1,), (3, 1), (2, 1, 1)))
    assert got == (2, 3, 1), f"broadcast_shapes((1,), (3, 1), (2, 1, 1)) = {got}, expected (2, 3, 1)"
    assert tuple(impl.broadcast_shapes((7,))) == (7,), "one shape broadcasts to itself"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_tensor_add_broadcasts_shapes(impl):
    col, row = impl.Tensor([[1.0], [2.0], [3.0]]), impl.Tensor([[10.0, 20.0, 30.0]])
    assert (col + row).shape == (3, 3), f"(3, 1) + (1, 3) must be (3, 3), got {(col + row).shape}"
    cube = impl.Tensor(np.ones((2, 3, 4)))
    assert cube.add(impl.Tensor([1.0, 2.0, 3.0, 4.0])).shape == (2, 3, 4)
    assert cube.mul(2.0).shape == (2, 3, 4), "multiplying by a number keeps the shape"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_batched_matmul_shape(impl):
    a, b = np.ones((2, 3, 4)), np.ones((2, 4, 5))
    assert_shape(impl.matmul(a, b), (2, 3, 5), "matmul of (2, 3, 4) and (2, 4, 5)")
    product = impl.Tensor(a) @ impl.Tensor(b)
    assert product.shape == (2, 3, 5), f"Tensor (2, 3, 4) @ (2, 4, 5) has shape {product.shape}, expected (2, 3, 5)"


MATMUL_SHAPES = [
    ((1, 3, 4), (5, 4, 2), (5, 3, 2)),
    ((4, 3), (2, 3, 5), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 6), (2, 5, 3, 6)),
    ((4,), (4, 5), (5,)),
    ((3, 4), (4,), (3,)),
    ((4,), (4,), ()),
    ((2, 3, 4), (4,), (2, 3)),
    ((4,), (2, 4, 5), (2, 5)),
]


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(6)
@pytest.mark.parametrize("a_shape,b_shape,expected", MATMUL_SHAPES, ids=[f"{a}@{b}" for a, b, _ in MATMUL_SHAPES])
def test_matmul_broadcast_batch_and_vector_shapes(impl, a_shape, b_shape, expected):
    out = impl.matmul(np.ones(a_shape), np.ones(b_shape))
    assert_shape(out, expected, f"matmul of {a_shape} and {b_shape}")
    k = a_shape[-1]
    assert np.all(as_array(out) == k), f"ones @ ones must be K={k} everywhere"


RESHAPES = [
    ((24,), (2, -1, 4), (2, 3, 4)),
    ((2, 3, 4), (-1,), (24,)),
    ((2, 3, 4), (4, -1), (4, 6)),
    ((6,), (-1, 1), (6, 1)),
    ((1,), (), ()),
]


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(7)
@pytest.mark.parametrize("old,new,expected", RESHAPES, ids=[f"{o}->{n}" for o, n, _ in RESHAPES])
def test_reshape_infers_minus_one(impl, old, new, expected):
    x = np.arange(int(np.prod(old)), dtype=np.float64).reshape(old)
    assert_shape(impl.reshape(x, new), expected, f"reshape of {old} to {new}")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_transpose_shapes(impl):
    x = np.zeros((2, 3, 4))
    assert_shape(impl.transpose(x), (4, 3, 2), "transpose(x) with no axes (reverses them)")
    assert_shape(impl.transpose(x, (2, 0, 1)), (4, 2, 3), "transpose(x, (2, 0, 1)): result axis d is x's axis axes[d]")
    assert_shape(impl.transpose(x, (-1, 0, 1)), (4, 2, 3), "transpose(x, (-1, 0, 1)): -1 is the last axis")
    t = impl.Tensor(x)
    assert t.T.shape == (4, 3, 2) and t.transpose(1, 0, 2).shape == (3, 2, 4)
    assert t.transpose((1, 0, 2)).shape == (3, 2, 4), "transpose accepts the axes as one tuple too"
    assert t.reshape(4, -1).shape == (4, 6) and t.reshape((3, 8)).shape == (3, 8)
    assert t.reshape(24).shape == (24,) and t.reshape([2, 12]).shape == (2, 12), (
        "Tensor.reshape takes the sizes one by one (t.reshape(24)) or as one tuple or list (t.reshape([2, 12]))")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(8)
@pytest.mark.parametrize("length,window", [(10, 3), (10, 10), (10, 1)])
def test_sliding_windows_shape(impl, length, window):
    assert_shape(impl.sliding_windows(np.arange(float(length)), window), (length - window + 1, window),
                 f"sliding_windows of length {length} with window {window}")


# ----------------------------------------------------------------------------------------------
# Value tests
# ----------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_matmul_2x2_by_hand(impl):
    # [[1, 2], [3, 4]] @ [[5, 6], [7, 8]]: row i of a times column j of b
    # [1*5 + 2*7, 1*6 + 2*8], [3*5 + 4*7, 3*6 + 4*8] = [[19, 22], [43, 50]]
    got = impl.matmul([[1, 2], [3, 4]], [[5, 6], [7, 8]])
    assert_close(got, [[19, 22], [43, 50]], what="[[1, 2], [3, 4]] @ [[5, 6], [7, 8]] (17 instead of 19 means "
                                                 "you paired row i of a with ROW j of b)")
    tensor_product = impl.Tensor([[1, 2], [3, 4]]).matmul(impl.Tensor([[5, 6], [7, 8]]))
    assert_close(tensor_product, [[19, 22], [43, 50]], what="Tensor.matmul")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_matmul_rectangular_by_hand(impl):
    a = [[1, 2, 3], [4, 5, 6]]
    assert_close(impl.matmul(a, [[1, 2], [3, 4], [5, 6]]), [[22, 28], [49, 64]], what="(2, 3) @ (3, 2)")
    assert_close(impl.matmul(a, [[1], [0], [-1]]), [[-2], [-2]], what="(2, 3) @ (3, 1): first minus third column")
    assert_close(impl.matmul([1, 2, 3], [4, 5, 6]), 32, what="(3,) @ (3,): the dot product 4 + 10 + 18")


GOLDEN_MATMUL = ["batched", "broadcast_batch", "matrix_vector", "vector_matrix", "vector_vector"]


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
@pytest.mark.parametrize("case", GOLDEN_MATMUL)
def test_matmul_matches_golden(impl, golden, case):
    g = golden("matmul")
    a, b, expected = g[f"{case}_a"], g[f"{case}_b"], g[f"{case}_out"]
    assert_close(impl.matmul(a, b), expected, rtol=1e-10, atol=1e-12,
                 what=f"matmul of {a.shape} and {b.shape} ({case})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_tensor_matmul_matches_golden(impl, golden):
    g = golden("matmul")
    product = impl.Tensor(g["broadcast_batch_a"]) @ impl.Tensor(g["broadcast_batch_b"])
    assert product.shape == (5, 3, 2), f"(1, 3, 4) @ (5, 4, 2) must be (5, 3, 2), got {product.shape}"
    assert_close(product, g["broadcast_batch_out"], rtol=1e-10, atol=1e-12, what="Tensor @ with a broadcast batch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_add_and_mul_by_hand(impl):
    col, row = impl.Tensor([[1], [2], [3]]), impl.Tensor([[10, 20, 30]])
    assert_close(col + row, [[11, 21, 31], [12, 22, 32], [13, 23, 33]],
                 what="(3, 1) + (1, 3): entry [i, j] is col[i] + row[j]")
    assert_close(col.mul(row), [[10, 20, 30], [20, 40, 60], [30, 60, 90]], what="(3, 1) * (1, 3): an outer product")
    assert_close(impl.Tensor([[1.0, 2.0], [3.0, 4.0]]).mul(2.0), [[2.0, 4.0], [6.0, 8.0]], what="tensor * number")
    assert_close(2 * impl.Tensor([1, 2]), [2, 4], what="number * tensor")
    assert_close(impl.Tensor([1, 2]) * 3, [3, 6], what="tensor * number, written with the operator")
    assert_close(5 + impl.Tensor([1, 2]), [6, 7], what="number + tensor (Python calls Tensor.__radd__)")
    assert_close(impl.Tensor([1.0, 2.0]).add([[10.0], [20.0]]), [[11.0, 12.0], [21.0, 22.0]],
                 what="Tensor.add with a nested list")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_add_and_mul_match_golden(impl, golden):
    g = golden("layout")
    col, row = impl.Tensor(g["column"]), impl.Tensor(g["row"])
    assert_close(col.add(row), g["add"], rtol=1e-12, what="Tensor (3, 1) + (1, 3)")
    assert_close(col.mul(row), g["mul"], rtol=1e-12, what="Tensor (3, 1) * (1, 3)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_broadcast_to_values(impl):
    assert_close(impl.broadcast_to(np.array([1.0, 2.0, 3.0]), (2, 3)), [[1, 2, 3], [1, 2, 3]],
                 what="broadcast_to([1, 2, 3], (2, 3)): every row is the same")
    column = np.array([[1.0], [2.0], [3.0]])
    assert_close(impl.broadcast_to(column, (2, 3, 4)), np.broadcast_to(column, (2, 3, 4)),
                 what="broadcast_to of (3, 1) to (2, 3, 4)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_transpose_values_match_golden(impl, golden):
    g = golden("layout")
    assert_close(impl.transpose(g["cube"], (2, 0, 1)), g["transpose_2_0_1"], what="transpose(cube, (2, 0, 1))")
    assert_close(impl.transpose([[1, 2, 3], [4, 5, 6]]), [[1, 4], [2, 5], [3, 6]], what="transpose of a 2x3 matrix")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_reshape_reads_in_c_order(impl, golden):
    g = golden("layout")
    assert_close(impl.reshape(g["cube"], (4, -1)), g["reshape_4_6"],
                 what="reshape(arange(24).reshape(2, 3, 4), (4, -1)) (a mismatch: Fortran instead of C order?)")
    assert_close(impl.reshape(np.arange(6), (2, 3)), [[0, 1, 2], [3, 4, 5]],
                 what="reshape(arange(6), (2, 3)): rows are filled first")
    transposed = np.transpose(g["cube"], (2, 0, 1))  # not contiguous: a view cannot express this reshape
    assert_close(impl.reshape(transposed, (-1, 6)), g["transpose_then_reshape"],
                 what="reshape of a transposed (non-contiguous) array: read it in its logical C order")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_sliding_windows_values(impl, golden):
    assert_close(impl.sliding_windows(np.arange(5), 3), [[0, 1, 2], [1, 2, 3], [2, 3, 4]],
                 what="sliding_windows(arange(5), 3): row i is x[i:i + 3]")
    assert_close(impl.sliding_windows(np.arange(10.0), 5), golden("layout")["windows_5"],
                 what="sliding_windows(arange(10), 5)")


STRIDE_CASES = [((2, 3, 4), np.float64), ((3, 4), np.float32), ((5,), np.int16), ((4, 1, 3), np.int8),
                ((1, 1), np.float64), ((), np.float64)]


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_contiguous_strides_of_an_empty_axis_follow_the_formula(impl):
    got = tuple(impl.contiguous_strides((2, 0, 3), 4))
    assert got == (0, 12, 4), (f"contiguous_strides((2, 0, 3), 4) = {got}, expected (0, 12, 4): a size-0 axis is "
                               "allowed (sizes >= 0) and strides[i] = itemsize * prod(shape[i+1:])")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(2)
@pytest.mark.parametrize("shape,dtype", STRIDE_CASES, ids=[f"{s}-{np.dtype(d).name}" for s, d in STRIDE_CASES])
def test_contiguous_strides_match_numpy(impl, shape, dtype):
    itemsize = np.dtype(dtype).itemsize
    got = tuple(impl.contiguous_strides(shape, itemsize))
    expected = np.empty(shape, dtype=dtype).strides
    assert got == expected, (f"contiguous_strides({shape}, {itemsize}) = {got}, NumPy says {expected}: C order means "
                             f"the LAST axis has stride itemsize (reversed strides = Fortran order)")
