"""Topic 16 edge tests: constant input, huge values, non-contiguous arrays, shapes that would broadcast
silently, bad input, an empty batch, batch size 1, NaN, float32, sets of one element."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close

EPS = 1e-5


def rand(shape, seed=0, loc=0.0, scale=1.0, dtype=np.float64):
    return np.random.default_rng(seed).normal(loc, scale, size=shape).astype(dtype)


def param_pair(C, seed=1, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, C).astype(dtype), rng.normal(size=C).astype(dtype)


# Each normalisation as (forward(x, gamma, beta, **kw), backward, x shape, parameter shape), so that one edge
# case is checked on all three; NORMS labels each with its task of questions.md.
def _ln(impl):
    return (lambda x, g, b, **kw: impl.layernorm_forward(x, g, b, (3, 4), **kw), impl.layernorm_backward,
            (2, 5, 3, 4), (3, 4))


def _gn(impl):
    return (lambda x, g, b, **kw: impl.groupnorm_forward(x, g, b, 2, **kw), impl.groupnorm_backward,
            (2, 4, 3, 3), (4,))


def _in(impl):
    return (lambda x, g, b, **kw: impl.instancenorm_forward(x, g, b, **kw), impl.instancenorm_backward,
            (2, 3, 3, 4), (3,))


NORMS = [pytest.param(_ln, id="layernorm", marks=pytest.mark.task(1)),
         pytest.param(_gn, id="groupnorm", marks=pytest.mark.task(2)),
         pytest.param(_in, id="instancenorm", marks=pytest.mark.task(3))]


def set_view(a, norm):
    """a reshaped to (number of sets, elements per set) for the norm under test."""
    a = as_array(a)
    if norm is _gn:
        return a.reshape(a.shape[0] * 2, -1)            # 2 groups of contiguous channels
    if norm is _ln:
        return a.reshape(-1, 12)                        # normalized_shape (3, 4)
    return a.reshape(a.shape[0] * a.shape[1], -1)      # one channel of one sample


def affine_shape(norm, pshape):
    """The shape that broadcasts gamma against x: normalized_shape for LayerNorm, (1, C, 1, 1) otherwise."""
    return pshape if norm is _ln else (1, pshape[0], 1, 1)


# ----------------------------------------------------------------------------------------------------
# Degenerate and extreme values
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("norm", NORMS)
def test_constant_input_gives_beta_and_finite_gradients(impl, norm):
    forward, backward, shape, pshape = norm(impl)
    x = np.full(shape, 0.1)                     # variance 0 in every set: only eps keeps 1/sqrt(var + eps) finite
    gamma, beta = param_pair(pshape[0] if len(pshape) == 1 else pshape, seed=2)
    if norm is _ln:
        gamma, beta = np.full(pshape, 1.5), np.arange(12.0).reshape(pshape)
    out, cache = forward(x, gamma, beta)
    assert_all_finite(out, "output for a constant input (is eps inside the square root?)")
    expected = np.broadcast_to(beta.reshape(affine_shape(norm, pshape)), shape)
    assert_close(out, expected, atol=1e-9, what="output for a constant input (x - mean = 0, so out = beta)")
    for name, grad in zip(("dx", "dgamma", "dbeta"), backward(rand(shape, seed=3), cache)):
        assert_all_finite(grad, f"{name} for a constant input")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_huge_values_stay_finite_and_correct(impl, norm, dtype):
    forward, backward, shape, _ = norm(impl)
    z = rand(shape, seed=4)
    out = as_array(forward((1e8 * z).astype(dtype), None, None)[0])
    assert_all_finite(out, f"output for inputs of scale 1e8 ({np.dtype(dtype).name})")
    # scaling x by s is the same as keeping x and dividing eps by s^2
    expected = as_array(forward(z, None, None, eps=EPS / 1e16)[0])
    tol = 1e-9 if dtype == np.float64 else 1e-4
    assert_close(out, expected, rtol=tol, atol=tol, what=f"output for inputs of scale 1e8 ({np.dtype(dtype).name})")
    _, cache = forward((1e8 * z).astype(dtype), None, None)
    dx = as_array(backward(rand(shape, seed=5).astype(dtype), cache)[0])
    assert_all_finite(dx, "dx for inputs of scale 1e8")
    if dtype == np.float64:
        shifted = as_array(forward(1e8 + z, None, None)[0])       # a huge offset, unit spread
        ref = as_array(forward(z, None, None)[0])
        assert_close(shifted, ref, rtol=1e-5, atol=1e-5,
                     what="output for x = 1e8 + noise (compute the variance as mean((x - mean)^2), not "
                          "mean(x^2) - mean^2, which loses every digit of the noise)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("norm", NORMS)
def test_nan_spoils_only_its_own_set(impl, norm):
    forward, _, shape, _ = norm(impl)
    x = rand(shape, seed=6, loc=2.0, scale=3.0)
    x[1, 0, 0, 0] = np.nan
    with np.errstate(invalid="ignore"):
        out = set_view(forward(x, None, None)[0], norm)
    clean = set_view(forward(np.nan_to_num(x, nan=0.0), None, None)[0], norm)
    bad = np.isnan(out).any(axis=1)
    spoiled_set = set_view(np.isnan(x), norm).any(axis=1)
    assert np.array_equal(bad, spoiled_set), (
        f"NaN outputs in sets {np.flatnonzero(bad).tolist()}, expected only in the set holding the NaN input "
        f"{np.flatnonzero(spoiled_set).tolist()}: a set's statistics must come from that set alone")
    assert np.isnan(out[spoiled_set]).all(), "the set holding a NaN has a NaN mean: all its outputs are NaN"
    assert_close(out[~spoiled_set], clean[~spoiled_set], rtol=1e-12, atol=1e-12, what="the sets without NaN")


# ----------------------------------------------------------------------------------------------------
# Memory layout and dtype
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.parametrize("norm", NORMS)
def test_non_contiguous_input_and_dout(impl, norm):
    forward, backward, shape, pshape = norm(impl)
    gamma, beta = param_pair(pshape, seed=7) if norm is _ln else param_pair(pshape[0], seed=7)
    base = rand(shape[::-1], seed=8, loc=1.0, scale=2.0)
    x = base.transpose(*reversed(range(len(shape))))            # Fortran-ordered: every stride is "wrong"
    dout = rand(shape[::-1], seed=9).transpose(*reversed(range(len(shape))))
    wide = rand(shape[:-1] + (2 * shape[-1],), seed=10)
    x2 = wide[..., ::2]                                         # a strided slice
    assert not x.flags.c_contiguous and not x2.flags.c_contiguous
    x_copy, x2_copy = x.copy(), x2.copy()
    out, cache = forward(x, gamma, beta)
    out_c, cache_c = forward(np.ascontiguousarray(x), gamma, beta)
    assert_close(out, out_c, rtol=1e-12, atol=1e-12, what="output for a transposed (non-contiguous) x")
    for name, a, b in zip(("dx", "dgamma", "dbeta"), backward(dout, cache), backward(np.ascontiguousarray(dout), cache_c)):
        assert_close(a, b, rtol=1e-10, atol=1e-12, what=f"{name} for a transposed x and dout")
    assert_close(forward(x2, gamma, beta)[0], forward(np.ascontiguousarray(x2), gamma, beta)[0], rtol=1e-12,
                 atol=1e-12, what="output for a strided slice x[..., ::2]")
    assert np.array_equal(x, x_copy) and np.array_equal(x2, x2_copy), "the forward pass modified its input x"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.parametrize("norm", NORMS)
def test_float32_is_kept_in_forward_and_backward(impl, norm):
    forward, backward, shape, pshape = norm(impl)
    g64, b64 = param_pair(pshape, seed=11) if norm is _ln else param_pair(pshape[0], seed=11)
    x64, d64 = rand(shape, seed=12, loc=3.0, scale=2.0), rand(shape, seed=13)
    x32, d32, g32, b32 = (a.astype(np.float32) for a in (x64, d64, g64, b64))
    out, cache = forward(x32, g32, b32)
    assert as_array(out).dtype == np.float32, f"float32 input gave a {as_array(out).dtype} output (no silent upcast)"
    grads = backward(d32, cache)
    assert [as_array(g).dtype for g in grads] == [np.float32] * 3, \
        f"dx, dgamma, dbeta must stay float32, got {[as_array(g).dtype.name for g in grads]}"
    out64, cache64 = forward(x32.astype(np.float64), g32.astype(np.float64), b32.astype(np.float64))
    assert_close(out, out64, rtol=1e-4, atol=1e-5, what="float32 output vs the float64 computation")
    for name, a, b in zip(("dx", "dgamma", "dbeta"), grads, backward(d32.astype(np.float64), cache64)):
        assert_close(a, b, rtol=1e-3, atol=1e-4, what=f"float32 {name} vs the float64 computation")
    assert as_array(forward(x64, g64, b64)[0]).dtype == np.float64, "float64 in, float64 out"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_float32_layers_in_train_and_eval(impl):
    rng = np.random.default_rng(14)
    x = rng.normal(2.0, 3.0, size=(2, 4, 3, 3)).astype(np.float32)
    dout = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    layers = [impl.LayerNorm((4, 3, 3)), impl.GroupNorm(2, 4), impl.InstanceNorm2d(4),
              impl.InstanceNorm2d(4, affine=True, track_running_stats=True)]
    for layer in layers:
        for mode in ("train", "eval"):
            getattr(layer, mode)()
            out, dx = layer.forward(x), layer.backward(dout)
            assert as_array(out).dtype == np.float32 and as_array(dx).dtype == np.float32, \
                f"{type(layer).__name__} in {mode} mode: float32 in must give float32 out and float32 dx"
            for p in layer.parameters():
                assert as_array(p.grad).dtype == np.float32, f"{type(layer).__name__}: grads stay float32"
    assert as_array(layers[3].running_var).dtype == np.float32, "running statistics stay float32"


# ----------------------------------------------------------------------------------------------------
# Shapes that would broadcast silently, bad input
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_rejects_parameters_that_would_broadcast(impl):
    x = rand((4, 3, 6))
    for bad in (np.ones(1), np.ones((1, 6)), np.ones((3, 6)), np.ones(5)):
        with pytest.raises(ValueError):
            impl.layernorm_forward(x, bad, None, 6)      # gamma must have exactly the shape normalized_shape
        with pytest.raises(ValueError):
            impl.layernorm_forward(x, None, bad, 6)
    _, cache = impl.layernorm_forward(x, np.ones(6), np.zeros(6), 6)
    for bad_dout in (np.ones((4, 3, 5)), np.ones((1, 6)), np.ones((4, 18))):
        with pytest.raises(ValueError):
            impl.layernorm_backward(bad_dout, cache)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_rejects_a_normalized_shape_that_is_not_trailing(impl):
    x = rand((4, 3, 6))
    for ns in (3, (4, 3), (3, 6, 1), (2, 4, 3, 6)):
        with pytest.raises(ValueError):
            impl.layernorm_forward(x, None, None, ns)
    with pytest.raises(ValueError):
        impl.LayerNorm(6).forward(rand((4, 6, 3)))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_groupnorm_rejects_bad_groups_and_parameters(impl):
    x = rand((2, 6, 3, 3))
    for G in (4, 5, 12, 0):
        with pytest.raises(ValueError):
            impl.groupnorm_forward(x, None, None, G)     # num_groups must divide the channels
    for bad in (np.ones(1), np.ones((1, 6)), np.ones((6, 1, 1)), np.ones(3)):
        with pytest.raises(ValueError):
            impl.groupnorm_forward(x, bad, None, 2)      # gamma must be (C,), one per channel
        with pytest.raises(ValueError):
            impl.groupnorm_forward(x, None, bad, 2)
    with pytest.raises(ValueError):
        impl.groupnorm_forward(rand((6,)), None, None, 2)    # needs (N, C, ...)
    _, cache = impl.groupnorm_forward(x, None, None, 2)
    with pytest.raises(ValueError):
        impl.groupnorm_backward(np.ones((2, 6, 1, 1)), cache)
    with pytest.raises(ValueError, match="divisible"):
        impl.GroupNorm(4, 6)
    with pytest.raises(ValueError):
        impl.GroupNorm(2, 4).forward(x.astype(np.float32))   # the layer was built for 4 channels


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_instancenorm_rejects_bad_input(impl):
    x = rand((2, 3, 4, 4))
    for bad in (np.ones(1), np.ones((1, 3)), np.ones((3, 1, 1))):
        with pytest.raises(ValueError):
            impl.instancenorm_forward(x, bad, None)
        with pytest.raises(ValueError):
            impl.instancenorm_forward(x, None, bad)
    with pytest.raises(ValueError):
        impl.instancenorm_forward(rand((2, 3)), None, None)           # no spatial dim
    with pytest.raises(ValueError):
        impl.instancenorm_forward(x, None, None, running_mean=np.zeros(3))   # running_var missing
    with pytest.raises(ValueError):
        impl.instancenorm_forward(x, None, None, running_mean=np.zeros(4), running_var=np.ones(4))
    with pytest.raises(ValueError):
        impl.instancenorm_forward(x, None, None, use_input_stats=False)   # needs the running statistics
    _, cache = impl.instancenorm_forward(x, None, None)
    with pytest.raises(ValueError):
        impl.instancenorm_backward(np.ones((2, 3, 1, 1)), cache)
    with pytest.raises(ValueError):
        impl.InstanceNorm2d(3).forward(rand((3, 4, 4)))               # InstanceNorm2d needs (N, C, H, W)
    with pytest.raises(ValueError):
        impl.InstanceNorm2d(4).forward(x)                             # 3 channels, layer for 4


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_instancenorm_one_spatial_element_in_training_raises(impl):
    x = rand((4, 3, 1, 1))
    rm, rv = np.zeros(3), np.ones(3)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        impl.instancenorm_forward(x, None, None, running_mean=rm, running_var=rv)
    assert np.all(rm == 0) and np.all(rv == 1), "the refused input must not touch the running statistics"
    out, _ = impl.instancenorm_forward(x, None, None, running_mean=rm, running_var=rv, use_input_stats=False)
    assert_close(out, x / np.sqrt(1 + EPS), rtol=1e-10, what="1x1 input with the running statistics (eval) works")
    with pytest.raises(ValueError, match="Expected more than 1 spatial element"):
        impl.InstanceNorm2d(3).forward(x)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_load_state_dict_rejects_wrong_shapes(impl):
    for layer, key, bad in ((impl.LayerNorm(6), "gamma", np.ones(1)), (impl.GroupNorm(2, 4), "beta", np.zeros((1, 4))),
                            (impl.InstanceNorm2d(3, track_running_stats=True), "running_var", np.ones(4))):
        state = layer.state_dict()
        state[key] = bad
        with pytest.raises(ValueError):
            layer.load_state_dict(state)


# ----------------------------------------------------------------------------------------------------
# Batch sizes 0 and 1, sets of one element
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("norm", NORMS)
def test_empty_batch_gives_empty_output_and_zero_parameter_gradients(impl, norm):
    forward, backward, shape, pshape = norm(impl)
    gamma, beta = param_pair(pshape, seed=15) if norm is _ln else param_pair(pshape[0], seed=15)
    x = np.zeros((0,) + shape[1:])
    out, cache = forward(x, gamma, beta)
    assert as_array(out).shape == x.shape, f"an empty batch gives an empty output of shape {x.shape}"
    dx, dgamma, dbeta = backward(np.zeros(x.shape), cache)
    assert as_array(dx).shape == x.shape, "dx of an empty batch is empty"
    assert_close(dgamma, np.zeros(pshape), atol=0, what="dgamma of an empty batch (a sum over no samples: 0)")
    assert_close(dbeta, np.zeros(pshape), atol=0, what="dbeta of an empty batch")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_empty_batch_leaves_the_running_statistics_alone(impl):
    rm, rv = np.array([0.5, -1.0, 2.0]), np.array([1.5, 2.0, 0.5])
    out, _ = impl.instancenorm_forward(np.zeros((0, 3, 4, 4)), None, None, running_mean=rm, running_var=rv)
    assert as_array(out).shape == (0, 3, 4, 4)
    assert_close(rm, [0.5, -1.0, 2.0], atol=0, what="running_mean after an empty batch (nothing to average: unchanged)")
    assert_close(rv, [1.5, 2.0, 0.5], atol=0, what="running_var after an empty batch")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("norm", NORMS)
def test_batch_size_one_works(impl, norm):
    forward, _, shape, _ = norm(impl)
    x = rand((1,) + shape[1:], seed=16, loc=5.0, scale=2.0)
    out = set_view(forward(x, None, None)[0], norm)
    assert np.abs(out.mean(axis=1)).max() < 1e-8 and np.abs(out.var(axis=1) - 1).max() < 1e-3, \
        "batch size 1: every set of the single sample is still normalised to mean 0 and variance 1"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_over_a_single_element_gives_beta(impl):
    x = rand((4, 3, 1), seed=17)
    beta = np.array([0.75])
    out, cache = impl.layernorm_forward(x, np.array([2.0]), beta, 1)
    assert_close(out, np.full(x.shape, 0.75), atol=1e-12,
                 what="LayerNorm over one element (x - mean = 0: the output is beta, as in PyTorch)")
    assert_all_finite(impl.layernorm_backward(rand(x.shape, seed=18), cache)[0], "dx over one element")
