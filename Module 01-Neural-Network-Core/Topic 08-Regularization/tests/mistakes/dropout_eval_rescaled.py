"""Inverted dropout that ALSO multiplies by (1 - p) at test time (mixing the two conventions).
Training already scaled the survivors by 1 / (1 - p): scaling again at eval shrinks every activation by (1 - p).
"""

from dlfs.components import load_topic

_ref = load_topic(8, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 1


def dropout_forward(x, p, train=True, rng=None):
    if not train:
        p = _check_p(p)
        return _as_float(x) * (1.0 - p), None  # double scaling: eval must be the identity
    return _ref.dropout_forward(x, p, train=True, rng=rng)


class Dropout(_ref.Dropout):
    def forward(self, x):
        out, self._mask = dropout_forward(x, self.p, train=self.training, rng=self.rng)
        self._has_forward = True
        return out
