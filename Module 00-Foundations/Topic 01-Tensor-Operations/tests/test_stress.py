"""Topic 01 stress tests: larger inputs, memory (views and stride 0), the out= buffer, determinism, speed.

The memory tests need NumPy results: a pure-Python solution (nested lists) has no shared buffer to
make views of, so those tests are skipped for it, and they run as soon as you return ndarrays.
Sizes stay modest so that the pure-Python level finishes in seconds.
"""

import ast
import inspect

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def _array_or_skip(result) -> np.ndarray:
    if not isinstance(result, np.ndarray):
        pytest.skip("pure-Python result (nested lists): views and strides need a NumPy array")
    return result


# ----------------------------------------------------------------------------------------------
# Larger inputs
# ----------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_large_broadcast_batch_matmul_matches_numpy(impl):
    rng = np.random.default_rng(7)
    a, b = rng.standard_normal((3, 1, 16, 20)), rng.standard_normal((4, 20, 12))
    assert_close(impl.matmul(a, b), np.matmul(a, b), rtol=1e-10, atol=1e-12,
                 what="(3, 1, 16, 20) @ (4, 20, 12) -> (3, 4, 16, 12)")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_transpose_reshape_chain_matches_numpy(impl):
    x = np.random.default_rng(8).standard_normal((4, 5, 6))
    moved = impl.transpose(x, (1, 2, 0))
    assert_close(moved, x.transpose(1, 2, 0), what="transpose (4, 5, 6) by (1, 2, 0)")
    flat = impl.reshape(moved, (-1, 4))
    assert_close(flat, x.transpose(1, 2, 0).reshape(-1, 4), what="reshape of the transposed array to (-1, 4)")
    assert_close(impl.reshape(flat, (5, 6, 4)), x.transpose(1, 2, 0), what="reshape back to (5, 6, 4)")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_matmul_overwrites_a_dirty_out_buffer(impl):
    rng = np.random.default_rng(9)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 4, 5))
    buffer = np.full((2, 3, 5), 7.0)  # what a previous step left behind
    result = impl.matmul(a, b, out=buffer)
    assert result is buffer, "matmul(..., out=buffer) must return the buffer itself"
    assert_close(buffer, np.matmul(a, b), rtol=1e-10, atol=1e-12,
                 what="out after matmul (off by 7.0: the old content was added to, not overwritten)")
    vector_out = np.full(5, np.nan)
    impl.matmul(a[0, 0], b[0], out=vector_out)
    assert_close(vector_out, a[0, 0] @ b[0], rtol=1e-10, what="out of a (4,) @ (4, 5) product")
    column_out = np.full(3, np.nan)
    impl.matmul(a[0], b[0, :, 0], out=column_out)
    assert_close(column_out, a[0] @ b[0, :, 0], rtol=1e-10, what="out of a (3, 4) @ (4,) product")
    scalar_out = np.full((), np.nan)
    impl.matmul(a[0, 0], b[0, :, 0], out=scalar_out)
    assert_close(scalar_out, a[0, 0] @ b[0, :, 0], rtol=1e-10, what="out of a (4,) @ (4,) product, a 0-d array")


# ----------------------------------------------------------------------------------------------
# Memory: views share the buffer, broadcast axes have stride 0
# ----------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_broadcast_to_is_a_zero_stride_view(impl):
    x = np.arange(3.0)
    view = _array_or_skip(impl.broadcast_to(x, (4, 3)))
    assert np.shares_memory(view, x), "broadcast_to copied the data (np.tile / np.repeat?): it must be a view of x"
    assert view.strides == (0, 8), f"strides {view.strides}: the added axis must have stride 0, the row its own 8"
    assert not view.flags.writeable, "a broadcast view must be read-only: one write would change a whole column"
    column = np.arange(3.0).reshape(3, 1)
    view = _array_or_skip(impl.broadcast_to(column, (2, 3, 4)))
    assert np.shares_memory(view, column) and view.strides == (0, 8, 0), (
        f"(3, 1) -> (2, 3, 4) must have strides (0, 8, 0) (new axis and stretched axis 0), got {view.strides}")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_transpose_and_reshape_are_views(impl):
    x = np.arange(24.0).reshape(2, 3, 4)
    moved = _array_or_skip(impl.transpose(x, (2, 0, 1)))
    assert np.shares_memory(moved, x), "transpose copied the data: permuting the strides is enough"
    assert moved.strides == (8, 96, 32), (
        f"transpose (2, 0, 1) of strides (96, 32, 8) is (8, 96, 32), got {moved.strides}")
    flat = _array_or_skip(impl.reshape(x, (6, -1)))
    assert np.shares_memory(flat, x), "reshape of a C-contiguous array copied the data: new strides are enough"
    assert flat.strides == (32, 8), f"a (6, 4) float64 C-order view has strides (32, 8), got {flat.strides}"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(8)
def test_sliding_windows_is_a_view(impl):
    x = np.arange(10.0)
    windows = _array_or_skip(impl.sliding_windows(x, 4))
    assert np.shares_memory(windows, x), "sliding_windows copied the data: it must be a view (as_strided)"
    assert windows.strides == (8, 8), (
        f"the next window and the next item are both one element (8 bytes) on: (8, 8), got {windows.strides}")
    assert not windows.flags.writeable, "overlapping windows must be read-only"


# ----------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_matmul_is_deterministic(impl):
    def product(seed):
        rng = np.random.default_rng(seed)
        return as_array(impl.matmul(rng.standard_normal((2, 5, 6)), rng.standard_normal((6, 3))))

    first, again, other = product(0), product(0), product(1)
    assert np.array_equal(first, again), "the same inputs must give bit-identical products"
    assert not np.array_equal(first, other), "different inputs gave the same product: is the result a constant?"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_reusing_the_out_buffer_gives_the_same_result(impl):
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    buffer = np.zeros((3, 5))
    first = impl.matmul(a, b, out=buffer).copy()
    second = impl.matmul(a, b, out=buffer)
    assert np.array_equal(first, second), (
        "the second call with the same out buffer gave a different result: reset out before accumulating into it")


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_operations_leave_their_inputs_unchanged(impl):
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 5))
    a_before, b_before = a.copy(), b.copy()
    impl.matmul(a, b)
    impl.matmul(a, b, out=np.empty((2, 3, 5)))
    impl.Tensor(a).add(impl.Tensor(b[:, 0]))
    impl.Tensor(a).mul(2.0)
    impl.reshape(a, (-1,))
    impl.transpose(a)
    assert np.array_equal(a, a_before) and np.array_equal(b, b_before), "an operation modified its input in place"


# ----------------------------------------------------------------------------------------------
# The from-scratch rule, and speed
# ----------------------------------------------------------------------------------------------

FORBIDDEN = {"matmul", "einsum", "tensordot"}


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_matmul_is_written_without_np_matmul(impl):
    assert_close(impl.matmul([[1.0, 2.0]], [[3.0], [4.0]]), [[11.0]], what="(1, 2) @ (2, 1)")
    tree = ast.parse(inspect.getsource(impl))
    main_blocks = {id(node) for top in tree.body if isinstance(top, ast.If) and "__main__" in ast.unparse(top.test)
                   for node in ast.walk(top)}
    offences = []
    for node in ast.walk(tree):
        if id(node) in main_blocks:
            continue  # the self-test may compare against NumPy
        if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN and ast.unparse(node.value) in ("np", "numpy"):
            offences.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            offences.append(f"line {node.lineno}: {ast.unparse(node)}")
    assert not offences, ("this topic is about writing the product yourself: no np.matmul / np.einsum / "
                          "np.tensordot / `@` outside the self-test; found " + "; ".join(offences))


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_matmul_64x64_matches_the_reference(impl, reference):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((64, 64)), rng.standard_normal((64, 64))
    assert_close(impl.matmul(a, b), np.matmul(a, b), rtol=1e-10, atol=1e-10, what="64x64 matmul")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_matmul_speed_64x64(impl, reference, compare_speed):
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((64, 64)), rng.standard_normal((64, 64))
    compare_speed(impl.matmul, reference.matmul, a, b, threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_batched_matmul_matches_the_reference(impl, reference):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((8, 32, 32)), rng.standard_normal((32, 16))
    assert_close(impl.matmul(a, b), np.matmul(a, b), rtol=1e-10, atol=1e-10, what="(8, 32, 32) @ (32, 16)")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_batched_matmul_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(6)
    a, b = rng.standard_normal((8, 32, 32)), rng.standard_normal((32, 16))
    compare_speed(impl.matmul, reference.matmul, a, b, threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_broadcast_add_matches_the_reference(impl, reference):
    rng = np.random.default_rng(7)
    col, row = rng.standard_normal((128, 1)), rng.standard_normal((1, 128))
    assert_close(impl.Tensor(col).add(row), col + row, rtol=1e-12, what="(128, 1) + (1, 128)")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_broadcast_add_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(7)
    col, row = rng.standard_normal((128, 1)), rng.standard_normal((1, 128))
    compare_speed(lambda: impl.Tensor(col).add(row), lambda: reference.Tensor(col).add(row), threshold=3.0)
