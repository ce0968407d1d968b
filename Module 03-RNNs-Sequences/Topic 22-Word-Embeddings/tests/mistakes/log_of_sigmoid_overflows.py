"""-log(sigmoid(s)) computed as written, through 1 / (1 + exp(-s)).

For a score of -800, exp(800) overflows to inf, sigmoid is 0 and its log is -inf: the loss is inf, and one pair
with a large dot product spoils the whole batch. -log sigmoid(s) = log(1 + exp(-s)) = np.logaddexp(0, -s) is
finite for any s."""

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
    with np.errstate(over="ignore", divide="ignore"):
        loss = -np.log(1 / (1 + np.exp(-s_pos))).sum() - np.log(1 / (1 + np.exp(s_neg))).sum()
    return float(loss), (v_c, u_o, u_neg, s_pos, s_neg)
