"""Topic 04: Single Layer Perceptron - your implementation.

Copy this file to solution.py (in this folder), then replace each `raise NotImplementedError(...)`
with your code, task by task (questions.md explains every task). Check yourself with:

    python utils/test_runner.py --day 4

Rules: NumPy and the standard library only, and no autograd - every gradient in this topic is derived
by hand (math-refresh.md shows how).

Conventions (the same in every level and in Topic 10):
- X is (N, D): one row per sample. Labels y are ints in {0, 1}, shape (N,).
- A single neuron has weights w (D,) and a bias b (a Python float): z = X @ w + b.
- Keep the dtype of the inputs: float32 in -> float32 out (never upcast silently).
- Errors: empty X or shapes that do not match raise ValueError. NaN cannot be stored in an int label,
  so functions that return labels or learn weights raise ValueError on NaN/Inf; functions that return
  floats let NaN propagate, as NumPy does.
"""

import numpy as np

XOR_CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_LABELS = np.array([0, 1, 1, 0])


# ----------------------------------------------------------------------------------------------
# Provided: input checks (not a task). Call them at the top of your functions.
# ----------------------------------------------------------------------------------------------

def _as_features(X, n_features=None):
    """X as a 2-D floating array (N, D); ints become float64, float32 stays float32.

    Raises ValueError if X is not 2-D or (when n_features is given) has the wrong number of columns.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (N, D), got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features per row, expected {n_features}")
    return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)


def _as_labels(y, n):
    """y as an int64 vector (N,) of 0s and 1s; ValueError for another shape or other values."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(y)[:5]} (map -1/+1 labels with y > 0)")
    return y.astype(np.int64)


def _training_data(X, y, n_features=None):
    """Checks for anything that learns: X non-empty and finite, labels 0/1. Returns (X, y)."""
    X = _as_features(X, n_features)
    if X.shape[0] == 0:
        raise ValueError("X is empty: there is nothing to learn from (N = 0)")
    if not np.isfinite(X).all():
        raise ValueError("X contains NaN or Inf: training on it would silently corrupt the weights")
    return X, _as_labels(y, X.shape[0])


def _as_weights(w, n_features, dtype):
    """w as a (D,) array of the given dtype; ValueError if its length does not match X."""
    w = np.asarray(w, dtype=dtype)
    if w.shape != (n_features,):
        raise ValueError(f"w must have shape ({n_features},) for X with {n_features} features, got {w.shape}")
    return w


# ----------------------------------------------------------------------------------------------
# Task 1-2: data
# ----------------------------------------------------------------------------------------------

def make_linearly_separable(n, seed=0, margin=0.5):
    """n points in [-2, 2]^2 split by a random line, none closer to it than `margin`.

    Draw the line from np.random.default_rng(seed): a unit normal u at a random angle and an offset c
    in [-0.5, 0.5] (so the line passes near the origin and both classes get plenty of points).
    A point x is kept only if its distance to the line |x . u + c| >= margin; its label is 1 if
    x . u + c > 0, else 0.

    Args:
        n: number of points, >= 1 (ValueError otherwise).
        seed: the seed of np.random.default_rng; the same seed gives the same data.
        margin: >= 0 (ValueError otherwise), the half-width of the empty band around the line.
    Returns:
        X (n, 2) float64, y (n,) int64 in {0, 1}.
    """
    raise NotImplementedError("Task 1: make_linearly_separable (see questions.md)")


def make_xor(n_per_corner=25, noise=0.1, seed=0):
    """XOR data: n_per_corner points around each corner of the unit square.

    Rows are grouped by corner in the order (0,0), (0,1), (1,0), (1,1) (XOR_CORNERS), labelled
    0, 1, 1, 0 (XOR_LABELS); every point is its corner plus noise * standard normal (2,) noise drawn
    from np.random.default_rng(seed). With n_per_corner=1, noise=0 you get the XOR truth table.

    Args:
        n_per_corner: >= 1 (ValueError otherwise).
        noise: standard deviation of the Gaussian noise, >= 0 (ValueError otherwise).
        seed: seed of np.random.default_rng.
    Returns:
        X (4 * n_per_corner, 2) float64, y (4 * n_per_corner,) int64.
    """
    raise NotImplementedError("Task 2: make_xor (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 3-4: the perceptron
# ----------------------------------------------------------------------------------------------

def perceptron_predict(X, w, b):
    """The perceptron's decision: step(X @ w + b), 1 where the score is > 0 (strictly), else 0.

    Args:
        X: (N, D) floats (an empty (0, D) X gives an empty result; NaN/Inf -> ValueError).
        w: (D,) weights (ValueError if D does not match).
        b: the bias, a float.
    Returns:
        (N,) int64 in {0, 1}.
    """
    raise NotImplementedError("Task 3: perceptron_predict (see questions.md)")


def perceptron_train(X, y, lr=1.0, epochs=100, seed=0):
    """Rosenblatt's perceptron rule.

    Start from w = 0 (D,) in X's dtype and b = 0.0. Make rng = np.random.default_rng(seed) once; each
    epoch visits the samples in the order rng.permutation(N). For each sample x with label t:
        pred = step(x . w + b)
        if pred != t:  w += lr * (t - pred) * x;  b += lr * (t - pred)   (and count one error)
    Stop after the first epoch with zero errors (or after `epochs` epochs).

    Args:
        X: (N, D), non-empty and finite; y: (N,) labels in {0, 1} (ValueError otherwise).
        lr: learning rate; epochs: the most epochs to run; seed: seed of the sample order.
    Returns:
        w (D,) in X's dtype, b (float), errors_per_epoch (epochs run,) int64 - the number of
        updates made during each epoch (the last is 0 when training converged).
    """
    raise NotImplementedError("Task 4: perceptron_train (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 5-8: logistic regression
# ----------------------------------------------------------------------------------------------

def sigmoid(z):
    """1 / (1 + exp(-z)), elementwise, without overflow for any z (no RuntimeWarning at z = +-1000).

    Args:
        z: array of any shape (ints are converted to float64).
    Returns:
        array of z's shape and float dtype (float32 stays float32). NaN -> NaN, +inf -> 1, -inf -> 0.
    """
    raise NotImplementedError("Task 5: sigmoid (see questions.md)")


def logistic_loss(X, y, w, b):
    """Mean binary cross-entropy of p = sigmoid(X @ w + b) against y, and its gradients.

        loss = mean_i [ -t_i log p_i - (1 - t_i) log(1 - p_i) ]      (compute it from z, stably)
        dw = X.T @ (p - t) / N        db = mean(p - t)

    Args:
        X: (N, D) floats, N >= 1 (ValueError for an empty X); NaN in X propagates to a NaN loss.
        y: (N,) labels in {0, 1}; w: (D,); b: float.
    Returns:
        (loss: float, dw: (D,) in X's dtype, db: float).
    """
    raise NotImplementedError("Task 6: logistic_loss (see questions.md)")


def logistic_train(X, y, lr=0.1, epochs=200):
    """Full-batch gradient descent on logistic_loss, from w = 0 (D,) in X's dtype and b = 0.0.

    Every epoch: compute (loss, dw, db) on the whole batch, record the loss, then w -= lr * dw,
    b -= lr * db. So losses[0] is the loss of the zero weights, ln 2.

    Args:
        X: (N, D), non-empty and finite; y: (N,) labels in {0, 1} (ValueError otherwise).
    Returns:
        w (D,) in X's dtype, b (float), losses (epochs,) floats.
    """
    raise NotImplementedError("Task 7: logistic_train (see questions.md)")


def logistic_predict_proba(X, w, b):
    """P(y = 1 | x) = sigmoid(X @ w + b).

    Args:
        X: (N, D) (an empty X gives an empty result; NaN rows give NaN); w: (D,); b: float.
    Returns:
        (N,) probabilities in X's float dtype.
    """
    raise NotImplementedError("Task 8: logistic_predict_proba (see questions.md)")


# ----------------------------------------------------------------------------------------------
# Task 9: the XOR checkpoint, a 2-H-1 network with a tanh hidden layer
# ----------------------------------------------------------------------------------------------

class TwoLayerXOR:
    """x (N, 2) -> h = tanh(x @ W1 + b1) (N, H) -> p = sigmoid(h @ W2 + b2) (N,), trained by hand-derived
    backpropagation on the mean binary cross-entropy.

    self.params = {"W1": (2, H), "b1": (H,), "W2": (H, 1), "b2": (1,)}, all in `dtype`. forward reads
    them at every call (a test may replace them), train updates them.
    """

    def __init__(self, hidden=4, seed=0, dtype=np.float64):
        """Task 9a. Make self.params from rng = np.random.default_rng(seed): W1 = standard normal (2, H),
        W2 = standard normal (H, 1) / sqrt(H), b1 and b2 zeros; all cast to dtype.
        Also keep self.hidden = hidden and self.dtype = np.dtype(dtype). hidden < 1 -> ValueError.
        """
        raise NotImplementedError("Task 9a: TwoLayerXOR.__init__ (see questions.md)")

    def forward(self, X):
        """Task 9b. X (N, 2) -> probabilities (N,) in the model's dtype (ValueError if X is not (N, 2))."""
        raise NotImplementedError("Task 9b: TwoLayerXOR.forward (see questions.md)")

    def loss_and_grads(self, X, y):
        """Task 9c. Mean binary cross-entropy and its gradients, by hand-derived backprop.

        X (N, 2), N >= 1 (empty -> ValueError); y (N,) in {0, 1}.
        Returns (loss: float, grads: dict with the keys and shapes of self.params).
        """
        raise NotImplementedError("Task 9c: TwoLayerXOR.loss_and_grads (see questions.md)")

    def train(self, X, y, lr=1.0, epochs=500):
        """Task 9d. Full-batch gradient descent: each epoch compute (loss, grads), record the loss, then
        params[name] -= lr * grads[name] for every parameter. X non-empty and finite (ValueError).
        Returns losses (epochs,): losses[k] is the loss before the k-th update.
        """
        raise NotImplementedError("Task 9d: TwoLayerXOR.train (see questions.md)")

    def predict(self, X):
        """Task 9e. Class labels (N,) int64: 1 where the probability is > 0.5. NaN/Inf in X -> ValueError."""
        raise NotImplementedError("Task 9e: TwoLayerXOR.predict (see questions.md)")


if __name__ == "__main__":
    X, y = make_xor(1, noise=0.0)
    print("XOR truth table:\n", np.column_stack([X, y]))
    net = TwoLayerXOR()
    losses = net.train(X, y)
    print(f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; predictions {net.predict(X)} (want {y})")
