"""Test images normalised with their own mean/std. Each split then looks standardised, but the model sees test statistics it could never know in production (leakage), and train/test inputs no longer match."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def normalize_images(x, mean=None, std=None, dtype=np.float32):
    out = np.asarray(x).reshape(len(x), -1).astype(dtype) / 255
    mean, std = float(out.mean()), float(out.std())  # ignores the statistics it was given
    return ((out - mean) / std).astype(dtype), mean, std
