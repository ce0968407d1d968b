"""LeakyReLU with the slope applied to the positive side: negative_slope * x for x > 0, x for x <= 0.
The function still runs and is still piecewise linear, but it now squashes the useful half of the signal.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(next(p for p in Path(__file__).resolve().parents if (p / "utils" / "curriculum.py").is_file())))
from utils.components import load_topic  # noqa: E402

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def leaky_relu(x, negative_slope=0.01):
    x = _ref._as_float(x)
    return np.where(x > 0, negative_slope * x, x)    # the branches are swapped
