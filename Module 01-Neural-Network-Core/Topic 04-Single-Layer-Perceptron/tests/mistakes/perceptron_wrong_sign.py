"""The perceptron update has its sign flipped: w -= lr * (t - pred) * x.
Every mistake pushes the line the wrong way, so training never converges, even on separable data.
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
            if pred != y[i]:
                w -= lr * (y[i] - pred) * X[i]  # wrong sign: moves the line away from the sample's class
                b -= lr * (y[i] - pred)
                mistakes += 1
        errors_per_epoch.append(mistakes)
        if mistakes == 0:
            break
    return w, float(b), np.array(errors_per_epoch, dtype=np.int64)
