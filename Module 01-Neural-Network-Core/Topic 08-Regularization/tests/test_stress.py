"""Topic 08 stress tests: determinism by seed (and exact resume from a saved Generator state), dropout inside a
Topic 06 model, large float32 batches, early stopping driven by a real optimizer, speed against level 2."""

import copy
import math

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.testing import as_array, assert_close

optim = load_topic(3)
layers = load_topic(6)


# ----------------------------------------------------------------------------------------------------------
# determinism
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_same_seed_same_mask_different_seed_different_mask(impl):
    x = np.random.default_rng(0).standard_normal((32, 64))
    first, mask = (as_array(a) for a in impl.dropout_forward(x, 0.5, True, rng=3))
    again, _ = (as_array(a) for a in impl.dropout_forward(x, 0.5, True, rng=3))
    other, _ = (as_array(a) for a in impl.dropout_forward(x, 0.5, True, rng=4))
    assert np.array_equal(first, again), "rng=3 twice gave different outputs: draw only from the rng you are given"
    assert not np.array_equal(first, other), "seeds 3 and 4 gave the same mask: the seed is ignored"
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    a = as_array(impl.dropout_forward(x, 0.5, True, rng=g1)[0])
    b = as_array(impl.dropout_forward(x, 0.5, True, rng=g2)[0])
    assert np.array_equal(a, b), "two Generators with the same seed gave different masks"
    c = as_array(impl.dropout_forward(x, 0.5, True, rng=g1)[0])
    assert not np.array_equal(a, c), "two calls with the same Generator must draw two different masks"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_layer_draws_a_new_mask_every_call_and_is_reproducible(impl):
    x = np.ones((16, 32))
    runs = []
    for _ in range(2):
        layer = impl.Dropout(0.5, rng=7)
        runs.append([as_array(layer.forward(x)).copy() for _ in range(3)])
    for a, b in zip(*runs):
        assert np.array_equal(a, b), "Dropout(0.5, rng=7) built twice must give the same sequence of masks"
    assert not np.array_equal(runs[0][0], runs[0][1]), (
        "two forward calls of one layer gave the same mask: draw a fresh mask at every call from self.rng")


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_saving_the_generator_state_resumes_exactly(impl):
    """Topic 10's checkpoints save layer.rng.bit_generator.state and restore it to resume with the same masks."""
    x = np.random.default_rng(1).standard_normal((8, 20)).astype(np.float32)
    layer = impl.Dropout(0.4, rng=11)
    layer.forward(x)
    saved = copy.deepcopy(layer.rng.bit_generator.state)
    expected = [as_array(layer.forward(x)).copy() for _ in range(3)]
    resumed = impl.Dropout(0.4, rng=999)
    resumed.rng.bit_generator.state = saved
    for k, want in enumerate(expected):
        assert np.array_equal(as_array(resumed.forward(x)), want), (
            f"call {k} after restoring the Generator state differs: every mask must come from self.rng alone")


@pytest.mark.determinism
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_dropout_in_a_topic06_model_train_vs_eval(impl):
    x = np.random.default_rng(0).standard_normal((64, 10))
    model = layers.Sequential(layers.Linear(10, 32, rng=0), layers.ReLU(), impl.Dropout(0.5, rng=1),
                              layers.Linear(32, 3, rng=2))
    plain = layers.Sequential(layers.Linear(10, 32, rng=0), layers.ReLU(), layers.Linear(32, 3, rng=2))
    model.eval()
    first = as_array(model.forward(x)).copy()
    assert_close(first, as_array(plain.forward(x)), rtol=1e-12,
                 what="model.eval() output vs the same model without Dropout (eval-mode dropout is the identity)")
    assert np.array_equal(as_array(model.forward(x)), first), "in eval mode two forward calls must agree exactly"
    model.train()
    a, b = as_array(model.forward(x)).copy(), as_array(model.forward(x)).copy()
    assert not np.array_equal(a, b), "in training mode each forward call drops different units"


# ----------------------------------------------------------------------------------------------------------
# larger inputs
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_large_float32_batch_keeps_its_statistics(impl):
    """262,144 float32 units at p = 0.5: the dropped fraction has std 0.001, the mean of x = 1 has std 0.002."""
    x = np.ones((1024, 256), np.float32)
    out, mask = impl.dropout_forward(x, 0.5, True, rng=21)
    out, mask = as_array(out), as_array(mask)
    assert out.dtype == np.float32 and mask.dtype == np.float32, f"float32 in gave {out.dtype} / {mask.dtype}"
    assert abs(float(np.mean(out == 0)) - 0.5) < 0.005, f"dropped fraction {np.mean(out == 0):.4f}, expected 0.5"
    assert abs(float(out.mean(dtype=np.float64)) - 1.0) < 0.01, f"mean {out.mean():.4f}, expected 1 (E[out] = x)"
    assert set(np.unique(out).tolist()) == {0.0, 2.0}, "float32 kept units are exactly x / (1 - 0.5) = 2"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_early_stopping_with_a_real_optimizer(impl):
    """Train a least-squares model with few samples and many features: the validation loss falls, then rises."""
    rng = np.random.default_rng(0)
    true_w = np.zeros(40)
    true_w[:3] = [2.0, -1.0, 0.5]
    x_train, x_val = rng.standard_normal((30, 40)), rng.standard_normal((500, 40))
    y_train = x_train @ true_w + 0.5 * rng.standard_normal(30)
    y_val = x_val @ true_w + 0.5 * rng.standard_normal(500)
    w = optim.Parameter(np.zeros(40))
    opt = optim.SGD([w], lr=0.02)
    stopper = impl.EarlyStopping(patience=10, min_delta=1e-4)
    val_losses, snapshots = [], []
    for epoch in range(2000):
        w.grad[...] = x_train.T @ (x_train @ w.data - y_train) / len(y_train)
        opt.step()
        val_losses.append(float(np.mean((x_val @ w.data - y_val) ** 2)))
        snapshots.append(w.data.copy())
        if stopper.step(val_losses[-1], [w]):
            break
    assert stopper.stopped and epoch < 1999, "the validation loss of this overfitting problem must trigger a stop"
    best = stopper.best_epoch
    assert epoch == best + 10, f"stopped at epoch {epoch}, expected best_epoch + patience = {best + 10}"
    assert val_losses[best] == stopper.best, "best must be the metric recorded at best_epoch"
    assert np.array_equal(w.data, snapshots[best]), "the restored weights must be those of best_epoch, bit for bit"


# ----------------------------------------------------------------------------------------------------------
# performance (a ratio against level 2: shown as a warning above the threshold, never a failure)
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_dropout_forward_speed(impl, reference, compare_speed):
    x = np.random.default_rng(0).standard_normal((128, 256)).astype(np.float32)
    compare_speed(impl.dropout_forward, reference.dropout_forward, x, 0.5, True, 0, threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_dropout_forward_is_correct_on_the_timed_inputs(impl, reference):
    """What test_dropout_forward_speed times gives the right results (the speed test itself asserts nothing)."""
    x = np.random.default_rng(0).standard_normal((128, 256)).astype(np.float32)
    out, mask = (as_array(a) for a in impl.dropout_forward(x, 0.5, True, 0))
    assert out.dtype == np.float32 and abs(float(np.mean(mask == 0)) - 0.5) < 0.02


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_dropout_layer_forward_backward_speed(impl, reference, compare_speed):
    x = np.random.default_rng(1).standard_normal((128, 256)).astype(np.float32)
    candidate, baseline = impl.Dropout(0.3, rng=0), reference.Dropout(0.3, rng=0)

    def step(layer):
        out = layer.forward(x)
        return layer.backward(out)
    compare_speed(lambda: step(candidate), lambda: step(baseline), threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_dropout_layer_forward_backward_is_correct_on_the_timed_inputs(impl, reference):
    """What test_dropout_layer_forward_backward_speed times gives the right results (the speed test asserts nothing)."""
    x = np.random.default_rng(1).standard_normal((128, 256)).astype(np.float32)
    candidate = impl.Dropout(0.3, rng=0)

    def step(layer):
        out = layer.forward(x)
        return layer.backward(out)
    dx = as_array(step(candidate))
    assert dx.dtype == np.float32 and dx.shape == x.shape


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_l2_penalty_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal((256, 128)).astype(np.float32), rng.standard_normal((128, 10)).astype(np.float32)]
    compare_speed(impl.l2_penalty, reference.l2_penalty, weights, 1e-4, threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_l2_penalty_is_correct_on_the_timed_inputs(impl, reference):
    """What test_l2_penalty_speed times gives the right results (the speed test itself asserts nothing)."""
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal((256, 128)).astype(np.float32), rng.standard_normal((128, 10)).astype(np.float32)]
    loss = float(impl.l2_penalty(weights, 1e-4)[0])
    expected = 0.5 * 1e-4 * sum(float(np.sum(W.astype(np.float64) ** 2)) for W in weights)
    assert math.isclose(loss, expected, rel_tol=1e-4), f"l2_penalty {loss} vs {expected}"


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_early_stopping_snapshot_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(3)
    params = [optim.Parameter(rng.standard_normal((512, 512)).astype(np.float32)) for _ in range(4)]
    def improving_epochs(cls):
        stopper = cls(patience=3)
        for epoch in range(5):
            stopper.step(1.0 - 0.1 * epoch, params)  # every epoch improves: a snapshot each time
        return stopper
    compare_speed(lambda: improving_epochs(impl.EarlyStopping), lambda: improving_epochs(reference.EarlyStopping),
                  threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_early_stopping_snapshot_is_correct_on_the_timed_inputs(impl, reference):
    """What test_early_stopping_snapshot_speed times gives the right results (the speed test itself asserts nothing)."""
    rng = np.random.default_rng(3)
    params = [optim.Parameter(rng.standard_normal((512, 512)).astype(np.float32)) for _ in range(4)]
    def improving_epochs(cls):
        stopper = cls(patience=3)
        for epoch in range(5):
            stopper.step(1.0 - 0.1 * epoch, params)  # every epoch improves: a snapshot each time
        return stopper
    stopper = improving_epochs(impl.EarlyStopping)
    assert stopper.best_epoch == 4 and math.isclose(stopper.best, 0.6)
