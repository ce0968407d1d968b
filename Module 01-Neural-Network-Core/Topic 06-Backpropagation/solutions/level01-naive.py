"""
Level 1: Naive Implementation
- Priority: Correctness over speed: every sum of the chain rule is written out as a loop
- Constraints: Python loops over samples and features, NumPy only to hold the numbers
- Target: Pass the functional tests (slow: one training step of a 784-512-10 net on a batch of 256 takes
  about 100 s, measured on a 2-core CPU; level 2 takes milliseconds)

Topic 06: backpropagation, by hand (and once with Topic 02's autograd, to compare).
    Functional layers (CS231n style): linear_forward/backward, relu_forward/backward,
                                      softmax_cross_entropy(logits, y) -> (loss, dlogits)
    Layer classes (Layer protocol)   : Linear, ReLU, Sequential
    A complete model                 : TwoLayerNet (manual backprop) and two_layer_loss_autograd

Conventions (shared by Module 01): x is (N, D) with one row per sample, W is (D_in, D_out), b is (D_out,),
out = x @ W + b, labels y are integer class indices (N,). Every function keeps the dtype of its inputs.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad) lives in Topic 03, next to the optimizers that update it
inits = load_topic(5)  # kaiming_normal, xavier_normal, ... from Topic 05

# Linear(init=...) names -> Topic 05 initialisers ("kaiming" and "xavier" mean what they mean in Topic 05's MLP)
_INIT_FUNCTIONS = {"kaiming": "kaiming_normal", "xavier": "xavier_normal", "kaiming_normal": "kaiming_normal",
                   "kaiming_uniform": "kaiming_uniform", "xavier_normal": "xavier_normal",
                   "xavier_uniform": "xavier_uniform"}


# ----------------------------------------------------------------------------------------------------
# Functional layers: forward returns (out, cache), backward turns dout into the gradients of the inputs
# ----------------------------------------------------------------------------------------------------

def linear_forward(x, W, b):
    """out = x @ W + b, one dot product per (sample, output feature).

    x: (N, D_in), W: (D_in, D_out), b: (D_out,) -> out: (N, D_out), cache = (x, W, b)
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    _check_linear(x, W, b)
    N, D_in = x.shape
    D_out = W.shape[1]
    out = np.zeros((N, D_out), dtype=np.result_type(x, W, b))
    for n in range(N):
        for j in range(D_out):
            total = b[j]
            for k in range(D_in):
                total += x[n, k] * W[k, j]
            out[n, j] = total
    return out, (x, W, b)


def linear_backward(dout, cache):
    """Gradients of out = x @ W + b, given dout = dL/dout of shape (N, D_out).

    out[n, j] = sum_k x[n, k] W[k, j] + b[j], so by the chain rule:
        dx[n, k] = sum_j dout[n, j] W[k, j]     dW[k, j] = sum_n x[n, k] dout[n, j]     db[j] = sum_n dout[n, j]
    Returns dx (N, D_in), dW (D_in, D_out), db (D_out,).
    """
    x, W, b = cache
    dout = np.asarray(dout)
    N, D_in = x.shape
    D_out = W.shape[1]
    if dout.shape != (N, D_out):
        raise ValueError(f"dout must have the shape of the output {(N, D_out)}, got {dout.shape}")
    dtype = np.result_type(x, W, dout)
    dx = np.zeros((N, D_in), dtype=dtype)
    dW = np.zeros((D_in, D_out), dtype=dtype)
    db = np.zeros(D_out, dtype=np.result_type(b, dout))
    for n in range(N):
        for j in range(D_out):
            g = dout[n, j]              # how much the loss cares about out[n, j]
            db[j] += g                  # b[j] was added to out[n, j] for every sample n
            for k in range(D_in):
                dx[n, k] += g * W[k, j]  # x[n, k] reached out[n, j] through W[k, j]
                dW[k, j] += g * x[n, k]  # and W[k, j] through x[n, k]
    return dx, dW, db


def relu_forward(x):
    """out = max(x, 0) elementwise; NaN stays NaN. x: any shape -> out: same shape, cache = x."""
    x = np.asarray(x)
    out = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        out[idx] = max(x[idx], 0)   # max(nan, 0) keeps the nan, like np.maximum
    return out, x


def relu_backward(dout, cache):
    """dx = dout where x > 0, else 0 (the gradient at exactly 0 is 0, as in PyTorch). Shapes as x."""
    x = cache
    dout = np.asarray(dout)
    if dout.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got {dout.shape}")
    dx = np.zeros_like(dout)
    for idx in np.ndindex(x.shape):
        if x[idx] > 0:              # the unit was on: the gradient passes through unchanged
            dx[idx] = dout[idx]
    return dx


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    logits: (N, C) scores, y: (N,) int in [0, C) -> (loss: float, dlogits: (N, C), same dtype as logits)
    L = -1/N * sum_n log softmax(logits_n)[y_n];  dL/dlogits = (softmax(logits) - one_hot(y)) / N
    Raises ValueError for an empty batch, labels out of range or of the wrong shape/dtype.
    """
    logits, y = np.asarray(logits), np.asarray(y)
    if logits.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {logits.shape}")
    N, C = logits.shape
    _check_labels(y, N, C)
    dlogits = np.zeros_like(logits)
    total_loss = 0.0
    for n in range(N):
        row_max = logits[n, 0]
        for c in range(C):
            if logits[n, c] > row_max:
                row_max = logits[n, c]
        sum_exp = 0.0
        for c in range(C):
            sum_exp += math.exp(logits[n, c] - row_max)   # <= 1 each: no overflow
        log_sum_exp = math.log(sum_exp)
        total_loss += -(logits[n, y[n]] - row_max - log_sum_exp)   # -log softmax of the true class
        for c in range(C):
            prob = math.exp(logits[n, c] - row_max - log_sum_exp)
            target = 1.0 if c == y[n] else 0.0
            dlogits[n, c] = (prob - target) / N               # the 1/N of the mean
    return total_loss / N, dlogits


# ----------------------------------------------------------------------------------------------------
# Layer classes (the Layer protocol of Module 01): forward caches, backward ACCUMULATES into p.grad
# ----------------------------------------------------------------------------------------------------

class Linear:
    """Fully connected layer: out = x @ weight + bias, weight (in_features, out_features), bias zeros.

    rng: np.random.Generator, int seed or None; init: "kaiming" (default), "xavier" or a Topic 05 name.
    """

    def __init__(self, in_features, out_features, rng=None, dtype=np.float64, init="kaiming"):
        if init not in _INIT_FUNCTIONS:
            raise ValueError(f"unknown init {init!r}: use one of {sorted(_INIT_FUNCTIONS)}")
        make_weight = getattr(inits, _INIT_FUNCTIONS[init])
        rng = np.random.default_rng(rng)
        self.weight = optim.Parameter(make_weight(in_features, out_features, rng=rng, dtype=dtype))
        self.bias = optim.Parameter(np.zeros(out_features, dtype=dtype))
        self.training = True
        self._cache = None

    def forward(self, x):
        """x: (N, in_features) -> (N, out_features)."""
        out, self._cache = linear_forward(x, self.weight.data, self.bias.data)
        return out

    def backward(self, dout):
        """dout: (N, out_features) -> dx (N, in_features); adds dW, db to weight.grad, bias.grad."""
        if self._cache is None:
            raise RuntimeError("Linear.backward called before forward")
        dx, dW, db = linear_backward(dout, self._cache)
        self.weight.grad += dW
        self.bias.grad += db
        return dx

    def parameters(self):
        return [self.weight, self.bias]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def __repr__(self):
        d_in, d_out = self.weight.data.shape
        return f"Linear({d_in}, {d_out})"


class ReLU:
    """max(x, 0) as a layer; no parameters."""

    def __init__(self):
        self.training = True
        self._cache = None

    def forward(self, x):
        out, self._cache = relu_forward(x)
        return out

    def backward(self, dout):
        if self._cache is None:
            raise RuntimeError("ReLU.backward called before forward")
        return relu_backward(dout, self._cache)

    def parameters(self):
        return []

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def __repr__(self):
        return "ReLU()"


class Sequential:
    """Layers applied in order; backward runs them in reverse (the chain rule, one layer at a time)."""

    def __init__(self, *layers):
        self.layers = list(layers)
        self.training = True

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, dout):
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

    def parameters(self):
        params = []
        for layer in self.layers:
            params.extend(layer.parameters())
        return params

    def train(self):
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self):
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def __getitem__(self, index):
        return Sequential(*self.layers[index]) if isinstance(index, slice) else self.layers[index]

    def __len__(self):
        return len(self.layers)

    def __repr__(self):
        return "Sequential(" + ", ".join(repr(layer) for layer in self.layers) + ")"


# ----------------------------------------------------------------------------------------------------
# The two-layer network: input -> Linear -> ReLU -> Linear -> softmax cross-entropy
# ----------------------------------------------------------------------------------------------------

def _sum_of_squares(W):
    total = 0.0
    for idx in np.ndindex(W.shape):
        total += W[idx] * W[idx]
    return total


class TwoLayerNet:
    """affine - relu - affine - softmax, with L2 regularisation 0.5 * reg * (|W1|^2 + |W2|^2).

    params: {'W1': (D, H), 'b1': (H,), 'W2': (H, C), 'b2': (C,)}, Kaiming-normal weights (Topic 05), zero biases.
    loss() reads self.params on every call, so you may replace or edit them (gradient checks do).
    """

    def __init__(self, input_dim, hidden_dim, num_classes, seed=0, dtype=np.float64, reg=0.0):
        if reg < 0:
            raise ValueError(f"reg must be >= 0, got {reg}")
        rng = np.random.default_rng(seed)
        self.reg = reg
        self.params = {
            "W1": inits.kaiming_normal(input_dim, hidden_dim, rng=rng, dtype=dtype),
            "b1": np.zeros(hidden_dim, dtype=dtype),
            "W2": inits.kaiming_normal(hidden_dim, num_classes, rng=rng, dtype=dtype),
            "b2": np.zeros(num_classes, dtype=dtype),
        }

    def loss(self, X, y=None):
        """X: (N, D). Without y: scores (N, C). With y (N,): (loss: float, grads: dict like params)."""
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        X = np.asarray(X)
        if X.ndim == 2 and X.shape[0] == 0:
            raise ValueError("empty batch: X has 0 rows")
        # forward, keeping each step's cache for the way back
        hidden, cache1 = linear_forward(X, W1, b1)
        activated, cache_relu = relu_forward(hidden)
        scores, cache2 = linear_forward(activated, W2, b2)
        if y is None:
            return scores

        data_loss, dscores = softmax_cross_entropy(scores, y)
        loss = data_loss + 0.5 * self.reg * (_sum_of_squares(W1) + _sum_of_squares(W2))

        # backward: the same steps in reverse order
        dactivated, dW2, db2 = linear_backward(dscores, cache2)
        dhidden = relu_backward(dactivated, cache_relu)
        _, dW1, db1 = linear_backward(dhidden, cache1)
        for dW, W in ((dW1, W1), (dW2, W2)):
            for idx in np.ndindex(W.shape):
                dW[idx] += self.reg * W[idx]   # d/dW of 0.5 * reg * W^2 is reg * W
        return float(loss), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    def predict(self, X):
        """X: (N, D) -> predicted class indices (N,) int."""
        scores = self.loss(X)
        labels = np.zeros(scores.shape[0], dtype=np.int64)
        for n in range(scores.shape[0]):
            for c in range(scores.shape[1]):
                if scores[n, c] > scores[n, labels[n]]:
                    labels[n] = c
        return labels


def two_layer_loss_autograd(params, X, y, reg=0.0):
    """The TwoLayerNet loss built from Topic 02's autograd Tensor: the gradients come from .backward().

    params: dict like TwoLayerNet.params; X (N, D); y (N,) -> (loss: float, grads: dict of arrays like params)
    """
    Tensor = load_topic(2).Tensor  # loaded on first use: the manual path above does not need autograd
    X, y = np.asarray(X), np.asarray(y)
    _check_linear(X, np.asarray(params["W1"]), np.asarray(params["b1"]))
    N, C = X.shape[0], np.shape(params["W2"])[1]
    _check_labels(y, N, C)
    leaves = {k: Tensor(np.array(params[k], dtype=np.float64), requires_grad=True) for k in ("W1", "b1", "W2", "b2")}
    W1, b1, W2, b2 = (leaves[k] for k in ("W1", "b1", "W2", "b2"))

    scores = (Tensor(X) @ W1 + b1).relu() @ W2 + b2
    shifted = scores - Tensor(scores.data.max(axis=1, keepdims=True))  # a constant shift: same loss, no overflow
    log_probs = shifted - shifted.exp().sum(axis=1, keepdims=True).log()
    one_hot = np.zeros((N, C))
    for n in range(N):
        one_hot[n, y[n]] = 1.0
    loss = -(log_probs * Tensor(one_hot)).sum() * (1.0 / N) + ((W1 * W1).sum() + (W2 * W2).sum()) * (0.5 * reg)
    loss.backward()
    grads = {k: np.asarray(t.grad, dtype=np.asarray(params[k]).dtype) for k, t in leaves.items()}
    return float(np.asarray(loss.data)), grads


# ----------------------------------------------------------------------------------------------------
# Input checks: a wrong shape must be a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

def _check_linear(x, W, b):
    if x.ndim != 2 or W.ndim != 2 or b.ndim != 1:
        raise ValueError(f"linear expects x (N, D_in), W (D_in, D_out), b (D_out,); "
                         f"got {x.shape}, {W.shape}, {b.shape}")
    if x.shape[1] != W.shape[0] or b.shape[0] != W.shape[1]:
        raise ValueError(f"shapes do not chain: x {x.shape} @ W {W.shape} + b {b.shape}")


def _check_labels(y, N, C):
    if N == 0:
        raise ValueError("empty batch: the mean loss over 0 samples is undefined")
    if y.shape != (N,):
        raise ValueError(f"y must hold one class index per sample, shape ({N},), got {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be integer class indices, got dtype {y.dtype}")
    for label in y:
        if not 0 <= label < C:
            raise ValueError(f"labels must be in [0, {C}), got {label}")


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 4)), np.array([0, 2, 1, 2, 0])

    # One linear layer: every gradient has the shape of what it differentiates
    W, b = rng.standard_normal((4, 3)), rng.standard_normal(3)
    out, cache = linear_forward(X, W, b)
    dx, dW, db = linear_backward(np.ones_like(out), cache)
    print(f"linear: out {out.shape}, dx {dx.shape}, dW {dW.shape}, db {db.shape}")
    assert (out.shape, dx.shape, dW.shape, db.shape) == ((5, 3), (5, 4), (4, 3), (3,))
    assert np.allclose(out, X @ W + b) and np.allclose(db, 5.0)

    # ReLU: the gradient at exactly 0 is 0
    r, rcache = relu_forward(np.array([[-1.0, 0.0, 2.0]]))
    assert relu_backward(np.ones((1, 3)), rcache).tolist() == [[0.0, 0.0, 1.0]]

    # Loss at init with tiny weights: every class equally likely, so the loss is ln(C)
    net = TwoLayerNet(4, 10, 3, seed=0)
    for k in ("W1", "W2"):
        net.params[k] *= 1e-3
    loss, grads = net.loss(X, y)
    print(f"loss with tiny weights: {loss:.4f} (ln 3 = {np.log(3):.4f})")
    assert abs(loss - np.log(3)) < 1e-3

    # Manual backprop agrees with finite differences and with Topic 02's autograd
    net = TwoLayerNet(4, 10, 3, seed=1, reg=0.1)
    loss, grads = net.loss(X, y)
    from dlfs.gradient_check import check_model

    report = check_model(lambda: net.loss(X, y)[0], net.params, grads)
    print(report)
    auto_loss, auto_grads = two_layer_loss_autograd(net.params, X, y, reg=0.1)
    assert report.passed and abs(loss - auto_loss) < 1e-12
    assert all(np.allclose(grads[k], auto_grads[k], rtol=1e-9, atol=1e-12) for k in grads)
    print("level 1 self-test passed")
