"""
Level 3: packed, memory-efficient
- The batch is packed ONCE (a stable sort by length, torch's PackedSequence layout): the rows of step t are the
  first batch_sizes[t] sequences, and the cell runs on exactly those rows, so no padded step is ever computed,
  cached or differentiated, and no np.where is needed
- The backward direction needs no reversal at all: walk t = T - 1 .. 0 over the same packed rows; a sequence
  joins (from its h0) at its own last real step, because that is where its rows start
- A stack keeps the data packed from layer to layer ([forward | backward] side by side); it is padded back
  (and unsorted) only at the end. The caches hold sum(lengths) rows per step instead of N * T
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)
rnn = load_topic(18)                 # rnn_step_forward / rnn_step_backward (tanh cell)
gru = load_topic(20)                 # gru_step_forward / gru_step_backward (PyTorch's GRU cell)

CELLS = {"rnn": (rnn.rnn_step_forward, rnn.rnn_step_backward, 1),
         "gru": (gru.gru_step_forward, gru.gru_step_backward, 3)}     # step forward, step backward, gate blocks
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

# torch.nn.utils.rnn.PackedSequence, as a plain tuple of NumPy arrays (the two index arrays None when sorted)
PackedSequence = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


# ----------------------------------------------------------------------------------------------------
# Checks shared by every function
# ----------------------------------------------------------------------------------------------------

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
    G = CELLS[cell][2]
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


# ----------------------------------------------------------------------------------------------------
# Task 1: the mask, and reversing each sequence within its own length
# ----------------------------------------------------------------------------------------------------

def sequence_mask(lengths, T):
    """lengths (N,) ints in [1, T] -> mask (N, T) bool, mask[i, t] = t < lengths[i]."""
    if isinstance(T, bool) or not isinstance(T, (int, np.integer)) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    lengths = np.asarray(lengths)
    lengths = _check_lengths(lengths, lengths.shape[0] if lengths.ndim == 1 else -1, int(T))
    return np.arange(int(T))[None, :] < lengths[:, None]


def reverse_padded(x, lengths):
    """x (N, T, ...) -> the same shape: row i has x[i, :L] reversed (L = lengths[i]); x[i, L:] is copied as it is."""
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must be (N, T, ...), got shape {x.shape}")
    N, T = x.shape[:2]
    lengths = _check_lengths(lengths, N, T)
    t = np.arange(T)[None, :]
    # position t of the result reads position L - 1 - t of the input inside the sequence, t itself outside
    src = np.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)
    return x[np.arange(N)[:, None], src]


# ----------------------------------------------------------------------------------------------------
# Task 2: packing, as torch.nn.utils.rnn.pack_padded_sequence / pad_packed_sequence
# ----------------------------------------------------------------------------------------------------

def pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=True):
    """x (N, T, *) (or (T, N, *) with batch_first=False), lengths (N,) -> PackedSequence.

    data (sum(lengths), *): step 0 of every sequence, then step 1 of those longer than 1, ..., each step's rows in
    the order of decreasing length; batch_sizes (max(lengths),): how many sequences run at each step;
    sorted_indices: sorted position k holds sequence sorted_indices[k]; unsorted_indices: its inverse.
    enforce_sorted=True: lengths must already be decreasing, and both index arrays are None.
    """
    x = np.asarray(x)
    if x.ndim < 2:
        raise ValueError(f"x must be (N, T, ...) or (T, N, ...), got shape {x.shape}")
    if not batch_first:
        x = x.swapaxes(0, 1)
    N, T = x.shape[:2]
    if N == 0:
        raise ValueError("cannot pack an empty batch")
    lengths = _check_lengths(lengths, N, T)
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(f"lengths {lengths.tolist()} are not in decreasing order: sort them, "
                             "or pass enforce_sorted=False")
        order, sorted_indices, unsorted_indices = np.arange(N), None, None
    else:
        order = np.argsort(-lengths, kind="stable")        # ties keep their order
        sorted_indices, unsorted_indices = order, np.argsort(order)
    sorted_lengths = lengths[order]
    batch_sizes = (sorted_lengths[None, :] > np.arange(sorted_lengths[0])[:, None]).sum(axis=1)
    # time-major, sorted: at step t the running sequences are the first batch_sizes[t] rows
    x_tm = x[order].swapaxes(0, 1)                          # (T, N, *)
    data = x_tm[sequence_mask(sorted_lengths, T).T]         # rows in C order: step by step, then sequence
    return PackedSequence(data, batch_sizes.astype(np.int64), sorted_indices, unsorted_indices)


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


def pad_packed_sequence(packed, batch_first=True, padding_value=0.0, total_length=None):
    """PackedSequence -> (padded (N, T, *) (or (T, N, *)), lengths (N,)), both in the ORIGINAL order of the batch.

    T = max(lengths), or total_length (which must be >= max(lengths)); padded steps hold padding_value.
    """
    data, batch_sizes, _, unsorted_indices = _check_packed(packed)
    N, T_max = int(batch_sizes[0]), len(batch_sizes)
    T = T_max
    if total_length is not None:
        if isinstance(total_length, bool) or not isinstance(total_length, (int, np.integer)) or total_length < T_max:
            raise ValueError(f"total_length must be an integer >= the longest sequence ({T_max}), got {total_length!r}")
        T = int(total_length)
    # sequence k (sorted) runs at every step whose batch size is larger than k
    sorted_lengths = (batch_sizes[None, :] > np.arange(N)[:, None]).sum(axis=1)
    out = np.full((T, N) + data.shape[1:], padding_value, dtype=data.dtype)
    out[sequence_mask(sorted_lengths, T).T] = data
    lengths = sorted_lengths
    if unsorted_indices is not None:                        # back to the order of the batch
        out, lengths = out[:, unsorted_indices], sorted_lengths[unsorted_indices]
    if batch_first:
        out = out.swapaxes(0, 1)
    return np.ascontiguousarray(out), lengths.astype(np.int64)


# ----------------------------------------------------------------------------------------------------
# The packed recurrence: one direction of one layer, forward and backward
# ----------------------------------------------------------------------------------------------------

def _run_packed(data, batch_sizes, offsets, h0, w, cell, reverse):
    """data (sum L, D) packed, h0 (N, H) sorted -> out (sum L, H) packed, h_n (N, H) sorted, step caches."""
    step_forward = CELLS[cell][0]
    h = h0.copy()
    out = np.empty((data.shape[0], h.shape[1]), dtype=h.dtype)
    caches = [None] * len(batch_sizes)
    for t in (reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes))):
        n, rows = batch_sizes[t], slice(offsets[t], offsets[t + 1])
        # only the first n (sorted) sequences have a step t; the others keep their state untouched.
        # A copy of h[:n]: the step's cache keeps it, and h is overwritten in place just below
        h_new, caches[t] = step_forward(data[rows], h[:n].copy(), *w)
        h[:n] = h_new
        out[rows] = h_new
    return out, h, caches


def _run_packed_backward(dout, dh_n, batch_sizes, offsets, caches, cell, D, reverse):
    """dout (sum L, H) packed, dh_n (N, H) sorted -> ddata (sum L, D), dh0 (N, H) sorted, 4 weight gradients."""
    step_backward = CELLS[cell][1]
    dh = dh_n.copy()
    ddata = np.empty((dout.shape[0], D), dtype=dh.dtype)
    grads = None
    for t in (range(len(batch_sizes)) if reverse else reversed(range(len(batch_sizes)))):
        n, rows = batch_sizes[t], slice(offsets[t], offsets[t + 1])
        ddata[rows], dh[:n], *g = step_backward(dh[:n] + dout[rows], caches[t])
        grads = g if grads is None else [a + b for a, b in zip(grads, g)]
    return ddata, dh, grads


def _stack_forward(x, lengths, h0, weights, cell):
    """x (N, T, D), h0 (L * K, N, H), weights[l][k] = 4 arrays -> out (N, T, K * H), h_n (L * K, N, H), cache."""
    T = x.shape[1]
    K = len(weights[0])
    dtype = _dtype(x, h0, *(a for layer in weights for w in layer for a in w))
    weights = [[[a.astype(dtype, copy=False) for a in w] for w in layer] for layer in weights]
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
    batch_sizes, order = packed.batch_sizes, packed.sorted_indices
    offsets = np.concatenate([[0], np.cumsum(batch_sizes)])
    data = packed.data.astype(dtype, copy=False)
    h0 = h0[:, order].astype(dtype)                 # the states follow the sequences into sorted order
    caches, h_n = [], np.empty_like(h0)
    for layer, layer_weights in enumerate(weights):
        outs = []
        for k, w in enumerate(layer_weights):        # k = 0 forward, k = 1 backward (reverse=True)
            out, h_n[K * layer + k], c = _run_packed(data, batch_sizes, offsets, h0[K * layer + k], w, cell, k == 1)
            outs.append(out)
            caches.append(c)
        data = np.concatenate(outs, axis=1) if K == 2 else outs[0]   # the next layer reads both directions
    out, _ = pad_packed_sequence(PackedSequence(data, batch_sizes, order, packed.unsorted_indices), total_length=T)
    H = h0.shape[2]
    cache = (caches, weights, batch_sizes, offsets, order, packed.unsorted_indices, lengths, cell, x.shape, K, H)
    return out, h_n[:, packed.unsorted_indices], cache


def _stack_backward(dout, cache, dh_n):
    """dout (N, T, K * H), dh_n (L * K, N, H) or None -> dx (N, T, D), dh0 (L * K, N, H), grads[l][k] (4 each)."""
    caches, weights, batch_sizes, offsets, order, unsorted, lengths, cell, shape, K, H = cache
    N, T, _ = shape
    L = len(weights)
    dtype = weights[0][0][0].dtype
    dout = np.asarray(dout)
    if dout.shape != (N, T, K * H):
        raise ValueError(f"dout must have shape ({N}, {T}, {K * H}), got {dout.shape}")
    if dh_n is None:
        dh = np.zeros((L * K, N, H), dtype=dtype)
    else:
        dh = np.asarray(dh_n)
        if dh.shape != (L * K, N, H):
            raise ValueError(f"dh_n must have shape ({L * K}, {N}, {H}), got {dh.shape}")
        dh = dh[:, order].astype(dtype)
    # the gradient at the real steps only, packed like the outputs were (padded dout is never read)
    d = pack_padded_sequence(dout, lengths, enforce_sorted=False).data.astype(dtype, copy=False)
    dh0, grads = np.empty_like(dh), [[None] * K for _ in range(L)]
    for layer in reversed(range(L)):
        d_in = None
        for k in range(K):
            D_in = weights[layer][k][0].shape[1]
            dd, dh0[K * layer + k], grads[layer][k] = _run_packed_backward(
                np.ascontiguousarray(d[:, k * H:(k + 1) * H]), dh[K * layer + k], batch_sizes, offsets,
                caches[K * layer + k], cell, D_in, k == 1)
            d_in = dd if d_in is None else d_in + dd   # both directions read the same input rows
        d = d_in
    dx, _ = pad_packed_sequence(PackedSequence(d, batch_sizes, order, unsorted), total_length=T)
    return dx, dh0[:, unsorted], grads


# ----------------------------------------------------------------------------------------------------
# Task 3: the masked recurrence, forward and backward
# ----------------------------------------------------------------------------------------------------

def masked_forward(x, lengths, h0, weight_ih, weight_hh, bias_ih, bias_hh, cell="gru"):
    """x (N, T, D) padded, lengths (N,), h0 (N, H) -> hs (N, T, H), h_n (N, H), cache (on the packed rows)."""
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
    hs, h_n, cache = _stack_forward(x, lengths, h0[None], [[w]], cell)
    return hs, h_n[0], cache


def masked_backward(dhs, cache, dh_n=None):
    """dhs (N, T, H), dh_n (N, H) or None -> dx (N, T, D), dh0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh."""
    N, H = cache[8][0], cache[10]
    if dh_n is not None:
        dh_n = np.asarray(dh_n)
        if dh_n.shape != (N, H):
            raise ValueError(f"dh_n must have shape ({N}, {H}), got {dh_n.shape}")
        dh_n = dh_n[None]
    dx, dh0, grads = _stack_backward(dhs, cache, dh_n)
    return (dx, dh0[0], *grads[0][0])


# ----------------------------------------------------------------------------------------------------
# Task 4: the bidirectional layer, functional form
# ----------------------------------------------------------------------------------------------------

def bidirectional_forward(x, lengths, h0, weights_fwd, weights_bwd, cell="gru"):
    """x (N, T, D), lengths (N,), h0 (2, N, H), weights_* = (weight_ih, weight_hh, bias_ih, bias_hh)
    -> out (N, T, 2H) = [forward states | backward states], h_n (2, N, H) (PyTorch's order), cache."""
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
    return _stack_forward(x, lengths, h0, [[w_f, w_b]], cell)


def bidirectional_backward(dout, cache, dh_n=None):
    """dout (N, T, 2H), dh_n (2, N, H) or None -> dx (N, T, D), dh0 (2, N, H), grads_fwd (4,), grads_bwd (4,)."""
    dx, dh0, grads = _stack_backward(dout, cache, dh_n)
    return dx, dh0, tuple(grads[0][0]), tuple(grads[0][1])


# ----------------------------------------------------------------------------------------------------
# Task 5: a stack of layers, PyTorch's parameter names
# ----------------------------------------------------------------------------------------------------

def parameter_names(num_layers=1, bidirectional=False):
    """The names of torch.nn.GRU(num_layers, bidirectional)'s named_parameters(), in their order."""
    if isinstance(num_layers, bool) or not isinstance(num_layers, (int, np.integer)) or num_layers < 1:
        raise ValueError(f"num_layers must be an integer >= 1, got {num_layers!r}")
    suffixes = ("", "_reverse") if bidirectional else ("",)
    return [f"{w}_l{layer}{s}" for layer in range(num_layers) for s in suffixes for w in WEIGHT_NAMES]


def stacked_forward(x, lengths, h0, params, num_layers=1, bidirectional=False, cell="gru"):
    """x (N, T, D), lengths (N,), h0 (num_layers * K, N, H) (K = 2 if bidirectional else 1), params {name: array}
    -> out (N, T, K * H) of the last layer, h_n (num_layers * K, N, H), cache; packed from the first layer to the
    last."""
    names = parameter_names(num_layers, bidirectional)
    if set(params) != set(names):
        raise ValueError(f"params must have exactly the keys {names}, got {sorted(params)}")
    K = 2 if bidirectional else 1
    x, h0 = np.asarray(x), np.asarray(h0)
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(f"x must have shape (N, T >= 1, D), got {x.shape}")
    N, T, D = x.shape
    lengths = _check_lengths(lengths, N, T)
    weights = []
    for layer in range(num_layers):
        layer_weights = []
        for s in ("", "_reverse")[:K]:
            w, D_w, H = _check_weights(cell, *(params[f"{n}_l{layer}{s}"] for n in WEIGHT_NAMES))
            if D_w != (D if layer == 0 else K * weights[0][0][1].shape[1]):
                raise ValueError(f"weight_ih_l{layer}{s} has {D_w} input columns, expected "
                                 f"{D if layer == 0 else 'directions * H'}")
            layer_weights.append(w)
        weights.append(layer_weights)
    H = weights[0][0][1].shape[1]
    if any(w[1].shape[1] != H for layer in weights for w in layer):
        raise ValueError("every layer and direction must have the same hidden size H")
    if h0.shape != (num_layers * K, N, H):
        raise ValueError(f"h0 must have shape ({num_layers * K}, {N}, {H}) = (num_layers * directions, N, H), "
                         f"got {h0.shape}")
    out, h_n, cache = _stack_forward(x, lengths, h0, weights, cell)
    return out, h_n, (cache, names)


def stacked_backward(dout, cache, dh_n=None):
    """dout (N, T, K * H), dh_n (num_layers * K, N, H) or None -> dx (N, T, D), dh0 (num_layers * K, N, H),
    grads {name: gradient} with the keys of params."""
    cache, names = cache
    dx, dh0, grads = _stack_backward(dout, cache, dh_n)
    flat = [g for layer in grads for direction in layer for g in direction]   # torch's order, as names
    return dx, dh0, dict(zip(names, flat))


# ----------------------------------------------------------------------------------------------------
# Task 6: the layer
# ----------------------------------------------------------------------------------------------------

class StackedRNN:
    """torch.nn.GRU / torch.nn.RNN(batch_first=True, num_layers, bidirectional) on a padded batch with lengths."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, cell="gru", rng=None,
                 dtype=np.float32):
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.bidirectional, self.cell = bool(bidirectional), cell
        K, G, H = 2 if self.bidirectional else 1, CELLS[cell][2], self.hidden_size
        self.names = tuple(parameter_names(self.num_layers, self.bidirectional))
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(H)
        for name in self.names:                     # drawn in PyTorch's order of named_parameters
            D = self.input_size if "_l0" in name else K * H
            shape = {"weight_ih": (G * H, D), "weight_hh": (G * H, H)}.get(name.split("_l")[0], (G * H,))
            setattr(self, name, Parameter(rng.uniform(-bound, bound, size=shape).astype(dtype)))
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
        """x (N, T, D), lengths (N,) or None (all T), h0 (num_layers * K, N, H) or None (zeros)
        -> out (N, T, K * H), h_n (num_layers * K, N, H)."""
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
        """dout (N, T, K * H), dh_n or None -> dx; ADDS into the .grad of the parameters, keeps dh0."""
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
# Task 7: pooling over real steps, and the loss over real tokens
# ----------------------------------------------------------------------------------------------------

def masked_mean_forward(hs, lengths):
    """hs (N, T, F), lengths (N,) -> pooled (N, F) = the mean of hs[i, :lengths[i]], cache."""
    hs = np.asarray(hs)
    if hs.ndim != 3:
        raise ValueError(f"hs must have shape (N, T, F), got {hs.shape}")
    N, T, _ = hs.shape
    lengths = _check_lengths(lengths, N, T)
    mask = (np.arange(T)[None, :] < lengths[:, None])[:, :, None]
    dtype = _dtype(hs)
    count = lengths.astype(dtype)[:, None]
    pooled = np.where(mask, hs, 0).sum(axis=1).astype(dtype, copy=False) / count   # padding never enters
    return pooled, (mask, count, hs.shape)


def masked_mean_backward(dpooled, cache):
    """dpooled (N, F) -> dhs (N, T, F): dpooled / length at the real steps, 0 at the padded ones."""
    mask, count, shape = cache
    dpooled = np.asarray(dpooled)
    if dpooled.shape != (shape[0], shape[2]):
        raise ValueError(f"dpooled must have shape ({shape[0]}, {shape[2]}), got {dpooled.shape}")
    return np.where(mask, (dpooled.astype(count.dtype, copy=False) / count)[:, None, :], 0).astype(count.dtype)


def masked_cross_entropy(logits, targets, lengths):
    """logits (N, T, C), targets (N, T) ints, lengths (N,) -> (loss, dlogits (N, T, C)).

    loss = the mean of -log softmax(logits[i, t])[targets[i, t]] over the real tokens (t < lengths[i]): every
    token counts the same, whatever the length of its sequence. Padded targets are never read.
    """
    logits, targets = np.asarray(logits), np.asarray(targets)
    if logits.ndim != 3 or logits.shape[2] < 1:
        raise ValueError(f"logits must have shape (N, T, C), got {logits.shape}")
    N, T, C = logits.shape
    if targets.shape != (N, T) or targets.dtype == bool or not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets must be integers of shape ({N}, {T}), got {targets.dtype} {targets.shape}")
    lengths = _check_lengths(lengths, N, T)
    mask = np.arange(T)[None, :] < lengths[:, None]
    real = targets[mask]
    if real.size and (real.min() < 0 or real.max() >= C):
        raise ValueError(f"targets at real positions must lie in [0, {C}), got range [{real.min()}, {real.max()}]")
    dtype = _dtype(logits)
    z = np.where(mask[:, :, None], logits, 0).astype(dtype, copy=False)   # padded logits may be NaN
    z = z - z.max(axis=2, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
    tgt = np.where(mask, targets, 0)                                      # padded targets may be anything
    picked = np.take_along_axis(log_p, tgt[:, :, None], axis=2)[:, :, 0]
    n_tokens = int(mask.sum())
    if n_tokens == 0:
        raise ValueError("an empty batch has no token to average the loss over")
    loss = -float(np.where(mask, picked, 0).sum()) / n_tokens
    dlogits = np.exp(log_p)
    np.put_along_axis(dlogits, tgt[:, :, None], np.take_along_axis(dlogits, tgt[:, :, None], axis=2) - 1, axis=2)
    dlogits = np.where(mask[:, :, None], dlogits / n_tokens, 0).astype(dtype, copy=False)
    return loss, dlogits
