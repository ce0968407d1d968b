"""Topic 03 basic tests: shapes and dtypes, values against PyTorch's golden trajectories and by hand, gradients.

The golden files were written by level 4 (torch.optim, torch.optim.lr_scheduler, torch.nn.utils) in float64;
a correct implementation agrees with them to about 1e-15, so the tolerance here is 1e-10.
"""

import math

import numpy as np
import pytest

from dlfs.finite_difference_checker import numerical_gradient
from dlfs.testing import as_array, assert_close, rel_error

RTOL, ATOL = 1e-10, 1e-12

# name -> (optimizer class, keyword arguments, learning rate at each step or None). Level 4 wrote the golden
# trajectories with exactly these settings (TRAJECTORY_CONFIGS in solutions/level04-pytorch-reference.py).
TRAJECTORY_CONFIGS = {
    "sgd": ("SGD", {"lr": 0.1}, None),
    "momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}, None),
    "nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, None),
    "sgd_weight_decay": ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, None),
    "momentum_lr_change": ("SGD", {"lr": 0.1, "momentum": 0.9}, [0.1] * 5 + [0.01] * 5),
    "rmsprop": ("RMSprop", {"lr": 0.01}, None),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.8, "weight_decay": 0.05}, None),
    "adam": ("Adam", {"lr": 0.01}, None),
    "adam_l2": ("Adam", {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1}, None),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}, None),
    "adamw_lr_change": ("AdamW", {"lr": 0.01, "weight_decay": 0.5}, [0.01] * 5 + [0.05] * 5),
}
TRAJECTORY_ADVICE = {
    "momentum": "the buffer starts as g (buf = g on the first step) and then buf = momentum * buf + g, "
                "with no (1 - momentum) factor",
    "nesterov": "the Nesterov direction is g + momentum * buf, with buf already updated",
    "sgd_weight_decay": "weight decay is added to the gradient first: g = grad + weight_decay * p",
    "momentum_lr_change": "lr multiplies the buffer when the step is taken (p -= lr * buf); "
                          "do not fold lr into the buffer, and read self.lr at every step",
    "rmsprop": "eps goes OUTSIDE the square root: g / (sqrt(sq) + eps), sq starting at 0",
    "rmsprop_momentum": "with momentum, buf = momentum * buf + g / (sqrt(sq) + eps) and p -= lr * buf",
    "adam": "both bias corrections are needed: m / (1 - beta1^t) and v / (1 - beta2^t), eps outside the sqrt",
    "adam_l2": "Adam's weight_decay is L2: add weight_decay * p to the gradient before the moments",
    "adamw": "AdamW decays the weights directly (p *= 1 - lr * weight_decay), NOT through the gradient",
    "adamw_lr_change": "AdamW's decay uses the CURRENT lr: read self.lr at every step",
}

OPTIMIZERS = {  # id -> (class name, keyword arguments) for the tests that run every optimizer
    "sgd": ("SGD", {"lr": 0.1}),
    "momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    "rmsprop": ("RMSprop", {"lr": 0.01, "momentum": 0.5, "weight_decay": 0.01}),
    "adam": ("Adam", {"lr": 0.01, "weight_decay": 0.01}),
    "adamw": ("AdamW", {"lr": 0.01}),
}


TASK_OF_OPTIMIZER = {"SGD": 3, "RMSprop": 4, "Adam": 5, "AdamW": 6}  # the "## Task n" of questions.md


def by_task(cases):
    """Parametrize cases {id: (class name, ...)} (or a list of class names), each marked with its optimizer's task."""
    specs = cases.items() if isinstance(cases, dict) else ((c, (c,)) for c in cases)
    return [pytest.param(name, marks=pytest.mark.task(TASK_OF_OPTIMIZER[spec[0]])) for name, spec in specs]


def make_optimizer(impl, name, params, **overrides):
    cls_name, kwargs = OPTIMIZERS[name]
    return getattr(impl, cls_name)(params, **{**kwargs, **overrides})


# ----------------------------------------------------------------------------------------------------------
# shape
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_parameter_data_and_grad(impl):
    p = impl.Parameter(np.arange(6).reshape(2, 3))
    assert as_array(p.data).dtype == np.float64, (
        f"Parameter(int array).data has dtype {as_array(p.data).dtype}: convert ints to float64, "
        "an int array cannot hold a fractional update")
    assert_close(p.data, np.arange(6.0).reshape(2, 3), what="Parameter.data")
    assert isinstance(p.grad, np.ndarray) and p.grad.shape == (2, 3) and p.grad.dtype == np.float64, (
        "Parameter.grad must be np.zeros_like(data): same shape and dtype")
    assert not p.grad.any(), "Parameter.grad must start at zero"
    w = np.ones((4, 2), dtype=np.float32)
    q = impl.Parameter(w)
    assert q.data.dtype == np.float32 and q.grad.dtype == np.float32, (
        f"float32 data became {q.data.dtype} (grad {q.grad.dtype}): keep float32 as float32, "
        "Topic 10 trains in float32")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", by_task(OPTIMIZERS))
def test_step_updates_in_place_and_keeps_dtype(impl, name, dtype):
    rng = np.random.default_rng(0)
    params = [impl.Parameter(rng.standard_normal((3, 4)).astype(dtype)), impl.Parameter(np.ones(5, dtype))]
    before = [p.data for p in params]
    start = [p.data.copy() for p in params]
    opt = make_optimizer(impl, name, params)
    assert isinstance(opt, impl.Optimizer), f"{type(opt).__name__} should subclass Optimizer"
    for _ in range(2):
        for p in params:
            p.grad[...] = rng.standard_normal(p.data.shape)
        opt.step()
    for p, old, first in zip(params, before, start):
        assert p.data is old, ("step() replaced p.data with a new array: update it in place (p.data -= ...), "
                               "layers and checkpoints hold references to it")
        assert p.data.shape == first.shape, f"p.data has shape {p.data.shape}, expected {first.shape}"
        assert p.data.dtype == dtype, f"{dtype.__name__} parameter became {p.data.dtype} after step()"
        assert not np.array_equal(p.data, first), "step() did not change the parameter"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_clipping_keeps_shapes_and_float32(impl):
    params = [impl.Parameter(np.zeros((3, 2), np.float32)), impl.Parameter(np.zeros(4, np.float32))]
    grads = [p.grad for p in params]
    for p in params:
        p.grad[...] = 10.0
    total = impl.clip_grad_norm(params, 1.0)
    impl.clip_grad_value(params, 0.1)
    assert isinstance(total, float) or np.ndim(total) == 0, f"clip_grad_norm should return a number, got {total!r}"
    for p, g in zip(params, grads):
        assert p.grad is g, "clipping must modify p.grad in place (the optimizer reads the same array)"
        assert p.grad.dtype == np.float32, f"clipping turned float32 gradients into {p.grad.dtype}"


# ----------------------------------------------------------------------------------------------------------
# value: golden trajectories written by torch.optim
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.parametrize("name", by_task(TRAJECTORY_CONFIGS))
def test_trajectory_matches_torch(impl, golden, name):
    g = golden("trajectories")
    cls_name, kwargs, lrs = TRAJECTORY_CONFIGS[name]
    params = [impl.Parameter(g["p0"].copy()), impl.Parameter(g["p1"].copy())]
    opt = getattr(impl, cls_name)(params, **kwargs)
    for t in range(len(g["g0"])):
        if lrs is not None:
            opt.lr = lrs[t]
        params[0].grad[...] = g["g0"][t]
        params[1].grad[...] = g["g1"][t]
        opt.step()
        advice = TRAJECTORY_ADVICE.get(name, "compare your update with the equation in questions.md")
        for k, p in enumerate(params):
            assert_close(p.data, g[f"{name}.p{k}"][t], rtol=RTOL, atol=ATOL,
                         what=f"{name}: parameter {k} after step {t + 1} ({advice})")


# ----------------------------------------------------------------------------------------------------------
# value: first steps you can check by hand
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_sgd_and_momentum_first_steps_by_hand(impl):
    g1, g2 = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    # plain SGD: p - lr * g
    p = impl.Parameter(np.array([1.0, 1.0]))
    opt = impl.SGD([p], lr=0.1)
    p.grad[...] = g1
    opt.step()
    assert_close(p.data, [0.9, 1.2], what="SGD after one step (p - lr * g)")
    # momentum: the buffer starts as g, so the first step equals plain SGD
    p = impl.Parameter(np.array([1.0, 1.0]))
    opt = impl.SGD([p], lr=0.1, momentum=0.9)
    p.grad[...] = g1
    opt.step()
    assert_close(p.data, [0.9, 1.2], what="momentum SGD after one step: buf = g on the first step, so p - lr * g "
                                          "(a (1 - momentum) factor or a zero-started EMA makes it 10x smaller)")
    p.grad[...] = g2  # buf = 0.9 * g1 + g2 = [1.4, -1.3]
    opt.step()
    assert_close(p.data, [0.76, 1.33], what="momentum SGD after two steps (buf = 0.9 * buf + g; p -= lr * buf)")
    # Nesterov: g + momentum * buf = 1.9 g on the first step
    p = impl.Parameter(np.array([1.0, 1.0]))
    opt = impl.SGD([p], lr=0.1, momentum=0.9, nesterov=True)
    p.grad[...] = g1
    opt.step()
    assert_close(p.data, [0.81, 1.38], what="Nesterov SGD after one step (p - lr * (g + momentum * buf) = p - 0.19 g)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_adam_first_step_is_lr_times_sign_of_gradient(impl):
    lr, eps = 0.1, 1e-8
    g = np.array([2.0, -0.5, 1e-8, 0.0, -300.0])
    p = impl.Parameter(np.zeros(5))
    p.grad[...] = g
    impl.Adam([p], lr=lr, eps=eps).step()
    # m_hat = g and v_hat = g^2 after bias correction, so the step is lr * g / (|g| + eps)
    expected = -lr * g / (np.abs(g) + eps)
    assert_close(p.data, expected, rtol=1e-9, atol=1e-15,
                 what="Adam's first step (should be lr * g / (|g| + eps), i.e. lr * sign(g); a gradient equal to eps "
                      "moves half a step. 3x too big: bias correction missing; tiny gradients barely moving: eps "
                      "inside the square root)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_rmsprop_first_step_by_hand(impl):
    p = impl.Parameter(np.zeros(3))
    p.grad[...] = [4.0, -0.25, 0.0]
    impl.RMSprop([p], lr=0.01, alpha=0.99, eps=1e-8).step()
    # sq = 0.01 g^2, so g / (sqrt(sq) + eps) = g / (0.1 |g| + eps) = 10 sign(g)
    expected = -0.01 * np.array([4.0, -0.25, 0.0]) / (0.1 * np.array([4.0, 0.25, 0.0]) + 1e-8)
    assert_close(p.data, expected, rtol=1e-9, atol=1e-15,
                 what="RMSprop's first step (sq = (1 - alpha) g^2 from a zero start, so the step is 10 * lr * sign(g))")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_adamw_decay_is_decoupled_from_the_gradient(impl):
    lr, wd = 0.1, 0.5
    w = np.array([2.0, -1.0, 0.5])
    p = impl.Parameter(w.copy())
    impl.AdamW([p], lr=lr, weight_decay=wd).step()  # zero gradient: only the decay acts
    assert_close(p.data, w * (1 - lr * wd), rtol=1e-12,
                 what="AdamW with a zero gradient must shrink p by exactly (1 - lr * weight_decay); moving by "
                      "lr * sign(p) means the decay went through the gradient (that is Adam with L2, not AdamW)")
    q = impl.Parameter(w.copy())
    impl.Adam([q], lr=lr, weight_decay=wd).step()  # L2: g = wd * p, then Adam normalises it to lr * sign(p)
    assert_close(q.data, w - lr * np.sign(w), rtol=1e-6,
                 what="Adam with weight_decay (L2 added to the gradient) and a zero gradient: p - lr * sign(p)")


# the defaults of the signatures in questions.md (PyTorch's), spelled out: class name -> (defaults only, explicit)
DEFAULTS = {
    "SGD": ({"lr": 0.1}, {"lr": 0.1, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
    "RMSprop": ({}, {"lr": 1e-2, "alpha": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0}),
    "Adam": ({}, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0}),
    "AdamW": ({}, {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2}),
}


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.parametrize("cls_name", by_task(list(DEFAULTS)))
def test_default_hyperparameters_are_the_documented_ones(impl, cls_name):
    by_default, spelled_out = DEFAULTS[cls_name]
    start = np.array([1.5, -2.0, 0.3, 1e-3, -1e-3])
    rng = np.random.default_rng(7)
    # gradients of ordinary size next to ones of the size of eps (1e-8), where eps decides the step
    grads = [rng.standard_normal(5) * np.array([1.0, 1.0, 1.0, 1e-8, 3e-9]) for _ in range(5)]
    paths = []
    for kwargs in (by_default, spelled_out):
        p = impl.Parameter(start.copy())
        opt = getattr(impl, cls_name)([p], **kwargs)
        for g in grads:
            p.grad[...] = g
            opt.step()
        paths.append(p.data.copy())
    assert np.array_equal(paths[0], paths[1]), (
        f"{cls_name}({', '.join(f'{k}={v!r}' for k, v in by_default.items()) or 'params'}) differs from "
        f"{cls_name}({', '.join(f'{k}={v!r}' for k, v in spelled_out.items())}) after 5 steps: check the default "
        f"values of your __init__ (they are PyTorch's)")


# ----------------------------------------------------------------------------------------------------------
# value: schedules and clipping
# ----------------------------------------------------------------------------------------------------------
SCHEDULE_CASES = {  # golden name -> (function, keyword arguments); tabulated at steps 0, 1, 2, ...
    "step": ("step_lr", {"base_lr": 0.1, "step_size": 3, "gamma": 0.5}),
    "cosine": ("cosine_lr", {"base_lr": 0.1, "total_steps": 10, "min_lr": 0.001}),
    "warmup": ("linear_warmup", {"base_lr": 0.1, "warmup_steps": 5}),
    "warmup_cosine": ("warmup_cosine_lr", {"base_lr": 0.1, "warmup_steps": 3, "total_steps": 12, "min_lr": 0.0}),
}


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
@pytest.mark.parametrize("name", list(SCHEDULE_CASES))
def test_schedule_matches_torch_scheduler(impl, golden, name):
    table = golden("schedules")[name]
    fn_name, kwargs = SCHEDULE_CASES[name]
    got = np.array([getattr(impl, fn_name)(s, **kwargs) for s in range(len(table))], dtype=np.float64)
    assert_close(got, table, rtol=RTOL, atol=ATOL, what=f"{fn_name} at steps 0..{len(table) - 1} {kwargs}")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_schedule_landmarks_by_hand(impl):
    assert math.isclose(impl.step_lr(2, 1.0, step_size=3, gamma=0.1), 1.0), "step_lr decays only after step_size steps"
    assert math.isclose(impl.step_lr(3, 1.0, step_size=3, gamma=0.1), 0.1), "step_lr at step == step_size: base * gamma"
    assert math.isclose(impl.step_lr(7, 1.0, step_size=3, gamma=0.1), 0.01), "step_lr at step 7, size 3: base * gamma^2"
    assert math.isclose(impl.cosine_lr(0, 0.2, 100, min_lr=0.02), 0.2), "cosine_lr starts at base_lr"
    assert math.isclose(impl.cosine_lr(50, 0.2, 100, min_lr=0.02), 0.11), (
        "cosine_lr half way is the mean of base_lr and min_lr: cos(pi * step / total), half a period, not a full one")
    assert math.isclose(impl.cosine_lr(100, 0.2, 100, min_lr=0.02), 0.02), "cosine_lr ends at min_lr at total_steps"
    assert math.isclose(impl.linear_warmup(0, 1.0, 4), 0.25), "linear_warmup's first step is base_lr / warmup_steps"
    assert math.isclose(impl.linear_warmup(3, 1.0, 4), 1.0), "linear_warmup reaches base_lr at step warmup_steps - 1"
    assert math.isclose(impl.warmup_cosine_lr(4, 1.0, 4, 12), 1.0), "the cosine part starts at base_lr after warmup"
    assert math.isclose(impl.warmup_cosine_lr(8, 1.0, 4, 12), 0.5), "warmup_cosine half way through its cosine part"


def _clip_params(impl, golden):
    c = golden("clipping")
    params = [impl.Parameter(np.zeros_like(c[f"grad{i}"])) for i in range(3)]
    for i, p in enumerate(params):
        p.grad[...] = c[f"grad{i}"]
    return c, params


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
@pytest.mark.parametrize("max_norm", [1.0, 5.0, 100.0])
def test_clip_grad_norm_matches_torch(impl, golden, max_norm):
    c, params = _clip_params(impl, golden)
    total = impl.clip_grad_norm(params, max_norm)
    assert_close(np.float64(total), c[f"norm_{max_norm:g}.total"], rtol=RTOL,
                 what="clip_grad_norm's return value (the global norm BEFORE clipping)")
    for i, p in enumerate(params):
        assert_close(p.grad, c[f"norm_{max_norm:g}.grad{i}"], rtol=RTOL, atol=ATOL,
                     what=f"gradient {i} after clip_grad_norm(max_norm={max_norm}) (one global norm for all "
                          "gradients, scale max_norm / (total + 1e-6) only when below 1)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_clip_grad_norm_is_global_not_per_parameter(impl):
    a, b = impl.Parameter(np.zeros(2)), impl.Parameter(np.zeros(2))
    a.grad[...] = [3.0, 0.0]
    b.grad[...] = [0.0, 4.0]
    total = impl.clip_grad_norm([a, b], max_norm=1.0)
    assert math.isclose(float(total), 5.0), f"global norm of [3, 0] and [0, 4] is 5, got {total}"
    scale = 1.0 / (5.0 + 1e-6)
    assert_close(a.grad, [3.0 * scale, 0.0], what="first gradient after clipping (per-parameter clipping gives [1, 0])")
    assert_close(b.grad, [0.0, 4.0 * scale], what="second gradient after clipping: both scaled by the SAME factor")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_clip_grad_value_matches_torch(impl, golden):
    c, params = _clip_params(impl, golden)
    impl.clip_grad_value(params, 0.5)
    for i, p in enumerate(params):
        assert_close(p.grad, c[f"value_0.5.grad{i}"], rtol=RTOL, atol=ATOL,
                     what=f"gradient {i} after clip_grad_value(0.5) (clamp each element to [-0.5, 0.5])")


# ----------------------------------------------------------------------------------------------------------
# value + gradient: the Beale function
# ----------------------------------------------------------------------------------------------------------
@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_beale_values(impl, golden):
    assert math.isclose(float(impl.beale(3.0, 0.5)), 0.0, abs_tol=1e-12), "Beale's minimum is 0 at (3, 0.5)"
    assert math.isclose(float(impl.beale(0.0, 0.0)), 1.5 ** 2 + 2.25 ** 2 + 2.625 ** 2), "beale(0, 0) = 14.203125"
    assert math.isclose(float(impl.beale(1.0, 1.5)), 41.25), "beale(1, 1.5) = 2^2 + 3.5^2 + 5^2 = 41.25"
    b = golden("beale")
    assert_close(impl.beale(b["x"], b["y"]), b["f"], rtol=RTOL, what="beale on an array of points (elementwise)")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(9)
def test_beale_grad_matches_torch_autograd(impl, golden):
    b = golden("beale")
    dx, dy = impl.beale_grad(b["x"], b["y"])
    assert_close(dx, b["dx"], rtol=1e-9, atol=1e-12, what="beale_grad's df/dx (compare with torch.autograd)")
    assert_close(dy, b["dy"], rtol=1e-9, atol=1e-12, what="beale_grad's df/dy (compare with torch.autograd)")
    dx, dy = impl.beale_grad(3.0, 0.5)
    assert abs(float(dx)) < 1e-12 and abs(float(dy)) < 1e-12, f"the gradient is zero at the minimum, got ({dx}, {dy})"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(9)
@pytest.mark.parametrize("point", [(1.0, 1.5), (-0.7, 0.3), (2.0, -1.2), (3.5, 0.9)])
def test_beale_grad_matches_finite_differences(impl, point):
    xy = np.array(point)
    numeric = numerical_gradient(lambda v: float(impl.beale(v[0], v[1])), xy)
    analytic = np.array([float(d) for d in impl.beale_grad(*point)])
    err = rel_error(analytic, numeric)
    assert err < 1e-7, (f"beale_grad{point} = {analytic} but finite differences give {numeric} "
                        f"(relative error {err:.1e}): differentiate each squared term with the chain rule")
