"""Topic 01 edge tests: ragged data, shapes that do not fit, empty and size-1 axes, scalars, NaN and Inf.

A shape error must be a ValueError whose message lets you find the problem: the axis that does not
broadcast, both shapes of a matmul, the nesting level of ragged data. Never a silent broadcast.
"""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("data,level", [
    ([[1, 2], [3]], 1),
    ([[1, 2], 3], 1),
    ([[[1], [2]], [[3], [4, 5]]], 2),
    ([[[1, 2], [3, 4]], [[5, 6]]], 1),
], ids=["short-row", "number-among-rows", "deep", "short-block"])
def test_ragged_data_names_the_level(impl, data, level):
    with pytest.raises(ValueError) as err:
        impl.Tensor(data)
    assert f"level {level}" in str(err.value), (
        f"Tensor({data}) is ragged at level {level} (outer list = level 0); the message should say "
        f"'level {level}', it says: {err.value}")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("a,b,axis", [((2, 3), (4, 3), -2), ((3,), (4,), -1), ((2, 1, 3), (5, 4, 3), -3)])
def test_broadcast_shapes_error_names_the_axis(impl, a, b, axis):
    with pytest.raises(ValueError) as err:
        impl.broadcast_shapes(a, b)
    assert f"axis {axis}" in str(err.value), (
        f"{a} and {b} clash at axis {axis} (counted from the right); the message should say 'axis {axis}', "
        f"it says: {err.value}")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_tensor_ops_reject_shapes_that_do_not_broadcast(impl):
    a, b = impl.Tensor(np.ones((2, 3))), impl.Tensor(np.ones((3, 2)))
    with pytest.raises(ValueError):
        a.add(b)
    with pytest.raises(ValueError):
        a.mul(b)
    with pytest.raises(ValueError):
        a + impl.Tensor(np.ones(2))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
@pytest.mark.parametrize("a_shape,b_shape", [((2, 3), (4, 5)), ((2, 3, 4), (2, 5, 6)), ((3,), (4,)), ((2, 3), (2,))])
def test_matmul_inner_mismatch_shows_both_shapes(impl, a_shape, b_shape):
    with pytest.raises(ValueError) as err:
        impl.matmul(np.ones(a_shape), np.ones(b_shape))
    message = str(err.value)
    assert str(a_shape) in message and str(b_shape) in message, (
        f"the error for {a_shape} @ {b_shape} should show both shapes, it says: {message}")
    with pytest.raises(ValueError):
        impl.Tensor(np.ones(a_shape)).matmul(impl.Tensor(np.ones(b_shape)))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_matmul_rejects_batches_that_do_not_broadcast(impl):
    with pytest.raises(ValueError):
        impl.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))  # batch 2 vs 3
    with pytest.raises(ValueError):
        impl.matmul(np.ones((2, 1, 3, 4)), np.ones((3, 4, 4, 5)))  # batch axis -1: 1 vs 4 fine, -2: 2 vs 3


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_matmul_rejects_0d_operands(impl):
    with pytest.raises(ValueError):
        impl.matmul(np.array(2.0), np.ones(3))
    with pytest.raises(ValueError):
        impl.matmul(np.ones((3, 3)), np.array(2.0))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
@pytest.mark.parametrize("shape", [(4, 2), (-1, -1), (4, -1), (-2, -3), (0, -1)])
def test_reshape_rejects_bad_shapes(impl, shape):
    with pytest.raises(ValueError):
        impl.reshape(np.arange(6.0), shape)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
@pytest.mark.parametrize("axes", [(0, 0, 1), (0, 1), (0, 1, 3)])
def test_transpose_rejects_bad_axes(impl, axes):
    with pytest.raises(ValueError):
        impl.transpose(np.zeros((2, 3, 4)), axes)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
@pytest.mark.parametrize("x_shape,shape", [((3,), (4,)), ((2, 3), (3,)), ((2, 1), (3, 4))])
def test_broadcast_to_rejects_bad_shapes(impl, x_shape, shape):
    with pytest.raises(ValueError):
        impl.broadcast_to(np.ones(x_shape), shape)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_sliding_windows_rejects_bad_windows(impl):
    for window in (0, 6):
        with pytest.raises(ValueError):
            impl.sliding_windows(np.arange(5.0), window)
    with pytest.raises(ValueError):
        impl.sliding_windows(np.ones((2, 3)), 2)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_empty_inner_dimension_gives_zeros(impl):
    # (2, 0) @ (0, 3): every entry is an empty sum, which is 0
    got = impl.matmul(np.ones((2, 0)), np.ones((0, 3)))
    assert_close(got, np.zeros((2, 3)), what="(2, 0) @ (0, 3): empty sums are 0")
    assert_shape(impl.matmul(np.ones((2, 3)), np.ones((3, 0))), (2, 0), "(2, 3) @ (3, 0)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_empty_batch_and_rows_keep_their_shape(impl):
    rows = impl.Tensor(np.zeros((0, 3))) @ impl.Tensor(np.ones((3, 4)))
    assert rows.shape == (0, 4), f"(0, 3) @ (3, 4) must be (0, 4), got {rows.shape}"
    batch = impl.Tensor(np.zeros((0, 2, 3))) @ impl.Tensor(np.ones((3, 4)))
    assert batch.shape == (0, 2, 4), f"an empty batch (0, 2, 3) @ (3, 4) must be (0, 2, 4), got {batch.shape}"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_broadcast_shapes_stretches_a_1_to_0(impl):
    assert tuple(impl.broadcast_shapes((0, 3), (1, 3))) == (0, 3), "a 1 stretches to 0 too"
    assert tuple(impl.broadcast_shapes((1, 3), (0, 1))) == (0, 3), "a 1 stretches to 0 on any axis, in any order"
    with pytest.raises(ValueError):
        impl.broadcast_shapes((0,), (2,))  # 0 and 2 differ and neither is 1


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_add_of_an_empty_batch_keeps_its_shape(impl):
    added = impl.Tensor(np.zeros((0, 3))).add(impl.Tensor([[1.0, 2.0, 3.0]]))
    assert added.shape == (0, 3), f"(0, 3) + (1, 3) must be (0, 3), got {added.shape}"
    scaled = impl.Tensor(np.zeros((0, 3))).mul(2.0)
    assert scaled.shape == (0, 3), f"(0, 3) * 2 must be (0, 3), got {scaled.shape}"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_size_one_axes(impl):
    assert_close(impl.matmul([[2.0]], [[3.0]]), [[6.0]], what="(1, 1) @ (1, 1)")
    assert_close(impl.matmul([[1.0, 2.0, 3.0, 4.0]], [[1.0], [1.0], [1.0], [1.0]]), [[10.0]], what="(1, 4) @ (4, 1)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_broadcast_to_keeps_size_one_axes(impl):
    assert_close(impl.broadcast_to(np.array([[5.0]]), (1, 1)), [[5.0]], what="broadcast_to (1, 1) -> (1, 1)")
    assert_close(impl.broadcast_to(np.array([[5.0]]), (1, 1, 1)), [[[5.0]]], what="broadcast_to (1, 1) -> (1, 1, 1)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_reshape_and_transpose_of_size_one_axes(impl):
    assert_close(impl.reshape(np.array([[[7.0]]]), ()), 7.0, what="reshape of (1, 1, 1) to ()")
    assert_close(impl.transpose(np.ones((1, 3, 1))), np.ones((1, 3, 1)), what="transpose of (1, 3, 1)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_scalars_and_0d_tensors(impl):
    assert impl.Tensor(np.array(3.0)).shape == (), "a 0-d ndarray is a 0-d tensor"
    assert impl.Tensor(7).tolist() == 7, "tolist() of a 0-d tensor is the number itself"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_broadcast_shapes_of_no_shape_and_0d_shapes(impl):
    assert tuple(impl.broadcast_shapes()) == (), "no shape at all broadcasts to ()"
    assert tuple(impl.broadcast_shapes((), ())) == (), "two 0-d shapes broadcast to ()"
    assert tuple(impl.broadcast_shapes((), (3,))) == (3,), "a 0-d shape broadcasts to any shape"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_broadcast_to_of_a_0d_array(impl):
    assert_close(impl.broadcast_to(np.array(5.0), (2, 2)), np.full((2, 2), 5.0), what="broadcast_to of a 0-d array")
    assert_close(impl.broadcast_to(np.array(5.0), ()), 5.0, what="broadcast_to of a 0-d array to ()")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_0d_tensors_add_and_broadcast(impl):
    total = impl.Tensor(2.0).add(3.0)
    assert total.shape == () and total.tolist() == 5.0, f"Tensor(2.0) + 3.0 must be a 0-d 5.0, got {total!r}"
    grown = impl.Tensor(2.0) + impl.Tensor([[1.0, 2.0]])
    assert grown.shape == (1, 2), "a 0-d tensor broadcasts to any shape"
    assert_close(grown, [[3.0, 4.0]], what="0-d + (1, 2)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_nan_and_inf_propagate(impl):
    with np.errstate(invalid="ignore"):  # NumPy warns about inf * 0 and inf - inf; the NaN is the right answer
        _check_nan_and_inf(impl)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_add_and_mul_follow_ieee_for_nan_and_inf(impl):
    with np.errstate(invalid="ignore"):
        assert np.isnan(as_array(impl.Tensor([np.inf]).add(impl.Tensor([-np.inf])))).all(), "inf + (-inf) is NaN"
        assert_close(impl.Tensor([np.inf, np.nan]).mul(2.0), [np.inf, np.nan], what="(inf, NaN) * 2")
        assert np.isnan(as_array(impl.Tensor([np.inf]).mul(0.0))).all(), "inf * 0 is NaN"


def _check_nan_and_inf(impl):
    a = np.array([[1.0, np.nan], [1.0, 1.0]])
    got = as_array(impl.matmul(a, np.eye(2))).astype(np.float64)
    assert np.isnan(got[0]).all(), f"a NaN in row 0 of a must make row 0 of a @ I NaN, got {got[0]}"
    assert np.isfinite(got[1]).all(), f"row 1 of a has no NaN, so row 1 of a @ I must be finite, got {got[1]}"
    assert np.isnan(as_array(impl.matmul([[np.inf, 0.0]], [[0.0], [1.0]]))).all(), "inf * 0 is NaN"
    assert_close(impl.matmul([[np.inf, 1.0]], [[1.0], [1.0]]), [[np.inf]], what="inf + 1")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_matmul_out_must_fit(impl):
    with pytest.raises(ValueError):
        impl.matmul(np.ones((2, 3)), np.ones((3, 4)), out=np.empty((4, 2)))
    a = np.ones((3, 3))
    with pytest.raises(ValueError):
        impl.matmul(a, np.ones((3, 3)), out=a)  # writing the result into a while reading a


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("shape,itemsize", [((2, 3), 0), ((2, 3), -8), ((2, -1), 8), ((), 0)])
def test_contiguous_strides_rejects_bad_itemsizes_and_sizes(impl, shape, itemsize):
    with pytest.raises(ValueError):
        impl.contiguous_strides(shape, itemsize)  # each alone is an error: an itemsize <= 0 OR a negative size
