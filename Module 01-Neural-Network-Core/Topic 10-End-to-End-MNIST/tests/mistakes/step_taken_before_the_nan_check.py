"""train_step checks the loss for NaN only after optimizer.step(). The error is raised, but the NaN gradients
have already been applied: every weight is NaN, and Adam's moments too, so the run cannot even be continued
from the objects in memory."""

import math

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def train_step(model, optimizer, xb, yb):
    optimizer.zero_grad()
    loss, dlogits = layers.softmax_cross_entropy(model.forward(xb), yb)
    model.backward(dlogits)
    optimizer.step()                                  # the update comes first ...
    if not math.isfinite(loss):                       # ... the check too late
        raise FloatingPointError(f"the loss is {loss}")
    return loss
