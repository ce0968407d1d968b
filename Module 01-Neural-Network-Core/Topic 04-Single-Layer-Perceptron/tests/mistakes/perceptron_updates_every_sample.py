"""The perceptron moves the weights on every sample, w += lr * (2t - 1) * x, not only on its mistakes.
It still counts mistakes and may even stop, but the weights keep drifting once a sample is right, so they are not the perceptron's.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(4, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def perceptron_train(X, y, lr=1.0, epochs=100, seed=0):
    X, y = _training_data(X, y)
    rng = np.random.default_rng(seed)
    w, b = np.zeros(X.shape[1], dtype=X.dtype), 0.0
    errors_per_epoch = []
    for _ in range(epochs):
        mistakes = 0
        for i in rng.permutation(len(X)):
            pred = int(X[i] @ w + b > 0)
            mistakes += int(pred != y[i])
            w += lr * (2 * y[i] - 1) * X[i]  # a push on every sample, right or wrong
            b += lr * (2 * y[i] - 1)
        errors_per_epoch.append(mistakes)
        if mistakes == 0:
            break
    return w, float(b), np.array(errors_per_epoch, dtype=np.int64)
