"""
Level 1: Naive Implementation
- Priority: Correctness over speed - every formula written out sample by sample, feature by feature
- Constraints: Python loops and the math module; NumPy only to hold the inputs and outputs
- Target: Pass the functional tests (slow: tens of times slower than level 2 on large batches)

A single neuron computes z = x . w + b and thresholds it. Two ways to learn w and b:
  - the perceptron (Rosenblatt, 1958): step(z), fix the weights only when a sample is misclassified;
  - logistic regression: sigmoid(z) as a probability, gradient descent on the binary cross-entropy.
Both draw a straight line, so neither can learn XOR; a hidden layer of tanh units can (TwoLayerXOR).

Every gradient here is the chain rule applied to one sample, then averaged over the batch:
    loss_i = softplus(z_i) - t_i z_i        dloss_i/dz_i = sigmoid(z_i) - t_i
    dL/dw_j = (1/N) sum_i (sigmoid(z_i) - t_i) x_ij        dL/db = (1/N) sum_i (sigmoid(z_i) - t_i)

Conventions: X is (N, D) with one row per sample, labels y are ints in {0, 1} of shape (N,).
The single-output models keep w as a vector (D,) and b as a Python float; TwoLayerXOR keeps
W1 (2, H), b1 (H,), W2 (H, 1), b2 (1,). Errors: empty X or bad shapes raise ValueError; functions that
return labels or learn weights raise ValueError on NaN/Inf; functions that return floats propagate NaN.
"""

import math

import numpy as np

XOR_CORNERS = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XOR_LABELS = [0, 1, 1, 0]


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
    angle = rng.uniform(0.0, 2.0 * math.pi)
    normal = (math.cos(angle), math.sin(angle))  # unit normal: x . normal + offset is a signed distance
    offset = rng.uniform(-0.5, 0.5)
    points, labels = [], []
    while len(points) < n:
        x1, x2 = rng.uniform(-2.0, 2.0, size=2)
        distance = x1 * normal[0] + x2 * normal[1] + offset
        if abs(distance) >= margin:  # reject points inside the margin band
            points.append((x1, x2))
            labels.append(1 if distance > 0 else 0)
    return np.array(points, dtype=np.float64), np.array(labels, dtype=np.int64)


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
    jitter = rng.standard_normal((4 * n_per_corner, 2))
    X = np.zeros((4 * n_per_corner, 2))
    y = np.zeros(4 * n_per_corner, dtype=np.int64)
    row = 0
    for (cx, cy), label in zip(XOR_CORNERS, XOR_LABELS):
        for _ in range(n_per_corner):
            X[row, 0] = cx + noise * jitter[row, 0]
            X[row, 1] = cy + noise * jitter[row, 1]
            y[row] = label
            row += 1
    return X, y


# ----------------------------------------------------------------------------------------------
# Task 3-4: the perceptron
# ----------------------------------------------------------------------------------------------

def perceptron_predict(X, w, b):
    """step(X @ w + b): 1 where the score is > 0, else 0. X (N, D), w (D,), b float -> (N,) int64."""
    X = _as_features(X)
    if not _all_finite(X):
        raise ValueError("X contains NaN or Inf: a 0/1 prediction for it would be meaningless")
    w_list = _as_weights(w, X.shape[1]).tolist()
    predictions = np.zeros(X.shape[0], dtype=np.int64)
    for i, row in enumerate(X.tolist()):
        predictions[i] = 1 if _score(row, w_list, float(b)) > 0 else 0
    return predictions


def perceptron_train(X, y, lr=1.0, epochs=100, seed=0):
    """Rosenblatt's rule: for each misclassified sample, w += lr * (t - pred) * x and b += lr * (t - pred).

    Starts from w = 0, b = 0. Each epoch visits the samples in the order rng.permutation(N), with
    rng = np.random.default_rng(seed) made once; training stops after the first epoch without a mistake.
    Returns w (D,) in X's dtype, b (float) and errors_per_epoch (epochs run,) int64: the number of
    updates made during each epoch.
    """
    X, y = _training_data(X, y)
    n, d = X.shape
    rows = X.tolist()
    rng = np.random.default_rng(seed)
    w, b = [0.0] * d, 0.0
    errors_per_epoch = []
    for _ in range(epochs):
        mistakes = 0
        for i in rng.permutation(n).tolist():
            pred = 1 if _score(rows[i], w, b) > 0 else 0
            if pred != y[i]:  # learn from mistakes only
                delta = lr * (y[i] - pred)
                for j in range(d):
                    w[j] += delta * rows[i][j]
                b += delta
                mistakes += 1
        errors_per_epoch.append(mistakes)
        if mistakes == 0:  # a whole epoch without a mistake: every sample is on its side
            break
    return np.array(w, dtype=X.dtype), float(b), np.array(errors_per_epoch, dtype=np.int64)


# ----------------------------------------------------------------------------------------------
# Task 5-8: logistic regression
# ----------------------------------------------------------------------------------------------

def _sigmoid_scalar(z):
    """sigmoid of one Python float (NaN in, NaN out: every comparison with NaN is False)."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))  # exp(-z) <= 1: no overflow
    e = math.exp(z)                         # z < 0: exp(z) < 1, and 1/(1+e^-z) = e^z/(1+e^z)
    return e / (1.0 + e)


def _softplus_scalar(z):
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), finite for any finite z."""
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow: exp only ever sees -|z| <= 0. Same shape and float dtype as z."""
    z = np.asarray(z)
    dtype = z.dtype if np.issubdtype(z.dtype, np.floating) else np.float64
    out = np.empty(z.shape, dtype=dtype)
    flat_out = out.reshape(-1)
    for k, value in enumerate(z.reshape(-1).tolist()):
        flat_out[k] = _sigmoid_scalar(float(value))
    return out


def _logistic_loss(rows, y, w, b, dtype):
    """Mean BCE and its gradients from Python lists, no checks."""
    n, d = len(rows), len(w)
    total, dw, db = 0.0, [0.0] * d, 0.0
    for row, t in zip(rows, y):
        z = _score(row, w, b)
        total += _softplus_scalar(z) - t * z   # -log-likelihood of one sample, in the stable form
        dz = _sigmoid_scalar(z) - t            # its derivative w.r.t. z
        for j in range(d):
            dw[j] += dz * row[j]
        db += dz
    return total / n, np.array([g / n for g in dw], dtype=dtype), db / n


def logistic_loss(X, y, w, b):
    """Mean binary cross-entropy of sigmoid(X @ w + b) against y, and its gradients.

    X (N, D), y (N,) in {0, 1}, w (D,), b float -> (loss float, dw (D,), db float).
    Empty X raises ValueError; NaN in X propagates to a NaN loss.
    """
    X = _as_features(X)
    if X.shape[0] == 0:
        raise ValueError("X is empty: the mean loss over 0 samples is undefined")
    y = _as_labels(y, X.shape[0])
    w = _as_weights(w, X.shape[1])
    loss, dw, db = _logistic_loss(X.tolist(), y, w.tolist(), float(b), X.dtype)
    return float(loss), dw, float(db)


def logistic_train(X, y, lr=0.1, epochs=200):
    """Full-batch gradient descent from w = 0, b = 0.

    Returns w (D,), b (float) and losses (epochs,): losses[k] is the loss before the k-th update,
    so losses[0] = ln 2 (the loss of the all-zero weights).
    """
    X, y = _training_data(X, y)
    rows = X.tolist()
    w, b = [0.0] * X.shape[1], 0.0
    losses = np.empty(epochs, dtype=X.dtype)
    for epoch in range(epochs):
        loss, dw, db = _logistic_loss(rows, y, w, b, X.dtype)
        losses[epoch] = loss
        w = [wj - lr * gj for wj, gj in zip(w, dw.tolist())]
        b -= lr * db
    return np.array(w, dtype=X.dtype), float(b), losses


def logistic_predict_proba(X, w, b):
    """P(y = 1 | x) = sigmoid(X @ w + b): (N,) in X's float dtype. NaN rows give NaN."""
    X = _as_features(X)
    w_list = _as_weights(w, X.shape[1]).tolist()
    proba = np.empty(X.shape[0], dtype=X.dtype)
    for i, row in enumerate(X.tolist()):
        proba[i] = _sigmoid_scalar(_score(row, w_list, float(b)))
    return proba


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
            "W2": (rng.standard_normal((hidden, 1)) / math.sqrt(hidden)).astype(self.dtype),
            "b2": np.zeros(1, dtype=self.dtype),
        }

    def _sample_forward(self, x, W1, b1, W2, b2):
        """One sample: hidden activations h (list of H floats) and the output logit z."""
        h = []
        for k in range(self.hidden):
            a = b1[k] + x[0] * W1[0][k] + x[1] * W1[1][k]
            h.append(math.tanh(a))            # the nonlinearity XOR needs
        z = b2[0]
        for k in range(self.hidden):
            z += h[k] * W2[k][0]
        return h, z

    def _lists(self):
        p = self.params
        return p["W1"].tolist(), p["b1"].tolist(), p["W2"].tolist(), p["b2"].tolist()

    def forward(self, X):
        """X (N, 2) -> probabilities (N,) in the model's dtype. NaN rows give NaN."""
        X = _as_features(X, 2)
        weights = self._lists()
        probs = np.empty(X.shape[0], dtype=self.dtype)
        for i, x in enumerate(X.astype(self.dtype).tolist()):
            probs[i] = _sigmoid_scalar(self._sample_forward(x, *weights)[1])
        return probs

    def _loss_and_grads(self, rows, y):
        W1, b1, W2, b2 = self._lists()
        n, H = len(rows), self.hidden
        total = 0.0
        dW1 = [[0.0] * H for _ in range(2)]
        db1, dW2, db2 = [0.0] * H, [[0.0] for _ in range(H)], [0.0]
        for x, t in zip(rows, y):
            h, z = self._sample_forward(x, W1, b1, W2, b2)
            total += _softplus_scalar(z) - t * z
            dz = (_sigmoid_scalar(z) - t) / n           # dL/dz for this sample (mean over the batch)
            db2[0] += dz
            for k in range(H):
                dW2[k][0] += h[k] * dz
                da = dz * W2[k][0] * (1.0 - h[k] * h[k])  # back through W2, then through tanh
                db1[k] += da
                dW1[0][k] += x[0] * da
                dW1[1][k] += x[1] * da
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
        return total / n, {name: np.array(g, dtype=self.dtype) for name, g in grads.items()}

    def loss_and_grads(self, X, y):
        """Mean binary cross-entropy and its gradient for every parameter (a dict with the keys of params)."""
        X = _as_features(X, 2)
        if X.shape[0] == 0:
            raise ValueError("X is empty: the mean loss over 0 samples is undefined")
        y = _as_labels(y, X.shape[0])
        loss, grads = self._loss_and_grads(X.astype(self.dtype).tolist(), y)
        return float(loss), grads

    def train(self, X, y, lr=1.0, epochs=500):
        """Full-batch gradient descent; returns losses (epochs,), losses[k] before the k-th update."""
        X, y = _training_data(X, y, 2)
        rows = X.astype(self.dtype).tolist()
        losses = np.empty(epochs, dtype=self.dtype)
        for epoch in range(epochs):
            losses[epoch], grads = self._loss_and_grads(rows, y)
            for name, grad in grads.items():
                self.params[name] -= lr * grad
        return losses

    def predict(self, X):
        """Class labels (N,) int64: 1 where the probability is > 0.5."""
        X = _as_features(X, 2)
        if not _all_finite(X):
            raise ValueError("X contains NaN or Inf: a 0/1 prediction for it would be meaningless")
        probs = self.forward(X)
        return np.array([1 if p > 0.5 else 0 for p in probs.tolist()], dtype=np.int64)


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
    """y as a list of n ints, each 0 or 1."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    labels = y.tolist()
    for label in labels:
        if label not in (0, 1):
            raise ValueError(f"labels must be 0 or 1, got {label!r} (map -1/+1 labels with y > 0)")
    return [int(label) for label in labels]


def _all_finite(X):
    return all(math.isfinite(v) for row in X.tolist() for v in row)


def _training_data(X, y, n_features=None):
    """Checks for anything that learns: non-empty, finite X and 0/1 labels."""
    X = _as_features(X, n_features)
    if X.shape[0] == 0:
        raise ValueError("X is empty: there is nothing to learn from (N = 0)")
    if not _all_finite(X):
        raise ValueError("X contains NaN or Inf: training on it would silently corrupt the weights")
    return X, _as_labels(y, X.shape[0])


def _as_weights(w, n_features):
    w = np.asarray(w)
    if w.shape != (n_features,):
        raise ValueError(f"w must have shape ({n_features},) for X with {n_features} features, got {w.shape}")
    return w


def _score(x_row, w_list, b):
    """z = x . w + b for one sample, as a Python float."""
    z = b
    for xj, wj in zip(x_row, w_list):
        z += xj * wj
    return z


if __name__ == "__main__":
    X, y = make_linearly_separable(200, seed=0)
    w, b, errors = perceptron_train(X, y)
    print(f"perceptron on separable data: {len(errors)} epochs, mistakes per epoch {errors.tolist()}")
    assert errors[-1] == 0 and (perceptron_predict(X, w, b) == y).all(), "perceptron did not converge"

    X4, y4 = make_xor(1, noise=0.0)
    _, _, errors = perceptron_train(X4, y4, epochs=50)
    print(f"perceptron on XOR: never error-free, last epochs {errors[-5:].tolist()}")
    assert errors.min() > 0

    loss, dw, db = logistic_loss(X4, y4, np.zeros(2), 0.0)
    print(f"logistic loss at w = 0: {loss:.6f} (ln 2 = {math.log(2):.6f})")
    assert math.isclose(loss, math.log(2))

    net = TwoLayerXOR()
    losses = net.train(X4, y4)
    print(f"TwoLayerXOR: loss {losses[0]:.4f} -> {losses[-1]:.4f}, predictions {net.predict(X4).tolist()}")
    assert (net.predict(X4) == y4).all(), "the 2-layer net should solve XOR"
    print("OK")
