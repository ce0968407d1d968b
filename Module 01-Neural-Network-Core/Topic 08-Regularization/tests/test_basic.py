"""Topic 08 basic tests: shapes and dtypes, values and gradients.

Values come from three sources:
- golden files written by level 4 (torch autograd for the L2 gradient, torch.optim.SGD / Adam / AdamW for the
  weight-decay trajectories), compared in float64 to 1e-10;
- numbers derived by hand in the test;
- dropout's statistical invariants. torch cannot share NumPy's random stream, so no test compares masks
  between implementations: each checks what EVERY correct dropout must satisfy, with a tolerance of five
  standard deviations of the estimate (a correct implementation fails about once in 1.7 million runs, and
  the seeds are fixed, so a passing run passes every time).
"""

import copy
import math

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.finite_difference_checker import numerical_gradient, numerical_jacobian_vector
from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, rel_error

Parameter = load_topic(3).Parameter  # EarlyStopping snapshots Topic 03 Parameters, as Topic 10 passes them

# The scripted validation-loss curve of the early-stopping tests, and what patience=3 must make of it:
# improvements at epochs 0, 1 and 4; epochs 5, 6, 7 do not beat 0.7, so step() returns True at epoch 7.
VAL_LOSSES = [1.0, 0.8, 0.85, 0.82, 0.7, 0.75, 0.76, 0.74, 0.9]
EXPECTED_STOPS = [False] * 7 + [True]
EXPECTED_BAD = [0, 0, 1, 2, 0, 1, 2, 3]
EXPECTED_BEST = [1.0, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7]
EXPECTED_BEST_EPOCH = [0, 1, 1, 1, 4, 4, 4, 4]


def golden_float(data, key):
    return float(np.asarray(data[key]))


def quadratic_run(step, w0, curvature, target, lr, coef, steps):
    """Iterate w <- step(w, curvature * (w - target), lr, coef) and return the path (steps + 1, D)."""
    path, w = [w0.copy()], w0.copy()
    for _ in range(steps):
        w = as_array(step(w, curvature * (w - target), lr, coef))
        path.append(np.array(w, dtype=np.float64))
    return np.array(path)


# ----------------------------------------------------------------------------------------------------------
# shape
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", [(8, 5), (2, 3, 4)], ids=["2d", "3d"])
def test_dropout_forward_shapes_and_dtypes(impl, shape, dtype):
    x = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    out, mask = impl.dropout_forward(x, 0.3, True, rng=0)
    out, mask = as_array(out), as_array(mask)
    assert out.shape == shape, f"dropout output has shape {out.shape}, expected the input's {shape}"
    assert mask.shape == shape, f"the mask has shape {mask.shape}, expected one entry per unit {shape}"
    assert out.dtype == dtype, (f"{np.dtype(dtype).name} input gave a {out.dtype} output: keep the input's dtype "
                                "(Topic 10 trains in float32)")
    assert mask.dtype == dtype, (f"the mask is {mask.dtype} for {np.dtype(dtype).name} input: store the scaled mask "
                                 "in x's dtype, or dout * mask silently upcasts the backward pass")


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_dropout_backward_shape_and_dtype(impl):
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    _, mask = impl.dropout_forward(x, 0.5, True, rng=1)
    dx = as_array(impl.dropout_backward(np.ones((6, 4), np.float32), mask))
    assert dx.shape == (6, 4), f"dx has shape {dx.shape}, expected (6, 4)"
    assert dx.dtype == np.float32, f"float32 dout gave a {dx.dtype} dx: keep float32"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_l2_penalty_returns_a_number_and_one_gradient_per_array(impl):
    weights = [np.ones((4, 3), np.float32), np.ones(3, np.float32), np.ones((2, 2, 2))]
    loss, grads = impl.l2_penalty(weights, 0.1)
    assert np.ndim(loss) == 0, f"the loss must be a single number, got shape {np.shape(loss)}"
    assert len(grads) == 3, f"got {len(grads)} gradients for 3 weight arrays"
    for W, g in zip(weights, grads):
        g = as_array(g)
        assert g.shape == W.shape, f"a gradient has shape {g.shape}, expected its weight's shape {W.shape}"
        assert g.dtype == W.dtype, f"the gradient of a {W.dtype} weight is {g.dtype}: keep the weight's dtype"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("name", ["sgd_step_l2", "sgd_step_decoupled"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_sgd_steps_return_a_new_array_of_the_same_dtype(impl, name, dtype):
    w = np.array([[1.0, -2.0, 3.0], [0.5, 0.0, -1.0]], dtype=dtype)
    before = w.copy()
    new_w = as_array(getattr(impl, name)(w, np.ones_like(w), 0.1, 0.01))
    assert new_w.shape == w.shape, f"{name} returned shape {new_w.shape}, expected {w.shape}"
    assert new_w.dtype == dtype, f"{name} turned {np.dtype(dtype).name} weights into {new_w.dtype}"
    assert np.array_equal(w, before), f"{name} modified its input w: return a new array instead"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_adam_l2_vs_adamw_returns_two_paths(impl):
    w0, h, c = np.array([1.0, -1.0, 0.5]), np.array([10.0, 1.0, 0.1]), np.zeros(3)
    kept = w0.copy()
    paths = impl.adam_l2_vs_adamw(w0, h, c, steps=7, lr=0.01, wd=0.1)
    assert len(paths) == 2, "return a pair (path_adam_l2, path_adamw)"
    for name, path in zip(("path_adam_l2", "path_adamw"), paths):
        path = as_array(path)
        assert path.shape == (8, 3), f"{name} has shape {path.shape}, expected (steps + 1, 3) = (8, 3)"
        assert np.array_equal(path[0], w0), f"{name}[0] must be the starting point w0"
        assert not np.array_equal(path[-1], w0), f"{name} never moved: the optimizer must step"
    assert np.array_equal(w0, kept), "adam_l2_vs_adamw moved the caller's w0: give the optimizers a copy"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_dropout_layer_follows_the_layer_protocol(impl):
    generator = np.random.default_rng(0)
    layer = impl.Dropout(0.3, rng=generator)
    assert layer.parameters() == [], "Dropout has no parameters: parameters() must return []"
    assert layer.training is True, "a new layer starts in training mode (layer.training = True)"
    assert layer.rng is generator, ("Dropout must keep the Generator it is given as self.rng (not a copy): "
                                    "Topic 10 shares one Generator and checkpoints layer.rng.bit_generator.state")
    layer.eval()
    assert layer.training is False, "eval() must set layer.training = False"
    layer.train()
    assert layer.training is True, "train() must set layer.training = True"
    assert isinstance(impl.Dropout(0.5, rng=3).rng, np.random.Generator), "an int seed must become a Generator"
    assert isinstance(impl.Dropout(0.5).rng, np.random.Generator), "rng=None must become a fresh Generator"
    x = np.ones((4, 6), np.float32)
    out = as_array(layer.forward(x))
    dx = as_array(layer.backward(np.ones((4, 6), np.float32)))
    assert out.shape == dx.shape == (4, 6), f"forward gave {out.shape}, backward {dx.shape}, expected (4, 6)"
    assert out.dtype == dx.dtype == np.float32, f"float32 in gave {out.dtype} / {dx.dtype}: keep float32"


# ----------------------------------------------------------------------------------------------------------
# value: L2 and weight decay
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_l2_penalty_by_hand(impl):
    W1, W2 = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5, -1.0])
    loss, grads = impl.l2_penalty([W1, W2], 0.1)
    expected = 0.5 * 0.1 * (30.0 + 1.25)  # ||W1||^2 = 1 + 4 + 9 + 16, ||W2||^2 = 0.25 + 1
    assert math.isclose(float(loss), expected, rel_tol=1e-12), (
        f"l2_penalty = {float(loss)}, expected 0.5 * lam * sum ||W||^2 = {expected}"
        + (" (twice too large: the convention has a 0.5 in front)" if math.isclose(float(loss), 2 * expected) else ""))
    for W, g in zip((W1, W2), grads):
        g = as_array(g)
        hint = " (2 * lam * W: the 0.5 in front cancels the 2 of the derivative)" if np.allclose(g, 0.2 * W) else ""
        assert_close(g, 0.1 * W, rtol=1e-12, what="gradient of 0.5 * lam * ||W||^2" + hint)


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_l2_penalty_matches_golden(impl, golden):
    data = golden("l2_penalty")
    loss, (g0, g1) = impl.l2_penalty([data["W0"], data["W1"]], golden_float(data, "lam"))
    assert math.isclose(float(loss), golden_float(data, "loss"), rel_tol=1e-10), (
        f"l2_penalty = {float(loss)}, torch gives {golden_float(data, 'loss')}")
    assert_close(g0, data["grad0"], rtol=1e-10, what="gradient of W0 (torch autograd: lam * W)")
    assert_close(g1, data["grad1"], rtol=1e-10, what="gradient of W1 (torch autograd: lam * W)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_sgd_steps_by_hand(impl):
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    # L2: w - lr * (g + lam * w) = [1 - 0.1 * (0.5 + 0.2), -2 - 0.1 * (0.5 - 0.4)] = [0.93, -2.01]
    assert_close(impl.sgd_step_l2(w, g, 0.1, 0.2), [0.93, -2.01], rtol=1e-12, what="sgd_step_l2(w, g, 0.1, 0.2)")
    # decoupled: w * (1 - lr * wd) - lr * g = [0.95 - 0.05, -1.9 - 0.05] with wd = 0.5
    assert_close(impl.sgd_step_decoupled(w, g, 0.1, 0.5), [0.9, -1.95], rtol=1e-12,
                 what="sgd_step_decoupled(w, g, lr=0.1, wd=0.5) = w * (1 - lr * wd) - lr * g")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_sgd_weight_decay_matches_torch_sgd(impl, golden):
    """torch.optim.SGD(weight_decay=lam) on a quadratic: L2 and decoupled decay (wd = lam) both follow it."""
    data = golden("sgd_weight_decay")
    args = (data["w0"], data["curvature"], data["target"], golden_float(data, "lr"), golden_float(data, "lam"),
            int(data["steps"]))
    assert_close(quadratic_run(impl.sgd_step_l2, *args), data["path"], rtol=1e-10, atol=1e-12,
                 what="20 steps of sgd_step_l2 vs torch.optim.SGD(weight_decay=lam)")
    assert_close(quadratic_run(impl.sgd_step_decoupled, *args), data["path"], rtol=1e-10, atol=1e-12,
                 what="20 steps of sgd_step_decoupled(wd = lam) vs torch.optim.SGD(weight_decay=lam): "
                      "for plain SGD the two are the same update")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("lr,coef", [(0.1, 0.01), (0.01, 0.5), (1.0, 0.3)])
def test_sgd_l2_equals_decoupled_when_wd_equals_lam(impl, lr, coef):
    rng = np.random.default_rng(3)
    w, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    l2 = as_array(impl.sgd_step_l2(w, g, lr, coef))
    decoupled = as_array(impl.sgd_step_decoupled(w, g, lr, coef))
    assert_close(l2, decoupled, rtol=1e-12, atol=1e-14,
                 what="sgd_step_l2(lam) vs sgd_step_decoupled(wd = lam): w - lr (g + lam w) = w (1 - lr lam) - lr g")
    assert not np.allclose(l2, w - lr * g), "sgd_step_l2 ignored lam: the penalty's gradient lam * w is missing"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_adam_and_adamw_paths_match_torch_optim(impl, golden):
    data = golden("adam_weight_decay")
    path_adam_l2, path_adamw = impl.adam_l2_vs_adamw(
        data["w0"], data["curvature"], data["target"], steps=int(data["steps"]), lr=golden_float(data, "lr"),
        wd=golden_float(data, "wd"), betas=(golden_float(data, "beta1"), golden_float(data, "beta2")),
        eps=golden_float(data, "eps"))
    assert_close(path_adam_l2, data["path_adam_l2"], rtol=1e-10, atol=1e-12,
                 what="path_adam_l2 vs torch.optim.Adam(weight_decay=wd) (L2: wd * w added to the gradient)")
    assert_close(path_adamw, data["path_adamw"], rtol=1e-10, atol=1e-12,
                 what="path_adamw vs torch.optim.AdamW(weight_decay=wd) (decoupled: w *= 1 - lr * wd)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_with_adam_l2_and_decoupled_decay_differ(impl):
    w0, h, c = np.ones(3), np.array([100.0, 1.0, 0.01]), np.ones(3)
    path_adam_l2, path_adamw = (as_array(p) for p in impl.adam_l2_vs_adamw(w0, h, c, steps=50, lr=0.01, wd=0.1))
    gap = float(np.max(np.abs(path_adam_l2[-1] - path_adamw[-1])))
    assert gap > 0.1, (f"after 50 steps Adam+L2 and AdamW end {gap:.2e} apart: with Adam the L2 gradient wd * w is "
                       "divided by sqrt(v), decoupled decay is not, so the two must differ")
    same_l2, same_w = (as_array(p) for p in impl.adam_l2_vs_adamw(w0, h, c, steps=50, lr=0.01, wd=0.0))
    assert_close(same_l2, same_w, rtol=1e-12, what="with wd = 0 both optimizers are plain Adam")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_adam_l2_converges_to_the_l2_optimum_and_adamw_does_not(impl):
    """Adam with L2 stops where grad + wd * w = 0: w* = h c / (h + wd), the minimum of loss + 0.5 wd ||w||^2.

    AdamW shrinks w by lr * wd * w per step against Adam's normalized step of about lr: in this noise-free
    problem it stays near the unregularized minimum c, whatever the curvature.
    """
    w0, h, c, wd = np.ones(3), np.array([100.0, 1.0, 0.01]), np.ones(3), 0.1
    path_adam_l2, path_adamw = (as_array(p) for p in impl.adam_l2_vs_adamw(w0, h, c, steps=2000, lr=0.01, wd=wd))
    l2_optimum = h * c / (h + wd)  # [0.999, 0.909, 0.0909]
    assert_close(path_adam_l2[-1], l2_optimum, rtol=1e-2, what="Adam+L2 after 2000 steps vs h c / (h + wd)")
    assert path_adamw[-1][2] > 0.5, (f"AdamW drove the low-curvature weight to {path_adamw[-1][2]:.3f}: "
                                     "were the two paths returned in the wrong order?")


# ----------------------------------------------------------------------------------------------------------
# value: dropout invariants
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_preserves_the_expected_value(impl, p):
    """Average each unit over 10,000 independent masks: the mean must be x itself (E[out] = x).

    One unit's output is x / (1 - p) with probability 1 - p, else 0: its standard deviation is
    |x| sqrt(p / (1 - p)), so the mean of N draws has standard deviation |x| sqrt(p / ((1 - p) N)),
    0.0045 |x| for p = 0.2 and 0.01 |x| for p = 0.5. The tolerance is 5 of those.
    """
    n = 10_000
    row = np.random.default_rng(0).uniform(0.5, 2.0, 20) * np.array([1, -1] * 10)  # |x| in [0.5, 2]
    x = np.tile(row, (n, 1))
    out = as_array(impl.dropout_forward(x, p, True, rng=42)[0])
    unit_means = out.mean(axis=0)
    tolerance = 5 * np.abs(row) * math.sqrt(p / ((1 - p) * n))
    worst = int(np.argmax(np.abs(unit_means - row) / tolerance))
    ratio = unit_means[worst] / row[worst]
    advice = ""
    if abs(ratio - (1 - p)) < 0.05:
        advice = f": the mean shrank by (1 - p) = {1 - p}, scale the kept units by 1 / (1 - p) (inverted dropout)"
    assert np.all(np.abs(unit_means - row) <= tolerance), (
        f"unit {worst}: mean over {n} masks is {unit_means[worst]:.4f}, expected x = {row[worst]:.4f} "
        f"+- {tolerance[worst]:.4f}{advice}")
    overall_tolerance = 5 * math.sqrt(np.mean(x * x) * p / ((1 - p) * x.size))  # same argument, all units at once
    assert abs(out.mean() - x.mean()) <= overall_tolerance, (
        f"the mean of the output {out.mean():.5f} is not the mean of the input {x.mean():.5f} "
        f"+- {overall_tolerance:.5f}")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
@pytest.mark.parametrize("p", [0.1, 0.3, 0.8])
def test_fraction_of_dropped_units_is_p(impl, p):
    """100,000 units: the dropped fraction has std sqrt(p (1 - p) / 1e5) <= 0.0016; the tolerance is 5 of those."""
    x = np.ones((200, 500))
    out, mask = impl.dropout_forward(x, p, True, rng=7)
    out, mask = as_array(out), as_array(mask)
    dropped = float(np.mean(out == 0))
    tolerance = 5 * math.sqrt(p * (1 - p) / x.size)
    swapped = " (that is 1 - p: keep units with probability 1 - p, drop them with probability p)" \
        if abs(dropped - (1 - p)) <= tolerance else ""
    assert abs(dropped - p) <= tolerance, (
        f"p = {p} dropped {dropped:.4f} of the units, expected {p} +- {tolerance:.4f}{swapped}")
    assert np.array_equal(mask == 0, out == 0), "the mask is 0 exactly where the output is 0 (for x = 1)"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-12), (np.float32, 1e-6)], ids=["float64", "float32"])
def test_kept_units_are_exactly_x_over_1_minus_p(impl, dtype, rtol):
    p = 0.25
    x = np.random.default_rng(5).standard_normal((50, 40)).astype(dtype)
    out, mask = impl.dropout_forward(x, p, True, rng=5)
    out, mask = as_array(out).astype(np.float64), as_array(mask).astype(np.float64)
    kept = mask != 0
    assert 0 < kept.mean() < 1, "with p = 0.25 some units must be kept and some dropped"
    assert_close(mask[kept], np.full(int(kept.sum()), 1 / (1 - p)), rtol=rtol,
                 what="the mask's kept entries (must be 1 / (1 - p), the inverted-dropout scale)")
    assert_close(out[kept], x.astype(np.float64)[kept] / (1 - p), rtol=rtol,
                 what="kept units (x / (1 - p): inverted dropout scales the survivors at training time)")
    assert np.all(out[~kept] == 0), "dropped units must be exactly 0"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("p", [0.5, 0.9])
def test_eval_mode_is_the_exact_identity(impl, p, dtype):
    x = np.random.default_rng(2).standard_normal((30, 20)).astype(dtype)
    kept = x.copy()
    out, mask = impl.dropout_forward(x, p, False, rng=0)
    out = as_array(out)
    ratio = float(np.median(out / x))
    advice = ""
    if math.isclose(ratio, 1 - p, rel_tol=1e-3):
        advice = f": the output was multiplied by 1 - p = {1 - p}. Inverted dropout already scaled at training time"
    elif np.any(out == 0):
        advice = ": units were dropped in eval mode; train=False must switch dropout off"
    assert out.dtype == dtype and np.array_equal(out, x), (
        f"eval-mode dropout must return x unchanged (median out / x = {ratio:.4f}){advice}")
    assert mask is None, "in eval mode there is no mask: return (x, None)"
    assert np.array_equal(x, kept), "dropout_forward modified its input"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_dropout_layer_in_eval_mode_is_the_identity_and_drops_again_after_train(impl):
    layer = impl.Dropout(0.5, rng=0)
    x = np.random.default_rng(1).standard_normal((100, 50))
    layer.eval()
    out = as_array(layer.forward(x)).copy()
    ratio = float(np.median(out / x))
    assert np.array_equal(out, x), (f"Dropout in eval mode changed its input (median out / x = {ratio:.3f}): "
                                    "after layer.eval() forward must return x unchanged")
    dout = np.random.default_rng(2).standard_normal((100, 50))
    assert np.array_equal(as_array(layer.backward(dout)), dout), "after an eval-mode forward, backward is the identity"
    layer.train()
    dropped = float(np.mean(as_array(layer.forward(x)) == 0))
    assert abs(dropped - 0.5) < 0.05, f"after layer.train() about half the units must be dropped, got {dropped:.3f}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_backward_uses_the_forward_mask(impl):
    rng = np.random.default_rng(9)
    x, dout = rng.standard_normal((20, 30)), rng.standard_normal((20, 30))
    _, mask = impl.dropout_forward(x, 0.4, True, rng=9)
    dx = as_array(impl.dropout_backward(dout, mask))
    assert_close(dx, dout * as_array(mask), rtol=1e-12, what="dropout_backward(dout, mask) = dout * mask")

    layer = impl.Dropout(0.4, rng=4)
    out = as_array(layer.forward(np.ones((20, 30)))).copy()  # with x = 1 the output IS the scaled mask
    dx = as_array(layer.backward(dout))
    assert_close(dx, dout * out, rtol=1e-12,
                 what="Dropout.backward: it must reuse the mask of the last forward (not draw a new one), "
                      "and scale by 1 / (1 - p) like forward")


# ----------------------------------------------------------------------------------------------------------
# value: early stopping
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_early_stopping_on_a_scripted_curve(impl):
    stopper = impl.EarlyStopping(patience=3)
    decisions = []
    for epoch, val_loss in enumerate(VAL_LOSSES):
        decisions.append(bool(stopper.step(val_loss, None)))
        if epoch >= len(EXPECTED_BAD):
            break  # a late stop: the assertion on the decisions below explains it
        assert stopper.num_bad_epochs == EXPECTED_BAD[epoch], (
            f"after epoch {epoch} (losses {VAL_LOSSES[:epoch + 1]}) num_bad_epochs = {stopper.num_bad_epochs}, "
            f"expected {EXPECTED_BAD[epoch]}: count consecutive epochs that do not beat the BEST, reset on improvement")
        assert stopper.best == EXPECTED_BEST[epoch] and stopper.best_epoch == EXPECTED_BEST_EPOCH[epoch], (
            f"after epoch {epoch}: best = {stopper.best} at epoch {stopper.best_epoch}, expected "
            f"{EXPECTED_BEST[epoch]} at epoch {EXPECTED_BEST_EPOCH[epoch]} (epochs count from 0, one per step call)")
        if decisions[-1]:
            break
    first_stop = decisions.index(True) if True in decisions else None
    assert decisions == EXPECTED_STOPS, (
        f"with patience=3, step() should return True first at epoch 7 (3 epochs without beating 0.7), "
        f"got it at epoch {first_stop}: patience counts the bad epochs, stop when the count REACHES patience")
    assert stopper.stopped, "stopped must be True once step() has returned True"


def train_with_early_stopping(impl, stopper, metrics, seed=0):
    """Move two Parameters in place every epoch (like an optimizer), call step(); returns (params, history, epoch)."""
    rng = np.random.default_rng(seed)
    params = [Parameter(np.zeros((3, 4))), Parameter(np.zeros(5))]
    history = []
    for epoch, metric in enumerate(metrics):
        for p in params:
            p.data += rng.standard_normal(p.data.shape)  # in place, as every optimizer updates p.data
        history.append([p.data.copy() for p in params])
        if stopper.step(metric, params):
            break
    return params, history, epoch


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_early_stopping_restores_the_exact_best_weights(impl):
    stopper = impl.EarlyStopping(patience=3)
    params, history, epoch = train_with_early_stopping(impl, stopper, VAL_LOSSES)
    arrays = [p.data for p in params]
    assert epoch == 7, f"training stopped after epoch {epoch}, expected 7"
    for k, p in enumerate(params):
        if np.array_equal(p.data, history[7][k]):
            raise AssertionError("after the stop the parameters hold the LAST epoch's weights, not the best (epoch 4): "
                                 "snapshot COPIES of p.data on improvement (p.data is updated in place, a reference "
                                 "follows it) and restore them when step() returns True")
        assert np.array_equal(p.data, history[4][k]), (
            "after the stop the parameters must hold exactly the weights of the best epoch (4)")
        assert p.data is arrays[k], "restore must write INTO p.data (the optimizer holds that array), not rebind it"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_restore_best_false_keeps_the_last_weights_until_restore(impl):
    stopper = impl.EarlyStopping(patience=3, restore_best=False)
    params, history, epoch = train_with_early_stopping(impl, stopper, VAL_LOSSES, seed=1)
    assert epoch == 7, f"training stopped after epoch {epoch}, expected 7"
    for p, last in zip(params, history[7]):
        assert np.array_equal(p.data, last), "with restore_best=False, step() must leave the weights alone"
    stopper.restore(params)
    for p, best in zip(params, history[4]):
        assert np.array_equal(p.data, best), "restore(params) must copy the best epoch's weights back"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_min_delta_is_measured_against_the_best(impl):
    stopper = impl.EarlyStopping(patience=2, min_delta=0.1)
    decisions = [bool(stopper.step(m, None)) for m in (1.0, 0.95, 0.85, 0.80)]
    assert decisions == [False] * 4 and stopper.best == 0.85 and stopper.best_epoch == 2, (
        f"min_delta=0.1 on losses 1.0, 0.95, 0.85, 0.80: 0.95 is not enough (best stays 1.0), 0.85 beats the BEST "
        f"1.0 by 0.15 (not the last value 0.95): expected best 0.85 at epoch 2, got {stopper.best} at epoch "
        f"{stopper.best_epoch}, decisions {decisions}")
    assert stopper.step(0.76, None), "0.80 and 0.76 do not beat 0.85 by more than 0.1: stop after 2 bad epochs"

    exact = impl.EarlyStopping(patience=5, min_delta=0.25)
    exact.step(1.0, None)
    exact.step(0.75, None)
    assert exact.num_bad_epochs == 1 and exact.best == 1.0, (
        "an improvement of exactly min_delta is not an improvement: it must be MORE than min_delta")
    exact.step(0.5, None)
    assert exact.num_bad_epochs == 0 and exact.best == 0.5, "0.5 beats 1.0 by 0.5 > 0.25: an improvement"

    plain = impl.EarlyStopping(patience=5)
    plain.step(1.0, None)
    plain.step(1.0, None)
    assert plain.num_bad_epochs == 1, "an equal metric is not an improvement (min_delta = 0 needs a strict decrease)"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_mode_max_for_accuracies(impl):
    stopper = impl.EarlyStopping(patience=2, mode="max")
    accuracies = [0.5, 0.6, 0.6, 0.65, 0.64, 0.63]
    decisions = [bool(stopper.step(a, None)) for a in accuracies]
    assert decisions == [False] * 5 + [True], (
        f"mode='max' on accuracies {accuracies}: higher is better, stop at epoch 5; got decisions {decisions}")
    assert stopper.best == 0.65 and stopper.best_epoch == 3, (
        f"best accuracy 0.65 at epoch 3 expected, got {stopper.best} at epoch {stopper.best_epoch}")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_no_stop_while_the_metric_improves(impl):
    stopper = impl.EarlyStopping(patience=1)
    for epoch in range(200):
        assert not stopper.step(1.0 / (epoch + 1), None), f"stopped at epoch {epoch} although the loss kept improving"
    assert stopper.best_epoch == 199 and stopper.num_bad_epochs == 0 and not stopper.stopped


# ----------------------------------------------------------------------------------------------------------
# value: the default arguments of the signatures in questions.md
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_adam_l2_vs_adamw_defaults_are_the_documented_ones(impl):
    # tiny weights (gradients of about 1e-8, where eps matters) next to ordinary ones (where lr, wd, betas matter)
    w0, h, c = np.array([1e-8, -3e-8, 1.0, -2.0]), np.array([1.0, 2.0, 10.0, 0.5]), np.array([0.0, 0.0, 0.5, 1.0])
    by_default = [as_array(p) for p in impl.adam_l2_vs_adamw(w0, h, c)]
    spelled_out = [as_array(p) for p in impl.adam_l2_vs_adamw(w0, h, c, steps=100, lr=0.01, wd=0.1,
                                                              betas=(0.9, 0.999), eps=1e-8)]
    for name, got, want in zip(("path_adam_l2", "path_adamw"), by_default, spelled_out):
        assert got.shape == want.shape, f"{name} with the default steps has shape {got.shape}, expected {want.shape}"
        assert np.array_equal(got, want), (
            f"{name} with the default arguments differs from steps=100, lr=0.01, wd=0.1, betas=(0.9, 0.999), "
            f"eps=1e-8: check the defaults of your signature")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_dropout_forward_trains_by_default(impl):
    x = np.random.default_rng(12).standard_normal((20, 30))
    out, mask = impl.dropout_forward(x, 0.5, rng=3)
    assert mask is not None, "dropout_forward(x, p) without train= must be training mode (train=True) and return a mask"
    want_out, want_mask = impl.dropout_forward(x, 0.5, train=True, rng=3)
    assert_close(mask, want_mask, rtol=0, atol=0, what="mask of dropout_forward(x, 0.5, rng=3) vs train=True")
    assert_close(out, want_out, rtol=0, atol=0, what="output of dropout_forward(x, 0.5, rng=3) vs train=True")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_dropout_layer_default_p_is_one_half(impl):
    layer = impl.Dropout(rng=0)
    assert layer.p == 0.5, f"Dropout() must drop with p = 0.5 by default, got p = {layer.p}"
    assert layer.training is True, "Dropout() starts in training mode"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_early_stopping_defaults(impl):
    stopper = impl.EarlyStopping()   # patience=5, min_delta=0.0, mode="min", restore_best=True
    params = [Parameter(np.zeros(3))]
    metrics = [1.0, 0.9999999, 2.0, 2.0, 2.0, 2.0, 2.0]   # the tiny gain at epoch 1 is an improvement with min_delta=0
    decisions = []
    for epoch, metric in enumerate(metrics):
        params[0].data[...] = epoch
        decisions.append(bool(stopper.step(metric, params)))
    assert stopper.best == 0.9999999 and stopper.best_epoch == 1, (
        f"best = {stopper.best} at epoch {stopper.best_epoch}, expected 0.9999999 at epoch 1: by default the "
        f"mode is 'min' and min_delta is 0.0, so any decrease is an improvement")
    assert decisions == [False] * 6 + [True], (
        f"decisions {decisions}: with the default patience=5, step() returns True at the 5th epoch in a row "
        f"without improvement (epoch 6 here)")
    assert_close(params[0].data, np.full(3, 1.0), what="weights after the stop (restore_best=True by default: "
                                                         "the weights of the best epoch 1 come back)")


# ----------------------------------------------------------------------------------------------------------
# gradient
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.gradient
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_l2_gradient_matches_finite_differences(impl):
    rng = np.random.default_rng(4)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal(6)]
    lam = 0.7
    _, grads = impl.l2_penalty(weights, lam)
    for k, W in enumerate(weights):
        numeric = numerical_gradient(lambda: float(impl.l2_penalty(weights, lam)[0]), W)
        err = rel_error(as_array(grads[k]), numeric)
        assert err < 1e-7, (f"gradient of weight {k}: relative error {err:.2e} against finite differences of your "
                            "own loss (loss and gradient disagree: 0.5 * lam * W^2 has derivative lam * W)")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(4)
@pytest.mark.parametrize("p", [0.1, 0.5])
def test_dropout_gradient_check_with_a_fixed_mask(impl, p):
    """With the seed fixed, dropout is a fixed linear map x -> x * mask: finite differences see that map."""
    x = np.random.default_rng(6).standard_normal((6, 8))
    report = check_layer(lambda x: impl.dropout_forward(x, p, True, rng=123), impl.dropout_backward, x, tol=1e-7)
    assert report.passed, f"dropout gradient check failed (same seed = same mask every call):\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_dropout_layer_gradient_check(impl):
    layer = impl.Dropout(0.3, rng=10)
    state = copy.deepcopy(layer.rng.bit_generator.state)

    def forward(x):
        layer.rng.bit_generator.state = copy.deepcopy(state)  # the same mask at every call
        return np.array(as_array(layer.forward(x)), dtype=np.float64)

    rng = np.random.default_rng(11)
    x, dout = rng.standard_normal((5, 9)), rng.standard_normal((5, 9))
    forward(x)
    dx = np.array(as_array(layer.backward(dout)), dtype=np.float64)
    numeric = numerical_jacobian_vector(forward, x, dout)
    err = rel_error(dx, numeric)
    assert err < 1e-7, f"Dropout.backward vs finite differences: relative error {err:.2e} (expected < 1e-7)"
