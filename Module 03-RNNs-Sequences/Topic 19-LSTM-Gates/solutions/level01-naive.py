"""
Level 1: naive, one sample and one gate at a time
- The weights are cut into the four gates of PyTorch's layout (rows 0:H input, H:2H forget, 2H:3H candidate,
  3H:4H output)
- Each sample of the batch goes through its own loop, with one small matrix-vector product per gate and weight
- The backward pass follows the same loops in reverse, node by node, naming every intermediate; through time it
  carries TWO gradients, dh and dc
Correctness first: readable, and slow.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


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
    if weight_hh.ndim != 2 or weight_hh.shape[0] != 4 * weight_hh.shape[1] or weight_hh.shape[1] < 1:
        raise ValueError(f"weight_hh must have shape (4*H, H), got {weight_hh.shape}")
    H = weight_hh.shape[1]
    if weight_ih.ndim != 2 or weight_ih.shape[0] != 4 * H:
        raise ValueError(f"weight_ih must have shape (4*H, D) = ({4 * H}, D), got {weight_ih.shape}")
    for name, b in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if b.shape != (4 * H,):
            raise ValueError(f"{name} must have shape ({4 * H},), got {b.shape} (no broadcasting)")
    return weight_ih, weight_hh, bias_ih, bias_hh, weight_ih.shape[1], H


def _dtype(x, *arrays):
    dtype = np.result_type(x, *arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step: x_t (N, D), h_prev (N, H), c_prev (N, H) -> h (N, H), c (N, H), cache."""
    weight_ih, weight_hh, bias_ih, bias_hh, D, H = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev, c_prev = np.asarray(x_t), np.asarray(h_prev), np.asarray(c_prev)
    if x_t.ndim != 2 or x_t.shape[1] != D:
        raise ValueError(f"x_t must have shape (N, {D}), got {x_t.shape}")
    for name, s in (("h_prev", h_prev), ("c_prev", c_prev)):
        if s.shape != (x_t.shape[0], H):
            raise ValueError(f"{name} must have shape ({x_t.shape[0]}, {H}), got {s.shape}")
    dtype = _dtype(x_t, h_prev, c_prev, weight_ih, weight_hh)
    x_t, h_prev, c_prev = (a.astype(dtype, copy=False) for a in (x_t, h_prev, c_prev))
    w_ih, w_hh = weight_ih.astype(dtype, copy=False), weight_hh.astype(dtype, copy=False)
    b_ih, b_hh = bias_ih.astype(dtype, copy=False), bias_hh.astype(dtype, copy=False)
    # PyTorch's layout: row block k of every weight and bias belongs to gate k, in the order i, f, g, o
    W_ii, W_if, W_ig, W_io = (w_ih[k * H:(k + 1) * H] for k in range(4))
    W_hi, W_hf, W_hg, W_ho = (w_hh[k * H:(k + 1) * H] for k in range(4))
    b_ii, b_if, b_ig, b_io = (b_ih[k * H:(k + 1) * H] for k in range(4))
    b_hi, b_hf, b_hg, b_ho = (b_hh[k * H:(k + 1) * H] for k in range(4))
    N = x_t.shape[0]
    h, c, i, f, g, o, tc = (np.empty((N, H), dtype=dtype) for _ in range(7))
    for n in range(N):
        xn, hn = x_t[n], h_prev[n]
        i[n] = _sigmoid(W_ii @ xn + b_ii + W_hi @ hn + b_hi)     # input gate
        f[n] = _sigmoid(W_if @ xn + b_if + W_hf @ hn + b_hf)     # forget gate
        g[n] = np.tanh(W_ig @ xn + b_ig + W_hg @ hn + b_hg)      # candidate
        o[n] = _sigmoid(W_io @ xn + b_io + W_ho @ hn + b_ho)     # output gate
        c[n] = f[n] * c_prev[n] + i[n] * g[n]                    # keep some of the old cell, write some new
        tc[n] = np.tanh(c[n])
        h[n] = o[n] * tc[n]                                      # show some of the squashed cell
    cache = (x_t, h_prev, c_prev, w_ih, w_hh, i, f, g, o, tc)
    return h, c, cache


def lstm_step_backward(dh, dc, cache):
    """dh, dc (N, H) -> dx_t, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh."""
    x_t, h_prev, c_prev, w_ih, w_hh, i, f, g, o, tc = cache
    dh, dc = np.asarray(dh), np.asarray(dc)
    for name, d in (("dh", dh), ("dc", dc)):
        if d.shape != h_prev.shape:
            raise ValueError(f"{name} must have shape {h_prev.shape}, got {d.shape}")
    dh, dc = dh.astype(h_prev.dtype, copy=False), dc.astype(h_prev.dtype, copy=False)
    N, H = h_prev.shape
    dx, dh_prev, dc_prev = np.zeros_like(x_t), np.zeros_like(h_prev), np.zeros_like(c_prev)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros(4 * H, dtype=dh.dtype), np.zeros(4 * H, dtype=dh.dtype)
    for n in range(N):
        # h = o * tanh(c)
        do = dh[n] * tc[n]
        dc_n = dc[n] + dh[n] * o[n] * (1 - tc[n] ** 2)           # plus the dc coming from step t + 1
        # c = f * c_prev + i * g
        df = dc_n * c_prev[n]
        di = dc_n * g[n]
        dg = dc_n * i[n]
        dc_prev[n] = dc_n * f[n]
        # through the nonlinearities: sigmoid' = s (1 - s), tanh' = 1 - tanh^2
        da_i = di * i[n] * (1 - i[n])
        da_f = df * f[n] * (1 - f[n])
        da_g = dg * (1 - g[n] ** 2)
        da_o = do * o[n] * (1 - o[n])
        for k, da in enumerate((da_i, da_f, da_g, da_o)):
            rows = slice(k * H, (k + 1) * H)
            dx[n] += w_ih[rows].T @ da
            dh_prev[n] += w_hh[rows].T @ da
            dw_ih[rows] += np.outer(da, x_t[n])
            dw_hh[rows] += np.outer(da, h_prev[n])
            db_ih[rows] += da
            db_hh[rows] += da
    return dx, dh_prev, dc_prev, dw_ih, dw_hh, db_ih, db_hh


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0 (N, H), c0 (N, H) -> hs (N, T, H), c_n (N, H), cache."""
    weight_ih, weight_hh, bias_ih, bias_hh, D, H = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x, h0, c0 = np.asarray(x), np.asarray(h0), np.asarray(c0)
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"x must have shape (N, T, {D}) (batch first), got {x.shape}")
    N, T, _ = x.shape
    if T == 0:
        raise ValueError("x has a sequence of length 0: an LSTM needs T >= 1")
    for name, s in (("h0", h0), ("c0", c0)):
        if s.shape != (N, H):
            raise ValueError(f"{name} must have shape ({N}, {H}), got {s.shape}")
    dtype = _dtype(x, h0, c0, weight_ih, weight_hh)
    hs = np.empty((N, T, H), dtype=dtype)
    caches, h, c = [], h0, c0
    for t in range(T):
        h, c, cache = lstm_step_forward(x[:, t, :], h, c, weight_ih, weight_hh, bias_ih, bias_hh)
        hs[:, t, :] = h
        caches.append(cache)
    return hs, c, (caches, D)


def lstm_backward(dhs, cache, dc_n=None):
    """dhs (N, T, H), dc_n (N, H) or None -> dx (N, T, D), dh0, dc0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh."""
    caches, D = cache
    h0, w_ih, w_hh = caches[0][1], caches[0][3], caches[0][4]
    N, H, T = h0.shape[0], h0.shape[1], len(caches)
    dhs = np.asarray(dhs)
    if dhs.shape != (N, T, H):
        raise ValueError(f"dhs must have shape {(N, T, H)}, got {dhs.shape}")
    dtype = h0.dtype
    dc_next = np.zeros((N, H), dtype=dtype)
    if dc_n is not None:
        dc_n = np.asarray(dc_n)
        if dc_n.shape != (N, H):
            raise ValueError(f"dc_n must have shape {(N, H)}, got {dc_n.shape}")
        dc_next = dc_next + dc_n
    dx = np.empty((N, T, D), dtype=dtype)
    dw_ih, dw_hh = np.zeros_like(w_ih), np.zeros_like(w_hh)
    db_ih, db_hh = np.zeros(4 * H, dtype=dtype), np.zeros(4 * H, dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)
    for t in reversed(range(T)):
        dxt, dh_next, dc_next, a, b, c, d = lstm_step_backward(dhs[:, t, :].astype(dtype, copy=False) + dh_next,
                                                               dc_next, caches[t])
        dx[:, t, :] = dxt
        dw_ih += a
        dw_hh += b
        db_ih += c
        db_hh += d
    return dx, dh_next, dc_next, dw_ih, dw_hh, db_ih, db_hh


def parameter_count(input_size, hidden_size):
    """Number of trainable numbers of one torch.nn.LSTM layer (both bias vectors included)."""
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    return int(4 * hidden_size * (input_size + hidden_size) + 2 * 4 * hidden_size)


class LSTM:
    """One LSTM layer, batch first, PyTorch's weights: weight_ih (4H, D), weight_hh (4H, H), bias_ih, bias_hh (4H,)."""

    NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, input_size, hidden_size, rng=None, dtype=np.float32):
        for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        rng = np.random.default_rng(rng)
        bound = 1.0 / np.sqrt(hidden_size)
        H, D = self.hidden_size, self.input_size
        shapes = {"weight_ih": (4 * H, D), "weight_hh": (4 * H, H), "bias_ih": (4 * H,), "bias_hh": (4 * H,)}
        for name in self.NAMES:
            setattr(self, name, Parameter(rng.uniform(-bound, bound, size=shapes[name]).astype(dtype)))
        self.training = True
        self.dh0 = self.dc0 = None
        self._cache = None

    def parameters(self):
        return [self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def forward(self, x, state=None):
        """x (N, T, D), state (h0, c0) or None (zeros) -> out (N, T, H), (h_n, c_n)."""
        x = np.asarray(x)
        if x.ndim != 3:
            raise ValueError(f"x must have shape (N, T, {self.input_size}), got {x.shape}")
        if state is None:
            zeros = np.zeros((x.shape[0], self.hidden_size), dtype=self.weight_hh.data.dtype)
            state = (zeros, zeros)
        if not isinstance(state, (tuple, list)) or len(state) != 2:
            raise ValueError("state must be None or a pair (h0, c0), as forward returns it")
        out, c_n, self._cache = lstm_forward(x, state[0], state[1], self.weight_ih.data, self.weight_hh.data,
                                             self.bias_ih.data, self.bias_hh.data)
        return out, (out[:, -1, :].copy(), c_n)

    def backward(self, dout, dh_n=None, dc_n=None):
        """dout (N, T, H), dh_n, dc_n (N, H) or None -> dx; ADDS into the .grad of the parameters, keeps dh0, dc0."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        dout = np.asarray(dout)
        if dh_n is not None:
            dh_n = np.asarray(dh_n)
            if dout.ndim != 3 or dh_n.shape != (dout.shape[0], dout.shape[2]):
                raise ValueError(f"dh_n must have shape (N, H) = {dout.shape[::2]}, got {dh_n.shape}")
            dout = dout.copy()
            dout[:, -1, :] += dh_n
        dx, self.dh0, self.dc0, *grads = lstm_backward(dout, self._cache, dc_n)
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
