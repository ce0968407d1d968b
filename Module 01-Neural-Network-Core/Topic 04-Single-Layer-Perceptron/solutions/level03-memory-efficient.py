"""
Level 3: Memory-Efficient Implementation
- Priority: No allocation inside the training loops - every N-sized intermediate lives in a buffer
  allocated once and reused across epochs (`out=` ufuncs), parameters updated in place
- Constraints: NumPy only; gradients by hand; float32 inputs stay float32 end to end (half the memory)
- Target: Same results as level 2 (to rounding), less memory traffic

What it saves, measured on a 2-core CPU for logistic_train on N = 200,000 samples, D = 20, 20 epochs:
  peak memory allocated beyond X (tracemalloc; `python solutions/<file> --measure` on this file and on
  level02-vectorized.py) and time (both levels interleaved in one process, OPENBLAS_NUM_THREADS=1, best of 15):
      level 2 float64   9.6 MB   428 ms
      level 3 float64   5.1 MB   342 ms
      level 2 float32   5.6 MB   238 ms
      level 3 float32   2.6 MB   188 ms
  Level 2 allocates about ten N-sized temporaries every epoch (X @ w, |z|, exp, log1p, where, ...);
  here the same math runs in two N-sized float buffers and one boolean buffer, refilled every epoch.
  The sigmoid is also branch-free (see _sigmoid_into): about 1.7x faster than level 2's np.where.

The stable formulas, shared by the loss and the sigmoid:
    e = exp(-|z|)                 (in (0, 1]: never overflows)
    softplus(z) = max(z, 0) + log1p(e)          loss_i = softplus(z_i) - t_i z_i
    sigmoid(z) = max(e, [z >= 0]) / (1 + e)     (1/(1+e) where z >= 0, e/(1+e) where z < 0)

Conventions: X is (N, D) with one row per sample, labels y are ints in {0, 1} of shape (N,).
The single-output models keep w as a vector (D,) and b as a Python float; TwoLayerXOR keeps
W1 (2, H), b1 (H,), W2 (H, 1), b2 (1,). Errors: empty X or bad shapes raise ValueError; functions that
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
    Points are drawn uniformly and rejected while they fall inside the margin band; accepted points
    are written straight into the output array (no list of batches to concatenate).
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if margin < 0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0.0, 2.0 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])
    offset = rng.uniform(-0.5, 0.5)
    X = np.empty((n, 2))
    filled = 0
    while filled < n:
        candidates = rng.uniform(-2.0, 2.0, size=(2 * n, 2))
        accepted = candidates[np.abs(candidates @ normal + offset) >= margin][: n - filled]
        X[filled:filled + len(accepted)] = accepted
        filled += len(accepted)
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
    X = rng.standard_normal((4 * n_per_corner, 2))
    X *= noise                                                      # scale the noise in place
    X += np.repeat(XOR_CORNERS, n_per_corner, axis=0)               # then shift onto the corners
    y = np.repeat(XOR_LABELS, n_per_corner).astype(np.int64)
    return X, y


# ----------------------------------------------------------------------------------------------
# Task 3-4: the perceptron
# ----------------------------------------------------------------------------------------------

def perceptron_predict(X, w, b):
    """step(X @ w + b): 1 where the score is > 0, else 0. X (N, D), w (D,), b float -> (N,) int64."""
    X = _as_features(X)
    if not _all_finite(X):
        raise ValueError("X contains NaN or Inf: a 0/1 prediction for it would be meaningless")
    w = _as_weights(w, X.shape[1], X.dtype)
    scores = X @ w
    return np.greater(scores, -float(b), out=np.empty(X.shape[0], dtype=bool)).astype(np.int64)


def perceptron_train(X, y, lr=1.0, epochs=100, seed=0):
    """Rosenblatt's rule: for each misclassified sample, w += lr * (t - pred) * x and b += lr * (t - pred).

    Starts from w = 0, b = 0. Each epoch visits the samples in the order rng.permutation(N), with
    rng = np.random.default_rng(seed) made once; training stops after the first epoch without a mistake.
    Returns w (D,) in X's dtype, b (float) and errors_per_epoch (epochs run,) int64: the number of
    updates made during each epoch.

    Memory: one permuted copy of X and three N-sized buffers, allocated once and refilled every epoch.
    """
    X, y = _training_data(X, y)
    n, d = X.shape
    rng = np.random.default_rng(seed)
    w, b = np.zeros(d, dtype=X.dtype), 0.0
    X_epoch = np.empty_like(X)               # this epoch's sample order, refilled in place
    y_bool, y_epoch = y.astype(bool), np.empty(n, dtype=bool)
    scores = np.empty(n, dtype=X.dtype)
    wrong = np.empty(n, dtype=bool)
    step = np.empty(d, dtype=X.dtype)
    errors_per_epoch = []
    for _ in range(epochs):
        order = rng.permutation(n)
        np.take(X, order, axis=0, out=X_epoch)
        np.take(y_bool, order, out=y_epoch)
        mistakes, start = 0, 0
        while start < n:
            rest = slice(start, n)
            np.matmul(X_epoch[rest], w, out=scores[rest])            # scores of the rest of the epoch
            np.greater(scores[rest], -b, out=wrong[rest])              # predictions (as bools)
            np.not_equal(wrong[rest], y_epoch[rest], out=wrong[rest])  # ... compared with the labels
            i = start + int(np.argmax(wrong[rest]))                    # first mistake (argmax of bools)
            if not wrong[i]:
                break
            sign = 1.0 if y_epoch[i] else -1.0                         # t - pred on a mistake
            np.multiply(X_epoch[i], lr * sign, out=step)
            w += step
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

def _sigmoid_into(z, out, e, nonneg):
    """out = sigmoid(z) using buffers e (float) and nonneg (bool) of z's shape; returns out.

    Branch-free: the numerator max(e, [z >= 0]) is 1 where z >= 0 and e = exp(z) where z < 0, so
    sigmoid(z) = max(e, [z >= 0]) / (1 + e) for every z. (np.where or a masked copy would be several
    times slower: with random signs, the CPU mispredicts every other branch.)
    """
    np.abs(z, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)                     # e = exp(-|z|), never overflows
    np.greater_equal(z, 0, out=nonneg)
    np.maximum(e, nonneg, out=out)       # numerator: 1 or e (NaN stays NaN)
    e += 1.0                             # denominator: 1 + e
    out /= e
    return out


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow: exp only ever sees -|z| <= 0. Same shape and float dtype as z."""
    z = np.asarray(z)
    if not np.issubdtype(z.dtype, np.floating):
        z = z.astype(np.float64)
    return _sigmoid_into(z, np.empty_like(z), np.empty_like(z), np.empty(z.shape, dtype=bool))


class _Buffers:
    """The N-sized scratch arrays of one batch size, reused by every epoch."""

    def __init__(self, n, dtype, hidden=0):
        self.z = np.empty(n, dtype=dtype)      # logits, then exp(-|z|), then sigmoid(-|z|)
        self.dz = np.empty(n, dtype=dtype)     # scratch, then sigmoid(z), then dL/dz
        self.nonneg = np.empty(n, dtype=bool)  # z >= 0
        if hidden:                             # TwoLayerXOR only
            self.hidden = np.empty((n, hidden), dtype=dtype)   # tanh activations, then tanh'
            self.dhidden = np.empty((n, hidden), dtype=dtype)  # dL/dh, then dL/d(pre-activation)


def _bce_and_dz(t, buf):
    """Mean BCE of the logits in buf.z against t; leaves dL/dz = (sigmoid(z) - t) / N in buf.dz.

    Two N-sized buffers and no allocation: the logits are used first (t.z, max(z, 0), their signs),
    then buf.z is overwritten with exp(-|z|), which the softplus and the sigmoid share.
    """
    z, scratch, n = buf.z, buf.dz, buf.z.shape[0]
    total = -float(np.dot(t, z))                               # - sum t z
    total += float(np.maximum(z, 0, out=scratch).sum())        # + sum max(z, 0)
    np.greater_equal(z, 0, out=buf.nonneg)                     # remember the signs
    np.abs(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)                                           # z <- e = exp(-|z|), never overflows
    total += float(np.log1p(z, out=scratch).sum())             # + sum log1p(e)   = sum softplus - t z
    np.maximum(z, buf.nonneg, out=scratch)                     # 1 where z >= 0, e where z < 0
    z += 1.0
    scratch /= z                                               # scratch = sigmoid(z)
    scratch -= t
    scratch /= n                                               # buf.dz = dL/dz
    return total / n


def _logistic_loss_into(X, t, w, b, buf, dw):
    """Loss, with dw filled in place and db returned; buf holds every N-sized intermediate."""
    np.matmul(X, w, out=buf.z)
    buf.z += b
    loss = _bce_and_dz(t, buf)
    np.matmul(X.T, buf.dz, out=dw)
    return loss, float(buf.dz.sum())


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
    dw = np.empty(X.shape[1], dtype=X.dtype)
    loss, db = _logistic_loss_into(X, y.astype(X.dtype), w, float(b), _Buffers(X.shape[0], X.dtype), dw)
    return loss, dw, db


def logistic_train(X, y, lr=0.1, epochs=200):
    """Full-batch gradient descent from w = 0, b = 0.

    Returns w (D,), b (float) and losses (epochs,): losses[k] is the loss before the k-th update,
    so losses[0] = ln 2 (the loss of the all-zero weights).
    """
    X, y = _training_data(X, y)
    t = y.astype(X.dtype)
    buf = _Buffers(X.shape[0], X.dtype)
    w, b = np.zeros(X.shape[1], dtype=X.dtype), 0.0
    dw = np.empty_like(w)
    losses = np.empty(epochs, dtype=X.dtype)
    for epoch in range(epochs):
        losses[epoch], db = _logistic_loss_into(X, t, w, b, buf, dw)
        dw *= lr
        w -= dw                    # in place: w keeps its buffer
        b -= lr * db
    return w, b, losses


def logistic_predict_proba(X, w, b):
    """P(y = 1 | x) = sigmoid(X @ w + b): (N,) in X's float dtype. NaN rows give NaN."""
    X = _as_features(X)
    w = _as_weights(w, X.shape[1], X.dtype)
    z = X @ w
    z += float(b)
    return _sigmoid_into(z, z, np.empty_like(z), np.empty(z.shape, dtype=bool))  # z is not needed after


# ----------------------------------------------------------------------------------------------
# Task 9: the XOR checkpoint, a 2-H-1 network with a tanh hidden layer
# ----------------------------------------------------------------------------------------------

class TwoLayerXOR:
    """x (N, 2) -> tanh(x @ W1 + b1) (N, H) -> sigmoid(h @ W2 + b2) (N,): P(y = 1 | x).

    params: {"W1": (2, H), "b1": (H,), "W2": (H, 1), "b2": (1,)} in `dtype`; forward reads them at every
    call and train updates them in place. Init: W1 ~ N(0, 1), W2 ~ N(0, 1/H), biases 0, from seed.
    Training reuses one set of N-sized buffers and one set of gradient arrays for every epoch.
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
        self._buffers = None  # made for the first batch size seen, remade only when N changes

    def _buffers_for(self, n):
        if self._buffers is None or self._buffers.z.shape[0] != n:
            self._buffers = _Buffers(n, self.dtype, hidden=self.hidden)
        return self._buffers

    def _logits_into(self, X, buf):
        """buf.hidden = tanh(X @ W1 + b1) (N, H); buf.z = hidden @ W2 + b2 (N,)."""
        p = self.params
        np.matmul(X, p["W1"], out=buf.hidden)
        buf.hidden += p["b1"]
        np.tanh(buf.hidden, out=buf.hidden)                   # the nonlinearity XOR needs
        np.matmul(buf.hidden, p["W2"][:, 0], out=buf.z)
        buf.z += p["b2"][0]
        return buf.z

    def forward(self, X):
        """X (N, 2) -> probabilities (N,) in the model's dtype (a new array). NaN rows give NaN."""
        X = _as_features(X, 2).astype(self.dtype, copy=False)
        buf = self._buffers_for(X.shape[0])
        z = self._logits_into(X, buf)
        return _sigmoid_into(z, np.empty_like(z), buf.dz, buf.nonneg)

    def _loss_and_grads_into(self, X, t, grads):
        """Loss; fills grads (arrays shaped like params) in place."""
        p = self.params
        buf = self._buffers_for(X.shape[0])
        self._logits_into(X, buf)
        loss = _bce_and_dz(t, buf)                                    # buf.dz = dL/dz (N,)
        np.matmul(buf.hidden.T, buf.dz, out=grads["W2"][:, 0])
        grads["b2"][0] = buf.dz.sum()
        np.multiply.outer(buf.dz, p["W2"][:, 0], out=buf.dhidden)     # dL/dh (N, H)
        np.multiply(buf.hidden, buf.hidden, out=buf.hidden)           # h is no longer needed: reuse it
        np.subtract(1.0, buf.hidden, out=buf.hidden)                  # tanh' = 1 - h^2
        buf.dhidden *= buf.hidden                                     # dL/da
        np.matmul(X.T, buf.dhidden, out=grads["W1"])
        np.sum(buf.dhidden, axis=0, out=grads["b1"])
        return loss

    def loss_and_grads(self, X, y):
        """Mean binary cross-entropy and its gradient for every parameter (fresh arrays, keys of params)."""
        X = _as_features(X, 2).astype(self.dtype, copy=False)
        if X.shape[0] == 0:
            raise ValueError("X is empty: the mean loss over 0 samples is undefined")
        y = _as_labels(y, X.shape[0])
        grads = {name: np.empty_like(value) for name, value in self.params.items()}
        return self._loss_and_grads_into(X, y.astype(self.dtype), grads), grads

    def train(self, X, y, lr=1.0, epochs=500):
        """Full-batch gradient descent; returns losses (epochs,), losses[k] before the k-th update."""
        X, y = _training_data(X, y, 2)
        X, t = X.astype(self.dtype, copy=False), y.astype(self.dtype)
        grads = {name: np.empty_like(value) for name, value in self.params.items()}
        losses = np.empty(epochs, dtype=self.dtype)
        for epoch in range(epochs):
            losses[epoch] = self._loss_and_grads_into(X, t, grads)
            for name, grad in grads.items():
                grad *= lr
                self.params[name] -= grad          # in place: the parameter keeps its buffer
        return losses

    def predict(self, X):
        """Class labels (N,) int64: 1 where the probability is > 0.5."""
        X = _as_features(X, 2)
        if not _all_finite(X):
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


def _all_finite(X):
    """True when X has no NaN/Inf, without an N x D boolean temporary: min and max propagate NaN and Inf."""
    return X.size == 0 or bool(np.isfinite(X.min()) and np.isfinite(X.max()))


def _as_labels(y, n):
    """y as an int64 vector (N,) of 0s and 1s."""
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must have shape ({n},) to match X, got {y.shape}")
    integral = np.issubdtype(y.dtype, np.integer) or y.dtype == bool
    in_range = n == 0 or (y.min() >= 0 and y.max() <= 1)
    if not (in_range and (integral or np.isin(y, (0, 1)).all())):
        raise ValueError(f"labels must be 0 or 1, got values {np.unique(y)[:5]} (map -1/+1 labels with y > 0)")
    return y.astype(np.int64, copy=False)


def _training_data(X, y, n_features=None):
    """Checks for anything that learns: non-empty, finite X and 0/1 labels."""
    X = _as_features(X, n_features)
    if X.shape[0] == 0:
        raise ValueError("X is empty: there is nothing to learn from (N = 0)")
    if not _all_finite(X):
        raise ValueError("X contains NaN or Inf: training on it would silently corrupt the weights")
    return X, _as_labels(y, X.shape[0])


def _as_weights(w, n_features, dtype):
    w = np.asarray(w, dtype=dtype)
    if w.shape != (n_features,):
        raise ValueError(f"w must have shape ({n_features},) for X with {n_features} features, got {w.shape}")
    return w


if __name__ == "__main__":
    import sys

    if "--measure" in sys.argv:
        _measure(3)
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

    net = TwoLayerXOR(dtype=np.float32)
    losses = net.train(X4.astype(np.float32), y4)
    print(f"TwoLayerXOR in float32: loss {losses[0]:.4f} -> {losses[-1]:.4f}, "
          f"predictions {net.predict(X4).tolist()}")
    assert (net.predict(X4) == y4).all() and losses.dtype == np.float32, "the 2-layer net should solve XOR"
    print("OK")
