"""Topic 09 edge tests: batch size 1 and 2, empty batch, constant feature, NaN/Inf, float32, bad shapes."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close

LOC = np.array([5.0, -3.0, 0.0, 100.0])
SCALE = np.array([2.0, 0.5, 10.0, 3.0])


def make_batch(seed=0, N=8, D=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(LOC[:D], SCALE[:D], size=(N, D)).astype(dtype)


# ----------------------------------------------------------------------------------------------------
# The batch size 1 rule
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_batch_size_one_in_train_mode_raises(impl):
    bn_param = {"mode": "train", "running_mean": np.zeros(4), "running_var": np.ones(4)}
    with pytest.raises(ValueError, match="Expected more than 1 value per feature"):
        impl.batchnorm_forward(make_batch(N=1), np.ones(4), np.zeros(4), bn_param)
    assert np.all(bn_param["running_mean"] == 0) and np.all(bn_param["running_var"] == 1), \
        "the refused batch of size 1 must not touch the running statistics (check N before updating)"
    layer = impl.BatchNorm1d(4)
    with pytest.raises(ValueError, match="Expected more than 1 value per feature"):
        layer.forward(make_batch(N=1))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_batch_size_one_in_eval_mode_works(impl):
    x = make_batch(N=1, seed=1)
    bn_param = {"mode": "test", "running_mean": LOC.copy(), "running_var": SCALE ** 2}
    out, _ = impl.batchnorm_forward(x, np.full(4, 2.0), np.full(4, 0.5), bn_param)
    expected = 2.0 * (x - LOC) / np.sqrt(SCALE ** 2 + 1e-5) + 0.5
    assert_close(out, expected, rtol=1e-10, what="test-mode output for one sample (uses the running statistics)")
    layer = impl.BatchNorm1d(4).eval()
    assert_close(layer.forward(x), x / np.sqrt(1 + 1e-5), rtol=1e-10, what="layer in eval mode, one sample")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_a_single_feature_works_and_zero_features_raise(impl):
    layer = impl.BatchNorm1d(1)   # one feature is a valid layer (the smallest one)
    x = np.array([[1.0], [3.0], [5.0], [7.0]])
    expected = (x - 4.0) / np.sqrt(5.0 + 1e-5)   # batch mean 4, biased variance 5
    assert_close(layer.forward(x), expected, rtol=1e-10, what="BatchNorm1d(1) in train mode on one feature")
    with pytest.raises(ValueError):
        impl.BatchNorm1d(0)   # num_features < 1


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_batch_size_two_by_hand(impl):
    # two samples: mean is the midpoint, biased var = (a - b)^2 / 4, xhat = -/+ sqrt(var / (var + eps))
    x = np.array([[1.0, 10.0], [3.0, 10.5]])
    out, _ = impl.batchnorm_forward(x, np.ones(2), np.zeros(2), {"mode": "train"})
    col0 = 1 / np.sqrt(1 + 1e-5)
    col1 = 0.25 / np.sqrt(0.0625 + 1e-5)
    assert_close(out, [[-col0, -col1], [col0, col1]], rtol=1e-10,
                 what="batch of two samples (mean = midpoint, BIASED variance = (a - b)^2 / 4)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_empty_batch_raises(impl):
    for mode in ("train", "test"):
        with pytest.raises(ValueError):
            impl.batchnorm_forward(np.zeros((0, 4)), np.ones(4), np.zeros(4), {"mode": mode})


# ----------------------------------------------------------------------------------------------------
# Degenerate values
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_constant_feature_gives_beta_and_finite_gradients(impl):
    x = make_batch(N=6, seed=2)
    x[:, 2] = 7.0  # variance 0: only eps inside the square root keeps 1 / sqrt(var + eps) finite
    beta = np.array([0.0, 1.0, -2.5, 3.0])
    bn_param = {"mode": "train"}
    out, cache = impl.batchnorm_forward(x, np.ones(4), beta, bn_param)
    assert_all_finite(out, "output with a constant feature (is eps inside the square root?)")
    assert_close(as_array(out)[:, 2], np.full(6, -2.5), atol=1e-12,
                 what="output of a constant feature (x - mean = 0, so out = beta)")
    assert_close(bn_param["running_var"][2], 0.9, rtol=1e-12,
                 what="running_var of a constant feature (0.9 * 1 + 0.1 * 0)")
    dout = np.random.default_rng(3).standard_normal((6, 4))
    for name in ("batchnorm_backward", "batchnorm_backward_alt"):
        dx, dgamma, dbeta = getattr(impl, name)(dout, cache)
        assert_all_finite(dx, f"{name}: dx with a constant feature")
        assert_all_finite(dgamma, f"{name}: dgamma with a constant feature")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_nan_and_inf_spoil_only_their_feature(impl):
    x = make_batch(N=6, seed=4)
    x[2, 0] = np.nan
    x[4, 3] = np.inf
    gamma, beta = np.ones(4), np.zeros(4)
    bn_param = {"mode": "train"}
    with np.errstate(invalid="ignore"):
        out, _ = impl.batchnorm_forward(x, gamma, beta, bn_param)
    out = as_array(out)
    assert np.all(np.isnan(out[:, 0])), "a NaN in feature 0 makes its batch mean NaN: the whole column must be NaN"
    assert not np.any(np.isfinite(out[:, 3])), "an Inf in feature 3 must not give finite outputs for that feature"
    clean, _ = impl.batchnorm_forward(x[:, 1:3].copy(), gamma[1:3], beta[1:3], {"mode": "train"})
    assert_close(out[:, 1:3], clean, rtol=1e-12,
                 what="features 1 and 2 (no NaN/Inf) must be normalised as if the bad features were not there")
    assert np.isnan(bn_param["running_mean"][0]) and np.all(np.isfinite(bn_param["running_mean"][1:3])), \
        "the running mean of feature 0 becomes NaN; the clean features keep finite running means"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_float32_is_preserved(impl):
    x32 = make_batch(N=16, seed=5, dtype=np.float32)
    gamma, beta = np.linspace(0.5, 2, 4).astype(np.float32), np.linspace(-1, 1, 4).astype(np.float32)
    bn_param = {"mode": "train"}
    out, cache = impl.batchnorm_forward(x32, gamma, beta, bn_param)
    assert as_array(out).dtype == np.float32, f"float32 input gave a {as_array(out).dtype} output (no silent upcast)"
    assert as_array(bn_param["running_mean"]).dtype == np.float32, \
        "running statistics created for float32 x must be float32"
    dout = np.random.default_rng(6).standard_normal((16, 4)).astype(np.float32)
    grads = impl.batchnorm_backward_alt(dout, cache)
    assert [as_array(g).dtype for g in grads] == [np.float32] * 3, "dx, dgamma, dbeta must stay float32"
    out64, cache64 = impl.batchnorm_forward(x32.astype(np.float64), gamma.astype(np.float64),
                                            beta.astype(np.float64), {"mode": "train"})
    assert_close(out, out64, rtol=1e-4, atol=1e-5, what="float32 output vs the float64 computation")
    assert_close(grads[0], impl.batchnorm_backward_alt(dout.astype(np.float64), cache64)[0], rtol=1e-3, atol=1e-4,
                 what="float32 dx vs the float64 computation")
    layer = impl.BatchNorm1d(4, dtype=np.float32)
    assert as_array(layer.gamma.data).dtype == np.float32 and as_array(layer.running_var).dtype == np.float32, \
        "BatchNorm1d(dtype=np.float32) must create float32 parameters and running statistics"
    assert as_array(layer.forward(x32)).dtype == np.float32 and as_array(layer.backward(dout)).dtype == np.float32, \
        "the float32 layer must return float32 outputs and gradients"
    assert as_array(layer.gamma.grad).dtype == np.float32


# ----------------------------------------------------------------------------------------------------
# Invalid input: a clear ValueError
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_wrong_shapes_raise(impl):
    x = make_batch(N=8)
    with pytest.raises(ValueError):
        impl.batchnorm_forward(x[:, 0].copy(), np.ones(1), np.zeros(1), {"mode": "train"})   # 1-D x
    with pytest.raises(ValueError):
        impl.batchnorm_forward(x.reshape(2, 4, 4), np.ones(4), np.zeros(4), {"mode": "train"})  # 3-D x
    with pytest.raises(ValueError):
        impl.batchnorm_forward(x, np.ones(5), np.zeros(5), {"mode": "train"})  # gamma for 5 features, x has 4
    with pytest.raises(ValueError):
        impl.batchnorm_forward(x, np.ones(4), np.zeros(4), {"mode": "test", "running_mean": np.zeros(3),
                                                            "running_var": np.ones(3)})
    _, cache = impl.batchnorm_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    with pytest.raises(ValueError):
        impl.batchnorm_backward_alt(np.ones((8, 3)), cache)  # dout of another shape than the output


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_unknown_mode_raises(impl):
    with pytest.raises(ValueError):
        impl.batchnorm_forward(make_batch(), np.ones(4), np.zeros(4), {"mode": "training"})


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_load_state_dict_rejects_wrong_shapes(impl):
    layer = impl.BatchNorm1d(4)
    state = layer.state_dict()
    state["running_mean"] = np.zeros(5)
    with pytest.raises(ValueError):
        layer.load_state_dict(state)
