"""Validation loss averaged over batches: mean of the batch means. When the batch size does not divide the
dataset, the last, smaller batch weighs as much as a full one (a last batch of 1 sample counts like 128), so
the reported loss, the one early stopping watches, depends on the batch size."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def evaluate(model, x, y, batch_size=1000):
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    was_training = model.training
    model.eval()
    losses, correct = [], 0
    for start in range(0, len(x), batch_size):
        logits = model.forward(x[start:start + batch_size])
        loss, _ = layers.softmax_cross_entropy(logits, y[start:start + batch_size])
        losses.append(loss)                           # should be loss * len(logits), divided by len(x)
        correct += int(np.sum(np.argmax(logits, axis=1) == y[start:start + batch_size]))
    if was_training:
        model.train()
    return float(np.mean(losses)), correct / len(x)
