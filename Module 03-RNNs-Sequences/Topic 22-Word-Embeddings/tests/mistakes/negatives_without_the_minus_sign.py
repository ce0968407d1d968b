"""The negative samples scored like the positive pair: -log sigmoid(u_k . v_c) instead of -log sigmoid(-u_k . v_c).

The loss then pulls the noise words TOWARDS the center, like real contexts, and every vector drifts to one
direction. It runs, the loss falls, and the neighbours are the most frequent words."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(22, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def sgns_loss(v_c, u_o, u_neg):
    v_c, u_o, u_neg = np.asarray(v_c), np.asarray(u_o), np.asarray(u_neg)
    if v_c.ndim != 2 or u_o.shape != v_c.shape:
        raise ValueError(f"v_c and u_o must both be (B, D), got {v_c.shape} and {u_o.shape}")
    if u_neg.ndim != 3 or u_neg.shape[0] != v_c.shape[0] or u_neg.shape[2] != v_c.shape[1]:
        raise ValueError(f"u_neg must be (B, K, D), got {u_neg.shape}")
    s_pos = np.einsum("bd,bd->b", u_o, v_c)
    s_neg = np.einsum("bkd,bd->bk", u_neg, v_c)
    loss = _ref._log1p_exp(-s_pos).sum() + _ref._log1p_exp(-s_neg).sum()   # sign of the negatives lost
    return float(loss), (v_c, u_o, u_neg, s_pos, s_neg)
