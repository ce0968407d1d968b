"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- The projections are F.linear, the heads torch's view + transpose, the attention F.scaled_dot_product_attention;
  the backward pass is autograd
- torch gives NaN for a query that sees no key; this topic defines 0 there (as Topic 25), so such rows get an
  all-visible mask for the call and their per-head output is multiplied by 0 afterwards
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz, from
  torch.nn.MultiheadAttention(batch_first=True) itself
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

Parameter = load_topic(3).Parameter   # Topic 03: Parameter(data) has .data and .grad (zeros like data)

NAMES = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")  # torch's state_dict keys


def split_heads(x, num_heads):
    """(..., T, E) -> (..., num_heads, T, E // num_heads): head i gets the features i*hd:(i+1)*hd."""
    x = np.asarray(x)
    _check_heads(x, num_heads)
    with one_torch_thread():
        t = torch.from_numpy(np.ascontiguousarray(x))
        t = t.view(*x.shape[:-1], num_heads, x.shape[-1] // num_heads).transpose(-2, -3)
        return t.contiguous().numpy()


def merge_heads(x):
    """(..., h, T, hd) -> (..., T, h * hd), the inverse of split_heads."""
    x = np.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"merge_heads needs (..., h, T, hd), got shape {x.shape}")
    with one_torch_thread():
        t = torch.from_numpy(np.ascontiguousarray(x)).transpose(-2, -3)
        return t.reshape(*t.shape[:-2], -1).contiguous().numpy()


def merge_masks(key_padding_mask, attn_mask, batch, num_heads, T, S):
    """torch's two masks (bool True = HIDDEN, float added) -> one mask in Topic 25's convention, or None."""
    masks = []
    if key_padding_mask is not None:
        m = _check_mask(key_padding_mask, "key_padding_mask", [(batch, S)])
        masks.append(torch.from_numpy(m).view(batch, 1, 1, S))
    if attn_mask is not None:
        m = _check_mask(attn_mask, "attn_mask", [(T, S), (batch * num_heads, T, S)])
        t = torch.from_numpy(np.ascontiguousarray(m))
        masks.append(t.view(1, 1, T, S) if m.ndim == 2 else t.view(batch, num_heads, T, S))
    if not masks:
        return None
    if all(m.dtype == torch.bool for m in masks):
        allowed = ~masks[0]
        for m in masks[1:]:
            allowed = allowed & ~m
        return allowed.numpy()
    floats = [m.dtype for m in masks if m.dtype != torch.bool]
    dtype = floats[0] if len(floats) == 1 else torch.promote_types(*floats)
    total = None
    for m in masks:
        m = torch.zeros(m.shape, dtype=dtype).masked_fill(m, -torch.inf) if m.dtype == torch.bool else m.to(dtype)
        total = m if total is None else total + m
    return total.numpy()


def mha_forward(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None,
                need_weights=True, average_attn_weights=True):
    """Multi-head attention on torch; query (B, T, E), key and value (B, S, E) -> (out, weights or None, cache)."""
    query, key, value, W_in, b_in, W_out, b_out = _check(query, key, value, params, num_heads)
    (B, T, E), S = query.shape, key.shape[1]
    mask = merge_masks(key_padding_mask, attn_mask, B, num_heads, T, S)
    with one_torch_thread():
        leaves = [torch.tensor(a, requires_grad=True) for a in (query, key, value, W_in, b_in, W_out, b_out)
                  if a is not None]
        tq, tk, tv, tW_in = leaves[:4]
        tb_in, tW_out, tb_out = (leaves[4], leaves[5], leaves[6]) if b_in is not None else (None, leaves[4], None)
        bs = (None, None, None) if tb_in is None else tb_in.chunk(3)
        heads = [F.linear(x, W, b).view(B, x.shape[1], num_heads, E // num_heads).transpose(1, 2)
                 for x, W, b in zip((tq, tk, tv), tW_in.chunk(3), bs)]
        attn, alive = None, torch.ones(B, num_heads, T, dtype=torch.bool)
        if mask is not None:
            attn = torch.from_numpy(np.array(np.broadcast_to(mask, (B, num_heads, T, S))))
            if attn.dtype == torch.bool:
                alive = attn.any(-1)
                attn = torch.where(alive[..., None], attn, torch.ones((), dtype=torch.bool))
            else:
                attn = attn.to(tq.dtype)
                alive = (attn > -torch.inf).any(-1)
                attn = torch.where(alive[..., None], attn, torch.zeros((), dtype=attn.dtype))
        if S == 0 or T == 0 or B == 0:
            a = heads[0].new_zeros(B, num_heads, T, E // num_heads) * heads[0].sum()   # stays in the graph
            alive = torch.zeros(B, num_heads, T, dtype=torch.bool)
        else:
            a = F.scaled_dot_product_attention(*heads, attn_mask=attn) * alive[..., None].to(tq.dtype)
        out = F.linear(a.transpose(1, 2).reshape(B, T, E), tW_out, tb_out)
        weights = None
        if need_weights:
            with torch.no_grad():
                s = heads[0] @ heads[1].transpose(-1, -2) / np.sqrt(E // num_heads)
                if attn is not None:
                    s = s.masked_fill(~attn, -torch.inf) if attn.dtype == torch.bool else s + attn
                p = (torch.softmax(s, -1) if S else s) * alive[..., None].to(s.dtype)
                weights = (p.mean(1) if average_attn_weights else p).numpy().copy()
    return out.detach().numpy().copy(), weights, (out, leaves, b_in is not None)


def mha_backward(dout, cache):
    """dout (B, T, E) -> dquery, dkey, dvalue, grads {name: array} by autograd."""
    out, leaves, has_bias = cache
    dout = np.asarray(dout)
    if dout.shape != tuple(out.shape):
        raise ValueError(f"dout must have the shape {tuple(out.shape)} of out, got {dout.shape}")
    with one_torch_thread():
        tdout = torch.from_numpy(np.ascontiguousarray(dout.astype(_np_dtype(out))))
        grads = torch.autograd.grad(out, leaves, tdout, allow_unused=True, retain_graph=True)
    grads = [np.zeros(tuple(t.shape), _np_dtype(t)) if g is None else g.numpy() for g, t in zip(grads, leaves)]
    names = NAMES if has_bias else ("in_proj_weight", "out_proj.weight")
    return grads[0], grads[1], grads[2], dict(zip(names, grads[3:]))


def _np_dtype(t):
    return np.dtype(str(t.dtype).split(".")[1])


class MultiheadAttention:
    """torch.nn.MultiheadAttention(embed_dim, num_heads, bias, batch_first=True), NumPy in and out."""

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
        xavier = np.sqrt(6.0 / (E + 3 * E))
        self.in_proj_weight = Parameter(rng.uniform(-xavier, xavier, size=(3 * E, E)).astype(dtype))
        self.out_proj_weight = Parameter(rng.uniform(-1 / np.sqrt(E), 1 / np.sqrt(E), size=(E, E)).astype(dtype))
        self.in_proj_bias = Parameter(np.zeros(3 * E, dtype)) if bias else None
        self.out_proj_bias = Parameter(np.zeros(E, dtype)) if bias else None
        self._cache = None

    def _named(self):
        pairs = zip(NAMES, (self.in_proj_weight, self.in_proj_bias, self.out_proj_weight, self.out_proj_bias))
        return {name: p for name, p in pairs if p is not None}

    def parameters(self):
        return list(self._named().values())

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True,
                average_attn_weights=True):
        params = {name: p.data for name, p in self._named().items()}
        out, weights, self._cache = mha_forward(query, key, value, params, self.num_heads, key_padding_mask,
                                                attn_mask, need_weights, average_attn_weights)
        return out, weights

    def backward(self, dout):
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
# checks: the plumbing under the lesson
# ----------------------------------------------------------------------------------------------------

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
    return np.ascontiguousarray(mask)


def _check(query, key, value, params, num_heads):
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
    query, key, value, *ps = (np.ascontiguousarray(a, dtype=dtype) for a in arrays)
    if len(ps) == 4:
        W_in, b_in, W_out, b_out = ps
    else:
        (W_in, W_out), b_in, b_out = ps, None, None
    return query, key, value, W_in, b_in, W_out, b_out


# ----------------------------------------------------------------------------------------------------
# golden files, from torch.nn.MultiheadAttention itself
# ----------------------------------------------------------------------------------------------------

CASES = {  # name: (seed, B, T, S, E, heads, bias, self-attention, key padding, attn_mask, average weights)
    "mha_self_2heads": (0, 2, 5, 5, 8, 2, True, True, None, None, True),
    "mha_cross_3heads_padding": (1, 2, 3, 6, 12, 3, True, False, "bool", None, False),
    "mha_causal_4heads": (2, 3, 6, 6, 8, 4, True, True, None, "causal", True),
    "mha_per_head_masks": (3, 2, 4, 5, 6, 2, True, False, None, "per_head_bool", False),
    "mha_float_masks": (4, 2, 4, 5, 8, 4, True, False, "float", "per_head_float", True),
    "mha_no_bias_mixed_masks": (5, 2, 5, 5, 6, 3, False, True, "bool", "float", False),
    "mha_one_head_batch_1": (6, 1, 4, 7, 5, 1, True, False, None, None, True),
}


def _case(seed, B, T, S, E, h, bias, self_attn, kpm_kind, am_kind):
    rng = np.random.default_rng(seed)
    params = {"in_proj_weight": rng.uniform(-0.5, 0.5, (3 * E, E)), "out_proj.weight": rng.uniform(-0.5, 0.5, (E, E))}
    if bias:
        params["in_proj_bias"] = rng.uniform(-0.5, 0.5, 3 * E)
        params["out_proj.bias"] = rng.uniform(-0.5, 0.5, E)
    query = rng.standard_normal((B, T, E))
    key, value = (query, query) if self_attn else (rng.standard_normal((B, S, E)), rng.standard_normal((B, S, E)))
    dout = rng.standard_normal((B, T, E))
    kpm = am = None
    lengths = np.array([S] + [S - 2] * (B - 1))                   # every batch row keeps at least 3 keys
    if kpm_kind == "bool":
        kpm = np.arange(S)[None, :] >= lengths[:, None]           # True = padding, hidden (torch's convention)
    elif kpm_kind == "float":
        kpm = np.where(np.arange(S)[None, :] >= lengths[:, None], -np.inf, rng.standard_normal((B, S)))
    if am_kind == "causal":
        am = np.triu(np.ones((T, S), bool), 1)                   # True = the future, hidden
    elif am_kind == "per_head_bool":
        am = rng.random((B * h, T, S)) < 0.4
        am[:, :, 0] = False                                       # every query of every head keeps key 0
    elif am_kind == "per_head_float":
        am = rng.standard_normal((B * h, T, S))
    elif am_kind == "float":
        am = rng.standard_normal((T, S))
    return params, query, key, value, dout, kpm, am


def _golden_case(seed, B, T, S, E, h, bias, self_attn, kpm_kind, am_kind, average):
    params, query, key, value, dout, kpm, am = _case(seed, B, T, S, E, h, bias, self_attn, kpm_kind, am_kind)
    mha = torch.nn.MultiheadAttention(E, h, bias=bias, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        for name, t in mha.state_dict().items():
            t.copy_(torch.from_numpy(params[name]))
    tq = torch.tensor(query, requires_grad=True)
    tk, tv = (tq, tq) if self_attn else (torch.tensor(key, requires_grad=True), torch.tensor(value, requires_grad=True))
    out, weights = mha(tq, tk, tv, key_padding_mask=None if kpm is None else torch.from_numpy(kpm),
                       attn_mask=None if am is None else torch.from_numpy(am), need_weights=True,
                       average_attn_weights=average)
    out.backward(torch.from_numpy(dout))
    arrays = {"query": query, "key": key, "value": value, "dout": dout, "num_heads": np.array(h),
              "self_attention": np.array(self_attn), "average_attn_weights": np.array(average),
              "out": out.detach().numpy(), "weights": weights.detach().numpy(), "dquery": tq.grad.numpy(), **params}
    if not self_attn:
        arrays["dkey"], arrays["dvalue"] = tk.grad.numpy(), tv.grad.numpy()
    for name, p in mha.named_parameters():
        arrays["grad_" + name] = p.grad.numpy()
    if kpm is not None:
        arrays["key_padding_mask"] = kpm
    if am is not None:
        arrays["attn_mask"] = am
    return arrays


def make_golden():
    """{file name: {array name: array}} for tests/golden/, float64, from nn.MultiheadAttention and autograd."""
    with one_torch_thread():
        return {name: _golden_case(*case) for name, case in CASES.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 26 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    x = np.random.default_rng(1).standard_normal((2, 10, 16)).astype(np.float32)
    out, w = MultiheadAttention(16, 4, rng=0).forward(x, x, x)
    print("MultiheadAttention(16, 4):", out.shape, out.dtype, "weights", w.shape)
