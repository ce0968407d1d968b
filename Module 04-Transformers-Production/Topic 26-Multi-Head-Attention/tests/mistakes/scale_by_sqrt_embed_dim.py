"""The scores scaled by 1 / sqrt(E), the model width, instead of 1 / sqrt(head_dim).

Each head compares vectors of head_dim = E / h features, so its dot products have variance head_dim: dividing by
sqrt(E) makes every softmax flatter by a factor sqrt(h). With one head nothing shows; with two or more, the same
weights give other numbers than torch. (Done here by shrinking the query rows of in_proj by 1 / sqrt(h).)"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(26, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def mha_forward(query, key, value, params, num_heads, *args, **kwargs):
    if isinstance(params, dict) and "in_proj_weight" in params and isinstance(num_heads, int) and num_heads > 0:
        params = dict(params)
        E = np.shape(params["in_proj_weight"])[1]
        for name in ("in_proj_weight", "in_proj_bias"):
            if name in params:
                p = np.array(params[name])
                p[:E] *= 1 / np.sqrt(num_heads)               # q / sqrt(E) = (q / sqrt(h)) / sqrt(head_dim)
                params[name] = p
    return _ref.mha_forward(query, key, value, params, num_heads, *args, **kwargs)
