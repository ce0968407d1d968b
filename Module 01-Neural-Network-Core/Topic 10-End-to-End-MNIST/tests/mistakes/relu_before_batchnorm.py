"""Hidden layers built as Linear -> ReLU -> BatchNorm1d instead of Linear -> BatchNorm1d -> ReLU. It trains,
but BatchNorm now normalises rectified (non-negative, skewed) activations and its beta shifts them below zero:
not the model the task describes, and not what the reference numbers are computed for."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def build_mlp(layer_sizes=(784, 512, 256, 10), dropout=0.0, batchnorm=False, seed=0, dtype=np.float32):
    rng = np.random.default_rng(seed)
    stack = []
    for i, (d_in, d_out) in enumerate(zip(layer_sizes[:-1], layer_sizes[1:])):
        stack.append(layers.Linear(d_in, d_out, rng=rng, dtype=dtype))
        if i < len(layer_sizes) - 2:
            stack.append(layers.ReLU())
            if batchnorm:
                stack.append(normalization.BatchNorm1d(d_out, dtype=dtype))   # after the ReLU
            if dropout > 0:
                stack.append(regularization.Dropout(dropout, rng=rng))
    return layers.Sequential(*stack)
