"""Dead neurons counted per sample (rows) instead of per unit (columns): np.all(a <= 0, axis=1).
A dead unit is a column that is off for every sample; a sample whose units are all off says nothing of the kind.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 1


def find_dead_neurons(activations, threshold=0.0):
    a = _ref._check_batch(activations)
    return np.all(a <= threshold, axis=1)            # should reduce over axis 0, the batch


def dead_neuron_fraction(activations, threshold=0.0):
    return float(find_dead_neurons(activations, threshold).mean())
