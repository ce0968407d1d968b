"""Topic 05 edge tests: batch size 1, empty batch, NaN and -inf, integer input, float32 extremes, bad arguments."""

import warnings

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close, assert_shape

# ------------------------------------------------------------------------------------------ batch sizes

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_batch_size_one(impl):
    x = np.array([[2.0, 1.0, 0.1]])
    p = as_array(impl.softmax(x))
    e = np.exp(x - 2.0)
    assert_close(p, e / e.sum(), rtol=1e-12,
                 what="softmax of one row (axis=0 would give all ones here: normalise over the class axis)")
    model = impl.MLP([3, 4, 2], seed=0)
    assert_shape(model.forward(x), (1, 2), "MLP.forward on a batch of one")
    assert_close(as_array(model.predict_proba(x)).sum(axis=-1), [1.0], rtol=1e-12, what="predict_proba row sum")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_empty_batch(impl):
    x = np.zeros((0, 5))
    for fn in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
        assert_shape(getattr(impl, fn)(x), (0, 5), f"{fn} of an empty (0, 5) batch")
    assert_shape(impl.linear(x, np.ones((5, 3)), np.zeros(3)), (0, 3), "linear of an empty batch")
    model = impl.MLP([5, 4, 3], seed=0)
    assert_shape(model.forward(x), (0, 3), "MLP.forward of an empty batch")
    assert_shape(model.predict_proba(x), (0, 3), "MLP.predict_proba of an empty batch")


# ------------------------------------------------------------------------------------------ NaN and infinities

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_nan_propagates(impl):
    x = np.array([[1.0, np.nan, -1.0], [0.5, 2.0, -3.0]])
    for fn in ("relu", "sigmoid", "tanh"):
        out = as_array(getattr(impl, fn)(x))
        assert np.isnan(out[0, 1]), f"{fn}(NaN) must be NaN (a hidden NaN is a bug you never find)"
        assert np.isfinite(out[1]).all() and np.isfinite(out[0, [0, 2]]).all(), f"{fn}: NaN leaked into other entries"
    for fn in ("softmax", "log_softmax"):
        out = as_array(getattr(impl, fn)(x))
        assert np.isnan(out[0]).all(), f"{fn}: a row with a NaN logit must be all NaN, got {out[0]}"
        assert np.isfinite(out[1]).all(), f"{fn}: a NaN in row 0 leaked into row 1 (normalising over the batch axis?)"
    model = impl.MLP([3, 4, 2], seed=0)
    logits = as_array(model.forward(x))
    assert np.isnan(logits[0]).all() and np.isfinite(logits[1]).all(), (
        "MLP.forward: the NaN sample must give NaN logits and leave the other sample untouched")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_neg_inf_logits(impl):
    x = np.array([[0.0, -np.inf, 1.0], [-np.inf, 3.0, -np.inf]])
    p = as_array(impl.softmax(x))
    e = np.exp([0.0, 1.0])
    assert_close(p, [[e[0] / e.sum(), 0.0, e[1] / e.sum()], [0.0, 1.0, 0.0]], rtol=1e-12,
                 what="softmax with -inf (masked) logits")
    lp = as_array(impl.log_softmax(x))
    assert lp[0, 1] == -np.inf and lp[1, 0] == -np.inf and lp[1, 2] == -np.inf, "log_softmax of a -inf logit is -inf"
    assert_close(lp[1, 1], 0.0, atol=1e-12, what="log_softmax of the only unmasked logit")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_all_neg_inf_row_is_defined(impl):
    x = np.array([[-np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0]])
    p = as_array(impl.softmax(x))
    assert not np.isnan(p).any(), (
        "softmax of an all -inf row (every class masked) is defined as zeros, not NaN: "
        "a max of -inf makes x - max = -inf - (-inf) = NaN, so shift that row by 0 instead")
    assert_close(p[0], [0.0, 0.0, 0.0], what="softmax of an all -inf row")
    assert_close(p[1].sum(), 1.0, rtol=1e-12, what="the other row's sum")
    lp = as_array(impl.log_softmax(x))
    assert np.all(lp[0] == -np.inf), f"log_softmax of an all -inf row is all -inf (log of the zeros), got {lp[0]}"
    assert np.isfinite(lp[1]).all(), "log_softmax of the normal row must be finite"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_float32_extremes_no_overflow(impl):
    x32 = np.array([[-100.0, -88.0, 0.0, 88.0, 100.0]], dtype=np.float32)
    logits32 = np.array([[1e4, 0.0, -1e4], [3e4, 3e4, 0.0]], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")             # an overflow RuntimeWarning fails the test
        s = as_array(impl.sigmoid(x32))
        p = as_array(impl.softmax(logits32))
        lp = as_array(impl.log_softmax(logits32))
        s64 = as_array(impl.sigmoid(np.array([-1000.0, 1000.0])))
    assert s.dtype == np.float32 and p.dtype == np.float32 and lp.dtype == np.float32, "keep float32 in float32"
    assert_all_finite(s, "float32 sigmoid at +-100 (exp(100) overflows float32)")
    assert_close(s64, [0.0, 1.0], what="sigmoid at +-1000")
    assert_close(p, [[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]], atol=1e-6, what="float32 softmax of logits ~1e4")
    assert_close(lp[0], [0.0, -1e4, -2e4], rtol=1e-6, what="float32 log_softmax of logits ~1e4")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_integer_input_to_softmax(impl):
    x = np.array([[1, 2, 3], [0, 0, 0]])
    p = as_array(impl.softmax(x))
    assert p.dtype.kind == "f", f"softmax of integer logits returned dtype {p.dtype}: probabilities are floats"
    assert_close(p, as_array(impl.softmax(x.astype(np.float64))), rtol=1e-12, what="softmax of int vs float logits")
    assert_close(impl.log_softmax(x), np.log(p), rtol=1e-12, what="log_softmax of integer logits")


# ------------------------------------------------------------------------------------------ inputs are not modified

@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(8)
def test_inputs_not_modified(impl):
    x = np.random.default_rng(0).standard_normal((4, 6)) * 3
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        before = xd.copy()
        for fn in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
            getattr(impl, fn)(xd)
            assert np.array_equal(xd, before), f"{fn} modified its input in place: work in a buffer you allocated"
        model = impl.MLP([6, 5, 3], seed=0, dtype=dtype)
        model.forward(xd)
        model.predict_proba(xd)
        assert np.array_equal(xd, before), "MLP.forward / predict_proba modified the input batch"


# ------------------------------------------------------------------------------------------ clear errors

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_linear_shape_mismatch_names_both_shapes(impl):
    with pytest.raises(ValueError) as err:
        impl.linear(np.ones((5, 4)), np.ones((3, 2)), np.zeros(2))
    assert "(5, 4)" in str(err.value) and "(3, 2)" in str(err.value), (
        f"the error should name both shapes (5, 4) and (3, 2), got: {err.value}")
    with pytest.raises(ValueError):
        impl.linear(np.ones((5, 4)), np.ones((4, 2)), np.zeros(3))   # bias of the wrong length
    with pytest.raises(ValueError):
        impl.linear(np.ones(4), np.ones((4, 2)), np.zeros(2))        # x must be (N, D_in)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_mlp_rejects_bad_input_and_config(impl):
    model = impl.MLP([4, 3, 2], seed=0)
    with pytest.raises(ValueError):
        model.forward(np.ones((2, 5)))             # 5 features for a 4-input network
    with pytest.raises(ValueError):
        impl.MLP([4])                              # no output layer
    with pytest.raises(ValueError):
        impl.MLP([4, 3, 2], activation="softplus")
    with pytest.raises(ValueError):
        impl.MLP([4, 3, 2], init="orthogonal")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("name", [pytest.param("xavier_uniform", marks=pytest.mark.task(2)),
                                  pytest.param("xavier_normal", marks=pytest.mark.task(2)),
                                  pytest.param("kaiming_uniform", marks=pytest.mark.task(3)),
                                  pytest.param("kaiming_normal", marks=pytest.mark.task(3))])
def test_init_rejects_bad_fans(impl, name):
    fn = getattr(impl, name)
    for fan_in, fan_out in ((0, 10), (10, 0), (-3, 10)):
        with pytest.raises(ValueError):
            fn(fan_in, fan_out, rng=0)
    with pytest.raises(ValueError):
        fn(10, 10, rng=0, dtype=np.int32)          # weights must be floating point


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_calculate_gain_rejects_unknown(impl):
    with pytest.raises(ValueError):
        impl.calculate_gain("swishy")
    with pytest.raises(ValueError):
        impl.kaiming_normal(8, 8, rng=0, nonlinearity="swishy")
