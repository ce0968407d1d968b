"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- attention_forward is torch.nn.functional.scaled_dot_product_attention (its boolean attn_mask has the same
  convention as this topic: True = takes part); the backward pass is autograd
- SDPA gives NaN for a query that sees no key; this topic defines 0 there, so such rows get an all-True mask for
  the call and their output is multiplied by 0 afterwards (their gradients are then exactly 0 as well)
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


def masked_softmax(scores, mask=None):
    """Softmax over the last axis; mask (bool, True = take part) broadcast to scores; rows with no entry -> 0."""
    scores = np.asarray(scores)
    dtype = _float_dtype(scores)
    if mask is not None:
        mask = np.asarray(mask)
        if mask.dtype != np.bool_:
            raise ValueError(f"mask must be boolean (True = take part), got {mask.dtype}")
        if scores.ndim == 0 or mask.ndim > scores.ndim or np.broadcast_shapes(mask.shape, scores.shape) != scores.shape \
                or mask.shape[-1] != scores.shape[-1]:
            raise ValueError(f"mask of shape {mask.shape} does not fit scores of shape {scores.shape}")
    with one_torch_thread():
        s = torch.from_numpy(scores.astype(dtype, copy=True))
        if mask is not None:
            s = s.masked_fill(~torch.from_numpy(np.array(np.broadcast_to(mask, s.shape))), -torch.inf)
        p = torch.softmax(s, dim=-1)
        p = torch.nan_to_num(p, nan=0.0)  # a row of only -inf: torch gives NaN, this topic 0
    return p.numpy()


def causal_mask(L, S=None):
    """(L, S) boolean, True where key j may be seen by query i: j <= i (the diagonal included)."""
    S = L if S is None else S
    for name, n in (("L", L), ("S", S)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name} must be an integer >= 0, got {n!r}")
    return torch.ones(L, S, dtype=torch.bool).tril().numpy()  # SDPA's is_causal pattern


def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    """softmax(q @ k^T * scale + masks) @ v by torch's scaled_dot_product_attention.

    q (..., L, d), k (..., S, d), v (..., S, dv) -> out (..., L, dv), cache.
    """
    q, k, v, mask, scale = _check(q, k, v, mask, scale)
    L, S = q.shape[-2], k.shape[-2]
    with one_torch_thread():
        tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
        full = q.shape[:-2] + (L, S)
        attn = None
        if mask is not None:
            attn = torch.from_numpy(np.array(np.broadcast_to(mask, full)))
        if causal:
            tri = torch.ones(L, S, dtype=torch.bool).tril()
            if attn is None:
                attn = tri.expand(full)
            elif attn.dtype == torch.bool:
                attn = attn & tri
            else:
                attn = attn.masked_fill(~tri, -torch.inf)
        if S == 0 or L == 0 or q.size == 0:
            out = tq.new_zeros(full[:-1] + v.shape[-1:])       # nothing to attend to (or no one asking)
        elif attn is None:
            out = F.scaled_dot_product_attention(tq, tk, tv, scale=scale)
        else:
            alive = attn.any(-1) if attn.dtype == torch.bool else (attn > -torch.inf).any(-1)
            keep = torch.ones((), dtype=torch.bool) if attn.dtype == torch.bool else torch.zeros((), dtype=attn.dtype)
            safe = torch.where(alive[..., None], attn, keep)   # a dead row sees every key, then is zeroed
            out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=safe, scale=scale)
            out = out * alive[..., None].to(out.dtype)
    return out.detach().numpy().copy(), (out, [tq, tk, tv])


def attention_backward(dout, cache):
    """dout (..., L, dv) -> dq (..., L, d), dk (..., S, d), dv (..., S, dv) (autograd)."""
    out, inputs = cache
    dout = np.asarray(dout)
    if dout.shape != tuple(out.shape):
        raise ValueError(f"dout must have shape {tuple(out.shape)}, got {dout.shape}")
    with one_torch_thread():
        if not out.requires_grad:
            return tuple(np.zeros(tuple(t.shape), dtype=_np_dtype(t)) for t in inputs)
        grads = torch.autograd.grad(out, inputs, torch.from_numpy(np.ascontiguousarray(dout.astype(_np_dtype(out)))),
                                    allow_unused=True, retain_graph=True)  # backward may be called twice
    return tuple(np.zeros(tuple(t.shape), dtype=_np_dtype(t)) if g is None else g.numpy()
                 for g, t in zip(grads, inputs))


def _np_dtype(t):
    return np.dtype(str(t.dtype).split(".")[1])


class SelfAttention:
    """Single-head self-attention on torch: F.linear for the four projections, SDPA between them, autograd back.

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
        dtype = _float_dtype(x, self.Wq.data)
        with one_torch_thread():
            tx = torch.tensor(x.astype(dtype), requires_grad=True)
            tp = [torch.tensor(getattr(self, n).data.astype(dtype), requires_grad=True) for n in self.NAMES]
            q, k, v = (F.linear(tx, tp[2 * i], tp[2 * i + 1]) for i in range(3))
        a, (ta, (tq, tk, tv)) = attention_forward(q.detach().numpy(), k.detach().numpy(), v.detach().numpy(),
                                                  mask=mask, causal=causal)
        with one_torch_thread():
            # chain the two graphs: a depends on q, k, v through ta, which autograd reaches through tq, tk, tv
            out = F.linear(torch.from_numpy(a), tp[6], tp[7])
        self._cache = (tx, tp, (q, k, v), (ta, [tq, tk, tv]), out, a)
        return out.detach().numpy().copy()

    def backward(self, dout):
        """dout (..., L, d_model) -> dx; ADDS the gradient of every parameter into its .grad."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        tx, tp, qkv, attn_cache, out, _ = self._cache
        dout = np.asarray(dout)
        if dout.shape != tuple(tx.shape):
            raise ValueError(f"dout must have shape {tuple(tx.shape)}, got {dout.shape}")
        with one_torch_thread():
            tdout = torch.from_numpy(np.ascontiguousarray(dout.astype(_np_dtype(tx))))
            dWo, dbo = torch.autograd.grad(out, tp[6:], tdout, retain_graph=True)
            da = (tdout @ tp[6].detach()).numpy()
        grads = attention_backward(da, attn_cache)
        with one_torch_thread():
            dx, *dqkv = torch.autograd.grad(qkv, [tx] + tp[:6], [torch.from_numpy(g) for g in grads],
                                            retain_graph=True)
        for p, g in zip(self.parameters(), list(dqkv) + [dWo, dbo]):
            p.grad += g.numpy()
        return dx.numpy()

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



# ----------------------------------------------------------------------------------------------------
# golden files
# ----------------------------------------------------------------------------------------------------

CASES = {  # name: (seed, lead dims, L, S, d, dv, mask kind, causal, scale)
    "attention_cross": (0, (2, 3), 5, 7, 4, 6, None, False, None),
    "attention_causal": (1, (2,), 6, 6, 4, 4, None, True, None),
    "attention_causal_cross": (2, (2,), 4, 7, 3, 5, None, True, None),
    "attention_bool_mask": (3, (2, 2), 5, 6, 4, 3, "bool", False, None),
    "attention_float_mask_scale": (4, (3,), 5, 6, 4, 4, "float", False, 0.5),
    "attention_key_padding_causal": (5, (2, 2), 6, 6, 4, 4, "padding", True, None),
}


def _case(seed, lead, L, S, d, dv, kind):
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal(lead + (L, d)), rng.standard_normal(lead + (S, d))
    v, dout = rng.standard_normal(lead + (S, dv)), rng.standard_normal(lead + (L, dv))
    mask = None
    if kind == "bool":  # one mask per batch row, shared by the heads, every query keeping key 0
        mask = rng.random((lead[0], 1, L, S)) < 0.6
        mask[..., 0] = True
    elif kind == "float":
        mask = rng.standard_normal((L, S))
    elif kind == "padding":  # key padding: the last keys of each sequence are hidden from every query
        lengths = np.array([S, S - 2])
        mask = (np.arange(S)[None, :] < lengths[:, None])[:, None, None, :]
    return q, k, v, mask, dout


def _dead_rows_by_hand():
    """Queries that see no key: SDPA (NaN there) run query by query on the live ones; zeros put in by hand."""
    rng = np.random.default_rng(6)
    N, L, S, d = 2, 5, 4, 3
    q, k, v = rng.standard_normal((N, L, d)), rng.standard_normal((N, S, d)), rng.standard_normal((N, S, d))
    dout = rng.standard_normal((N, L, d))
    mask = rng.random((N, L, S)) < 0.6
    mask[0, 1], mask[1, 3], mask[1, 4] = False, False, False     # three queries see nothing
    mask[0, 0], mask[1, 0] = True, True
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out = torch.zeros(N, L, d, dtype=torch.float64)
    for b in range(N):
        for i in range(L):
            if mask[b, i].any():
                out[b, i] = F.scaled_dot_product_attention(tq[b, i:i + 1], tk[b], tv[b],
                                                           attn_mask=torch.from_numpy(mask[b, i:i + 1]))[0]
    out.backward(torch.from_numpy(dout))
    return {"q": q, "k": k, "v": v, "mask": mask, "dout": dout, "out": out.detach().numpy(),
            "dq": tq.grad.numpy(), "dk": tk.grad.numpy(), "dv": tv.grad.numpy()}


def _layer_by_multihead_attention():
    """The layer's values from torch.nn.MultiheadAttention with one head (its bool mask: True = NOT allowed)."""
    rng = np.random.default_rng(7)
    D, N, L = 8, 2, 5
    bound = 1 / np.sqrt(D)
    w = {n: rng.uniform(-bound, bound, size=(D, D) if n[0] == "W" else (D,)) for n in SelfAttention.NAMES}
    x, dout = rng.standard_normal((N, L, D)), rng.standard_normal((N, L, D))
    mha = torch.nn.MultiheadAttention(D, 1, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([w["Wq"], w["Wk"], w["Wv"]])))
        mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([w["bq"], w["bk"], w["bv"]])))
        mha.out_proj.weight.copy_(torch.from_numpy(w["Wo"]))
        mha.out_proj.bias.copy_(torch.from_numpy(w["bo"]))
    tx = torch.tensor(x, requires_grad=True)
    future = torch.ones(L, L, dtype=torch.bool).triu(1)          # MHA hides where True: the future keys
    out, _ = mha(tx, tx, tx, attn_mask=future, need_weights=False)
    out.backward(torch.from_numpy(dout))
    gw, gb = mha.in_proj_weight.grad.numpy(), mha.in_proj_bias.grad.numpy()
    grads = {"dWq": gw[:D], "dWk": gw[D:2 * D], "dWv": gw[2 * D:], "dbq": gb[:D], "dbk": gb[D:2 * D],
             "dbv": gb[2 * D:], "dWo": mha.out_proj.weight.grad.numpy(), "dbo": mha.out_proj.bias.grad.numpy()}
    return {**w, "x": x, "dout": dout, "out": out.detach().numpy(), "dx": tx.grad.numpy(), **grads}


def make_golden():
    """{file name: {array name: array}} for tests/golden/, float64, from SDPA, autograd and MultiheadAttention."""
    files = {}
    with one_torch_thread():
        for name, (seed, lead, L, S, d, dv, kind, causal, scale) in CASES.items():
            q, k, v, mask, dout = _case(seed, lead, L, S, d, dv, kind)
            out, cache = attention_forward(q, k, v, mask=mask, causal=causal, scale=scale)
            dq, dk, dvv = attention_backward(dout, cache)
            arrays = {"q": q, "k": k, "v": v, "dout": dout, "out": out, "dq": dq, "dk": dk, "dv": dvv,
                      "causal": np.array(causal), "scale": np.array(np.nan if scale is None else scale)}
            if mask is not None:
                arrays["mask"] = mask
            files[name] = arrays
        files["attention_dead_rows"] = _dead_rows_by_hand()
        files["self_attention_layer"] = _layer_by_multihead_attention()
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 25 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    x = np.random.default_rng(1).standard_normal((2, 10, 16)).astype(np.float32)
    out = SelfAttention(16, rng=0).forward(x, causal=True)
    print("SelfAttention(16), causal:", out.shape, out.dtype)
