"""The textbook sigmoid 1 / (1 + np.exp(-z)), and a loss built as log(sigmoid(z)).
For z = -1000, exp(1000) overflows (RuntimeWarning), sigmoid underflows to 0 and the loss is log(0) = -inf, then NaN.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(4, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def sigmoid(z):
    z = np.asarray(z)
    z = z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)
    return 1.0 / (1.0 + np.exp(-z))  # exp(-z) overflows for z << 0


def logistic_loss(X, y, w, b):
    X = _as_features(X)
    if X.shape[0] == 0:
        raise ValueError("X is empty")
    t = _as_labels(y, X.shape[0]).astype(X.dtype)
    p = sigmoid(X @ _as_weights(w, X.shape[1], X.dtype) + float(b))
    loss = -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p))  # log(0) once p saturates
    dz = (p - t) / X.shape[0]
    return float(loss), X.T @ dz, float(dz.sum())
