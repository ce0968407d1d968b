"""Topic 09 basic tests: shapes, the train-mode invariants, running statistics, golden values, gradients."""

import numpy as np
import pytest

from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape

LOC = np.array([5.0, -3.0, 0.0, 100.0, 0.5, -20.0])    # features far from mean 0 ...
SCALE = np.array([2.0, 0.5, 10.0, 3.0, 1.0, 0.7])      # ... and far from variance 1


def make_batch(seed=0, N=32, D=6, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(LOC[:D], SCALE[:D], size=(N, D)).astype(dtype)


def eval_param(stats):
    """A test-mode bn_param holding copies of the given running statistics."""
    return {"mode": "test", **{k: v.copy() for k, v in stats.items()}}


def train_forward(impl, x, gamma=None, beta=None, **bn):
    """Forward in train mode from fresh running statistics; returns (out, cache, bn_param)."""
    D = x.shape[1]
    gamma = np.ones(D, x.dtype) if gamma is None else gamma
    beta = np.zeros(D, x.dtype) if beta is None else beta
    bn_param = {"mode": "train", **bn}
    out, cache = impl.batchnorm_forward(x, gamma, beta, bn_param)
    return as_array(out), cache, bn_param


# ----------------------------------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_forward_output_shape_and_dtype(impl):
    x = make_batch(N=10, D=6)
    out, _, bn_param = train_forward(impl, x)
    assert_shape(out, (10, 6), "batchnorm_forward output")
    assert out.dtype == np.float64, f"output dtype {out.dtype}, expected float64 like x"
    assert_shape(bn_param["running_mean"], (6,), "bn_param['running_mean'] (one value per feature)")
    assert_shape(bn_param["running_var"], (6,), "bn_param['running_var'] (one value per feature)")


@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_backward_shapes(impl):
    x = make_batch(N=10, D=6)
    _, cache, _ = train_forward(impl, x)
    dout = np.random.default_rng(1).standard_normal((10, 6))
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        grads = getattr(impl, name)(dout, cache)
        assert len(grads) == 3, f"{name} must return (dx, dgamma, dbeta), got {len(grads)} values"
        dx, dgamma, dbeta = grads
        assert_shape(dx, (10, 6), f"{name}: dx")
        assert_shape(dgamma, (6,), f"{name}: dgamma (summed over the batch)")
        assert_shape(dbeta, (6,), f"{name}: dbeta (summed over the batch)")


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layer_attributes_at_init(impl):
    layer = impl.BatchNorm1d(7)
    params = layer.parameters()
    assert len(params) == 2 and params[0] is layer.gamma and params[1] is layer.beta, \
        "parameters() must return [gamma, beta] (the Parameter objects, so optimizers update them in place)"
    for name, p, value in (("gamma", layer.gamma, 1.0), ("beta", layer.beta, 0.0)):
        assert_shape(p.data, (7,), f"{name}.data")
        assert_shape(p.grad, (7,), f"{name}.grad")
        assert np.all(as_array(p.data) == value), f"{name} must start at {value} (the identity transform)"
        assert np.all(as_array(p.grad) == 0), f"{name}.grad must start at 0"
    assert np.all(as_array(layer.running_mean) == 0) and as_array(layer.running_mean).shape == (7,), \
        "running_mean must start as zeros (7,)"
    assert np.all(as_array(layer.running_var) == 1) and as_array(layer.running_var).shape == (7,), \
        "running_var must start as ones (7,)"
    assert layer.training is True, "a new layer starts in train mode, as in PyTorch"
    assert layer.eps == 1e-5 and layer.momentum == 0.1, "defaults: eps=1e-5, momentum=0.1 (PyTorch's)"


# ----------------------------------------------------------------------------------------------------
# Invariants of train mode
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_train_output_has_zero_mean_unit_variance_per_feature(impl):
    x = make_batch(N=64, D=6)
    out, _, _ = train_forward(impl, x)
    means, variances = out.mean(axis=0), out.var(axis=0)
    assert np.all(np.abs(means) < 1e-8), (
        f"per-feature means of the output are {np.round(means, 4)}, expected 0: normalise each COLUMN "
        f"(a feature, over the batch: axis 0), with the batch's own mean")
    assert np.all(np.abs(variances - 1) < 1e-3), (
        f"per-feature variances of the output are {np.round(variances, 4)}, expected ~1 "
        f"(divide by sqrt(var + eps), with the biased variance of the batch along axis 0)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_train_output_mean_is_beta_and_std_is_gamma(impl):
    x = make_batch(N=64, D=6, seed=3)
    gamma = np.array([1.0, 2.0, 0.5, 3.0, 0.1, 1.5])
    beta = np.array([0.0, -1.0, 4.0, 0.5, 2.0, -3.0])
    out, _, _ = train_forward(impl, x, gamma, beta)
    assert_close(out.mean(axis=0), beta, atol=1e-8, what="per-feature mean of gamma * xhat + beta (should be beta)")
    assert_close(out.std(axis=0), gamma, rtol=1e-3, what="per-feature std of gamma * xhat + beta (should be gamma)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_train_mode_ignores_the_running_statistics(impl):
    x = make_batch(N=16, D=6, seed=4)
    fresh, _, _ = train_forward(impl, x)
    odd = {"mode": "train", "running_mean": np.full(6, 50.0), "running_var": np.full(6, 1e4)}
    out, _ = impl.batchnorm_forward(x, np.ones(6), np.zeros(6), odd)
    assert_close(out, fresh, rtol=1e-10, atol=1e-12,
                 what="train-mode output with other running statistics (train mode normalises with the BATCH's "
                      "mean and variance; the running ones are only for test mode)")


# ----------------------------------------------------------------------------------------------------
# Running statistics
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_running_stats_created_and_updated_in_place(impl):
    x = make_batch(N=8, D=6, seed=5)
    bn_param = {"mode": "train"}
    impl.batchnorm_forward(x, np.ones(6), np.zeros(6), bn_param)
    assert "running_mean" in bn_param and "running_var" in bn_param, \
        "batchnorm_forward must store running_mean and running_var in bn_param when they are absent"
    mean_array, var_array = bn_param["running_mean"], bn_param["running_var"]
    impl.batchnorm_forward(make_batch(N=8, D=6, seed=6), np.ones(6), np.zeros(6), bn_param)
    assert bn_param["running_mean"] is mean_array and bn_param["running_var"] is var_array, (
        "the running statistics must be updated IN PLACE (running_mean[...] = ... or *=, +=): the layer and "
        "checkpoints hold references to these arrays")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_momentum_convention_is_pytorchs(impl):
    x = make_batch(N=10, D=6, seed=7)
    _, _, bn_param = train_forward(impl, x, momentum=0.1)
    expected = 0.1 * x.mean(axis=0)
    got = as_array(bn_param["running_mean"])
    if np.allclose(got, 0.9 * x.mean(axis=0)):
        pytest.fail("running_mean moved 90% of the way to the batch mean: that is the CS231n convention "
                    "(momentum = fraction KEPT). PyTorch's momentum=0.1 is the fraction of the NEW value: "
                    "running = (1 - momentum) * running + momentum * batch_mean")
    assert_close(got, expected, rtol=1e-12, atol=1e-12,
                 what="running_mean after one step from zeros (0.1 * batch mean)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_running_var_uses_the_unbiased_variance(impl):
    x = make_batch(N=4, D=6, seed=8)  # N = 4: the unbiased variance is 4/3 of the biased one
    _, _, bn_param = train_forward(impl, x, momentum=0.1)
    got = as_array(bn_param["running_var"])
    if np.allclose(got, 0.9 + 0.1 * x.var(axis=0)):
        pytest.fail("running_var was updated with the BIASED variance (divide by N); PyTorch stores the "
                    "unbiased one, var * N / (N - 1), while normalising the batch with the biased one")
    assert_close(got, 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12,
                 what="running_var after one step from ones (0.9 * 1 + 0.1 * unbiased batch variance)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_test_mode_normalises_with_the_running_statistics(impl):
    x = make_batch(N=5, D=6, seed=9)
    running_mean, running_var = LOC.copy(), SCALE ** 2
    gamma, beta = np.linspace(0.5, 2.0, 6), np.linspace(-1.0, 1.0, 6)
    bn_param = {"mode": "test", "running_mean": running_mean, "running_var": running_var}
    out, _ = impl.batchnorm_forward(x, gamma, beta, bn_param)
    expected = gamma * (x - LOC) / np.sqrt(SCALE ** 2 + 1e-5) + beta
    assert_close(out, expected, rtol=1e-10, what="test-mode output (gamma * (x - running_mean) / "
                 "sqrt(running_var + eps) + beta: the batch's own statistics must not be used)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_test_mode_leaves_running_statistics_untouched(impl):
    x = make_batch(N=8, D=6, seed=10)
    running_mean, running_var = np.linspace(-1, 1, 6), np.linspace(0.5, 3, 6)
    bn_param = {"mode": "test", "running_mean": running_mean.copy(), "running_var": running_var.copy()}
    impl.batchnorm_forward(x, np.ones(6), np.zeros(6), bn_param)
    same_mean = np.array_equal(bn_param["running_mean"], running_mean)
    same_var = np.array_equal(bn_param["running_var"], running_var)
    assert same_mean and same_var, (
        "test mode changed the running statistics: only train mode updates them (evaluating on the "
        "validation set must not change the model)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_sample_output_depends_on_the_batch_in_train_mode_only(impl):
    x = make_batch(N=12, D=6, seed=11)
    small, large = x[:4], x
    gamma, beta = np.ones(6), np.zeros(6)
    stats = {"running_mean": LOC.copy(), "running_var": SCALE ** 2}
    out_small, _ = impl.batchnorm_forward(small, gamma, beta, eval_param(stats))
    out_large, _ = impl.batchnorm_forward(large, gamma, beta, eval_param(stats))
    assert_close(as_array(out_large)[:4], out_small, rtol=1e-12, atol=1e-12,
                 what="test-mode outputs of the first 4 samples inside a larger batch (in test mode a sample's "
                      "output must not depend on the other samples)")
    t_small, _, _ = train_forward(impl, small)
    t_large, _, _ = train_forward(impl, large)
    assert np.abs(t_large[:4] - t_small).max() > 1e-3, \
        "in train mode a sample's output must depend on the batch (it is normalised by the batch statistics)"


# ----------------------------------------------------------------------------------------------------
# Golden values written by level 4 (PyTorch)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_forward_matches_pytorch(impl, golden):
    g = golden("forward_train")
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": 0.1}
    out, _ = impl.batchnorm_forward(g["x"].copy(), g["gamma"], g["beta"], bn_param)
    assert_close(out, g["out"], rtol=1e-7, atol=1e-9,
                 what="train-mode output vs torch.nn.functional.batch_norm (one feature has variance ~1e-4: "
                      "is eps inside the square root?)")
    assert_close(bn_param["running_mean"], g["running_mean"], rtol=1e-9, what="running_mean after one step")
    assert_close(bn_param["running_var"], g["running_var"], rtol=1e-9, what="running_var after one step")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_running_stats_over_several_steps_match_pytorch(impl, golden):
    g = golden("running_stats")
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": 0.1}
    for k, batch in enumerate(g["batches"]):
        impl.batchnorm_forward(batch, g["gamma"], g["beta"], bn_param)
        assert_close(bn_param["running_mean"], g["running_means"][k], rtol=1e-9, atol=1e-12,
                     what=f"running_mean after step {k + 1} (vs torch.nn.BatchNorm1d)")
        assert_close(bn_param["running_var"], g["running_vars"][k], rtol=1e-9, atol=1e-12,
                     what=f"running_var after step {k + 1} (vs torch.nn.BatchNorm1d)")
    bn_param["mode"] = "test"
    out, _ = impl.batchnorm_forward(g["x_eval"], g["gamma"], g["beta"], bn_param)
    assert_close(out, g["out_eval"], rtol=1e-9, atol=1e-12, what="test-mode output after those steps")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layer_matches_pytorch_through_train_and_eval(impl, golden):
    g = golden("running_stats")
    layer = impl.BatchNorm1d(g["gamma"].shape[0])
    layer.gamma.data[...] = g["gamma"]
    layer.beta.data[...] = g["beta"]
    for batch in g["batches"]:
        layer.forward(batch)
    assert_close(layer.running_mean, g["running_means"][-1], rtol=1e-9, what="layer.running_mean after 6 steps")
    assert_close(layer.running_var, g["running_vars"][-1], rtol=1e-9, what="layer.running_var after 6 steps")
    layer.eval()
    assert layer.training is False, "eval() must set training = False"
    out = layer.forward(g["x_eval"])
    assert_close(out, g["out_eval"], rtol=1e-9, what="layer output in eval mode (running statistics)")
    dx = layer.backward(g["dout_eval"])
    assert_close(dx, g["dx_eval"], rtol=1e-9, what="layer dx in eval mode")
    assert_close(layer.gamma.grad, g["dgamma_eval"], rtol=1e-9, what="gamma.grad in eval mode")
    assert_close(layer.beta.grad, g["dbeta_eval"], rtol=1e-9, what="beta.grad in eval mode")


# ----------------------------------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------------------------------

@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_backward_matches_pytorch(impl, golden):
    g = golden("backward_train")
    _, cache = impl.batchnorm_forward(g["x"].copy(), g["gamma"], g["beta"], {"mode": "train"})
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        dx, dgamma, dbeta = getattr(impl, name)(g["dout"], cache)
        assert_close(dbeta, g["dbeta"], rtol=1e-8, atol=1e-10, what=f"{name}: dbeta (sum of dout over the batch)")
        assert_close(dgamma, g["dgamma"], rtol=1e-8, atol=1e-10, what=f"{name}: dgamma (sum of dout * xhat)")
        assert_close(dx, g["dx"], rtol=1e-7, atol=1e-9,
                     what=f"{name}: dx vs PyTorch autograd (the mean and variance depend on x too)")


def _train_layer_fns(impl):
    def forward(x, gamma, beta):
        return impl.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    return forward


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.parametrize("backward_name", [pytest.param("batchnorm_backward", marks=pytest.mark.task(2)),
                                           pytest.param("batchnorm_backward_alt", marks=pytest.mark.task(3))])
def test_gradient_check_train_mode(impl, backward_name):
    rng = np.random.default_rng(12)
    x = rng.normal(LOC[:4], SCALE[:4], size=(6, 4))
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(size=4)
    report = check_layer(_train_layer_fns(impl), getattr(impl, backward_name), x, gamma, beta)
    names = {"input0": "dx", "input1": "dgamma", "input2": "dbeta"}
    bad = {names[k]: v for k, v in report.items() if not v < 1e-5}
    assert not bad, (f"{backward_name}: relative error vs finite differences {bad} (must be < 1e-5). dx wrong but "
                     f"dgamma/dbeta right? the batch mean and variance depend on x: the gradient flows through them")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_backward_alt_equals_backward(impl):
    rng = np.random.default_rng(13)
    x = rng.normal(LOC, SCALE, size=(16, 6))
    gamma, beta = rng.uniform(0.5, 2.0, 6), rng.normal(size=6)
    dout = rng.standard_normal((16, 6))
    for mode in ("train", "test"):
        bn_param = {"mode": mode, "running_mean": LOC.copy(), "running_var": SCALE ** 2}
        _, cache = impl.batchnorm_forward(x, gamma, beta, bn_param)
        staged = impl.batchnorm_backward(dout, cache)
        closed = impl.batchnorm_backward_alt(dout, cache)
        for name, a, b in zip(("dx", "dgamma", "dbeta"), staged, closed):
            diff = np.abs(as_array(a) - as_array(b)).max()
            assert diff < 1e-10, (f"{mode} mode: {name} of batchnorm_backward and batchnorm_backward_alt "
                                  f"differ by {diff:.2e}")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_gradient_check_test_mode(impl):
    rng = np.random.default_rng(14)
    x = rng.normal(LOC[:4], SCALE[:4], size=(5, 4))
    gamma, beta = rng.uniform(0.5, 2.0, 4), rng.normal(size=4)
    running_mean, running_var = LOC[:4] + 0.3, SCALE[:4] ** 2 * 1.2

    def forward(x, gamma, beta):
        bn_param = {"mode": "test", "running_mean": running_mean.copy(), "running_var": running_var.copy()}
        return impl.batchnorm_forward(x, gamma, beta, bn_param)

    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        report = check_layer(forward, getattr(impl, name), x, gamma, beta)
        assert report.passed, (f"{name} in test mode: {dict(report)} (input0 = dx, 1 = dgamma, 2 = dbeta). In test "
                               f"mode the statistics are constants: dx = dout * gamma / sqrt(running_var + eps)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_layer_backward_accumulates_into_grad(impl):
    rng = np.random.default_rng(15)
    x = rng.normal(LOC, SCALE, size=(10, 6))
    dout = rng.standard_normal((10, 6))
    layer = impl.BatchNorm1d(6)
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, 6)
    _, cache = impl.batchnorm_forward(x, layer.gamma.data.copy(), layer.beta.data.copy(), {"mode": "train"})
    dx_ref, dgamma_ref, dbeta_ref = impl.batchnorm_backward(dout, cache)
    layer.forward(x)
    dx = layer.backward(dout)
    assert_close(dx, dx_ref, rtol=1e-9, atol=1e-12, what="BatchNorm1d.backward dx vs batchnorm_backward")
    assert_close(layer.gamma.grad, dgamma_ref, rtol=1e-9, what="gamma.grad after one backward")
    layer.backward(dout)
    assert_close(layer.gamma.grad, 2 * as_array(dgamma_ref), rtol=1e-9,
                 what="gamma.grad after two backward calls (must ADD: p.grad += dgamma, as PyTorch)")
    assert_close(layer.beta.grad, 2 * as_array(dbeta_ref), rtol=1e-9,
                 what="beta.grad after two backward calls (must ADD: p.grad += dbeta)")


# ----------------------------------------------------------------------------------------------------
# The layer: modes, checkpoints, training with Topic 03's optimizer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layer_train_and_eval_modes(impl):
    layer = impl.BatchNorm1d(6)
    x = make_batch(N=16, D=6, seed=16)
    assert layer.eval() is layer and layer.training is False, "eval() sets training = False and returns the layer"
    before = (as_array(layer.running_mean).copy(), as_array(layer.running_var).copy())
    out = layer.forward(x)
    assert np.array_equal(layer.running_mean, before[0]) and np.array_equal(layer.running_var, before[1]), \
        "forward in eval mode changed the running statistics"
    assert_close(out, x / np.sqrt(1 + 1e-5), rtol=1e-10, what="eval output of a fresh layer (mean 0, var 1 stats)")
    assert layer.train() is layer and layer.training is True, "train() sets training = True and returns the layer"
    out = layer.forward(x)
    assert np.abs(as_array(out).mean(axis=0)).max() < 1e-8, "back in train mode the batch statistics must be used"
    assert_close(layer.running_mean, 0.1 * x.mean(axis=0), rtol=1e-12, what="running_mean after one train step")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layer_state_dict_round_trip(impl, tmp_path):
    rng = np.random.default_rng(17)
    layer = impl.BatchNorm1d(6)
    for _ in range(5):
        layer.forward(rng.normal(LOC, SCALE, size=(16, 6)))
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, 6)
    state = layer.state_dict()
    for key in ("gamma", "beta", "running_mean", "running_var"):
        assert key in state, f"state_dict() must contain {key!r}"
    saved_mean = np.array(state["running_mean"], copy=True)
    layer.forward(rng.normal(LOC, SCALE, size=(16, 6)))  # training goes on after the checkpoint
    assert np.array_equal(state["running_mean"], saved_mean), \
        "state_dict() must hold COPIES: the running statistics kept changing inside the checkpoint"

    np.savez(tmp_path / "bn.npz", **state)
    with np.load(tmp_path / "bn.npz") as data:
        loaded = {k: data[k] for k in data.files}
    restored = impl.BatchNorm1d(6)
    mean_array, gamma_array = restored.running_mean, restored.gamma.data
    restored.load_state_dict(loaded)
    assert restored.running_mean is mean_array and restored.gamma.data is gamma_array, \
        "load_state_dict must copy INTO the existing arrays (optimizers hold references to gamma.data)"
    x = rng.normal(LOC, SCALE, size=(4, 6))
    reference = impl.BatchNorm1d(6)
    reference.load_state_dict(state)
    assert_close(restored.eval().forward(x), reference.eval().forward(x), rtol=1e-12,
                 what="eval output of a layer restored from an .npz checkpoint")
    assert_close(restored.running_mean, saved_mean, rtol=1e-12, what="restored running_mean")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layer_trains_with_topic03_sgd(impl):
    from dlfs.components import load_topic

    optim = load_topic(3)
    rng = np.random.default_rng(18)
    layer = impl.BatchNorm1d(3)
    opt = optim.SGD(layer.parameters(), lr=0.2)
    target_gamma, target_beta = np.array([2.0, 0.5, -1.0]), np.array([1.0, -2.0, 0.3])
    for _ in range(100):
        x = rng.normal([1.0, 5.0, -2.0], [3.0, 0.1, 1.0], size=(32, 3))
        xhat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5)
        target = target_gamma * xhat + target_beta
        opt.zero_grad()
        out = as_array(layer.forward(x))
        layer.backward((out - target) / len(x))  # gradient of 0.5 * mean squared error
        opt.step()
    assert_close(layer.gamma.data, target_gamma, atol=1e-3,
                 what="gamma learnt by SGD to match out = (2, 0.5, -1) * xhat (gradients summed over the batch?)")
    assert_close(layer.beta.data, target_beta, atol=1e-3, what="beta learnt by SGD")
