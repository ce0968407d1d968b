"""Evaluation left in training mode. Dropout keeps dropping units and BatchNorm uses batch statistics, so predictions are noisy and depend on the other samples in the batch."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _eval_batches(model, x, y, batch_size):
    predictions = np.empty(len(x), dtype=np.int64)
    total_loss = 0.0
    for start in range(0, len(x), batch_size):  # no model.eval(): dropout and batch statistics stay on
        logits = model.forward(x[start:start + batch_size])
        predictions[start:start + len(logits)] = np.argmax(logits, axis=1)
        if y is not None:
            loss, _ = layers.softmax_cross_entropy(logits, y[start:start + batch_size])
            total_loss += loss * len(logits)
    return total_loss, predictions


def predict(model, x, batch_size=1000):
    return _eval_batches(model, x, None, batch_size)[1]


def evaluate(model, x, y, batch_size=1000):
    total_loss, predictions = _eval_batches(model, np.asarray(x), np.asarray(y), batch_size)
    return total_loss / len(x), float(np.mean(predictions == y))
