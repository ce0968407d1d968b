"""Topic 16 stress tests: larger inputs, the identities of the backward pass, convergence of InstanceNorm2d's
running statistics, determinism, speed against level 2."""

import numpy as np
import pytest

from dlfs.testing import as_array


def data(seed, shape, dtype=np.float64):
    rng = np.random.default_rng(seed)
    loc = rng.uniform(-50, 50, size=shape[:2] + (1,) * (len(shape) - 2))
    scale = rng.uniform(0.1, 20.0, size=loc.shape)
    return (loc + scale * rng.standard_normal(shape)).astype(dtype)


# ----------------------------------------------------------------------------------------------------
# Larger inputs
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_on_a_large_sequence_batch(impl):
    x = data(0, (16, 64, 128))                          # (N, T, D), every token with its own offset and scale
    out = as_array(impl.layernorm_forward(x, None, None, 128)[0])
    assert np.abs(out.mean(axis=-1)).max() < 1e-8, "every token of a large batch must have mean 0 over D"
    assert np.abs(out.var(axis=-1) - 1).max() < 1e-3, "every token of a large batch must have variance ~1 over D"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_groupnorm_on_large_images(impl):
    x = data(1, (8, 32, 8, 8))
    out = as_array(impl.groupnorm_forward(x, None, None, 8)[0]).reshape(8, 8, -1)
    assert np.abs(out.mean(axis=-1)).max() < 1e-8 and np.abs(out.var(axis=-1) - 1).max() < 1e-3, \
        "every group of 4 contiguous channels of every sample must have mean 0 and variance ~1"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_instancenorm_on_large_images(impl):
    x = data(2, (8, 16, 16, 16))
    out = as_array(impl.instancenorm_forward(x, None, None)[0])
    assert np.abs(out.mean(axis=(2, 3))).max() < 1e-8 and np.abs(out.var(axis=(2, 3)) - 1).max() < 1e-3, \
        "every channel of every sample must have mean 0 and variance ~1"


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.parametrize("norm", [pytest.param("layernorm", marks=pytest.mark.task(1)),
                                  pytest.param("groupnorm", marks=pytest.mark.task(2)),
                                  pytest.param("instancenorm", marks=pytest.mark.task(3))])
def test_dx_ignores_shifts_and_scalings_of_a_set(impl, norm):
    # xhat does not change when a whole set is shifted or scaled, so neither can the loss: within every set,
    # dx sums to 0 and is orthogonal to xhat (exactly for eps = 0; eps = 1e-12 leaves ~1e-12 of it)
    x = data(3, (4, 8, 6, 6))
    rng = np.random.default_rng(4)
    gamma, beta, dout = rng.uniform(0.5, 2.0, 8), rng.normal(size=8), rng.standard_normal(x.shape)
    if norm == "layernorm":
        g = np.broadcast_to(gamma[:, None, None], (8, 6, 6)).copy()
        _, cache = impl.layernorm_forward(x, g, None, (8, 6, 6), eps=1e-12)
        dx, sets = impl.layernorm_backward(dout, cache)[0], (4, -1)
    elif norm == "groupnorm":
        _, cache = impl.groupnorm_forward(x, gamma, beta, 4, eps=1e-12)
        dx, sets = impl.groupnorm_backward(dout, cache)[0], (16, -1)
    else:
        _, cache = impl.instancenorm_forward(x, gamma, beta, eps=1e-12)
        dx, sets = impl.instancenorm_backward(dout, cache)[0], (32, -1)
    dx, xs = as_array(dx).reshape(sets), x.reshape(sets)
    xhat = (xs - xs.mean(axis=1, keepdims=True)) / xs.std(axis=1, keepdims=True)
    scale = np.abs(dx).max()
    assert np.abs(dx.sum(axis=1)).max() < 1e-9 * scale * dx.shape[1], (
        f"{norm}: dx must sum to 0 over every set (is the path through the mean, -sum(g)/M, missing?)")
    assert np.abs((dx * xhat).sum(axis=1)).max() < 1e-9 * scale * dx.shape[1], (
        f"{norm}: dx must be orthogonal to xhat in every set (is the path through the variance missing?)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_running_stats_converge(impl):
    true_mean, true_std = np.array([4.0, -1.0, 0.0]), np.array([1.0, 3.0, 0.2])
    rng = np.random.default_rng(5)
    layer = impl.InstanceNorm2d(3, track_running_stats=True, dtype=np.float64)
    for _ in range(200):
        layer.forward(rng.normal(true_mean[:, None, None], true_std[:, None, None], size=(4, 3, 4, 4)))
    mean_err = np.abs(as_array(layer.running_mean) - true_mean) / true_std
    var_err = np.abs(as_array(layer.running_var) / true_std ** 2 - 1)
    assert mean_err.max() < 0.15, f"running_mean is {mean_err.max():.3g} standard deviations from the true mean"
    assert var_err.max() < 0.15, (f"running_var is off by {100 * var_err.max():.3g}% from the true variance "
                                  f"(a biased running variance would sit 1/16 = 6% low)")
    layer.eval()
    out = as_array(layer.forward(rng.normal(true_mean[:, None, None], true_std[:, None, None], size=(8, 3, 4, 4))))
    assert np.abs(out.mean(axis=(0, 2, 3))).max() < 0.2 and np.abs(out.std(axis=(0, 2, 3)) - 1).max() < 0.2, \
        "after convergence, eval-mode outputs on fresh data have mean ~0 and std ~1 per channel"


# ----------------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.parametrize("norm", [pytest.param("layernorm", marks=pytest.mark.task(1)),
                                  pytest.param("groupnorm", marks=pytest.mark.task(2)),
                                  pytest.param("instancenorm", marks=pytest.mark.task(3))])
def test_same_input_gives_bit_identical_results_and_inputs_are_untouched(impl, norm):
    x = data(6, (3, 4, 5, 5))
    rng = np.random.default_rng(7)
    gamma, beta, dout = rng.uniform(0.5, 2.0, 4), rng.normal(size=4), rng.standard_normal(x.shape)
    if norm == "layernorm":
        gamma, beta = np.broadcast_to(gamma[:, None, None], (4, 5, 5)).copy(), np.zeros((4, 5, 5))
        args = ((4, 5, 5),)
    else:
        args = (2,) if norm == "groupnorm" else ()
    forward, backward = getattr(impl, f"{norm}_forward"), getattr(impl, f"{norm}_backward")
    copies = [a.copy() for a in (x, gamma, beta, dout)]
    runs = []
    for _ in range(2):
        out, cache = forward(x, gamma, beta, *args)
        runs.append([as_array(out).copy()] + [as_array(g).copy() for g in backward(dout, cache)])
    for a, b in zip(*runs):
        assert np.array_equal(a, b), f"{norm}: two identical calls gave different results"
    for name, a, b in zip(("x", "gamma", "beta", "dout"), (x, gamma, beta, dout), copies):
        assert np.array_equal(a, b), f"{norm} modified its input {name} (in-place ops must write into new arrays)"
    other, _ = forward(data(8, x.shape), gamma, beta, *args)
    assert not np.array_equal(as_array(other), runs[0][0]), f"{norm}: a different input must give a different output"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_eval_is_deterministic(impl):
    rng = np.random.default_rng(9)
    layer = impl.InstanceNorm2d(3, affine=True, track_running_stats=True, dtype=np.float64)
    for _ in range(5):
        layer.forward(rng.normal(2.0, 3.0, size=(2, 3, 4, 4)))
    layer.eval()
    x = rng.normal(size=(2, 3, 4, 4))
    first = as_array(layer.forward(x)).copy()
    layer.forward(rng.normal(size=(3, 3, 4, 4)))
    assert np.array_equal(as_array(layer.forward(x)), first), "eval mode: the same input gives the same output"


# ----------------------------------------------------------------------------------------------------
# Speed (a ratio against level 2, shown as a warning; never a failure)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_layernorm_speed(impl, reference, compare_speed):
    x = data(10, (16, 32, 64)).astype(np.float32)
    gamma, beta = np.ones(64, np.float32), np.zeros(64, np.float32)
    dout = np.random.default_rng(11).standard_normal(x.shape).astype(np.float32)

    def step(module):
        out, cache = module.layernorm_forward(x, gamma, beta, 64)
        return out, module.layernorm_backward(dout, cache)

    compare_speed(lambda: step(impl), lambda: step(reference), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_groupnorm_speed(impl, reference, compare_speed):
    x = data(12, (8, 32, 8, 8)).astype(np.float32)
    gamma, beta = np.ones(32, np.float32), np.zeros(32, np.float32)
    dout = np.random.default_rng(13).standard_normal(x.shape).astype(np.float32)

    def step(module):
        out, cache = module.groupnorm_forward(x, gamma, beta, 8)
        return out, module.groupnorm_backward(dout, cache)

    compare_speed(lambda: step(impl), lambda: step(reference), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_instancenorm2d_layer_step_speed(impl, reference, compare_speed):
    x = data(14, (8, 16, 16, 16)).astype(np.float32)
    dout = np.random.default_rng(15).standard_normal(x.shape).astype(np.float32)
    layer, ref_layer = impl.InstanceNorm2d(16, affine=True), reference.InstanceNorm2d(16, affine=True)

    def step(bn):
        return bn.forward(x), bn.backward(dout)

    compare_speed(lambda: step(layer), lambda: step(ref_layer), threshold=3.0)
