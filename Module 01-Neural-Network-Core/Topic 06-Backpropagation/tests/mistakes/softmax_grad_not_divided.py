"""softmax_cross_entropy returns dlogits = softmax - one_hot without dividing by N.
The loss is a mean but its gradient a sum: N times too large, so the learning rate depends on the batch size.
"""

from dlfs.components import load_topic

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def softmax_cross_entropy(logits, y):
    loss, dlogits = _ref.softmax_cross_entropy(logits, y)
    return loss, dlogits * logits.shape[0]   # undoes the / N
