"""logistic_loss returns db = 0: the bias gradient is forgotten.
Nothing crashes and the loss still falls, but the line is stuck through the origin and the gradient check on b fails.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(4, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def logistic_loss(X, y, w, b):
    loss, dw, _ = _ref.logistic_loss(X, y, w, b)
    return loss, dw, 0.0  # the bias gradient was never computed


def logistic_train(X, y, lr=0.1, epochs=200):
    X, y = _training_data(X, y)
    w, b = np.zeros(X.shape[1], dtype=X.dtype), 0.0
    losses = np.empty(epochs, dtype=X.dtype)
    for epoch in range(epochs):
        losses[epoch], dw, db = logistic_loss(X, y, w, b)
        w -= lr * dw
        b -= lr * db
    return w, b, losses
