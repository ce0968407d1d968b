"""Evaluation left in training mode: BatchNorm normalises each evaluation batch with its own statistics (and keeps updating the running averages), so a prediction depends on the other images of its batch and changes from call to call."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _eval_batches(model, x, y, batch_size, tta):
    predictions = np.empty(len(x), dtype=np.int64)
    total = 0.0
    for start in range(0, len(x), batch_size):  # no model.eval(): batch statistics stay on
        xb = x[start:start + batch_size]
        logits = model.forward(xb)
        if tta:
            logits = (logits + model.forward(xb[:, :, :, ::-1])) / 2
        predictions[start:start + len(xb)] = np.argmax(logits, axis=1)
        if y is not None:
            total += _ref.smoothed_cross_entropy(logits, y[start:start + batch_size])[0] * len(xb)
    return total, predictions


def predict(model, x, batch_size=500, tta=False):
    return _eval_batches(model, np.asarray(x), None, batch_size, tta)[1]


def evaluate(model, x, y, batch_size=500, tta=False):
    x, y = np.asarray(x), np.asarray(y)
    total, predictions = _eval_batches(model, x, y, batch_size, tta)
    return total / len(x), float(np.mean(predictions == y))
