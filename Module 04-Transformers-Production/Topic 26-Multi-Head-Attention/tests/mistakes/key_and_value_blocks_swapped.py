"""The rows of in_proj_weight read as [Wq; Wv; Wk]: the key and value projections swapped.

in_proj_weight stacks three (E, E) blocks; torch's order is q, k, v. Swapped, every shape still fits (all three are
(E, E)), the layer trains, but torch's weights (and the golden files) give other outputs: the keys are projected by
what torch learned as the value projection, and the other way round."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(26, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def _swap_kv(p):
    p = np.asarray(p)
    E = p.shape[0] // 3
    return np.concatenate([p[:E], p[2 * E:], p[E:2 * E]])


def mha_forward(query, key, value, params, num_heads, *args, **kwargs):
    if isinstance(params, dict):
        params = {n: (_swap_kv(v) if n.startswith("in_proj") and np.ndim(v) >= 1 and len(v) % 3 == 0 else v)
                  for n, v in params.items()}
    return _ref.mha_forward(query, key, value, params, num_heads, *args, **kwargs)
