"""evaluate() switches to eval mode and, when done, calls model.train() whatever mode the model was in.
Evaluating a model that was put in eval mode on purpose (to serve predictions, or between two predict calls)
silently turns dropout back on for everything that follows."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def _eval_batches(model, x, y, batch_size):
    model.eval()
    predictions = np.empty(len(x), dtype=np.int64)
    total_loss = 0.0
    for start in range(0, len(x), batch_size):
        logits = model.forward(x[start:start + batch_size])
        predictions[start:start + len(logits)] = np.argmax(logits, axis=1)
        if y is not None:
            loss, _ = layers.softmax_cross_entropy(logits, y[start:start + batch_size])
            total_loss += loss * len(logits)
    model.train()                                     # should restore the mode the model was in
    return total_loss, predictions


def predict(model, x, batch_size=1000):
    return _eval_batches(model, x, None, batch_size)[1]


def evaluate(model, x, y, batch_size=1000):
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    total_loss, predictions = _eval_batches(model, x, y, batch_size)
    return total_loss / len(x), float(np.mean(predictions == y))
