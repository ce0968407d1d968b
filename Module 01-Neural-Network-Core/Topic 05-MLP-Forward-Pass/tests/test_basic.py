"""Topic 05 basic tests: shapes, initialisation statistics, activations, softmax invariants, MLP forward vs golden."""

import math

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close, assert_shape

# the four initialisers as parametrize cases, each marked with its task of questions.md (2: Xavier, 3: Kaiming)
INITS = [pytest.param(name, marks=pytest.mark.task(2 if name.startswith("xavier") else 3))
         for name in ("xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal")]


def _std_ratio(W, expected_std):
    return float(np.std(as_array(W).astype(np.float64))) / expected_std


def _check_statistics(W, expected_std, bound=None, what="W"):
    """Mean ~ 0, std within 3% of the formula, and (uniform) every value inside [-bound, bound]."""
    W = as_array(W).astype(np.float64)
    ratio = W.std() / expected_std
    assert abs(ratio - 1) < 0.03, (
        f"{what}: std {W.std():.5f}, the formula gives {expected_std:.5f} ({ratio:.2f}x): "
        f"check the fan (fan_in vs fan_out vs fan_in + fan_out), the gain and the square root")
    assert abs(W.mean()) < 0.02 * expected_std, f"{what}: mean {W.mean():.2e} should be ~0 (a zero-centred draw)"
    if bound is not None:
        assert np.abs(W).max() <= bound * (1 + 1e-6), (
            f"{what}: max |W| = {np.abs(W).max():.5f} exceeds the bound {bound:.5f} of U(-bound, bound)")
        assert np.abs(W).max() > 0.99 * bound, (
            f"{what}: max |W| = {np.abs(W).max():.5f}, far inside the bound {bound:.5f}: "
            f"is it U(-bound, bound), not U(0, bound) or a normal?")


# ------------------------------------------------------------------------------------------ shapes

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.parametrize("name", INITS)
def test_init_shape_is_fan_in_by_fan_out(impl, name):
    W = getattr(impl, name)(784, 100, rng=0)
    assert_shape(W, (784, 100), f"{name}(784, 100)")
    assert as_array(W).dtype == np.float64, f"{name} returned {as_array(W).dtype}, the default dtype is float64"
    W32 = getattr(impl, name)(784, 100, rng=0, dtype=np.float32)
    assert as_array(W32).dtype == np.float32, f"{name}(dtype=np.float32) returned {as_array(W32).dtype}"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_activations_keep_shape_and_dtype(impl):
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    for fn in ("relu", "sigmoid", "tanh", "softmax", "log_softmax"):
        for dtype in (np.float64, np.float32):
            out = as_array(getattr(impl, fn)(x.astype(dtype)))
            assert_shape(out, x.shape, f"{fn}({dtype.__name__} input)")
            assert out.dtype == dtype, f"{fn} turned {dtype.__name__} input into {out.dtype}: keep the input's dtype"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_linear_shape(impl):
    rng = np.random.default_rng(0)
    out = impl.linear(rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3))
    assert_shape(out, (5, 3), "linear(x (5, 4), W (4, 3), b (3,))")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_mlp_parameter_shapes_and_count(impl):
    model = impl.MLP([784, 128, 64, 10])
    shapes = [tuple(np.shape(W)) for W in model.weights]
    assert shapes == [(784, 128), (128, 64), (64, 10)], (
        f"weights have shapes {shapes}, expected [(784, 128), (128, 64), (64, 10)] (x @ W: W is (D_in, D_out))")
    assert [tuple(np.shape(b)) for b in model.biases] == [(128,), (64,), (10,)], "biases are (D_out,) vectors"
    for b in model.biases:
        assert not np.any(as_array(b)), "biases start at zero"
    expected = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert model.num_parameters() == expected, f"num_parameters() = {model.num_parameters()}, expected {expected}"


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_mlp_forward_and_proba_shapes(impl):
    model = impl.MLP([20, 16, 16, 7], seed=1)
    x = np.random.default_rng(0).standard_normal((9, 20))
    assert_shape(model.forward(x), (9, 7), "MLP.forward (9, 20) -> logits")
    assert_shape(model.predict_proba(x), (9, 7), "MLP.predict_proba")
    hidden = model.hidden_activations(x)
    assert [tuple(np.shape(h)) for h in hidden] == [(9, 16), (9, 16)], (
        f"hidden_activations shapes {[np.shape(h) for h in hidden]}, expected one (9, 16) array per hidden layer")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_mlp_float32_end_to_end(impl):
    model = impl.MLP([12, 8, 3], dtype=np.float32)
    assert all(as_array(W).dtype == np.float32 for W in model.weights), "MLP(dtype=float32) needs float32 weights"
    assert all(as_array(b).dtype == np.float32 for b in model.biases), "MLP(dtype=float32) needs float32 biases"
    out = as_array(model.forward(np.ones((4, 12), dtype=np.float32)))
    assert out.dtype == np.float32, f"a float32 model returned {out.dtype} logits: something upcast to float64"


# ------------------------------------------------------------------------------------------ init values

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_calculate_gain_values(impl):
    cases = [(("linear",), 1.0), (("sigmoid",), 1.0), (("tanh",), 5 / 3), (("relu",), math.sqrt(2)),
             (("leaky_relu",), math.sqrt(2 / (1 + 0.01 ** 2))), (("leaky_relu", 0.2), math.sqrt(2 / 1.04)),
             (("leaky_relu", 0.0), math.sqrt(2)), (("selu",), 0.75)]
    for args, expected in cases:
        got = impl.calculate_gain(*args)
        assert abs(got - expected) < 1e-12, f"calculate_gain{args} = {got}, expected {expected:.6f}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("shape", [(784, 100), (100, 784)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_uniform_statistics(impl, shape, gain):
    fan_in, fan_out = shape
    bound = gain * math.sqrt(6 / (fan_in + fan_out))
    W = impl.xavier_uniform(fan_in, fan_out, rng=1, gain=gain)
    _check_statistics(W, bound / math.sqrt(3), bound, f"xavier_uniform{shape}, gain={gain:.3f}")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("shape", [(784, 100), (100, 784)])
@pytest.mark.parametrize("gain", [1.0, 5 / 3])
def test_xavier_normal_statistics(impl, shape, gain):
    fan_in, fan_out = shape
    W = impl.xavier_normal(fan_in, fan_out, rng=2, gain=gain)
    _check_statistics(W, gain * math.sqrt(2 / (fan_in + fan_out)), None, f"xavier_normal{shape}, gain={gain:.3f}")


KAIMING_CASES = [("relu", 0.0, math.sqrt(2)), ("leaky_relu", 0.2, math.sqrt(2 / 1.04)),
                 ("linear", 0.0, 1.0), ("tanh", 0.0, 5 / 3)]


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("nonlinearity,a,gain", KAIMING_CASES)
def test_kaiming_uniform_statistics(impl, nonlinearity, a, gain):
    bound = gain * math.sqrt(3 / 512)
    W = impl.kaiming_uniform(512, 512, rng=3, nonlinearity=nonlinearity, a=a)
    _check_statistics(W, bound / math.sqrt(3), bound, f"kaiming_uniform(512, 512, {nonlinearity}, a={a})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("nonlinearity,a,gain", KAIMING_CASES)
def test_kaiming_normal_statistics(impl, nonlinearity, a, gain):
    W = impl.kaiming_normal(512, 512, rng=4, nonlinearity=nonlinearity, a=a)
    _check_statistics(W, gain / math.sqrt(512), None, f"kaiming_normal(512, 512, {nonlinearity}, a={a})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", ["kaiming_uniform", "kaiming_normal"])
def test_kaiming_uses_fan_in(impl, name):
    # (784, 100): sqrt(2/784) = 0.051 with fan_in, sqrt(2/100) = 0.141 with fan_out
    W = getattr(impl, name)(784, 100, rng=5)
    ratio = _std_ratio(W, math.sqrt(2 / 784))
    assert abs(ratio - 1) < 0.03, (
        f"{name}(784, 100): std is {ratio:.2f}x sqrt(2 / fan_in). 2.8x means you used fan_out = 100; "
        f"0.71x means the relu gain sqrt(2) is missing")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_mlp_init_schemes(impl):
    sizes = [784, 256, 10]
    cases = [("kaiming", "relu", math.sqrt(2 / 784)), ("kaiming", "tanh", (5 / 3) / math.sqrt(784)),
             ("xavier", "relu", math.sqrt(2 / (784 + 256))), (0.01, "relu", 0.01), (1.0, "tanh", 1.0)]
    for init, act, std in cases:
        W0 = impl.MLP(sizes, activation=act, init=init, seed=0).weights[0]
        ratio = _std_ratio(W0, std)
        assert abs(ratio - 1) < 0.03, (
            f"MLP(init={init!r}, activation={act!r}): first-layer std is {ratio:.2f}x the expected {std:.4f}")


# ------------------------------------------------------------------------------------------ activations

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_activation_values_by_hand(impl):
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    assert_close(impl.relu(x), [0.0, 0.0, 0.0, 0.5, 2.0], what="relu")
    s = 1 / (1 + np.exp(-x))
    assert_close(impl.sigmoid(x), s, rtol=1e-12, what="sigmoid")
    assert_close(impl.tanh(x), np.tanh(x), rtol=1e-12, what="tanh")
    assert_close(impl.sigmoid(np.array([-745.0, 745.0])), [0.0, 1.0], atol=1e-300, what="sigmoid at +-745")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_activations_match_golden(impl, golden):
    g = golden("activations")
    for fn in ("relu", "sigmoid", "tanh"):
        assert_close(getattr(impl, fn)(g["x"]), g[fn], rtol=1e-10, atol=1e-15, what=f"{fn} vs PyTorch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_sigmoid_symmetry(impl):
    x = np.linspace(-30, 30, 121)
    s, s_neg = as_array(impl.sigmoid(x)), as_array(impl.sigmoid(-x))
    assert_close(s + s_neg, np.ones_like(x), rtol=1e-12, what="sigmoid(x) + sigmoid(-x)")
    assert np.all(np.diff(s) >= 0), "sigmoid must be non-decreasing"


# ------------------------------------------------------------------------------------------ softmax

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_softmax_rows_sum_to_one(impl):
    logits = np.random.default_rng(0).standard_normal((6, 10)) * 4
    p = as_array(impl.softmax(logits))
    sums = p.sum(axis=1)
    assert np.allclose(sums, 1.0, atol=1e-12), (
        f"softmax rows sum to {sums.round(4)}, not 1: did you normalise over the wrong axis (axis=0)?")
    assert (p >= 0).all(), "softmax returned negative probabilities"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_softmax_by_hand(impl):
    # [0, ln 3] -> [1/4, 3/4]; [0, 0, 0] -> 1/3 each
    p = impl.softmax(np.array([[0.0, math.log(3.0), -np.inf], [0.0, 0.0, 0.0]]))
    assert_close(p, [[0.25, 0.75, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-12, what="softmax")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_softmax_shift_invariance(impl):
    logits = np.random.default_rng(1).standard_normal((4, 6))
    base = as_array(impl.softmax(logits))
    for c in (-500.0, 7.0, 800.0):
        assert_close(impl.softmax(logits + c), base, rtol=1e-9, atol=1e-14,
                     what=f"softmax(x + {c:g}) vs softmax(x): adding a constant must not change it")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_softmax_large_logits_finite(impl):
    p = impl.softmax(np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4]]))
    assert_all_finite(p, "softmax of logits around 1e4 (exp(1e4) overflows: subtract the row max first)")
    assert_close(p, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-12, what="softmax of logits around 1e4")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_softmax_matches_golden(impl, golden):
    g = golden("softmax")
    assert_close(impl.softmax(g["logits"]), g["softmax"], rtol=1e-10, atol=1e-15, what="softmax vs PyTorch")
    assert_close(impl.softmax(g["cols"], axis=0), g["softmax_axis0"], rtol=1e-10, atol=1e-15,
                 what="softmax(axis=0) vs PyTorch")
    assert_close(impl.softmax(g["x3"], axis=1), g["softmax_axis1"], rtol=1e-10, atol=1e-15,
                 what="softmax of a 3-D array along axis=1 vs PyTorch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_log_softmax_matches_golden(impl, golden):
    g = golden("softmax")
    assert_close(impl.log_softmax(g["logits"]), g["log_softmax"], rtol=1e-10, atol=1e-12, what="log_softmax vs PyTorch")
    assert_close(impl.log_softmax(g["x3"], axis=1), g["log_softmax_axis1"], rtol=1e-10, atol=1e-12,
                 what="log_softmax of a 3-D array along axis=1 vs PyTorch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_log_softmax_large_gap(impl):
    lp = impl.log_softmax(np.array([[0.0, 1e4], [-1e4, 1e4]]))
    assert_all_finite(lp, "log_softmax with a gap of 1e4 between logits (log(softmax(x)) gives log(0) = -inf: "
                          "use x - max - log(sum(exp(x - max))))")
    assert_close(lp, [[-1e4, 0.0], [-2e4, 0.0]], rtol=1e-12, what="log_softmax with huge gaps")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_exp_log_softmax_equals_softmax(impl):
    logits = np.random.default_rng(2).standard_normal((5, 8)) * 10
    assert_close(np.exp(as_array(impl.log_softmax(logits))), impl.softmax(logits), rtol=1e-10, atol=1e-15,
                 what="exp(log_softmax(x)) vs softmax(x)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_softmax_axis_argument(impl):
    x = np.random.default_rng(3).standard_normal((4, 7))
    p0 = as_array(impl.softmax(x, axis=0))
    assert np.allclose(p0.sum(axis=0), 1.0), "softmax(x, axis=0): each column must sum to 1"
    assert_close(p0, as_array(impl.softmax(x.T, axis=1)).T, rtol=1e-12, what="softmax(x, axis=0) vs softmax(x.T).T")


# ------------------------------------------------------------------------------------------ linear and MLP

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_linear_by_hand(impl):
    x = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    W = np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.5]])
    b = np.array([0.5, -1.0, 2.0])
    expected = [[5.5, 1.0, 2.0], [-1.5, -2.0, 1.5], [4.5, -0.5, -0.75]]
    assert_close(impl.linear(x, W, b), expected, rtol=1e-12, what="linear (x @ W + b)")


def _golden_model(impl, g, activation):
    model = impl.MLP([6, 16, 16, 5], activation=activation, seed=0)
    model.weights = [g["W0"], g["W1"], g["W2"]]
    model.biases = [g["b0"], g["b1"], g["b2"]]
    return model


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_mlp_forward_matches_golden(impl, golden, activation):
    g = golden("mlp_forward")
    out = _golden_model(impl, g, activation).forward(g["x"])
    assert_close(out, g[f"logits_{activation}"], rtol=1e-9, atol=1e-12,
                 what=f"MLP forward ({activation}) vs torch.nn.Sequential with the same weights "
                      f"(activation after every layer except the last?)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_mlp_predict_proba_matches_golden(impl, golden):
    g = golden("mlp_forward")
    p = _golden_model(impl, g, "relu").predict_proba(g["x"])
    assert_close(p, g["proba_relu"], rtol=1e-9, atol=1e-12, what="MLP.predict_proba vs PyTorch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(8)
def test_deep_relu_net_activation_statistics(impl):
    """The CS231n experiment: 10 hidden ReLU layers of width 128, unit-Gaussian input."""
    x = np.random.default_rng(0).standard_normal((32, 128))
    sizes = [128] * 11 + [10]

    stds = [float(np.std(as_array(h))) for h in impl.MLP(sizes, init="kaiming", seed=0).hidden_activations(x)]
    assert len(stds) == 10, f"hidden_activations returned {len(stds)} arrays for 10 hidden layers"
    drift = [s / stds[0] for s in stds]
    assert all(0.5 < d < 2.0 for d in drift), (
        f"with Kaiming init the ReLU activation std should stay roughly constant, got layer/first ratios "
        f"{np.round(drift, 2).tolist()}: check the sqrt(2) gain and fan_in")

    big = float(np.std(as_array(impl.MLP(sizes, init=1.0, seed=0).hidden_activations(x)[-1])))
    assert big > 1e6 * stds[-1], (
        f"N(0, 1) weights should explode (std x ~8 per layer), the last layer's std is only {big:.3g}")
    small = float(np.std(as_array(impl.MLP(sizes, init=0.01, seed=0).hidden_activations(x)[-1])))
    assert small < 1e-6 * stds[-1], (
        f"N(0, 0.01^2) weights should vanish (std x ~0.08 per layer), the last layer's std is {small:.3g}")
