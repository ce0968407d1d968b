"""log_softmax computed as log(softmax(x)).
A gap above ~745 between logits makes a probability underflow to 0, and log(0) = -inf instead of e.g. -1e4.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(5, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def log_softmax(x, axis=-1):
    with np.errstate(divide="ignore"):
        return np.log(_ref.softmax(x, axis=axis))
