"""Topic 03 edge tests: zero and missing gradients, lr = 0, empty parameter lists, NaN, bad arguments."""

import math
from types import SimpleNamespace

import numpy as np
import pytest

from dlfs.testing import assert_close

OPTIMIZERS = {  # id -> (class name, keyword arguments)
    "sgd": ("SGD", {"lr": 0.1}),
    "momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}),
    "nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "rmsprop": ("RMSprop", {"lr": 0.01, "momentum": 0.5}),
    "adam": ("Adam", {"lr": 0.01}),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.0}),
}
ALL_CLASSES = ["SGD", "RMSprop", "Adam", "AdamW"]


TASK_OF_OPTIMIZER = {"SGD": 3, "RMSprop": 4, "Adam": 5, "AdamW": 6}  # the "## Task n" of questions.md


def by_task(cases):
    """Parametrize cases {id: (class name, ...)} (or a list of class names), each marked with its optimizer's task."""
    specs = cases.items() if isinstance(cases, dict) else ((c, (c,)) for c in cases)
    return [pytest.param(name, marks=pytest.mark.task(TASK_OF_OPTIMIZER[spec[0]])) for name, spec in specs]


def make_optimizer(impl, name, params, **overrides):
    cls_name, kwargs = OPTIMIZERS[name]
    return getattr(impl, cls_name)(params, **{**kwargs, **overrides})


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("name", by_task(OPTIMIZERS))
def test_zero_gradient_leaves_parameters_unchanged(impl, name):
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    p = impl.Parameter(w.copy())
    opt = make_optimizer(impl, name, [p])
    for _ in range(3):
        opt.step()  # grad stays at its initial zeros
    assert np.all(np.isfinite(p.data)), "a zero gradient produced NaN/Inf: is eps added to the denominator (0 / 0)?"
    assert_close(p.data, w, rtol=0, atol=0, what=f"{name} after 3 steps with zero gradients (nothing should move)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("name", by_task(OPTIMIZERS))
def test_grad_none_is_skipped(impl, name):
    frozen = SimpleNamespace(data=np.array([1.0, 2.0]), grad=None)  # e.g. a Topic 02 Tensor before backward
    live = impl.Parameter(np.array([1.0, 2.0]))
    opt = make_optimizer(impl, name, [frozen, live])
    live.grad[...] = [0.5, -0.5]
    opt.step()
    assert_close(frozen.data, [1.0, 2.0], rtol=0, atol=0, what="a parameter whose grad is None (must be skipped)")
    assert not np.allclose(live.data, [1.0, 2.0]), "the parameter that has a gradient did not move"
    opt.zero_grad()
    assert frozen.grad is None, "zero_grad() must leave a grad of None alone"
    assert not live.grad.any(), "zero_grad() did not zero the gradient"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_adam_state_starts_when_a_gradient_first_arrives(impl):
    late = SimpleNamespace(data=np.array([0.0, 0.0]), grad=None)
    early = impl.Parameter(np.array([0.0]))
    opt = impl.Adam([early, late], lr=0.1)
    for _ in range(3):
        early.grad[...] = 1.0
        opt.step()
    late.grad = np.array([2.0, -3.0])
    opt.step()  # the first step of `late`: its own t = 1, so the step is lr * sign(g)
    assert_close(late.data, [-0.1, 0.1], rtol=1e-6,
                 what="first Adam step of a parameter that had no gradient before (t counts per parameter, like "
                      "torch: a skipped parameter's step counter must not advance)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("cls_name", by_task(ALL_CLASSES))
def test_lr_zero_changes_nothing(impl, cls_name):
    w = np.array([1.0, -2.0, 3.0])
    p = impl.Parameter(w.copy())
    kwargs = {"weight_decay": 0.1}
    if cls_name == "SGD":
        kwargs["momentum"] = 0.9
    opt = getattr(impl, cls_name)([p], lr=0.0, **kwargs)
    p.grad[...] = [1.0, 2.0, -3.0]
    opt.step()
    opt.step()
    assert_close(p.data, w, rtol=0, atol=0, what=f"{cls_name} with lr=0 (and weight decay) must not move anything")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("cls_name", by_task(ALL_CLASSES))
def test_empty_parameter_list_is_an_error(impl, cls_name):
    with pytest.raises(ValueError):
        getattr(impl, cls_name)([], lr=0.1)
    used_up = (p for p in [impl.Parameter(np.zeros(2))])
    list(used_up)  # the classic: a generator consumed before the optimizer sees it
    with pytest.raises(ValueError):
        getattr(impl, cls_name)(used_up, lr=0.1)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("name", by_task(OPTIMIZERS))
def test_nan_gradient_propagates(impl, name):
    p = impl.Parameter(np.array([1.0, 2.0, 3.0]))
    opt = make_optimizer(impl, name, [p])
    p.grad[...] = [0.1, np.nan, -0.2]
    opt.step()
    assert np.isnan(p.data[1]), "a NaN gradient must show up as a NaN parameter, not be silently skipped or zeroed"
    assert np.all(np.isfinite(p.data[[0, 2]])), "a NaN in one element leaked into the other elements"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_invalid_hyperparameters_raise(impl):
    p = [impl.Parameter(np.zeros(2))]
    cases = [
        lambda: impl.SGD(p, lr=-0.1),
        lambda: impl.SGD(p, lr=0.1, momentum=-0.5),
        lambda: impl.SGD(p, lr=0.1, nesterov=True),  # Nesterov without momentum
        lambda: impl.RMSprop(p, lr=0.01, eps=-1e-8),
        lambda: impl.Adam(p, lr=1e-3, betas=(1.0, 0.999)),
        lambda: impl.Adam(p, lr=1e-3, betas=(0.9, -0.1)),
        lambda: impl.AdamW(p, lr=-1e-3),
    ]
    for k, make in enumerate(cases):
        with pytest.raises(ValueError):
            make()
            pytest.fail(f"case {k}: an invalid hyperparameter was accepted")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_gradient_of_the_wrong_shape_is_an_error(impl):
    holder = SimpleNamespace(data=np.zeros((2, 3)), grad=np.ones(3))  # would broadcast silently
    opt = impl.SGD([holder], lr=0.1)
    with pytest.raises(ValueError):
        opt.step()


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_scalar_parameter_and_duck_typed_objects(impl):
    s = impl.Parameter(2.0)
    assert np.ndim(s.data) == 0 and s.data.dtype == np.float64, "Parameter(2.0) should hold a 0-d float64 array"
    t = SimpleNamespace(data=np.array([1.0, 1.0]), grad=np.array([1.0, -1.0]))  # anything with .data and .grad
    opt = impl.SGD([s, t], lr=0.5)
    s.grad[...] = 4.0
    opt.step()
    assert math.isclose(float(s.data), 0.0), f"scalar parameter: 2 - 0.5 * 4 = 0, got {float(s.data)}"
    assert_close(t.data, [0.5, 1.5], what="an object with .data and .grad (duck typing)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_zero_grad_works_in_place(impl):
    p = impl.Parameter(np.ones((2, 2)))
    grad = p.grad
    grad += 3.0  # how a layer's backward accumulates
    p.zero_grad()
    assert p.grad is grad and not grad.any(), "Parameter.zero_grad() must zero the same array in place"
    grad += 1.0
    impl.SGD([p], lr=0.1).zero_grad()
    assert p.grad is grad and not grad.any(), "Optimizer.zero_grad() must zero every p.grad in place"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_clip_all_zero_gradients(impl):
    params = [impl.Parameter(np.zeros(3)), impl.Parameter(np.zeros((2, 2)))]
    total = impl.clip_grad_norm(params, max_norm=1.0)
    assert float(total) == 0.0, f"the norm of all-zero gradients is 0, got {total}"
    assert all(np.all(p.grad == 0) for p in params), "clipping zero gradients produced non-zeros or NaN (0 / 0?)"
    impl.clip_grad_value(params, 1.0)
    assert all(np.all(p.grad == 0) for p in params), "clip_grad_value changed zero gradients"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_clip_with_no_gradients_at_all(impl):
    assert float(impl.clip_grad_norm([], 1.0)) == 0.0, "clip_grad_norm([]) should return 0.0"
    nothing = [SimpleNamespace(data=np.ones(2), grad=None)]
    assert float(impl.clip_grad_norm(nothing, 1.0)) == 0.0, "clip_grad_norm with only grad=None should return 0.0"
    impl.clip_grad_value(nothing, 1.0)  # must not fail
    assert nothing[0].grad is None, "clip_grad_value must skip a grad of None"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_clip_grad_norm_reports_nan(impl):
    a, b = impl.Parameter(np.zeros(2)), impl.Parameter(np.zeros(2))
    a.grad[...] = [1.0, np.nan]
    b.grad[...] = [3.0, 4.0]
    total = impl.clip_grad_norm([a, b], max_norm=1.0)
    assert math.isnan(float(total)), f"a NaN gradient must give a NaN total norm (so the caller sees it), got {total}"
    with pytest.raises(ValueError):
        impl.clip_grad_norm([b], max_norm=-1.0)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_schedule_boundaries_and_bad_arguments(impl):
    assert math.isclose(impl.cosine_lr(15, 0.1, 10, min_lr=0.01), 0.01), (
        "past total_steps cosine_lr stays at min_lr (it must not climb back up)")
    assert math.isclose(impl.linear_warmup(0, 0.1, 0), 0.1), "linear_warmup with warmup_steps=0 is just base_lr"
    assert math.isclose(impl.linear_warmup(50, 0.1, 5), 0.1), "after warmup, linear_warmup returns base_lr"
    assert math.isclose(impl.warmup_cosine_lr(20, 0.1, 2, 10, min_lr=0.001), 0.001), "past total_steps: min_lr"
    bad = [
        lambda: impl.step_lr(-1, 0.1, 3),
        lambda: impl.step_lr(0, 0.1, 0),
        lambda: impl.cosine_lr(0, 0.1, 0),
        lambda: impl.linear_warmup(0, 0.1, -2),
        lambda: impl.warmup_cosine_lr(0, 0.1, 20, 10),
        lambda: impl.warmup_cosine_lr(0, 0.1, 0, 0),   # total_steps = 0 is rejected even without warmup
    ]
    for k, call in enumerate(bad):
        with pytest.raises(ValueError):
            call()
            pytest.fail(f"case {k}: a bad schedule argument was accepted")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_load_state_dict_rejects_a_mismatch(impl):
    p = impl.Parameter(np.zeros(3))
    adam = impl.Adam([p], lr=0.1)
    p.grad[...] = 1.0
    adam.step()
    sgd = impl.SGD([impl.Parameter(np.zeros(3))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError):
        sgd.load_state_dict(adam.state_dict())  # Adam's buffers are not SGD's
    other = impl.Adam([impl.Parameter(np.zeros(4))], lr=0.1)
    with pytest.raises(ValueError):
        other.load_state_dict(adam.state_dict())  # shape (3,) into a (4,) parameter
