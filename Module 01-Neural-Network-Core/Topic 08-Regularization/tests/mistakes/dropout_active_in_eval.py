"""Dropout still drops units in eval mode (the train flag is ignored).
Predictions become random at test time: two evaluations of the same input disagree, and accuracy drops.
"""

from dlfs.components import load_topic

_ref = load_topic(8, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 1


def dropout_forward(x, p, train=True, rng=None):
    return _ref.dropout_forward(x, p, train=True, rng=rng)  # should return (x, None) when train is False


class Dropout(_ref.Dropout):
    def forward(self, x):
        out, self._mask = dropout_forward(x, self.p, train=self.training, rng=self.rng)
        self._has_forward = True
        return out
