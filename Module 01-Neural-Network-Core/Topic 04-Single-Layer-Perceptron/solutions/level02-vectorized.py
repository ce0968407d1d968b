"""
Level 2: Vectorized Implementation
- Priority: Speed through NumPy - whole-batch matrix products, no Python loop over samples
  (except the perceptron, whose rule is sequential by definition: it jumps from mistake to mistake)
- Constraints: NumPy only; gradients derived by hand (no autograd); dtype of the inputs preserved
- Target: Pass all tests; this file is the reference the speed tests compare against

A single neuron computes z = x . w + b and thresholds it. Two ways to learn w and b:
  - the perceptron (Rosenblatt, 1958): step(z), fix the weights only when a sample is misclassified;
  - logistic regression: sigmoid(z) as a probability, gradient descent on the binary cross-entropy.
Both draw a straight line, so neither can learn XOR; a hidden layer of tanh units can (TwoLayerXOR).

Conventions: X is (N, D) with one row per sample, labels y are ints in {0, 1} of shape (N,).
The single-output models keep w as a vector (D,) and b as a Python float (the one column of the
Module 01 W (D, 1) and b (1,)); TwoLayerXOR keeps W1 (2, H), b1 (H,), W2 (H, 1), b2 (1,).
Errors: empty X or bad shapes raise ValueError. NaN cannot be stored in an int label, so functions that
return labels or learn weights raise ValueError on NaN/Inf; functions that return floats propagate NaN.
"""

import numpy as np

XOR_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])


# ----------------------------------------------------------------------------------------------
# Task 1-2: data
# ----------------------------------------------------------------------------------------------

def make_linearly_separable(n, seed=0, margin=0.5):
    """n points in [-2, 2]^2 split by a random line, none closer to it than `margin`.

    Returns X (n, 2) float64 and y (n,) int64 in {0, 1} (1 on the side the line's normal points to).
    Points are drawn uniformly and rejected while they fall inside the margin band.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])  # unit normal: x . normal + offset is a distance
    offset = rng.uniform(-0.5, 0.5)
    kept = []
    while sum(len(k) for k in kept) < n:
        candidates = rng.uniform(-2.0, 2.0, size=(2 * n, 2))
        distance = candidates @ normal + offset
        kept.append(candidates[np.abs(distance) >= margin])
    X = np.concatenate(kept)[:n]
    y = (X @ normal + offset > 0).astype(np.int64)
    return X, y


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
    y = np.repeat(XOR_LABELS, n_per_corner).astype(np.int64)
    return X, y


# ----------------------------------------------------------------------------------------------
# Task 3-4: the perceptron
# ----------------------------------------------------------------------------------------------

def perceptron_predict(X, w, b):
    """step(X @ w + b): 1 where the score is > 0, else 0. X (N, D), w (D,), b float -> (N,) int64."""
    X = _as_features(X)
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or Inf: a 0/1 prediction for it would be meaningless")
    w = _as_weights(w, X.shape[1], X.dtype)
    return (X @ w + float(b) > 0).astype(np.int64)


def perceptron_train(X, y, lr=1.0, epochs=100, seed=0):
    """Rosenblatt's rule: for each misclassified sample, w += lr * (t - pred) * x and b += lr * (t - pred).

    Starts from w = 0, b = 0. Each epoch visits the samples in the order rng.permutation(N), with
    rng = np.random.default_rng(seed) made once; training stops after the first epoch without a mistake.
    Returns w (D,) in X's dtype, b (float) and errors_per_epoch (epochs run,) int64: the number of
    updates made during each epoch.
    """
    X, y = _training_data(X, y)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    w, b = np.zeros(d, dtype=X.dtype), 0.0
    errors_per_epoch = []
    for _ in range(epochs):
        order = rng.permutation(n)
        X_epoch, y_epoch = X[order], y[order]
        mistakes, start = 0, 0
        while start < n:
            # every sample before the first wrong one is right, so the rule would leave w unchanged:
            # jump straight to the next mistake with one vectorized pass over the rest of the epoch
            wrong = np.flatnonzero((X_epoch[start:] @ w + b > 0) != y_epoch[start:])
            if wrong.size == 0:
                break
            i = start + int(wrong[0])
            sign = 2 * int(y_epoch[i]) - 1  # t - pred on a mistake: +1 (missed a 1) or -1 (missed a 0)
            w += (lr * sign) * X_epoch[i]
            b += lr * sign
            mistakes += 1
            start = i + 1
        errors_per_epoch.append(mistakes)
        if mistakes == 0:
            break
    return w, float(b), np.array(errors_per_epoch, dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Task 5-8: logistic regression
# ----------------------------------------------------------------------------------------------

def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow: exp only ever sees -|z| <= 0. Same shape and float dtype as z."""
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    e = np.exp(-np.abs(z))  # in (0, 1]: never overflows
    return np.where(z >= 0, 1.0, e) / (1.0 + e)  # z >= 0: 1/(1+e^-z); z < 0: e^z/(1+e^z)


def _softplus(z):
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), finite for any finite z."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def _logistic_loss(X, t, w, b):
    """Mean BCE and its gradients, no checks. t: the labels as floats of X's dtype."""
    n = X.shape[0]
    z = X @ w + b                                 # (N,) logits
    loss = np.mean(_softplus(z) - t * z)          # -[t log s(z) + (1-t) log(1-s(z))] = softplus(z) - t z
    dz = (sigmoid(z) - t) / n                     # dL/dz_i = (s(z_i) - t_i) / N
    return float(loss), X.T @ dz, float(dz.sum())


def logistic_loss(X, y, w, b):
    """Mean binary cross-entropy of sigmoid(X @ w + b) against y, and its gradients.

    X (N, D), y (N,) in {0, 1}, w (D,), b float -> (loss float, dw (D,), db float).
    Empty X raises ValueError; NaN in X propagates to a NaN loss.
    """
    X = _as_features(X)
    if X.shape[0] == 0:
        raise ValueError("X is empty: the mean loss over 0 samples is undefined")
    y = _as_labels(y, X.shape[0])
    w = _as_weights(w, X.shape[1], X.dtype)
    return _logistic_loss(X, y.astype(X.dtype), w, float(b))


def logistic_train(X, y, lr=0.1, epochs=200):
    """Full-batch gradient descent from w = 0, b = 0.

    Returns w (D,), b (float) and losses (epochs,): losses[k] is the loss before the k-th update,
    so losses[0] = ln 2 (the loss of the all-zero weights).
    """
    X, y = _training_data(X, y)
    t = y.astype(X.dtype)
    w, b = np.zeros(X.shape[1], dtype=X.dtype), 0.0
    losses = np.empty(epochs, dtype=X.dtype)
    for epoch in range(epochs):
        losses[epoch], dw, db = _logistic_loss(X, t, w, b)
        w -= lr * dw
        b -= lr * db
    return w, b, losses


def logistic_predict_proba(X, w, b):
    """P(y = 1 | x) = sigmoid(X @ w + b): (N,) in X's float dtype. NaN rows give NaN."""
    X = _as_features(X)
    w = _as_weights(w, X.shape[1], X.dtype)
    return sigmoid(X @ w + float(b))


# ----------------------------------------------------------------------------------------------
# Task 9: the XOR checkpoint, a 2-H-1 network with a tanh hidden layer
# ----------------------------------------------------------------------------------------------

class TwoLayerXOR:
    """x (N, 2) -> tanh(x @ W1 + b1) (N, H) -> sigmoid(h @ W2 + b2) (N,): P(y = 1 | x).

    params: {"W1": (2, H), "b1": (H,), "W2": (H, 1), "b2": (1,)} in `dtype`; forward reads them at every
    call and train updates them in place. Init: W1 ~ N(0, 1), W2 ~ N(0, 1/H), biases 0, from seed.
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

    def _hidden_and_logits(self, X):
        p = self.params
        h = np.tanh(X @ p["W1"] + p["b1"])   # (N, H): the nonlinearity XOR needs
        z = (h @ p["W2"] + p["b2"])[:, 0]    # (N,) output logits
        return h, z

    def forward(self, X):
        """X (N, 2) -> probabilities (N,) in the model's dtype. NaN rows give NaN."""
        X = _as_features(X, 2).astype(self.dtype, copy=False)
        return sigmoid(self._hidden_and_logits(X)[1])

    def _loss_and_grads(self, X, t):
        p, n = self.params, X.shape[0]
        h, z = self._hidden_and_logits(X)
        loss = float(np.mean(_softplus(z) - t * z))
        dz = ((sigmoid(z) - t) / n)[:, None]   # (N, 1)
        dh = dz @ p["W2"].T                    # (N, H)
        da = dh * (1.0 - h * h)                # tanh'(a) = 1 - tanh(a)^2
        grads = {"W1": X.T @ da, "b1": da.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}
        return loss, grads

    def loss_and_grads(self, X, y):
        """Mean binary cross-entropy and its gradient for every parameter (a dict with the keys of params)."""
        X = _as_features(X, 2).astype(self.dtype, copy=False)
        if X.shape[0] == 0:
            raise ValueError("X is empty: the mean loss over 0 samples is undefined")
        y = _as_labels(y, X.shape[0])
        return self._loss_and_grads(X, y.astype(self.dtype))

    def train(self, X, y, lr=1.0, epochs=500):
        """Full-batch gradient descent; returns losses (epochs,), losses[k] before the k-th update."""
        X, y = _training_data(X, y, 2)
        X, t = X.astype(self.dtype, copy=False), y.astype(self.dtype)
        losses = np.empty(epochs, dtype=self.dtype)
        for epoch in range(epochs):
            losses[epoch], grads = self._loss_and_grads(X, t)
            for name, grad in grads.items():
                self.params[name] -= lr * grad
        return losses

    def predict(self, X):
        """Class labels (N,) int64: 1 where the probability is > 0.5."""
        X = _as_features(X, 2)
        if not np.isfinite(X).all():
            raise ValueError("X contains NaN or Inf: a 0/1 prediction for it would be meaningless")
        return (self.forward(X) > 0.5).astype(np.int64)


def _measure(level):
    """Peak memory beyond X (tracemalloc) and best-of-5 time of logistic_train, float64 and float32."""
    import time
    import tracemalloc

    rng = np.random.default_rng(0)
    X64 = rng.standard_normal((200_000, 20))
    y = (X64 @ rng.standard_normal(20) > 0).astype(np.int64)
    for X in (X64, X64.astype(np.float32)):
        tracemalloc.start()
        logistic_train(X, y, epochs=2)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        seconds = []
        for _ in range(5):  # best of 5: the least disturbed run
            start = time.perf_counter()
            logistic_train(X, y, epochs=20)
            seconds.append(time.perf_counter() - start)
        print(f"level {level} {X.dtype}: logistic_train on {X.shape}, peak {peak / 1e6:4.1f} MB beyond X, "
              f"{min(seconds) * 1e3:6.1f} ms for 20 epochs")


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
    """y as an int64 vector (N,) of 0s and 1s."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(y)[:5]} (map -1/+1 labels with y > 0)")
    return y.astype(np.int64)


def _training_data(X, y, n_features=None):
    """Checks for anything that learns: non-empty, finite X and 0/1 labels."""
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


if __name__ == "__main__":
    import sys

    if "--measure" in sys.argv:  # the figures level 3 compares itself with
        _measure(2)
        sys.exit(0)
    X, y = make_linearly_separable(200, seed=0)
    w, b, errors = perceptron_train(X, y)
    print(f"perceptron on separable data: {len(errors)} epochs, mistakes per epoch {errors.tolist()}")
    assert errors[-1] == 0 and (perceptron_predict(X, w, b) == y).all(), "perceptron did not converge"

    X4, y4 = make_xor(1, noise=0.0)
    _, _, errors = perceptron_train(X4, y4, epochs=50)
    print(f"perceptron on XOR: never error-free, last epochs {errors[-5:].tolist()}")
    assert errors.min() > 0

    loss, dw, db = logistic_loss(X4, y4, np.zeros(2), 0.0)
    print(f"logistic loss at w = 0: {loss:.6f} (ln 2 = {np.log(2):.6f})")
    assert np.isclose(loss, np.log(2))

    net = TwoLayerXOR()
    losses = net.train(X4, y4)
    print(f"TwoLayerXOR: loss {losses[0]:.4f} -> {losses[-1]:.4f}, predictions {net.predict(X4).tolist()}")
    assert (net.predict(X4) == y4).all(), "the 2-layer net should solve XOR"
    print("OK")
