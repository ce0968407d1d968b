"""Topic 06 basic tests: the shape of every gradient, golden values, and gradient checks.

Each gradient is compared three ways: with PyTorch's autograd (golden files written by level 4), with
finite differences (dlfs.gradient_check, relative error < 1e-5 in float64), and with the other path
(Topic 02 autograd vs manual backprop, Sequential vs TwoLayerNet).
"""

import math

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.gradient_check import check_layer, check_model
from dlfs.testing import as_array, assert_close, assert_shape

GRAD_TOL = 1e-5


def toy_batch(N=6, D=5, C=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, D)), rng.integers(0, C, N)


def set_params(net, arrays):
    for k in ("W1", "b1", "W2", "b2"):
        net.params[k] = np.array(arrays[k], dtype=np.float64)


# ----------------------------------------------------------------------------------------------------
# Shapes: every gradient has the shape of what it differentiates
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_linear_forward_and_backward_shapes(impl):
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    out, cache = impl.linear_forward(x, W, b)
    assert_shape(out, (4, 3), "linear_forward output (x (4,5) @ W (5,3) + b)")
    dx, dW, db = impl.linear_backward(rng.standard_normal((4, 3)), cache)
    assert_shape(dW, (5, 3), "dW (must match W (5, 3): dW = x.T @ dout, not x @ dout or dout.T @ x)")
    assert_shape(db, (3,), "db (must match b (3,): sum dout over the batch axis)")
    assert_shape(dx, (4, 5), "dx (must match x (4, 5): dx = dout @ W.T)")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_relu_and_loss_shapes(impl):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 4))
    out, cache = impl.relu_forward(x)
    assert_shape(out, x.shape, "relu_forward output (elementwise: same shape as x)")
    assert_shape(impl.relu_backward(rng.standard_normal(x.shape), cache), x.shape, "relu_backward dx")
    logits, y = rng.standard_normal((7, 4)), rng.integers(0, 4, 7)
    loss, dlogits = impl.softmax_cross_entropy(logits, y)
    assert np.ndim(as_array(loss)) == 0, f"the loss must be one number (the batch mean), got shape {np.shape(loss)}"
    assert_shape(dlogits, (7, 4), "dlogits")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(5)
def test_two_layer_net_shapes(impl):
    net = impl.TwoLayerNet(5, 7, 3, seed=0)
    expected = {"W1": (5, 7), "b1": (7,), "W2": (7, 3), "b2": (3,)}
    assert set(net.params) == set(expected), f"params keys are {sorted(net.params)}, expected {sorted(expected)}"
    for k, shape in expected.items():
        assert_shape(net.params[k], shape, f"params[{k!r}]")
    X, y = toy_batch()
    assert_shape(net.loss(X), (6, 3), "loss(X) without labels must return the scores")
    loss, grads = net.loss(X, y)
    assert set(grads) == set(expected), f"grads keys are {sorted(grads)}, expected {sorted(expected)}"
    for k, shape in expected.items():
        assert_shape(grads[k], shape, f"grads[{k!r}] (same shape as params[{k!r}])")
    pred = as_array(net.predict(X))
    assert_shape(pred, (6,), "predict(X)")
    assert np.issubdtype(pred.dtype, np.integer), f"predict must return class indices (int), got {pred.dtype}"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_layer_classes_follow_the_protocol(impl):
    lin = impl.Linear(5, 3, rng=np.random.default_rng(0))
    assert_shape(lin.weight.data, (5, 3), "Linear(5, 3).weight.data (in_features, out_features)")
    assert_shape(lin.bias.data, (3,), "Linear(5, 3).bias.data")
    assert_shape(lin.weight.grad, (5, 3), "Linear.weight.grad")
    x = np.random.default_rng(1).standard_normal((4, 5))
    assert_shape(lin.forward(x), (4, 3), "Linear.forward")
    assert_shape(lin.backward(np.ones((4, 3))), (4, 5), "Linear.backward must return dx, shaped like x")
    assert impl.ReLU().parameters() == [], "ReLU has no parameters"
    model = impl.Sequential(impl.Linear(5, 8, rng=0), impl.ReLU(), impl.Linear(8, 3, rng=1))
    assert len(model) == 3, f"len(Sequential of 3 layers) is {len(model)}"
    assert isinstance(model[1], impl.ReLU), "model[1] must be the second layer"
    shapes = [tuple(np.shape(p.data)) for p in model.parameters()]
    assert shapes == [(5, 8), (8,), (8, 3), (3,)], f"parameters() in layer order: {shapes}"
    assert_shape(model.forward(x), (4, 3), "Sequential.forward")
    assert_shape(model.backward(np.ones((4, 3))), (4, 5), "Sequential.backward")
    for thing in (impl.Linear(5, 3, rng=0), impl.ReLU(), model):
        assert isinstance(repr(thing), str), "print(model) must work (Topic 10 prints its model)"


# ----------------------------------------------------------------------------------------------------
# Values: golden files (PyTorch autograd on fixed inputs) and hand-checkable facts
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_linear_matches_golden(impl, golden):
    g = golden("linear")
    out, cache = impl.linear_forward(g["x"], g["W"], g["b"])
    assert_close(out, g["out"], what="linear_forward output")
    dx, dW, db = impl.linear_backward(g["dout"], cache)
    assert_close(dW, g["dW"], what="dW (x.T @ dout)")
    assert_close(db, g["db"], what="db (dout summed over the batch, not averaged: the 1/N is in the loss)")
    assert_close(dx, g["dx"], what="dx (dout @ W.T)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_relu_matches_golden(impl, golden):
    g = golden("relu")
    out, cache = impl.relu_forward(g["x"])
    assert_close(out, g["out"], what="relu_forward output")
    assert_close(impl.relu_backward(g["dout"], cache), g["dx"],
                 what="relu_backward dx (pass dout where x > 0; 0 where x <= 0, masked by x, not by dout)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_softmax_cross_entropy_matches_golden(impl, golden):
    g = golden("softmax_ce")
    loss, dlogits = impl.softmax_cross_entropy(g["logits"], g["y"])
    assert math.isclose(float(loss), float(g["loss"]), rel_tol=1e-7), (
        f"loss {float(loss)!r}, expected {float(g['loss'])!r} (mean over the batch of -log softmax[true class])")
    assert_close(dlogits, g["dlogits"], what="dlogits ((softmax - one_hot) / N)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_two_layer_net_matches_golden(impl, golden):
    g = golden("two_layer")
    net = impl.TwoLayerNet(5, 7, 3, reg=float(g["reg"]))
    set_params(net, g)
    assert_close(net.loss(g["X"]), g["scores"], what="scores")
    loss, grads = net.loss(g["X"], g["y"])
    assert math.isclose(float(loss), float(g["loss"]), rel_tol=1e-7), (
        f"loss {float(loss)!r}, expected {float(g['loss'])!r} (data loss + 0.5 * reg * (sum W1^2 + sum W2^2))")
    for k in ("W1", "b1", "W2", "b2"):
        assert_close(grads[k], g["d" + k], what=f"grads[{k!r}] (reg = {float(g['reg'])}: dW gets + reg * W)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_loss_at_init_with_small_weights_is_ln_C(impl):
    C = 10
    net = impl.TwoLayerNet(20, 30, C, seed=0)
    for k in ("W1", "W2"):
        net.params[k] = net.params[k] * 1e-3
    X, y = toy_batch(N=50, D=20, C=C, seed=2)
    loss, _ = net.loss(X, y)
    assert abs(float(loss) - math.log(C)) < 1e-3, (
        f"with tiny weights every class is equally likely, so the loss must be ln({C}) = {math.log(C):.4f}, "
        f"got {float(loss):.4f}")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_linear_weights_come_from_topic05_initializers(impl):
    topic05 = load_topic(5)
    lin = impl.Linear(30, 20, rng=np.random.default_rng(3))
    expected = topic05.kaiming_normal(30, 20, rng=np.random.default_rng(3))
    assert_close(lin.weight.data, expected, what="Linear(init='kaiming').weight (Topic 05 kaiming_normal)")
    assert_close(lin.bias.data, np.zeros(20), what="Linear bias (zeros)")
    lin = impl.Linear(30, 20, rng=np.random.default_rng(3), init="xavier")
    expected = topic05.xavier_normal(30, 20, rng=np.random.default_rng(3))
    assert_close(lin.weight.data, expected, what="Linear(init='xavier').weight (Topic 05 xavier_normal)")
    with pytest.raises(ValueError):
        impl.Linear(3, 2, init="no-such-init")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
@pytest.mark.parametrize("init,function", [("kaiming", "kaiming_normal"), ("xavier", "xavier_normal"),
                                           ("kaiming_normal", "kaiming_normal"), ("kaiming_uniform", "kaiming_uniform"),
                                           ("xavier_normal", "xavier_normal"), ("xavier_uniform", "xavier_uniform")])
def test_every_init_name_picks_its_topic05_initializer(impl, init, function):
    lin = impl.Linear(12, 7, rng=5, dtype=np.float32, init=init)
    expected = getattr(load_topic(5), function)(12, 7, rng=np.random.default_rng(5), dtype=np.float32)
    assert_close(lin.weight.data, expected, what=f"Linear(init={init!r}).weight (must be Topic 05 {function}; "
                                                 f"look the name up in _INIT_FUNCTIONS)")
    assert as_array(lin.weight.data).dtype == np.float32, f"Linear(init={init!r}, dtype=float32) weight dtype"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_backward_accumulates_into_grad(impl):
    x = np.random.default_rng(0).standard_normal((4, 5))
    dout = np.random.default_rng(1).standard_normal((4, 3))
    model = impl.Sequential(impl.Linear(5, 6, rng=0), impl.ReLU(), impl.Linear(6, 3, rng=1))
    model.forward(x)
    dx_first = as_array(model.backward(dout)).copy()
    once = [as_array(p.grad).copy() for p in model.parameters()]
    assert any(np.abs(g).sum() > 0 for g in once), "backward left every p.grad at zero"
    dx_second = as_array(model.backward(dout))
    for i, (p, g) in enumerate(zip(model.parameters(), once)):
        assert_close(p.grad, 2 * g, what=f"parameter {i} .grad after two backward calls "
                                         f"(must accumulate: p.grad += ..., not p.grad = ...)")
    assert_close(dx_second, dx_first, what="dx of the second backward (the input gradient does not accumulate)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_train_and_eval_set_the_flag_on_every_layer(impl):
    model = impl.Sequential(impl.Linear(3, 4, rng=0), impl.ReLU(), impl.Linear(4, 2, rng=1))
    everyone = [model, *model.layers]
    assert all(m.training is True for m in everyone), "layers start in training mode (training = True)"
    assert model.eval() is model, "eval() must return the model itself (model = model.eval() is common)"
    flags = [m.training for m in everyone]
    assert all(f is False for f in flags), f"eval() must set training = False on every layer, got {flags}"
    assert model.train() is model, "train() must return the model itself"
    flags = [m.training for m in everyone]
    assert all(f is True for f in flags), f"train() must set training = True on every layer, got {flags}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_training_a_tiny_net_decreases_the_loss(impl):
    # XOR of two blobs: no straight line separates the classes, the hidden layer must learn features
    rng = np.random.default_rng(0)
    corners = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]])
    X = np.repeat(corners, 10, axis=0) + 0.2 * rng.standard_normal((40, 2))
    y = np.repeat([0, 0, 1, 1], 10)
    net = impl.TwoLayerNet(2, 16, 2, seed=0)
    first, _ = net.loss(X, y)
    for _ in range(100):
        loss, grads = net.loss(X, y)
        for k in net.params:
            net.params[k] = net.params[k] - 0.5 * grads[k]
    final, _ = net.loss(X, y)
    accuracy = float(np.mean(as_array(net.predict(X)) == y))
    assert final < 0.3 * first, f"100 gradient steps took the loss from {first:.3f} to {final:.3f} only"
    assert accuracy >= 0.95, f"training accuracy {accuracy:.2f} on XOR blobs after 100 steps (expected >= 0.95)"


# ----------------------------------------------------------------------------------------------------
# Gradients: analytic vs numerical, for every layer and every parameter
# ----------------------------------------------------------------------------------------------------

@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("d_in,d_out", [(5, 3), (6, 6)], ids=["rectangular", "square"])
def test_linear_gradient_check(impl, d_in, d_out):
    rng = np.random.default_rng(3)
    x, W, b = rng.standard_normal((4, d_in)), rng.standard_normal((d_in, d_out)), rng.standard_normal(d_out)
    report = check_layer(impl.linear_forward, impl.linear_backward, x, W, b)
    assert report.passed, f"linear gradients (input0 = dx, input1 = dW, input2 = db) disagree with numbers:\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_relu_gradient_check(impl):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 6))
    x[np.abs(x) < 0.1] = 0.5   # keep away from the kink at 0, where finite differences are meaningless
    report = check_layer(impl.relu_forward, impl.relu_backward, x)
    assert report.passed, f"relu gradient disagrees with finite differences:\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_softmax_cross_entropy_gradient_check(impl):
    rng = np.random.default_rng(5)
    logits, y = rng.standard_normal((6, 4)) * 2, rng.integers(0, 4, 6)
    _, dlogits = impl.softmax_cross_entropy(logits, y)
    report = check_model(lambda: float(impl.softmax_cross_entropy(logits, y)[0]), {"logits": logits},
                         {"logits": as_array(dlogits)})
    assert report.passed, f"dlogits disagrees with finite differences (divided by N once?):\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(5)
@pytest.mark.parametrize("reg", [0.0, 0.7], ids=["no-reg", "reg"])
def test_two_layer_net_gradient_check(impl, reg):
    X, y = toy_batch(seed=6)
    net = impl.TwoLayerNet(5, 7, 3, seed=1, reg=reg)
    net.params["b1"] = np.random.default_rng(7).standard_normal(7) * 0.1
    net.params["b2"] = np.random.default_rng(8).standard_normal(3) * 0.1
    _, grads = net.loss(X, y)
    report = check_model(lambda: float(net.loss(X, y)[0]), net.params, {k: as_array(v) for k, v in grads.items()})
    assert report.passed, f"TwoLayerNet gradients with reg={reg} disagree with finite differences:\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_layer_classes_gradient_check(impl):
    X, y = toy_batch(seed=9)
    model = impl.Sequential(impl.Linear(5, 6, rng=0), impl.ReLU(), impl.Linear(6, 3, rng=1))
    params = model.parameters()
    _, dlogits = impl.softmax_cross_entropy(model.forward(X), y)
    model.backward(dlogits)
    report = check_model(lambda: float(impl.softmax_cross_entropy(model.forward(X), y)[0]),
                         {f"param{i}": p.data for i, p in enumerate(params)},
                         {f"param{i}": as_array(p.grad).copy() for i, p in enumerate(params)})
    assert report.passed, f"Sequential(Linear, ReLU, Linear) parameter gradients are wrong:\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_sequential_backward_equals_two_layer_net(impl):
    X, y = toy_batch(seed=10)
    net = impl.TwoLayerNet(5, 7, 3, seed=2)
    model = impl.Sequential(impl.Linear(5, 7), impl.ReLU(), impl.Linear(7, 3))
    for layer, (W, b) in zip((model[0], model[2]), (("W1", "b1"), ("W2", "b2"))):
        layer.weight.data[...] = net.params[W]
        layer.bias.data[...] = net.params[b]
    loss_net, grads = net.loss(X, y)
    loss_seq, dlogits = impl.softmax_cross_entropy(model.forward(X), y)
    model.backward(dlogits)
    assert math.isclose(float(loss_net), float(loss_seq), rel_tol=1e-10), f"losses {loss_net} vs {loss_seq}"
    for name, p in zip(("W1", "b1", "W2", "b2"), model.parameters()):
        assert_close(p.grad, grads[name], rtol=1e-9, atol=1e-12,
                     what=f"Sequential's gradient for {name} vs TwoLayerNet's grads[{name!r}]")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_autograd_path_equals_manual_path(impl):
    X, y = toy_batch(seed=11)
    net = impl.TwoLayerNet(5, 7, 3, seed=3, reg=0.3)
    loss, grads = net.loss(X, y)
    auto_loss, auto_grads = impl.two_layer_loss_autograd(net.params, X, y, reg=0.3)
    assert math.isclose(float(loss), float(auto_loss), rel_tol=1e-9), (
        f"autograd loss {float(auto_loss)!r} vs manual {float(loss)!r}")
    for k in ("W1", "b1", "W2", "b2"):
        assert_close(auto_grads[k], grads[k], rtol=1e-7, atol=1e-10,
                     what=f"two_layer_loss_autograd grads[{k!r}] vs TwoLayerNet.loss grads[{k!r}]")
