"""
Level 2: vectorized
- Heads are split with one reshape and one transpose, (B, T, E) -> (B, T, h, hd) -> (B, h, T, hd), and merged back
  the same way: the heads become a leading dim that Topic 25's attention already loops over for free
- All heads in ONE call of Topic 25's attention_forward (and one attention_backward): (B, h, T, S) scores at once
- torch.nn.MultiheadAttention's conventions: in_proj_weight (3E, E) stacks Wq, Wk, Wv; masks True = hidden
This is the reference `load_topic(26)` gives.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

attention = load_topic(25)            # Topic 25: attention_forward / attention_backward / masked_softmax
Parameter = load_topic(3).Parameter   # Topic 03: Parameter(data) has .data and .grad (zeros like data)

NAMES = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")  # torch's state_dict keys


def split_heads(x, num_heads):
    """(..., T, E) -> (..., num_heads, T, E // num_heads): head i gets the features i*hd:(i+1)*hd."""
    x = np.asarray(x)
    _check_heads(x, num_heads)
    hd = x.shape[-1] // num_heads
    x = x.reshape(x.shape[:-1] + (num_heads, hd))   # (..., T, h, hd): only the last axis is cut
    return x.swapaxes(-2, -3)                         # (..., h, T, hd): then the heads move in front of T


def merge_heads(x):
    """(..., h, T, hd) -> (..., T, h * hd), the inverse of split_heads."""
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"merge_heads needs (..., h, T, hd), got shape {x.shape}")
    x = x.swapaxes(-2, -3)                            # (..., T, h, hd): the heads back next to their features
    return x.reshape(x.shape[:-2] + (x.shape[-2] * x.shape[-1],))


def merge_masks(key_padding_mask, attn_mask, batch, num_heads, T, S):
    """torch's two masks (bool True = HIDDEN, float added) -> one mask in Topic 25's convention, or None.

    key_padding_mask (batch, S); attn_mask (T, S) or (batch * num_heads, T, S), index b * num_heads + head.
    Returns an array of shape (batch or 1, num_heads or 1, T or 1, S): boolean True = takes part when both masks
    are boolean (or only one is given), otherwise float (a boolean mask becomes 0 / -inf) added to the scores.
    """
    masks = []
    if key_padding_mask is not None:
        m = _check_mask(key_padding_mask, "key_padding_mask", [(batch, S)])
        masks.append(m[:, None, None, :])             # (B, 1, 1, S): one row of keys per batch element
    if attn_mask is not None:
        m = _check_mask(attn_mask, "attn_mask", [(T, S), (batch * num_heads, T, S)])
        masks.append(m[None, None] if m.ndim == 2 else m.reshape(batch, num_heads, T, S))  # batch-major
    if not masks:
        return None
    if all(m.dtype == np.bool_ for m in masks):
        allowed = ~masks[0]
        for m in masks[1:]:
            allowed = allowed & ~m                    # a key takes part where neither mask hides it
        return allowed
    dtype = np.result_type(*[m.dtype for m in masks if m.dtype != np.bool_])
    total = None
    for m in masks:
        m = np.where(m, -np.inf, 0.0).astype(dtype) if m.dtype == np.bool_ else m
        total = m if total is None else total + m
    return total


def mha_forward(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None,
                need_weights=True, average_attn_weights=True):
    """Multi-head attention with torch.nn.MultiheadAttention's weights (batch_first=True).

    query (B, T, E), key (B, S, E), value (B, S, E); params {"in_proj_weight" (3E, E), "in_proj_bias" (3E,),
    "out_proj.weight" (E, E), "out_proj.bias" (E,)} (no biases when bias=False).
    Returns out (B, T, E), weights ((B, T, S) averaged over heads, (B, h, T, S) per head, or None), cache.
    """
    query, key, value, W_in, b_in, W_out, b_out = _check(query, key, value, params, num_heads)
    (B, T, E), S = query.shape, key.shape[1]
    Wq, Wk, Wv = W_in[:E], W_in[E:2 * E], W_in[2 * E:]           # the rows of in_proj_weight: q, k, v
    bq, bk, bv = (None, None, None) if b_in is None else (b_in[:E], b_in[E:2 * E], b_in[2 * E:])
    q, k, v = (_linear(x, W, b) for x, W, b in ((query, Wq, bq), (key, Wk, bk), (value, Wv, bv)))
    qh, kh, vh = (split_heads(t, num_heads) for t in (q, k, v))  # (B, h, T or S, hd)
    mask = merge_masks(key_padding_mask, attn_mask, B, num_heads, T, S)
    a, attn_cache = attention.attention_forward(qh, kh, vh, mask=mask)  # scale 1 / sqrt(hd), not 1 / sqrt(E)
    merged = merge_heads(a)                                      # (B, T, E)
    out = _linear(merged, W_out, b_out)
    weights = None
    if need_weights:
        weights = _weights(qh, kh, mask)                         # (B, h, T, S)
        if average_attn_weights:
            weights = weights.mean(axis=1)                       # (B, T, S), as torch's default
    cache = (query, key, value, W_in, b_in, W_out, b_out, num_heads, merged, attn_cache)
    return out, weights, cache


def mha_backward(dout, cache):
    """dout (B, T, E) -> dquery (B, T, E), dkey (B, S, E), dvalue (B, S, E), grads {name: array like params}."""
    query, key, value, W_in, b_in, W_out, _, num_heads, merged, attn_cache = cache
    dout = np.asarray(dout)
    if dout.shape != query.shape:
        raise ValueError(f"dout must have the shape {query.shape} of out, got {dout.shape}")
    dout = dout.astype(query.dtype, copy=False)
    E = query.shape[-1]
    rows = lambda t: t.reshape(-1, E)                            # batch and time are just rows for a weight
    grads = {"out_proj.weight": rows(dout).T @ rows(merged)}     # out = merged Wo^T + bo
    dmerged = dout @ W_out
    da = split_heads(dmerged, num_heads)                         # merge_heads backward is split_heads
    dqh, dkh, dvh = attention.attention_backward(da, attn_cache)
    dW_in, db_in, dx = [], [], []
    for i, (x, d) in enumerate(zip((query, key, value), (dqh, dkh, dvh))):
        d = merge_heads(d)                                       # split_heads backward is merge_heads
        dW_in.append(rows(d).T @ rows(x))
        db_in.append(rows(d).sum(axis=0))
        dx.append(d @ W_in[i * E:(i + 1) * E])
    grads["in_proj_weight"] = np.concatenate(dW_in)              # (3E, E): the q, k, v blocks in order
    if b_in is not None:
        grads["in_proj_bias"] = np.concatenate(db_in)
        grads["out_proj.bias"] = rows(dout).sum(axis=0)
    return dx[0], dx[1], dx[2], {name: grads[name] for name in NAMES if name in grads}


class MultiheadAttention:
    """torch.nn.MultiheadAttention(embed_dim, num_heads, bias, batch_first=True), in NumPy.

    Parameters (Topic 03 Parameters): in_proj_weight (3E, E), in_proj_bias (3E,), out_proj_weight (E, E),
    out_proj_bias (E,), the biases None when bias=False; state_dict keys are torch's (out_proj.weight, ...).
    """

    def __init__(self, embed_dim, num_heads, bias=True, rng=None, dtype=np.float32):
        for name, n in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        E = self.embed_dim
        rng = np.random.default_rng(rng)
        xavier = np.sqrt(6.0 / (E + 3 * E))                      # xavier_uniform_ on (3E, E), as torch
        self.in_proj_weight = Parameter(rng.uniform(-xavier, xavier, size=(3 * E, E)).astype(dtype))
        self.out_proj_weight = Parameter(rng.uniform(-1 / np.sqrt(E), 1 / np.sqrt(E), size=(E, E)).astype(dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * E, dtype)) if bias else None   # torch starts them at 0
        self.out_proj_bias = Parameter(np.zeros(E, dtype)) if bias else None
        self._cache = None

    def _named(self):
        pairs = zip(NAMES, (self.in_proj_weight, self.in_proj_bias, self.out_proj_weight, self.out_proj_bias))
        return {name: p for name, p in pairs if p is not None}

    def parameters(self):
        return list(self._named().values())

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True,
                average_attn_weights=True):
        """query (B, T, E), key and value (B, S, E) -> (out (B, T, E), weights or None), as torch's forward."""
        params = {name: p.data for name, p in self._named().items()}
        out, weights, self._cache = mha_forward(query, key, value, params, self.num_heads, key_padding_mask,
                                                attn_mask, need_weights, average_attn_weights)
        return out, weights

    def backward(self, dout):
        """dout (B, T, E) -> (dquery, dkey, dvalue); ADDS every parameter's gradient into its .grad."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        dquery, dkey, dvalue, grads = mha_backward(dout, self._cache)
        for name, p in self._named().items():
            p.grad += grads[name]
        return dquery, dkey, dvalue

    def state_dict(self):
        return {name: p.data.copy() for name, p in self._named().items()}

    def load_state_dict(self, state):
        named = self._named()
        if set(state) != set(named):
            raise ValueError(f"state_dict keys {sorted(state)} != expected {sorted(named)}")
        for name, p in named.items():
            if np.shape(state[name]) != p.data.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {np.shape(state[name])}, expected {p.data.shape}")
        for name, p in named.items():
            p.data[...] = state[name]


# ----------------------------------------------------------------------------------------------------
# checks and small pieces: the plumbing under the lesson
# ----------------------------------------------------------------------------------------------------

def _linear(x, W, b):
    """nn.Linear's layout: x (..., in) -> x W^T + b (..., out)."""
    y = x @ W.T
    return y if b is None else y + b


def _weights(qh, kh, mask):
    """The attention weights themselves, (B, h, T, S): Topic 25's masked softmax of the scaled scores."""
    scores = qh @ kh.swapaxes(-1, -2) * (1.0 / math.sqrt(qh.shape[-1]))  # a float keeps float32
    if mask is None:
        return attention.masked_softmax(scores)
    if mask.dtype != np.bool_:
        allowed = mask > -np.inf
        scores = scores + np.where(allowed, mask, 0).astype(scores.dtype)   # float32 stays float32
        mask = allowed
    return attention.masked_softmax(scores, np.broadcast_to(mask, scores.shape))


def _check_heads(x, num_heads):
    if isinstance(num_heads, bool) or not isinstance(num_heads, (int, np.integer)) or num_heads < 1:
        raise ValueError(f"num_heads must be an integer >= 1, got {num_heads!r}")
    if x.ndim < 2:
        raise ValueError(f"split_heads needs (..., T, E), got shape {x.shape}")
    if x.shape[-1] % num_heads:
        raise ValueError(f"embed_dim {x.shape[-1]} is not divisible by num_heads {num_heads}")


def _check_mask(mask, name, shapes):
    mask = np.asarray(mask)
    if mask.dtype != np.bool_ and not np.issubdtype(mask.dtype, np.floating):
        raise ValueError(f"{name} must be boolean (True = hidden) or float (added), got {mask.dtype}")
    if mask.shape not in shapes:
        raise ValueError(f"{name} must have shape {' or '.join(map(str, shapes))}, got {mask.shape}")
    return mask


def _check(query, key, value, params, num_heads):
    """Arrays in one float dtype and the parameters checked; ValueError on anything that would broadcast."""
    query, key, value = np.asarray(query), np.asarray(key), np.asarray(value)
    if not isinstance(params, dict) or "in_proj_weight" not in params:
        raise ValueError("params must be a dict with torch's keys: in_proj_weight, [in_proj_bias], "
                         "out_proj.weight, [out_proj.bias]")
    W_in = np.asarray(params["in_proj_weight"])
    if W_in.ndim != 2 or W_in.shape[0] != 3 * W_in.shape[1]:
        raise ValueError(f"in_proj_weight must be (3E, E), got {W_in.shape}")
    E = W_in.shape[1]
    shapes = {"in_proj_weight": (3 * E, E), "in_proj_bias": (3 * E,), "out_proj.weight": (E, E), "out_proj.bias": (E,)}
    if set(params) not in (set(shapes), {"in_proj_weight", "out_proj.weight"}):
        raise ValueError(f"params keys {sorted(params)}: expected {sorted(shapes)}, or the two weights alone (no bias)")
    for name in params:
        if np.shape(params[name]) != shapes[name]:
            raise ValueError(f"params[{name!r}] must have shape {shapes[name]}, got {np.shape(params[name])}")
    _check_heads(W_in, num_heads)                     # W_in (3E, E): its last dim is E
    if E == 0:
        raise ValueError("embed_dim 0: the scale 1 / sqrt(head_dim) is undefined")
    if query.ndim != 3 or key.ndim != 3 or value.ndim != 3:
        raise ValueError(f"query, key, value must be (B, T, E), (B, S, E), (B, S, E), "
                         f"got {query.shape}, {key.shape}, {value.shape}")
    if not query.shape[0] == key.shape[0] == value.shape[0]:
        raise ValueError(f"query, key, value must share the batch size, got {query.shape}, {key.shape}, {value.shape}")
    if key.shape[1] != value.shape[1]:
        raise ValueError(f"key and value must have the same length S, got {key.shape}, {value.shape}")
    if query.shape[2] != E or key.shape[2] != E or value.shape[2] != E:
        raise ValueError(f"query, key, value must have embed_dim E = {E} features, "
                         f"got {query.shape}, {key.shape}, {value.shape}")
    arrays = [query, key, value] + [np.asarray(params[n]) for n in NAMES if n in params]
    dtype = np.result_type(*arrays)
    if not np.issubdtype(dtype, np.floating):
        dtype = np.dtype(np.float64)
    query, key, value, *ps = (a.astype(dtype, copy=False) for a in arrays)
    if len(ps) == 4:                                  # in NAMES order: W_in, b_in, W_out, b_out
        W_in, b_in, W_out, b_out = ps
    else:
        (W_in, W_out), b_in, b_out = ps, None, None
    return query, key, value, W_in, b_in, W_out, b_out
