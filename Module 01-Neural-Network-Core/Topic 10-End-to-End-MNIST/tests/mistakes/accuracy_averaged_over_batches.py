"""Accuracy averaged over batches instead of over samples. A smaller last batch then weighs as much as a full one, so the number is slightly off whenever the batch size does not divide the dataset."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def evaluate(model, x, y, batch_size=1000):
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    model.eval()
    losses, accuracies = [], []
    for start in range(0, len(x), batch_size):
        logits = model.forward(x[start:start + batch_size])
        loss, _ = layers.softmax_cross_entropy(logits, y[start:start + batch_size])
        losses.append(loss)
        accuracies.append(np.mean(np.argmax(logits, axis=1) == y[start:start + batch_size]))
    model.train()
    return float(np.mean(losses)), float(np.mean(accuracies))
