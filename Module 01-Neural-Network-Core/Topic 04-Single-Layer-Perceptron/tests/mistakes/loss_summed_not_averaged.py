"""The cross-entropy and its gradients are summed over the batch instead of averaged.
The loss at w = 0 is N ln 2, not ln 2, and every gradient is N times too big: a learning rate fit for 10 samples explodes on 10,000.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(4, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def logistic_loss(X, y, w, b):
    X = _as_features(X)
    if X.shape[0] == 0:
        raise ValueError("X is empty")
    t = _as_labels(y, X.shape[0]).astype(X.dtype)
    z = X @ _as_weights(w, X.shape[1], X.dtype) + float(b)
    loss = np.sum(_softplus(z) - t * z)  # sum, not mean
    dz = sigmoid(z) - t                  # no division by N
    return float(loss), X.T @ dz, float(dz.sum())
