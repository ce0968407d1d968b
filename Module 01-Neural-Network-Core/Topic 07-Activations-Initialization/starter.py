"""
Topic 07: Activation Functions & Initialization - your implementation.

Copy this file to solution.py in the same folder, then replace every `raise NotImplementedError` with your
code, task by task (questions.md has the details, hints/ has help):

    cp starter.py solution.py
    python utils/test_runner.py --day 7          # from the repository root

Conventions (shared by Module 01, Topics 08-10 build on them):
- Every activation and derivative is elementwise: any shape in (0-d and empty too), the same shape out.
- dtype: float32 in -> float32 out, float64 in -> float64 out; integer input is treated as float64.
- Derivatives are with respect to the input, elementwise: f_grad(x)[i] = f'(x[i]). At the kinks they follow
  PyTorch's autograd: relu'(0) = 0, leaky_relu'(0) = negative_slope, elu'(0) = alpha.
- No overflow warnings for any finite x (try x = +-1000 in float32 and float64): exponentiate only
  numbers <= 0.
- Layers follow the Layer protocol of Module 01: forward(x) caches what backward needs, backward(dout)
  returns dx, parameters() is [] for an activation, train()/eval() set .training and return self.
- Never modify an input array in place.
"""

from __future__ import annotations

import math  # noqa: F401  (math.erf, math.exp, math.expm1, math.tanh: the scalar route)

import numpy as np

from dlfs.components import load_topic

topic03 = load_topic(3)  # topic03.SGD(params, lr): for the dead-ReLU experiment (Task 7)
topic05 = load_topic(5)  # relu, sigmoid (overflow-free), tanh, kaiming_normal, xavier_normal, linear
topic06 = load_topic(6)  # Linear, ReLU, Sequential, softmax_cross_entropy


# ----------------------------------------------------------------------------------------------------
# Task 1: ReLU and its derivative
# ----------------------------------------------------------------------------------------------------

def relu(x):
    """max(x, 0) elementwise (you may call Topic 05's topic05.relu). NaN stays NaN; integers -> float64."""
    raise NotImplementedError("Task 1: relu (see questions.md)")


def relu_grad(x):
    """d relu / dx: 1 where x > 0, else 0 (0 at x == 0, as PyTorch). Same shape and float dtype as x."""
    raise NotImplementedError("Task 1: relu_grad (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: LeakyReLU
# ----------------------------------------------------------------------------------------------------

def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, negative_slope * x elsewhere."""
    raise NotImplementedError("Task 2: leaky_relu (see questions.md)")


def leaky_relu_grad(x, negative_slope=0.01):
    """1 where x > 0, negative_slope elsewhere (negative_slope at x == 0, as PyTorch)."""
    raise NotImplementedError("Task 2: leaky_relu_grad (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: ELU
# ----------------------------------------------------------------------------------------------------

def elu(x, alpha=1.0):
    """x where x > 0, alpha * (exp(x) - 1) elsewhere. elu(1000) = 1000 without an overflow warning."""
    raise NotImplementedError("Task 3: elu (see questions.md)")


def elu_grad(x, alpha=1.0):
    """1 where x > 0, alpha * exp(x) (= elu(x) + alpha) elsewhere (alpha at x == 0, as PyTorch)."""
    raise NotImplementedError("Task 3: elu_grad (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: Swish / SiLU
# ----------------------------------------------------------------------------------------------------

def swish(x, beta=1.0):
    """x * sigmoid(beta * x). No overflow at x = -1000 (Topic 05's sigmoid is safe; 1 / (1 + exp(-x)) is not)."""
    raise NotImplementedError("Task 4: swish (see questions.md)")


def swish_grad(x, beta=1.0):
    """d/dx [x * sigmoid(beta x)] = s + beta * x * s * (1 - s), s = sigmoid(beta * x)."""
    raise NotImplementedError("Task 4: swish_grad (see questions.md)")


def silu(x):
    """SiLU(x) = x * sigmoid(x) = swish(x, beta=1)."""
    raise NotImplementedError("Task 4: silu (see questions.md)")


def silu_grad(x):
    """s * (1 + x * (1 - s)), s = sigmoid(x)."""
    raise NotImplementedError("Task 4: silu_grad (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: erf and GELU
# ----------------------------------------------------------------------------------------------------

def erf(x):
    """The error function, elementwise, within 1e-7 of math.erf everywhere (NumPy has no erf, SciPy is not
    allowed). math.erf element by element is a correct start; hint 3 shows a vectorized series."""
    raise NotImplementedError("Task 5: erf (see questions.md)")


def gelu(x, approximate="none"):
    """GELU(x) = x * Phi(x), Phi(x) = (1 + erf(x / sqrt(2))) / 2 the standard normal CDF (approximate="none");
    0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x**3))) for approximate="tanh".
    ValueError for any other `approximate`."""
    raise NotImplementedError("Task 5: gelu (see questions.md)")


def gelu_grad(x, approximate="none"):
    """Exact: Phi(x) + x * phi(x), phi(x) = exp(-x**2 / 2) / sqrt(2 pi). tanh: the derivative of the tanh form.
    ValueError for any other `approximate`."""
    raise NotImplementedError("Task 5: gelu_grad (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 6: layer classes (ReLU is Topic 06's)
# ----------------------------------------------------------------------------------------------------

class LeakyReLU:
    """leaky_relu as a layer. Attributes: negative_slope (float), training (True at first)."""

    def __init__(self, negative_slope=0.01):
        raise NotImplementedError("Task 6: LeakyReLU.__init__ (see questions.md)")

    def forward(self, x):
        """x: any shape -> leaky_relu(x, negative_slope); cache what backward needs."""
        raise NotImplementedError("Task 6: LeakyReLU.forward (see questions.md)")

    def backward(self, dout):
        """dout: shaped like the last forward's x -> dx = dout * leaky_relu_grad(x).
        RuntimeError before any forward; ValueError when dout's shape differs from x's."""
        raise NotImplementedError("Task 6: LeakyReLU.backward (see questions.md)")

    def parameters(self):
        """[] (nothing to learn)."""
        raise NotImplementedError("Task 6: LeakyReLU.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 6: LeakyReLU.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 6: LeakyReLU.eval (see questions.md)")


class ELU:
    """elu as a layer. Attributes: alpha (float), training."""

    def __init__(self, alpha=1.0):
        raise NotImplementedError("Task 6: ELU.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 6: ELU.forward (see questions.md)")

    def backward(self, dout):
        raise NotImplementedError("Task 6: ELU.backward (see questions.md)")

    def parameters(self):
        raise NotImplementedError("Task 6: ELU.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 6: ELU.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 6: ELU.eval (see questions.md)")


class SiLU:
    """silu as a layer. Attribute: training."""

    def __init__(self):
        raise NotImplementedError("Task 6: SiLU.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 6: SiLU.forward (see questions.md)")

    def backward(self, dout):
        raise NotImplementedError("Task 6: SiLU.backward (see questions.md)")

    def parameters(self):
        raise NotImplementedError("Task 6: SiLU.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 6: SiLU.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 6: SiLU.eval (see questions.md)")


class GELU:
    """gelu as a layer. Attributes: approximate ("none" or "tanh"; ValueError otherwise), training."""

    def __init__(self, approximate="none"):
        raise NotImplementedError("Task 6: GELU.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 6: GELU.forward (see questions.md)")

    def backward(self, dout):
        raise NotImplementedError("Task 6: GELU.backward (see questions.md)")

    def parameters(self):
        raise NotImplementedError("Task 6: GELU.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 6: GELU.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 6: GELU.eval (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 7: dead neurons
# ----------------------------------------------------------------------------------------------------

def find_dead_neurons(activations, threshold=0.0):
    """(N, H) batch of activations (one row per sample, one column per unit) -> (H,) bool mask:
    True for a unit whose activation is <= threshold for EVERY sample. NaN is not <= threshold.
    ValueError unless activations is 2-D with N >= 1."""
    raise NotImplementedError("Task 7: find_dead_neurons (see questions.md)")


def dead_neuron_fraction(activations, threshold=0.0):
    """The fraction (a Python float in [0, 1]) of the H units that are dead on this batch."""
    raise NotImplementedError("Task 7: dead_neuron_fraction (see questions.md)")


def make_toy_classification(n=128, d=8, num_classes=3, seed=0):
    """Given (not graded): X ~ N(0, 1) of shape (n, d), y = argmax(X @ W_teacher), W_teacher ~ N(0, 1).

    Returns X (n, d) float64 and y (n,) int64: the data of dead_relu_experiment.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal((d, num_classes))
    return X, np.argmax(X @ teacher, axis=1)


BURST_STEPS = 10       # dead_relu_experiment: full-batch SGD steps at the learning rate under test ...
RECOVERY_STEPS = 100   # ... then this many steps at a sane learning rate, to see which units come back
RECOVERY_LR = 0.5


def dead_relu_experiment(lr=10.0, bias_init=0.0, negative_slope=0.1, seed=0):
    """Kill ReLU units with a burst of large steps (or a negative bias), then see which units come back.

    X, y = make_toy_classification(seed=seed). Twice, with act = topic06.ReLU() and with
    act = LeakyReLU(negative_slope): rng = np.random.default_rng(seed + 1); model =
    topic06.Sequential(topic06.Linear(8, 32, rng=rng), act, topic06.Linear(32, 3, rng=rng)); the first
    layer's bias set to bias_init; BURST_STEPS full-batch SGD steps at lr, then RECOVERY_STEPS at RECOVERY_LR
    (softmax cross-entropy, topic03.SGD).

    Returns {"relu": stats, "leaky_relu": stats}, stats = {
        "negative_at_init", "negative_after_burst", "negative_at_end":  fractions of the 32 hidden units whose
                            pre-activation z = X @ W1 + b1 is <= 0 for every sample (before training, after the
                            burst, at the end),
        "dead_at_end":      fraction whose activation derivative is 0 for every sample at the end,
        "loss_at_end":      the final training loss (float)}.
    """
    raise NotImplementedError("Task 7: dead_relu_experiment (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 8: initialisation vs activation statistics
# ----------------------------------------------------------------------------------------------------

def forward_activations(layer_sizes, activation, init, x, seed=0):
    """Forward x through len(layer_sizes) - 1 layers h = act(h @ W + b), the activation after EVERY layer.

    layer_sizes: [D_in, H_1, ..., H_L]; x: (N, D_in) (ValueError otherwise).
    activation: "relu", "leaky_relu" (slope 0.01), "elu", "silu", "gelu" (exact) or "tanh".
    init: "kaiming" -> topic05.kaiming_normal with the activation's gain (nonlinearity "relu" for
          relu/elu/silu/gelu, "leaky_relu" with a=0.01, "tanh" for tanh); "xavier" -> topic05.xavier_normal;
          a number s > 0 -> N(0, s**2) weights, rng.normal(0.0, s, size=(fan_in, fan_out)).
    All weights from ONE Generator rng = np.random.default_rng(seed), first layer to last; biases 0.
    Returns [h_1, ..., h_L], h_i of shape (N, H_i), in x's floating dtype.
    ValueError for an unknown activation or init, or fewer than two layer sizes.
    """
    raise NotImplementedError("Task 8: forward_activations (see questions.md)")


def activation_statistics(layer_sizes, activation, init, x, seed=0):
    """[(mean, std) of layer 1, ..., (mean, std) of layer L] of forward_activations, as Python floats
    (std = the population standard deviation, np.std). ValueError for an empty batch."""
    raise NotImplementedError("Task 8: activation_statistics (see questions.md)")


def compare_initializations(activations=("relu", "tanh"), inits=("xavier", "kaiming", 1.0), depth=10,
                            width=256, batch=1000, seed=0):
    """The init-comparison table {(activation, init): activation_statistics(...)} for every pair.

    layer_sizes = [width] * (depth + 1); the same input for every pair,
    x = np.random.default_rng(seed + 1).standard_normal((batch, width)); weights from seed `seed`.
    """
    raise NotImplementedError("Task 8: compare_initializations (see questions.md)")
