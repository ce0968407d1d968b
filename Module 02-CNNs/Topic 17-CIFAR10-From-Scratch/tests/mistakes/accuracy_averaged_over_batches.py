"""Loss and accuracy averaged over batches instead of over samples. A short last batch then weighs as much as a full one, so the numbers are off whenever the batch size does not divide the dataset."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def evaluate(model, x, y, batch_size=500, tta=False):
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise ValueError("cannot evaluate on an empty dataset")
    was_training = model.training
    model.eval()
    losses, accuracies = [], []
    for start in range(0, len(x), batch_size):
        logits = model.forward(x[start:start + batch_size])
        yb = y[start:start + batch_size]
        losses.append(_ref.smoothed_cross_entropy(logits, yb)[0])
        accuracies.append(np.mean(np.argmax(logits, axis=1) == yb))
    if was_training:
        model.train()
    return float(np.mean(losses)), float(np.mean(accuracies))
