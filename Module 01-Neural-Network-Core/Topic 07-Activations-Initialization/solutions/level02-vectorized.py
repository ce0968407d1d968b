"""
Level 2: Vectorized Implementation
- Priority: Clarity and speed: every activation and every derivative is one NumPy expression over the array
- Constraints: NumPy ufuncs and np.where, no Python loops over elements (only over layers and Chebyshev terms)
- Target: Pass every test; the reference later topics import with load_topic(7)

Topic 07: activation functions, their derivatives, dead neurons and initialisation.
    Activations (forward, derivative w.r.t. the input) : relu, leaky_relu, elu, swish / silu, gelu (exact, tanh)
    erf without SciPy                                  : a Chebyshev fit of erfc, |error| < 1e-15
    Layer classes (Layer protocol of Module 01)        : LeakyReLU, ELU, SiLU, GELU   (ReLU is Topic 06's)
    Dead neurons                                       : dead_neuron_fraction, find_dead_neurons, dead_relu_experiment
    Initialisation vs activation statistics            : forward_activations, activation_statistics,
                                                         compare_initializations

Conventions (shared by Module 01): x is (N, D) with one row per sample, W is (D_in, D_out), b is (D_out,).
Every function is elementwise, works on any shape (0-d and empty too), and keeps the floating dtype of its
input (float32 in -> float32 out); integer input is treated as float64. Derivatives at the kinks follow
PyTorch's autograd: relu'(0) = 0, leaky_relu'(0) = negative_slope, elu'(0) = alpha.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

from dlfs.components import load_topic

topic03 = load_topic(3)  # SGD and Parameter, for the dead-ReLU experiment
topic05 = load_topic(5)  # relu, sigmoid (stable), tanh, kaiming_normal / xavier_normal, linear
topic06 = load_topic(6)  # Linear, ReLU, Sequential, softmax_cross_entropy

SQRT_HALF = math.sqrt(0.5)                  # x / sqrt(2) inside the normal CDF
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)   # the tanh-GELU constant
GELU_CUBIC = 0.044715                       # the tanh-GELU cubic coefficient
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)  # normal density at 0

# Saturation points: beyond them the result is exact at the cap, and the cap keeps squares and products of
# huge finite inputs (x = 1e200, or 3e38 in float32) from overflowing (no warning, no inf * 0 = NaN).
SIGMOID_SATURATION = 1000.0   # |z| >= 1000: sigmoid(z) is exactly 0 or 1 (exp(-1000) underflows to 0)
GELU_TANH_SATURATION = 10.0   # |x| >= 10: tanh(sqrt(2/pi) (x + 0.044715 x^3)) is exactly +-1 in float32 and float64
ERFC_ZERO = 30.0              # z >= 30: erfc(z) < 1e-392, exactly 0 in floating point
DENSITY_ZERO = 40.0           # |x| >= 40: exp(-x^2 / 2) underflows to 0

# erfc(z) = t * exp(-z**2 + sum_k c_k T_k(y)) for z >= 0, t = 2 / (2 + z), y = 2t - 1 in (-1, 1]:
# a Chebyshev series (Numerical Recipes, 3rd ed., section 6.2.2). The exponent is smooth in t, so 28 terms give
# |erf error| < 3e-16 on the whole real line (measured against math.erf) and a relative erfc error < 1e-14
# up to z = 26, where erfc reaches the smallest float64 numbers.
ERFC_CHEBYSHEV = (
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
    -1.624290004647e-6, 1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8,
    6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
    9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13,
    3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
    -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
)


# ----------------------------------------------------------------------------------------------------
# Task 1: ReLU
# ----------------------------------------------------------------------------------------------------

def relu(x):
    """max(x, 0) elementwise (Topic 05's relu, with integer input promoted to float). NaN stays NaN."""
    return topic05.relu(_as_float(x))


def relu_grad(x):
    """d relu / dx = 1 where x > 0, else 0. At x == 0 it is 0, as PyTorch's autograd gives."""
    x = _as_float(x)
    return (x > 0).astype(x.dtype)


# ----------------------------------------------------------------------------------------------------
# Task 2: LeakyReLU
# ----------------------------------------------------------------------------------------------------

def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, negative_slope * x elsewhere: negative inputs keep a small slope instead of a flat 0."""
    x = _as_float(x)
    return np.where(x > 0, x, negative_slope * x)   # NaN > 0 is False, and slope * NaN is NaN


def leaky_relu_grad(x, negative_slope=0.01):
    """1 where x > 0, negative_slope elsewhere (at x == 0 too, as PyTorch). Never 0 unless the slope is."""
    x = _as_float(x)
    return np.where(x > 0, 1, negative_slope).astype(x.dtype)


# ----------------------------------------------------------------------------------------------------
# Task 3: ELU
# ----------------------------------------------------------------------------------------------------

def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere: smooth, saturates at -alpha for very negative x.

    exp is only ever evaluated at min(x, 0) <= 0, so x = 1000 cannot overflow; expm1 keeps the digits of
    exp(x) - 1 for tiny x (exp(1e-10) - 1 loses six of them).
    """
    x = _as_float(x)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def elu_grad(x, alpha=1.0):
    """1 where x > 0, alpha * exp(x) = elu(x) + alpha elsewhere (alpha at x == 0, as PyTorch)."""
    x = _as_float(x)
    return np.where(x > 0, 1, alpha * np.exp(np.minimum(x, 0))).astype(x.dtype)


# ----------------------------------------------------------------------------------------------------
# Task 4: Swish / SiLU
# ----------------------------------------------------------------------------------------------------

def _scaled(x, beta):
    """z = beta * x with |z| capped at SIGMOID_SATURATION, where sigmoid(z) is already exactly 0 or 1.

    The cap is applied to x (at SIGMOID_SATURATION / |beta|), so beta * x itself never overflows.
    """
    if beta == 0:
        return np.zeros_like(x)
    limit = SIGMOID_SATURATION / abs(beta)
    return beta * np.clip(x, -limit, limit)


def swish(x, beta=1.0):
    """x * sigmoid(beta * x). beta = 1 is SiLU; beta -> infinity tends to ReLU; beta = 0 gives x / 2.

    Topic 05's sigmoid never overflows (it only exponentiates -|x|), so neither does swish at x = +-1000.
    """
    x = _as_float(x)
    return x * topic05.sigmoid(_scaled(x, beta))


def swish_grad(x, beta=1.0):
    """d/dx [x * s(beta x)] = s + beta * x * s * (1 - s), with s = sigmoid(beta * x).

    Written with z = beta * x (capped): s * (1 + z * (1 - s)). Where the cap applies, s * (1 - s) is exactly 0.
    """
    x = _as_float(x)
    z = _scaled(x, beta)
    s = topic05.sigmoid(z)
    return s * (1 + z * (1 - s))


def silu(x):
    """SiLU(x) = x * sigmoid(x): swish with beta = 1 (torch.nn.SiLU)."""
    return swish(x, 1.0)


def silu_grad(x):
    """sigmoid(x) * (1 + x * (1 - sigmoid(x))): the product rule, s + x * s * (1 - s)."""
    return swish_grad(x, 1.0)


# ----------------------------------------------------------------------------------------------------
# Task 5: erf and GELU
# ----------------------------------------------------------------------------------------------------

def _erfc_nonneg(z):
    """erfc(z) for z >= 0 (float array), by the Chebyshev series of ERFC_CHEBYSHEV and Clenshaw's recurrence.

    Clenshaw evaluates sum_k c_k T_k(y) without forming any T_k: d_j = 2y d_{j+1} - d_{j+2} + c_j.
    Here 2y = 4t - 2. The result has the relative accuracy of a float even where erfc is 1e-300.
    z is capped at ERFC_ZERO (erfc is exactly 0 beyond), so z * z cannot overflow for huge finite z.
    """
    z = np.minimum(z, ERFC_ZERO)
    t = 2 / (2 + z)
    two_y = 4 * t - 2
    d = np.zeros_like(z)
    dd = np.zeros_like(z)
    for c in ERFC_CHEBYSHEV[:0:-1]:          # c_27 down to c_1
        d, dd = two_y * d - dd + c, d
    series = 0.5 * (ERFC_CHEBYSHEV[0] + two_y * d) - dd
    return t * np.exp(-z * z + series)


def erf(x):
    """The error function erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise, |error| < 1e-15.

    erf(x) = 1 - erfc(|x|) for x >= 0 and erfc(|x|) - 1 for x < 0 (erf is odd). NaN stays NaN; erf(+-inf) = +-1.
    """
    x = _as_float(x)
    e = _erfc_nonneg(np.abs(x))
    return np.where(x >= 0, 1 - e, e - 1).astype(x.dtype, copy=False)


def _normal_cdf(x):
    """Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2, computed so that the left tail keeps its digits.

    x < 0: erfc(|x| / sqrt 2) / 2 directly (e.g. Phi(-10) = 7.6e-24);  x >= 0: 1 - erfc(x / sqrt 2) / 2.
    (1 + erf(x / sqrt 2)) / 2 is the same number in exact arithmetic but rounds Phi(-10) to 0.)
    """
    half_e = 0.5 * _erfc_nonneg(np.abs(x) * SQRT_HALF)
    return np.where(x < 0, half_e, 1 - half_e)


def _check_approximate(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


def _gelu_tanh_T(x):
    """tanh(sqrt(2/pi) (x + 0.044715 x^3)), with x capped at +-GELU_TANH_SATURATION (where it is already +-1):
    x ** 3 of a huge finite x would overflow."""
    xc = np.clip(x, -GELU_TANH_SATURATION, GELU_TANH_SATURATION)
    return np.tanh(SQRT_2_OVER_PI * (xc + GELU_CUBIC * xc ** 3))


def gelu(x, approximate="none"):
    """GELU(x) = x * Phi(x), Phi the standard normal CDF (approximate="none", torch's default).

    approximate="tanh": 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))), the approximation of
    Hendrycks & Gimpel (2016) used by GPT-2; it differs from the exact GELU by less than 1e-3.
    """
    _check_approximate(approximate)
    x = _as_float(x)
    if approximate == "tanh":
        return 0.5 * x * (1 + _gelu_tanh_T(x))
    return (x * _normal_cdf(x)).astype(x.dtype, copy=False)


def gelu_grad(x, approximate="none"):
    """d GELU / dx.

    exact: Phi(x) + x * phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi) the normal density.
    tanh:  with u = sqrt(2/pi) (x + 0.044715 x^3) and T = tanh(u):
           0.5 (1 + T) + 0.5 x (1 - T^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).
    """
    _check_approximate(approximate)
    x = _as_float(x)
    if approximate == "tanh":
        # capped x: beyond the cap 1 - T^2 is exactly 0, so the second term is 0 with x or with the cap
        xc = np.clip(x, -GELU_TANH_SATURATION, GELU_TANH_SATURATION)
        T = _gelu_tanh_T(xc)
        du_dx = SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * xc * xc)
        return 0.5 * (1 + T) + 0.5 * xc * (1 - T * T) * du_dx
    xc = np.clip(x, -DENSITY_ZERO, DENSITY_ZERO)      # x * x of a huge finite x would overflow
    density = INV_SQRT_2PI * np.exp(-0.5 * xc * xc)
    return (_normal_cdf(x) + x * density).astype(x.dtype, copy=False)


# ----------------------------------------------------------------------------------------------------
# Task 6: layer classes (Layer protocol: forward caches, backward returns dx, no parameters)
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
        """dout: dL/dout, shaped like the last forward input -> dx = dout * f'(x), same shape."""
        if self._x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = np.asarray(dout)
        if dout.shape != self._x.shape:
            raise ValueError(f"dout must have the shape of x {self._x.shape}, got {dout.shape}")
        return dout * self._derivative(self._x)

    def parameters(self):
        return []

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self


class LeakyReLU(_Activation):
    """leaky_relu as a layer: forward(x) -> leaky_relu(x, negative_slope); backward(dout) -> dx."""

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
    """elu as a layer: forward(x) -> elu(x, alpha); backward(dout) -> dx."""

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
    """silu (swish with beta = 1) as a layer."""

    def forward(self, x):
        self._x = _as_float(x)
        return silu(self._x)

    def _derivative(self, x):
        return silu_grad(x)

    def __repr__(self):
        return "SiLU()"


class GELU(_Activation):
    """gelu as a layer; approximate="none" (exact, erf-based) or "tanh"."""

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
    """(N, H) post-activation batch -> (H,) bool mask: True for a unit that is <= threshold for EVERY sample.

    A dead ReLU unit outputs 0 for every input, so its gradient is 0 for every input and it never learns
    again. The reduction is over the batch axis (axis 0): a unit is a column, not a row.
    NaN is not <= threshold, so a unit that produced a NaN is not counted as dead.
    """
    a = _check_batch(activations)
    return np.all(a <= threshold, axis=0)


def dead_neuron_fraction(activations, threshold=0.0):
    """Fraction (a float in [0, 1]) of the H units of a (N, H) batch that are dead on this batch."""
    mask = find_dead_neurons(activations, threshold)
    return float(mask.mean()) if mask.size else 0.0


def make_toy_classification(n=128, d=8, num_classes=3, seed=0):
    """A small separable task: X ~ N(0, 1) of shape (n, d), y = argmax(X @ W_teacher) with W_teacher ~ N(0, 1).

    Returns X (n, d) float64 and y (n,) int64. Not graded: the data of dead_relu_experiment.
    """
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
    """Kill ReLU units with a burst of large steps (or a negative bias), then see which units come back.

    The same network, Linear(8, 32) -> act -> Linear(32, 3) (Topic 06 layers, weights from
    np.random.default_rng(seed + 1)), is trained twice on make_toy_classification(seed=seed) with
    softmax cross-entropy and full-batch SGD (Topic 03): once with act = ReLU, once with
    act = LeakyReLU(negative_slope). Training: BURST_STEPS steps at `lr`, then RECOVERY_STEPS steps at
    RECOVERY_LR. bias_init: the first layer's bias starts at this value (a large negative bias starts units dead).

    Returns {"relu": stats, "leaky_relu": stats}; in stats, fractions of the 32 hidden units whose
    pre-activation z = x @ W1 + b1 is <= 0 for every sample: "negative_at_init", "negative_after_burst",
    "negative_at_end"; "dead_at_end": fraction whose activation derivative is 0 for every sample (no gradient
    reaches their weights: for ReLU exactly the negative units, for LeakyReLU none); "loss_at_end": the
    final training loss.
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
            return X @ first.weight.data + first.bias.data   # (128, 32)

        stats = {"negative_at_init": dead_neuron_fraction(pre_activations())}
        _train(model, X, y, lr, BURST_STEPS)
        stats["negative_after_burst"] = dead_neuron_fraction(pre_activations())
        _train(model, X, y, RECOVERY_LR, RECOVERY_STEPS)
        z = pre_activations()
        stats["negative_at_end"] = dead_neuron_fraction(z)
        stats["dead_at_end"] = dead_neuron_fraction(derivative(z))   # derivative 0 for every sample
        stats["loss_at_end"] = float(topic06.softmax_cross_entropy(model.forward(X), y)[0])
        results[name] = stats
    return results


# ----------------------------------------------------------------------------------------------------
# Task 8: initialisation vs activation statistics
# ----------------------------------------------------------------------------------------------------

ACTIVATION_NAMES = ("relu", "leaky_relu", "elu", "silu", "gelu", "tanh")
# kaiming init: the gain of torch.nn.init.calculate_gain for this nonlinearity. It has no entry for ELU, SiLU
# and GELU; the ReLU gain sqrt(2) is the usual choice for these ReLU-like functions.
_KAIMING_NONLINEARITY = {"relu": ("relu", 0.0), "leaky_relu": ("leaky_relu", 0.01), "elu": ("relu", 0.0),
                         "silu": ("relu", 0.0), "gelu": ("relu", 0.0), "tanh": ("tanh", 0.0)}


def _activation_function(name):
    functions = {"relu": relu, "leaky_relu": leaky_relu, "elu": elu, "silu": silu, "gelu": gelu,
                 "tanh": topic05.tanh}
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
    """Forward x through len(layer_sizes) - 1 layers h = act(h @ W + b), the activation after EVERY layer.

    layer_sizes: [D_in, H_1, ..., H_L]; x: (N, D_in). Weights: init "kaiming" (Topic 05's kaiming_normal with
    the activation's gain), "xavier" (xavier_normal, gain 1) or a number s > 0 (N(0, s^2)); all drawn from ONE
    Generator np.random.default_rng(seed), first layer to last (as Topic 05's MLP); biases are 0.
    Returns [h_1, ..., h_L], h_i of shape (N, H_i), in x's floating dtype.
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


def activation_statistics(layer_sizes, activation, init, x, seed=0):
    """[(mean, std), ...]: the mean and standard deviation of every layer's activations (floats), one pair per
    layer of forward_activations. Raises ValueError for an empty batch."""
    if np.shape(x)[:1] == (0,):
        raise ValueError("activation statistics of an empty batch are undefined")
    return [(float(np.mean(h)), float(np.std(h))) for h in forward_activations(layer_sizes, activation, init, x, seed)]


def compare_initializations(activations=("relu", "tanh"), inits=("xavier", "kaiming", 1.0), depth=10,
                            width=256, batch=1000, seed=0):
    """The init-comparison table: {(activation, init): [(mean, std) of layer 1, ..., of layer `depth`]}.

    Every network has `depth` layers of `width` units (layer_sizes = [width] * (depth + 1)); the input is
    x = np.random.default_rng(seed + 1).standard_normal((batch, width)), the weights use seed `seed`.
    """
    x = np.random.default_rng(seed + 1).standard_normal((batch, width))
    sizes = [width] * (depth + 1)
    return {(act, init): activation_statistics(sizes, act, init, x, seed=seed) for act in activations for init in inits}


# ----------------------------------------------------------------------------------------------------
# Input checks and small helpers (below the lesson code: read the lesson first)
# ----------------------------------------------------------------------------------------------------

def _as_float(x) -> np.ndarray:
    """Floating arrays keep their dtype; integers, bools and Python numbers become float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


if __name__ == "__main__":
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for name, f, df in (("relu", relu, relu_grad), ("leaky_relu", leaky_relu, leaky_relu_grad), ("elu", elu, elu_grad),
                        ("silu", silu, silu_grad), ("gelu", gelu, gelu_grad)):
        print(f"{name:>10}: f = {np.round(f(x), 4)}   f' = {np.round(df(x), 4)}")
    assert relu_grad(0.0) == 0 and leaky_relu_grad(0.0, 0.2) == np.float64(0.2) and elu_grad(0.0, 0.5) == 0.5

    grid = np.linspace(-6, 6, 1201)
    worst = max(abs(float(e) - math.erf(v)) for e, v in zip(erf(grid), grid))
    print(f"erf: largest error against math.erf on [-6, 6]: {worst:.1e}")
    assert worst < 1e-14
    gap = np.abs(gelu(grid) - gelu(grid, approximate="tanh")).max()
    print(f"exact GELU vs tanh GELU: largest difference {gap:.1e}")
    assert 0 < gap < 1e-3

    with np.errstate(over="raise", invalid="raise", divide="raise"):
        big = np.array([-1000.0, 1000.0])
        print("silu(+-1000) =", silu(big), " gelu(+-1000) =", gelu(big), " elu(+-1000) =", elu(big))

    a = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 3.0, 0.0], [0.0, 0.0, 0.0]])
    print("dead units:", find_dead_neurons(a), "fraction", dead_neuron_fraction(a))
    assert find_dead_neurons(a).tolist() == [True, False, False]

    result = dead_relu_experiment(lr=10.0)
    relu_stats, leaky_stats = result["relu"], result["leaky_relu"]
    print(f"10 steps at lr 10, then 100 at lr 0.5: ReLU units dead {relu_stats['dead_at_end']:.2f} "
          f"(loss {relu_stats['loss_at_end']:.2f}); LeakyReLU units dead {leaky_stats['dead_at_end']:.2f}, "
          f"negative {leaky_stats['negative_at_end']:.2f} (loss {abs(leaky_stats['loss_at_end']):.2f})")
    assert relu_stats["dead_at_end"] > 0.25 and leaky_stats["dead_at_end"] == 0.0

    table = compare_initializations(activations=("relu",), depth=10, width=128, batch=256)
    for init in ("xavier", "kaiming", 1.0):
        print(f"relu, init={init!s:>7}: std by layer", " ".join(f"{s:.3g}" for _, s in table[("relu", init)]))
    assert 0.5 < table[("relu", "kaiming")][-1][1] / table[("relu", "kaiming")][0][1] < 2
    print("level 2 self-test passed")
