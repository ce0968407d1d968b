"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- lstm_step_forward is torch.nn.LSTMCell, lstm_forward is torch.nn.LSTM(batch_first=True), both loaded with the
  given weights; the backward passes are autograd
- parameter_count counts the parameters of torch.nn.LSTM itself
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


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


def _load(module, names, arrays):
    with torch.no_grad():
        for name, a in zip(names, arrays):
            getattr(module, name).copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return module


def _autograd(outs, inputs, grads):
    grads = torch.autograd.grad(outs, inputs, [torch.from_numpy(np.ascontiguousarray(g)) for g in grads],
                                allow_unused=True, retain_graph=True)  # backward may be called twice on one forward
    return tuple(np.zeros(tuple(i.shape), dtype=np.dtype(str(i.dtype).split(".")[1])) if g is None
                 else g.numpy() for g, i in zip(grads, inputs))


def lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step by torch.nn.LSTMCell: x_t (N, D), h_prev, c_prev (N, H) -> h (N, H), c (N, H), cache."""
    weight_ih, weight_hh, bias_ih, bias_hh, D, H = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev, c_prev = np.asarray(x_t), np.asarray(h_prev), np.asarray(c_prev)
    if x_t.ndim != 2 or x_t.shape[1] != D:
        raise ValueError(f"x_t must have shape (N, {D}), got {x_t.shape}")
    for name, s in (("h_prev", h_prev), ("c_prev", c_prev)):
        if s.shape != (x_t.shape[0], H):
            raise ValueError(f"{name} must have shape ({x_t.shape[0]}, {H}), got {s.shape}")
    dtype = _dtype(x_t, h_prev, c_prev, weight_ih, weight_hh)
    with one_torch_thread():
        cell = torch.nn.LSTMCell(D, H, dtype=getattr(torch, dtype.name))
        _load(cell, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
              [a.astype(dtype) for a in (weight_ih, weight_hh, bias_ih, bias_hh)])
        xt, ht, ct = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (x_t, h_prev, c_prev))
        h, c = cell(xt, (ht, ct))
    inputs = [xt, ht, ct, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh]
    return h.detach().numpy().copy(), c.detach().numpy().copy(), (h, c, inputs)


def lstm_step_backward(dh, dc, cache):
    """dh, dc (N, H) -> dx_t, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh (autograd)."""
    h, c, inputs = cache
    dh, dc = np.asarray(dh), np.asarray(dc)
    for name, d in (("dh", dh), ("dc", dc)):
        if d.shape != tuple(h.shape):
            raise ValueError(f"{name} must have shape {tuple(h.shape)}, got {d.shape}")
    dtype = h.detach().numpy().dtype
    with one_torch_thread():
        return _autograd([h, c], inputs, [dh.astype(dtype), dc.astype(dtype)])


def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0, c0 (N, H) -> hs (N, T, H), c_n (N, H), cache, by torch.nn.LSTM(batch_first=True)."""
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
    with one_torch_thread():
        lstm = torch.nn.LSTM(D, H, batch_first=True, dtype=getattr(torch, dtype.name))
        _load(lstm, ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
              [a.astype(dtype) for a in (weight_ih, weight_hh, bias_ih, bias_hh)])
        xt = torch.tensor(x.astype(dtype), requires_grad=True)
        ht = torch.tensor(h0.astype(dtype)[None], requires_grad=True)
        ct = torch.tensor(c0.astype(dtype)[None], requires_grad=True)
        if N == 0:
            keep = 0 * xt.sum() + 0 * ht.sum() + 0 * ct.sum()
            hs, c_n = xt.new_zeros((0, T, H)) + keep, xt.new_zeros((1, 0, H)) + keep
        else:
            hs, (_, c_n) = lstm(xt, (ht, ct))
    params = [lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0]
    return hs.detach().numpy().copy(), c_n[0].detach().numpy().copy(), (hs, c_n, [xt, ht, ct] + params)


def lstm_backward(dhs, cache, dc_n=None):
    """dhs (N, T, H), dc_n (N, H) or None -> dx, dh0, dc0, dweight_ih, dweight_hh, dbias_ih, dbias_hh (autograd)."""
    hs, c_n, inputs = cache
    dhs = np.asarray(dhs)
    if dhs.shape != tuple(hs.shape):
        raise ValueError(f"dhs must have shape {tuple(hs.shape)}, got {dhs.shape}")
    dtype = hs.detach().numpy().dtype
    N, H = c_n.shape[1], c_n.shape[2]
    dc_n = np.zeros((N, H), dtype=dtype) if dc_n is None else np.asarray(dc_n)
    if dc_n.shape != (N, H):
        raise ValueError(f"dc_n must have shape {(N, H)}, got {dc_n.shape}")
    with one_torch_thread():
        dx, dh0, dc0, *grads = _autograd([hs, c_n], inputs, [dhs.astype(dtype), dc_n.astype(dtype)[None]])
    return (dx, dh0[0], dc0[0], *grads)


def parameter_count(input_size, hidden_size):
    """Number of trainable numbers of one LSTM layer, counted on torch.nn.LSTM itself."""
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    return int(sum(p.numel() for p in torch.nn.LSTM(int(input_size), int(hidden_size)).parameters()))


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


def _case(seed, N, T, D, H):
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    w = [rng.uniform(-bound, bound, size=s) for s in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))]
    x, h0, c0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H))
    dhs, dc_n = rng.standard_normal((N, T, H)), rng.standard_normal((N, H))
    return x, h0, c0, w, dhs, dc_n


def make_golden():
    """{file name: {array name: array}} for tests/golden/, float64, from torch.nn.LSTM and autograd."""
    files = {}
    for name, (seed, N, T, D, H) in {"lstm_small": (0, 2, 3, 4, 3), "lstm_long": (1, 3, 12, 5, 6),
                                      "lstm_one_step": (2, 4, 1, 3, 2)}.items():
        x, h0, c0, w, dhs, dc_n = _case(seed, N, T, D, H)
        hs, c_n, cache = lstm_forward(x, h0, c0, *w)
        dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = lstm_backward(dhs, cache, dc_n)
        files[name] = {"x": x, "h0": h0, "c0": c0, "weight_ih": w[0], "weight_hh": w[1], "bias_ih": w[2],
                       "bias_hh": w[3], "dhs": dhs, "dc_n": dc_n, "hs": hs, "c_n": c_n, "dx": dx, "dh0": dh0,
                       "dc0": dc0, "dweight_ih": dw_ih, "dweight_hh": dw_hh, "dbias_ih": db_ih, "dbias_hh": db_hh}
    sizes = np.array([(1, 1), (3, 2), (65, 128), (128, 256), (10, 7)])
    files["parameter_counts"] = {"sizes": sizes,
                                 "lstm": np.array([parameter_count(int(d), int(h)) for d, h in sizes]),
                                 "rnn": np.array([sum(p.numel() for p in torch.nn.RNN(int(d), int(h)).parameters())
                                                  for d, h in sizes])}
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 19 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    layer = LSTM(8, 16, rng=0)
    out, (h_n, c_n) = layer.forward(np.random.default_rng(1).standard_normal((4, 10, 8)).astype(np.float32))
    print("LSTM(8, 16):", out.shape, h_n.shape, c_n.shape, out.dtype, "parameters:", parameter_count(8, 16))
