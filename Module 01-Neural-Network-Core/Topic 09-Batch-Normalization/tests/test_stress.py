"""Topic 09 stress tests: a large batch, convergence of the running statistics, determinism, speed."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def make_batch(seed, N, D, loc=3.0, scale=2.0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(loc, scale, size=(N, D)).astype(dtype)


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_large_batch(impl):
    x = make_batch(0, 4096, 64, loc=np.linspace(-50, 50, 64), scale=np.linspace(0.5, 20, 64))
    bn_param = {"mode": "train"}
    out, _ = impl.batchnorm_forward(x, np.ones(64), np.zeros(64), bn_param)
    out = as_array(out)
    assert np.abs(out.mean(axis=0)).max() < 1e-8, "large batch: per-feature means of the output must be 0"
    assert np.abs(out.var(axis=0) - 1).max() < 1e-3, "large batch: per-feature variances of the output must be ~1"
    assert_close(bn_param["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-10, what="running_mean after one large batch")
    assert_close(bn_param["running_var"], 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-10,
                 what="running_var after one large batch")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_dx_ignores_shifts_and_scalings_of_a_feature(impl):
    # xhat does not change when a whole feature is shifted or scaled, so neither can the loss: per feature,
    # dx is orthogonal to the constant vector and to xhat (the projection in the closed form). The second
    # holds exactly for eps = 0 only (eps leaves gamma * dgamma * eps / (var + eps)^1.5): use a tiny eps.
    x = make_batch(12, 1024, 32, loc=np.linspace(-5, 5, 32), scale=np.linspace(0.5, 4, 32))
    gamma = np.linspace(0.5, 2, 32)
    _, cache = impl.batchnorm_forward(x, gamma, np.zeros(32), {"mode": "train", "eps": 1e-12})
    dout = np.random.default_rng(1).standard_normal((1024, 32))
    dx = as_array(impl.batchnorm_backward_alt(dout, cache)[0])
    xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-12)
    assert np.abs(dx.sum(axis=0)).max() < 1e-8, (
        "dx must sum to 0 over the batch for every feature (the path through the mean is missing?)")
    assert np.abs((dx * xhat).sum(axis=0)).max() < 1e-8, (
        "dx must be orthogonal to xhat for every feature (the path through the variance is missing?)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_running_stats_converge_to_the_true_moments(impl):
    true_mean = np.array([4.0, -1.0, 0.0, 20.0])
    true_std = np.array([1.0, 3.0, 0.2, 5.0])
    rng = np.random.default_rng(2)
    bn_param = {"mode": "train", "momentum": 0.1}
    gamma, beta = np.ones(4), np.zeros(4)
    for _ in range(300):
        impl.batchnorm_forward(rng.normal(true_mean, true_std, size=(64, 4)), gamma, beta, bn_param)
    mean_err = np.abs(as_array(bn_param["running_mean"]) - true_mean) / true_std
    var_err = np.abs(as_array(bn_param["running_var"]) / true_std ** 2 - 1)
    assert mean_err.max() < 0.15, f"running_mean is {mean_err.max():.2f} standard deviations from the true mean"
    assert var_err.max() < 0.15, f"running_var is off by {100 * var_err.max():.0f}% from the true variance"
    x = rng.normal(true_mean, true_std, size=(2000, 4))
    bn_param["mode"] = "test"
    out, _ = impl.batchnorm_forward(x, gamma, beta, bn_param)
    assert np.abs(as_array(out).mean(axis=0)).max() < 0.2 and np.abs(as_array(out).std(axis=0) - 1).max() < 0.2, \
        "after convergence, test-mode outputs on fresh data must have mean ~0 and std ~1"


# ----------------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_same_input_gives_bit_identical_results(impl):
    x = make_batch(3, 32, 8)
    gamma, beta = np.linspace(0.5, 2, 8), np.linspace(-1, 1, 8)
    dout = np.random.default_rng(4).standard_normal((32, 8))
    x_copy, gamma_copy, beta_copy, dout_copy = x.copy(), gamma.copy(), beta.copy(), dout.copy()
    results = []
    for _ in range(2):
        bn_param = {"mode": "train"}
        out, cache = impl.batchnorm_forward(x, gamma, beta, bn_param)
        grads = impl.batchnorm_backward_alt(dout, cache)
        results.append([as_array(out).copy(), bn_param["running_mean"].copy(), bn_param["running_var"].copy(),
                        *[as_array(g).copy() for g in grads]])
    for a, b in zip(*results):
        assert np.array_equal(a, b), "two identical calls gave different results"
    assert np.array_equal(x, x_copy) and np.array_equal(gamma, gamma_copy) and np.array_equal(beta, beta_copy), \
        "batchnorm_forward modified its inputs x, gamma or beta (in-place ops must write into new arrays)"
    assert np.array_equal(dout, dout_copy), \
        "batchnorm_backward_alt modified dout (in-place ops on dout are not allowed)"
    other, _ = impl.batchnorm_forward(make_batch(5, 32, 8), gamma, beta, {"mode": "train"})
    assert not np.array_equal(as_array(other), results[0][0]), "a different batch must give a different output"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_eval_mode_is_deterministic(impl):
    rng = np.random.default_rng(6)
    layer = impl.BatchNorm1d(8)
    for _ in range(10):
        layer.forward(rng.normal(3.0, 2.0, size=(16, 8)))
    layer.eval()
    x = rng.normal(3.0, 2.0, size=(5, 8))
    first = as_array(layer.forward(x)).copy()
    stats = (as_array(layer.running_mean).copy(), as_array(layer.running_var).copy())
    layer.forward(rng.normal(3.0, 2.0, size=(7, 8)))  # other batches in between must not matter in eval mode
    second = as_array(layer.forward(x))
    assert np.array_equal(first, second), "eval mode must give the same output for the same input every time"
    assert np.array_equal(layer.running_mean, stats[0]) and np.array_equal(layer.running_var, stats[1]), \
        "forward in eval mode changed the running statistics"


# ----------------------------------------------------------------------------------------------------
# Speed (a ratio against level 2, shown as a warning; never a failure)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_forward_speed(impl, reference, compare_speed):
    x = make_batch(7, 256, 64)
    gamma, beta = np.ones(64), np.zeros(64)
    compare_speed(impl.batchnorm_forward, reference.batchnorm_forward, x, gamma, beta, {"mode": "train"},
                  threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_forward_is_correct_on_the_timed_inputs(impl, reference):
    """What test_forward_speed times gives the right results (the speed test itself asserts nothing)."""
    x = make_batch(7, 256, 64)
    gamma, beta = np.ones(64), np.zeros(64)
    out, _ = impl.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    expected, _ = reference.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    assert_close(out, expected, rtol=1e-9, atol=1e-12, what="forward output")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_backward_speed(impl, reference, compare_speed):
    x = make_batch(8, 256, 64)
    gamma, beta = np.linspace(0.5, 2, 64), np.zeros(64)
    dout = np.random.default_rng(9).standard_normal((256, 64))
    _, cache = impl.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    _, ref_cache = reference.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    compare_speed(lambda: impl.batchnorm_backward_alt(dout, cache),
                  lambda: reference.batchnorm_backward_alt(dout, ref_cache), threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_backward_is_correct_on_the_timed_inputs(impl, reference):
    """What test_backward_speed times gives the right results (the speed test itself asserts nothing)."""
    x = make_batch(8, 256, 64)
    gamma, beta = np.linspace(0.5, 2, 64), np.zeros(64)
    dout = np.random.default_rng(9).standard_normal((256, 64))
    _, cache = impl.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    _, ref_cache = reference.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    expected_grads = reference.batchnorm_backward_alt(dout, ref_cache)
    for got, expected in zip(impl.batchnorm_backward_alt(dout, cache), expected_grads):
        assert_close(got, expected, rtol=1e-8, atol=1e-10, what="backward_alt gradients")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_float32_layer_training_step_speed(impl, reference, compare_speed):
    x = make_batch(10, 256, 128, dtype=np.float32)
    dout = np.random.default_rng(11).standard_normal((256, 128)).astype(np.float32)
    layer, ref_layer = impl.BatchNorm1d(128, dtype=np.float32), reference.BatchNorm1d(128, dtype=np.float32)
    def step(bn):
        out = bn.forward(x)
        return out, bn.backward(dout)
    compare_speed(lambda: step(layer), lambda: step(ref_layer), threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_float32_layer_training_step_is_correct_on_the_timed_inputs(impl, reference):
    """What test_float32_layer_training_step_speed times gives the right results (the speed test itself asserts nothing)."""
    x = make_batch(10, 256, 128, dtype=np.float32)
    dout = np.random.default_rng(11).standard_normal((256, 128)).astype(np.float32)
    layer, ref_layer = impl.BatchNorm1d(128, dtype=np.float32), reference.BatchNorm1d(128, dtype=np.float32)
    def step(bn):
        out = bn.forward(x)
        return out, bn.backward(dout)
    out, dx = step(layer)
    ref_out, ref_dx = step(ref_layer)
    assert as_array(out).dtype == np.float32 and as_array(dx).dtype == np.float32, "the float32 step must stay float32"
    assert_close(out, ref_out, rtol=1e-4, atol=1e-5, what="float32 layer output")
    assert_close(dx, ref_dx, rtol=1e-3, atol=1e-5, what="float32 layer dx")
