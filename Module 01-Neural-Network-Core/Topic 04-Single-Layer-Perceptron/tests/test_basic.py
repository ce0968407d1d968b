"""Topic 04 basic tests: shapes, values (golden files and numbers worked out by hand) and gradients."""

import math

import numpy as np
import pytest

from dlfs.gradient_check import check_model
from dlfs.testing import as_array, assert_close, assert_shape

LN2 = math.log(2.0)


def accuracy(pred, y):
    return float(np.mean(as_array(pred) == np.asarray(y)))


def reference_sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))  # 1 / (1 + e^-z) computed without overflow


# ----------------------------------------------------------------------------------------------
# Task 1-2: data
# ----------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_make_linearly_separable_shapes_and_labels(impl):
    X, y = impl.make_linearly_separable(50, seed=0)
    X, y = as_array(X), as_array(y)
    assert_shape(X, (50, 2), "X")
    assert_shape(y, (50,), "y")
    assert X.dtype == np.float64, f"X is {X.dtype}, expected float64"
    assert np.issubdtype(y.dtype, np.integer), f"labels are {y.dtype}: class labels must be ints (use .astype(np.int64))"
    assert set(np.unique(y)) <= {0, 1}, f"labels must be 0 or 1, got {np.unique(y)}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("margin", [0.5, 0.2])
def test_make_linearly_separable_keeps_its_margin(impl, reference, margin):
    X, y = impl.make_linearly_separable(200, seed=1, margin=margin)
    X, y = as_array(X), as_array(y)
    share = y.mean()
    assert 0.1 <= share <= 0.9, (f"{share:.0%} of the points are class 1: the line should pass near the origin "
                                 "(offset in [-0.5, 0.5]) so that both classes are well represented")
    gaps = np.linalg.norm(X[y == 0][:, None, :] - X[y == 1][None, :, :], axis=-1)
    assert gaps.min() >= 2 * margin - 1e-9, (
        f"two points of different classes are only {gaps.min():.3f} apart, but each should be at least "
        f"margin = {margin} from the line (so >= {2 * margin} from each other): reject the points inside the band")
    _, _, errors = reference.perceptron_train(X, y, epochs=1000)
    assert errors[-1] == 0, "the reference perceptron cannot separate these points: they are not linearly separable"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_make_xor_without_noise_is_the_truth_table(impl):
    X, y = impl.make_xor(1, noise=0.0)
    assert_close(X, [[0, 0], [0, 1], [1, 0], [1, 1]], what="make_xor(1, noise=0) points")
    assert as_array(y).tolist() == [0, 1, 1, 0], f"XOR labels are 0, 1, 1, 0 for (0,0), (0,1), (1,0), (1,1), got {y}"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_make_xor_groups_corners_and_adds_gaussian_noise(impl):
    X, y = impl.make_xor(n_per_corner=200, noise=0.1, seed=0)
    X, y = as_array(X), as_array(y)
    assert_shape(X, (800, 2), "X")
    assert_shape(y, (800,), "y")
    assert y.tolist() == np.repeat([0, 1, 1, 0], 200).tolist(), "rows must be grouped by corner, in the order 00, 01, 10, 11"
    corners = np.repeat([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], 200, axis=0)
    offsets = X - corners
    assert abs(offsets.mean()) < 0.02, f"the noise has mean {offsets.mean():.3f}, expected 0"
    assert 0.09 < offsets.std() < 0.11, f"the noise has std {offsets.std():.3f}, expected noise = 0.1"


# ----------------------------------------------------------------------------------------------
# Shapes of every task's outputs
# ----------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_perceptron_output_shapes(impl):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 3)), np.array([0, 1, 1, 0, 1, 0, 1])
    pred = as_array(impl.perceptron_predict(X, rng.standard_normal(3), 0.1))
    assert_shape(pred, (7,), "perceptron_predict")
    assert np.issubdtype(pred.dtype, np.integer), f"predictions are {pred.dtype}, expected ints 0/1"
    w, b, errors = impl.perceptron_train(X, y, epochs=5)
    assert_shape(w, (3,), "w")
    assert np.ndim(b) == 0, f"b must be a scalar, got shape {np.shape(b)}"
    errors = as_array(errors)
    assert errors.ndim == 1 and 1 <= len(errors) <= 5, f"errors_per_epoch has shape {errors.shape}, expected (epochs run,)"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_logistic_output_shapes(impl):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((7, 3)), np.array([0, 1, 1, 0, 1, 0, 1])
    assert_shape(impl.sigmoid(rng.standard_normal((2, 3, 4))), (2, 3, 4), "sigmoid of a (2, 3, 4) array")
    loss, dw, db = impl.logistic_loss(X, y, rng.standard_normal(3), 0.2)
    assert np.ndim(loss) == 0 and np.ndim(db) == 0, "loss and db must be scalars"
    assert_shape(dw, (3,), "dw")
    w, b, losses = impl.logistic_train(X, y, epochs=6)
    assert_shape(w, (3,), "w")
    assert np.ndim(b) == 0, "b must be a scalar"
    assert_shape(losses, (6,), "losses (one per epoch)")
    assert_shape(impl.logistic_predict_proba(X, w, b), (7,), "logistic_predict_proba")


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_two_layer_output_shapes(impl, noisy_xor):
    X, y = noisy_xor
    net = impl.TwoLayerXOR(hidden=5, seed=0)
    expected = {"W1": (2, 5), "b1": (5,), "W2": (5, 1), "b2": (1,)}
    assert set(net.params) == set(expected), f"params keys {sorted(net.params)}, expected {sorted(expected)}"
    for name, shape in expected.items():
        assert_shape(net.params[name], shape, f"params[{name!r}]")
    assert_shape(net.forward(X), (40,), "forward (one probability per sample)")
    loss, grads = net.loss_and_grads(X, y)
    assert np.ndim(loss) == 0, "loss must be a scalar"
    for name, shape in expected.items():
        assert_shape(grads[name], shape, f"grads[{name!r}]")
    assert_shape(net.train(X, y, epochs=3), (3,), "train's losses")
    assert_shape(net.predict(X), (40,), "predict")


@pytest.mark.shape
@pytest.mark.hint(3)
@pytest.mark.task(9)
def test_float32_stays_float32(impl, noisy_xor):
    X, y = noisy_xor
    X32 = X.astype(np.float32)
    w32 = np.zeros(2, dtype=np.float32)
    checks = {
        "sigmoid": impl.sigmoid(X32),
        "perceptron_train w": impl.perceptron_train(X32, y, epochs=3)[0],
        "logistic_loss dw": impl.logistic_loss(X32, y, w32, 0.0)[1],
        "logistic_train w": impl.logistic_train(X32, y, epochs=3)[0],
        "logistic_predict_proba": impl.logistic_predict_proba(X32, w32, 0.0),
    }
    net = impl.TwoLayerXOR(dtype=np.float32)
    net.train(X32, y, epochs=3)
    checks.update({f"params[{k!r}] after train": v for k, v in net.params.items()})
    checks["TwoLayerXOR.forward"] = net.forward(X32)
    checks.update({f"grads[{k!r}]": v for k, v in net.loss_and_grads(X32, y)[1].items()})
    wrong = {name: str(as_array(v).dtype) for name, v in checks.items() if as_array(v).dtype != np.float32}
    assert not wrong, f"float32 inputs came back as {wrong}: keep the input dtype (no float64 constants or np.zeros(d) defaults)"


# ----------------------------------------------------------------------------------------------
# Task 3-4: the perceptron
# ----------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_perceptron_predict_is_a_strict_step(impl):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])
    w = np.array([1.0, -1.0])
    pred = as_array(impl.perceptron_predict(X, w, 0.0)).tolist()
    assert pred == [1, 0, 0, 0], f"scores are [1, -1, 0, -1], predictions should be [1, 0, 0, 0], got {pred} (a score of exactly 0 is class 0)"
    pred = as_array(impl.perceptron_predict(X, w, 0.5)).tolist()
    assert pred == [1, 0, 1, 0], f"with b = 0.5 the scores are [1.5, -0.5, 0.5, -0.5]; got predictions {pred}: is b added?"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
@pytest.mark.parametrize("label,lr,w_expected,b_expected,errors_expected", [
    (1, 0.5, [1.0, 0.5], 0.5, [1, 0]),   # start w = 0 predicts 0: one mistake, then w = 0.5 * x, b = 0.5
    (0, 0.5, [0.0, 0.0], 0.0, [0]),      # already right at w = 0: no update at all
])
def test_perceptron_by_hand_on_one_sample(impl, label, lr, w_expected, b_expected, errors_expected):
    w, b, errors = impl.perceptron_train(np.array([[2.0, 1.0]]), np.array([label]), lr=lr, epochs=10)
    errors = as_array(errors).tolist()
    assert errors == errors_expected, (
        f"x = (2, 1), t = {label}: expected errors per epoch {errors_expected}, got {errors}. Update only on a "
        "mistake, with w += lr * (t - pred) * x, and stop after the first epoch without mistakes")
    assert_close(w, w_expected, what=f"w after training on x = (2, 1), t = {label}, lr = {lr}")
    assert math.isclose(float(b), b_expected, abs_tol=1e-12), f"b = {float(b)}, expected {b_expected}: b moves by lr * (t - pred)"


def rosenblatt(X, y, lr, epochs, seed):
    """Task 4's rule, one sample at a time, as written in questions.md."""
    rng = np.random.default_rng(seed)
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for i in rng.permutation(len(X)):
            pred = 1 if X[i] @ w + b > 0 else 0
            if pred != y[i]:
                w, b, mistakes = w + lr * (y[i] - pred) * X[i], b + lr * (y[i] - pred), mistakes + 1
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_perceptron_checks_every_sample_after_a_mistake(impl):
    # two samples of class 1 at x = 1 and x = -1: each is still wrong after the update on the other, in either
    # order, so epoch 0 makes 2 updates (w = 1 - 1 = 0, b = 2) and epoch 1 none
    w, b, errors = impl.perceptron_train(np.array([[1.0], [-1.0]]), np.array([1, 1]), lr=1.0, epochs=10, seed=0)
    assert as_array(errors).tolist() == [2, 0], (
        f"errors per epoch {as_array(errors).tolist()}, expected [2, 0]: after an update, the NEXT sample of the "
        "epoch is predicted with the new w and b (do not skip it)")
    assert_close(w, [0.0], what="w after the two updates (+x then -x)")
    assert math.isclose(float(b), 2.0), f"b = {float(b)}, expected 2.0 (two updates of +lr)"
    rng = np.random.default_rng(21)
    X = rng.standard_normal((30, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.standard_normal(30) > 0).astype(np.int64)  # not separable
    w, b, errors = impl.perceptron_train(X, y, lr=0.5, epochs=40, seed=4)
    w_ref, b_ref, errors_ref = rosenblatt(X, y, 0.5, 40, 4)
    assert as_array(errors).tolist() == errors_ref, (
        f"errors per epoch differ from the rule applied one sample at a time: first epochs {as_array(errors)[:6].tolist()} "
        f"vs {errors_ref[:6]}")
    assert_close(w, w_ref, rtol=1e-9, what="w vs the rule applied one sample at a time")
    assert math.isclose(float(b), b_ref, abs_tol=1e-9), f"b = {float(b)}, expected {b_ref}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_perceptron_matches_golden(impl, golden):
    g = golden("perceptron")
    w, b, errors = impl.perceptron_train(g["X"], g["y"], lr=float(g["lr"]), epochs=100, seed=int(g["seed"]))
    assert as_array(errors).tolist() == g["errors"].tolist(), (
        f"errors per epoch {as_array(errors).tolist()}, expected {g['errors'].tolist()}: make rng = "
        "np.random.default_rng(seed) once and visit rng.permutation(N) each epoch, counting one error per update")
    assert_close(w, g["w"], rtol=1e-9, what="perceptron w")
    assert math.isclose(float(b), float(g["b"]), abs_tol=1e-9), f"b = {float(b)}, expected {float(g['b'])}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_perceptron_converges_and_separates(impl, separable):
    X, y = separable
    w, b, errors = impl.perceptron_train(X, y, epochs=100, seed=0)
    errors = as_array(errors)
    assert errors[-1] == 0, f"no epoch without mistakes in 100 epochs (last counts {errors[-5:].tolist()}) on separable data"
    assert len(errors) < 100, "training should stop after the first epoch without a mistake"
    signed = (2 * y - 1) * (X @ as_array(w) + float(b))
    assert signed.min() > 0, f"{int((signed <= 0).sum())} points are on the wrong side of the learned line"
    assert accuracy(impl.perceptron_predict(X, w, b), y) == 1.0, "perceptron_predict disagrees with the learned line"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_perceptron_cannot_learn_xor(impl, xor_points, noisy_xor):
    for (X, y), name in [(xor_points, "the 4 XOR points"), (noisy_xor, "noisy XOR")]:
        w, b, errors = impl.perceptron_train(X, y, epochs=60, seed=0)
        errors = as_array(errors)
        assert len(errors) == 60 and errors.min() >= 1, (
            f"on {name} an epoch had no mistake ({errors.tolist()[:10]}...): no line separates XOR, so every "
            "epoch must make at least one update")
        assert accuracy(impl.perceptron_predict(X, w, b), y) <= 0.75, f"a line classified {name} better than 3/4: impossible"


# ----------------------------------------------------------------------------------------------
# Task 5-8: logistic regression
# ----------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_sigmoid_matches_golden(impl, golden):
    g = golden("sigmoid")
    assert_close(impl.sigmoid(g["z"]), g["s"], rtol=1e-7, atol=1e-12, what="sigmoid(z)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_sigmoid_by_hand(impl):
    s = as_array(impl.sigmoid(np.array([0.0, math.log(3.0), -math.log(3.0)])))
    assert_close(s, [0.5, 0.75, 0.25], what="sigmoid(0), sigmoid(ln 3), sigmoid(-ln 3)")
    z = np.random.default_rng(0).standard_normal((3, 4)) * 4
    assert_close(as_array(impl.sigmoid(-z)), 1.0 - as_array(impl.sigmoid(z)), rtol=1e-9, atol=1e-12,
                 what="sigmoid(-z) vs 1 - sigmoid(z)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_logistic_loss_at_zero_weights_is_ln2(impl):
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((10, 3)), np.array([1, 0, 0, 1, 1, 1, 0, 1, 0, 1])
    loss, dw, db = impl.logistic_loss(X, y, np.zeros(3), 0.0)
    assert math.isclose(float(loss), LN2, rel_tol=1e-9), (
        f"loss at w = 0, b = 0 is {float(loss):.6f}; every p is 1/2 so the mean loss is ln 2 = {LN2:.6f}"
        + (" (you got N * ln 2: sum instead of mean?)" if math.isclose(float(loss), 10 * LN2, rel_tol=1e-6) else ""))
    assert_close(dw, X.T @ (0.5 - y) / 10, what="dw at w = 0 (X.T @ (p - t) / N with p = 1/2)")
    assert math.isclose(float(db), float(np.mean(0.5 - y)), abs_tol=1e-12), f"db = {float(db)}, expected mean(1/2 - t) = {np.mean(0.5 - y)}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_logistic_loss_matches_golden(impl, golden):
    g = golden("logistic_loss")
    loss, dw, db = impl.logistic_loss(g["X"], g["y"], g["w"], float(g["b"]))
    assert math.isclose(float(loss), float(g["loss"]), rel_tol=1e-7), f"loss {float(loss)}, expected {float(g['loss'])}"
    assert_close(dw, g["dw"], rtol=1e-7, what="dw")
    assert math.isclose(float(db), float(g["db"]), rel_tol=1e-7, abs_tol=1e-12), f"db {float(db)}, expected {float(g['db'])}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_logistic_gradients_match_finite_differences(impl):
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((6, 4)), np.array([1, 0, 1, 1, 0, 0])
    params = {"w": rng.standard_normal(4), "b": np.array(0.3)}
    _, dw, db = impl.logistic_loss(X, y, params["w"].copy(), float(params["b"]))
    grads = {"w": np.array(as_array(dw), dtype=np.float64), "b": np.array(float(db))}
    report = check_model(lambda: float(impl.logistic_loss(X, y, params["w"], float(params["b"]))[0]), params, grads)
    assert report.passed, f"analytic and numerical gradients disagree:\n{report}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_logistic_train_matches_golden(impl, golden):
    g = golden("logistic_train")
    w, b, losses = impl.logistic_train(g["X"], g["y"], lr=float(g["lr"]), epochs=int(g["epochs"]))
    assert_close(losses, g["losses"], rtol=1e-7, what="losses (losses[k] is the loss before the k-th update)")
    assert_close(w, g["w"], rtol=1e-7, what="trained w")
    assert math.isclose(float(b), float(g["b"]), rel_tol=1e-7), f"trained b {float(b)}, expected {float(g['b'])}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_logistic_train_learns_separable_data(impl, separable):
    X, y = separable
    w, b, losses = impl.logistic_train(X, y, lr=0.5, epochs=200)
    losses = as_array(losses)
    assert math.isclose(float(losses[0]), LN2, rel_tol=1e-7), f"losses[0] = {losses[0]}: from w = 0 it must be ln 2"
    assert (np.diff(losses) <= 1e-12).all(), "the loss went up during full-batch gradient descent with a small step"
    assert losses[-1] < 0.1, f"loss only fell to {losses[-1]:.3f} in 200 epochs on separable data"
    assert accuracy(as_array(impl.logistic_predict_proba(X, w, b)) > 0.5, y) >= 0.98


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_logistic_predict_proba_by_hand(impl):
    X = np.array([[1.0, 2.0], [0.0, 0.0], [-1.0, 1.0]])
    p = impl.logistic_predict_proba(X, np.array([0.5, -0.25]), 0.1)
    assert_close(p, 1.0 / (1.0 + np.exp(-np.array([0.1, 0.1, -0.65]))), what="sigmoid(X @ w + b)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_logistic_regression_cannot_learn_xor(impl, xor_points, noisy_xor):
    for (X, y), name in [(xor_points, "the 4 XOR points"), (noisy_xor, "noisy XOR")]:
        w, b, losses = impl.logistic_train(X, y, lr=0.5, epochs=300)
        acc = accuracy(as_array(impl.logistic_predict_proba(X, w, b)) > 0.5, y)
        assert acc <= 0.75, f"logistic regression reached {acc:.0%} on {name}: a straight line cannot beat 3/4"
        assert float(as_array(losses)[-1]) > 0.6, f"the loss on {name} fell to {float(as_array(losses)[-1]):.3f}: impossible for a line"


# ----------------------------------------------------------------------------------------------
# The defaults of the signatures in questions.md
# ----------------------------------------------------------------------------------------------

def assert_same_outputs(got, want, what):
    for k, (a, b) in enumerate(zip(got, want)):
        a, b = as_array(a), as_array(b)
        assert np.shape(a) == np.shape(b) and np.array_equal(a, b), (
            f"{what}: output {k} with the default arguments differs from the documented defaults spelled out "
            f"(shapes {np.shape(a)} vs {np.shape(b)}): check the default values of your signature")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_make_linearly_separable_defaults(impl):
    assert_same_outputs(impl.make_linearly_separable(60), impl.make_linearly_separable(60, seed=0, margin=0.5),
                        "make_linearly_separable(60) vs (60, seed=0, margin=0.5)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_make_xor_defaults(impl):
    assert_same_outputs(impl.make_xor(), impl.make_xor(25, noise=0.1, seed=0),
                        "make_xor() vs make_xor(25, noise=0.1, seed=0)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_perceptron_train_defaults(impl, make_noisy_xor):
    X, y = make_noisy_xor(10, noise=0.2, seed=3)   # XOR never converges: every one of the epochs runs
    got = impl.perceptron_train(X, y)
    assert len(as_array(got[2])) == 100, f"perceptron_train(X, y) ran {len(as_array(got[2]))} epochs, expected 100"
    assert_same_outputs(got, impl.perceptron_train(X, y, lr=1.0, epochs=100, seed=0),
                        "perceptron_train(X, y) vs (X, y, lr=1.0, epochs=100, seed=0)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_logistic_train_defaults(impl, make_noisy_xor):
    X, y = make_noisy_xor(5, noise=0.3, seed=4)
    assert_same_outputs(impl.logistic_train(X, y), impl.logistic_train(X, y, lr=0.1, epochs=200),
                        "logistic_train(X, y) vs (X, y, lr=0.1, epochs=200)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(9)
def test_two_layer_xor_defaults(impl, xor_points):
    X, y = xor_points
    net, spelled_out = impl.TwoLayerXOR(), impl.TwoLayerXOR(hidden=4, seed=0, dtype=np.float64)
    for k in ("W1", "b1", "W2", "b2"):
        assert_same_outputs([net.params[k]], [spelled_out.params[k]],
                            f"TwoLayerXOR().params[{k!r}] vs TwoLayerXOR(hidden=4, seed=0, dtype=float64)")
    assert_same_outputs([net.train(X, y)], [spelled_out.train(X, y, lr=1.0, epochs=500)],
                        "TwoLayerXOR().train(X, y) losses vs train(X, y, lr=1.0, epochs=500)")


# ----------------------------------------------------------------------------------------------
# Task 9: the XOR checkpoint
# ----------------------------------------------------------------------------------------------

def _set_params(net, g):
    for name in ("W1", "b1", "W2", "b2"):
        net.params[name] = g[name].copy()


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_two_layer_forward_and_grads_match_golden(impl, golden):
    g = golden("two_layer_xor")
    net = impl.TwoLayerXOR(hidden=3, seed=0)
    _set_params(net, g)
    assert_close(net.forward(g["X"]), g["probs"], rtol=1e-7, what="forward probabilities")
    loss, grads = net.loss_and_grads(g["X"], g["y"])
    assert math.isclose(float(loss), float(g["loss"]), rel_tol=1e-7), f"loss {float(loss)}, expected {float(g['loss'])}"
    for name in ("W1", "b1", "W2", "b2"):
        assert_close(grads[name], g["d" + name], rtol=1e-6, atol=1e-10, what=f"grads[{name!r}]")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_two_layer_gradients_match_finite_differences(impl, make_noisy_xor):
    X, y = make_noisy_xor(3, noise=0.3, seed=4)
    net = impl.TwoLayerXOR(hidden=5, seed=3)
    _, grads = net.loss_and_grads(X, y)
    grads = {name: np.array(as_array(g), dtype=np.float64) for name, g in grads.items()}
    report = check_model(lambda: float(net.loss_and_grads(X, y)[0]), net.params, grads)
    assert report.passed, f"analytic and numerical gradients disagree:\n{report}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_two_layer_train_matches_golden(impl, golden):
    g = golden("two_layer_xor")
    net = impl.TwoLayerXOR(hidden=3, seed=0)
    _set_params(net, g)
    losses = net.train(g["X"], g["y"], lr=float(g["lr"]), epochs=int(g["epochs"]))
    assert_close(losses, g["train_losses"], rtol=1e-6, what="train losses (losses[k] is the loss before update k)")
    for name in ("W1", "b1", "W2", "b2"):
        assert_close(net.params[name], g["trained_" + name], rtol=1e-6, atol=1e-10, what=f"trained {name}")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(9)
def test_two_layer_net_solves_xor(impl, xor_points, noisy_xor):
    X, y = xor_points
    net = impl.TwoLayerXOR()
    losses = as_array(net.train(X, y))
    pred = as_array(net.predict(X)).tolist()
    assert pred == [0, 1, 1, 0], (
        f"after training with the defaults the net predicts {pred} for XOR: without a nonlinearity between the "
        "layers the net is still one straight line")
    assert losses[-1] < 0.05, f"loss {losses[-1]:.3f} after training on the 4 XOR points, expected < 0.05"
    X, y = noisy_xor
    net = impl.TwoLayerXOR()
    net.train(X, y)
    acc = accuracy(net.predict(X), y)
    assert acc >= 0.95, f"{acc:.0%} on noisy XOR, expected >= 95%"
