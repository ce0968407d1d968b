"""softmax as exp(x) / sum(exp(x)), without subtracting the row max first.
Fine on small logits, but exp(1e4) overflows to inf and inf / inf turns the probabilities into NaN.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(5, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def softmax(x, axis=-1):
    x = np.asarray(x)
    x = x if x.dtype.kind == "f" else x.astype(np.float64)
    e = np.exp(x)                                  # no "- x.max(axis, keepdims=True)": exp(1e4) = inf
    return e / e.sum(axis=axis, keepdims=True)
