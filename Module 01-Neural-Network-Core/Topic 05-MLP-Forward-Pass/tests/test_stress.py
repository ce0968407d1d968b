"""Topic 05 stress tests: determinism by seed, larger inputs, speed relative to the level-2 reference."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close

# the four initialisers as parametrize cases, each marked with its task of questions.md (2: Xavier, 3: Kaiming)
INITS = [pytest.param(name, marks=pytest.mark.task(2 if name.startswith("xavier") else 3))
         for name in ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")]


# ------------------------------------------------------------------------------------------ determinism

@pytest.mark.determinism
@pytest.mark.hint(1)
@pytest.mark.parametrize("name", INITS)
def test_init_same_seed_same_weights(impl, name):
    fn = getattr(impl, name)
    a, b = as_array(fn(64, 32, rng=7)), as_array(fn(64, 32, rng=7))
    assert np.array_equal(a, b), f"{name}(rng=7) twice gave different weights: draw only from the rng you were given"
    c = as_array(fn(64, 32, rng=8))
    assert not np.array_equal(a, c), f"{name}: seeds 7 and 8 gave identical weights: the seed is ignored"
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    assert np.array_equal(as_array(fn(64, 32, rng=g1)), as_array(fn(64, 32, rng=g2))), (
        f"{name}: two Generators with the same seed gave different weights")
    first, second = as_array(fn(64, 32, rng=g1)), as_array(fn(64, 32, rng=g1))
    assert not np.array_equal(first, second), (
        f"{name}: two draws from the same Generator must differ (use the Generator, do not re-seed it)")


@pytest.mark.determinism
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_mlp_seed(impl):
    a, b, c = (impl.MLP([30, 20, 10], seed=s) for s in (0, 0, 1))
    for Wa, Wb in zip(a.weights, b.weights):
        assert np.array_equal(as_array(Wa), as_array(Wb)), "MLP(seed=0) twice gave different weights"
    assert not np.array_equal(as_array(a.weights[0]), as_array(c.weights[0])), "MLP seeds 0 and 1 gave the same weights"
    assert not np.array_equal(as_array(a.weights[0])[:20, :10], as_array(a.weights[1])[:20, :10]), (
        "two layers got the same random numbers: draw every layer from one Generator, one after the other")


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(8)
def test_forward_results_are_independent(impl):
    model = impl.MLP([10, 32, 32, 4], activation="sigmoid", seed=0)
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((6, 10)), rng.standard_normal((6, 10))
    out1 = as_array(model.forward(x1))
    kept = out1.copy()
    out2 = as_array(model.forward(x2))
    assert np.array_equal(out1, kept), (
        "the second forward call overwrote the first call's logits: never return a buffer you reuse")
    assert np.array_equal(as_array(model.forward(x1)), kept), "forward(x1) changed between calls"
    assert not np.array_equal(out1, out2)


# ------------------------------------------------------------------------------------------ larger inputs

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_large_batch_softmax_invariants(impl):
    logits = np.random.default_rng(4).standard_normal((2000, 50)) * 30
    p = as_array(impl.softmax(logits))
    assert_all_finite(p, "softmax of a (2000, 50) batch with logits up to ~150")
    assert np.allclose(p.sum(axis=1), 1.0, atol=1e-10), "every row of a large batch must sum to 1"
    assert np.array_equal(p.argmax(axis=1), logits.argmax(axis=1)), "softmax must keep the argmax of every row"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_float32_model_close_to_float64(impl):
    model64 = impl.MLP([64, 48, 10], seed=0)
    model32 = impl.MLP([64, 48, 10], seed=0, dtype=np.float32)
    model32.weights = [as_array(W).astype(np.float32) for W in model64.weights]  # same numbers, rounded
    x = np.random.default_rng(5).standard_normal((16, 64))
    p64, p32 = as_array(model64.predict_proba(x)), as_array(model32.predict_proba(x.astype(np.float32)))
    assert p32.dtype == np.float32, "a float32 model must return float32 probabilities"
    assert_close(p32, p64, rtol=1e-3, atol=1e-5, what="float32 vs float64 model probabilities")


# ------------------------------------------------------------------------------------------ performance
# The timed calls are checked for shape, dtype and finiteness only: wrong values are the job of the
# value tests (hint 2), so a value bug is never reported as a speed problem (hint 3).

@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_softmax_speed(impl, reference, compare_speed):
    logits = np.random.default_rng(6).standard_normal((1000, 100)) * 5
    compare_speed(impl.softmax, reference.softmax, logits, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(8)
def test_mlp_forward_speed(impl, reference, compare_speed):
    mine = impl.MLP([128, 64, 10], seed=0)
    ref = reference.MLP([128, 64, 10], seed=0)
    x = np.random.default_rng(7).standard_normal((64, 128))
    compare_speed(mine.forward, ref.forward, x, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_init_speed(impl, reference, compare_speed):
    compare_speed(impl.kaiming_normal, reference.kaiming_normal, 256, 256, threshold=3.0)
