"""
Level 1: naive, one head at a time
- Head i owns the features i*hd:(i+1)*hd of q, k and v: its rows of each block of in_proj_weight. The loop cuts
  those columns, runs Topic 25's attention on them alone, and glues the heads' outputs side by side
- split_heads / merge_heads by slicing and stacking; the two masks merged entry by entry into (B, h, T, S)
- The backward pass walks the same loop over heads, each head's attention cache kept from the forward pass
Correctness first: the same multiply-adds as level 2, one attention call per head.
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
    return np.stack([x[..., i * hd:(i + 1) * hd] for i in range(num_heads)], axis=-3)


def merge_heads(x):
    """(..., h, T, hd) -> (..., T, h * hd), the inverse of split_heads."""
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"merge_heads needs (..., h, T, hd), got shape {x.shape}")
    return np.concatenate([x[..., i, :, :] for i in range(x.shape[-3])], axis=-1)


def merge_masks(key_padding_mask, attn_mask, batch, num_heads, T, S):
    """torch's two masks (bool True = HIDDEN, float added) -> one mask in Topic 25's convention, or None.

    key_padding_mask (batch, S); attn_mask (T, S) or (batch * num_heads, T, S), index b * num_heads + head.
    Returns an array of shape (batch, num_heads, T, S): boolean True = takes part when every mask given is
    boolean, otherwise float (a boolean mask becomes 0 / -inf) added to the scores.
    """
    kpm = None if key_padding_mask is None else _check_mask(key_padding_mask, "key_padding_mask", [(batch, S)])
    am = None if attn_mask is None else _check_mask(attn_mask, "attn_mask", [(T, S), (batch * num_heads, T, S)])
    given = [m for m in (kpm, am) if m is not None]
    if not given:
        return None
    floats = [m.dtype for m in given if m.dtype != np.bool_]
    as_bool = not floats
    out = np.ones((batch, num_heads, T, S), bool) if as_bool else np.zeros((batch, num_heads, T, S),
                                                                           np.result_type(*floats))
    for b in range(batch):
        for h in range(num_heads):
            parts = []
            if kpm is not None:
                parts.append(kpm[b][None, :])             # (1, S): the same keys hidden from every query
            if am is not None:
                parts.append(am if am.ndim == 2 else am[b * num_heads + h])   # batch-major index
            for part in parts:
                if as_bool:
                    out[b, h] &= ~part                    # True = hidden in torch: keep where no mask hides
                else:
                    out[b, h] += np.where(part, -np.inf, 0.0) if part.dtype == np.bool_ else part
    return out


def mha_forward(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None,
                need_weights=True, average_attn_weights=True):
    """Multi-head attention with torch.nn.MultiheadAttention's weights (batch_first=True).

    query (B, T, E), key (B, S, E), value (B, S, E); params {"in_proj_weight" (3E, E), "in_proj_bias" (3E,),
    "out_proj.weight" (E, E), "out_proj.bias" (E,)} (no biases when bias=False).
    Returns out (B, T, E), weights ((B, T, S) averaged over heads, (B, h, T, S) per head, or None), cache.
    """
    query, key, value, W_in, b_in, W_out, b_out = _check(query, key, value, params, num_heads)
    (B, T, E), S = query.shape, key.shape[1]
    hd = E // num_heads
    mask = merge_masks(key_padding_mask, attn_mask, B, num_heads, T, S)
    outs, caches, weights = [], [], []
    for h in range(num_heads):
        proj = []
        for i, x in enumerate((query, key, value)):
            rows = slice(i * E + h * hd, i * E + (h + 1) * hd)   # block i of in_proj_weight, then head h's rows
            y = x @ W_in[rows].T
            proj.append(y if b_in is None else y + b_in[rows])
        m = None if mask is None else mask[:, h]                 # (B, T, S): this head's mask
        a, c = attention.attention_forward(*proj, mask=m)        # (B, T, hd), scale 1 / sqrt(hd)
        outs.append(a)
        caches.append(c)
        if need_weights:
            weights.append(_weights(proj[0], proj[1], m))
    merged = np.concatenate(outs, axis=-1)                       # the heads side by side: (B, T, E)
    out = merged @ W_out.T
    if b_out is not None:
        out = out + b_out
    w = None
    if need_weights:
        w = np.stack(weights, axis=1)                            # (B, h, T, S)
        if average_attn_weights:
            w = sum(weights) / num_heads                         # (B, T, S), as torch's default
    cache = (query, key, value, W_in, b_in, W_out, b_out, num_heads, merged, caches)
    return out, w, cache


def mha_backward(dout, cache):
    """dout (B, T, E) -> dquery (B, T, E), dkey (B, S, E), dvalue (B, S, E), grads {name: array like params}."""
    query, key, value, W_in, b_in, W_out, _, num_heads, merged, caches = cache
    dout = np.asarray(dout)
    if dout.shape != query.shape:
        raise ValueError(f"dout must have the shape {query.shape} of out, got {dout.shape}")
    dout = dout.astype(query.dtype, copy=False)
    E = query.shape[-1]
    hd = E // num_heads
    dW_out = np.zeros_like(W_out)
    dW_in, db_in = np.zeros_like(W_in), np.zeros(3 * E, W_in.dtype)
    dx = [np.zeros_like(query), np.zeros_like(key), np.zeros_like(value)]
    dmerged = dout @ W_out                                       # out = merged Wo^T + bo
    for b in range(dout.shape[0]):
        for t in range(dout.shape[1]):
            dW_out += np.outer(dout[b, t], merged[b, t])         # dWo = sum over rows of dout^T merged
    for h in range(num_heads):
        cols = slice(h * hd, (h + 1) * hd)
        grads_h = attention.attention_backward(dmerged[..., cols], caches[h])
        for i, (x, d) in enumerate(zip((query, key, value), grads_h)):
            rows = slice(i * E + h * hd, i * E + (h + 1) * hd)
            for b in range(x.shape[0]):
                for t in range(x.shape[1]):
                    dW_in[rows] += np.outer(d[b, t], x[b, t])
                    db_in[rows] += d[b, t]
            dx[i] += d @ W_in[rows]                              # each head adds its share of dx
    grads = {"in_proj_weight": dW_in, "out_proj.weight": dW_out}
    if b_in is not None:
        grads["in_proj_bias"] = db_in
        grads["out_proj.bias"] = dout.sum(axis=(0, 1))
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

def _weights(qh, kh, mask):
    """The attention weights of one head, (B, T, S): Topic 25's masked softmax of the scaled scores."""
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
