"""The output projection applied as merged @ out_proj.weight instead of merged @ out_proj.weight^T.

out_proj.weight is (E, E), square, so the transposed product runs as well; nn.Linear stores (out, in) and computes
x W^T. Every output is wrong unless the weight happens to be symmetric."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(26, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def mha_forward(query, key, value, params, num_heads, *args, **kwargs):
    if isinstance(params, dict) and "out_proj.weight" in params and np.ndim(params["out_proj.weight"]) == 2:
        params = {**params, "out_proj.weight": np.asarray(params["out_proj.weight"]).T}
    return _ref.mha_forward(query, key, value, params, num_heads, *args, **kwargs)
