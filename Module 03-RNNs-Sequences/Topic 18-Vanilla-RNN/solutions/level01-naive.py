"""
Level 1: Naive Vanilla RNN
- Loops everywhere: over time, samples and units, one multiply-add at a time
- rnn_forward / rnn_backward call the single-step functions T times (BPTT spelled out)
- Character data helpers written plainly
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad)


# ----------------------------------------------------------------------------------------------------
# Checks shared by every function
# ----------------------------------------------------------------------------------------------------

def _check_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    weight_ih, weight_hh = np.asarray(weight_ih), np.asarray(weight_hh)
    bias_ih, bias_hh = np.asarray(bias_ih), np.asarray(bias_hh)
    if weight_ih.ndim != 2:
        raise ValueError(f"weight_ih must be (H, D), got shape {weight_ih.shape}")
    H, D = weight_ih.shape
    if weight_hh.shape != (H, H):
        raise ValueError(f"weight_hh must be (H, H) = ({H}, {H}), got shape {weight_hh.shape}")
    if bias_ih.shape != (H,) or bias_hh.shape != (H,):
        raise ValueError(f"bias_ih and bias_hh must be ({H},), got {bias_ih.shape} and {bias_hh.shape}")
    return weight_ih, weight_hh, bias_ih, bias_hh, H, D


def _check_step(x_t, h_prev, H, D):
    x_t, h_prev = np.asarray(x_t), np.asarray(h_prev)
    if x_t.ndim != 2 or x_t.shape[1] != D:
        raise ValueError(f"x_t must be (N, D) with D = {D}, got shape {x_t.shape}")
    if h_prev.shape != (x_t.shape[0], H):
        raise ValueError(f"h_prev must be (N, H) = ({x_t.shape[0]}, {H}), got shape {h_prev.shape}")
    return x_t, h_prev


def _check_sequence(x, h0, H, D):
    x, h0 = np.asarray(x), np.asarray(h0)
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"x must be (N, T, D) with D = {D}, got shape {x.shape}")
    if h0.shape != (x.shape[0], H):
        raise ValueError(f"h0 must be (N, H) = ({x.shape[0]}, {H}), got shape {h0.shape}")
    return x, h0


# ----------------------------------------------------------------------------------------------------
# Task 1: one step forward and backward
# ----------------------------------------------------------------------------------------------------

def rnn_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """h = tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh), written as loops over samples and units."""
    weight_ih, weight_hh, bias_ih, bias_hh, H, D = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev = _check_step(x_t, h_prev, H, D)
    N = x_t.shape[0]
    h = np.empty((N, H), dtype=np.result_type(x_t, h_prev, weight_ih))
    for n in range(N):
        for j in range(H):
            a = bias_ih[j] + bias_hh[j]
            for d in range(D):
                a += weight_ih[j, d] * x_t[n, d]
            for k in range(H):
                a += weight_hh[j, k] * h_prev[n, k]
            h[n, j] = math.tanh(a)
    return h, (x_t, h_prev, weight_ih, weight_hh, h)


def rnn_step_backward(dh, cache):
    """-> (dx_t, dh_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh), element by element."""
    x_t, h_prev, weight_ih, weight_hh, h = cache
    dh = np.asarray(dh)
    if dh.shape != h.shape:
        raise ValueError(f"dh must have the shape of h {h.shape}, got {dh.shape}")
    N, H = h.shape
    D = x_t.shape[1]
    dt = h.dtype
    dx_t, dh_prev = np.zeros((N, D), dtype=dt), np.zeros((N, H), dtype=dt)
    dw_ih, dw_hh, db = np.zeros((H, D), dtype=dt), np.zeros((H, H), dtype=dt), np.zeros(H, dtype=dt)
    for n in range(N):
        for j in range(H):
            da = dh[n, j] * (1 - h[n, j] * h[n, j])      # tanh'(a) = 1 - tanh(a)^2
            db[j] += da
            for d in range(D):
                dw_ih[j, d] += da * x_t[n, d]
                dx_t[n, d] += da * weight_ih[j, d]
            for k in range(H):
                dw_hh[j, k] += da * h_prev[n, k]
                dh_prev[n, k] += da * weight_hh[j, k]
    return dx_t, dh_prev, dw_ih, dw_hh, db, db.copy()


# ----------------------------------------------------------------------------------------------------
# Task 2: forward through time and BPTT
# ----------------------------------------------------------------------------------------------------

def rnn_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0 (N, H) -> (hs (N, T, H), cache): rnn_step_forward at every step."""
    weight_ih, weight_hh, bias_ih, bias_hh, H, D = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x, h0 = _check_sequence(x, h0, H, D)
    N, T, _ = x.shape
    hs = np.empty((N, T, H), dtype=np.result_type(x, h0, weight_ih))
    caches = []
    h = h0
    for t in range(T):
        h, c = rnn_step_forward(x[:, t], h, weight_ih, weight_hh, bias_ih, bias_hh)
        hs[:, t] = h
        caches.append(c)
    return hs, (caches, x.shape, h0, weight_ih, weight_hh, hs.dtype)


def rnn_backward(dhs, cache):
    """BPTT: walk the steps backwards, adding the gradient that comes from the future step to dhs[:, t]."""
    caches, (N, T, D), h0, weight_ih, weight_hh, dt = cache
    H = weight_hh.shape[0]
    dhs = np.asarray(dhs)
    if dhs.shape != (N, T, H):
        raise ValueError(f"dhs must have the shape of hs {(N, T, H)}, got {dhs.shape}")
    dx = np.zeros((N, T, D), dtype=dt)
    grads = [np.zeros((H, D), dtype=dt), np.zeros((H, H), dtype=dt), np.zeros(H, dtype=dt), np.zeros(H, dtype=dt)]
    dh = np.zeros((N, H), dtype=dt)
    for t in range(T - 1, -1, -1):
        dx_t, dh, *g = rnn_step_backward(dhs[:, t] + dh, caches[t])
        dx[:, t] = dx_t
        for acc, gi in zip(grads, g):
            acc += gi
    return (dx, dh, *grads)


# ----------------------------------------------------------------------------------------------------
# Task 3: the layer
# ----------------------------------------------------------------------------------------------------

class RNN:
    """A one-layer tanh RNN, batch first, with torch.nn.RNN's parameter names, shapes and initialisation."""

    _NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, input_size, hidden_size, rng=None, dtype=np.float32):
        if int(input_size) < 1 or int(hidden_size) < 1:
            raise ValueError(f"input_size and hidden_size must be >= 1, got {input_size}, {hidden_size}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.dtype = np.dtype(dtype)
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        bound = 1.0 / math.sqrt(self.hidden_size)
        H, D = self.hidden_size, self.input_size
        self.weight_ih = optim.Parameter(rng.uniform(-bound, bound, (H, D)).astype(self.dtype))
        self.weight_hh = optim.Parameter(rng.uniform(-bound, bound, (H, H)).astype(self.dtype))
        self.bias_ih = optim.Parameter(rng.uniform(-bound, bound, (H,)).astype(self.dtype))
        self.bias_hh = optim.Parameter(rng.uniform(-bound, bound, (H,)).astype(self.dtype))
        self._cache = None

    def parameters(self):
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]

    def forward(self, x, h0=None):
        """x (N, T, D) -> (out (N, T, H), h_n (N, H)); h0 defaults to zeros."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"x must be (N, T, D), got shape {x.shape}")
        if h0 is None:
            h0 = np.zeros((x.shape[0], self.hidden_size), dtype=x.dtype)
        hs, self._cache = rnn_forward(x, h0, *(p.data for p in self.parameters()))
        h_n = hs[:, -1].copy() if hs.shape[1] else np.array(h0, dtype=hs.dtype, copy=True)
        self._out_shape = hs.shape
        return hs, h_n

    def backward(self, dout, dh_n=None):
        """dout (N, T, H) (+ dh_n (N, H), the gradient of the final state) -> dx; adds into .grad."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        dout = np.array(dout, dtype=self._cache[-1], copy=True)
        if dout.shape != self._out_shape:
            raise ValueError(f"dout must be {self._out_shape}, got {dout.shape}")
        if dh_n is not None:
            dh_n = np.asarray(dh_n)
            if dh_n.shape != (dout.shape[0], self.hidden_size):
                raise ValueError(f"dh_n must be ({dout.shape[0]}, {self.hidden_size}), got {dh_n.shape}")
            if dout.shape[1]:
                dout[:, -1] += dh_n
        dx, _, *grads = rnn_backward(dout, self._cache)
        for p, g in zip(self.parameters(), grads):
            p.grad += g.astype(p.grad.dtype, copy=False)
        return dx

    def state_dict(self):
        return {name: getattr(self, name).data.copy() for name in self._NAMES}

    def load_state_dict(self, state):
        if set(state) != set(self._NAMES):
            raise KeyError(f"state_dict keys must be {sorted(self._NAMES)}, got {sorted(state)}")
        for name in self._NAMES:
            p = getattr(self, name)
            value = np.asarray(state[name])
            if value.shape != p.data.shape:
                raise ValueError(f"{name}: shape {value.shape}, expected {p.data.shape}")
        for name in self._NAMES:
            p = getattr(self, name)
            p.data[...] = np.asarray(state[name], dtype=p.data.dtype)


# ----------------------------------------------------------------------------------------------------
# Task 4: character data, truncated BPTT, clipping, sampling (reused by Topics 19 and 20)
# ----------------------------------------------------------------------------------------------------

class CharVocab:
    """Sorted unique characters of `text`; encode(str) -> int64 ids, decode(ids) -> str."""

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ValueError("CharVocab needs a non-empty string")
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, s):
        try:
            return np.array([self.index[c] for c in s], dtype=np.int64)
        except KeyError as e:
            raise ValueError(f"character {e.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids):
        ids = np.asarray(ids).reshape(-1)
        if ids.size and (ids.min() < 0 or ids.max() >= len(self.chars)):
            raise ValueError(f"ids must be in [0, {len(self.chars)}), got range [{ids.min()}, {ids.max()}]")
        return "".join(self.chars[int(i)] for i in ids)


def train_val_split(text, val_fraction=0.1):
    """(train, val): the last `val_fraction` of the text (rounded down) is validation, contiguous and fixed."""
    if not 0.0 <= float(val_fraction) < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    n_val = int(len(text) * float(val_fraction))
    cut = len(text) - n_val
    return text[:cut], text[cut:]


def tbptt_batches(ids, batch_size, seq_len):
    """Yield (x, y) int64 (batch_size, seq_len) for truncated BPTT.

    The ids (minus the last, which only serves as a target) are cut into batch_size contiguous streams of
    equal length L = (len(ids) - 1) // batch_size; batch k holds columns [k*seq_len, (k+1)*seq_len) of
    every stream, so row i of batch k+1 continues row i of batch k and the hidden state can carry over.
    y is x shifted by one. A final partial window is dropped.
    """
    ids = np.asarray(ids)
    if ids.ndim != 1:
        raise ValueError(f"ids must be 1-D, got shape {ids.shape}")
    if int(batch_size) < 1 or int(seq_len) < 1:
        raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size}, {seq_len}")
    batch_size, seq_len = int(batch_size), int(seq_len)
    ids = ids.astype(np.int64)
    L = (len(ids) - 1) // batch_size
    if L < seq_len:
        return
    xs = ids[: batch_size * L].reshape(batch_size, L)
    ys = ids[1: batch_size * L + 1].reshape(batch_size, L)   # row i: ids[i*L + 1 : (i+1)*L + 1]
    for k in range(L // seq_len):
        s = slice(k * seq_len, (k + 1) * seq_len)
        yield xs[:, s].copy(), ys[:, s].copy()


def clip_grad_norm(params, max_norm):
    """Scale every .grad in place by max_norm / total_norm when the global L2 norm exceeds max_norm;
    return the total norm before clipping (as torch.nn.utils.clip_grad_norm_)."""
    params = list(params)
    if float(max_norm) <= 0:
        raise ValueError(f"max_norm must be > 0, got {max_norm}")
    total = math.sqrt(sum(float(np.sum(np.asarray(p.grad, dtype=np.float64) ** 2)) for p in params))
    coef = float(max_norm) / (total + 1e-6)
    if coef < 1.0:
        for p in params:
            p.grad *= p.grad.dtype.type(coef)
    return total


def sample(model_step, vocab, start, length, rng, temperature=1.0):
    """Generate `length` characters after `start`.

    model_step(id: int, state) -> (logits (V,), state), with state None at the first call. The start text
    is fed first (its last character gives the first prediction); each next id is drawn from
    softmax(logits / temperature) with `rng`. temperature == 0 means argmax. Returns start + generated.
    """
    if not start:
        raise ValueError("start must be a non-empty string")
    if int(length) < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if float(temperature) < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    state, logits = None, None
    for i in vocab.encode(start):
        logits, state = model_step(int(i), state)
    out = []
    for _ in range(int(length)):
        z = np.asarray(logits, dtype=np.float64).reshape(-1)
        if float(temperature) == 0.0:
            nxt = int(np.argmax(z))
        else:
            z = z / float(temperature)
            p = np.exp(z - z.max())
            p /= p.sum()
            nxt = int(rng.choice(len(p), p=p))
        out.append(nxt)
        logits, state = model_step(nxt, state)
    return start + vocab.decode(np.array(out, dtype=np.int64))
