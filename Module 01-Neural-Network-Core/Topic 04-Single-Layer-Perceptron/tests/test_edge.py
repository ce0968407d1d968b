"""Topic 04 edge cases: huge logits, NaN/Inf, one sample, one class, empty batches, wrong labels and shapes.

The NaN rule of this topic: a function that returns floats lets NaN propagate (like NumPy); a function
that returns 0/1 labels or learns weights raises ValueError (an int cannot hold NaN, and a NaN weight
would silently ruin every later prediction).
"""

import math
import warnings

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close, assert_shape


def no_runtime_warnings(fn, *args):
    """Call fn(*args) on finite or infinite inputs and fail if NumPy warned, naming the likely cause."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args)
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    causes = []
    for text in messages:
        if "overflow" in text:
            causes.append("an overflow: exp(-z) overflows for z << 0, so compute exp(-|z|) only")
        elif "divide by zero" in text:
            causes.append("log(0) or x / 0: a probability that saturated to 0 or 1 went into log; "
                          "use softplus(z) - t * z")
        elif "invalid value" in text:
            causes.append("an invalid value (inf - inf, 0 * inf or inf / inf) from an infinite intermediate")
    assert not messages, (f"{getattr(fn, '__name__', 'call')} raised RuntimeWarning(s) {messages} on inputs "
                          f"without NaN; likely cause: {'; '.join(causes) or 'see hint 1'}")
    return result


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_sigmoid_of_huge_inputs_is_exact_and_silent(impl):
    z = np.array([-1000.0, -745.0, -100.0, -1.0, 0.0, 1.0, 100.0, 745.0, 1000.0])
    s = as_array(no_runtime_warnings(impl.sigmoid, z))
    assert_all_finite(s, "sigmoid of [-1000 ... 1000]")
    assert s[0] == 0.0 and s[-1] == 1.0, f"sigmoid(-1000) = {s[0]}, sigmoid(1000) = {s[-1]}: expected 0 and 1"
    assert (np.diff(s) >= 0).all(), "sigmoid must be non-decreasing"
    s32 = as_array(no_runtime_warnings(impl.sigmoid, np.array([-100.0, 100.0], dtype=np.float32)))
    assert s32[0] < 1e-30 and s32[1] == 1.0, f"float32 sigmoid(-100), sigmoid(100) = {s32.tolist()} (exp(100) overflows float32)"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_sigmoid_of_integers_is_float64(impl):
    out = as_array(impl.sigmoid(np.array([0, 3, -2])))
    assert out.dtype == np.float64, f"sigmoid of an int array returned {out.dtype}: ints become float64"
    assert_close(out, 1.0 / (1.0 + np.exp(-np.array([0.0, 3.0, -2.0]))), what="sigmoid([0, 3, -2]) (int input)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_logistic_loss_with_huge_logits_by_hand(impl):
    # z = [1000, -1000, 1000, -1000] with t = [1, 0, 0, 1]: two sure and right (loss 0), two sure and
    # wrong (loss |z| = 1000 each), so the mean loss is 500; dz = (p - t) / 4 = [0, 0, 1/4, -1/4].
    X, y = np.array([[1000.0], [-1000.0], [1000.0], [-1000.0]]), np.array([1, 0, 0, 1])
    loss, dw, db = no_runtime_warnings(impl.logistic_loss, X, y, np.array([1.0]), 0.0)
    assert math.isfinite(float(loss)), (f"loss = {float(loss)}: log(sigmoid(z)) underflows to log(0); use the "
                                        "stable form softplus(z) - t * z")
    assert math.isclose(float(loss), 500.0, rel_tol=1e-9), f"loss = {float(loss)}, expected 500 (two samples off by 1000)"
    assert_close(dw, [500.0], what="dw for logits of +-1000")
    assert abs(float(db)) < 1e-12, f"db = {float(db)}, expected 0"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_sigmoid_of_nan_and_inf(impl):
    s = as_array(no_runtime_warnings(impl.sigmoid, np.array([np.inf, -np.inf, 2.0])))
    assert s[0] == 1.0 and s[1] == 0.0, f"sigmoid(+inf), sigmoid(-inf) = {s[0]}, {s[1]}: expected 1 and 0"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NaN input may warn ("invalid value"): questions.md, Task 5
        s = as_array(impl.sigmoid(np.array([np.nan, np.inf, -np.inf, 2.0])))
    assert math.isnan(s[0]), f"sigmoid(NaN) = {s[0]}: NaN must propagate"
    assert s[1] == 1.0 and s[2] == 0.0, f"sigmoid(+inf), sigmoid(-inf) next to a NaN = {s[1]}, {s[2]}: expected 1 and 0"
    assert math.isclose(s[3], 1.0 / (1.0 + math.exp(-2.0))), "a NaN elsewhere in the array changed sigmoid(2)"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_nan_inputs(impl, noisy_xor):
    X, y = noisy_xor
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    w = np.array([0.5, -0.5])
    for name, call in [("perceptron_train", lambda: impl.perceptron_train(X_nan, y)),
                       ("logistic_train", lambda: impl.logistic_train(X_nan, y)),
                       ("TwoLayerXOR.train", lambda: impl.TwoLayerXOR().train(X_nan, y, epochs=2)),
                       ("perceptron_predict", lambda: impl.perceptron_predict(X_nan, w, 0.0)),
                       ("TwoLayerXOR.predict", lambda: impl.TwoLayerXOR().predict(X_nan))]:
        with pytest.raises(ValueError):
            call()
            pytest.fail(f"{name} accepted X with a NaN: it must raise ValueError (learning or 0/1 labels from NaN)")
    loss = float(impl.logistic_loss(X_nan, y, w, 0.0)[0])
    assert math.isnan(loss), f"logistic_loss with a NaN in X returned {loss}: the NaN must propagate to the loss"
    p = as_array(impl.logistic_predict_proba(X_nan, w, 0.0))
    assert math.isnan(p[3]) and np.isfinite(np.delete(p, 3)).all(), "predict_proba: only the NaN row may be NaN"
    p = as_array(impl.TwoLayerXOR().forward(X_nan))
    assert math.isnan(p[3]) and np.isfinite(np.delete(p, 3)).all(), "TwoLayerXOR.forward: only the NaN row may be NaN"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_a_single_sample(impl):
    X, y = np.array([[2.0, -1.0]]), np.array([1])
    loss, dw, db = impl.logistic_loss(X, y, np.array([0.5, 0.5]), 0.0)  # z = 0.5
    p = 1.0 / (1.0 + math.exp(-0.5))
    assert math.isclose(float(loss), -math.log(p), rel_tol=1e-9), f"loss {float(loss)}, expected -ln sigmoid(0.5) = {-math.log(p)}"
    assert_close(dw, (p - 1.0) * X[0], what="dw for one sample")
    assert math.isclose(float(db), p - 1.0, rel_tol=1e-9), f"db {float(db)}, expected sigmoid(0.5) - 1 = {p - 1}"
    net = impl.TwoLayerXOR(hidden=3)
    loss, grads = net.loss_and_grads(X, y)
    assert math.isfinite(float(loss)) and all(np.isfinite(as_array(g)).all() for g in grads.values())
    assert_shape(net.predict(X), (1,), "predict on one sample")
    assert_shape(impl.perceptron_predict(X, np.zeros(2), 0.0), (1,), "perceptron_predict on one sample")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(9)
def test_all_samples_of_one_class(impl, make_separable):
    X, _ = make_separable(30, seed=5)
    zeros, ones = np.zeros(30, dtype=np.int64), np.ones(30, dtype=np.int64)
    w, b, errors = impl.perceptron_train(X, zeros)
    assert as_array(errors).tolist() == [0] and not as_array(w).any() and float(b) == 0.0, (
        "w = 0 already predicts class 0 for every sample: there is no mistake, so no update and one epoch")
    w, b, errors = impl.perceptron_train(X, ones)
    assert as_array(errors)[-1] == 0 and as_array(impl.perceptron_predict(X, w, b)).all(), "perceptron on all-1 labels"
    w, b, losses = impl.logistic_train(X, ones, lr=0.5, epochs=50)
    assert (as_array(impl.logistic_predict_proba(X, w, b)) > 0.5).all() and float(b) > 0, "logistic on all-1 labels"
    assert as_array(losses)[-1] < as_array(losses)[0], "the loss must fall when every label is 1"
    net = impl.TwoLayerXOR()
    net.train(X, ones, epochs=50)
    assert as_array(net.predict(X)).all(), "TwoLayerXOR trained on all-1 labels should predict 1 everywhere"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_empty_batch_cannot_be_learned_from(impl):
    X, y = np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    for name, call in [("logistic_loss", lambda: impl.logistic_loss(X, y, np.zeros(2), 0.0)),
                       ("logistic_train", lambda: impl.logistic_train(X, y)),
                       ("perceptron_train", lambda: impl.perceptron_train(X, y)),
                       ("TwoLayerXOR.loss_and_grads", lambda: impl.TwoLayerXOR().loss_and_grads(X, y)),
                       ("TwoLayerXOR.train", lambda: impl.TwoLayerXOR().train(X, y))]:
        with pytest.raises(ValueError):
            call()
            pytest.fail(f"{name} on an empty batch must raise ValueError (a mean over 0 samples is undefined)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_empty_batch_predicts_nothing(impl):
    X = np.zeros((0, 2))
    net = impl.TwoLayerXOR()
    for name, out in [("sigmoid", impl.sigmoid(np.zeros(0))),
                      ("perceptron_predict", impl.perceptron_predict(X, np.ones(2), 0.0)),
                      ("logistic_predict_proba", impl.logistic_predict_proba(X, np.ones(2), 0.0)),
                      ("TwoLayerXOR.forward", net.forward(X)),
                      ("TwoLayerXOR.predict", net.predict(X))]:
        assert_shape(out, (0,), f"{name} of an empty batch")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(9)
def test_labels_must_be_zero_or_one(impl, separable):
    X, y = separable
    y_pm = 2 * y - 1  # the -1/+1 convention of many textbooks: here it must be refused, not half-learned
    for name, call in [("perceptron_train", lambda: impl.perceptron_train(X, y_pm)),
                       ("logistic_loss", lambda: impl.logistic_loss(X, y_pm, np.zeros(2), 0.0)),
                       ("logistic_train", lambda: impl.logistic_train(X, y_pm)),
                       ("TwoLayerXOR.train", lambda: impl.TwoLayerXOR().train(X, y_pm, epochs=2))]:
        with pytest.raises(ValueError):
            call()
            pytest.fail(f"{name} accepted labels -1/+1: labels must be 0 or 1 (ValueError otherwise)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_mismatched_shapes_raise(impl, separable):
    X, y = separable
    calls = [("y shorter than X", lambda: impl.logistic_loss(X, y[:-1], np.zeros(2), 0.0)),
             ("y shorter than X", lambda: impl.perceptron_train(X, y[:-1])),
             ("y shorter than X", lambda: impl.logistic_train(X, y[:-1])),
             ("w of length 3 for 2 features", lambda: impl.perceptron_predict(X, np.zeros(3), 0.0)),
             ("w of length 3 for 2 features", lambda: impl.logistic_loss(X, y, np.zeros(3), 0.0)),
             ("w of length 3 for 2 features", lambda: impl.logistic_predict_proba(X, np.zeros(3), 0.0)),
             ("1-D X", lambda: impl.perceptron_train(X[:, 0], y)),
             ("X with 3 features", lambda: impl.TwoLayerXOR().forward(np.zeros((5, 3)))),
             ("y shorter than X", lambda: impl.TwoLayerXOR().loss_and_grads(X, y[:-1]))]
    for what, call in calls:
        with pytest.raises(ValueError):
            call()
            pytest.fail(f"{what} was accepted: it must raise ValueError, not broadcast silently")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_data_generators_check_their_arguments(impl):
    X, y = impl.make_linearly_separable(1, seed=0)
    assert_shape(X, (1, 2), "make_linearly_separable(1)")
    assert_shape(y, (1,), "its labels")
    for name, call in [("make_linearly_separable(0)", lambda: impl.make_linearly_separable(0)),
                       ("make_linearly_separable(margin=-1)", lambda: impl.make_linearly_separable(10, margin=-1.0)),
                       ("make_xor(0)", lambda: impl.make_xor(0)),
                       ("make_xor(noise=-0.1)", lambda: impl.make_xor(5, noise=-0.1))]:
        with pytest.raises(ValueError):
            call()
            pytest.fail(f"{name} must raise ValueError")
