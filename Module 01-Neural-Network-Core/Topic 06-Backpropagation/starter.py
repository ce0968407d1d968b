"""
Topic 06: Backpropagation Implementation - your solution.

Copy this file to solution.py (same folder) and replace every `raise NotImplementedError(...)` with code.
Check your work with:   python utils/test_runner.py --day 6
Then check every gradient against finite differences:   python check_gradients.py

Conventions (shared by Module 01): x is (N, D) with one row per sample, W is (D_in, D_out), b is (D_out,),
out = x @ W + b, labels y are integer class indices (N,). Every function keeps the dtype of its inputs
(float32 in -> float32 out). Wrong shapes, an empty batch in the loss, or labels out of range raise ValueError.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # optim.Parameter(data): .data and .grad (zeros like data), from Topic 03
inits = load_topic(5)  # inits.kaiming_normal(fan_in, fan_out, rng=..., dtype=...) and friends, from Topic 05

# Linear(init=...) names -> Topic 05 initialisers ("kaiming" and "xavier" mean what they mean in Topic 05's MLP)
_INIT_FUNCTIONS = {"kaiming": "kaiming_normal", "xavier": "xavier_normal", "kaiming_normal": "kaiming_normal",
                   "kaiming_uniform": "kaiming_uniform", "xavier_normal": "xavier_normal",
                   "xavier_uniform": "xavier_uniform"}


# ----------------------------------------------------------------------------------------------------
# Functional layers (CS231n style): forward returns (out, cache), backward returns the input gradients
# ----------------------------------------------------------------------------------------------------

def linear_forward(x, W, b):
    """out = x @ W + b.

    x: (N, D_in), W: (D_in, D_out), b: (D_out,) -> (out: (N, D_out), cache)
    cache: whatever linear_backward needs (x and W; keep references, no copies).
    Raises ValueError when the shapes do not chain (x.shape[1] != W.shape[0], b not (D_out,)).
    An empty batch (N = 0) is fine here: out has shape (0, D_out).
    """
    raise NotImplementedError("Task 1: linear_forward (see questions.md)")


def linear_backward(dout, cache):
    """Gradients of out = x @ W + b given dout = dL/dout.

    dout: (N, D_out), cache from linear_forward -> (dx: (N, D_in), dW: (D_in, D_out), db: (D_out,))
    Each gradient has the shape of what it differentiates.
    """
    raise NotImplementedError("Task 2: linear_backward (see questions.md)")


def relu_forward(x):
    """out = max(x, 0) elementwise (NaN stays NaN). x: any shape -> (out: same shape, cache)."""
    raise NotImplementedError("Task 3: relu_forward (see questions.md)")


def relu_backward(dout, cache):
    """dx = dout where the input was > 0, else 0 (at exactly 0 the gradient is 0). dout, dx: shape of x."""
    raise NotImplementedError("Task 3: relu_backward (see questions.md)")


def softmax_cross_entropy(logits, y):
    """Mean softmax cross-entropy and its gradient, fused.

    logits: (N, C), y: (N,) integer class indices in [0, C)
    -> (loss: float = -1/N sum_n log softmax(logits_n)[y_n], dlogits: (N, C) = (softmax - one_hot(y)) / N)
    Stable for huge logits (subtract each row's max). dlogits keeps the dtype of logits.
    Raises ValueError for an empty batch, y not of shape (N,), y not integer, or labels outside [0, C).
    """
    raise NotImplementedError("Task 4: softmax_cross_entropy (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# The two-layer network and its autograd twin
# ----------------------------------------------------------------------------------------------------

class TwoLayerNet:
    """affine - relu - affine - softmax, with L2 regularisation 0.5 * reg * (sum W1^2 + sum W2^2).

    params: {'W1': (D, H), 'b1': (H,), 'W2': (H, C), 'b2': (C,)} in `dtype`; weights from
    inits.kaiming_normal drawn one after the other from np.random.default_rng(seed), zero biases.
    """

    def __init__(self, input_dim, hidden_dim, num_classes, seed=0, dtype=np.float64, reg=0.0):
        raise NotImplementedError("Task 5: TwoLayerNet.__init__ (see questions.md)")

    def loss(self, X, y=None):
        """X: (N, D). Without y: scores (N, C). With y (N,): (loss: float, grads: dict, same keys/shapes as params).

        Read self.params on every call (gradient checks edit them in place). Regularise weights only:
        loss += 0.5 * reg * (sum W1^2 + sum W2^2), grads['W1'] += reg * W1, grads['W2'] += reg * W2.
        Raises ValueError for an empty batch or shapes that do not chain.
        """
        raise NotImplementedError("Task 5: TwoLayerNet.loss (see questions.md)")

    def predict(self, X):
        """X: (N, D) -> predicted class indices (N,) int (argmax of the scores)."""
        raise NotImplementedError("Task 5: TwoLayerNet.predict (see questions.md)")


def two_layer_loss_autograd(params, X, y, reg=0.0):
    """The TwoLayerNet loss built from Topic 02's autograd Tensor (load_topic(2).Tensor).

    params: dict like TwoLayerNet.params; X: (N, D); y: (N,) -> (loss: float, grads: dict of arrays like params)
    Same loss and gradients as TwoLayerNet.loss, but .backward() finds the gradients.
    """
    raise NotImplementedError("Task 6: two_layer_loss_autograd (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Layer classes (the Layer protocol of Module 01): Topic 10 builds its MNIST model from these
# ----------------------------------------------------------------------------------------------------

class Linear:
    """out = x @ weight.data + bias.data; weight (in_features, out_features), bias (out_features,) zeros.

    weight and bias are optim.Parameter objects; weight from the Topic 05 initialiser named by init
    (_INIT_FUNCTIONS), called as f(in_features, out_features, rng=np.random.default_rng(rng), dtype=dtype).
    Unknown init -> ValueError. self.training starts True.
    """

    def __init__(self, in_features, out_features, rng=None, dtype=np.float64, init="kaiming"):
        raise NotImplementedError("Task 7: Linear.__init__ (see questions.md)")

    def forward(self, x):
        """x: (N, in_features) -> (N, out_features); remembers what backward needs."""
        raise NotImplementedError("Task 7: Linear.forward (see questions.md)")

    def backward(self, dout):
        """dout: (N, out_features) -> dx (N, in_features); ADDS dW to weight.grad and db to bias.grad."""
        raise NotImplementedError("Task 7: Linear.backward (see questions.md)")

    def parameters(self):
        """[weight, bias]"""
        raise NotImplementedError("Task 7: Linear.parameters (see questions.md)")

    def train(self):
        """training mode (self.training = True); returns self."""
        raise NotImplementedError("Task 7: Linear.train (see questions.md)")

    def eval(self):
        """evaluation mode (self.training = False); returns self."""
        raise NotImplementedError("Task 7: Linear.eval (see questions.md)")


class ReLU:
    """max(x, 0) as a layer, no parameters. self.training starts True."""

    def __init__(self):
        raise NotImplementedError("Task 7: ReLU.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 7: ReLU.forward (see questions.md)")

    def backward(self, dout):
        raise NotImplementedError("Task 7: ReLU.backward (see questions.md)")

    def parameters(self):
        """[] (nothing to learn)"""
        raise NotImplementedError("Task 7: ReLU.parameters (see questions.md)")

    def train(self):
        raise NotImplementedError("Task 7: ReLU.train (see questions.md)")

    def eval(self):
        raise NotImplementedError("Task 7: ReLU.eval (see questions.md)")


class Sequential:
    """Sequential(*layers): forward in order, backward in reverse order. self.layers is the list of layers."""

    def __init__(self, *layers):
        raise NotImplementedError("Task 7: Sequential.__init__ (see questions.md)")

    def forward(self, x):
        raise NotImplementedError("Task 7: Sequential.forward (see questions.md)")

    def backward(self, dout):
        """dout: gradient of the loss w.r.t. the last output -> gradient w.r.t. the first input."""
        raise NotImplementedError("Task 7: Sequential.backward (see questions.md)")

    def parameters(self):
        """Every layer's parameters, in layer order."""
        raise NotImplementedError("Task 7: Sequential.parameters (see questions.md)")

    def train(self):
        """Sets training mode on itself and on every layer; returns self."""
        raise NotImplementedError("Task 7: Sequential.train (see questions.md)")

    def eval(self):
        """Sets evaluation mode on itself and on every layer; returns self."""
        raise NotImplementedError("Task 7: Sequential.eval (see questions.md)")

    def __getitem__(self, index):
        """model[i] is the i-th layer."""
        raise NotImplementedError("Task 7: Sequential.__getitem__ (see questions.md)")

    def __len__(self):
        """The number of layers."""
        raise NotImplementedError("Task 7: Sequential.__len__ (see questions.md)")
