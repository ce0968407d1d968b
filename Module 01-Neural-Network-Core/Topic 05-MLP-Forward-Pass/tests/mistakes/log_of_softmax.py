"""log_softmax computed as log(softmax(x)).
A gap above ~745 between logits makes a probability underflow to 0, and log(0) = -inf instead of e.g. -1e4.
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(next(p for p in Path(__file__).resolve().parents if (p / "utils" / "curriculum.py").is_file())))
from utils.components import load_topic  # noqa: E402

_ref = load_topic(5, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def log_softmax(x, axis=-1):
    with np.errstate(divide="ignore"):
        return np.log(_ref.softmax(x, axis=axis))
