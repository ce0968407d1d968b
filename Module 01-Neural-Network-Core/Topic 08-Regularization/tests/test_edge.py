"""Topic 08 edge tests: impossible probabilities, p = 0, empty batches, batch size 1, NaN, integer input,
bad arguments (a clear error, never a silent wrong answer) and the corner cases of early stopping."""

import math

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.testing import as_array, assert_close

Parameter = load_topic(3).Parameter


# ----------------------------------------------------------------------------------------------------------
# dropout
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
@pytest.mark.parametrize("p", [1.0, 1.5, -0.1, float("nan")], ids=["p=1", "p=1.5", "p=-0.1", "p=nan"])
def test_impossible_drop_probability_raises(impl, p):
    x = np.ones((3, 4))
    with pytest.raises(ValueError):
        impl.dropout_forward(x, p, True, rng=0)
    with pytest.raises(ValueError):
        impl.Dropout(p)
    if p == 1.0:
        with pytest.raises(ValueError):  # p = 1 is rejected in both modes: 1 / (1 - p) does not exist
            impl.dropout_forward(x, p, False)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_p_zero_is_the_identity(impl):
    x = np.random.default_rng(0).standard_normal((40, 30))
    out, mask = impl.dropout_forward(x, 0.0, True, rng=0)
    assert np.array_equal(as_array(out), x), "p = 0 drops nothing and scales by 1 / (1 - 0) = 1: out must equal x"
    assert np.all(as_array(mask) == 1.0), "with p = 0 every mask entry is 1"
    layer = impl.Dropout(0.0, rng=0)
    assert np.array_equal(as_array(layer.forward(x)), x), "Dropout(0.0) must be the identity in training mode too"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_empty_batch(impl):
    x = np.zeros((0, 7), np.float32)
    out, mask = impl.dropout_forward(x, 0.5, True, rng=0)
    assert as_array(out).shape == (0, 7) and as_array(mask).shape == (0, 7), "an empty batch gives empty (0, 7) arrays"
    assert as_array(impl.dropout_backward(np.zeros((0, 7), np.float32), mask)).shape == (0, 7)
    layer = impl.Dropout(0.5, rng=0)
    assert as_array(layer.forward(x)).shape == (0, 7), "Dropout.forward on an empty batch"
    assert as_array(layer.backward(np.zeros((0, 7), np.float32))).shape == (0, 7), "Dropout.backward on an empty batch"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_batch_size_one(impl):
    x = np.full((1, 2000), 3.0)
    out, mask = impl.dropout_forward(x, 0.5, True, rng=1)
    out = as_array(out)
    assert out.shape == (1, 2000), f"a single sample gave shape {out.shape}"
    assert set(np.unique(out).tolist()) <= {0.0, 6.0}, "every unit is 0 or 3 / (1 - 0.5) = 6"
    assert 0.4 < np.mean(out == 0) < 0.6, "about half of one sample's 2000 units must be dropped"
    layer = impl.Dropout(0.5, rng=1)
    assert as_array(layer.forward(x[:, :5])).shape == (1, 5), "Dropout.forward on one sample"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_nan_input_propagates(impl):
    x = np.ones((50, 40))
    x[::7, ::3] = np.nan
    out, mask = impl.dropout_forward(x, 0.3, True, rng=2)
    out, mask = as_array(out), as_array(mask)
    kept_nan = np.isnan(x) & (mask != 0)
    assert kept_nan.any(), "some NaN units must survive at p = 0.3"
    assert np.all(np.isnan(out[kept_nan])), "a kept NaN must stay NaN: never hide NaNs (they reveal a diverging model)"
    assert np.all(np.isfinite(out[~np.isnan(x)])), "NaN leaked into units whose input was finite"
    eval_out = as_array(impl.dropout_forward(x, 0.3, False)[0])
    assert np.array_equal(np.isnan(eval_out), np.isnan(x)), "eval mode must pass NaN through unchanged"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_integer_input_becomes_float(impl):
    x = np.arange(12).reshape(3, 4)
    out, mask = impl.dropout_forward(x, 0.5, True, rng=0)
    out = as_array(out)
    assert np.issubdtype(out.dtype, np.floating), (
        f"integer input gave a {out.dtype} output: 5 / (1 - 0.5) = 10 fits, but 5 / (1 - 0.3) does not; "
        "convert integer input to float64")
    assert set(np.unique(out[x > 0] / x[x > 0]).tolist()) <= {0.0, 2.0}, "kept units are x / (1 - p) = 2 x"
    eval_out = as_array(impl.dropout_forward(x, 0.5, False)[0])
    assert np.issubdtype(eval_out.dtype, np.floating) and np.array_equal(eval_out, x), (
        "eval mode on integer input returns the same values as floats")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_backward_with_the_wrong_shape_raises(impl):
    _, mask = impl.dropout_forward(np.ones((4, 5)), 0.5, True, rng=0)
    with pytest.raises(ValueError):
        impl.dropout_backward(np.ones((5, 4)), mask)  # a transposed dout would broadcast silently in places
    layer = impl.Dropout(0.5, rng=0)
    layer.forward(np.ones((4, 5)))
    with pytest.raises(ValueError):
        layer.backward(np.ones((4, 1)))


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_layer_backward_before_forward_raises(impl):
    layer = impl.Dropout(0.5, rng=0)
    with pytest.raises(RuntimeError) as info:
        layer.backward(np.ones((2, 3)))
    assert not isinstance(info.value, NotImplementedError), "Dropout.backward is not implemented yet"
    layer.forward(np.ones((2, 3)))
    assert as_array(layer.backward(np.ones((2, 3)))).shape == (2, 3), "after a forward, backward must work"


# ----------------------------------------------------------------------------------------------------------
# L2 and weight decay
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_l2_penalty_edge_cases(impl):
    loss, grads = impl.l2_penalty([], 0.5)
    assert float(loss) == 0.0 and list(grads) == [], "no weights: the penalty is 0 and there are no gradients"
    W = np.array([[1.0, -2.0], [3.0, 0.5]])
    loss, grads = impl.l2_penalty([W], 0.0)
    assert float(loss) == 0.0 and not as_array(grads[0]).any(), "lam = 0: no penalty, zero gradients"
    with pytest.raises(ValueError):
        impl.l2_penalty([W], -0.1)  # a negative lam would reward large weights
    loss, grads = impl.l2_penalty([np.array([1.0, np.nan])], 0.1)
    assert math.isnan(float(loss)), "a NaN weight must give a NaN penalty, not hide it"
    loss, grads = impl.l2_penalty([np.array([[1, 2], [3, 4]])], 0.1)
    assert math.isclose(float(loss), 1.5) and np.issubdtype(as_array(grads[0]).dtype, np.floating), (
        "integer weights: loss 0.5 * 0.1 * 30 = 1.5 and float gradients")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("name", ["sgd_step_l2", "sgd_step_decoupled"])
def test_sgd_step_bad_arguments_raise(impl, name):
    step = getattr(impl, name)
    w = np.ones((3, 2))
    with pytest.raises(ValueError):
        step(w, np.ones((2, 3)), 0.1, 0.01)  # grad of another shape
    with pytest.raises(ValueError):
        step(w, np.ones((3, 2)), -0.1, 0.01)  # negative learning rate
    with pytest.raises(ValueError):
        step(w, np.ones((3, 2)), 0.1, -0.01)  # negative decay
    assert_close(step(np.zeros((0, 2)), np.zeros((0, 2)), 0.1, 0.01), np.zeros((0, 2)), what=f"{name} on empty w")


# ----------------------------------------------------------------------------------------------------------
# early stopping
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
@pytest.mark.parametrize("kwargs", [{"patience": 0}, {"patience": -2}, {"patience": 2.5}, {"min_delta": -0.1},
                                    {"mode": "avg"}], ids=["patience=0", "patience=-2", "patience=2.5",
                                                           "min_delta<0", "mode=avg"])
def test_early_stopping_bad_arguments_raise(impl, kwargs):
    with pytest.raises(ValueError):
        impl.EarlyStopping(**kwargs)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_nan_metric_counts_as_no_improvement(impl):
    stopper = impl.EarlyStopping(patience=3)
    stopper.step(1.0, None)
    for _ in range(2):
        stopper.step(float("nan"), None)
    assert stopper.best == 1.0 and stopper.num_bad_epochs == 2, (
        f"after losses 1.0, nan, nan: best = {stopper.best}, num_bad_epochs = {stopper.num_bad_epochs}; expected "
        "1.0 and 2. NaN is never an improvement (every comparison with NaN is False: test 'metric < best', "
        "not 'not metric >= best')")
    assert not stopper.step(0.9, None) and stopper.best == 0.9, "0.9 after the NaNs is a real improvement"
    for _ in range(2):
        assert not stopper.step(float("nan"), None)
    assert stopper.step(float("nan"), None), "three NaN epochs in a row exhaust patience=3: a diverged run stops"

    first_nan = impl.EarlyStopping(patience=3)
    first_nan.step(float("nan"), None)
    assert first_nan.num_bad_epochs == 1 and first_nan.best_epoch is None, "a first NaN is not a best value"
    first_nan.step(2.0, None)
    assert first_nan.best == 2.0 and first_nan.best_epoch == 1, "the first real metric after a NaN becomes the best"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_restore_errors(impl):
    stopper = impl.EarlyStopping(patience=2)
    params = [Parameter(np.zeros(3)), Parameter(np.zeros((2, 2)))]
    with pytest.raises(RuntimeError) as info:
        stopper.restore(params)  # nothing recorded yet
    assert not isinstance(info.value, NotImplementedError), "EarlyStopping.restore is not implemented yet"
    stopper.step(1.0, params)
    with pytest.raises(ValueError):
        stopper.restore(params[:1])  # one parameter missing
    with pytest.raises(ValueError):
        stopper.restore([Parameter(np.zeros(3)), Parameter(np.zeros(4))])  # a shape that does not match


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_stop_without_any_improvement_leaves_weights_alone(impl):
    """All metrics NaN: no snapshot was ever taken, so the automatic restore has nothing to do (and must not fail)."""
    params = [Parameter(np.arange(4.0))]
    stopper = impl.EarlyStopping(patience=2)
    assert not stopper.step(float("nan"), params)
    assert stopper.step(float("nan"), params), "two bad epochs with patience=2: stop"
    assert np.array_equal(params[0].data, np.arange(4.0)), "without a best epoch the weights stay as they are"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_float32_parameters_are_restored_exactly(impl):
    params = [Parameter(np.float32([0.1, 0.2, 0.3]))]
    stopper = impl.EarlyStopping(patience=1)
    stopper.step(0.5, params)
    best = params[0].data.copy()
    params[0].data += np.float32(1e-3)
    assert stopper.step(0.6, params)
    assert params[0].data.dtype == np.float32 and np.array_equal(params[0].data, best), (
        "float32 weights must come back bit for bit, as float32")
