"""Topic 02 basic tests: shapes, values (by hand and against PyTorch) and gradients (finite differences).

Names carry the part of questions.md they check: test_partA_* (Value), test_partB_* (1-D tensors),
test_partC_* (broadcasting, matmul, reshape, transpose, axis reductions).
"""

import math

import numpy as np
import pytest

from dlfs.finite_difference_checker import TensorLikeArray, check_autograd, numerical_jacobian_vector, relative_error
from dlfs.testing import as_array, assert_close, assert_shape

TOL = 1e-5   # relative error allowed between an analytic and a numerical gradient (float64)


def grad_of(tensor, what="x"):
    assert tensor.grad is not None, (
        f"{what}.grad is None after backward(): the backward pass never reached {what} "
        "(is it in the graph, and does every operation record its inputs?)")
    return as_array(tensor.grad).astype(np.float64)


def check_tensor_op(impl, fn, arrays, seed=0):
    """Backpropagate a random upstream gradient through fn(*leaves); compare with finite differences."""
    leaves = [impl.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    expected = np.asarray(fn(*[a.view(TensorLikeArray) for a in arrays]))
    assert_shape(out.data, expected.shape, "output")
    assert_close(out.data, expected, rtol=1e-10, atol=1e-12, what="forward output")
    upstream = np.asarray(np.random.default_rng(seed).standard_normal(expected.shape))
    out.backward(upstream)
    for k, (leaf, a) in enumerate(zip(leaves, arrays)):
        def f(x, k=k):
            args = [x.view(TensorLikeArray) if i == k else arr.view(TensorLikeArray) for i, arr in enumerate(arrays)]
            return np.asarray(fn(*args))

        numeric = numerical_jacobian_vector(f, a.copy(), upstream)
        analytic = grad_of(leaf, f"input {k}")
        assert analytic.shape == a.shape, (
            f"input {k}: grad has shape {analytic.shape} but the input has shape {a.shape}: "
            "a gradient always has the shape of its tensor (sum broadcast axes back with unbroadcast)")
        err = relative_error(analytic, numeric)
        assert err < TOL, (f"input {k}: gradient differs from finite differences (relative error {err:.1e}); "
                           f"got {analytic.ravel()[:4]}..., expected {numeric.ravel()[:4]}...")


# =============================================================================================
# Part A: Value
# =============================================================================================

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_partA_a_times_b_plus_c_by_hand(impl):
    a, b, c = impl.Value(2.0), impl.Value(-3.0), impl.Value(10.0)
    f = a * b + c
    assert f.data == 4.0, f"2 * -3 + 10 = 4, got {f.data}"
    f.backward()
    assert a.grad == -3.0, f"d(ab+c)/da = b = -3, got {a.grad}"
    assert b.grad == 2.0, f"d(ab+c)/db = a = 2, got {b.grad}"
    assert c.grad == 1.0, f"d(ab+c)/dc = 1, got {c.grad}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_partA_linear_y_equals_ax_plus_b(impl):
    a, x, b = impl.Value(3.0), impl.Value(-2.0), impl.Value(0.5)
    y = a * x + b
    y.backward()
    assert y.data == -5.5
    assert (x.grad, a.grad, b.grad) == (3.0, -2.0, 1.0), (
        f"y = ax + b: dy/dx = a = 3, dy/da = x = -2, dy/db = 1; got {x.grad}, {a.grad}, {b.grad}")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_partA_op_labels_and_repr_for_the_graph_drawing(impl):
    """visualization.py labels each node of the graph with its _op and prints Values with repr."""
    a, b = impl.Value(2.0), impl.Value(3.0)
    labels = {"a leaf": (a, ""), "a + b": (a + b, "+"), "a * b": (a * b, "*"), "a ** 2": (a ** 2, "**2"),
              "a ** 0.5": (a ** 0.5, "**0.5"), "a.exp()": (a.exp(), "exp"), "a.log()": (a.log(), "log"),
              "a.tanh()": (a.tanh(), "tanh"), "a.relu()": (a.relu(), "relu")}
    for name, (node, label) in labels.items():
        assert node._op == label, f"{name} should have _op {label!r} (questions.md, Task 1), got {node._op!r}"
    assert repr(impl.Value(2.0)) == "Value(data=2, grad=0)", (
        f"repr(Value(2.0)) should be 'Value(data=2, grad=0)', as micrograd's, got {repr(impl.Value(2.0))!r}")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
@pytest.mark.parametrize("fn, slope", [("log", 0.5), ("relu", 1.0), ("exp", math.exp(2.0)),
                                       ("tanh", 1 - math.tanh(2.0) ** 2)])
def test_partA_functions_add_to_a_gradient_already_there(impl, fn, slope):
    for order in ("f(x) + 3x", "3x + f(x)"):       # either backward may run first: both must add, never assign
        x = impl.Value(2.0)
        f = getattr(x, fn)()
        y = f + x * 3 if order == "f(x) + 3x" else x * 3 + f
        y.backward()
        assert math.isclose(x.grad, slope + 3, rel_tol=1e-12), (
            f"y = {order.replace('f', fn)} at x = 2: dy/dx = {slope + 3:.6g}, got {x.grad:.6g}: "
            f"{fn}'s backward must add to x.grad (+=), not overwrite it")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_partA_x_squared_both_ways(impl):
    x = impl.Value(3.0)
    (x ** 2).backward()
    assert x.grad == 6.0, f"d(x^2)/dx = 2x = 6 at x = 3, got {x.grad}"
    z = impl.Value(3.0)
    (z * z).backward()
    assert z.grad == 6.0, (
        f"z * z uses z twice: its grad must be z + z = 6, got {z.grad} (did you overwrite instead of adding?)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_partA_node_used_twice_gets_both_contributions(impl):
    a = impl.Value(-2.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0, f"b = a + a: db/da = 2, got {a.grad}: each use of a must ADD its contribution"
    p, q = impl.Value(2.0), impl.Value(5.0)
    y = p * q + p * p * q      # dy/dp = q + 2pq = 25, dy/dq = p + p^2 = 6
    y.backward()
    assert (p.grad, q.grad) == (25.0, 6.0), f"expected dy/dp = 25 and dy/dq = 6, got {p.grad}, {q.grad}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_partA_reversed_ops_with_numbers(impl):
    a = impl.Value(4.0)
    cases = [("2 + a", lambda v: 2 + v, 6.0, 1.0), ("2 - a", lambda v: 2 - v, -2.0, -1.0),
             ("2 * a", lambda v: 2 * v, 8.0, 2.0), ("2 / a", lambda v: 2 / v, 0.5, -2 / 16),
             ("a - 1", lambda v: v - 1, 3.0, 1.0), ("-a", lambda v: -v, -4.0, -1.0)]
    for text, fn, value, slope in cases:
        a = impl.Value(4.0)
        out = fn(a)
        assert isinstance(out, impl.Value), f"{text} returned {type(out).__name__}, not a Value"
        out.backward()
        assert math.isclose(out.data, value) and math.isclose(a.grad, slope), (
            f"{text} at a = 4: expected value {value} and derivative {slope}, got {out.data} and {a.grad}")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_partA_tanh_derivative_uses_the_output(impl):
    x = impl.Value(0.5)
    t = x.tanh()
    t.backward()
    expected = 1 - math.tanh(0.5) ** 2
    assert math.isclose(t.data, math.tanh(0.5), rel_tol=1e-12)
    assert math.isclose(x.grad, expected, rel_tol=1e-9), (
        f"d tanh(x)/dx at 0.5 = 1 - tanh(0.5)^2 = {expected:.6f}, got {x.grad:.6f}"
        + (" (that is 1 - x^2: square the OUTPUT tanh(x), not the input)" if math.isclose(x.grad, 0.75) else ""))


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_partA_neuron_tanh_matches_hand_derivation(impl):
    # micrograd's neuron: o = tanh(x1 w1 + x2 w2 + b), chosen so that o = 1/sqrt(2) and do/dn = 1/2
    x1, x2, w1, w2 = impl.Value(2.0), impl.Value(0.0), impl.Value(-3.0), impl.Value(1.0)
    b = impl.Value(6.8813735870195432)
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert math.isclose(o.data, 1 / math.sqrt(2), rel_tol=1e-9)
    got = {"x1": x1.grad, "w1": w1.grad, "x2": x2.grad, "w2": w2.grad, "b": b.grad}
    want = {"x1": -1.5, "w1": 1.0, "x2": 0.5, "w2": 0.0, "b": 0.5}
    for name in want:
        assert math.isclose(got[name], want[name], rel_tol=1e-9, abs_tol=1e-12), (
            f"do/d{name} should be {want[name]}, got {got[name]} (all: {got})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_partA_shared_node_reached_by_paths_of_different_lengths(impl):
    # h feeds y directly and through tanh/exp: its grad is complete only after ALL its consumers ran
    a, b = impl.Value(0.3), impl.Value(-0.7)
    h = a * b
    y = (h.tanh() + h) * (h + h.exp())
    y.backward()
    hv = 0.3 * -0.7
    left, right = math.tanh(hv) + hv, hv + math.exp(hv)
    dy_dh = (1 - math.tanh(hv) ** 2 + 1) * right + left * (1 + math.exp(hv))
    assert math.isclose(a.grad, dy_dh * -0.7, rel_tol=1e-9) and math.isclose(b.grad, dy_dh * 0.3, rel_tol=1e-9), (
        f"expected a.grad = {dy_dh * -0.7:.6f}, b.grad = {dy_dh * 0.3:.6f}, got {a.grad:.6f}, {b.grad:.6f}: "
        "a node must run its _backward only after every node that uses it (reverse topological order)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_partA_micrograd_expression_matches_pytorch(impl, golden):
    ref = golden("value_expression")
    a, b = impl.Value(float(ref["a"])), impl.Value(float(ref["b"]))
    c = a + b
    d = a * b + b ** 3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e ** 2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    assert math.isclose(g.data, float(ref["g"]), rel_tol=1e-12), f"forward: got {g.data}, PyTorch {float(ref['g'])}"
    assert math.isclose(a.grad, float(ref["a_grad"]), rel_tol=1e-10), f"a.grad {a.grad}, PyTorch {float(ref['a_grad'])}"
    assert math.isclose(b.grad, float(ref["b_grad"]), rel_tol=1e-10), f"b.grad {b.grad}, PyTorch {float(ref['b_grad'])}"


VALUE_OPS = {   # name: (expression on Values, the same on floats, inputs)
    "add": (lambda a, b: a + b, lambda a, b: a + b, (0.7, -1.3)),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, (0.7, -1.3)),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, (0.7, -1.3)),
    "div": (lambda a, b: a / b, lambda a, b: a / b, (0.7, 1.6)),
    "pow3": (lambda a: a ** 3, lambda a: a ** 3, (-0.8,)),
    "pow_neg_half": (lambda a: a ** -0.5, lambda a: a ** -0.5, (1.7,)),
    "neg": (lambda a: -a, lambda a: -a, (0.7,)),
    "radd": (lambda a: 2.5 + a, lambda a: 2.5 + a, (0.7,)),
    "rsub": (lambda a: 2.5 - a, lambda a: 2.5 - a, (0.7,)),
    "rmul": (lambda a: 2.5 * a, lambda a: 2.5 * a, (0.7,)),
    "rdiv": (lambda a: 2.5 / a, lambda a: 2.5 / a, (0.7,)),
    "exp": (lambda a: a.exp(), math.exp, (0.7,)),
    "log": (lambda a: a.log(), math.log, (0.7,)),
    "tanh": (lambda a: a.tanh(), math.tanh, (0.7,)),
    "relu_positive": (lambda a: a.relu(), lambda a: max(a, 0.0), (0.7,)),
    "relu_negative": (lambda a: a.relu(), lambda a: max(a, 0.0), (-0.7,)),
    "composite": (lambda a, b: (a * b + a.tanh()).exp() / (b ** 2 + 1),
                  lambda a, b: math.exp(a * b + math.tanh(a)) / (b ** 2 + 1), (0.4, -1.1)),
}


VALUE_OPS_OF_TASK_4 = {"exp", "log", "tanh", "relu_positive", "relu_negative", "composite"}


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.parametrize("op", [pytest.param(op, marks=pytest.mark.task(4 if op in VALUE_OPS_OF_TASK_4 else 3))
                                for op in VALUE_OPS])
def test_partA_value_gradient_matches_finite_differences(impl, op):
    value_fn, float_fn, inputs = VALUE_OPS[op]
    leaves = [impl.Value(x) for x in inputs]
    out = value_fn(*leaves)
    assert math.isclose(out.data, float_fn(*inputs), rel_tol=1e-12, abs_tol=1e-15), (
        f"{op}: forward value {out.data}, expected {float_fn(*inputs)}")
    out.backward()
    h = 1e-6
    for k, leaf in enumerate(leaves):
        plus = [x + h if i == k else x for i, x in enumerate(inputs)]
        minus = [x - h if i == k else x for i, x in enumerate(inputs)]
        numeric = (float_fn(*plus) - float_fn(*minus)) / (2 * h)
        err = relative_error(leaf.grad, numeric)
        assert err < TOL, f"{op}: d/d(input {k}) = {leaf.grad}, finite differences give {numeric:.8f}"


# =============================================================================================
# Part B: tensors on vectors
# =============================================================================================

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_partB_tensor_holds_float_data_and_its_shape(impl):
    t = impl.Tensor([1.0, 2.0, 3.0])
    assert tuple(t.shape) == (3,), f"Tensor([1., 2., 3.]).shape is {t.shape}, expected (3,)"
    assert_close(t.data, [1.0, 2.0, 3.0], what="data")
    m = impl.Tensor(np.arange(12.0).reshape(3, 4))
    assert tuple(m.shape) == (3, 4)
    assert_close(m.numpy(), np.arange(12.0).reshape(3, 4), what="numpy()")
    assert isinstance(m.numpy(), np.ndarray), "numpy() must return an ndarray"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_partB_tensor_of_a_tensor_and_repr(impl):
    t = impl.Tensor([1.0, 2.0], requires_grad=True)
    copy = impl.Tensor(t)
    assert_close(as_array(copy.data), [1.0, 2.0], what="Tensor(t).data: a Tensor made from a Tensor takes its data")
    assert not copy.requires_grad, "Tensor(t) is a new leaf: requires_grad=False unless asked for"
    shown, plain = repr(t), repr(impl.Tensor([1.0, 2.0]))
    assert shown.startswith("Tensor(") and shown.endswith(", requires_grad=True)"), (
        f"repr of a tensor that requires grad: 'Tensor(<data>, requires_grad=True)', got {shown!r}")
    assert plain.startswith("Tensor(") and plain.endswith("])") and "requires_grad" not in plain, (
        f"repr of a tensor that does not require grad: 'Tensor(<data>)', got {plain!r}")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_partB_grad_is_none_before_backward_then_has_the_data_shape(impl):
    x = impl.Tensor(np.array([1.0, -2.0, 3.0, 0.5]), requires_grad=True)
    assert x.grad is None, f"grad must be None before any backward(), got {x.grad!r}"
    (x * x).sum().backward()
    assert_shape(grad_of(x), (4,), "x.grad")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_partB_elementwise_gradients_by_hand(impl):
    xv, yv = np.array([1.0, -2.0, 3.0]), np.array([4.0, 0.5, -1.0])
    x, y = impl.Tensor(xv, requires_grad=True), impl.Tensor(yv, requires_grad=True)
    loss = (x * y + x).sum()
    assert_close(loss.data, np.sum(xv * yv + xv), what="loss")
    loss.backward()
    assert_close(grad_of(x), yv + 1, what="d(sum(x*y + x))/dx = y + 1")
    assert_close(grad_of(y, "y"), xv, what="d(sum(x*y + x))/dy = x")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_partB_sum_and_mean_gradients(impl):
    x = impl.Tensor(np.array([2.0, 4.0, 6.0, 8.0]), requires_grad=True)
    m = x.mean()
    assert_close(m.data, 5.0, what="mean")
    m.backward()
    assert_close(grad_of(x), np.full(4, 0.25), what="d(mean)/dx = 1/n = 0.25 for each element")
    z = impl.Tensor(np.array([2.0, 4.0, 6.0, 8.0]), requires_grad=True)
    s = z.sum()
    assert_shape(s.data, (), "x.sum()")
    s.backward()
    assert_close(grad_of(z, "z"), np.ones(4), what="d(sum)/dx = 1 for each element")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_partB_backward_with_an_explicit_output_gradient(impl):
    x = impl.Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = x * 2.0 + 1.0
    y.backward(np.array([1.0, 10.0, 100.0]))
    assert_close(grad_of(x), [2.0, 20.0, 200.0], what="x.grad for y = 2x + 1 with grad=[1, 10, 100]")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_partB_shared_node_reached_by_paths_of_different_lengths(impl):
    av, bv = np.array([0.3, -0.5, 1.2]), np.array([-0.7, 0.4, 0.9])
    a, b = impl.Tensor(av, requires_grad=True), impl.Tensor(bv, requires_grad=True)
    h = a * b
    ((h.tanh() + h) * (h + h.exp())).sum().backward()
    hv = av * bv
    dy_dh = (2 - np.tanh(hv) ** 2) * (hv + np.exp(hv)) + (np.tanh(hv) + hv) * (1 + np.exp(hv))
    assert_close(grad_of(a, "a"), dy_dh * bv, rtol=1e-9,
                 what="a.grad (a shared node must run its backward after ALL of its consumers)")
    assert_close(grad_of(b, "b"), dy_dh * av, rtol=1e-9, what="b.grad")


_rng = np.random.default_rng(1)
_r = lambda *s: _rng.standard_normal(s)             # noqa: E731
_pos = lambda *s: _rng.uniform(0.5, 2.0, s)         # noqa: E731
_away_from_zero = np.array([-1.5, -0.3, 0.2, 0.7, 2.0])

PART_B_OPS = {   # name: (expression on 1-D tensors, inputs)
    "add": (lambda a, b: a + b, [_r(5), _r(5)]),
    "sub": (lambda a, b: a - b, [_r(5), _r(5)]),
    "mul": (lambda a, b: a * b, [_r(5), _r(5)]),
    "div": (lambda a, b: a / b, [_r(5), _pos(5)]),
    "pow3": (lambda a: a ** 3, [_r(5)]),
    "pow_half": (lambda a: a ** 0.5, [_pos(5)]),
    "neg": (lambda a: -a, [_r(5)]),
    "add_number": (lambda a: a + 1.5, [_r(5)]),
    "radd": (lambda a: 1.5 + a, [_r(5)]),
    "rsub": (lambda a: 1.5 - a, [_r(5)]),
    "rmul": (lambda a: 1.5 * a, [_r(5)]),
    "rdiv": (lambda a: 1.5 / a, [_pos(5)]),
    "exp": (lambda a: a.exp(), [_r(5)]),
    "log": (lambda a: a.log(), [_pos(5)]),
    "tanh": (lambda a: a.tanh(), [_r(5)]),
    "relu": (lambda a: a.relu(), [_away_from_zero]),
    "sum": (lambda a: a.sum(), [_r(5)]),
    "mean": (lambda a: a.mean(), [_r(5)]),
}

PART_B_OPS_OF_TASK_8 = {"exp", "log", "tanh", "relu", "sum", "mean"}


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.parametrize("op", [pytest.param(op, marks=pytest.mark.task(8 if op in PART_B_OPS_OF_TASK_8 else 6))
                                for op in PART_B_OPS])
def test_partB_vector_gradient_matches_finite_differences(impl, op):
    fn, arrays = PART_B_OPS[op]
    check_tensor_op(impl, fn, arrays)


# =============================================================================================
# Part C: broadcasting, matmul, reshape, transpose, axis reductions
# =============================================================================================

@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(9)
@pytest.mark.parametrize("grad_shape, shape", [((2, 3, 4), (3, 1)), ((3, 4), (4,)), ((3, 4), (3, 1)),
                                               ((3, 4), (3, 4)), ((3, 4), ()), ((2, 1, 4), (1, 1))])
def test_partC_unbroadcast_sums_back_to_the_operand_shape(impl, grad_shape, shape):
    grad = np.arange(np.prod(grad_shape), dtype=np.float64).reshape(grad_shape)
    lead = len(grad_shape) - len(shape)   # summed: the new leading axes and the stretched size-1 axes
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1)
    expected = grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad
    got = as_array(impl.unbroadcast(grad, shape))
    assert_shape(got, shape, f"unbroadcast(grad {grad_shape}, {shape})")
    assert_close(got, expected, what=f"unbroadcast(grad {grad_shape}, {shape})")


@pytest.mark.shape
@pytest.mark.hint(3)
@pytest.mark.task(9)
@pytest.mark.parametrize("shape_a, shape_b", [((3, 1), (1, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((), (2, 3))])
def test_partC_broadcast_gradients_have_the_operand_shapes(impl, shape_a, shape_b):
    rng = np.random.default_rng(0)
    a = impl.Tensor(rng.standard_normal(shape_a), requires_grad=True)
    b = impl.Tensor(rng.standard_normal(shape_b), requires_grad=True)
    out = a * b + a
    assert_shape(out.data, np.broadcast_shapes(shape_a, shape_b), "a * b + a")
    out.sum().backward()
    assert_shape(grad_of(a, "a"), shape_a, "a.grad (sum the broadcast axes back with unbroadcast)")
    assert_shape(grad_of(b, "b"), shape_b, "b.grad (sum the broadcast axes back with unbroadcast)")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(9)
def test_partC_broadcast_3x1_times_1x4_by_hand(impl):
    av, bv = np.array([[1.0], [2.0], [3.0]]), np.array([[10.0, 20.0, 30.0, 40.0]])
    a, b = impl.Tensor(av, requires_grad=True), impl.Tensor(bv, requires_grad=True)
    (a * b).sum().backward()
    assert_close(grad_of(a, "a"), np.full((3, 1), 100.0),
                 what="a.grad: each a[i] multiplies all four b's, so its grad is 10+20+30+40 = 100")
    assert_close(grad_of(b, "b"), np.full((1, 4), 6.0), what="b.grad: each b[j] meets a = 1+2+3 = 6")


@pytest.mark.shape
@pytest.mark.hint(3)
@pytest.mark.task(10)
@pytest.mark.parametrize("shape_a, shape_b, shape_out", [
    ((3, 4), (4, 2), (3, 2)), ((2, 3, 4), (2, 4, 5), (2, 3, 5)), ((2, 3, 4), (4, 5), (2, 3, 5)),
    ((4,), (4, 2), (2,)), ((3, 4), (4,), (3,)), ((4,), (4,), ()), ((4,), (2, 4, 3), (2, 3)),
    ((2, 3, 4), (4,), (2, 3))])
def test_partC_matmul_output_and_gradient_shapes(impl, shape_a, shape_b, shape_out):
    rng = np.random.default_rng(0)
    a = impl.Tensor(rng.standard_normal(shape_a), requires_grad=True)
    b = impl.Tensor(rng.standard_normal(shape_b), requires_grad=True)
    out = a @ b
    assert_shape(out.data, shape_out, f"{shape_a} @ {shape_b}")
    out.sum().backward()
    assert_shape(grad_of(a, "a"), shape_a, f"a.grad for {shape_a} @ {shape_b}")
    assert_shape(grad_of(b, "b"), shape_b, f"b.grad for {shape_a} @ {shape_b} (a broadcast batch is summed)")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(10)
def test_partC_matmul_gradients_by_hand(impl):
    # the worked example of math-refresh.md: C = A B, L = sum(C * G)  =>  dA = G B^T, dB = A^T G
    Av, Bv = np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])
    G = np.array([[1.0, 0.0], [0.0, 2.0]])
    A, B = impl.Tensor(Av, requires_grad=True), impl.Tensor(Bv, requires_grad=True)
    C = A @ B
    assert_close(C.data, [[19.0, 22.0], [43.0, 50.0]], what="A @ B")
    C.backward(G)
    assert_close(grad_of(A, "A"), [[5.0, 7.0], [12.0, 16.0]], what="dA = G @ B.T")
    assert_close(grad_of(B, "B"), [[1.0, 6.0], [2.0, 8.0]], what="dB = A.T @ G")


@pytest.mark.shape
@pytest.mark.hint(3)
@pytest.mark.task(11)
def test_partC_reshape_and_transpose_shapes(impl):
    x = impl.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    assert_shape(x.reshape(6, 4).data, (6, 4), "reshape(6, 4)")
    assert_shape(x.reshape((4, 6)).data, (4, 6), "reshape((4, 6))")
    assert_shape(x.reshape(-1).data, (24,), "reshape(-1)")
    assert_shape(x.reshape(3, -1).data, (3, 8), "reshape(3, -1)")
    assert_shape(x.transpose(2, 0, 1).data, (4, 2, 3), "transpose(2, 0, 1)")
    assert_shape(x.transpose((2, 0, 1)).data, (4, 2, 3), "transpose((2, 0, 1)): the axes as one tuple")
    assert_shape(x.transpose([1, 2, 0]).data, (3, 4, 2), "transpose([1, 2, 0]): the axes as one list")
    assert_shape(x.transpose().data, (4, 3, 2), "transpose() reverses the axes")
    assert_shape(x.reshape(6, 4).T.data, (4, 6), ".T")
    assert_close(x.transpose(2, 0, 1).data, np.arange(24.0).reshape(2, 3, 4).transpose(2, 0, 1),
                 what="transpose(2, 0, 1) values")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(11)
def test_partC_reshape_and_transpose_gradients_go_back_to_the_input_layout(impl):
    W = np.arange(12.0).reshape(3, 4)
    x = impl.Tensor(np.ones((2, 6)), requires_grad=True)
    (x.reshape(3, 4) * W).sum().backward()
    assert_close(grad_of(x), W.reshape(2, 6), what="x.grad for sum(x.reshape(3, 4) * W) = W reshaped back")
    y = impl.Tensor(np.ones((3, 4)), requires_grad=True)
    (y.T * W.T).sum().backward()
    assert_close(grad_of(y, "y"), W, what="y.grad for sum(y.T * W.T) = W (transposed back)")


@pytest.mark.shape
@pytest.mark.hint(3)
@pytest.mark.task(12)
@pytest.mark.parametrize("axis, keepdims, shape", [(0, False, (3, 4)), (1, True, (2, 1, 4)), (-1, False, (2, 3)),
                                                   ((0, 2), False, (3,)), ((0, 1), True, (1, 1, 4)),
                                                   (None, False, ()), (None, True, (1, 1, 1))])
def test_partC_axis_reduction_shapes(impl, axis, keepdims, shape):
    x = impl.Tensor(np.arange(24.0).reshape(2, 3, 4), requires_grad=True)
    s = x.sum(axis=axis, keepdims=keepdims)
    assert_shape(s.data, shape, f"sum(axis={axis}, keepdims={keepdims})")
    assert_close(s.data, np.arange(24.0).reshape(2, 3, 4).sum(axis=axis, keepdims=keepdims), what="sum values")
    m = x.mean(axis=axis, keepdims=keepdims)
    assert_shape(m.data, shape, f"mean(axis={axis}, keepdims={keepdims})")
    (s.sum() + m.sum()).backward()
    assert_shape(grad_of(x), (2, 3, 4), "x.grad after an axis reduction")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(12)
def test_partC_axis_reduction_gradients(impl):
    w = np.array([1.0, 10.0, 100.0])
    x = impl.Tensor(np.ones((3, 4)), requires_grad=True)
    (x.sum(axis=1) * w).sum().backward()
    assert_close(grad_of(x), np.repeat(w[:, None], 4, axis=1),
                 what="x.grad for sum(x.sum(axis=1) * w): row i gets w[i] in every column")
    y = impl.Tensor(np.ones((3, 4)), requires_grad=True)
    y.mean(axis=0).sum().backward()
    assert_close(grad_of(y, "y"), np.full((3, 4), 1 / 3), what="y.grad for sum(y.mean(axis=0)): 1/3 everywhere")


_M = _rng.standard_normal((3, 4))
PART_C_OPS = {
    "broadcast_add_(3,4)+(4,)": (lambda a, b: a + b, [_r(3, 4), _r(4)]),
    "broadcast_sub_(3,1)-(1,4)": (lambda a, b: a - b, [_r(3, 1), _r(1, 4)]),
    "broadcast_mul_(2,3,1)*(3,4)": (lambda a, b: a * b, [_r(2, 3, 1), _r(3, 4)]),
    "broadcast_div_(3,4)/(4,)": (lambda a, b: a / b, [_r(3, 4), _pos(4)]),
    "0-d_times_matrix": (lambda a, b: a * b, [_r(), _r(3, 4)]),
    "matmul_(3,4)@(4,2)": (lambda a, b: a @ b, [_r(3, 4), _r(4, 2)]),
    "matmul_batched_(2,3,4)@(2,4,5)": (lambda a, b: a @ b, [_r(2, 3, 4), _r(2, 4, 5)]),
    "matmul_broadcast_batch_(2,3,4)@(4,5)": (lambda a, b: a @ b, [_r(2, 3, 4), _r(4, 5)]),
    "matmul_vector_(4,)@(4,2)": (lambda a, b: a @ b, [_r(4), _r(4, 2)]),
    "matmul_matrix_vector_(3,4)@(4,)": (lambda a, b: a @ b, [_r(3, 4), _r(4)]),
    "rmatmul_ndarray@tensor": (lambda a: _M @ a, [_r(4, 2)]),
    "reshape_(2,6)->(3,4)": (lambda a: a.reshape(3, 4) * _M, [_r(2, 6)]),
    "reshape_-1": (lambda a: a.reshape(-1), [_r(3, 4)]),
    "transpose_(2,0,1)": (lambda a: a.transpose(2, 0, 1), [_r(2, 3, 4)]),
    "T": (lambda a: a.T @ a, [_r(3, 4)]),
    "sum_axis0": (lambda a: a.sum(axis=0), [_r(3, 4)]),
    "sum_axis-1_keepdims": (lambda a: a.sum(axis=-1, keepdims=True) * a, [_r(3, 4)]),
    "sum_axes(0,2)": (lambda a: a.sum(axis=(0, 2)), [_r(2, 3, 4)]),
    "mean_axis1": (lambda a: a.mean(axis=1), [_r(3, 4)]),
    "mean_axes(0,1)_keepdims": (lambda a: a.mean(axis=(0, 1), keepdims=True) * a, [_r(2, 3, 4)]),
    "exp_log_tanh_relu_on_a_matrix": (lambda a: (a.exp() + a.tanh() * a.relu()) / (a * a + 1).log(),
                                      [_r(3, 4) + np.sign(_r(3, 4)) * 0.1]),
}


def _task_of_part_c_op(op):
    """The task of questions.md each case of PART_C_OPS checks."""
    for prefix, task in (("broadcast", 9), ("0-d", 9), ("matmul", 10), ("rmatmul", 10), ("reshape", 11),
                         ("transpose", 11), ("T", 11), ("sum", 12), ("mean", 12), ("exp", 8)):
        if op.startswith(prefix):
            return task
    raise KeyError(op)


@pytest.mark.gradient
@pytest.mark.hint(3)
@pytest.mark.parametrize("op", [pytest.param(op, marks=pytest.mark.task(_task_of_part_c_op(op))) for op in PART_C_OPS])
def test_partC_tensor_gradient_matches_finite_differences(impl, op):
    fn, arrays = PART_C_OPS[op]
    check_tensor_op(impl, fn, arrays)


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(12)
def test_partC_finite_difference_gate_passes(impl):
    """The validation gate of utils/finite_difference_checker.py: once it passes, go on to Topic 03."""
    impl.Tensor(np.ones(2), requires_grad=True)   # stops here on the untouched starter
    results = check_autograd(impl.Tensor, verbose=False)
    unfinished = [name for name, v in results.items() if isinstance(v, str) and v.startswith("NotImplementedError")]
    if unfinished:
        raise NotImplementedError(f"the gate needs operations you have not written yet: {', '.join(unfinished)}")
    failed = {name: v for name, v in results.items() if not (isinstance(v, float) and v < TOL)}
    assert not failed, "gate failed on: " + "; ".join(
        f"{name}: {v if isinstance(v, str) else f'relative error {v:.1e}'}" for name, v in failed.items())


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(10)
def test_partC_two_layer_mlp_matches_pytorch(impl, golden):
    ref = golden("mlp")
    X, Y = impl.Tensor(ref["X"]), impl.Tensor(ref["Y"])
    W1, b1, W2, b2 = (impl.Tensor(ref[k], requires_grad=True) for k in ("W1", "b1", "W2", "b2"))
    hidden = (X @ W1 + b1).tanh()
    loss = ((hidden @ W2 + b2 - Y) ** 2).mean()
    assert_close(loss.data, ref["loss"], rtol=1e-10, what="MLP loss")
    loss.backward()
    for name, leaf in (("W1", W1), ("b1", b1), ("W2", W2), ("b2", b2)):
        assert_close(grad_of(leaf, name), ref["d" + name], rtol=1e-9, atol=1e-12,
                     what=f"d(loss)/d{name} (PyTorch autograd is the reference)")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(12)
def test_partC_softmax_cross_entropy_matches_pytorch(impl, golden):
    ref = golden("softmax_xent")
    X, W = impl.Tensor(ref["X"], requires_grad=True), impl.Tensor(ref["W"], requires_grad=True)
    logits = X @ W
    log_probs = logits - logits.exp().sum(axis=1, keepdims=True).log()
    loss = -(log_probs * ref["onehot"]).sum() / 4
    assert_close(loss.data, ref["loss"], rtol=1e-10, what="cross-entropy loss")
    loss.backward()
    assert_close(grad_of(X, "X"), ref["dX"], rtol=1e-9, atol=1e-12, what="d(loss)/dX")
    assert_close(grad_of(W, "W"), ref["dW"], rtol=1e-9, atol=1e-12, what="d(loss)/dW")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(12)
def test_partC_batched_matmul_reshape_transpose_reductions_match_pytorch(impl, golden):
    ref = golden("tensor_ops")
    A, B, c = (impl.Tensor(ref[k], requires_grad=True) for k in ("A", "B", "c"))
    y = A @ B                                          # (2, 3, 4) @ (4, 5) -> (2, 3, 5)
    z = y.transpose(0, 2, 1).reshape(2, 15)
    w = (z / (1 + z ** 2)).mean(axis=1)
    r = (A.relu() * A.exp()).sum(axis=(0, 2))
    s = (B.T - c.reshape(5, 1)).tanh()
    loss = (w * w).sum() + r.mean() + s.sum() * 0.1 + c.log().sum()
    assert_close(loss.data, ref["loss"], rtol=1e-10, what="loss")
    loss.backward()
    for name, leaf in (("A", A), ("B", B), ("c", c)):
        assert_close(grad_of(leaf, name), ref["d" + name], rtol=1e-9, atol=1e-12, what=f"d(loss)/d{name}")
