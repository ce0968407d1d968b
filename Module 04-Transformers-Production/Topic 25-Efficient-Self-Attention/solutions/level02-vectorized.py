"""
Level 2: vectorized
- The whole score matrix at once: scores = q @ k^T * scale, shape (..., L, S), for every batch and head together
- Masks are applied to the scores BEFORE the softmax (a masked score becomes -inf, its probability 0)
- The backward pass reuses the probabilities p kept in the cache: O(L * S) memory, the price of this level
This is the reference `load_topic(25)` gives.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


def masked_softmax(scores, mask=None):
    """Softmax over the last axis; mask (bool, True = take part) broadcast to scores; rows with no entry -> 0."""
    scores = np.asarray(scores)
    dtype = _float_dtype(scores)
    s = scores.astype(dtype, copy=True)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise ValueError(f"mask must be boolean (True = take part), got {mask.dtype}")
        if s.ndim == 0 or mask.ndim > s.ndim or np.broadcast_shapes(mask.shape, s.shape) != s.shape \
                or mask.shape[-1] != s.shape[-1]:
            raise ValueError(f"mask of shape {mask.shape} does not fit scores of shape {s.shape}")
        s[~np.broadcast_to(mask, s.shape)] = -np.inf
    return _softmax_rows(s)


def _softmax_rows(s):
    """Stable softmax over the last axis of s (modified in place); a row of only -inf gives zeros, not NaN."""
    m = s.max(axis=-1, keepdims=True) if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    m[m == -np.inf] = 0                          # a fully masked row: exp(-inf - 0) = 0, no inf - inf = NaN
    s -= m                                       # the largest score becomes 0: exp never overflows
    np.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    total[total == 0] = 1                        # only fully masked rows sum to 0: 0 / 1 = 0
    s /= total
    return s


def causal_mask(L, S=None):
    """(L, S) boolean, True where key j may be seen by query i: j <= i (the diagonal included)."""
    S = L if S is None else S
    for name, n in (("L", L), ("S", S)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {n!r}")
    return np.arange(S)[None, :] <= np.arange(L)[:, None]


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q @ k^T * scale + masks) @ v.

    q (..., L, d), k (..., S, d), v (..., S, dv) -> out (..., L, dv), cache.
    mask: None, boolean (True = take part) or float (added to the scores), shape (..., L or 1, S) broadcast
    over the leading dims; causal=True also hides key j > i; scale defaults to 1 / sqrt(d).
    A query that sees no key at all gets out = 0 (and zero gradients).
    """
    q, k, v, mask, scale = _check(q, k, v, mask, scale)
    scores = q @ k.swapaxes(-1, -2) * scale          # (..., L, S): every query against every key
    if mask is not None and mask.dtype != np.bool_:
        scores += mask                               # an additive float mask (-inf hides a key)
    allowed = _allowed(mask, causal, q.shape[-2], k.shape[-2])
    if allowed is not None:
        scores[~np.broadcast_to(allowed, scores.shape)] = -np.inf  # hide BEFORE the softmax
    p = _softmax_rows(scores)                        # over the keys: each row sums to 1 (or is all 0)
    out = p @ v
    return out, (q, k, v, p, scale)


def attention_backward(dout, cache):
    """dout (..., L, dv) -> dq (..., L, d), dk (..., S, d), dv (..., S, dv)."""
    q, k, v, p, scale = cache
    dout = np.asarray(dout)
    if dout.shape != p.shape[:-1] + v.shape[-1:]:
        raise ValueError(f"dout must have shape {p.shape[:-1] + v.shape[-1:]}, got {dout.shape}")
    dout = dout.astype(q.dtype, copy=False)
    dv = p.swapaxes(-1, -2) @ dout                   # out = p @ v: dv = p^T dout
    dp = dout @ v.swapaxes(-1, -2)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))  # softmax backward, row by row; masked p = 0 -> ds = 0
    dq = ds @ k * scale
    dk = ds.swapaxes(-1, -2) @ q * scale
    return dq, dk, dv


class SelfAttention:
    """Single-head self-attention: q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv; out = attention Wo^T + bo.

    x (..., L, d_model) -> (..., L, d_model). Every weight (d_model, d_model), every bias (d_model,),
    nn.Linear's layout and initialisation U(-1/sqrt(d_model), 1/sqrt(d_model)).
    """

    NAMES = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")

    def __init__(self, d_model, rng=None, dtype=np.float32):
        if isinstance(d_model, bool) or not isinstance(d_model, (int, np.integer)) or d_model < 1:
            raise ValueError(f"d_model must be an integer >= 1, got {d_model!r}")
        self.d_model = int(d_model)
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(self.d_model)
        for name in self.NAMES:
            shape = (self.d_model, self.d_model) if name[0] == "W" else (self.d_model,)
            setattr(self, name, Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype)))
        self._cache = None

    def parameters(self):
        return [getattr(self, name) for name in self.NAMES]

    def forward(self, x, mask=None, causal=False):
        """x (..., L, d_model) -> out (..., L, d_model); mask and causal as in attention_forward."""
        x = np.asarray(x)
        if x.ndim < 2 or x.shape[-1] != self.d_model:
            raise ValueError(f"x must have shape (..., L, {self.d_model}), got {x.shape}")
        x = x.astype(_float_dtype(x, self.Wq.data), copy=False)
        q, k, v = (x @ getattr(self, "W" + n).data.T + getattr(self, "b" + n).data for n in "qkv")
        a, attn_cache = attention_forward(q, k, v, mask=mask, causal=causal)
        out = a @ self.Wo.data.T + self.bo.data
        self._cache = (x, a, attn_cache)
        return out

    def backward(self, dout):
        """dout (..., L, d_model) -> dx; ADDS the gradient of every parameter into its .grad."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        x, a, attn_cache = self._cache
        dout = np.asarray(dout)
        if dout.shape != x.shape:
            raise ValueError(f"dout must have shape {x.shape}, got {dout.shape}")
        dout = dout.astype(x.dtype, copy=False)
        D = self.d_model
        rows = lambda t: t.reshape(-1, D)            # every leading dim is just more rows for the weights
        self.Wo.grad += rows(dout).T @ rows(a)
        self.bo.grad += rows(dout).sum(axis=0)
        dq, dk, dv = attention_backward(dout @ self.Wo.data, attn_cache)
        dx = np.zeros_like(x)
        for n, d in zip("qkv", (dq, dk, dv)):
            W = getattr(self, "W" + n)
            W.grad += rows(d).T @ rows(x)
            getattr(self, "b" + n).grad += rows(d).sum(axis=0)
            dx += d @ W.data                         # x feeds q, k and v: three gradients add up
        return dx

    def state_dict(self):
        return {name: getattr(self, name).data.copy() for name in self.NAMES}

    def load_state_dict(self, state):
        if set(state) != set(self.NAMES):
            raise ValueError(f"state_dict keys {sorted(state)} != expected {sorted(self.NAMES)}")
        for name in self.NAMES:
            if np.shape(state[name]) != getattr(self, name).data.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {np.shape(state[name])}, "
                                 f"expected {getattr(self, name).data.shape}")
        for name in self.NAMES:
            getattr(self, name).data[...] = state[name]


# ----------------------------------------------------------------------------------------------------
# checks and masks: the plumbing under the lesson
# ----------------------------------------------------------------------------------------------------

def _float_dtype(*arrays):
    dtype = np.result_type(*arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _check(q, k, v, mask, scale):
    """Arrays in one float dtype, the mask checked, the scale chosen; ValueError on anything that would broadcast."""
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    if q.ndim < 2 or k.ndim != q.ndim or v.ndim != q.ndim:
        raise ValueError(f"q, k, v must be (..., L, d), (..., S, d), (..., S, dv), got {q.shape}, {k.shape}, {v.shape}")
    if q.shape[:-2] != k.shape[:-2] or q.shape[:-2] != v.shape[:-2]:
        raise ValueError(f"q, k, v must share their leading dims, got {q.shape}, {k.shape}, {v.shape}")
    if k.shape[-1] != q.shape[-1]:
        raise ValueError(f"k must have the feature size d = {q.shape[-1]} of q, got {k.shape}")
    if v.shape[-2] != k.shape[-2]:
        raise ValueError(f"v must have one row per key (S = {k.shape[-2]}), got {v.shape}")
    dtype = _float_dtype(q, k, v)
    q, k, v = (a.astype(dtype, copy=False) for a in (q, k, v))
    L, S = q.shape[-2], k.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ and not np.issubdtype(mask.dtype, np.floating):
            raise ValueError(f"mask must be boolean (True = take part) or float (added), got {mask.dtype}")
        lead = mask.shape[:-2]
        if (mask.ndim < 2 or mask.shape[-1] != S or mask.shape[-2] not in (1, L) or len(lead) > q.ndim - 2
                or any(m not in (1, b) for m, b in zip(lead[::-1], q.shape[-3::-1]))):
            raise ValueError(f"mask must have shape (..., {L} or 1, {S}) fitting the batch dims {q.shape[:-2]}, "
                             f"got {mask.shape}")
        if mask.dtype != np.bool_:
            mask = mask.astype(dtype, copy=False)
    if scale is None:
        if q.shape[-1] == 0:
            raise ValueError("d = 0: the default scale 1 / sqrt(d) is undefined")
        scale = 1.0 / np.sqrt(q.shape[-1])
    return q, k, v, mask, float(scale)


def _allowed(mask, causal, L, S):
    """The boolean 'takes part' pattern of the mask and the causal rule together, or None when every key counts."""
    allowed = mask if mask is not None and mask.dtype == np.bool_ else None
    if causal:
        tri = causal_mask(L, S)
        allowed = tri if allowed is None else allowed & tri
    return allowed
