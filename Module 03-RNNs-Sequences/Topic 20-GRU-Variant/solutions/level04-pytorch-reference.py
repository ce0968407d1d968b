"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- gru_step_forward is torch.nn.GRUCell, gru_forward is torch.nn.GRU(batch_first=True), both loaded with the
  given weights; the backward passes are autograd
- parameter_count counts the parameters of torch.nn.RNN / LSTM / GRU themselves
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)

GATES = {"rnn": 1, "lstm": 4, "gru": 3}


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



def _load(module, names, arrays):
    with torch.no_grad():
        for name, a in zip(names, arrays):
            getattr(module, name).copy_(torch.from_numpy(np.ascontiguousarray(a)))
    return module


def _autograd(out, inputs, grad):
    grads = torch.autograd.grad(out, inputs, torch.from_numpy(np.ascontiguousarray(grad)), allow_unused=True,
                                retain_graph=True)  # backward may be called twice on one forward
    return tuple(np.zeros(tuple(i.shape), dtype=np.dtype(str(i.dtype).split(".")[1])) if g is None
                 else g.numpy() for g, i in zip(grads, inputs))


def gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step by torch.nn.GRUCell: x_t (N, D), h_prev (N, H) -> h (N, H), cache."""
    weight_ih, weight_hh, bias_ih, bias_hh, D, H = _check_weights(weight_ih, weight_hh, bias_ih, bias_hh)
    x_t, h_prev = np.asarray(x_t), np.asarray(h_prev)
    if x_t.ndim != 2 or x_t.shape[1] != D:
        raise ValueError(f"x_t must have shape (N, {D}), got {x_t.shape}")
    if h_prev.shape != (x_t.shape[0], H):
        raise ValueError(f"h_prev must have shape ({x_t.shape[0]}, {H}), got {h_prev.shape}")
    dtype = _dtype(x_t, h_prev, weight_ih, weight_hh)
    with one_torch_thread():
        cell = torch.nn.GRUCell(D, H, dtype=getattr(torch, dtype.name))
        _load(cell, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
              [a.astype(dtype) for a in (weight_ih, weight_hh, bias_ih, bias_hh)])
        xt = torch.tensor(x_t.astype(dtype), requires_grad=True)
        ht = torch.tensor(h_prev.astype(dtype), requires_grad=True)
        h = cell(xt, ht)
    return h.detach().numpy().copy(), (h, [xt, ht, cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh])


def gru_step_backward(dh, cache):
    """dh (N, H) -> dx_t, dh_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh (autograd)."""
    h, inputs = cache
    dh = np.asarray(dh)
    if dh.shape != tuple(h.shape):
        raise ValueError(f"dh must have shape {tuple(h.shape)}, got {dh.shape}")
    with one_torch_thread():
        return _autograd(h, inputs, dh.astype(h.detach().numpy().dtype))


def gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0 (N, H) -> hs (N, T, H), cache, by torch.nn.GRU(batch_first=True)."""
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
    with one_torch_thread():
        gru = torch.nn.GRU(D, H, batch_first=True, dtype=getattr(torch, dtype.name))
        _load(gru, ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"),
              [a.astype(dtype) for a in (weight_ih, weight_hh, bias_ih, bias_hh)])
        xt = torch.tensor(x.astype(dtype), requires_grad=True)
        ht = torch.tensor(h0.astype(dtype)[None], requires_grad=True)
        if N == 0:
            hs = xt.new_zeros((0, T, H)) + 0 * xt.sum() + 0 * ht.sum()
        else:
            hs, _ = gru(xt, ht)
    params = [gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0]
    return hs.detach().numpy().copy(), (hs, [xt, ht] + params)


def gru_backward(dhs, cache):
    """dhs (N, T, H) -> dx (N, T, D), dh0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh (autograd)."""
    hs, inputs = cache
    dhs = np.asarray(dhs)
    if dhs.shape != tuple(hs.shape):
        raise ValueError(f"dhs must have shape {tuple(hs.shape)}, got {dhs.shape}")
    with one_torch_thread():
        dx, dh0, *grads = _autograd(hs, inputs, dhs.astype(hs.detach().numpy().dtype))
    return (dx, dh0[0], *grads)


def parameter_count(kind, input_size, hidden_size):
    """Number of trainable numbers of one layer, counted on torch.nn.RNN / LSTM / GRU themselves."""
    if kind not in GATES:
        raise ValueError(f"kind must be one of {sorted(GATES)}, got {kind!r}")
    for name, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](int(input_size), int(hidden_size))
    return int(sum(p.numel() for p in module.parameters()))


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


def _case(seed, N, T, D, H):
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(H)
    w = [rng.uniform(-bound, bound, size=s) for s in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,))]
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    dhs = rng.standard_normal((N, T, H))
    return x, h0, w, dhs


def make_golden():
    """{file name: {array name: array}} for tests/golden/, float64, from torch.nn.GRU and autograd."""
    files = {}
    for name, (seed, N, T, D, H) in {"gru_small": (0, 2, 3, 4, 3), "gru_long": (1, 3, 12, 5, 6),
                                      "gru_one_step": (2, 4, 1, 3, 2)}.items():
        x, h0, w, dhs = _case(seed, N, T, D, H)
        hs, cache = gru_forward(x, h0, *w)
        dx, dh0, dw_ih, dw_hh, db_ih, db_hh = gru_backward(dhs, cache)
        files[name] = {"x": x, "h0": h0, "weight_ih": w[0], "weight_hh": w[1], "bias_ih": w[2], "bias_hh": w[3],
                       "dhs": dhs, "hs": hs, "dx": dx, "dh0": dh0, "dweight_ih": dw_ih, "dweight_hh": dw_hh,
                       "dbias_ih": db_ih, "dbias_hh": db_hh}
    sizes = np.array([(1, 1), (3, 2), (65, 128), (128, 256), (10, 7)])
    files["parameter_counts"] = {"sizes": sizes, **{kind: np.array([parameter_count(kind, int(d), int(h))
                                                                     for d, h in sizes]) for kind in GATES}}
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 20 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    layer = GRU(8, 16, rng=0)
    out, h_n = layer.forward(np.random.default_rng(1).standard_normal((4, 10, 8)).astype(np.float32))
    print("GRU(8, 16):", out.shape, h_n.shape, out.dtype,
          {k: parameter_count(k, 8, 16) for k in GATES})
