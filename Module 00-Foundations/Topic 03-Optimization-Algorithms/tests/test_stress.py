"""Topic 03 stress tests: determinism, exact checkpoint/resume, convergence on Beale, speed against level 2."""

import io
from types import SimpleNamespace

import numpy as np
import pytest

from dlfs.testing import assert_close

OPTIMIZERS = {  # id -> (class name, keyword arguments)
    "sgd": ("SGD", {"lr": 0.05}),
    "momentum": ("SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    "nesterov": ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    "rmsprop": ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    "adam": ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
}


TASK_OF_OPTIMIZER = {"SGD": 3, "RMSprop": 4, "Adam": 5, "AdamW": 6}  # the "## Task n" of questions.md


def by_task(cases):
    """Parametrize cases {id: (class name, ...)} (or a list of class names), each marked with its optimizer's task."""
    specs = cases.items() if isinstance(cases, dict) else ((c, (c,)) for c in cases)
    return [pytest.param(name, marks=pytest.mark.task(TASK_OF_OPTIMIZER[spec[0]])) for name, spec in specs]


def make_optimizer(impl, name, params):
    cls_name, kwargs = OPTIMIZERS[name]
    return getattr(impl, cls_name)(params, **kwargs)


def gradients(seed, steps, shapes=((4, 3), (3,))):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in shapes] for _ in range(steps)]


def run(impl, name, grads, start=None, opt_state=None, lrs=None):
    """Apply the gradient list step by step; returns (parameters, optimizer)."""
    shapes = [g.shape for g in grads[0]]
    start = start or [np.linspace(-1, 1, int(np.prod(s))).reshape(s) for s in shapes]
    params = [impl.Parameter(np.array(w, dtype=np.float64)) for w in start]
    opt = make_optimizer(impl, name, params)
    if opt_state is not None:
        opt.load_state_dict(opt_state)
        assert opt.lr == float(opt_state["lr"]), "load_state_dict must restore the learning rate"
    for t, step_grads in enumerate(grads):
        if lrs is not None:
            opt.lr = lrs[t]
        for p, g in zip(params, step_grads):
            p.grad[...] = g
        opt.step()
    return params, opt


# ----------------------------------------------------------------------------------------------------------
# determinism
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.parametrize("name", by_task(OPTIMIZERS))
def test_same_gradients_give_bit_identical_results(impl, name):
    first, _ = run(impl, name, gradients(0, 6))
    second, _ = run(impl, name, gradients(0, 6))
    other, _ = run(impl, name, gradients(1, 6))
    for a, b, c in zip(first, second, other):
        assert np.array_equal(a.data, b.data), "two runs on the same gradients differ: is there hidden global state?"
        assert not np.array_equal(a.data, c.data), "different gradients gave the same parameters"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.parametrize("name", by_task(OPTIMIZERS))
def test_checkpoint_and_resume_is_exact(impl, name):
    grads = gradients(3, 10)
    lrs = [0.02 * (1 + t % 3) for t in range(10)]
    uninterrupted, _ = run(impl, name, grads, lrs=lrs)
    params, opt = run(impl, name, grads[:4], lrs=lrs[:4])
    buffer = io.BytesIO()
    np.savez(buffer, **opt.state_dict())  # what a checkpoint file holds: plain arrays and numbers
    buffer.seek(0)
    with np.load(buffer) as saved:
        state = {k: saved[k] for k in saved.files}
    resumed, _ = run(impl, name, grads[4:], start=[p.data.copy() for p in params], opt_state=state, lrs=lrs[4:])
    for a, b in zip(uninterrupted, resumed):
        assert np.array_equal(a.data, b.data), (
            f"{name}: 4 steps + save + load + 6 steps differs from 10 steps (max difference "
            f"{np.max(np.abs(a.data - b.data)):.2e}): state_dict must hold every buffer and step counter, "
            "and load_state_dict must restore them (and lr)")


STEP_COUNTERS = {  # id -> (class name, keyword arguments, the buffers its state_dict holds per parameter)
    "rmsprop": ("RMSprop", {"lr": 0.01}, ("step", "square_avg")),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "momentum": 0.5}, ("step", "square_avg", "momentum_buffer")),
    "adam": ("Adam", {"lr": 0.01}, ("step", "exp_avg", "exp_avg_sq")),
    "adamw": ("AdamW", {"lr": 0.01}, ("step", "exp_avg", "exp_avg_sq")),
}


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.parametrize("name", by_task(STEP_COUNTERS))
def test_state_dict_counts_the_steps_of_each_parameter(impl, name):
    cls_name, kwargs, buffers = STEP_COUNTERS[name]
    early = impl.Parameter(np.zeros(3))
    late = SimpleNamespace(data=np.zeros(2), grad=None)  # no gradient during the first 4 steps
    opt = getattr(impl, cls_name)([early, late], **kwargs)
    for t in range(4):
        early.grad[...] = [1.0, -2.0, 0.5 * t]
        opt.step()
    late.grad = np.array([1.0, 1.0])
    opt.step()
    saved = opt.state_dict()
    expected = {"lr"} | {f"state.{i}.{b}" for i in (0, 1) for b in buffers}
    assert set(saved) == expected, f"{cls_name} state_dict keys {sorted(saved)}, expected {sorted(expected)}"
    counters = (saved["state.0.step"], saved["state.1.step"])
    assert all(isinstance(c, (int, np.integer)) for c in counters), (
        f"step counters must be ints, got {[type(c).__name__ for c in counters]}")
    assert counters == (5, 1), (
        f"{cls_name}: after 5 steps, the second parameter having a gradient only at the last one, the saved step "
        f"counters are {counters}, expected (5, 1): step += 1 once per update of that parameter")


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_state_dict_is_a_snapshot(impl):
    p = impl.Parameter(np.zeros(3))
    opt = impl.Adam([p], lr=0.1)
    p.grad[...] = [1.0, 2.0, 3.0]
    opt.step()
    saved = opt.state_dict()
    frozen = {k: np.array(v, copy=True) for k, v in saved.items()}
    assert any(np.ndim(v) == 1 for v in saved.values()), "Adam's state_dict should hold its moment buffers"
    assert float(saved["lr"]) == 0.1, "state_dict()['lr'] should hold the learning rate"
    opt.step()
    opt.step()
    for k, v in saved.items():
        assert np.array_equal(np.asarray(v), frozen[k]), (
            f"state_dict()[{k!r}] changed after later steps: return copies, not the live buffers")


# ----------------------------------------------------------------------------------------------------------
# value: convergence on the Beale function from (1, 1.5)
# ----------------------------------------------------------------------------------------------------------
def beale_descent(impl, opt_factory, steps, start=(1.0, 1.5)):
    xy = impl.Parameter(np.array(start))
    opt = opt_factory([xy])
    losses = []
    for _ in range(steps):
        dx, dy = impl.beale_grad(xy.data[0], xy.data[1])
        xy.grad[0], xy.grad[1] = dx, dy
        opt.step()
        losses.append(float(impl.beale(xy.data[0], xy.data[1])))
    return xy.data, np.array(losses)


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_adam_solves_beale(impl):
    # measured: Adam(lr=0.1) from (1, 1.5) (loss 41.25) is below 1e-6 from step 550 and below 1e-8 from step 692
    xy, losses = beale_descent(impl, lambda ps: impl.Adam(ps, lr=0.1), 750)
    assert losses[574] < 1e-6, f"Adam(lr=0.1) on Beale: loss {losses[574]:.3g} after 575 steps, expected < 1e-6"
    assert losses[-1] < 1e-8, f"Adam(lr=0.1) on Beale: loss {losses[-1]:.3g} after 750 steps, expected < 1e-8"
    assert_close(xy, [3.0, 0.5], atol=1e-3, what="Adam's end point on Beale (the minimum is (3, 0.5))")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_momentum_beats_plain_sgd_on_beale(impl):
    # measured at lr=0.003 after 500 steps: SGD still above 1e-3, momentum 0.9 below 1e-6 (from step 405)
    _, sgd = beale_descent(impl, lambda ps: impl.SGD(ps, lr=0.003), 500)
    _, mom = beale_descent(impl, lambda ps: impl.SGD(ps, lr=0.003, momentum=0.9), 500)
    _, nes = beale_descent(impl, lambda ps: impl.SGD(ps, lr=0.003, momentum=0.9, nesterov=True), 500)
    assert sgd[-1] > 1e-3, f"plain SGD at lr=0.003 should still be far from the minimum after 500 steps, {sgd[-1]:.3g}"
    assert mom[-1] < 1e-6, f"momentum SGD should reach the minimum within 500 steps, loss {mom[-1]:.3g}"
    assert nes[-1] < 1e-6, f"Nesterov SGD should reach the minimum within 500 steps, loss {nes[-1]:.3g}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_training_with_warmup_cosine_and_clipping(impl):
    """A noisy quadratic bowl: clipped Adam on a warmup-cosine schedule ends close to the minimum."""
    rng = np.random.default_rng(5)
    target = rng.standard_normal(50)
    w = impl.Parameter(np.zeros(50))
    opt = impl.Adam([w], lr=0.1)
    total = 300
    for step in range(total):
        opt.lr = impl.warmup_cosine_lr(step, 0.1, warmup_steps=20, total_steps=total)
        w.grad[...] = (w.data - target) + 0.1 * rng.standard_normal(50)
        norm = impl.clip_grad_norm([w], max_norm=1.0)
        assert step > 0 or norm > 1.0, "at the start the gradient norm is about 7: it must be clipped to 1"
        opt.step()
    # measured: 0.043 from the target; with a constant lr of 0.1 the noise keeps it 0.146 away
    err = float(np.max(np.abs(w.data - target)))
    assert err < 0.07, (f"clipped Adam with warmup + cosine ended {err:.3f} away from the target (expected < 0.07): "
                        "does the schedule really decay to min_lr at total_steps?")


# ----------------------------------------------------------------------------------------------------------
# performance (a ratio against level 2, shown by the runner as a warning) and the same sizes checked for values
# ----------------------------------------------------------------------------------------------------------
PERF_SHAPES = ((150, 100), (100,))  # 15,100 parameters: a naive level takes about 0.1 s per step


def _twin_optimizers(impl, reference, cls_name, kwargs):
    rng = np.random.default_rng(11)
    start = [rng.standard_normal(s) for s in PERF_SHAPES]
    grads = [rng.standard_normal(s) for s in PERF_SHAPES]
    mine = [impl.Parameter(w.copy()) for w in start]
    ref = [reference.Parameter(w.copy()) for w in start]
    for p, q, g in zip(mine, ref, grads):
        p.grad[...] = g
        q.grad[...] = g
    return mine, ref, getattr(impl, cls_name)(mine, **kwargs), getattr(reference, cls_name)(ref, **kwargs)


TIMED_OPTIMIZERS = [pytest.param("Adam", {"lr": 1e-3}, id="adam", marks=pytest.mark.task(5)),
                    pytest.param("SGD", {"lr": 0.01, "momentum": 0.9}, id="momentum", marks=pytest.mark.task(3)),
                    pytest.param("RMSprop", {"lr": 1e-3}, id="rmsprop", marks=pytest.mark.task(4))]


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.parametrize("cls_name,kwargs", TIMED_OPTIMIZERS)
def test_steps_at_the_timed_size_match_the_reference(impl, reference, cls_name, kwargs):
    mine, ref, opt, ref_opt = _twin_optimizers(impl, reference, cls_name, kwargs)
    for _ in range(5):
        opt.step()
        ref_opt.step()
    for p, q in zip(mine, ref):
        assert_close(p.data, q.data, rtol=1e-9, atol=1e-12, what=f"{cls_name} parameters after 5 steps")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.parametrize("cls_name,kwargs", TIMED_OPTIMIZERS)
def test_step_speed(impl, reference, compare_speed, cls_name, kwargs):
    mine, ref, opt, ref_opt = _twin_optimizers(impl, reference, cls_name, kwargs)
    compare_speed(opt.step, ref_opt.step, threshold=3.0)  # both take the same number of steps


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(8)
def test_clip_grad_norm_matches_the_reference(impl, reference):
    rng = np.random.default_rng(12)
    grads = [rng.standard_normal(s) for s in PERF_SHAPES]
    mine = [impl.Parameter(np.zeros(s)) for s in PERF_SHAPES]
    ref = [reference.Parameter(np.zeros(s)) for s in PERF_SHAPES]
    for p, q, g in zip(mine, ref, grads):
        p.grad[...] = g
        q.grad[...] = g
    assert_close(impl.clip_grad_norm(mine, 1000.0), reference.clip_grad_norm(ref, 1000.0), rtol=1e-9,
                 what="clip_grad_norm's total norm")
    impl.clip_grad_norm(mine, 1.0)
    reference.clip_grad_norm(ref, 1.0)
    for p, q in zip(mine, ref):
        assert_close(p.grad, q.grad, rtol=1e-9, atol=1e-12, what="gradients clipped to a global norm of 1")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(8)
def test_clip_grad_norm_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(12)
    grads = [rng.standard_normal(s) for s in PERF_SHAPES]
    mine = [impl.Parameter(np.zeros(s)) for s in PERF_SHAPES]
    ref = [reference.Parameter(np.zeros(s)) for s in PERF_SHAPES]
    for p, q, g in zip(mine, ref, grads):
        p.grad[...] = g
        q.grad[...] = g
    compare_speed(impl.clip_grad_norm, reference.clip_grad_norm, mine, 1000.0, threshold=3.0)
    impl.clip_grad_norm(mine, 1.0)
    reference.clip_grad_norm(ref, 1.0)
