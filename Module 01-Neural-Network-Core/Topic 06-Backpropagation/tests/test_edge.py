"""Topic 06 edge cases: batch of one, empty batch, bad labels, wrong shapes, NaN, the kink of ReLU, float32."""

import math

import numpy as np
import pytest

from dlfs.gradient_check import check_model
from dlfs.testing import as_array, assert_close, assert_shape


def toy_batch(N=6, D=5, C=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_batch_of_one(impl):
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((1, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, cache = impl.linear_forward(x, W, b)
    dout = rng.standard_normal((1, 3))
    dx, dW, db = impl.linear_backward(dout, cache)
    assert_shape(db, (3,), "db for a batch of one (still summed over the batch axis, not squeezed away)")
    assert_close(db, dout[0], what="db for a batch of one (equals the only row of dout)")
    assert_close(dW, np.outer(x[0], dout[0]), what="dW for a batch of one (the outer product x^T dout)")
    X, y = toy_batch(N=1, seed=1)
    net = impl.TwoLayerNet(5, 4, 3, seed=0, reg=0.1)
    _, grads = net.loss(X, y)
    report = check_model(lambda: float(net.loss(X, y)[0]), net.params, {k: as_array(v) for k, v in grads.items()})
    assert report.passed, f"TwoLayerNet gradients on a batch of one:\n{report}"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_empty_batch_raises_in_the_loss(impl):
    with pytest.raises(ValueError):
        impl.softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64))
    net = impl.TwoLayerNet(5, 4, 3)
    with pytest.raises(ValueError):
        net.loss(np.zeros((0, 5)), np.zeros(0, dtype=np.int64))
    with pytest.raises(ValueError):
        net.loss(np.zeros((0, 5)))   # the scores of no samples: the same empty-batch error, with or without y


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_linear_on_an_empty_batch_is_well_defined(impl):
    rng = np.random.default_rng(2)
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, cache = impl.linear_forward(np.zeros((0, 5)), W, b)
    assert_shape(out, (0, 3), "linear_forward on 0 samples")
    dx, dW, db = impl.linear_backward(np.zeros((0, 3)), cache)
    assert_shape(dx, (0, 5), "dx on 0 samples")
    assert_close(dW, np.zeros((5, 3)), what="dW on 0 samples (a sum over no samples is 0)")
    assert_close(db, np.zeros(3), what="db on 0 samples")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
@pytest.mark.parametrize("bad", [3, -1], ids=["label-equals-C", "negative-label"])
def test_labels_out_of_range_raise(impl, bad):
    logits = np.zeros((4, 3))
    y = np.array([0, 1, bad, 2])
    with pytest.raises(ValueError):
        impl.softmax_cross_entropy(logits, y)   # a negative label would silently index from the end
    X, _ = toy_batch(N=4)
    with pytest.raises(ValueError):
        impl.TwoLayerNet(5, 4, 3).loss(X, y)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_labels_of_the_wrong_shape_or_type_raise(impl):
    logits = np.zeros((4, 3))
    with pytest.raises(ValueError):
        impl.softmax_cross_entropy(logits, np.array([[0], [1], [2], [1]]))   # (N, 1) column
    with pytest.raises(ValueError):
        impl.softmax_cross_entropy(logits, np.eye(3)[[0, 1, 2, 1]].astype(np.int64))  # one-hot (N, C)
    with pytest.raises(ValueError):
        impl.softmax_cross_entropy(logits, np.array([0.0, 1.0, 2.0, 1.0]))   # floats are not class indices
    with pytest.raises(ValueError):
        impl.softmax_cross_entropy(logits, np.array([0, 1, 2]))             # one label short


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_shape_mismatch_is_a_clear_error(impl):
    rng = np.random.default_rng(3)
    with pytest.raises(ValueError):
        impl.linear_forward(rng.standard_normal((4, 5)), rng.standard_normal((6, 3)), np.zeros(3))
    with pytest.raises(ValueError):   # a (D_in,)-sized bias would broadcast silently in some shapes
        impl.linear_forward(rng.standard_normal((4, 3)), rng.standard_normal((3, 3)), np.zeros((4, 3)))
    with pytest.raises(ValueError):
        impl.TwoLayerNet(5, 4, 3).loss(rng.standard_normal((4, 6)), np.array([0, 1, 2, 0]))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("x_shape,W_shape,b_shape", [
    ((5,), (5, 3), (3,)),          # one sample without its batch axis
    ((2, 5, 5), (5, 3), (3,)),     # a 3-D x that matmul would broadcast
    ((4, 5), (5,), (3,)),          # W as a vector
    ((4, 5), (5, 3), (1,)),        # a (1,) bias broadcasts over every output
    ((3, 5), (5, 3), (3, 1)),      # a column bias broadcasts into an (N, D_out) matrix when N == D_out
    ((4, 5), (5, 3), (1, 3)),      # a (1, D_out) bias
], ids=["x-1d", "x-3d", "W-1d", "b-(1,)", "b-column", "b-(1,D_out)"])
def test_linear_forward_rejects_shapes_that_would_broadcast(impl, x_shape, W_shape, b_shape):
    rng = np.random.default_rng(12)
    x, W, b = (rng.standard_normal(s) for s in (x_shape, W_shape, b_shape))
    with pytest.raises(ValueError):
        impl.linear_forward(x, W, b)   # x must be (N, D_in), W (D_in, D_out) and b exactly (D_out,)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_linear_backward_rejects_a_dout_of_the_wrong_shape(impl):
    rng = np.random.default_rng(13)
    x, W, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 3)), np.zeros(3)
    _, cache = impl.linear_forward(x, W, b)
    with pytest.raises(ValueError):   # N == D_out here, so a 1-D dout would give a 1-D dW without any error
        impl.linear_backward(rng.standard_normal(3), cache)
    with pytest.raises(ValueError):
        impl.linear_backward(rng.standard_normal((3, 4)), cache)
    lin = impl.Linear(4, 3, rng=0)
    lin.forward(x)
    with pytest.raises(ValueError):
        lin.backward(rng.standard_normal(3))


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_nan_input_shows_up_as_nan(impl):
    out, _ = impl.relu_forward(np.array([[np.nan, -1.0, 2.0]]))
    out = as_array(out)
    assert np.isnan(out[0, 0]), "relu(NaN) must stay NaN (np.maximum does; np.where(x > 0, x, 0) hides it as 0)"
    assert out[0, 1] == 0.0 and out[0, 2] == 2.0
    X, y = toy_batch(seed=4)
    X[0, 2] = np.nan
    loss, _ = impl.TwoLayerNet(5, 4, 3).loss(X, y)
    assert math.isnan(float(loss)), f"a NaN in the input must give a NaN loss (so training can stop), got {loss}"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_relu_gradient_at_exactly_zero_is_zero(impl):
    x = np.array([[0.0, -0.0, 1e-12, -1e-12, 3.0]])
    _, cache = impl.relu_forward(x)
    dx = impl.relu_backward(np.full((1, 5), 7.0), cache)
    assert_close(dx, np.array([[0.0, 0.0, 7.0, 0.0, 7.0]]),
                 what="relu_backward at x = [0, -0, 1e-12, -1e-12, 3] (mask x > 0: the gradient at 0 is 0)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_large_logits_do_not_overflow(impl):
    rng = np.random.default_rng(5)
    logits, y = rng.standard_normal((4, 5)), np.array([0, 1, 2, 3])
    loss, dlogits = impl.softmax_cross_entropy(logits, y)
    big_loss, big_dlogits = impl.softmax_cross_entropy(logits + 1e4, y)
    assert math.isfinite(float(big_loss)), "exp(1e4) overflows: subtract the row max before exp"
    assert math.isclose(float(big_loss), float(loss), rel_tol=1e-9), (
        "adding a constant to every logit of a row must not change the loss")
    assert_close(big_dlogits, dlogits, rtol=1e-7, atol=1e-10, what="dlogits of shifted logits")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_float32_is_preserved_end_to_end(impl):
    f32 = np.float32
    rng = np.random.default_rng(6)
    x, W, b = (rng.standard_normal(s).astype(f32) for s in ((4, 5), (5, 3), (3,)))
    out, cache = impl.linear_forward(x, W, b)
    grads = impl.linear_backward(np.ones((4, 3), f32), cache)
    relu_out, relu_cache = impl.relu_forward(x)
    relu_dx = impl.relu_backward(np.ones((4, 5), f32), relu_cache)
    _, dlogits = impl.softmax_cross_entropy(as_array(out), np.array([0, 1, 2, 0]))
    arrays = {"linear out": out, "dx": grads[0], "dW": grads[1], "db": grads[2], "relu out": relu_out,
              "relu dx": relu_dx, "dlogits": dlogits}
    net = impl.TwoLayerNet(5, 4, 3, dtype=f32, reg=0.1)
    arrays.update({f"params[{k!r}]": v for k, v in net.params.items()})
    arrays["scores"] = net.loss(x)
    arrays.update({f"grads[{k!r}]": v for k, v in net.loss(x, np.array([0, 1, 2, 0]))[1].items()})
    model = impl.Sequential(impl.Linear(5, 6, rng=0, dtype=f32), impl.ReLU(), impl.Linear(6, 3, rng=1, dtype=f32))
    arrays["Sequential forward"] = as_array(model.forward(x)).copy()
    arrays["Sequential backward"] = model.backward(np.ones((4, 3), f32))
    arrays.update({f"Sequential parameter {i} .grad": p.grad for i, p in enumerate(model.parameters())})
    wrong = {name: str(as_array(a).dtype) for name, a in arrays.items() if as_array(a).dtype != f32}
    assert not wrong, f"float32 in must stay float32 (Topic 10 trains in float32); upcast: {wrong}"
