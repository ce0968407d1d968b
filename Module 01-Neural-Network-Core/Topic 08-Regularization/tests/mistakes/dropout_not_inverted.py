"""Dropout without the 1 / (1 - p) scaling: the mask is plain 0/1.
The expected output shrinks to (1 - p) * x in training but not at test time: the next layer sees different scales.
"""

import numpy as np  # noqa: E402

from dlfs.components import load_topic

_ref = load_topic(8, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 1


def dropout_forward(x, p, train=True, rng=None):
    p = _check_p(p)
    x = _as_float(x)
    if not train:
        return x, None
    keep = np.random.default_rng(rng).random(x.shape) >= p
    mask = keep.astype(x.dtype)  # should be divided by (1 - p)
    return x * mask, mask


class Dropout(_ref.Dropout):
    def forward(self, x):
        out, self._mask = dropout_forward(x, self.p, train=self.training, rng=self.rng)
        self._has_forward = True
        return out
