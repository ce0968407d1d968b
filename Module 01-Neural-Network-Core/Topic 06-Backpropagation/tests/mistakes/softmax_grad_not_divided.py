"""softmax_cross_entropy returns dlogits = softmax - one_hot without dividing by N.
The loss is a mean but its gradient a sum: N times too large, so the learning rate depends on the batch size.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(next(p for p in Path(__file__).resolve().parents if (p / "utils" / "curriculum.py").is_file())))
from utils.components import load_topic  # noqa: E402

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def softmax_cross_entropy(logits, y):
    loss, dlogits = _ref.softmax_cross_entropy(logits, y)
    return loss, dlogits * logits.shape[0]   # undoes the / N
