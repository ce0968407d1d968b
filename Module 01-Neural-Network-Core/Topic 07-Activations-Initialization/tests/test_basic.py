"""Topic 07 basic tests: shapes, values against PyTorch (golden files) and by hand, conventions at the kinks,
gradient checks of every derivative and every layer, dead-neuron detection and the initialisation comparison.
"""

import math

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.gradient_check import check_layer, check_model
from dlfs.testing import as_array, assert_close, assert_shape

# golden key -> (forward name, derivative name, keyword arguments)
CASES = {
    "relu": ("relu", "relu_grad", {}),
    "leaky_relu": ("leaky_relu", "leaky_relu_grad", {}),
    "leaky_relu_slope02": ("leaky_relu", "leaky_relu_grad", {"negative_slope": 0.2}),
    "elu": ("elu", "elu_grad", {}),
    "elu_alpha13": ("elu", "elu_grad", {"alpha": 1.3}),
    "elu_alpha05": ("elu", "elu_grad", {"alpha": 0.5}),
    "silu": ("silu", "silu_grad", {}),
    "swish_beta15": ("swish", "swish_grad", {"beta": 1.5}),
    "gelu": ("gelu", "gelu_grad", {}),
    "gelu_tanh": ("gelu", "gelu_grad", {"approximate": "tanh"}),
}
TASK_OF = {"relu": 1, "leaky_relu": 2, "elu": 3, "silu": 4, "swish": 4, "gelu": 5}  # "## Task n" of questions.md


def by_task(cases):
    """Golden keys as parametrize cases, each marked with the task of its function."""
    return [pytest.param(case, marks=pytest.mark.task(TASK_OF[CASES[case][0]])) for case in cases]


# piecewise functions: finite differences across their kink at 0 are meaningless
KINKED = {"relu", "leaky_relu", "leaky_relu_slope02", "elu_alpha13", "elu_alpha05"}


def tolerance(case):
    """Exact GELU goes through an erf approximation (any with |error| < 1e-7 is fine): 1e-6. Others: tight."""
    return {"rtol": 1e-6, "atol": 1e-6} if case == "gelu" else {"rtol": 1e-10, "atol": 1e-12}


def forward_of(impl, case):
    name, _, kwargs = CASES[case]
    return lambda x: getattr(impl, name)(x, **kwargs)


def derivative_of(impl, case):
    _, name, kwargs = CASES[case]
    return lambda x: getattr(impl, name)(x, **kwargs)


def make_layers(impl):
    """The layers of the golden file, by golden key."""
    return {"leaky_relu_02": impl.LeakyReLU(0.2), "elu_13": impl.ELU(1.3), "silu": impl.SiLU(),
            "gelu": impl.GELU(), "gelu_tanh": impl.GELU(approximate="tanh")}


# ----------------------------------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.parametrize("case", by_task(CASES))
def test_functions_keep_shape_and_dtype(impl, case):
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    for dtype in (np.float64, np.float32):
        for kind, fn in (("forward", forward_of(impl, case)), ("derivative", derivative_of(impl, case))):
            out = as_array(fn(x.astype(dtype)))
            assert_shape(out, x.shape, f"{case} {kind} of a {dtype.__name__} (3, 4, 5) array")
            assert out.dtype == dtype, (
                f"{case} {kind} turned {dtype.__name__} input into {out.dtype}: keep the input's dtype "
                f"(a float64 constant array or np.where with Python ints can upcast)")
    out = as_array(impl.erf(x.astype(np.float32)))
    assert out.shape == x.shape and out.dtype == np.float32, f"erf of float32 (3, 4, 5) gave {out.dtype} {out.shape}"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_layers_follow_the_protocol(impl):
    x = np.random.default_rng(1).standard_normal((4, 6))
    for name, layer in make_layers(impl).items():
        assert layer.training, f"{name}: a new layer is in training mode"
        assert layer.parameters() == [], f"{name}: activation layers have no parameters, parameters() must be []"
        assert_shape(layer.forward(x), (4, 6), f"{name}.forward")
        assert_shape(layer.backward(np.ones((4, 6))), (4, 6), f"{name}.backward must return dx, shaped like x")
        assert layer.eval() is layer and not layer.training, f"{name}.eval() sets training = False and returns self"
        assert layer.train() is layer and layer.training, f"{name}.train() sets training = True and returns self"
    assert impl.LeakyReLU(0.2).negative_slope == 0.2 and impl.ELU(1.3).alpha == 1.3
    assert impl.GELU("tanh").approximate == "tanh" and impl.GELU().approximate == "none"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_dead_neuron_outputs_have_the_right_shape(impl):
    a = np.abs(np.random.default_rng(2).standard_normal((10, 7)))
    a[:, 3] = 0.0
    mask = as_array(impl.find_dead_neurons(a))
    assert_shape(mask, (7,), "find_dead_neurons of a (10, 7) batch (one entry per unit = per column)")
    assert mask.dtype == np.bool_, f"find_dead_neurons must return a bool mask, got {mask.dtype}"
    frac = impl.dead_neuron_fraction(a)
    assert isinstance(frac, float), f"dead_neuron_fraction must return a Python float, got {type(frac).__name__}"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_forward_activations_and_statistics_shapes(impl):
    x = np.random.default_rng(3).standard_normal((9, 12))
    hs = impl.forward_activations([12, 10, 8, 8], "gelu", "kaiming", x)
    assert [tuple(np.shape(h)) for h in hs] == [(9, 10), (9, 8), (9, 8)], (
        f"forward_activations([12, 10, 8, 8]) gave shapes {[np.shape(h) for h in hs]}: one (N, H_i) array per layer, "
        f"the activation after EVERY layer")
    hs32 = impl.forward_activations([12, 10], "relu", "xavier", x.astype(np.float32))
    assert as_array(hs32[0]).dtype == np.float32, "a float32 batch must stay float32 through the network"
    stats = impl.activation_statistics([12, 10, 8, 8], "elu", "kaiming", x)
    assert len(stats) == 3 and all(len(s) == 2 for s in stats), f"expected 3 (mean, std) pairs, got {stats}"
    assert all(isinstance(v, float) for s in stats for v in s), "means and stds must be Python floats"


# ----------------------------------------------------------------------------------------------------
# Values: by hand, against PyTorch, and the identities that tie the functions together
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_values_by_hand(impl):
    e = math.exp(-1.0)
    s1 = 1 / (1 + e)                                   # sigmoid(1)
    phi1, Phi1 = math.exp(-0.5) / math.sqrt(2 * math.pi), 0.5 * (1 + math.erf(1 / math.sqrt(2)))
    assert_close(impl.relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0], what="relu([-2, 0, 3])")
    assert_close(impl.leaky_relu(np.array([-2.0, 3.0]), 0.1), [-0.2, 3.0], rtol=1e-12, what="leaky_relu(slope 0.1)")
    assert_close(impl.elu(np.array([-1.0, 2.0])), [e - 1, 2.0], rtol=1e-12, what="elu([-1, 2]) = [1/e - 1, 2]")
    assert_close(impl.elu(np.array([-1.0]), alpha=2.0), [2 * (e - 1)], rtol=1e-12, what="elu(-1, alpha=2)")
    assert_close(impl.elu_grad(np.array([-1.0, 2.0])), [e, 1.0], rtol=1e-12, what="elu'([-1, 2]) = [1/e, 1]")
    assert_close(impl.silu(np.array([1.0, -1.0])), [s1, -(1 - s1)], rtol=1e-12, what="silu(+-1) = +-sigmoid(+-1)")
    assert_close(impl.silu_grad(np.array([1.0])), [s1 * (1 + (1 - s1))], rtol=1e-12,
                 what="silu'(1) = s + 1 * s * (1 - s)")
    assert_close(impl.gelu(np.array([1.0, -1.0])), [Phi1, -(1 - Phi1)], rtol=1e-6, what="gelu(+-1) = +-Phi(+-1)")
    assert_close(impl.gelu_grad(np.array([1.0])), [Phi1 + phi1], rtol=1e-6, what="gelu'(1) = Phi(1) + 1 * phi(1)")
    u = math.sqrt(2 / math.pi) * (1 + 0.044715)
    assert_close(impl.gelu(np.array([1.0]), approximate="tanh"), [0.5 * (1 + math.tanh(u))], rtol=1e-12,
                 what="tanh-GELU(1) = 0.5 (1 + tanh(sqrt(2/pi) (1 + 0.044715)))")
    assert_close(impl.erf(np.array([1.0, -0.5])), [math.erf(1.0), math.erf(-0.5)], atol=1e-7, rtol=0,
                 what="erf(1), erf(-0.5)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.parametrize("case", by_task(CASES))
def test_forward_matches_golden(impl, golden, case):
    g = golden("activations")
    assert_close(forward_of(impl, case)(g["x"]), g[case], **tolerance(case),
                 what=f"{case} vs PyTorch on a grid from -1000 to 1000 (with 0, +-1e-300, +-1e-8)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.parametrize("case", by_task(CASES))
def test_derivative_matches_golden(impl, golden, case):
    g = golden("activations")
    assert_close(derivative_of(impl, case)(g["x"]), g[f"{case}_grad"], **tolerance(case),
                 what=f"derivative of {case} vs PyTorch autograd (0 included: check the convention at the kink)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.parametrize("case", by_task(["elu", "silu", "gelu", "gelu_tanh"]))
def test_float32_matches_pytorch_float32(impl, golden, case):
    g = golden("activations")
    x32 = g["x32"]
    out, grad = as_array(forward_of(impl, case)(x32)), as_array(derivative_of(impl, case)(x32))
    assert out.dtype == np.float32 and grad.dtype == np.float32, f"{case}: float32 in must give float32 out"
    assert_close(out, g[f"{case}_f32"], rtol=1e-5, atol=1e-6, what=f"float32 {case} vs PyTorch float32")
    assert_close(grad, g[f"{case}_grad_f32"], rtol=1e-5, atol=1e-6, what=f"float32 derivative of {case} vs PyTorch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_derivative_conventions_at_zero(impl):
    zero = np.array([0.0])
    checks = [("relu_grad(0)", impl.relu_grad(zero), 0.0),
              ("leaky_relu_grad(0, negative_slope=0.2)", impl.leaky_relu_grad(zero, 0.2), 0.2),
              ("elu_grad(0, alpha=0.5)", impl.elu_grad(zero, 0.5), 0.5),
              ("elu_grad(0, alpha=1)", impl.elu_grad(zero), 1.0),
              ("silu_grad(0)", impl.silu_grad(zero), 0.5),
              ("swish_grad(0, beta=2)", impl.swish_grad(zero, 2.0), 0.5),
              ("gelu_grad(0)", impl.gelu_grad(zero), 0.5),
              ("gelu_grad(0, 'tanh')", impl.gelu_grad(zero, approximate="tanh"), 0.5)]
    for what, got, expected in checks:
        assert_close(got, [expected], rtol=1e-12, atol=1e-7,
                     what=f"{what} (PyTorch's autograd: relu'(0) = 0, leaky'(0) = slope, elu'(0) = alpha)")
    tiny = np.array([-1e-300, 1e-300])
    assert_close(impl.relu_grad(tiny), [0.0, 1.0], what="relu_grad(+-1e-300): the sign decides, however small")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_erf_accuracy(impl):
    x = np.concatenate([np.linspace(-6, 6, 2401), [-30.0, -10.0, -1e-8, 1e-8, 10.0, 30.0]])
    expected = np.array([math.erf(v) for v in x])
    got = as_array(impl.erf(x)).astype(np.float64)
    worst = float(np.abs(got - expected).max())
    assert worst < 1e-7, (
        f"erf is off by up to {worst:.2e} (at x = {x[np.argmax(np.abs(got - expected))]:.3f}); it must be within 1e-7 "
        f"(Abramowitz-Stegun 7.1.26 is only 1.5e-7: see hint 3 for a series accurate to 1e-15)")
    assert_close(as_array(impl.erf(-x)), -got, rtol=0, atol=1e-12, what="erf(-x) = -erf(x) (erf is odd)")
    assert_close(impl.erf(np.array([0.0])), [0.0], atol=1e-12, what="erf(0)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_gelu_exact_and_tanh_are_close_but_different(impl):
    x = np.linspace(-6, 6, 1201)
    exact, approx = as_array(impl.gelu(x)), as_array(impl.gelu(x, approximate="tanh"))
    gap = float(np.abs(exact - approx).max())
    assert gap < 1e-3, (f"exact and tanh GELU differ by up to {gap:.2e}: the tanh form approximates the exact one "
                        f"to < 1e-3 (constant sqrt(2/pi)? the 0.044715 x^3 term?)")
    assert gap > 1e-5, (f"exact and tanh GELU differ by only {gap:.1e}: approximate='none' must be x * Phi(x) "
                        f"with erf, not the tanh formula")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_silu_is_x_times_sigmoid_and_swish_limits(impl):
    x = np.linspace(-30, 30, 601)
    sigmoid = load_topic(5).sigmoid
    assert_close(impl.silu(x), x * as_array(sigmoid(x)), rtol=1e-12, atol=1e-15, what="silu(x) vs x * sigmoid(x)")
    assert_close(impl.swish(x, 1.0), impl.silu(x), rtol=1e-12, atol=1e-15, what="swish(x, beta=1) vs silu(x)")
    assert_close(impl.swish(x, 0.0), x / 2, rtol=1e-12, what="swish(x, beta=0) = x * sigmoid(0) = x / 2")
    assert_close(impl.swish(x, 50.0), np.maximum(x, 0), atol=1e-2, what="swish with a large beta tends to ReLU")
    assert_close(impl.swish_grad(x, 1.0), impl.silu_grad(x), rtol=1e-12, atol=1e-15, what="swish_grad(beta=1) vs silu_grad")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("alpha", [0.5, 1.0, 1.3])
def test_elu_continuity_and_derivative_identity(impl, alpha):
    eps = np.array([-1e-9, 1e-9])
    assert np.all(np.abs(as_array(impl.elu(eps, alpha))) <= 2e-9 * max(1, alpha)), (
        f"elu(+-1e-9, alpha={alpha}) = {as_array(impl.elu(eps, alpha))}: ELU is continuous at 0 "
        f"(alpha * (exp(x) - 1), not alpha * exp(x))")
    neg = np.linspace(-6, -0.01, 300)
    assert_close(impl.elu_grad(neg, alpha), as_array(impl.elu(neg, alpha)) + alpha, rtol=1e-12, atol=1e-15,
                 what=f"elu'(x) = elu(x) + alpha for x < 0 (alpha={alpha})")
    pos = np.linspace(0.01, 6, 300)
    assert_close(impl.elu_grad(pos, alpha), np.ones_like(pos), rtol=1e-12,
                 what=f"elu'(x) for x > 0 with alpha={alpha}: the positive side is x, its slope is 1 (alpha plays no part)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_leaky_relu_slope_only_on_negative_side(impl):
    pos, neg = np.linspace(0.01, 5, 50), np.linspace(-5, -0.01, 50)
    assert_close(impl.leaky_relu(pos, 0.2), pos, rtol=1e-15, what="leaky_relu of positive inputs is x itself")
    assert_close(impl.leaky_relu(neg, 0.2), 0.2 * neg, rtol=1e-15, what="leaky_relu of negative inputs is slope * x")
    assert_close(impl.leaky_relu_grad(pos, 0.2), np.ones(50), what="leaky_relu' = 1 on the positive side")
    assert_close(impl.leaky_relu_grad(neg, 0.2), np.full(50, 0.2), what="leaky_relu' = slope on the negative side")
    assert_close(impl.leaky_relu(neg), 0.01 * neg, rtol=1e-15, what="the default negative_slope is 0.01 (as PyTorch)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
@pytest.mark.parametrize("name", ["leaky_relu_02", "elu_13", "silu", "gelu", "gelu_tanh"])
def test_layers_match_golden(impl, golden, name):
    g = golden("layers")
    layer = make_layers(impl)[name]
    tol = tolerance("gelu" if name == "gelu" else name)
    out = as_array(layer.forward(g["x"])).copy()
    assert_close(out, g[f"{name}_out"], **tol, what=f"{layer!r}.forward vs torch.nn")
    assert_close(layer.backward(g["dout"]), g[f"{name}_dx"], **tol,
                 what=f"{layer!r}.backward(dout) vs torch autograd: dx = dout * f'(x)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_layer_backward_uses_the_last_forward(impl):
    rng = np.random.default_rng(4)
    x1, x2, dout = rng.standard_normal((3, 5)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    derivatives = {"leaky_relu_02": lambda x: impl.leaky_relu_grad(x, 0.2), "elu_13": lambda x: impl.elu_grad(x, 1.3),
                   "silu": impl.silu_grad, "gelu": impl.gelu_grad,
                   "gelu_tanh": lambda x: impl.gelu_grad(x, approximate="tanh")}
    for name, layer in make_layers(impl).items():
        layer.forward(x1)
        layer.forward(x2)
        assert_close(layer.backward(dout), dout * as_array(derivatives[name](x2)), rtol=1e-12, atol=1e-15,
                     what=f"{layer!r}.backward after two forward calls: it must use the input of the last one")


# ----------------------------------------------------------------------------------------------------
# Dead neurons
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_dead_neurons_on_a_constructed_batch(impl):
    # 5 samples (rows) x 4 units (columns). Unit 0: always 0 (dead). Unit 1: 0 except one sample (alive).
    # Unit 2: <= 0 everywhere (dead; a leaky output can be negative). Unit 3: always positive (alive).
    # Sample 0 is 0 for every unit: counting per sample would report 1/5 instead of 2/4.
    a = np.array([[0.0, 0.0, 0.0, 0.0],
                  [0.0, 0.0, -0.1, 0.5],
                  [0.0, 2.0, 0.0, 1.5],
                  [0.0, 0.0, -0.3, 0.2],
                  [0.0, 0.0, 0.0, 0.9]])
    mask = as_array(impl.find_dead_neurons(a))
    assert mask.tolist() == [True, False, True, False], (
        f"find_dead_neurons gave {mask.tolist()}, expected [True, False, True, False]: a unit (a column) is dead "
        f"when it is <= 0 for EVERY sample (reduce over axis 0, the batch)")
    frac = impl.dead_neuron_fraction(a)
    assert frac == pytest.approx(0.5), (
        f"dead_neuron_fraction = {frac}, expected 2 dead units of 4 = 0.5 (0.2 = 1 of 5 samples: counted per sample?)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_dead_neuron_threshold(impl):
    a = np.array([[0.05, 0.0, 3.0], [0.02, 0.2, 0.0], [0.0, 0.0, 1.0]])
    assert as_array(impl.find_dead_neurons(a)).tolist() == [False, False, False], "threshold 0: no unit is dead here"
    assert as_array(impl.find_dead_neurons(a, threshold=0.1)).tolist() == [True, False, False], (
        "with threshold=0.1 a unit whose activations never exceed 0.1 counts as dead")
    assert impl.dead_neuron_fraction(a, threshold=0.1) == pytest.approx(1 / 3)
    assert impl.dead_neuron_fraction(np.zeros((4, 6))) == 1.0, "an all-zero batch: every unit is dead"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_dead_relu_experiment_large_learning_rate(impl):
    r = impl.dead_relu_experiment(lr=10.0, seed=0)
    relu, leaky = r["relu"], r["leaky_relu"]
    assert relu["negative_at_init"] == 0.0, "with bias 0 no unit starts dead"
    assert relu["negative_after_burst"] >= 0.25, (
        f"10 SGD steps at lr 10 should kill at least a quarter of the ReLU units, got {relu['negative_after_burst']:.2f}")
    assert relu["negative_at_end"] >= relu["negative_after_burst"], (
        "a dead ReLU unit gets zero gradient and can never come back: negative_at_end >= negative_after_burst")
    assert relu["dead_at_end"] == relu["negative_at_end"], "for ReLU, zero derivative everywhere <=> z <= 0 everywhere"
    assert leaky["dead_at_end"] == 0.0, "a LeakyReLU unit always passes negative_slope: none can be dead"
    assert leaky["negative_at_end"] <= 0.5 * relu["negative_at_end"], (
        f"LeakyReLU(0.1) units recover: {leaky['negative_at_end']:.2f} in the negative region vs "
        f"{relu['negative_at_end']:.2f} dead ReLU units")
    assert leaky["loss_at_end"] < relu["loss_at_end"], "the network that kept its units alive fits the data better"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_dead_relu_experiment_negative_bias(impl):
    r = impl.dead_relu_experiment(lr=0.5, bias_init=-3.0, seed=0)
    relu, leaky = r["relu"], r["leaky_relu"]
    assert relu["negative_at_init"] >= 0.2, f"a bias of -3 should start >= 20% of the units dead, got {relu['negative_at_init']}"
    assert leaky["negative_at_init"] == relu["negative_at_init"], "both networks must start from the same weights"
    assert relu["negative_at_end"] >= relu["negative_at_init"], "dead ReLU units never come back"
    assert leaky["negative_at_end"] < leaky["negative_at_init"], "LeakyReLU units pushed below 0 can come back"
    assert leaky["loss_at_end"] < relu["loss_at_end"]


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_dead_relu_experiment_sane_learning_rate(impl):
    r = impl.dead_relu_experiment(lr=0.5, seed=0)
    assert r["relu"]["dead_at_end"] <= 0.05, f"at lr 0.5 ReLU units should survive, {r['relu']['dead_at_end']:.2f} died"
    assert r["relu"]["loss_at_end"] < 0.2, f"at lr 0.5 the task is learned, loss {r['relu']['loss_at_end']:.3f}"


# ----------------------------------------------------------------------------------------------------
# Initialisation vs activation statistics
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_forward_activations_use_topic05_initializers(impl):
    """Same seed, same draws as Topic 05's MLP: one Generator, Topic 05's initialisers, first layer to last."""
    x = np.random.default_rng(5).standard_normal((7, 12))
    mlp = load_topic(5).MLP
    for activation, init in (("relu", "kaiming"), ("tanh", "xavier"), ("relu", 0.5), ("tanh", "kaiming")):
        mine = impl.forward_activations([12, 10, 9, 8], activation, init, x, seed=4)
        ref = mlp([12, 10, 9, 8, 3], activation=activation, init=init, seed=4).hidden_activations(x)
        for i, (h, r) in enumerate(zip(mine, ref)):
            assert_close(h, r, rtol=1e-10, atol=1e-12,
                         what=f"layer {i + 1} with activation={activation!r}, init={init!r} vs Topic 05's MLP "
                              f"(same seed: draw every layer from ONE default_rng(seed), with Topic 05's initialisers)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_init_comparison_relu_std_at_layer_10(impl):
    x = np.random.default_rng(0).standard_normal((64, 128))
    sizes = [128] * 11
    kaiming = [s for _, s in impl.activation_statistics(sizes, "relu", "kaiming", x)]
    xavier = [s for _, s in impl.activation_statistics(sizes, "relu", "xavier", x)]
    normal = [s for _, s in impl.activation_statistics(sizes, "relu", 1.0, x)]
    assert 0.7 < kaiming[0] < 0.95, (
        f"layer-1 std with Kaiming is {kaiming[0]:.3f}; relu of N(0, 2) has std sqrt(2) * 0.584 = 0.83 (gain sqrt 2?)")
    drift = [s / kaiming[0] for s in kaiming]
    assert all(0.5 < d < 2 for d in drift), (
        f"Kaiming must keep the ReLU activation std roughly constant, layer/first ratios {np.round(drift, 2).tolist()}")
    assert xavier[9] < 0.1 * xavier[0], (
        f"Xavier (gain 1) halves the variance at every ReLU layer: layer 10 std {xavier[9]:.3g} should be < 0.1x "
        f"layer 1's {xavier[0]:.3g}")
    assert normal[9] > 1e6 * kaiming[9], f"N(0, 1) weights must explode (x ~8 per layer), layer 10 std is {normal[9]:.3g}"
    means = [m for m, _ in impl.activation_statistics(sizes, "relu", "kaiming", x)]
    assert all(m > 0 for m in means), "ReLU activations are >= 0, so every layer's mean is positive"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_compare_initializations_table(impl):
    table = impl.compare_initializations(activations=("relu", "silu"), inits=("xavier", 0.5), depth=4, width=16,
                                         batch=8, seed=3)
    expected_keys = {("relu", "xavier"), ("relu", 0.5), ("silu", "xavier"), ("silu", 0.5)}
    assert set(table) == expected_keys, f"table keys {sorted(map(str, table))}, expected (activation, init) pairs"
    x = np.random.default_rng(4).standard_normal((8, 16))            # default_rng(seed + 1)
    for (activation, init), stats in table.items():
        assert len(stats) == 4, f"{(activation, init)}: {len(stats)} layers, expected depth = 4"
        direct = impl.activation_statistics([16] * 5, activation, init, x, seed=3)
        assert_close(np.array(stats), np.array(direct), rtol=1e-12,
                     what=f"table[{(activation, init)}] vs activation_statistics with x = default_rng(seed + 1)")


# ----------------------------------------------------------------------------------------------------
# Defaults: the default arguments of the signatures in questions.md
# ----------------------------------------------------------------------------------------------------

DEFAULT_CASES = [  # (function, the documented default spelled out, task)
    ("leaky_relu", {"negative_slope": 0.01}, 2), ("leaky_relu_grad", {"negative_slope": 0.01}, 2),
    ("elu", {"alpha": 1.0}, 3), ("elu_grad", {"alpha": 1.0}, 3),
    ("swish", {"beta": 1.0}, 4), ("swish_grad", {"beta": 1.0}, 4),
    ("gelu", {"approximate": "none"}, 5), ("gelu_grad", {"approximate": "none"}, 5),
]


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.parametrize("name,spelled_out", [pytest.param(n, kw, id=n, marks=pytest.mark.task(t))
                                              for n, kw, t in DEFAULT_CASES])
def test_activation_defaults_are_the_documented_ones(impl, name, spelled_out):
    x = np.linspace(-3.0, 3.0, 25)
    f = getattr(impl, name)
    arg = ", ".join(f"{k}={v!r}" for k, v in spelled_out.items())
    assert_close(f(x), f(x, **spelled_out), rtol=0, atol=0,
                 what=f"{name}(x) vs {name}(x, {arg}) (the default of your signature must be {arg})")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_layer_defaults_are_the_documented_ones(impl):
    x = np.linspace(-3.0, 3.0, 12).reshape(3, 4)
    for cls, attribute, value in (("LeakyReLU", "negative_slope", 0.01), ("ELU", "alpha", 1.0),
                                  ("GELU", "approximate", "none")):
        layer, spelled_out = getattr(impl, cls)(), getattr(impl, cls)(**{attribute: value})
        assert getattr(layer, attribute) == value, (
            f"{cls}().{attribute} = {getattr(layer, attribute)!r}, expected the default {value!r}")
        assert_close(layer.forward(x), spelled_out.forward(x), rtol=0, atol=0,
                     what=f"{cls}().forward vs {cls}({attribute}={value!r}).forward")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_dead_neuron_defaults_and_constants(impl):
    a = np.array([[0.5, 0.0, 2.0], [0.25, -1.0, 0.0]])   # unit 0 is alive (> 0) but below 1
    assert as_array(impl.find_dead_neurons(a)).tolist() == as_array(impl.find_dead_neurons(a, 0.0)).tolist() == \
        [False, True, False], "find_dead_neurons(a) must use threshold=0.0 by default"
    assert impl.dead_neuron_fraction(a) == impl.dead_neuron_fraction(a, 0.0), "dead_neuron_fraction: threshold=0.0"
    assert (impl.BURST_STEPS, impl.RECOVERY_STEPS, impl.RECOVERY_LR) == (10, 100, 0.5), (
        "keep the starter's constants BURST_STEPS = 10, RECOVERY_STEPS = 100, RECOVERY_LR = 0.5, got "
        f"{(impl.BURST_STEPS, impl.RECOVERY_STEPS, impl.RECOVERY_LR)}")
    X, y = (as_array(v) for v in impl.make_toy_classification())
    X2, y2 = (as_array(v) for v in impl.make_toy_classification(n=128, d=8, num_classes=3, seed=0))
    assert np.array_equal(X, X2) and np.array_equal(y, y2), "make_toy_classification() defaults: 128, 8, 3, seed=0"
    got = impl.dead_relu_experiment()
    want = impl.dead_relu_experiment(lr=10.0, bias_init=0.0, negative_slope=0.1, seed=0)
    for act in ("relu", "leaky_relu"):
        for key, value in want[act].items():
            assert float(got[act][key]) == float(value), (
                f"dead_relu_experiment()[{act!r}][{key!r}] = {got[act][key]} but {value} with lr=10.0, "
                f"bias_init=0.0, negative_slope=0.1, seed=0 spelled out: check the defaults of your signature")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_init_statistics_defaults_and_seed(impl):
    import inspect

    x = np.random.default_rng(8).standard_normal((6, 5))
    sizes = [5, 7, 4]
    for name in ("forward_activations", "activation_statistics"):
        f = getattr(impl, name)
        got, want = f(sizes, "relu", "kaiming", x), f(sizes, "relu", "kaiming", x, seed=0)
        assert_close(np.concatenate([np.ravel(as_array(v)) for v in got]),
                     np.concatenate([np.ravel(as_array(v)) for v in want]), rtol=0, atol=0,
                     what=f"{name}(...) vs {name}(..., seed=0) (the default seed is 0)")
    hs = impl.forward_activations(sizes, "relu", 0.7, x, seed=5)
    stats = impl.activation_statistics(sizes, "relu", 0.7, x, seed=5)
    expected = [(float(np.mean(as_array(h))), float(np.std(as_array(h)))) for h in hs]
    assert_close(np.array(stats, dtype=float), np.array(expected), rtol=1e-12,
                 what="activation_statistics(..., seed=5) vs the mean and std of forward_activations(..., seed=5) "
                      "(pass the seed on)")
    one = impl.activation_statistics(sizes, "tanh", "xavier", x[:1])
    assert len(one) == 2, "activation_statistics of a batch of one sample is defined (only an empty batch raises)"
    table = impl.compare_initializations(depth=2, width=6, batch=5)
    expected_keys = [(a, i) for a in ("relu", "tanh") for i in ("xavier", "kaiming", 1.0)]
    assert sorted(table, key=str) == sorted(expected_keys, key=str), (
        f"compare_initializations() keys {list(table)}: the default activations are ('relu', 'tanh') and the "
        f"default inits ('xavier', 'kaiming', 1.0)")
    defaults = {k: p.default for k, p in inspect.signature(impl.compare_initializations).parameters.items()}
    wanted = {"depth": 10, "width": 256, "batch": 1000, "seed": 0}
    assert {k: defaults.get(k) for k in wanted} == wanted, (
        f"compare_initializations defaults {dict((k, defaults.get(k)) for k in wanted)}, expected {wanted}")


# ----------------------------------------------------------------------------------------------------
# Gradients: every derivative and every layer backward against finite differences (float64)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.parametrize("case", by_task(CASES))
def test_derivative_gradient_check(impl, case):
    # |x| <= 4: further left the GELU/SiLU slopes fall below 1e-5, under what differences of a sum resolve
    x = np.random.default_rng(6).uniform(-4, 4, (5, 6))
    if case in KINKED:
        x[np.abs(x) < 0.1] = 0.5                         # keep away from the kink at 0
    f, df = forward_of(impl, case), derivative_of(impl, case)
    report = check_layer(lambda x: (as_array(f(x)), x), lambda dout, x: dout * as_array(df(x)), x)
    assert report.passed, f"the derivative of {case} disagrees with finite differences of its forward:\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(6)
@pytest.mark.parametrize("name", ["leaky_relu_02", "elu_13", "silu", "gelu", "gelu_tanh"])
def test_layer_backward_gradient_check(impl, name):
    layer = make_layers(impl)[name]
    x = np.random.default_rng(7).uniform(-4, 4, (4, 6))
    x[np.abs(x) < 0.1] = -0.5                             # away from the kinks at 0
    report = check_layer(lambda x: (as_array(layer.forward(x)).copy(), None),
                         lambda dout, _: as_array(layer.backward(dout)).copy(), x)
    assert report.passed, f"{layer!r}.backward disagrees with finite differences of its forward:\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_layers_inside_a_network_gradient_check(impl):
    """Every layer of this topic between Topic 06 Linear layers: the parameter gradients of the whole network."""
    t06 = load_topic(6)
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    model = t06.Sequential(t06.Linear(5, 6, rng=0), impl.GELU(), t06.Linear(6, 6, rng=1), impl.SiLU(),
                           t06.Linear(6, 6, rng=2), impl.ELU(1.3), t06.Linear(6, 6, rng=3), impl.LeakyReLU(0.2),
                           t06.Linear(6, 6, rng=4), impl.GELU("tanh"), t06.Linear(6, 3, rng=5))
    params = model.parameters()
    _, dlogits = t06.softmax_cross_entropy(model.forward(X), y)
    model.backward(dlogits)
    report = check_model(lambda: float(t06.softmax_cross_entropy(model.forward(X), y)[0]),
                         {f"param{i}": p.data for i, p in enumerate(params)},
                         {f"param{i}": as_array(p.grad).copy() for i, p in enumerate(params)})
    assert report.passed, f"Linear/GELU/SiLU/ELU/LeakyReLU network: parameter gradients are wrong:\n{report}"
