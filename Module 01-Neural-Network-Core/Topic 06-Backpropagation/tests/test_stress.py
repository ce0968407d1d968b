"""Topic 06 stress tests: determinism, results that do not depend on earlier calls, larger batches, speed."""

import math

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def toy_batch(N=6, D=5, C=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


def build(module, sizes, seed, dtype=np.float64):
    """Sequential(Linear, ReLU, Linear, ...) with weights drawn from one seeded generator."""
    rng = np.random.default_rng(seed)
    layers = []
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(module.ReLU())
        layers.append(module.Linear(d_in, d_out, rng=rng, dtype=dtype))
    return module.Sequential(*layers)


def train_step(module, model, X, y):
    """zero grads, forward, loss, backward; returns the loss."""
    for p in model.parameters():
        p.grad[...] = 0
    loss, dlogits = module.softmax_cross_entropy(model.forward(X), y)
    model.backward(dlogits)
    return float(loss)


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_same_seed_same_network(impl):
    a, b, c = (impl.TwoLayerNet(5, 7, 3, seed=s) for s in (3, 3, 4))
    for k in a.params:
        assert np.array_equal(a.params[k], b.params[k]), f"params[{k!r}] differ for the same seed"
    assert not np.array_equal(a.params["W1"], c.params["W1"]), "seeds 3 and 4 gave the same W1: is the seed used?"
    X, y = toy_batch()
    (loss_a, grads_a), (loss_b, grads_b) = a.loss(X, y), b.loss(X, y)
    assert float(loss_a) == float(loss_b), "same seed, same data, different loss"
    for k in grads_a:
        assert np.array_equal(as_array(grads_a[k]), as_array(grads_b[k])), f"grads[{k!r}] not bit-identical"
    w1 = impl.Linear(6, 4, rng=np.random.default_rng(7)).weight.data
    w2 = impl.Linear(6, 4, rng=np.random.default_rng(7)).weight.data
    w3 = impl.Linear(6, 4, rng=np.random.default_rng(8)).weight.data
    assert np.array_equal(w1, w2) and not np.array_equal(w1, w3), "Linear must draw its weights from rng"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_repeated_calls_give_bit_identical_results(impl):
    X, y = toy_batch(N=8, seed=1)
    net = impl.TwoLayerNet(5, 7, 3, seed=0, reg=0.2)
    loss1, grads1 = net.loss(X, y)
    grads1 = {k: as_array(v).copy() for k, v in grads1.items()}
    loss2, grads2 = net.loss(X, y)
    assert float(loss1) == float(loss2), "calling loss twice gave two losses: state leaks from call to call"
    for k in grads1:
        assert np.array_equal(grads1[k], as_array(grads2[k])), f"grads[{k!r}] changed between identical calls"
    model = build(impl, (5, 7, 3), seed=0)
    first = train_step(impl, model, X, y)
    g_first = [as_array(p.grad).copy() for p in model.parameters()]
    second = train_step(impl, model, X, y)
    assert first == second, "the same training step twice gave two losses"
    for i, (p, g) in enumerate(zip(model.parameters(), g_first)):
        assert np.array_equal(as_array(p.grad), g), f"parameter {i} gradient changed between identical steps"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_changing_the_batch_size_between_calls(impl):
    # reused buffers must follow the batch shape: a last, smaller batch of an epoch is the usual case
    rng = np.random.default_rng(2)
    x8, x5 = rng.standard_normal((8, 5)), rng.standard_normal((5, 5))
    y8, y5 = rng.integers(0, 3, 8), rng.integers(0, 3, 5)
    model = build(impl, (5, 7, 3), seed=1)
    out8 = as_array(model.forward(x8)).copy()
    loss8 = train_step(impl, model, x8, y8)
    grads8 = [as_array(p.grad).copy() for p in model.parameters()]
    loss5 = train_step(impl, model, x5, y5)
    assert np.shape(model.forward(x5)) == (5, 3)
    again = train_step(impl, model, x8, y8)
    assert_close(model.forward(x8), out8, what="forward on batch A after a batch of another size")
    assert math.isclose(loss8, again, rel_tol=1e-12), "the loss of the same batch changed after a batch of another size"
    for i, (p, g) in enumerate(zip(model.parameters(), grads8)):
        assert_close(p.grad, g, what=f"parameter {i} gradient after switching batch sizes 8 -> 5 -> 8")
    fresh = build(impl, (5, 7, 3), seed=1)
    assert math.isclose(train_step(impl, fresh, x5, y5), loss5, rel_tol=1e-12), "batch of 5 after a batch of 8"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_float32_gradients_match_float64_on_a_larger_batch(impl):
    X, y = toy_batch(N=64, D=32, C=10, seed=3)
    model64 = build(impl, (32, 48, 10), seed=4)
    model32 = build(impl, (32, 48, 10), seed=4, dtype=np.float32)
    loss64 = train_step(impl, model64, X, y)
    loss32 = train_step(impl, model32, X.astype(np.float32), y)
    assert math.isclose(loss32, loss64, rel_tol=1e-5), f"float32 loss {loss32} vs float64 {loss64}"
    for i, (p32, p64) in enumerate(zip(model32.parameters(), model64.parameters())):
        assert as_array(p32.grad).dtype == np.float32, f"parameter {i} gradient is not float32"
        assert_close(p32.grad, p64.grad, rtol=1e-3, atol=1e-5, what=f"float32 gradient of parameter {i}")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_speed_of_a_training_step_vs_reference(impl, reference, compare_speed):
    X, y = toy_batch(N=32, D=48, C=10, seed=5)
    X = X.astype(np.float32)
    mine, ref = build(impl, (48, 32, 10), seed=6, dtype=np.float32), build(reference, (48, 32, 10), seed=6,
                                                                           dtype=np.float32)
    compare_speed(lambda: train_step(impl, mine, X, y), lambda: train_step(reference, ref, X, y), threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_a_training_step_is_correct_on_the_timed_inputs(impl, reference):
    """What test_speed_of_a_training_step_vs_reference times gives the right results (the speed test itself asserts nothing)."""
    X, y = toy_batch(N=32, D=48, C=10, seed=5)
    X = X.astype(np.float32)
    mine, ref = build(impl, (48, 32, 10), seed=6, dtype=np.float32), build(reference, (48, 32, 10), seed=6,
                                                                           dtype=np.float32)
    assert math.isclose(train_step(impl, mine, X, y), train_step(reference, ref, X, y), rel_tol=1e-5)
    for i, (p, q) in enumerate(zip(mine.parameters(), ref.parameters())):
        assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-6, what=f"parameter {i} gradient vs the reference")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_speed_of_two_layer_net_vs_reference(impl, reference, compare_speed):
    X, y = toy_batch(N=32, D=48, C=10, seed=7)
    mine, ref = impl.TwoLayerNet(48, 32, 10, seed=0, reg=0.01), reference.TwoLayerNet(48, 32, 10, seed=0, reg=0.01)
    compare_speed(lambda: mine.loss(X, y), lambda: ref.loss(X, y), threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_two_layer_net_is_correct_on_the_timed_inputs(impl, reference):
    """What test_speed_of_two_layer_net_vs_reference times gives the right results (the speed test itself asserts nothing)."""
    X, y = toy_batch(N=32, D=48, C=10, seed=7)
    mine, ref = impl.TwoLayerNet(48, 32, 10, seed=0, reg=0.01), reference.TwoLayerNet(48, 32, 10, seed=0, reg=0.01)
    (loss, grads), (ref_loss, ref_grads) = mine.loss(X, y), ref.loss(X, y)
    assert math.isclose(float(loss), float(ref_loss), rel_tol=1e-9)
    for k in ref_grads:
        assert_close(grads[k], ref_grads[k], rtol=1e-7, atol=1e-10, what=f"grads[{k!r}] vs the reference")
