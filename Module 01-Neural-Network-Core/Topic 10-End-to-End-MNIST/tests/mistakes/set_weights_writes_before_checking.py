"""set_weights writes each array as soon as its own shape is checked. A checkpoint of another architecture is
refused, but only at the first array that does not fit: the layers before it already hold the other model's
weights, and the model is left half one network, half the other."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def set_weights(model, weights):
    targets = [p.data for p in model.parameters()] + _ref._buffers(model)
    if len(weights) != len(targets):
        raise ValueError(f"expected {len(targets)} arrays, got {len(weights)}")
    for target, w in zip(targets, weights):
        w = np.asarray(w)
        if w.shape != target.shape:
            raise ValueError(f"weight of shape {w.shape} does not fit a parameter of shape {target.shape}")
        target[...] = w                               # written before the later arrays are checked


def load_checkpoint(path, model, optimizer=None):
    _ref.set_weights, saved = set_weights, _ref.set_weights
    try:
        return _ref.load_checkpoint(path, model, optimizer)
    finally:
        _ref.set_weights = saved
