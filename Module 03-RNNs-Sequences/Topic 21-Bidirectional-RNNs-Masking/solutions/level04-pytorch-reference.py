"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- pack_padded_sequence / pad_packed_sequence are torch.nn.utils.rnn's own; masked_forward, bidirectional_forward
  and stacked_forward are torch.nn.GRU / torch.nn.RNN(batch_first=True, num_layers, bidirectional) on the packed
  batch, loaded with the given weights; the backward passes are autograd
- masked_cross_entropy is torch.nn.functional.cross_entropy with ignore_index at the padded positions
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse
from collections import namedtuple

import numpy as np
import torch
from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden
from torch.nn.utils import rnn as torch_rnn

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)

CELLS = {"rnn": (torch.nn.RNN, 1), "gru": (torch.nn.GRU, 3)}
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
IGNORE = -100   # the target torch's cross_entropy skips

PackedSequence = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def _check_lengths(lengths, N, T):
    """lengths as an int64 (N,) array with 1 <= lengths <= T; ValueError otherwise."""
    lengths = np.asarray(lengths)
    if lengths.dtype == bool or not np.issubdtype(lengths.dtype, np.integer):
        raise ValueError(f"lengths must be integers, got dtype {lengths.dtype}")
    if lengths.shape != (N,):
        raise ValueError(f"lengths must have shape ({N},), one per sequence, got {lengths.shape}")
    if N and (lengths.min() < 1 or lengths.max() > T):
        raise ValueError(f"lengths must lie in [1, T] = [1, {T}], got range [{lengths.min()}, {lengths.max()}]")
    return lengths.astype(np.int64)


def _check_weights(cell, weight_ih, weight_hh, bias_ih, bias_hh):
    """(weights as arrays, D, H) for a cell with G gate blocks; ValueError on any inconsistent shape."""
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    G = CELLS[cell][1]
    w = [np.asarray(a) for a in (weight_ih, weight_hh, bias_ih, bias_hh)]
    if w[1].ndim != 2 or w[1].shape[1] < 1 or w[1].shape[0] != G * w[1].shape[1]:
        raise ValueError(f"weight_hh must have shape ({G}*H, H) for a {cell}, got {w[1].shape}")
    H = w[1].shape[1]
    if w[0].ndim != 2 or w[0].shape[0] != G * H:
        raise ValueError(f"weight_ih must have shape ({G * H}, D), got {w[0].shape}")
    if w[2].shape != (G * H,) or w[3].shape != (G * H,):
        raise ValueError(f"bias_ih and bias_hh must have shape ({G * H},), got {w[2].shape} and {w[3].shape}")
    return w, w[0].shape[1], H


def _dtype(*arrays):
    dtype = np.result_type(*arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _check_packed(packed):
    """(data, batch_sizes, sorted_indices, unsorted_indices) of a consistent PackedSequence; ValueError otherwise."""
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    data, batch_sizes = np.asarray(data), np.asarray(batch_sizes)
    if batch_sizes.ndim != 1 or batch_sizes.size == 0 or not np.issubdtype(batch_sizes.dtype, np.integer):
        raise ValueError(f"batch_sizes must be a non-empty 1-D integer array, got {batch_sizes!r}")
    if batch_sizes.min() < 1 or np.any(np.diff(batch_sizes) > 0):
        raise ValueError(f"batch_sizes must be >= 1 and never increase, got {batch_sizes.tolist()}")
    if data.ndim < 1 or data.shape[0] != batch_sizes.sum():
        raise ValueError(f"data must have sum(batch_sizes) = {batch_sizes.sum()} rows, got shape {data.shape}")
    N = int(batch_sizes[0])
    if (sorted_indices is None) != (unsorted_indices is None):
        raise ValueError("sorted_indices and unsorted_indices must both be given or both be None")
    if sorted_indices is not None:
        sorted_indices, unsorted_indices = np.asarray(sorted_indices), np.asarray(unsorted_indices)
        if (sorted_indices.shape != (N,) or unsorted_indices.shape != (N,)
                or not np.array_equal(np.sort(sorted_indices), np.arange(N))
                or not np.array_equal(sorted_indices[unsorted_indices], np.arange(N))):
            raise ValueError("sorted_indices must be a permutation of range(N) and unsorted_indices its inverse")
    return data, batch_sizes, sorted_indices, unsorted_indices


def _tensor(a, dtype, grad=False):
    return torch.tensor(np.ascontiguousarray(a, dtype=dtype), requires_grad=grad)


def _numpy(t):
    return t.detach().numpy().copy()


def _autograd(outputs, grads, inputs):
    """Gradients of sum(outputs * grads) w.r.t. inputs as NumPy arrays (zeros where an input was not used)."""
    with one_torch_thread():
        got = torch.autograd.grad(outputs, inputs, grads, allow_unused=True, retain_graph=True)
    return [torch.zeros_like(i).numpy() if g is None else g.numpy().copy() for g, i in zip(got, inputs)]


def _packed_module(cell, x, lengths, h0, params, num_layers, bidirectional):
    """torch.nn.GRU / RNN on the packed batch: x (N, T, D) -> out (N, T, K*H), h_n (L*K, N, H), inputs, dtype."""
    _, T, D = x.shape
    H = h0.shape[2]
    dtype = _dtype(x, h0, *params.values())
    module = CELLS[cell][0](D, H, num_layers=num_layers, batch_first=True, bidirectional=bidirectional,
                            dtype=getattr(torch, dtype.name))
    names = [n for n, _ in module.named_parameters()]
    if set(params) != set(names):
        raise ValueError(f"params must have exactly the keys {names}, got {sorted(params)}")
    with torch.no_grad():
        for name in names:
            p = getattr(module, name)
            value = np.asarray(params[name])
            if value.shape != tuple(p.shape):
                raise ValueError(f"params[{name!r}] must have shape {tuple(p.shape)}, got {value.shape}")
            p.copy_(torch.from_numpy(np.ascontiguousarray(value, dtype=dtype)))
    xt, h0t = _tensor(x, dtype, True), _tensor(h0, dtype, True)
    with one_torch_thread():
        packed = torch_rnn.pack_padded_sequence(xt, torch.from_numpy(lengths), batch_first=True, enforce_sorted=False)
        out_p, h_n = module(packed, h0t)
        out, _ = torch_rnn.pad_packed_sequence(out_p, batch_first=True, total_length=T)
    return out, h_n, [xt, h0t] + [getattr(module, n) for n in names], dtype


def _backward(cache, douts):
    """Autograd through the module: douts = (dout, dh_n or None) -> gradients of x, h0 and every parameter."""
    out, h_n, inputs, dtype = cache
    dout, dh_n = douts
    dout = np.asarray(dout)
    if dout.shape != tuple(out.shape):
        raise ValueError(f"dout must have shape {tuple(out.shape)}, got {dout.shape}")
    dh_n = np.zeros(tuple(h_n.shape), dtype=dtype) if dh_n is None else np.asarray(dh_n)
    if dh_n.shape != tuple(h_n.shape):
        raise ValueError(f"dh_n must have shape {tuple(h_n.shape)}, got {dh_n.shape}")
    return _autograd([out, h_n], [_tensor(dout, dtype), _tensor(dh_n, dtype)], inputs)


# ----------------------------------------------------------------------------------------------------
# Task 1
# ----------------------------------------------------------------------------------------------------

def sequence_mask(lengths, T):
    """lengths (N,) ints in [1, T] -> mask (N, T) bool, mask[i, t] = t < lengths[i]."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    lengths = np.asarray(lengths)
    lengths = _check_lengths(lengths, lengths.shape[0] if lengths.ndim == 1 else -1, int(T))
    return (torch.arange(int(T))[None, :] < torch.from_numpy(lengths)[:, None]).numpy()


def reverse_padded(x, lengths):
    """x (N, T, ...) -> x[i, :L] reversed in each row, x[i, L:] copied as it is (torch.gather along time)."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must be (N, T, ...), got shape {x.shape}")
    N, T = x.shape[:2]
    L = torch.from_numpy(_check_lengths(lengths, N, T))[:, None]
    t = torch.arange(T)[None, :]
    src = torch.where(t < L, L - 1 - t, t)
    xt = torch.from_numpy(np.ascontiguousarray(x))
    index = src.reshape(N, T, *([1] * (x.ndim - 2))).expand(xt.shape)
    return torch.gather(xt, 1, index).numpy().copy()


# ----------------------------------------------------------------------------------------------------
# Task 2
# ----------------------------------------------------------------------------------------------------

def pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=True):
    """torch.nn.utils.rnn.pack_padded_sequence, NumPy in and out (ValueError where torch raises RuntimeError)."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must be (N, T, ...) or (T, N, ...), got shape {x.shape}")
    N, T = (x.shape[0], x.shape[1]) if batch_first else (x.shape[1], x.shape[0])
    if N == 0:
        raise ValueError("cannot pack an empty batch")
    lengths = _check_lengths(lengths, N, T)
    if enforce_sorted and np.any(np.diff(lengths) > 0):
        raise ValueError(f"lengths {lengths.tolist()} are not in decreasing order: pass enforce_sorted=False")
    p = torch_rnn.pack_padded_sequence(torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(lengths),
                                       batch_first=batch_first, enforce_sorted=enforce_sorted)
    return PackedSequence(p.data.numpy().copy(), p.batch_sizes.numpy().astype(np.int64),
                          None if p.sorted_indices is None else p.sorted_indices.numpy().copy(),
                          None if p.unsorted_indices is None else p.unsorted_indices.numpy().copy())


def pad_packed_sequence(packed, batch_first=True, padding_value=0.0, total_length=None):
    """torch.nn.utils.rnn.pad_packed_sequence, NumPy in and out."""
    data, batch_sizes, sorted_indices, unsorted_indices = _check_packed(packed)
    if total_length is not None and (isinstance(total_length, bool) or not isinstance(total_length, (int, np.integer))
                                     or total_length < len(batch_sizes)):
        raise ValueError(f"total_length must be an integer >= {len(batch_sizes)}, got {total_length!r}")
    p = torch_rnn.PackedSequence(torch.from_numpy(np.ascontiguousarray(data)),
                                 torch.from_numpy(batch_sizes.astype(np.int64)),
                                 None if sorted_indices is None else torch.from_numpy(sorted_indices.astype(np.int64)),
                                 None if unsorted_indices is None else torch.from_numpy(unsorted_indices.astype(np.int64)))
    out, lengths = torch_rnn.pad_packed_sequence(p, batch_first=batch_first, padding_value=padding_value,
                                                 total_length=None if total_length is None else int(total_length))
    return out.numpy().copy(), lengths.numpy().astype(np.int64)


# ----------------------------------------------------------------------------------------------------
# Task 3
# ----------------------------------------------------------------------------------------------------

def masked_forward(x, lengths, h0, weight_ih, weight_hh, bias_ih, bias_hh, cell="gru"):
    """x (N, T, D), lengths (N,), h0 (N, H) -> hs (N, T, H), h_n (N, H), cache; packed torch.nn.GRU / RNN."""
    w, D, H = _check_weights(cell, weight_ih, weight_hh, bias_ih, bias_hh)
    x, h0 = np.asarray(x), np.asarray(h0)
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"x must have shape (N, T, {D}) (batch first), got {x.shape}")
    N, T, _ = x.shape
    if T == 0:
        raise ValueError("x has T = 0 steps: every sequence needs at least one")
    lengths = _check_lengths(lengths, N, T)
    if h0.shape != (N, H):
        raise ValueError(f"h0 must have shape ({N}, {H}), got {h0.shape}")
    out, h_n, inputs, dtype = _packed_module(cell, x, lengths, h0[None], dict(zip(
        [n + "_l0" for n in WEIGHT_NAMES], w)), 1, False)
    return _numpy(out), _numpy(h_n[0]), (out, h_n, inputs, dtype)


def masked_backward(dhs, cache, dh_n=None):
    """dhs (N, T, H), dh_n (N, H) or None -> dx, dh0, dweight_ih, dweight_hh, dbias_ih, dbias_hh (autograd)."""
    h_n = cache[1]
    if dh_n is not None:
        dh_n = np.asarray(dh_n)
        if dh_n.shape != tuple(h_n.shape[1:]):
            raise ValueError(f"dh_n must have shape {tuple(h_n.shape[1:])}, got {dh_n.shape}")
        dh_n = dh_n[None]
    dx, dh0, *grads = _backward(cache, (dhs, dh_n))
    return (dx, dh0[0], *grads)


# ----------------------------------------------------------------------------------------------------
# Task 4
# ----------------------------------------------------------------------------------------------------

def bidirectional_forward(x, lengths, h0, weights_fwd, weights_bwd, cell="gru"):
    """x (N, T, D), lengths (N,), h0 (2, N, H) -> out (N, T, 2H), h_n (2, N, H), cache;
    torch.nn.GRU / RNN(bidirectional=True) on the packed batch."""
    x, h0 = np.asarray(x), np.asarray(h0)
    if len(weights_fwd) != 4 or len(weights_bwd) != 4:
        raise ValueError("weights_fwd and weights_bwd must each be (weight_ih, weight_hh, bias_ih, bias_hh)")
    w_f, D, H = _check_weights(cell, *weights_fwd)
    w_b, D_b, H_b = _check_weights(cell, *weights_bwd)
    if (D_b, H_b) != (D, H):
        raise ValueError(f"the two directions must have the same (D, H), got {(D, H)} and {(D_b, H_b)}")
    if x.ndim != 3 or x.shape[2] != D or x.shape[1] == 0:
        raise ValueError(f"x must have shape (N, T >= 1, {D}), got {x.shape}")
    N, T, _ = x.shape
    lengths = _check_lengths(lengths, N, T)
    if h0.shape != (2, N, H):
        raise ValueError(f"h0 must have shape (2, {N}, {H}) (forward, backward), got {h0.shape}")
    params = dict(zip(parameter_names(1, True), w_f + w_b))
    out, h_n, inputs, dtype = _packed_module(cell, x, lengths, h0, params, 1, True)
    return _numpy(out), _numpy(h_n), (out, h_n, inputs, dtype)


def bidirectional_backward(dout, cache, dh_n=None):
    """dout (N, T, 2H), dh_n (2, N, H) or None -> dx, dh0 (2, N, H), grads_fwd (4,), grads_bwd (4,) (autograd)."""
    dx, dh0, *grads = _backward(cache, (dout, dh_n))
    return dx, dh0, tuple(grads[:4]), tuple(grads[4:])


# ----------------------------------------------------------------------------------------------------
# Task 5
# ----------------------------------------------------------------------------------------------------

def parameter_names(num_layers=1, bidirectional=False):
    """The names of torch.nn.GRU(num_layers=..., bidirectional=...).named_parameters(), in order."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
        raise ValueError(f"num_layers must be an integer >= 1, got {num_layers!r}")
    module = torch.nn.GRU(1, 1, num_layers=int(num_layers), bidirectional=bool(bidirectional))
    return [n for n, _ in module.named_parameters()]


def stacked_forward(x, lengths, h0, params, num_layers=1, bidirectional=False, cell="gru"):
    """x (N, T, D), lengths (N,), h0 (num_layers * K, N, H), params {torch name: array}
    -> out (N, T, K * H), h_n (num_layers * K, N, H), cache; torch.nn.GRU / RNN on the packed batch."""
    names = parameter_names(num_layers, bidirectional)
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    if set(params) != set(names):
        raise ValueError(f"params must have exactly the keys {names}, got {sorted(params)}")
    K = 2 if bidirectional else 1
    x, h0 = np.asarray(x), np.asarray(h0)
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (N, T >= 1, D), got {x.shape}")
    N, T = x.shape[:2]
    lengths = _check_lengths(lengths, N, T)
    H = np.asarray(params["weight_hh_l0"]).shape[-1]
    if h0.shape != (num_layers * K, N, H):
        raise ValueError(f"h0 must have shape ({num_layers * K}, {N}, {H}), got {h0.shape}")
    out, h_n, inputs, dtype = _packed_module(cell, x, lengths, h0, params, num_layers, bidirectional)
    return _numpy(out), _numpy(h_n), (out, h_n, inputs, dtype, names)


def stacked_backward(dout, cache, dh_n=None):
    """dout (N, T, K * H), dh_n or None -> dx, dh0 (num_layers * K, N, H), grads {name: gradient} (autograd)."""
    out, h_n, inputs, dtype, names = cache
    dx, dh0, *grads = _backward((out, h_n, inputs, dtype), (dout, dh_n))
    return dx, dh0, dict(zip(names, grads))


# ----------------------------------------------------------------------------------------------------
# Task 6
# ----------------------------------------------------------------------------------------------------

class StackedRNN:
    """torch.nn.GRU / RNN(batch_first=True, num_layers, bidirectional), its parameters as Topic 03 Parameters."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, cell="gru", rng=None,
                 dtype=np.float32):
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bidirectional, self.cell = bool(bidirectional), cell
        # the shapes of a torch module; the values drawn with NumPy, U(-1/sqrt(H), 1/sqrt(H)) as torch does
        module = CELLS[cell][0](self.input_size, self.hidden_size, num_layers=self.num_layers,
                                bidirectional=self.bidirectional)
        self.names = tuple(n for n, _ in module.named_parameters())
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(self.hidden_size)
        for name, p in module.named_parameters():
            setattr(self, name, Parameter(rng.uniform(-bound, bound, size=tuple(p.shape)).astype(dtype)))
        self.training = True
        self.dh0 = None
        self._cache = None

    def parameters(self):
        return [getattr(self, name) for name in self.names]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x, lengths=None, h0=None):
        x = np.asarray(x)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must have shape (N, T, {self.input_size}), got {x.shape}")
        N, T = x.shape[:2]
        if lengths is None:
            lengths = np.full(N, T, dtype=np.int64)
        if h0 is None:
            K = 2 if self.bidirectional else 1
            h0 = np.zeros((self.num_layers * K, N, self.hidden_size), dtype=self.weight_hh_l0.data.dtype)
        params = {name: getattr(self, name).data for name in self.names}
        out, h_n, self._cache = stacked_forward(x, lengths, h0, params, self.num_layers, self.bidirectional,
                                                self.cell)
        return out, h_n

    def backward(self, dout, dh_n=None):
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        dx, self.dh0, grads = stacked_backward(dout, self._cache, dh_n)
        for name in self.names:
            getattr(self, name).grad += grads[name]
        return dx

    def state_dict(self):
        return {name: getattr(self, name).data.copy() for name in self.names}

    def load_state_dict(self, state):
        if set(state) != set(self.names):
            raise ValueError(f"state_dict keys {sorted(state)} != expected {sorted(self.names)}")
        for name in self.names:
            if np.shape(state[name]) != getattr(self, name).data.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {np.shape(state[name])}, "
                                 f"expected {getattr(self, name).data.shape}")
        for name in self.names:
            getattr(self, name).data[...] = state[name]


# ----------------------------------------------------------------------------------------------------
# Task 7
# ----------------------------------------------------------------------------------------------------

def masked_mean_forward(hs, lengths):
    """hs (N, T, F), lengths (N,) -> pooled (N, F) (torch.where, sum, divide), cache."""
    hs = np.asarray(hs)
    if hs.ndim != 3:
        raise ValueError(f"hs must have shape (N, T, F), got {hs.shape}")
    N, T, _ = hs.shape
    lengths = _check_lengths(lengths, N, T)
    dtype = _dtype(hs)
    ht = _tensor(hs, dtype, True)
    mask = torch.from_numpy(sequence_mask(lengths, T))[:, :, None]
    count = torch.from_numpy(lengths).to(ht.dtype)[:, None]
    pooled = torch.where(mask, ht, torch.zeros((), dtype=ht.dtype)).sum(dim=1) / count
    return _numpy(pooled), (pooled, ht, dtype)


def masked_mean_backward(dpooled, cache):
    pooled, ht, dtype = cache
    dpooled = np.asarray(dpooled)
    if dpooled.shape != tuple(pooled.shape):
        raise ValueError(f"dpooled must have shape {tuple(pooled.shape)}, got {dpooled.shape}")
    return _autograd([pooled], [_tensor(dpooled, dtype)], [ht])[0]


def masked_cross_entropy(logits, targets, lengths):
    """logits (N, T, C), targets (N, T), lengths (N,) -> (loss, dlogits): F.cross_entropy with ignore_index."""
    logits, targets = np.asarray(logits), np.asarray(targets)
    if logits.ndim != 3 or logits.shape[2] < 1:
        raise ValueError(f"logits must have shape (N, T, C), got {logits.shape}")
    N, T, C = logits.shape
    if targets.shape != (N, T) or targets.dtype == bool or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets must be integers of shape ({N}, {T}), got {targets.dtype} {targets.shape}")
    lengths = _check_lengths(lengths, N, T)
    if N == 0:
        raise ValueError("an empty batch has no token to average the loss over")
    mask = sequence_mask(lengths, T)
    real = targets[mask]
    if real.min() < 0 or real.max() >= C:
        raise ValueError(f"targets at real positions must lie in [0, {C}), got range [{real.min()}, {real.max()}]")
    dtype = _dtype(logits)
    lt = _tensor(np.where(mask[:, :, None], logits, 0), dtype, True)   # NaN at a padded position: 0 * NaN = NaN
    tt = torch.from_numpy(np.where(mask, targets, IGNORE).astype(np.int64))
    with one_torch_thread():
        loss = torch.nn.functional.cross_entropy(lt.reshape(-1, C), tt.reshape(-1), ignore_index=IGNORE)
        loss.backward()
    return float(loss.detach()), lt.grad.numpy().copy()


# ----------------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------------

def _weights(rng, cell, D, H):
    G, bound = CELLS[cell][1], 1 / np.sqrt(H)
    return [rng.uniform(-bound, bound, size=s) for s in ((G * H, D), (G * H, H), (G * H,), (G * H,))]


def _stacked_case(seed, cell, num_layers, bidirectional, N, T, D, H, lengths):
    rng = np.random.default_rng(seed)
    K = 2 if bidirectional else 1
    mask = sequence_mask(lengths, T)
    x = np.where(mask[:, :, None], rng.standard_normal((N, T, D)), 0.0)
    h0 = rng.standard_normal((num_layers * K, N, H))
    params = {}
    for name in parameter_names(num_layers, bidirectional):
        layer = int(name.split("_l")[1].split("_")[0])
        kind = name.split("_l")[0]
        w = _weights(rng, cell, D if layer == 0 else K * H, H)
        params[name] = w[WEIGHT_NAMES.index(kind)]
    dout = np.where(mask[:, :, None], rng.standard_normal((N, T, K * H)), 0.0)
    dh_n = rng.standard_normal((num_layers * K, N, H))
    out, h_n, cache = stacked_forward(x, lengths, h0, params, num_layers, bidirectional, cell)
    dx, dh0, grads = stacked_backward(dout, cache, dh_n)
    return {"x": x, "lengths": lengths, "h0": h0, "dout": dout, "dh_n": dh_n, "out": out, "h_n": h_n, "dx": dx,
            "dh0": dh0, **params, **{"d" + n: g for n, g in grads.items()}}


def make_golden():
    """{file name: {array name: array}} for tests/golden/, float64, from packed torch modules and autograd."""
    files = {}
    lengths_small = np.array([3, 5, 1, 4])             # unsorted, one of length 1, one full
    T = 5
    x_small = np.arange(4 * T * 2, dtype=np.float64).reshape(4, T, 2)
    files["mask_small"] = {"lengths": lengths_small, "mask": sequence_mask(lengths_small, T), "x": x_small,
                           "reversed": reverse_padded(x_small, lengths_small)}
    for seed, cell in enumerate(("gru", "rnn")):
        rng = np.random.default_rng(seed)
        N, T, D, H = 5, 7, 3, 4
        lengths = np.array([4, 7, 1, 6, 2])
        mask = sequence_mask(lengths, T)
        x = np.where(mask[:, :, None], rng.standard_normal((N, T, D)), 0.0)
        h0 = rng.standard_normal((N, H))
        w = _weights(rng, cell, D, H)
        dhs = np.where(mask[:, :, None], rng.standard_normal((N, T, H)), 0.0)
        dh_n = rng.standard_normal((N, H))
        hs, h_n, cache = masked_forward(x, lengths, h0, *w, cell=cell)
        grads = masked_backward(dhs, cache, dh_n)
        files[f"masked_{cell}"] = {"x": x, "lengths": lengths, "h0": h0, "dhs": dhs, "dh_n": dh_n, "hs": hs,
                                   "h_n": h_n, **dict(zip(WEIGHT_NAMES, w)),
                                   **dict(zip(("dx", "dh0") + tuple("d" + n for n in WEIGHT_NAMES), grads))}
        w_b = _weights(rng, cell, D, H)
        h0_2 = rng.standard_normal((2, N, H))
        dout = np.where(mask[:, :, None], rng.standard_normal((N, T, 2 * H)), 0.0)
        dh_n2 = rng.standard_normal((2, N, H))
        out, h_n2, cache = bidirectional_forward(x, lengths, h0_2, w, w_b, cell=cell)
        dx, dh0, g_f, g_b = bidirectional_backward(dout, cache, dh_n2)
        names = parameter_names(1, True)
        files[f"bidirectional_{cell}"] = {"x": x, "lengths": lengths, "h0": h0_2, "dout": dout, "dh_n": dh_n2,
                                          "out": out, "h_n": h_n2, "dx": dx, "dh0": dh0,
                                          **dict(zip(names, w + w_b)),
                                          **{"d" + n: g for n, g in zip(names, g_f + g_b)}}
    # stacks: two bidirectional GRU layers, two bidirectional RNN layers, three forward-only GRU layers
    files["stacked_gru_2x2"] = _stacked_case(3, "gru", 2, True, 4, 6, 3, 4, np.array([2, 6, 1, 5]))
    files["stacked_rnn_2x2"] = _stacked_case(4, "rnn", 2, True, 3, 5, 2, 3, np.array([5, 2, 4]))
    files["stacked_gru_3x1"] = _stacked_case(5, "gru", 3, False, 3, 4, 2, 3, np.array([3, 4, 1]))
    # packing: unsorted lengths whose sort is not its own inverse, a trailing feature axis, padding and total_length
    lengths = np.array([2, 4, 1, 3])
    x = np.arange(4 * 4 * 2, dtype=np.float64).reshape(4, 4, 2) + 1
    p = pack_padded_sequence(x, lengths, enforce_sorted=False)
    padded, back = pad_packed_sequence(p, padding_value=-7.5, total_length=6)
    sorted_lengths = np.array([4, 3, 1])
    xs = x[:3, :4, 0]
    ps = pack_padded_sequence(xs.T, sorted_lengths, batch_first=False)
    padded_tm, _ = pad_packed_sequence(ps, batch_first=False)
    files["packing"] = {"x": x, "lengths": lengths, "data": p.data, "batch_sizes": p.batch_sizes,
                        "sorted_indices": p.sorted_indices, "unsorted_indices": p.unsorted_indices,
                        "padded": padded, "padded_lengths": back,
                        "x_sorted_time_major": xs.T, "sorted_lengths": sorted_lengths, "data_sorted": ps.data,
                        "batch_sizes_sorted": ps.batch_sizes, "padded_time_major": padded_tm}
    rng = np.random.default_rng(7)
    N, T, C = 4, 6, 5
    lengths = np.array([6, 2, 4, 1])
    mask = sequence_mask(lengths, T)
    logits = np.where(mask[:, :, None], rng.standard_normal((N, T, C)) * 2, 0.0)
    targets = np.where(mask, rng.integers(0, C, size=(N, T)), 0)
    loss, dlogits = masked_cross_entropy(logits, targets, lengths)
    hs = np.where(mask[:, :, None], rng.standard_normal((N, T, 3)), 0.0)
    pooled, cache = masked_mean_forward(hs, lengths)
    dpooled = rng.standard_normal(pooled.shape)
    files["pooling_and_loss"] = {"logits": logits, "targets": targets, "lengths": lengths, "loss": np.array(loss),
                                 "dlogits": dlogits, "hs": hs, "pooled": pooled, "dpooled": dpooled,
                                 "dhs": masked_mean_backward(dpooled, cache)}
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 21 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    layer = StackedRNN(8, 16, num_layers=2, bidirectional=True, rng=0)
    x = np.random.default_rng(1).standard_normal((4, 10, 8)).astype(np.float32)
    out, h_n = layer.forward(x, np.array([10, 3, 7, 1]))
    print("StackedRNN GRU(8, 16, num_layers=2, bidirectional):", out.shape, h_n.shape, out.dtype)
