"""Every split normalised with its own statistics: normalize_images ignores the mean and std it is given. Each split then looks standardised, but the test images are scaled with numbers computed on the test set (leakage), and no longer match what the model was trained on."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def normalize_images(x, mean=None, std=None, dtype=np.float32):
    return _ref.normalize_images(x, None, None, dtype)  # the given train statistics are thrown away
