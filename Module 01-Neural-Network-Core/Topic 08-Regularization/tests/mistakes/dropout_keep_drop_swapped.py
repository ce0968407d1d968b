"""Keep probability and drop probability swapped: units are KEPT with probability p.
Dropout(0.2) then drops 80% of the units, and the 1 / p scale keeps the mean, so the loss curve hides it.
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
    keep = np.random.default_rng(rng).random(x.shape) < p  # kept with probability p: should be 1 - p
    mask = keep.astype(x.dtype) / p if p > 0 else np.ones_like(x)
    return x * mask, mask


class Dropout(_ref.Dropout):
    def forward(self, x):
        out, self._mask = dropout_forward(x, self.p, train=self.training, rng=self.rng)
        self._has_forward = True
        return out
