"""
Topic 05: MLP Forward Pass - your implementation.

Copy this file to solution.py in the same folder, then replace every `raise NotImplementedError` with your
code, task by task (questions.md has the details, hints/ has help):

    cp starter.py solution.py
    python utils/test_runner.py --day 5          # from the repository root

Conventions (shared by Module 01, Topics 06-10 build on them):
- x is (N, D): one row per sample. W is (D_in, D_out), b is (D_out,), and a layer computes x @ W + b.
  (PyTorch's nn.Linear stores its weight transposed, as (D_out, D_in), and computes x @ W.T + b.)
- Every function keeps the floating dtype of its input: float32 in -> float32 out.
- `rng` is a np.random.Generator, an int seed, or None (fresh randomness): np.random.default_rng(rng)
  turns all three into a Generator. Never use the global np.random.seed.
"""

from __future__ import annotations

import math

import numpy as np


# ----------------------------------------------------------------------------------------------------
# Task 1: gains
# ----------------------------------------------------------------------------------------------------

def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the variance of activations constant through `nonlinearity` (as torch.nn.init).

    linear / sigmoid / conv1d, conv2d, conv3d, conv_transpose1d/2d/3d: 1
    tanh: 5/3      relu: sqrt(2)      selu: 3/4
    leaky_relu: sqrt(2 / (1 + slope**2)) with slope = param (0.01 when param is None)

    Raises ValueError for an unknown nonlinearity (or a leaky_relu slope that is not a number).
    """
    raise NotImplementedError("Task 1: calculate_gain (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: Xavier (Glorot) initialisation
# ----------------------------------------------------------------------------------------------------

def xavier_uniform(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """W ~ U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)).

    fan_in: inputs of the layer (D_in), fan_out: outputs (D_out), positive ints (ValueError otherwise).
    rng: np.random.Generator, int seed or None. dtype: a floating dtype (ValueError otherwise).
    Returns W of shape (fan_in, fan_out) and dtype `dtype`.
    """
    raise NotImplementedError("Task 2: xavier_uniform (see questions.md)")


def xavier_normal(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """W ~ N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out)). Returns (fan_in, fan_out)."""
    raise NotImplementedError("Task 2: xavier_normal (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: Kaiming (He) initialisation, fan_in mode
# ----------------------------------------------------------------------------------------------------

def kaiming_uniform(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """W ~ U(-bound, bound) with bound = gain * sqrt(3 / fan_in), gain = calculate_gain(nonlinearity, a).

    relu: gain sqrt(2); leaky_relu with slope a: sqrt(2 / (1 + a**2)); linear: 1.
    Returns W of shape (fan_in, fan_out); same argument checks as xavier_uniform.
    """
    raise NotImplementedError("Task 3: kaiming_uniform (see questions.md)")


def kaiming_normal(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """W ~ N(0, std**2) with std = gain / sqrt(fan_in). Returns (fan_in, fan_out)."""
    raise NotImplementedError("Task 3: kaiming_normal (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: activations (elementwise, any shape, same dtype out)
# ----------------------------------------------------------------------------------------------------

def relu(x):
    """max(x, 0) elementwise. NaN must stay NaN."""
    raise NotImplementedError("Task 4: relu (see questions.md)")


def sigmoid(x):
    """1 / (1 + exp(-x)) elementwise, with no overflow (and no overflow warning) for any finite x.

    Hint: exp(-|x|) is always in (0, 1]; write both signs of x with it.
    """
    raise NotImplementedError("Task 4: sigmoid (see questions.md)")


def tanh(x):
    """Hyperbolic tangent elementwise."""
    raise NotImplementedError("Task 4: tanh (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Tasks 5-6: softmax and log-softmax
# ----------------------------------------------------------------------------------------------------

def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`; (N, C) logits -> (N, C) probabilities, rows sum to 1.

    Must be stable (logits of 1e4 give finite results), treat -inf as probability 0, give all zeros
    (not NaN) for a row that is entirely -inf, make a row containing NaN all NaN, and accept integer
    input (as float64). Keeps float32 as float32.
    """
    raise NotImplementedError("Task 5: softmax (see questions.md)")


def log_softmax(x, axis=-1):
    """log(softmax(x)) along `axis`, computed with log-sum-exp so that it stays finite.

    log_softmax([0, 1e4]) = [-1e4, 0] exactly (log(softmax) would give -inf). All -inf row -> all -inf.
    """
    raise NotImplementedError("Task 6: log_softmax (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 7: the linear layer
# ----------------------------------------------------------------------------------------------------

def linear(x, W, b):
    """x (N, D_in) @ W (D_in, D_out) + b (D_out,) -> (N, D_out).

    Raises ValueError when the shapes do not fit; the message names both shapes, e.g.
    "x (5, 4) and W (3, 2) do not fit".
    """
    raise NotImplementedError("Task 7: linear (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 8: the MLP
# ----------------------------------------------------------------------------------------------------

class MLP:
    """A multi-layer perceptron, forward pass only: Linear -> act -> ... -> Linear (logits).

    MLP([784, 256, 10]): weights[0] is (784, 256), weights[1] is (256, 10); biases are zeros (256,), (10,).
    activation: "relu", "sigmoid" or "tanh" (ValueError otherwise), applied after every layer but the last.
    init: "kaiming" (kaiming_normal with nonlinearity=activation), "xavier" (xavier_normal, gain 1),
          or a number s > 0 for plain N(0, s**2) weights (ValueError otherwise).
    seed: int or np.random.Generator: ONE Generator draws all layers, first to last.
    dtype: dtype of the weights, the biases and the computation (inputs are cast to it).
    """

    def __init__(self, layer_sizes, activation="relu", init="kaiming", seed=0, dtype=np.float64):
        """Set self.layer_sizes, self.activation, self.dtype, self.weights (list), self.biases (list).

        Raises ValueError for fewer than 2 sizes, an unknown activation or an unknown init.
        """
        raise NotImplementedError("Task 8: MLP.__init__ (see questions.md)")

    def forward(self, x) -> np.ndarray:
        """x (N, layer_sizes[0]) -> logits (N, layer_sizes[-1]). ValueError for a wrong input width.

        Read self.weights / self.biases at every call (tests replace them with known weights).
        """
        raise NotImplementedError("Task 8: MLP.forward (see questions.md)")

    def hidden_activations(self, x) -> list:
        """A list with the output of every hidden layer's activation, (N, layer_sizes[i]) for i = 1..L-1."""
        raise NotImplementedError("Task 8: MLP.hidden_activations (see questions.md)")

    def predict_proba(self, x) -> np.ndarray:
        """softmax of the logits: (N, layer_sizes[-1]), each row sums to 1."""
        raise NotImplementedError("Task 8: MLP.predict_proba (see questions.md)")

    def num_parameters(self) -> int:
        """Total number of weights and biases."""
        raise NotImplementedError("Task 8: MLP.num_parameters (see questions.md)")


if __name__ == "__main__":
    W = kaiming_normal(784, 100, rng=0)
    print(f"kaiming_normal(784, 100): shape {W.shape}, std {W.std():.4f} (formula {math.sqrt(2 / 784):.4f})")
    p = softmax(np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]]))
    print("softmax:\n", p)
    model = MLP([4, 8, 3])
    print("logits:\n", model.forward(np.ones((2, 4))))
