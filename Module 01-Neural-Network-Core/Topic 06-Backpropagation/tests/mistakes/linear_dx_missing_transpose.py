"""dx computed as dout @ W, missing the .T.
It only runs when D_in == D_out, and even then dx is wrong: the error reaching the layer below is scrambled.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(next(p for p in Path(__file__).resolve().parents if (p / "utils" / "curriculum.py").is_file())))
from utils.components import load_topic  # noqa: E402

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def linear_backward(dout, cache):
    x, W, b = cache
    dx = dout @ W            # should be dout @ W.T
    dW = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dW, db
