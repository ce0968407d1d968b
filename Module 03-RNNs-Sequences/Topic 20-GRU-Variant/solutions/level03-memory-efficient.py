"""
Level 3: memory-efficient and fast
- The input projection does not depend on the hidden state: it is ONE matrix product for all N * T inputs
  before the loop (gi = x @ W_ih.T + b_ih, (N, T, 3H)); the loop is left with h @ W_hh.T only
- Gates and products are written into buffers allocated once per call (`out=`), and the cache holds only
  r, z, n and W_hn h + b_hn per step (4 * N * T * H numbers) besides x and the states
- The backward pass writes the gate gradients of every step into one (N, T, 3H) buffer, and turns them into
  dx, dweight_ih and dbias_ih with one product each after the loop
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
    gi = x_t @ w_ih.T + bias_ih.astype(dtype, copy=False)     # (N, 3H): [i_r | i_z | i_n]
    gh = h_prev @ w_hh.T + bias_hh.astype(dtype, copy=False)  # (N, 3H): [h_r | h_z | h_n], h_n includes b_hn
    r = _sigmoid(gi[:, :H] + gh[:, :H])
    z = _sigmoid(gi[:, H:2 * H] + gh[:, H:2 * H])
    hn = gh[:, 2 * H:]
    n = np.tanh(gi[:, 2 * H:] + r * hn)
    h = (1 - z) * n + z * h_prev
    cache = (x_t, h_prev, w_ih, w_hh, r, z, n, hn)
    return h, cache


def gru_step_backward(dh, cache):
    """dh (N, H) -> dx_t, dh_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh."""
    x_t, h_prev, w_ih, w_hh, r, z, n, hn = cache
    dh = np.asarray(dh)
    if dh.shape != h_prev.shape:
        raise ValueError(f"dh must have shape {h_prev.shape}, got {dh.shape}")
    dh = dh.astype(h_prev.dtype, copy=False)
    dn = dh * (1 - z)
    dz = dh * (h_prev - n)
    dan = dn * (1 - n * n)           # through tanh
    dr = dan * hn
    dar = dr * r * (1 - r)           # through the sigmoids
    daz = dz * z * (1 - z)
    dgi = np.concatenate([dar, daz, dan], axis=1)
    dgh = np.concatenate([dar, daz, dan * r], axis=1)  # r multiplies (W_hn h + b_hn): both get dan * r
    dx = dgi @ w_ih
    dh_prev = dh * z + dgh @ w_hh
    return dx, dh_prev, dgi.T @ x_t, dgh.T @ h_prev, dgi.sum(axis=0), dgh.sum(axis=0)


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
    x = x.astype(dtype, copy=False)
    w_ih, w_hh = weight_ih.astype(dtype, copy=False), weight_hh.astype(dtype, copy=False)
    b_hh = bias_hh.astype(dtype, copy=False)
    # all input projections at once: ONE (N*T, D) @ (D, 3H) product (x made contiguous first: BLAS needs it)
    x = np.ascontiguousarray(x)
    gi = (x.reshape(N * T, D) @ w_ih.T).reshape(N, T, 3 * H)
    gi += bias_ih.astype(dtype, copy=False)
    gi = gi.transpose(1, 0, 2)                      # a time-major VIEW: gi[t] is (N, 3H), read elementwise only
    hs = np.empty((T + 1, N, H), dtype=dtype)       # hs[0] = h0, hs[t + 1] = h after step t
    hs[0] = h0
    r, z, n, hn = (np.empty((T, N, H), dtype=dtype) for _ in range(4))
    gh = np.empty((N, 3 * H), dtype=dtype)
    for t in range(T):
        h = hs[t]
        np.matmul(h, w_hh.T, out=gh)
        gh += b_hh
        rt, zt, nt = r[t], z[t], n[t]
        np.add(gi[t, :, :H], gh[:, :H], out=rt)
        np.add(gi[t, :, H:2 * H], gh[:, H:2 * H], out=zt)
        for a in (rt, zt):                          # sigmoid in place: 1 / (1 + exp(-a)), overflow-safe
            np.negative(a, out=a)
            np.minimum(a, 80 if dtype == np.float32 else 700, out=a)
            np.exp(a, out=a)
            a += 1
            np.reciprocal(a, out=a)
        hn[t] = gh[:, 2 * H:]
        np.multiply(rt, hn[t], out=nt)
        nt += gi[t, :, 2 * H:]
        np.tanh(nt, out=nt)
        # h' = n + z * (h - n)  ==  (1 - z) * n + z * h
        out = hs[t + 1]
        np.subtract(h, nt, out=out)
        out *= zt
        out += nt
    cache = (x, hs, w_ih, w_hh, r, z, n, hn)
    return hs[1:].transpose(1, 0, 2), cache


def gru_backward(dhs, cache):
    """dhs (N, T, H) -> dx (N, T, D), dh0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh."""
    x, hs, w_ih, w_hh, r, z, n, hn = cache
    T, N, H = r.shape
    dhs = np.asarray(dhs)
    if dhs.shape != (N, T, H):
        raise ValueError(f"dhs must have shape {(N, T, H)}, got {dhs.shape}")
    dtype = hs.dtype
    dgi_bt = np.empty((N, T, 3 * H), dtype=dtype)   # batch-major, as x: one product each after the loop
    dgi = dgi_bt.transpose(1, 0, 2)                   # time-major view, written step by step
    dgh = np.empty((N, 3 * H), dtype=dtype)
    dw_hh = np.zeros_like(w_hh)
    db_hh = np.zeros(3 * H, dtype=dtype)
    dh = np.zeros((N, H), dtype=dtype)
    tmp = np.empty((N, H), dtype=dtype)
    for t in reversed(range(T)):
        dh += dhs[:, t, :]
        rt, zt, nt = r[t], z[t], n[t]
        da_r, da_z, da_n = dgi[t, :, :H], dgi[t, :, H:2 * H], dgi[t, :, 2 * H:]
        # dn = dh * (1 - z); da_n = dn * (1 - n^2)
        np.subtract(1, zt, out=da_n)
        da_n *= dh
        np.multiply(nt, nt, out=tmp)
        np.subtract(1, tmp, out=tmp)
        da_n *= tmp
        # dz = dh * (h_prev - n); da_z = dz * z * (1 - z)
        np.subtract(hs[t], nt, out=da_z)
        da_z *= dh
        np.subtract(1, zt, out=tmp)
        tmp *= zt
        da_z *= tmp
        # dr = da_n * hn; da_r = dr * r * (1 - r)
        np.multiply(da_n, hn[t], out=da_r)
        np.subtract(1, rt, out=tmp)
        tmp *= rt
        da_r *= tmp
        dgh[:, :2 * H] = dgi[t, :, :2 * H]
        np.multiply(da_n, rt, out=dgh[:, 2 * H:])
        dw_hh += dgh.T @ hs[t]
        db_hh += dgh.sum(axis=0)
        dh *= zt                                    # the direct path z * h_prev ...
        dh += dgh @ w_hh                            # ... and the paths through the gates
    flat = dgi_bt.reshape(N * T, 3 * H)
    D = w_ih.shape[1]
    dx = (flat @ w_ih).reshape(N, T, D)
    dw_ih = flat.T @ x.reshape(N * T, D)
    return dx, dh, dw_ih, dw_hh, flat.sum(axis=0), db_hh


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
