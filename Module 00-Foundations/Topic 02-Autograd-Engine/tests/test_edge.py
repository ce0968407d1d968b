"""Topic 02 edge tests: the defined behaviours of questions.md, odd shapes, NaN, and clear errors."""

import math
import warnings

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape


def grad_of(tensor, what="x"):
    assert tensor.grad is not None, f"{what}.grad is None after backward(): the backward pass never reached {what}"
    return as_array(tensor.grad).astype(np.float64)


def expect_runtime_error(call, words):
    """RuntimeError whose message mentions one of `words` (NotImplementedError, a RuntimeError too, passes through)."""
    try:
        call()
    except NotImplementedError:
        raise
    except RuntimeError as err:
        assert any(w in str(err).lower() for w in words), f"RuntimeError raised, but its message does not say why: {err}"
    else:
        pytest.fail("expected a RuntimeError, nothing was raised")


# =============================================================================================
# Part A: Value
# =============================================================================================

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_partA_value_converts_int_to_float(impl):
    v = impl.Value(3)
    assert isinstance(v.data, float), f"Value(3).data is {type(v.data).__name__}, expected float"
    half = v / 2
    assert half.data == 1.5, f"Value(3) / 2 = 1.5, got {half.data} (integer division?)"
    assert v.grad == 0.0, f"a fresh Value has grad 0.0, got {v.grad}"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_partA_value_power_needs_a_number_exponent(impl):
    with pytest.raises(TypeError):
        impl.Value(2.0) ** impl.Value(3.0)
    with pytest.raises(TypeError):
        impl.Value(2.0) ** 2j        # a complex exponent: not a real number either


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_partA_value_backward_twice_accumulates_into_the_leaves(impl):
    a, b = impl.Value(2.0), impl.Value(-3.0)
    y = (a * b + a).tanh() * 2
    y.backward()
    first = (a.grad, b.grad)
    y.backward()
    assert math.isclose(a.grad, 2 * first[0], rel_tol=1e-12) and math.isclose(b.grad, 2 * first[1], rel_tol=1e-12), (
        f"after two backward() calls the leaf grads must be exactly doubled {tuple(2 * g for g in first)}, "
        f"got {(a.grad, b.grad)} (leaves accumulate; intermediate grads must restart from 0 in each pass)")
    x = impl.Value(3.0)               # a leaf that is its own output
    x.backward()
    x.backward()
    assert x.grad == 2.0, f"x.backward() twice on a leaf x: x.grad = 1 + 1 = 2 (a leaf accumulates), got {x.grad}"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_partA_value_nan_propagates(impl):
    a, b = impl.Value(float("nan")), impl.Value(2.0)
    y = a * b
    assert math.isnan(y.data), "nan * 2 must be nan"
    y.backward()
    assert math.isnan(b.grad), f"d(a*b)/db = a = nan, got {b.grad}"
    assert a.grad == 2.0, f"d(a*b)/da = b = 2 even when a is nan, got {a.grad}"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_partA_relu_at_negative_and_zero_has_zero_slope(impl):
    for x in (-2.0, 0.0):
        v = impl.Value(x)
        r = v.relu()
        r.backward()
        assert r.data == 0.0 and v.grad == 0.0, f"relu({x}) = 0 with slope 0, got {r.data} and {v.grad}"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_partA_log_at_0_with_a_zero_upstream_gradient_gives_nan_like_pytorch(impl):
    x = impl.Value(0.0)
    y = x.log() * 0.0                 # upstream 0 into log's slope 1/0: 0 / 0 is nan in IEEE and in PyTorch
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y.backward()
    assert math.isnan(x.grad), f"d(log(x) * 0)/dx at x = 0 is 0 / 0 = nan in PyTorch, got {x.grad}"


def same_float(got, expected):
    """Equal as IEEE numbers: nan equals nan, inf equals inf (with its sign)."""
    return (math.isnan(got) and math.isnan(expected)) or got == expected


def value_and_slope(impl, fn, x):
    """fn(Value(x)).data and d/dx, with every warning turned into an error (PyTorch does not warn)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = impl.Value(x)
        y = fn(v)
        y.backward()
        return y.data, v.grad


IEEE_HELP = ("degenerate inputs follow IEEE-754 like PyTorch: no exception, no warning "
             "(questions.md, behaviour 10; hint 2 shows how)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("x", [0.0, 2.0, -3.0])
def test_partA_x_to_the_power_0_has_slope_0_even_at_0(impl, x):
    try:
        data, slope = value_and_slope(impl, lambda v: v ** 0, x)
    except ZeroDivisionError:
        pytest.fail(f"Value({x}) ** 0 then backward() raised ZeroDivisionError: the slope of x^0 = 1 is 0 "
                    "everywhere; p * x ** (p - 1) with p = 0 computes 0 * 0 ** -1 at x = 0, so treat p = 0 apart")
    assert (data, slope) == (1.0, 0.0), (
        f"x^0 at x = {x}: value {data:.6g} and slope {slope:.6g}, expected 1 and 0 (PyTorch gives slope 0; "
        "0 * inf would be nan)")


VALUE_IEEE_CASES = {   # name: (task, expression, x, (value, slope) as PyTorch gives them)
    "x**-1 at 0": (3, lambda v: v ** -1, 0.0, (math.inf, -math.inf)),
    "1/x at 0": (3, lambda v: 1 / v, 0.0, (math.inf, -math.inf)),
    "2/x at 0": (3, lambda v: 2.0 / v, 0.0, (math.inf, -math.inf)),
    "sqrt (x**0.5) at 0": (3, lambda v: v ** 0.5, 0.0, (0.0, math.inf)),
    "x**0.5 at -4": (3, lambda v: v ** 0.5, -4.0, (math.nan, math.nan)),
    "x**401 at -10 (overflow)": (3, lambda v: v ** 401, -10.0, (-math.inf, math.inf)),
    "log at 0": (4, lambda v: v.log(), 0.0, (-math.inf, math.inf)),
    "log at -1": (4, lambda v: v.log(), -1.0, (math.nan, -1.0)),
    "exp at 1000 (overflow)": (4, lambda v: v.exp(), 1000.0, (math.inf, math.inf)),
    "exp at -1000": (4, lambda v: v.exp(), -1000.0, (0.0, 0.0)),
}


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.parametrize("case", [pytest.param(k, marks=pytest.mark.task(task))
                                  for k, (task, *_) in VALUE_IEEE_CASES.items()])
def test_partA_degenerate_inputs_follow_ieee_like_pytorch(impl, case):
    _, fn, x, (value, slope) = VALUE_IEEE_CASES[case]
    try:
        data, grad = value_and_slope(impl, fn, x)
    except NotImplementedError:
        raise
    except (ArithmeticError, ValueError, TypeError, RuntimeWarning) as err:
        pytest.fail(f"{case}: {type(err).__name__}: {err}. {IEEE_HELP}: value {value}, slope {slope}")
    assert same_float(data, value) and same_float(grad, slope), (
        f"{case}: value {data:.6g} and slope {grad:.6g}, PyTorch gives {value} and {slope}. {IEEE_HELP}")


# =============================================================================================
# Part B: tensors on vectors
# =============================================================================================

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_partB_integer_data_becomes_float(impl):
    t = impl.Tensor([1, 2, 3])
    data = as_array(t.data)
    assert np.issubdtype(data.dtype, np.floating), f"Tensor([1, 2, 3]).data has dtype {data.dtype}, expected float"
    assert_close((t / 2).data, [0.5, 1.0, 1.5], what="Tensor([1, 2, 3]) / 2 (integer division?)")
    n = impl.Tensor(np.array([4, 5], dtype=np.int64), requires_grad=True)
    (n ** 2).sum().backward()
    assert_close(grad_of(n, "n"), [8.0, 10.0], what="grad of an integer-built tensor")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_partB_float32_data_stays_float32(impl):
    x = impl.Tensor(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    y = x * 2.0 + 1
    y.sum().backward()
    assert_close(grad_of(x), [2.0, 2.0, 2.0], what="x.grad")
    if isinstance(x.data, np.ndarray):   # NumPy-backed levels keep the dtype; pure Python has one float type
        assert x.data.dtype == np.float32, f"float32 input became {x.data.dtype}"
        assert as_array(y.data).dtype == np.float32, f"float32 * 2.0 + 1 became {as_array(y.data).dtype}: " \
                                                     "convert Python numbers to the tensor's dtype"
        assert as_array(x.grad).dtype == np.float32, f"x.grad is {as_array(x.grad).dtype}, expected float32"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_partB_backward_on_a_non_scalar_needs_grad(impl):
    x = impl.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError):
        y.backward()


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_partB_backward_with_a_grad_of_the_wrong_shape_raises(impl):
    x = impl.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError):
        y.backward(np.ones(4))


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_partB_backward_on_a_tensor_without_grad_raises(impl):
    x = impl.Tensor(np.array([1.0, 2.0]))
    y = (x * x).sum()
    expect_runtime_error(y.backward, ("grad",))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_partB_unused_leaf_keeps_grad_none(impl):
    x = impl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    unused = impl.Tensor(np.array([5.0, 6.0]), requires_grad=True)
    (x * x).sum().backward()
    assert unused.grad is None, f"a leaf outside the graph keeps grad None, got {unused.grad!r}"
    zeroed = impl.Tensor(np.array([5.0, 6.0]), requires_grad=True)
    (x * 0.0 + zeroed * 0.0).sum().backward()
    assert_close(grad_of(zeroed, "zeroed"), [0.0, 0.0], what="a leaf in the graph with zero slope gets zeros, not None")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_partB_requires_grad_false_gets_no_grad(impl):
    x = impl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    const = impl.Tensor(np.array([3.0, 4.0]))
    (x * const).sum().backward()
    assert const.grad is None, f"a tensor created with requires_grad=False must keep grad None, got {const.grad!r}"
    assert_close(grad_of(x), [3.0, 4.0], what="x.grad")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_partB_backward_twice_accumulates_and_zero_grad_resets(impl):
    x = impl.Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = (x * x * 3 + x.tanh()).sum()
    y.backward(retain_graph=True)
    once = grad_of(x).copy()   # copy: .grad may be updated in place by the next backward()
    y.backward()
    assert_close(grad_of(x), 2 * once, rtol=1e-12,
                 what="x.grad after backward() twice (leaves ACCUMULATE: it must double)")
    x.zero_grad()
    assert x.grad is None or not np.any(as_array(x.grad)), f"zero_grad() must reset grad, got {x.grad!r}"
    z = (x * x * 3 + x.tanh()).sum()
    z.backward()
    assert_close(grad_of(x), once, rtol=1e-12, what="x.grad after zero_grad() and one more backward()")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_partB_detach_cuts_the_graph(impl):
    x = impl.Tensor(np.array([2.0, 3.0]), requires_grad=True)
    d = x.detach()
    assert not d.requires_grad, "detach() returns a tensor with requires_grad=False"
    assert_close(d.data, [2.0, 3.0], what="detach() keeps the data")
    (d * x).sum().backward()
    assert_close(grad_of(x), [2.0, 3.0], what="x.grad for sum(x.detach() * x): only the second path counts")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_partB_reversed_operations_with_numbers_and_arrays(impl):
    xv = np.array([1.0, 2.0, 4.0])
    cases = [("2 - x", lambda x: 2 - x, 2 - xv, -np.ones(3)), ("1 / x", lambda x: 1 / x, 1 / xv, -1 / xv ** 2),
             ("array + x", lambda x: np.array([1.0, 2.0, 3.0]) + x, xv + [1, 2, 3], np.ones(3)),
             ("array * x", lambda x: np.array([1.0, 2.0, 3.0]) * x, xv * [1, 2, 3], np.array([1.0, 2.0, 3.0])),
             ("array - x", lambda x: np.array([1.0, 2.0, 3.0]) - x, [1, 2, 3] - xv, -np.ones(3))]
    for text, fn, value, slope in cases:
        x = impl.Tensor(xv.copy(), requires_grad=True)
        out = fn(x)
        assert isinstance(out, impl.Tensor), (f"{text} returned {type(out).__name__}, not a Tensor "
                                              "(set __array_ufunc__ = None and write the reversed operators)")
        assert_close(out.data, value, what=text)
        out.sum().backward()
        assert_close(grad_of(x), slope, what=f"d(sum({text}))/dx")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_partB_nan_stays_in_its_own_element(impl):
    x = impl.Tensor(np.array([1.0, np.nan, 3.0]), requires_grad=True)
    y = impl.Tensor(np.array([2.0, 5.0, 4.0]), requires_grad=True)
    s = (x * y).sum()
    assert math.isnan(float(as_array(s.data))), "a sum with a NaN is NaN"
    s.backward()
    assert_close(grad_of(x), [2.0, 5.0, 4.0], what="x.grad = y: finite, even where x is NaN")
    g = grad_of(y, "y")
    assert np.isnan(g[1]) and np.allclose(g[[0, 2]], [1.0, 3.0]), (
        f"y.grad = x must be [1, nan, 3]: NaN in its own element only, got {g}")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_partB_backward_does_not_change_the_data(impl):
    xv = np.array([0.5, -1.0, 2.0])
    x = impl.Tensor(xv.copy(), requires_grad=True)
    y = x.tanh() * x
    before = as_array(y.data).copy()
    y.sum().backward()
    assert_close(x.data, xv, what="x.data after backward()")
    assert_close(y.data, before, what="y.data after backward()")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_partB_pow_needs_a_number_exponent(impl):
    x = impl.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with pytest.raises(TypeError):
        x ** impl.Tensor(np.array([2.0, 2.0]))


TENSOR_IEEE_CASES = {   # name: (task, expression, x, value, slope) as PyTorch gives them
    "x**0": (6, lambda t: t ** 0, [0.0, 2.0, -3.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]),
    "x**-1": (6, lambda t: t ** -1, [0.0, 2.0], [np.inf, 0.5], [-np.inf, -0.25]),
    "1/x": (6, lambda t: 1.0 / t, [0.0, 2.0], [np.inf, 0.5], [-np.inf, -0.25]),
    "x**0.5": (6, lambda t: t ** 0.5, [0.0, 4.0, -4.0], [0.0, 2.0, np.nan], [np.inf, 0.25, np.nan]),
    "log": (8, lambda t: t.log(), [0.0, -1.0, 1.0], [-np.inf, np.nan, 0.0], [np.inf, -1.0, 1.0]),
    "exp": (8, lambda t: t.exp(), [1000.0, -1000.0, 0.0], [np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0]),
}


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.parametrize("case", [pytest.param(k, marks=pytest.mark.task(task))
                                  for k, (task, *_) in TENSOR_IEEE_CASES.items()])
def test_partB_degenerate_inputs_follow_ieee_like_pytorch(impl, case):
    _, fn, x, value, slope = TENSOR_IEEE_CASES[case]
    t = impl.Tensor(np.array(x), requires_grad=True)
    with np.errstate(all="ignore"):   # NumPy may warn about these values (questions.md, behaviour 10)
        y = fn(t)
        y.sum().backward()
    got = as_array(y.data).astype(np.float64)
    assert np.array_equal(got, value, equal_nan=True), (
        f"{case} at {x}: got {got}, PyTorch gives {value}. {IEEE_HELP}")
    g = grad_of(t)
    assert np.array_equal(g, slope, equal_nan=True), (
        f"d({case})/dx at {x}: got {g}, PyTorch gives {slope} (x**0 has slope 0 everywhere: p * x**(p-1) "
        f"would be 0 * inf = nan at 0). {IEEE_HELP}")


# =============================================================================================
# Part C: shapes
# =============================================================================================

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_partB_relu_slope_is_zero_at_zero(impl):
    x = impl.Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    x.relu().sum().backward()
    assert_close(grad_of(x), [0.0, 0.0, 1.0], what="relu's slope at -1, 0 and 2 (0 at x = 0, as in PyTorch)")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(9)
def test_partC_zero_dimensional_tensors(impl):
    x = impl.Tensor(3.0, requires_grad=True)
    assert tuple(x.shape) == (), f"Tensor(3.0).shape is {x.shape}, expected ()"
    y = (x ** 2) * 2.0 + 1.0
    assert_shape(y.data, (), "2x^2 + 1 for a 0-d x")
    y.backward()
    assert_close(grad_of(x), 12.0, what="d(2x^2 + 1)/dx at 3")
    s = impl.Tensor(2.0, requires_grad=True)
    v = impl.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    (s * v).sum().backward()
    assert_shape(grad_of(s, "s"), (), "grad of a 0-d tensor broadcast over a vector")
    assert_close(grad_of(s, "s"), 6.0, what="d(sum(s * v))/ds = sum(v)")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(9)
@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.task(10 if c.startswith("matmul") else 9))
                                  for c in ["add (3,4)+(3,)", "mul (2,3)*(3,2)", "matmul (3,4)@(3,4)", "matmul (3,)@(4,)"]])
def test_partC_incompatible_shapes_raise_value_error(impl, case):
    shapes = {"add (3,4)+(3,)": ((3, 4), (3,)), "mul (2,3)*(3,2)": ((2, 3), (3, 2)),
              "matmul (3,4)@(3,4)": ((3, 4), (3, 4)), "matmul (3,)@(4,)": ((3,), (4,))}[case]
    a, b = impl.Tensor(np.ones(shapes[0]), requires_grad=True), impl.Tensor(np.ones(shapes[1]))
    op = (lambda p, q: p @ q) if case.startswith("matmul") else (lambda p, q: p + q if "add" in case else p * q)
    with pytest.raises(ValueError):
        op(a, b)


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(10)
def test_partC_empty_batch(impl):
    X = impl.Tensor(np.zeros((0, 3)))
    W = impl.Tensor(np.ones((3, 2)), requires_grad=True)
    out = X @ W
    assert tuple(out.shape) == (0, 2), f"(0, 3) @ (3, 2) has shape {out.shape}, expected (0, 2)"
    total = out.sum()
    assert_close(total.data, 0.0, what="sum over an empty batch")
    total.backward()
    assert_close(grad_of(W, "W"), np.zeros((3, 2)), what="W.grad for an empty batch")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(10)
def test_partC_batch_of_one(impl):
    xv, Wv, bv = np.array([[1.0, 2.0, 3.0]]), np.arange(6.0).reshape(3, 2), np.array([0.5, -0.5])
    x = impl.Tensor(xv, requires_grad=True)
    W, b = impl.Tensor(Wv, requires_grad=True), impl.Tensor(bv, requires_grad=True)
    (x @ W + b).sum().backward()
    assert_close(grad_of(b, "b"), [1.0, 1.0], what="b.grad for a batch of one")
    assert_close(grad_of(W, "W"), np.repeat(xv.T, 2, axis=1), what="W.grad = x.T @ ones")
    assert_close(grad_of(x), Wv.sum(axis=1)[None, :], what="x.grad = ones @ W.T")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(9)
def test_partC_unbroadcast_rejects_shapes_that_do_not_broadcast(impl):
    with pytest.raises(ValueError):
        impl.unbroadcast(np.ones((3, 4)), (5,))


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(11)
def test_partC_bad_reshape_and_bad_axis_raise_value_error(impl):
    x = impl.Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(ValueError):
        x.reshape(5, 2)
    with pytest.raises(ValueError):
        x.sum(axis=2)
    with pytest.raises(ValueError):
        x.transpose(0, 0)
