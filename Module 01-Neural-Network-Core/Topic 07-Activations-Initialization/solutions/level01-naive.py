"""
Level 1: Naive Implementation
- Priority: Correctness over speed: every activation and derivative is a scalar formula applied element by element
- Constraints: Python loops and the math module (math.exp, math.expm1, math.tanh, math.erf, math.erfc);
               NumPy only to hold the arrays (and for the matrix products of the initialisation experiment)
- Target: Pass functional tests only (measured: 7x to 60x slower than level 2, see the README)

Topic 07: activation functions, their derivatives, dead neurons and initialisation.
    Activations (forward, derivative w.r.t. the input) : relu, leaky_relu, elu, swish / silu, gelu (exact, tanh)
    erf                                                : math.erf, one element at a time
    Layer classes (Layer protocol of Module 01)        : LeakyReLU, ELU, SiLU, GELU   (ReLU is Topic 06's)
    Dead neurons                                       : dead_neuron_fraction, find_dead_neurons, dead_relu_experiment
    Initialisation vs activation statistics            : forward_activations, activation_statistics,
                                                         compare_initializations

Every function works on any shape (0-d and empty too) and returns an array of the input's floating dtype
(integers -> float64). Derivatives at the kinks follow PyTorch's autograd: relu'(0) = 0,
leaky_relu'(0) = negative_slope, elu'(0) = alpha.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from dlfs.components import load_topic

topic03 = load_topic(3)            # SGD, for the dead-ReLU experiment
topic05 = load_topic(5)            # kaiming_normal / xavier_normal, linear: the initialisation experiment
loops05 = load_topic(5, level=1)   # Topic 05's element-by-element relu, sigmoid and tanh
topic06 = load_topic(6)            # Linear, ReLU, Sequential, softmax_cross_entropy

SQRT_HALF = math.sqrt(0.5)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Beyond these points the result is exact at the cap; the cap keeps beta * v and v ** 3 of a huge finite v
# from overflowing (to inf, and then inf * 0 = NaN in the derivatives).
SIGMOID_SATURATION = 1000.0   # |z| >= 1000: sigmoid(z) is exactly 0 or 1
GELU_TANH_SATURATION = 10.0   # |v| >= 10: the tanh of the tanh-GELU is exactly +-1


# ----------------------------------------------------------------------------------------------------
# Task 1: ReLU
# ----------------------------------------------------------------------------------------------------

def relu(x):
    """max(x, 0) elementwise: Topic 05's relu, after promoting integers to float."""
    return loops05.relu(_as_float(x))


def relu_grad(x):
    """1 where x > 0, else 0 (0 at x == 0, as PyTorch's autograd)."""
    return _elementwise(lambda v: 1.0 if v > 0 else 0.0, x)


# ----------------------------------------------------------------------------------------------------
# Task 2: LeakyReLU
# ----------------------------------------------------------------------------------------------------

def leaky_relu(x, negative_slope=0.01):
    """x if x > 0 else negative_slope * x (NaN > 0 is False, and slope * NaN is NaN)."""
    return _elementwise(lambda v: v if v > 0 else negative_slope * v, x)


def leaky_relu_grad(x, negative_slope=0.01):
    """1 if x > 0 else negative_slope (negative_slope at 0, as PyTorch)."""
    return _elementwise(lambda v: 1.0 if v > 0 else negative_slope, x)


# ----------------------------------------------------------------------------------------------------
# Task 3: ELU
# ----------------------------------------------------------------------------------------------------

def elu(x, alpha=1.0):
    """x if x > 0 else alpha * (exp(x) - 1). The else branch only sees x <= 0 (or NaN): no overflow.

    math.expm1(v) = exp(v) - 1 without the cancellation of 1.0000000001 - 1 for tiny v.
    """
    return _elementwise(lambda v: v if v > 0 else alpha * math.expm1(v), x)


def elu_grad(x, alpha=1.0):
    """1 if x > 0 else alpha * exp(x) (= elu(x) + alpha; alpha at x == 0, as PyTorch)."""
    return _elementwise(lambda v: 1.0 if v > 0 else alpha * math.exp(v), x)


# ----------------------------------------------------------------------------------------------------
# Task 4: Swish / SiLU
# ----------------------------------------------------------------------------------------------------

def _capped(v, limit):
    """v clipped to [-limit, limit] (NaN stays NaN)."""
    return max(-limit, min(v, limit)) if v == v else v


def _scaled(v, beta):
    """z = beta * v, with |z| capped at SIGMOID_SATURATION (where the sigmoid is exactly 0 or 1)."""
    return beta * _capped(v, SIGMOID_SATURATION / abs(beta)) if beta else 0.0


def swish(x, beta=1.0):
    """x * sigmoid(beta * x), with Topic 05's overflow-free sigmoid."""
    x = _as_float(x)
    s = loops05.sigmoid(_elementwise(lambda v: _scaled(v, beta), x))
    return _elementwise(lambda v, sv: v * sv, x, s)


def swish_grad(x, beta=1.0):
    """s + beta * x * s * (1 - s), s = sigmoid(beta * x): the product rule on x * s(beta x).

    With z = beta * x (capped): s * (1 + z * (1 - s)); where the cap applies, 1 - s or s is exactly 0.
    """
    x = _as_float(x)
    z = _elementwise(lambda v: _scaled(v, beta), x)
    s = loops05.sigmoid(z)
    return _elementwise(lambda zv, sv: sv * (1 + zv * (1 - sv)), z, s)


def silu(x):
    """x * sigmoid(x): swish with beta = 1."""
    return swish(x, 1.0)


def silu_grad(x):
    """sigmoid(x) * (1 + x * (1 - sigmoid(x)))."""
    return swish_grad(x, 1.0)


# ----------------------------------------------------------------------------------------------------
# Task 5: erf and GELU
# ----------------------------------------------------------------------------------------------------

def erf(x):
    """math.erf on every element (exact to the last bit of a float64)."""
    return _elementwise(math.erf, x)


def _normal_cdf(v):
    """Phi(v) = erfc(-v / sqrt 2) / 2: math.erfc keeps the left tail (Phi(-10) = 7.6e-24, not 0)."""
    return 0.5 * math.erfc(-v * SQRT_HALF)


def _check_approximate(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def _gelu_tanh(v):
    c = _capped(v, GELU_TANH_SATURATION)                # v ** 3 raises OverflowError for huge v
    u = SQRT_2_OVER_PI * (c + GELU_CUBIC * c * c * c)
    return 0.5 * v * (1.0 + math.tanh(u))


def _gelu_tanh_grad(v):
    c = _capped(v, GELU_TANH_SATURATION)                # beyond the cap 1 - T^2 is exactly 0: c does for v
    T = math.tanh(SQRT_2_OVER_PI * (c + GELU_CUBIC * c * c * c))
    du_dv = SQRT_2_OVER_PI * (1.0 + 3.0 * GELU_CUBIC * c * c)
    return 0.5 * (1.0 + T) + 0.5 * c * (1.0 - T * T) * du_dv


def gelu(x, approximate="none"):
    """x * Phi(x) (exact), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")."""
    _check_approximate(approximate)
    if approximate == "tanh":
        return _elementwise(_gelu_tanh, x)
    return _elementwise(lambda v: v * _normal_cdf(v), x)


def gelu_grad(x, approximate="none"):
    """Phi(x) + x * phi(x) (exact; phi the normal density), or the derivative of the tanh form."""
    _check_approximate(approximate)
    if approximate == "tanh":
        return _elementwise(_gelu_tanh_grad, x)
    return _elementwise(lambda v: _normal_cdf(v) + v * INV_SQRT_2PI * math.exp(-0.5 * v * v), x)


# ----------------------------------------------------------------------------------------------------
# Task 6: layer classes
# ----------------------------------------------------------------------------------------------------

class _Activation(ABC):
    """Shared plumbing of the parameter-free activation layers: cache the input, check dout, train/eval."""

    def __init__(self):
        self.training = True
        self._x = None

    @abstractmethod
    def _derivative(self, x):
        """The subclass's derivative f'(x), elementwise."""

    def backward(self, dout):
        """dx = dout * f'(x) element by element, x being the input of the last forward call."""
        if self._x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = np.asarray(dout)
        if dout.shape != self._x.shape:
            raise ValueError(f"dout must have the shape of x {self._x.shape}, got {dout.shape}")
        local = self._derivative(self._x)
        return _elementwise(lambda d, g: d * g, np.asarray(dout, dtype=np.result_type(dout, local)), local)

    def parameters(self):
        return []

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self


class LeakyReLU(_Activation):
    """leaky_relu as a layer."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        self._x = _as_float(x)
        return leaky_relu(self._x, self.negative_slope)

    def _derivative(self, x):
        return leaky_relu_grad(x, self.negative_slope)

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class ELU(_Activation):
    """elu as a layer."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        self._x = _as_float(x)
        return elu(self._x, self.alpha)

    def _derivative(self, x):
        return elu_grad(x, self.alpha)

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"


class SiLU(_Activation):
    """silu as a layer."""

    def forward(self, x):
        self._x = _as_float(x)
        return silu(self._x)

    def _derivative(self, x):
        return silu_grad(x)

    def __repr__(self):
        return "SiLU()"


class GELU(_Activation):
    """gelu as a layer; approximate="none" or "tanh"."""

    def __init__(self, approximate="none"):
        _check_approximate(approximate)
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        self._x = _as_float(x)
        return gelu(self._x, self.approximate)

    def _derivative(self, x):
        return gelu_grad(x, self.approximate)

    def __repr__(self):
        return f"GELU(approximate={self.approximate!r})"


# ----------------------------------------------------------------------------------------------------
# Task 7: dead neurons
# ----------------------------------------------------------------------------------------------------

def _check_batch(activations) -> np.ndarray:
    a = np.asarray(activations)
    if a.ndim != 2:
        raise ValueError(f"activations must be a (N, H) batch (one row per sample, one column per unit), "
                         f"got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("an empty batch (N = 0) says nothing about which units are dead")
    return a


def find_dead_neurons(activations, threshold=0.0):
    """(N, H) -> (H,) bool: unit j is dead when activations[n, j] <= threshold for every sample n."""
    a = _check_batch(activations)
    rows = a.tolist()
    mask = []
    for j in range(a.shape[1]):                  # one unit = one column
        dead = True
        for row in rows:                         # ... looked at in every sample
            if not row[j] <= threshold:          # `not <=` so that NaN counts as alive
                dead = False
                break
        mask.append(dead)
    return np.array(mask, dtype=bool)


def dead_neuron_fraction(activations, threshold=0.0):
    """Number of dead units / number of units (0.0 when there are no units)."""
    mask = find_dead_neurons(activations, threshold).tolist()
    return sum(mask) / len(mask) if mask else 0.0


def make_toy_classification(n=128, d=8, num_classes=3, seed=0):
    """X ~ N(0, 1) of shape (n, d), y = argmax(X @ W_teacher), W_teacher ~ N(0, 1). Not graded."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal((d, num_classes))
    return X, np.argmax(X @ teacher, axis=1)


BURST_STEPS = 10       # dead_relu_experiment: full-batch SGD steps at the learning rate under test ...
RECOVERY_STEPS = 100   # ... then this many steps at a sane learning rate, to see which units come back
RECOVERY_LR = 0.5


def _train(model, X, y, lr, steps):
    """`steps` full-batch SGD steps on the softmax cross-entropy of model(X) against y."""
    optimizer = topic03.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        _, dlogits = topic06.softmax_cross_entropy(model.forward(X), y)
        model.backward(dlogits)
        optimizer.step()


def dead_relu_experiment(lr=10.0, bias_init=0.0, negative_slope=0.1, seed=0):
    """Train the same Linear(8, 32) -> act -> Linear(32, 3) with act = ReLU and act = LeakyReLU(negative_slope):
    BURST_STEPS SGD steps at `lr`, then RECOVERY_STEPS at RECOVERY_LR; count the hidden units that die.

    Returns {"relu": stats, "leaky_relu": stats} with the fractions "negative_at_init", "negative_after_burst",
    "negative_at_end" (pre-activation <= 0 for every sample), "dead_at_end" (derivative 0 for every sample)
    and the final training loss "loss_at_end".
    """
    X, y = make_toy_classification(n=128, d=8, num_classes=3, seed=seed)
    variants = (("relu", topic06.ReLU, relu_grad),
                ("leaky_relu", lambda: LeakyReLU(negative_slope), lambda z: leaky_relu_grad(z, negative_slope)))
    results = {}
    for name, make_activation, derivative in variants:
        rng = np.random.default_rng(seed + 1)            # the same initial weights for both networks
        first, last = topic06.Linear(8, 32, rng=rng), topic06.Linear(32, 3, rng=rng)
        first.bias.data[...] = bias_init
        model = topic06.Sequential(first, make_activation(), last)

        def pre_activations():
            return topic05.linear(X, first.weight.data, first.bias.data)   # (128, 32)

        stats = {"negative_at_init": dead_neuron_fraction(pre_activations())}
        _train(model, X, y, lr, BURST_STEPS)
        stats["negative_after_burst"] = dead_neuron_fraction(pre_activations())
        _train(model, X, y, RECOVERY_LR, RECOVERY_STEPS)
        z = pre_activations()
        stats["negative_at_end"] = dead_neuron_fraction(z)
        stats["dead_at_end"] = dead_neuron_fraction(derivative(z))
        stats["loss_at_end"] = float(topic06.softmax_cross_entropy(model.forward(X), y)[0])
        results[name] = stats
    return results


# ----------------------------------------------------------------------------------------------------
# Task 8: initialisation vs activation statistics
# ----------------------------------------------------------------------------------------------------

ACTIVATION_NAMES = ("relu", "leaky_relu", "elu", "silu", "gelu", "tanh")
_KAIMING_NONLINEARITY = {"relu": ("relu", 0.0), "leaky_relu": ("leaky_relu", 0.01), "elu": ("relu", 0.0),
                         "silu": ("relu", 0.0), "gelu": ("relu", 0.0), "tanh": ("tanh", 0.0)}


def _activation_function(name):
    functions = {"relu": relu, "leaky_relu": leaky_relu, "elu": elu, "silu": silu, "gelu": gelu,
                 "tanh": loops05.tanh}
    if name not in functions:
        raise ValueError(f"unknown activation {name!r}: use one of {ACTIVATION_NAMES}")
    return functions[name]


def _init_weight(init, fan_in, fan_out, rng, dtype, activation):
    """One (fan_in, fan_out) weight matrix from Topic 05's initialisers, drawn from the Generator rng."""
    if isinstance(init, str):
        if init == "kaiming":
            nonlinearity, a = _KAIMING_NONLINEARITY[activation]
            return topic05.kaiming_normal(fan_in, fan_out, rng=rng, dtype=dtype, nonlinearity=nonlinearity, a=a)
        if init == "xavier":
            return topic05.xavier_normal(fan_in, fan_out, rng=rng, dtype=dtype)
    elif isinstance(init, (int, float)) and not isinstance(init, bool) and init > 0:
        return rng.normal(0.0, float(init), size=(fan_in, fan_out)).astype(dtype, copy=False)
    raise ValueError(f"unknown init {init!r}: use 'kaiming', 'xavier' or a positive number (the std)")


def forward_activations(layer_sizes, activation, init, x, seed=0):
    """[h_1, ..., h_L]: h_i = act(h_{i-1} @ W_i + 0) for layer_sizes = [D_in, H_1, ..., H_L], h_0 = x.

    The weights come from Topic 05's initialisers, drawn from one Generator default_rng(seed), layer by layer.
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"layer_sizes needs at least an input and one layer size, all >= 1, got {layer_sizes}")
    act = _activation_function(activation)
    h = _as_float(x)
    if h.ndim != 2 or h.shape[1] != sizes[0]:
        raise ValueError(f"x must be (N, {sizes[0]}) for layer_sizes {sizes}, got shape {h.shape}")
    rng = np.random.default_rng(seed)
    outputs = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = _init_weight(init, fan_in, fan_out, rng, h.dtype, activation)
        h = act(topic05.linear(h, W, np.zeros(fan_out, dtype=h.dtype)))
        outputs.append(h)
    return outputs


def _mean_and_std(values):
    """Population mean and standard deviation of a list of floats (math.fsum: no rounding drift)."""
    n = len(values)
    mean = math.fsum(values) / n
    return mean, math.sqrt(math.fsum((v - mean) ** 2 for v in values) / n)


def activation_statistics(layer_sizes, activation, init, x, seed=0):
    """[(mean, std) of layer 1, ..., (mean, std) of layer L] of forward_activations. ValueError for N = 0."""
    if np.shape(x)[:1] == (0,):
        raise ValueError("activation statistics of an empty batch are undefined")
    return [_mean_and_std(h.ravel().tolist()) for h in forward_activations(layer_sizes, activation, init, x, seed)]


def compare_initializations(activations=("relu", "tanh"), inits=("xavier", "kaiming", 1.0), depth=10,
                            width=256, batch=1000, seed=0):
    """{(activation, init): activation_statistics([width] * (depth + 1), ...)} for every pair, on the input
    x = np.random.default_rng(seed + 1).standard_normal((batch, width)), weights from seed `seed`."""
    x = np.random.default_rng(seed + 1).standard_normal((batch, width))
    sizes = [width] * (depth + 1)
    table = {}
    for act in activations:
        for init in inits:
            table[(act, init)] = activation_statistics(sizes, act, init, x, seed=seed)
    return table


# ----------------------------------------------------------------------------------------------------
# Input checks and small helpers (below the lesson code: read the lesson first)
# ----------------------------------------------------------------------------------------------------

def _as_float(x) -> np.ndarray:
    """Floating arrays keep their dtype; integers, bools and Python numbers become float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _elementwise(fn, x, *others) -> np.ndarray:
    """fn(v, o1, o2, ...) for every element v of x (and the matching elements of `others`, same shape).

    The arithmetic happens on Python floats (float64); the result is stored in x's floating dtype.
    """
    x = _as_float(x)
    columns = [x.ravel().tolist()] + [np.asarray(o).ravel().tolist() for o in others]
    values = [fn(*vs) for vs in zip(*columns)]
    return np.array(values, dtype=x.dtype).reshape(x.shape)


if __name__ == "__main__":
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for name, f, df in (("relu", relu, relu_grad), ("leaky_relu", leaky_relu, leaky_relu_grad), ("elu", elu, elu_grad),
                        ("silu", silu, silu_grad), ("gelu", gelu, gelu_grad)):
        print(f"{name:>10}: f = {np.round(f(x), 4)}   f' = {np.round(df(x), 4)}")
    assert relu_grad(np.array([0.0]))[0] == 0 and leaky_relu_grad(np.array([0.0]), 0.2)[0] == 0.2
    assert elu_grad(np.array([0.0]), 0.5)[0] == 0.5

    big = np.array([-1000.0, 1000.0])
    print("silu(+-1000) =", silu(big), " gelu(+-1000) =", gelu(big), " elu(+-1000) =", elu(big))
    assert np.allclose(silu(big), [0.0, 1000.0]) and np.allclose(elu(big), [-1.0, 1000.0])

    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0]])
    print("dead units:", find_dead_neurons(a), "fraction", dead_neuron_fraction(a))
    assert find_dead_neurons(a).tolist() == [True, False, False]

    stats = activation_statistics([64] * 11, "relu", "kaiming", np.random.default_rng(1).standard_normal((32, 64)))
    print("relu + kaiming, std by layer:", " ".join(f"{s:.2f}" for _, s in stats))
    assert all(0.3 < s < 2 for _, s in stats)
    print("level 1 self-test passed")
