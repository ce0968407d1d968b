"""Topic 07 stress tests: determinism, larger arrays in float32 vs float64, every activation in a deep network,
and speed relative to the level-2 reference."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close

PAIRS = [("relu", "relu_grad", {}), ("leaky_relu", "leaky_relu_grad", {"negative_slope": 0.2}),
         ("elu", "elu_grad", {"alpha": 1.3}), ("silu", "silu_grad", {}), ("swish", "swish_grad", {"beta": 1.5}),
         ("gelu", "gelu_grad", {}), ("gelu", "gelu_grad", {"approximate": "tanh"})]
PAIR_IDS = [f + "".join(f"-{v}" for v in kw.values()) for f, _, kw in PAIRS]
TASK_OF = {"relu": 1, "leaky_relu": 2, "elu": 3, "silu": 4, "swish": 4, "gelu": 5}  # "## Task n" of questions.md
PAIR_CASES = [pytest.param(f, df, kw, id=label, marks=pytest.mark.task(TASK_OF[f]))  # each pair marked with its task
              for (f, df, kw), label in zip(PAIRS, PAIR_IDS)]


# ----------------------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_statistics_same_seed_same_numbers(impl):
    x = np.random.default_rng(0).standard_normal((16, 20))
    a = [as_array(h).copy() for h in impl.forward_activations([20, 20, 20, 20], "silu", "kaiming", x, seed=5)]
    b = [as_array(h) for h in impl.forward_activations([20, 20, 20, 20], "silu", "kaiming", x, seed=5)]
    assert all(np.array_equal(p, q) for p, q in zip(a, b)), "the same seed twice gave different activations"
    c = [as_array(h) for h in impl.forward_activations([20, 20, 20, 20], "silu", "kaiming", x, seed=6)]
    assert not np.array_equal(a[0], c[0]), "seeds 5 and 6 gave the same first layer: is the seed used?"
    assert not np.array_equal(a[1], a[2]), "two layers behave identically: draw each layer's weights once, in order"
    s1 = impl.activation_statistics([20, 20, 20], "elu", 0.3, x, seed=1)
    s2 = impl.activation_statistics([20, 20, 20], "elu", 0.3, x, seed=1)
    assert s1 == s2, "activation_statistics with the same seed must return identical numbers"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_dead_relu_experiment_is_deterministic(impl):
    first, second = impl.dead_relu_experiment(lr=10.0, seed=1), impl.dead_relu_experiment(lr=10.0, seed=1)
    assert first == second, "the same seed twice gave different experiment results (only use the given seed)"
    other = impl.dead_relu_experiment(lr=10.0, seed=0)
    assert other != first, "seeds 0 and 1 gave the same results: the data and the weights must come from the seed"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_repeated_calls_give_bit_identical_results(impl):
    x = np.random.default_rng(2).standard_normal((6, 7)) * 3
    dout = np.random.default_rng(3).standard_normal((6, 7))
    for f, df, kw in PAIRS:
        assert np.array_equal(as_array(getattr(impl, f)(x, **kw)), as_array(getattr(impl, f)(x, **kw))), f
        assert np.array_equal(as_array(getattr(impl, df)(x, **kw)), as_array(getattr(impl, df)(x, **kw))), df
    for layer in (impl.LeakyReLU(0.2), impl.ELU(1.3), impl.SiLU(), impl.GELU(), impl.GELU("tanh")):
        out1, dx1 = as_array(layer.forward(x)).copy(), as_array(layer.backward(dout)).copy()
        layer.forward(x * 2)                                  # a different call in between
        layer.backward(dout * 3)
        out2, dx2 = as_array(layer.forward(x)).copy(), as_array(layer.backward(dout)).copy()
        assert np.array_equal(out1, out2) and np.array_equal(dx1, dx2), (
            f"{layer!r}: the same forward/backward gave different results after another call "
            f"(a buffer reused without being fully overwritten?)")


# ----------------------------------------------------------------------------------------------------------
# Larger inputs
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.parametrize("f,df,kw", PAIR_CASES)
def test_float32_close_to_float64(impl, f, df, kw):
    x64 = np.random.default_rng(4).standard_normal(10_000) * 4
    x32 = x64.astype(np.float32)
    for name in (f, df):
        out32, out64 = as_array(getattr(impl, name)(x32, **kw)), as_array(getattr(impl, name)(x64, **kw))
        assert out32.dtype == np.float32, f"{name} of float32 input returned {out32.dtype}"
        assert_all_finite(out32, f"{name} in float32")
        assert_close(out32, out64, rtol=1e-5, atol=1e-5, what=f"{name}{kw or ''}: float32 vs float64 on 10,000 values")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_kaiming_beats_xavier_for_every_activation(impl):
    """Xavier's gain 1 loses variance at every layer for every activation here; Kaiming's gain gives it back."""
    table = impl.compare_initializations(activations=("relu", "leaky_relu", "elu", "silu", "gelu", "tanh"),
                                         inits=("xavier", "kaiming"), depth=10, width=64, batch=64, seed=0)
    for activation in ("relu", "leaky_relu", "elu", "silu", "gelu", "tanh"):
        xavier, kaiming = table[(activation, "xavier")][-1][1], table[(activation, "kaiming")][-1][1]
        assert kaiming > 1.5 * xavier, (
            f"{activation}: layer-10 std {kaiming:.3g} with Kaiming vs {xavier:.3g} with Xavier; Kaiming's larger "
            f"gain should keep clearly more of the signal (is the gain of the activation used?)")


# ----------------------------------------------------------------------------------------------------------
# Performance: a ratio against the vectorized reference, shown as a warning, never a failure.
# The timed results are checked for shape, dtype and finiteness only: values are the job of the value tests.
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_gelu_speed(impl, reference, compare_speed):
    x = np.random.default_rng(5).standard_normal((100, 200))
    compare_speed(impl.gelu, reference.gelu, x, threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_gelu_is_correct_on_the_timed_inputs(impl, reference):
    """What test_gelu_speed times gives the right results (the speed test itself asserts nothing)."""
    x = np.random.default_rng(5).standard_normal((100, 200))
    out = as_array(impl.gelu(x))
    assert out.shape == x.shape and out.dtype == np.float64, f"gelu returned {out.shape} {out.dtype}"
    assert_all_finite(out, "gelu in the timed call")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_elu_and_derivative_speed(impl, reference, compare_speed):
    x = np.random.default_rng(6).standard_normal((100, 200))
    compare_speed(lambda: (impl.elu(x), impl.elu_grad(x)), lambda: (reference.elu(x), reference.elu_grad(x)),
                  threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_elu_and_derivative_is_correct_on_the_timed_inputs(impl, reference):
    """What test_elu_and_derivative_speed times gives the right results (the speed test itself asserts nothing)."""
    x = np.random.default_rng(6).standard_normal((100, 200))
    out = as_array(impl.elu_grad(x))
    assert out.shape == x.shape and out.dtype == np.float64, f"elu_grad returned {out.shape} {out.dtype}"


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_silu_layer_step_speed(impl, reference, compare_speed):
    x = np.random.default_rng(7).standard_normal((100, 200)).astype(np.float32)
    dout = np.ones_like(x)
    mine, ref = impl.SiLU(), reference.SiLU()

    def step(layer):
        layer.forward(x)
        return layer.backward(dout)
    compare_speed(lambda: step(mine), lambda: step(ref), threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_silu_layer_step_is_correct_on_the_timed_inputs(impl, reference):
    """What test_silu_layer_step_speed times gives the right results (the speed test itself asserts nothing)."""
    x = np.random.default_rng(7).standard_normal((100, 200)).astype(np.float32)
    dout = np.ones_like(x)
    mine = impl.SiLU()

    def step(layer):
        layer.forward(x)
        return layer.backward(dout)
    dx = as_array(step(mine))
    assert dx.shape == x.shape and dx.dtype == np.float32, f"SiLU backward returned {dx.shape} {dx.dtype}"
    assert_all_finite(dx, "SiLU backward in the timed call")
