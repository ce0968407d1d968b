"""SiLU derivative taken as sigmoid(x) alone, forgetting the x * s * (1 - s) term of the product rule.
d/dx [x * s(x)] = s + x * s'(x): the second term vanishes only at x = 0, so the gradient check fails elsewhere.
"""

from dlfs.components import load_topic

_ref = load_topic(7, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def silu_grad(x):
    return _ref.topic05.sigmoid(_ref._as_float(x))
