"""
Level 1: naive, one sample and one gate at a time
- The weights are cut into the three gates of PyTorch's layout (rows 0:H reset, H:2H update, 2H:3H new)
- Each sample of the batch goes through its own loop, with one small matrix-vector product per gate
- The backward pass follows the same loops in reverse, node by node, naming every intermediate
Correctness first: readable, and slow.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


def _sigmoid(a):
    # split by sign so that exp never overflows (a = -1000 gives 0, not a warning)
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _check_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    """(weight_ih, weight_hh, bias_ih, bias_hh, D, H) as arrays; ValueError on any inconsistent shape."""
    weight_ih, weight_hh = np.asarray(weight_ih), np.asarray(weight_hh)
    bias_ih, bias_hh = np.asarray(bias_ih), np.asarray(bias_hh)
    if weight_hh.ndim != 2 or weight_hh.shape[0] != 3 * weight_hh.shape[1] or weight_hh.shape[1] < 1:
        raise ValueError(f"weight_hh must have shape (3*H, H), got {weight_hh.shape}")
    H = weight_hh.shape[1]
    if weight_ih.ndim != 2 or weight_ih.shape[0] != 3 * H:
        raise ValueError(f"weight_ih must have shape (3*H, D) = ({3 * H}, D), got {weight_ih.shape}")
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b.shape != (3 * H,):
            raise ValueError(f"{name} must have shape ({3 * H},), got {b.shape} (no broadcasting)")
    return weight_ih, weight_hh, bias_ih, bias_hh, weight_ih.shape[1], H


def _dtype(x, *arrays):
    dtype = np.result_type(x, *arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step: x_t (N, D), h_prev (N, H) -> h (N, H), cache."""
    weight_ih, weight_hh, bias_ih, bias_hh, D, H = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev = np.asarray(x_t), np.asarray(h_prev)
    if x_t.ndim != 2 or x_t.shape[1] != D:
        raise ValueError(f"x_t must have shape (N, {D}), got {x_t.shape}")
    if h_prev.shape != (x_t.shape[0], H):
        raise ValueError(f"h_prev must have shape ({x_t.shape[0]}, {H}), got {h_prev.shape}")
    dtype = _dtype(x_t, h_prev, weight_ih, weight_hh)
    x_t, h_prev = x_t.astype(dtype, copy=False), h_prev.astype(dtype, copy=False)
    w_ih, w_hh = weight_ih.astype(dtype, copy=False), weight_hh.astype(dtype, copy=False)
    b_ih, b_hh = bias_ih.astype(dtype, copy=False), bias_hh.astype(dtype, copy=False)
    W_ir, W_iz, W_in = w_ih[:H], w_ih[H:2 * H], w_ih[2 * H:]
    W_hr, W_hz, W_hn = w_hh[:H], w_hh[H:2 * H], w_hh[2 * H:]
    b_ir, b_iz, b_in = b_ih[:H], b_ih[H:2 * H], b_ih[2 * H:]
    b_hr, b_hz, b_hn = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
    N = x_t.shape[0]
    h = np.empty((N, H), dtype=dtype)
    r, z, n, hn = (np.empty((N, H), dtype=dtype) for _ in range(4))
    for i in range(N):
        xi, hi = x_t[i], h_prev[i]
        r[i] = _sigmoid(W_ir @ xi + b_ir + W_hr @ hi + b_hr)         # reset gate
        z[i] = _sigmoid(W_iz @ xi + b_iz + W_hz @ hi + b_hz)         # update gate
        hn[i] = W_hn @ hi + b_hn                                    # hidden projection, with its bias ...
        n[i] = np.tanh(W_in @ xi + b_in + r[i] * hn[i])             # ... reset as a whole by r
        h[i] = (1 - z[i]) * n[i] + z[i] * hi                        # z keeps the old state
    cache = (x_t, h_prev, w_ih, w_hh, r, z, n, hn)
    return h, cache


def gru_step_backward(dh, cache):
    """dh (N, H) -> dx_t, dh_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh."""
    x_t, h_prev, w_ih, w_hh, r, z, n, hn = cache
    dh = np.asarray(dh)
    if dh.shape != h_prev.shape:
        raise ValueError(f"dh must have shape {h_prev.shape}, got {dh.shape}")
    dh = dh.astype(h_prev.dtype, copy=False)
    N, H = h_prev.shape
    dx, dh_prev = np.zeros_like(x_t), np.zeros_like(h_prev)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros(3 * H, dtype=dh.dtype), np.zeros(3 * H, dtype=dh.dtype)
    for i in range(N):
        # h = (1 - z) * n + z * h_prev
        dn = dh[i] * (1 - z[i])
        dz = dh[i] * (h_prev[i] - n[i])
        dh_prev[i] += dh[i] * z[i]
        # n = tanh(a_n), a_n = i_n + r * hn
        da_n = dn * (1 - n[i] ** 2)
        dr = da_n * hn[i]
        dhn = da_n * r[i]
        # r = sigmoid(a_r), z = sigmoid(a_z)
        da_r = dr * r[i] * (1 - r[i])
        da_z = dz * z[i] * (1 - z[i])
        for g, (d_in, d_hid) in enumerate(((da_r, da_r), (da_z, da_z), (da_n, dhn))):
            rows = slice(g * H, (g + 1) * H)
            dx[i] += w_ih[rows].T @ d_in
            dh_prev[i] += w_hh[rows].T @ d_hid
            dw_ih[rows] += np.outer(d_in, x_t[i])
            dw_hh[rows] += np.outer(d_hid, h_prev[i])
            db_ih[rows] += d_in
            db_hh[rows] += d_hid
    return dx, dh_prev, dw_ih, dw_hh, db_ih, db_hh


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0 (N, H) -> hs (N, T, H), cache."""
    weight_ih, weight_hh, bias_ih, bias_hh, D, H = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x, h0 = np.asarray(x), np.asarray(h0)
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"x must have shape (N, T, {D}) (batch first), got {x.shape}")
    N, T, _ = x.shape
    if T == 0:
        raise ValueError("x has a sequence of length 0: a GRU needs T >= 1")
    if h0.shape != (N, H):
        raise ValueError(f"h0 must have shape ({N}, {H}), got {h0.shape}")
    dtype = _dtype(x, h0, weight_ih, weight_hh)
    hs = np.empty((N, T, H), dtype=dtype)
    caches, h = [], h0
    for t in range(T):
        h, cache = gru_step_forward(x[:, t, :], h, weight_ih, weight_hh, bias_ih, bias_hh)
        hs[:, t, :] = h
        caches.append(cache)
    return hs, (caches, D)


def gru_backward(dhs, cache):
    """dhs (N, T, H) -> dx (N, T, D), dh0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh."""
    caches, D = cache
    x0, h0, w_ih, w_hh = caches[0][:4]
    N, H, T = h0.shape[0], h0.shape[1], len(caches)
    dhs = np.asarray(dhs)
    if dhs.shape != (N, T, H):
        raise ValueError(f"dhs must have shape {(N, T, H)}, got {dhs.shape}")
    dtype = h0.dtype
    dx = np.empty((N, T, D), dtype=dtype)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros(3 * H, dtype=dtype), np.zeros(3 * H, dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)
    for t in reversed(range(T)):
        dxt, dh_next, a, b, c, d = gru_step_backward(dhs[:, t, :].astype(dtype, copy=False) + dh_next, caches[t])
        dx[:, t, :] = dxt
        dw_ih += a
        dw_hh += b
        db_ih += c
        db_hh += d
    return dx, dh_next, dw_ih, dw_hh, db_ih, db_hh


def parameter_count(kind, input_size, hidden_size):
    """Number of trainable numbers of one torch.nn.RNN / LSTM / GRU layer (both biases included)."""
    if kind not in GATES:
        raise ValueError(f"kind must be one of {sorted(GATES)}, got {kind!r}")
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    G = GATES[kind]
    return int(G * hidden_size * (input_size + hidden_size) + 2 * G * hidden_size)


class GRU:
    """One GRU layer, batch first, PyTorch's weights: weight_ih (3H, D), weight_hh (3H, H), bias_ih, bias_hh (3H,)."""

    NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, input_size, hidden_size, rng=None, dtype=np.float32):
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(hidden_size)
        H, D = self.hidden_size, self.input_size
        shapes = {"weight_ih": (3 * H, D), "weight_hh": (3 * H, H), "bias_ih": (3 * H,), "bias_hh": (3 * H,)}
        for name in self.NAMES:
            setattr(self, name, Parameter(rng.uniform(-bound, bound, size=shapes[name]).astype(dtype)))
        self.training = True
        self.dh0 = None
        self._cache = None

    def parameters(self):
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x, h0=None):
        """x (N, T, D), h0 (N, H) or None (zeros) -> out (N, T, H), h_n (N, H)."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"x must have shape (N, T, {self.input_size}), got {x.shape}")
        if h0 is None:
            h0 = np.zeros((x.shape[0], self.hidden_size), dtype=self.weight_hh.data.dtype)
        out, self._cache = gru_forward(x, h0, self.weight_ih.data, self.weight_hh.data,
                                       self.bias_ih.data, self.bias_hh.data)
        return out, out[:, -1, :].copy()

    def backward(self, dout, dh_n=None):
        """dout (N, T, H), dh_n (N, H) or None -> dx; ADDS into the .grad of the parameters, keeps dh0."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        dout = np.asarray(dout)
        if dh_n is not None:
            dh_n = np.asarray(dh_n)
            if dout.ndim != 3 or dh_n.shape != (dout.shape[0], dout.shape[2]):
                raise ValueError(f"dh_n must have shape (N, H) = {dout.shape[::2]}, got {dh_n.shape}")
            dout = dout.copy()
            dout[:, -1, :] += dh_n
        dx, self.dh0, *grads = gru_backward(dout, self._cache)
        for p, g in zip(self.parameters(), grads):
            p.grad += g
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
