"""AdamW implemented as Adam with L2: weight_decay * p is added to the gradient instead of shrinking p.
The decay then goes through Adam's normalisation: with a zero gradient p moves by lr * sign(p), not by a factor (1 - lr * wd)."""

from dlfs.components import load_topic

_ref = load_topic(3, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


class AdamW(_ref.Adam):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)  # plain Adam's L2
