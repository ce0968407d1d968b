"""get_weights/set_weights (and so the checkpoint) hold the parameters but not BatchNorm's running_mean and
running_var. A model restored from a checkpoint then evaluates with the running statistics of a freshly built
layer (mean 0, variance 1): its validation accuracy collapses although every weight is right."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def get_weights(model):
    return [p.data.copy() for p in model.parameters()]          # the running statistics are missing


def set_weights(model, weights):
    targets = [p.data for p in model.parameters()]
    if len(weights) != len(targets):
        raise ValueError(f"expected {len(targets)} arrays, got {len(weights)}")
    weights = [np.asarray(w) for w in weights]
    for target, w in zip(targets, weights):
        if w.shape != target.shape:
            raise ValueError(f"weight of shape {w.shape} does not fit a parameter of shape {target.shape}")
    for target, w in zip(targets, weights):
        target[...] = w


def save_checkpoint(path, model, optimizer, epoch, history):
    _ref.get_weights, saved = get_weights, _ref.get_weights
    try:
        return _ref.save_checkpoint(path, model, optimizer, epoch, history)
    finally:
        _ref.get_weights = saved


def load_checkpoint(path, model, optimizer=None):
    _ref.set_weights, saved = set_weights, _ref.set_weights
    try:
        return _ref.load_checkpoint(path, model, optimizer)
    finally:
        _ref.set_weights = saved
