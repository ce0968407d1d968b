"""Topic 04 stress tests: determinism by seed, larger inputs, and speed relative to the level-2 reference.

Speed ratios are shown by the runner as warnings above the threshold; they never fail a test.
Sizes are kept small enough for the naive level (Python loops) to finish in seconds.
"""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def same(a, b):
    return np.array_equal(as_array(a), as_array(b))


# ----------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_data_generators_are_deterministic(impl):
    a, b = impl.make_linearly_separable(40, seed=3), impl.make_linearly_separable(40, seed=3)
    assert same(a[0], b[0]) and same(a[1], b[1]), "make_linearly_separable: the same seed must give the same data"
    c = impl.make_linearly_separable(40, seed=4)
    assert not same(a[0], c[0]), "make_linearly_separable: seeds 3 and 4 gave the same points (is the seed used?)"
    a, b, c = impl.make_xor(5, seed=3), impl.make_xor(5, seed=3), impl.make_xor(5, seed=4)
    assert same(a[0], b[0]), "make_xor: the same seed must give the same data"
    assert not same(a[0], c[0]), "make_xor: seeds 3 and 4 gave the same points (is the seed used?)"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_perceptron_order_depends_on_the_seed_only(impl, golden):
    g = golden("perceptron")
    runs = [impl.perceptron_train(g["X"], g["y"], seed=seed) for seed in (0, 0, 1, 2, 3)]
    first, again = runs[0], runs[1]
    assert same(first[0], again[0]) and float(first[1]) == float(again[1]) and same(first[2], again[2]), (
        "two runs with seed 0 differ: make rng = np.random.default_rng(seed) inside perceptron_train")
    distinct = {tuple(as_array(r[2]).tolist()) for r in runs}
    assert len(distinct) > 1, ("seeds 0 to 3 all gave the same errors per epoch: shuffle the samples with "
                               "rng.permutation(N) at the start of every epoch")


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_two_layer_init_and_training_are_deterministic(impl, noisy_xor):
    X, y = noisy_xor
    a, b, c = impl.TwoLayerXOR(seed=5), impl.TwoLayerXOR(seed=5), impl.TwoLayerXOR(seed=6)
    for name in ("W1", "W2"):
        assert same(a.params[name], b.params[name]), f"TwoLayerXOR(seed=5) twice: {name} differs"
        assert not same(a.params[name], c.params[name]), f"TwoLayerXOR seeds 5 and 6 give the same {name}"
    assert same(a.train(X, y, epochs=30), b.train(X, y, epochs=30)), "the same seed trained twice gave different losses"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_logistic_train_is_deterministic(impl, separable):
    X, y = separable
    first, second = impl.logistic_train(X, y, epochs=20), impl.logistic_train(X, y, epochs=20)
    assert same(first[0], second[0]) and same(first[2], second[2]), (
        "logistic_train gave different results twice on the same data: it must start from w = 0, b = 0")


# ----------------------------------------------------------------------------------------------
# Larger inputs
# ----------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_perceptron_converges_on_2000_points_with_a_thin_margin(impl, make_separable):
    X, y = make_separable(2000, seed=1, margin=0.02)
    w, b, errors = impl.perceptron_train(X, y, epochs=100, seed=0)
    errors = as_array(errors)
    assert errors[-1] == 0, f"no error-free epoch on separable data (last counts {errors[-5:].tolist()})"
    assert ((2 * y - 1) * (X @ as_array(w) + float(b)) > 0).all(), "the learned line does not separate the data"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_logistic_loss_on_a_large_batch_matches_the_reference(impl, reference):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((20_000, 10))
    y = (rng.random(20_000) < 0.3).astype(np.int64)
    w, b = rng.standard_normal(10), -0.4
    loss, dw, db = impl.logistic_loss(X, y, w, b)
    ref_loss, ref_dw, ref_db = reference.logistic_loss(X, y, w, b)
    assert np.isclose(float(loss), ref_loss, rtol=1e-9), f"loss {float(loss)} vs reference {ref_loss}"
    assert_close(dw, ref_dw, rtol=1e-8, atol=1e-12, what="dw on 20,000 samples")
    assert np.isclose(float(db), ref_db, rtol=1e-8), f"db {float(db)} vs reference {ref_db}"
    loss32, dw32, _ = impl.logistic_loss(X.astype(np.float32), y, w.astype(np.float32), b)
    assert np.isclose(float(loss32), ref_loss, rtol=1e-4), f"float32 loss {float(loss32)} vs float64 {ref_loss}"
    assert_close(dw32, ref_dw, rtol=1e-3, atol=1e-5, what="float32 dw")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(9)
def test_two_layer_on_a_large_batch_matches_the_reference(impl, reference):
    rng = np.random.default_rng(8)
    X = rng.uniform(-0.5, 1.5, size=(5_000, 2))
    y = ((X[:, 0] > 0.5) ^ (X[:, 1] > 0.5)).astype(np.int64)
    net, ref = impl.TwoLayerXOR(hidden=8, seed=1), reference.TwoLayerXOR(hidden=8, seed=1)
    for name in ref.params:
        net.params[name] = ref.params[name].copy()
    assert_close(net.forward(X), ref.forward(X), rtol=1e-9, atol=1e-12, what="forward on 5,000 points")
    loss, grads = net.loss_and_grads(X, y)
    ref_loss, ref_grads = ref.loss_and_grads(X, y)
    assert np.isclose(float(loss), ref_loss, rtol=1e-9)
    for name in ref_grads:
        assert_close(grads[name], ref_grads[name], rtol=1e-7, atol=1e-12, what=f"grads[{name!r}] on 5,000 points")


# ----------------------------------------------------------------------------------------------
# Speed (ratio to the level-2 reference; a warning above the threshold, never a failure)
# ----------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_sigmoid_of_100000_large_values_matches_the_reference(impl, reference):
    z = np.random.default_rng(0).standard_normal(100_000) * 10
    assert_close(impl.sigmoid(z), reference.sigmoid(z), rtol=1e-9, atol=1e-15, what="sigmoid of 100,000 values")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_speed_sigmoid(impl, reference, compare_speed):
    z = np.random.default_rng(0).standard_normal(100_000) * 10
    compare_speed(impl.sigmoid, reference.sigmoid, z, threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_logistic_losses_on_2000_samples_match_the_reference(impl, reference, make_separable):
    X, y = make_separable(2000, seed=2, margin=0.0)
    losses = impl.logistic_train(X, y, lr=0.5, epochs=20)[2]
    assert_close(losses, reference.logistic_train(X, y, lr=0.5, epochs=20)[2], rtol=1e-8, what="losses")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_speed_logistic_train(impl, reference, compare_speed, make_separable):
    X, y = make_separable(2000, seed=2, margin=0.0)
    compare_speed(impl.logistic_train, reference.logistic_train, X, y, lr=0.5, epochs=20, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_speed_perceptron_train(impl, reference, compare_speed, make_separable):
    X, y = make_separable(2000, seed=3, margin=0.01)
    compare_speed(impl.perceptron_train, reference.perceptron_train, X, y, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(9)
def test_speed_two_layer_train(impl, reference, compare_speed, noisy_xor):
    X, y = noisy_xor
    compare_speed(lambda: impl.TwoLayerXOR(seed=0).train(X, y, epochs=200),
                  lambda: reference.TwoLayerXOR(seed=0).train(X, y, epochs=200), threshold=3.0)
