"""
Level 4: PyTorch Reference Implementation
- Priority: Ground truth - the gradients come from torch.autograd, not from a hand derivation
- Constraints: The same interface as the other levels: NumPy arrays in, NumPy arrays out, torch inside
- Target: Verify levels 1-3 and write the golden files of the value tests

    python solutions/level04-pytorch-reference.py                 # self-test
    python solutions/level04-pytorch-reference.py --make-golden   # rewrite tests/golden/*.npz

Random numbers (the data, the perceptron's sample order, the network's initial weights) come from
NumPy's default_rng, exactly as in the other levels, so one seed means the same thing everywhere.
Conventions: X is (N, D), labels y are ints in {0, 1} of shape (N,); w is (D,), b a Python float;
TwoLayerXOR.params holds W1 (2, H), b1 (H,), W2 (H, 1), b2 (1,) as NumPy arrays.
Errors: empty X or bad shapes raise ValueError; functions that return labels or learn weights raise
ValueError on NaN/Inf; functions that return floats propagate NaN.
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.reference import one_torch_thread, write_golden

XOR_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])


# ----------------------------------------------------------------------------------------------
# Input checks (shared by every task)
# ----------------------------------------------------------------------------------------------

def _as_features(X, n_features=None):
    """X as a 2-D floating array (N, D); ints become float64, float32 stays float32."""
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, D), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features per row, expected {n_features}")
    return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)


def _as_labels(y, n):
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(y)[:5]} (map -1/+1 labels with y > 0)")
    return y.astype(np.int64)


def _training_data(X, y, n_features=None):
    X = _as_features(X, n_features)
    if X.shape[0] == 0:
        raise ValueError("X is empty: there is nothing to learn from (N = 0)")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or Inf: training on it would silently corrupt the weights")
    return X, _as_labels(y, X.shape[0])


def _as_weights(w, n_features, dtype):
    w = np.asarray(w, dtype=dtype)
    if w.shape != (n_features,):
        raise ValueError(f"w must have shape ({n_features},) for X with {n_features} features, got {w.shape}")
    return w


def _t(array):
    """NumPy -> torch without changing the dtype (float32 stays float32)."""
    return torch.from_numpy(np.ascontiguousarray(array))


# ----------------------------------------------------------------------------------------------
# Task 1-2: data (NumPy's generator, so that a seed gives the same data as level 2)
# ----------------------------------------------------------------------------------------------

def make_linearly_separable(n, seed=0, margin=0.5):
    """n points in [-2, 2]^2 split by a random line, none closer to it than `margin`.

    Returns X (n, 2) float64 and y (n,) int64 in {0, 1} (1 on the side the line's normal points to).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])
    offset = rng.uniform(-0.5, 0.5)
    kept = []
    while sum(len(k) for k in kept) < n:
        candidates = rng.uniform(-2.0, 2.0, size=(2 * n, 2))
        kept.append(candidates[np.abs(candidates @ normal + offset) >= margin])
    X = np.concatenate(kept)[:n]
    return X, (X @ normal + offset > 0).astype(np.int64)


def make_xor(n_per_corner=25, noise=0.1, seed=0):
    """XOR data: n_per_corner points around each corner of the unit square, Gaussian noise of std `noise`.

    Rows are grouped by corner in the order (0,0), (0,1), (1,0), (1,1), labelled 0, 1, 1, 0.
    Returns X (4 * n_per_corner, 2) float64 and y (4 * n_per_corner,) int64.
    """
    if n_per_corner < 1:
        raise ValueError(f"n_per_corner must be >= 1, got {n_per_corner}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    X = np.repeat(XOR_CORNERS, n_per_corner, axis=0) + noise * rng.standard_normal((4 * n_per_corner, 2))
    return X, np.repeat(XOR_LABELS, n_per_corner).astype(np.int64)


# ----------------------------------------------------------------------------------------------
# Task 3-4: the perceptron (no gradient: torch only does the arithmetic)
# ----------------------------------------------------------------------------------------------

def perceptron_predict(X, w, b):
    """step(X @ w + b): 1 where the score is > 0, else 0. X (N, D), w (D,), b float -> (N,) int64."""
    X = _as_features(X)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or Inf: a 0/1 prediction for it would be meaningless")
    w = _as_weights(w, X.shape[1], X.dtype)
    return ((_t(X) @ _t(w) + float(b)) > 0).long().numpy()


def perceptron_train(X, y, lr=1.0, epochs=100, seed=0):
    """Rosenblatt's rule: for each misclassified sample, w += lr * (t - pred) * x and b += lr * (t - pred).

    Starts from w = 0, b = 0; each epoch visits the samples in the order rng.permutation(N) with
    rng = np.random.default_rng(seed) made once; stops after the first epoch without a mistake.
    Returns w (D,) in X's dtype, b (float) and errors_per_epoch (epochs run,) int64.
    """
    X, y = _training_data(X, y)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    Xt, yt = _t(X), torch.from_numpy(y)
    w, b = torch.zeros(d, dtype=Xt.dtype), 0.0
    errors_per_epoch = []
    with one_torch_thread():
        for _ in range(epochs):
            order = torch.from_numpy(rng.permutation(n))
            X_epoch, y_epoch = Xt[order], yt[order]
            mistakes, start = 0, 0
            while start < n:
                wrong = torch.nonzero((X_epoch[start:] @ w + b > 0).long() != y_epoch[start:])
                if wrong.numel() == 0:
                    break
                i = start + int(wrong[0, 0])
                sign = 2 * int(y_epoch[i]) - 1  # t - pred on a mistake
                w += (lr * sign) * X_epoch[i]
                b += lr * sign
                mistakes += 1
                start = i + 1
            errors_per_epoch.append(mistakes)
            if mistakes == 0:
                break
    return w.numpy(), float(b), np.array(errors_per_epoch, dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Task 5-8: logistic regression, gradients by torch.autograd
# ----------------------------------------------------------------------------------------------

def sigmoid(z):
    """torch.sigmoid: stable for any z. Same shape and float dtype as z."""
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    return torch.sigmoid(_t(z)).numpy()


def _logistic_loss(Xt, tt, w, b):
    """Loss and gradients from autograd. Xt, tt torch tensors; w (D,) array; b float."""
    w_t = _t(w).clone().requires_grad_(True)
    b_t = torch.tensor(float(b), dtype=Xt.dtype, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(Xt @ w_t + b_t, tt)  # mean BCE, log-sigmoid inside
    loss.backward()
    return loss.item(), w_t.grad.numpy(), b_t.grad.item()


def logistic_loss(X, y, w, b):
    """Mean binary cross-entropy of sigmoid(X @ w + b) against y, and its gradients (by autograd).

    X (N, D), y (N,) in {0, 1}, w (D,), b float -> (loss float, dw (D,), db float).
    """
    X = _as_features(X)
    if X.shape[0] == 0:
        raise ValueError("X is empty: the mean loss over 0 samples is undefined")
    y = _as_labels(y, X.shape[0])
    w = _as_weights(w, X.shape[1], X.dtype)
    return _logistic_loss(_t(X), _t(y.astype(X.dtype)), w, b)


def logistic_train(X, y, lr=0.1, epochs=200):
    """Full-batch gradient descent from w = 0, b = 0; losses[k] is the loss before the k-th update."""
    X, y = _training_data(X, y)
    Xt, tt = _t(X), _t(y.astype(X.dtype))
    w, b = np.zeros(X.shape[1], dtype=X.dtype), 0.0
    losses = np.empty(epochs, dtype=X.dtype)
    with one_torch_thread():
        for epoch in range(epochs):
            losses[epoch], dw, db = _logistic_loss(Xt, tt, w, b)
            w -= lr * dw
            b -= lr * db
    return w, b, losses


def logistic_predict_proba(X, w, b):
    """P(y = 1 | x) = sigmoid(X @ w + b): (N,) in X's float dtype."""
    X = _as_features(X)
    w = _as_weights(w, X.shape[1], X.dtype)
    return torch.sigmoid(_t(X) @ _t(w) + float(b)).numpy()


# ----------------------------------------------------------------------------------------------
# Task 9: the XOR checkpoint
# ----------------------------------------------------------------------------------------------

class TwoLayerXOR:
    """x (N, 2) -> tanh(x @ W1 + b1) (N, H) -> sigmoid(h @ W2 + b2) (N,): P(y = 1 | x).

    params: {"W1": (2, H), "b1": (H,), "W2": (H, 1), "b2": (1,)} NumPy arrays in `dtype`; the forward
    pass runs in torch and autograd gives the gradients. Init: W1 ~ N(0, 1), W2 ~ N(0, 1/H), biases 0.
    """

    def __init__(self, hidden=4, seed=0, dtype=np.float64):
        if hidden < 1:
            raise ValueError(f"hidden must be >= 1, got {hidden}")
        rng = np.random.default_rng(seed)
        self.hidden = hidden
        self.dtype = np.dtype(dtype)
        self.params = {
            "W1": rng.standard_normal((2, hidden)).astype(self.dtype),
            "b1": np.zeros(hidden, dtype=self.dtype),
            "W2": (rng.standard_normal((hidden, 1)) / np.sqrt(hidden)).astype(self.dtype),
            "b2": np.zeros(1, dtype=self.dtype),
        }

    def _logits(self, Xt, p):
        h = torch.tanh(Xt @ p["W1"] + p["b1"])
        return (h @ p["W2"] + p["b2"])[:, 0]

    def forward(self, X):
        """X (N, 2) -> probabilities (N,) in the model's dtype."""
        X = _as_features(X, 2).astype(self.dtype, copy=False)
        with torch.no_grad():
            p = {name: _t(value) for name, value in self.params.items()}
            return torch.sigmoid(self._logits(_t(X), p)).numpy()

    def _loss_and_grads(self, Xt, tt):
        p = {name: _t(value).clone().requires_grad_(True) for name, value in self.params.items()}
        loss = F.binary_cross_entropy_with_logits(self._logits(Xt, p), tt)
        loss.backward()
        return loss.item(), {name: tensor.grad.numpy() for name, tensor in p.items()}

    def loss_and_grads(self, X, y):
        """Mean binary cross-entropy and its gradient for every parameter (a dict with the keys of params)."""
        X = _as_features(X, 2).astype(self.dtype, copy=False)
        if X.shape[0] == 0:
            raise ValueError("X is empty: the mean loss over 0 samples is undefined")
        y = _as_labels(y, X.shape[0])
        return self._loss_and_grads(_t(X), _t(y.astype(self.dtype)))

    def train(self, X, y, lr=1.0, epochs=500):
        """Full-batch gradient descent; returns losses (epochs,), losses[k] before the k-th update."""
        X, y = _training_data(X, y, 2)
        Xt, tt = _t(X.astype(self.dtype, copy=False)), _t(y.astype(self.dtype))
        losses = np.empty(epochs, dtype=self.dtype)
        with one_torch_thread():
            for epoch in range(epochs):
                losses[epoch], grads = self._loss_and_grads(Xt, tt)
                for name, grad in grads.items():
                    self.params[name] -= lr * grad
        return losses

    def predict(self, X):
        """Class labels (N,) int64: 1 where the probability is > 0.5."""
        X = _as_features(X, 2)
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or Inf: a 0/1 prediction for it would be meaningless")
        return (self.forward(X) > 0.5).astype(np.int64)


# ----------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------

def make_golden():
    """{file name: {array name: array}}: the reference outputs the value tests compare against."""
    rng = np.random.default_rng(2024)
    golden = {}

    z = np.concatenate([[-1000.0, -40.0, -5.0, -1.0, 0.0, 1.0, 5.0, 40.0, 1000.0], 6.0 * rng.standard_normal(11)])
    golden["sigmoid"] = {"z": z, "s": sigmoid(z)}

    X = rng.standard_normal((7, 3))
    y = np.array([0, 1, 1, 0, 1, 0, 1])
    w, b = rng.standard_normal(3), 0.3
    loss, dw, db = logistic_loss(X, y, w, b)
    golden["logistic_loss"] = {"X": X, "y": y, "w": w, "b": np.array(b), "loss": np.array(loss),
                               "dw": dw, "db": np.array(db)}

    X, y = make_linearly_separable(24, seed=5, margin=0.1)
    X = X + 0.3 * rng.standard_normal(X.shape)  # a few points cross the line: the loss cannot reach 0
    w, b, losses = logistic_train(X, y, lr=0.5, epochs=30)
    golden["logistic_train"] = {"X": X, "y": y, "lr": np.array(0.5), "epochs": np.array(30),
                                "w": w, "b": np.array(b), "losses": losses}

    X, y = make_linearly_separable(60, seed=3, margin=0.02)
    w, b, errors = perceptron_train(X, y, lr=0.5, epochs=100, seed=7)
    golden["perceptron"] = {"X": X, "y": y, "lr": np.array(0.5), "seed": np.array(7),
                            "w": w, "b": np.array(b), "errors": errors}

    X, y = make_xor(2, noise=0.2, seed=11)
    net = TwoLayerXOR(hidden=3, seed=0)
    for name in net.params:  # weights that are not anybody's init: the test sets them explicitly
        net.params[name] = rng.standard_normal(net.params[name].shape)
    start = {name: value.copy() for name, value in net.params.items()}
    probs = net.forward(X)
    loss, grads = net.loss_and_grads(X, y)
    losses = net.train(X, y, lr=0.5, epochs=25)
    golden["two_layer_xor"] = {
        "X": X, "y": y, "lr": np.array(0.5), "epochs": np.array(25), "probs": probs, "loss": np.array(loss),
        **start, **{f"d{name}": grad for name, grad in grads.items()},
        **{f"trained_{name}": value for name, value in net.params.items()}, "train_losses": losses,
    }
    return golden


if __name__ == "__main__":
    if "--make-golden" in sys.argv:
        write_golden(make_golden(), __file__)
        sys.exit(0)
    X, y = make_linearly_separable(200, seed=0)
    w, b, errors = perceptron_train(X, y)
    print(f"perceptron on separable data: {len(errors)} epochs, mistakes per epoch {errors.tolist()}")
    assert errors[-1] == 0 and (perceptron_predict(X, w, b) == y).all(), "perceptron did not converge"

    X4, y4 = make_xor(1, noise=0.0)
    loss, dw, db = logistic_loss(X4, y4, np.zeros(2), 0.0)
    print(f"logistic loss at w = 0 (autograd): {loss:.6f}, dw = {dw}, db = {db}")
    assert np.isclose(loss, np.log(2)) and np.allclose(dw, 0) and np.isclose(db, 0)

    net = TwoLayerXOR()
    losses = net.train(X4, y4)
    print(f"TwoLayerXOR: loss {losses[0]:.4f} -> {losses[-1]:.4f}, predictions {net.predict(X4).tolist()}")
    assert (net.predict(X4) == y4).all(), "the 2-layer net should solve XOR"
    print("OK")
