"""L2 gradient 2 * lam * W with the 0.5 * lam * ||W||^2 convention.
The derivative of 0.5 * lam * W^2 is lam * W: the extra 2 doubles the regularization strength in silence.
"""

import numpy as np  # noqa: E402

from dlfs.components import load_topic

_ref = load_topic(8, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 1


def l2_penalty(weights, lam):
    weights = _as_weight_list(weights)
    lam = _check_non_negative("lam", lam)
    loss = 0.5 * lam * sum(float(np.sum(W * W)) for W in weights)
    grads = [2 * lam * W for W in weights]  # the 0.5 already cancels the 2
    return loss, grads
