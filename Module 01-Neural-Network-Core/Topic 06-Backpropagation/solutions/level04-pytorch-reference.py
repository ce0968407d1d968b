"""
Level 4: PyTorch Reference Implementation
- Priority: An independent check: the same interface, with every gradient computed by torch.autograd
- Constraints: NumPy in, NumPy out; torch only inside (no gradient formula is written by hand here)
- Target: Pass every test; `python solutions/level04-pytorch-reference.py --make-golden` writes tests/golden/*.npz

Used only for verification, not as the solution: where levels 1-3 derive dx, dW, db by hand, this file asks
torch.autograd.grad for them, so agreement between the two is evidence that the hand derivation is right.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

optim = load_topic(3)  # Parameter (.data, .grad) lives in Topic 03, next to the optimizers that update it
inits = load_topic(5)  # kaiming_normal, xavier_normal, ... from Topic 05

# Linear(init=...) names -> Topic 05 initialisers ("kaiming" and "xavier" mean what they mean in Topic 05's MLP)
_INIT_FUNCTIONS = {"kaiming": "kaiming_normal", "xavier": "xavier_normal", "kaiming_normal": "kaiming_normal",
                   "kaiming_uniform": "kaiming_uniform", "xavier_normal": "xavier_normal",
                   "xavier_uniform": "xavier_uniform"}


def _tensor(a, dtype, requires_grad=False):
    """A torch copy of the NumPy array a in the given NumPy dtype, as a leaf of the autograd graph."""
    return torch.tensor(np.asarray(a, dtype=dtype), requires_grad=requires_grad)


def _numpy(t):
    return t.detach().numpy()


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
    if y.min() < 0 or y.max() >= C:
        raise ValueError(f"labels must be in [0, {C}), got values from {y.min()} to {y.max()}")


def _check_dout(dout, shape):
    if dout.shape != tuple(shape):
        raise ValueError(f"dout must have the shape of the output {tuple(shape)}, got {dout.shape}")


# ----------------------------------------------------------------------------------------------------
# Functional layers: the cache holds the torch graph; backward asks autograd for the gradients
# ----------------------------------------------------------------------------------------------------

@one_torch_thread()
def linear_forward(x, W, b):
    """out = x @ W + b. x: (N, D_in), W: (D_in, D_out), b: (D_out,) -> out (N, D_out), cache (torch graph)."""
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    _check_linear(x, W, b)
    dtype = np.result_type(x, W, b)
    xt, Wt, bt = (_tensor(a, dtype, requires_grad=True) for a in (x, W, b))
    out = xt @ Wt + bt
    return _numpy(out), (xt, Wt, bt, out)


@one_torch_thread()
def linear_backward(dout, cache):
    """dout (N, D_out) -> (dx (N, D_in), dW (D_in, D_out), db (D_out,)) from torch.autograd."""
    xt, Wt, bt, out = cache
    dout = np.asarray(dout)
    _check_dout(dout, out.shape)
    grads = torch.autograd.grad(out, (xt, Wt, bt), grad_outputs=_tensor(dout, _numpy(out).dtype),
                                retain_graph=True)  # retained: backward may be called again on this cache
    return tuple(_numpy(g) for g in grads)


@one_torch_thread()
def relu_forward(x):
    """out = max(x, 0); NaN stays NaN. x: any shape -> out: same shape, cache (torch graph)."""
    x = np.asarray(x)
    xt = _tensor(x, x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64, requires_grad=True)
    out = torch.relu(xt)
    return _numpy(out), (xt, out)


@one_torch_thread()
def relu_backward(dout, cache):
    """dout (shape of x) -> dx; torch's relu has gradient 0 at exactly 0."""
    xt, out = cache
    dout = np.asarray(dout)
    _check_dout(dout, out.shape)
    (dx,) = torch.autograd.grad(out, (xt,), grad_outputs=_tensor(dout, _numpy(out).dtype), retain_graph=True)
    return _numpy(dx)


@one_torch_thread()
def softmax_cross_entropy(logits, y):
    """F.cross_entropy (mean over the batch) and its gradient. logits (N, C), y (N,) -> (float, (N, C))."""
    logits, y = np.asarray(logits), np.asarray(y)
    if logits.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {logits.shape}")
    N, C = logits.shape
    _check_labels(y, N, C)
    lt = _tensor(logits, logits.dtype, requires_grad=True)
    loss = F.cross_entropy(lt, torch.from_numpy(y.astype(np.int64)))
    loss.backward()
    return float(loss.item()), _numpy(lt.grad)


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
        out, self._cache = linear_forward(x, self.weight.data, self.bias.data)
        return out

    def backward(self, dout):
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
    """Layers applied in order; backward runs them in reverse."""

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
        return [p for layer in self.layers for p in layer.parameters()]

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
# The two-layer network, with torch.autograd doing the backward pass
# ----------------------------------------------------------------------------------------------------

@one_torch_thread()
def _torch_two_layer(params, X, y, reg):
    """scores (N, C), or (loss, grads) when y is given, with torch computing every gradient."""
    X = np.asarray(X)
    W1, b1 = np.asarray(params["W1"]), np.asarray(params["b1"])
    if X.ndim == 2 and X.shape[0] == 0:
        raise ValueError("empty batch: X has 0 rows")
    _check_linear(X, W1, b1)
    dtype = np.result_type(X, W1)
    leaves = {k: _tensor(params[k], dtype, requires_grad=True) for k in ("W1", "b1", "W2", "b2")}
    hidden = torch.relu(_tensor(X, dtype) @ leaves["W1"] + leaves["b1"])
    scores = hidden @ leaves["W2"] + leaves["b2"]
    if y is None:
        return _numpy(scores)
    y = np.asarray(y)
    _check_labels(y, *scores.shape)
    loss = F.cross_entropy(scores, torch.from_numpy(y.astype(np.int64)))
    loss = loss + 0.5 * reg * ((leaves["W1"] ** 2).sum() + (leaves["W2"] ** 2).sum())
    loss.backward()
    return float(loss.item()), {k: _numpy(t.grad).astype(np.asarray(params[k]).dtype) for k, t in leaves.items()}


class TwoLayerNet:
    """affine - relu - affine - softmax, with L2 regularisation 0.5 * reg * (|W1|^2 + |W2|^2).

    params: {'W1': (D, H), 'b1': (H,), 'W2': (H, C), 'b2': (C,)}, Kaiming-normal weights (Topic 05), zero biases.
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
        return _torch_two_layer(self.params, X, y, self.reg)

    def predict(self, X):
        return np.argmax(self.loss(X), axis=1)


def two_layer_loss_autograd(params, X, y, reg=0.0):
    """The TwoLayerNet loss with PyTorch's autograd (levels 1-3 use Topic 02's Tensor here)."""
    return _torch_two_layer(params, X, y, reg)


# ----------------------------------------------------------------------------------------------------
# Golden files: fixed inputs and weights, with torch's outputs and gradients
# ----------------------------------------------------------------------------------------------------

def make_golden() -> dict:
    """{file name: {array name: array}} for tests/golden/; inputs come from a fixed NumPy seed."""
    rng = np.random.default_rng(606)
    golden = {}

    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)
    dout = rng.standard_normal((4, 3))
    out, cache = linear_forward(x, W, b)
    dx, dW, db = linear_backward(dout, cache)
    golden["linear"] = dict(x=x, W=W, b=b, dout=dout, out=out, dx=dx, dW=dW, db=db)

    x = np.round(rng.standard_normal((3, 4)), 1)
    x[0, 1] = x[1, 3] = x[2, 0] = 0.0               # exact zeros: the gradient there must be 0
    dout = rng.standard_normal((3, 4))
    out, cache = relu_forward(x)
    golden["relu"] = dict(x=x, dout=dout, out=out, dx=relu_backward(dout, cache))

    logits = rng.standard_normal((4, 5)) * 3.0
    logits[2] += 500.0                               # a row that overflows exp() without the max shift
    y = np.array([1, 0, 4, 2])
    loss, dlogits = softmax_cross_entropy(logits, y)
    golden["softmax_ce"] = dict(logits=logits, y=y, loss=np.array(loss), dlogits=dlogits)

    X, y = rng.standard_normal((6, 5)), np.array([0, 2, 1, 2, 0, 1])
    params = {"W1": rng.standard_normal((5, 7)) * 0.5, "b1": rng.standard_normal(7) * 0.1,
              "W2": rng.standard_normal((7, 3)) * 0.5, "b2": rng.standard_normal(3) * 0.1}
    reg = 0.1
    scores = _torch_two_layer(params, X, None, reg)
    loss, grads = _torch_two_layer(params, X, y, reg)
    golden["two_layer"] = dict(X=X, y=y, reg=np.array(reg), scores=scores, loss=np.array(loss), **params,
                               **{"d" + k: g for k, g in grads.items()})
    return golden


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)

    # Self-test: autograd's gradients agree with the hand-derived formulas on toy data
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((5, 4)), rng.standard_normal((4, 3)), rng.standard_normal(3)
    out, cache = linear_forward(x, W, b)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = linear_backward(dout, cache)
    print(f"linear: out {out.shape}, dx {dx.shape}, dW {dW.shape}, db {db.shape}")
    assert np.allclose(dx, dout @ W.T) and np.allclose(dW, x.T @ dout) and np.allclose(db, dout.sum(axis=0))

    logits, y = rng.standard_normal((5, 3)), np.array([0, 2, 1, 2, 0])
    loss, dlogits = softmax_cross_entropy(logits, y)
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    probs[np.arange(5), y] -= 1
    assert np.allclose(dlogits, probs / 5), "autograd's dlogits is (softmax - one_hot) / N"

    net = TwoLayerNet(4, 10, 3, seed=0, dtype=np.float32, reg=0.1)
    loss, grads = net.loss(x, y)
    print(f"float32 TwoLayerNet: loss {loss:.4f}, grads {[(k, g.dtype.name) for k, g in grads.items()]}")
    assert all(g.dtype == np.float32 for g in grads.values())
    print("level 4 self-test passed")
