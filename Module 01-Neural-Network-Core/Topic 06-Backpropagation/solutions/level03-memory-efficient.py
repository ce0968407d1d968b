"""
Level 3: Memory-Efficient Implementation
- Priority: No needless allocation in the training step, and fast in float32 (Topic 10 trains MNIST on it)
- Constraints: NumPy only; in-place `out=` ops, buffers reused while the batch shape repeats, no copies in caches
- Target: Same results as level 2 (to float rounding); a steady-state training step allocates almost nothing

What it saves, and how:
- Layer classes keep their output and gradient arrays and write into them with `np.dot(x, W, out=buf)`,
  `np.sum(dout, axis=0, out=buf)`, `np.maximum(x, 0, out=buf)`, `np.multiply(dout, mask, out=buf)`:
  once the first batch has sized them, a forward + backward step allocates only the (N, C) softmax gradient.
  The arrays a layer returns are therefore ITS buffers, valid until its next call: `.copy()` one to keep it.
- Caches hold references, never copies: Linear keeps x (the caller keeps it alive anyway); ReLU keeps its
  output instead of its input (out > 0 exactly where x > 0), so the pre-activation can be freed.
- softmax_cross_entropy is fused: one (N, C) array becomes shifted logits, then exp, then probabilities,
  then the gradient, in place.
- Nobody needs the gradient of the data: TwoLayerNet never computes dX, and a Linear layer whose
  `needs_input_grad` is set to False (the first layer of a model; level 3 only) skips dx = dout @ W.T,
  a third of that layer's backward work. TwoLayerNet also applies ReLU and its mask in place on its own buffer.
- Everything runs in the dtype it is given: float32 halves the memory traffic and doubles the BLAS speed.

Measured on a 2-core CPU (OPENBLAS_NUM_THREADS=1 python benchmark.py; one steady-state step of
Sequential(Linear(784, 512), ReLU(), Linear(512, 10)) + softmax_cross_entropy on a batch of 256, float32;
CPU time per step, median of 60 steps, spread over four runs in brackets):
    level 2: 4.0 MB allocated per step, 8.2 ms (8.0-8.8)
    level 3: 0.044 MB allocated per step, 8.7 ms (8.4-9.1); with needs_input_grad = False on the first
             layer 6.9 ms (5.8-7.6). Level 2 in float64: 8.0 MB, 17.9 ms.
Buffer reuse saves memory, not time (the three matrix products dominate); float32 and skipping dX save time.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad) lives in Topic 03, next to the optimizers that update it
inits = load_topic(5)  # kaiming_normal, xavier_normal, ... from Topic 05

# Linear(init=...) names -> Topic 05 initialisers ("kaiming" and "xavier" mean what they mean in Topic 05's MLP)
_INIT_FUNCTIONS = {"kaiming": "kaiming_normal", "xavier": "xavier_normal", "kaiming_normal": "kaiming_normal",
                   "kaiming_uniform": "kaiming_uniform", "xavier_normal": "xavier_normal",
                   "xavier_uniform": "xavier_uniform"}


# ----------------------------------------------------------------------------------------------------
# Functional layers: stateless, so they allocate their results, but nothing else
# ----------------------------------------------------------------------------------------------------

def linear_forward(x, W, b):
    """out = x @ W + b (one allocation: the bias is added in place).

    x: (N, D_in), W: (D_in, D_out), b: (D_out,) -> out: (N, D_out), cache = (x, W, b) (references)
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    _check_linear(x, W, b)
    out = np.dot(x, W)
    out += b
    return out, (x, W, b)


def linear_backward(dout, cache):
    """dout (N, D_out) -> dx (N, D_in) = dout @ W.T, dW (D_in, D_out) = x.T @ dout, db (D_out,) = sum over N."""
    x, W, b = cache
    dout = np.asarray(dout)
    if dout.shape != (x.shape[0], W.shape[1]):
        raise ValueError(f"dout must have the shape of the output {(x.shape[0], W.shape[1])}, got {dout.shape}")
    dx = np.dot(dout, W.T)      # .T is a view: BLAS reads W transposed, nothing is copied
    dW = np.dot(x.T, dout)
    db = np.sum(dout, axis=0)
    return dx, dW, db


def relu_forward(x):
    """out = max(x, 0); NaN stays NaN. x: any shape -> out: same shape, cache = out (out > 0 iff x > 0)."""
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    """dx = dout where the unit was on (out > 0), else 0 (so 0 at x == 0, as in PyTorch). Shapes as x."""
    out = cache
    dout = np.asarray(dout)
    if dout.shape != out.shape:
        raise ValueError(f"dout must have the shape of x {out.shape}, got {dout.shape}")
    return np.multiply(dout, out > 0)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient, fused in one array.

    logits: (N, C) scores, y: (N,) int in [0, C) -> (loss: float, dlogits: (N, C), same dtype as logits)
    L = mean_n [log sum_c exp(z_nc) - z_n,y_n] with z = logits - max;  dL/dlogits = (softmax - one_hot) / N
    Raises ValueError for an empty batch, labels out of range or of the wrong shape/dtype.
    """
    logits, y = np.asarray(logits), np.asarray(y)
    if logits.ndim != 2:
        raise ValueError(f"logits must be (N, C), got shape {logits.shape}")
    N, C = logits.shape
    _check_labels(y, N, C)
    rows = np.arange(N)
    grad = logits - logits.max(axis=1, keepdims=True)  # the one (N, C) allocation: shifted logits z
    true_class = grad[rows, y]                          # z of the correct class, (N,)
    np.exp(grad, out=grad)                              # exp(z) <= 1: no overflow
    row_sums = grad.sum(axis=1)
    loss = float(np.mean(np.log(row_sums) - true_class))
    grad /= row_sums[:, None]                           # softmax probabilities
    grad[rows, y] -= 1                                  # minus the one-hot target
    grad /= N                                           # the loss is a mean over the batch
    return loss, grad


# ----------------------------------------------------------------------------------------------------
# Layer classes (the Layer protocol of Module 01) with reusable buffers
# ----------------------------------------------------------------------------------------------------

class Linear:
    """Fully connected layer: out = x @ weight + bias, weight (in_features, out_features), bias zeros.

    rng: np.random.Generator, int seed or None; init: "kaiming" (default), "xavier" or a Topic 05 name.
    forward/backward return the layer's own buffers (overwritten by its next call).
    needs_input_grad (level 3 only, default True): set it to False on the first layer of a model, whose input
    is the data, and backward skips dx = dout @ W.T (a third of the layer's backward work) and returns None.
    """

    def __init__(self, in_features, out_features, rng=None, dtype=np.float64, init="kaiming"):
        if init not in _INIT_FUNCTIONS:
            raise ValueError(f"unknown init {init!r}: use one of {sorted(_INIT_FUNCTIONS)}")
        make_weight = getattr(inits, _INIT_FUNCTIONS[init])
        rng = np.random.default_rng(rng)
        self.weight = optim.Parameter(make_weight(in_features, out_features, rng=rng, dtype=dtype))
        self.bias = optim.Parameter(np.zeros(out_features, dtype=dtype))
        self.training = True
        self.needs_input_grad = True
        self._x = None
        self._out = self._dx = self._dW = self._db = None

    def forward(self, x):
        """x: (N, in_features) -> (N, out_features)."""
        x = np.asarray(x)
        W, b = self.weight.data, self.bias.data
        _check_linear(x, W, b)
        self._out = _reuse(self._out, (x.shape[0], W.shape[1]), np.result_type(x, W))
        np.dot(x, W, out=self._out)
        self._out += b
        self._x = x              # a reference: backward needs x, and the caller holds it anyway
        return self._out

    def backward(self, dout):
        """dout: (N, out_features) -> dx (N, in_features); adds dW, db to weight.grad, bias.grad."""
        if self._x is None:
            raise RuntimeError("Linear.backward called before forward")
        x, W = self._x, self.weight.data
        dout = np.asarray(dout)
        if dout.shape != (x.shape[0], W.shape[1]):
            raise ValueError(f"dout must have the shape of the output {(x.shape[0], W.shape[1])}, got {dout.shape}")
        self._dW = _reuse(self._dW, W.shape, np.result_type(x, dout))
        np.dot(x.T, dout, out=self._dW)
        self.weight.grad += self._dW
        self._db = _reuse(self._db, self.bias.data.shape, dout.dtype)
        np.sum(dout, axis=0, out=self._db)
        self.bias.grad += self._db
        if not self.needs_input_grad:
            return None
        self._dx = _reuse(self._dx, x.shape, np.result_type(dout, W))
        np.dot(dout, W.T, out=self._dx)
        return self._dx

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
    """max(x, 0) as a layer; keeps its output (for the mask), an output buffer and a gradient buffer."""

    def __init__(self):
        self.training = True
        self._out = self._mask = self._dx = None

    def forward(self, x):
        x = np.asarray(x)
        self._out = _reuse(self._out, x.shape, x.dtype)
        np.maximum(x, 0, out=self._out)
        return self._out

    def backward(self, dout):
        if self._out is None:
            raise RuntimeError("ReLU.backward called before forward")
        dout = np.asarray(dout)
        if dout.shape != self._out.shape:
            raise ValueError(f"dout must have the shape of x {self._out.shape}, got {dout.shape}")
        self._mask = _reuse(self._mask, self._out.shape, np.bool_)
        np.greater(self._out, 0, out=self._mask)
        self._dx = _reuse(self._dx, dout.shape, dout.dtype)
        np.multiply(dout, self._mask, out=self._dx)   # the mask multiplication, into a reused buffer
        return self._dx

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
# The two-layer network, with its hidden activations in one reused buffer
# ----------------------------------------------------------------------------------------------------

class TwoLayerNet:
    """affine - relu - affine - softmax, with L2 regularisation 0.5 * reg * (|W1|^2 + |W2|^2).

    params: {'W1': (D, H), 'b1': (H,), 'W2': (H, C), 'b2': (C,)}, Kaiming-normal weights (Topic 05), zero biases.
    loss() reads self.params on every call. The scores and gradients it returns are new arrays (safe to keep);
    only the hidden activations live in buffers reused from call to call.
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
        self._hidden = self._dhidden = self._mask = None

    def loss(self, X, y=None):
        """X: (N, D). Without y: scores (N, C). With y (N,): (loss: float, grads: dict like params)."""
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        X = np.asarray(X)
        if X.ndim == 2 and X.shape[0] == 0:
            raise ValueError("empty batch: X has 0 rows")
        _check_linear(X, W1, b1)
        N, H = X.shape[0], W1.shape[1]

        hidden = self._hidden = _reuse(self._hidden, (N, H), np.result_type(X, W1))
        np.dot(X, W1, out=hidden)
        hidden += b1
        np.maximum(hidden, 0, out=hidden)   # in-place ReLU: the pre-activation is not needed again
        scores = np.dot(hidden, W2)
        scores += b2
        if y is None:
            return scores

        data_loss, dscores = softmax_cross_entropy(scores, y)
        reg_loss = 0.5 * self.reg * (np.vdot(W1, W1) + np.vdot(W2, W2))   # vdot: no W * W temporary

        dW2 = np.dot(hidden.T, dscores)
        db2 = np.sum(dscores, axis=0)
        dhidden = self._dhidden = _reuse(self._dhidden, hidden.shape, np.result_type(dscores, W2))
        np.dot(dscores, W2.T, out=dhidden)
        mask = self._mask = _reuse(self._mask, hidden.shape, np.bool_)
        np.greater(hidden, 0, out=mask)     # relu output > 0 exactly where its input was > 0
        np.multiply(dhidden, mask, out=dhidden)
        dW1 = np.dot(X.T, dhidden)
        db1 = np.sum(dhidden, axis=0)
        # no dX: the data is not a parameter, so the first layer's input gradient is never computed
        if self.reg:
            dW1 += self.reg * W1
            dW2 += self.reg * W2
        return float(data_loss + reg_loss), {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}

    def predict(self, X):
        """X: (N, D) -> predicted class indices (N,) int."""
        return np.argmax(self.loss(X), axis=1)


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
    one_hot[np.arange(N), y] = 1.0
    loss = -(log_probs * Tensor(one_hot)).sum() * (1.0 / N) + ((W1 * W1).sum() + (W2 * W2).sum()) * (0.5 * reg)
    loss.backward()
    grads = {k: np.asarray(t.grad, dtype=np.asarray(params[k]).dtype) for k, t in leaves.items()}
    return float(np.asarray(loss.data)), grads


# ----------------------------------------------------------------------------------------------------
# Input checks and small helpers (below the lesson code: read the lesson first)
# ----------------------------------------------------------------------------------------------------

def _reuse(buffer, shape, dtype):
    """`buffer` itself when it already has this shape and dtype (no allocation), else a new empty array."""
    if buffer is not None and buffer.shape == shape and buffer.dtype == dtype:
        return buffer
    return np.empty(shape, dtype=dtype)


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


if __name__ == "__main__":
    import time
    import tracemalloc

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((5, 4)), np.array([0, 2, 1, 2, 0])

    # Manual backprop agrees with finite differences and with Topic 02's autograd
    net = TwoLayerNet(4, 10, 3, seed=1, reg=0.1)
    loss, grads = net.loss(X, y)
    from dlfs.gradient_check import check_model

    report = check_model(lambda: net.loss(X, y)[0], net.params, grads)
    print(report)
    auto_loss, auto_grads = two_layer_loss_autograd(net.params, X, y, reg=0.1)
    assert report.passed and abs(loss - auto_loss) < 1e-12
    assert all(np.allclose(grads[k], auto_grads[k], rtol=1e-9, atol=1e-12) for k in grads)

    # The Topic 10 path in float32: a steady-state step allocates almost nothing
    N, D, H, C = 256, 784, 512, 10
    Xb = rng.standard_normal((N, D)).astype(np.float32)
    yb = rng.integers(0, C, N)
    model = Sequential(Linear(D, H, rng=0, dtype=np.float32), ReLU(), Linear(H, C, rng=1, dtype=np.float32))

    def step():
        loss, dlogits = softmax_cross_entropy(model.forward(Xb), yb)
        model.backward(dlogits)
        return loss

    step()  # sizes the buffers
    tracemalloc.start()
    step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    start = time.perf_counter()
    for _ in range(20):
        step()
    per_step = (time.perf_counter() - start) / 20
    print(f"784-512-10, batch 256, float32: {peak / 1e6:.3f} MB allocated at peak per step, "
          f"{per_step * 1e3:.2f} ms per forward + backward")
    assert model[0].weight.grad.dtype == np.float32 and peak < 100_000
    print("level 3 self-test passed")
