"""ELU derivative written as alpha * exp(min(x, 0)) everywhere, so the positive side gets alpha instead of 1.
With the default alpha = 1 nothing shows; with alpha = 1.3 every positive input's gradient is 30% too large.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(next(p for p in Path(__file__).resolve().parents if (p / "utils" / "curriculum.py").is_file())))
from utils.components import load_topic  # noqa: E402

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def elu_grad(x, alpha=1.0):
    x = _ref._as_float(x)
    return alpha * np.exp(np.minimum(x, 0))          # should be 1 where x > 0
