"""broadcast_to copies the data with np.tile instead of returning a stride-0 view.
The values are right, but every broadcast allocates the full array: a (1000,) row to (1000, 1000) costs 8 MB."""


import numpy as np

from dlfs.components import load_topic

_ref = load_topic(1, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 3


def broadcast_to(x, shape):
    x = np.asarray(x)
    shape = tuple(int(n) for n in shape)
    if len(shape) < x.ndim or _ref.broadcast_shapes(x.shape, shape) != shape:
        raise ValueError(f"cannot broadcast an array of shape {x.shape} to shape {shape}")
    padded = x.reshape((1,) * (len(shape) - x.ndim) + x.shape)
    return np.tile(padded, tuple(target if size == 1 else 1 for size, target in zip(padded.shape, shape)))
