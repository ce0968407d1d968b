"""
Level 4: PyTorch Reference Implementation
- Priority: An independent check: the same interface (NumPy in, NumPy out) on top of torch.nn.init and torch ops
- Constraints: Used only for verification, not the solution; torch is imported here and nowhere else
- Target: Pass every test; `python level04-pytorch-reference.py --make-golden` writes tests/golden/*.npz

Storage convention. torch.nn.Linear stores its weight as (out_features, in_features) and computes
x @ W.T + b; this curriculum stores W as (in_features, out_features) and computes x @ W + b. So the
initialisers below fill a torch tensor of shape (fan_out, fan_in), exactly as torch.nn.init sees a Linear
weight (torch reads fan_in = size(1), fan_out = size(0)), and return its transpose.

Random numbers. A NumPy Generator cannot drive torch.nn.init, so `rng` (Generator, int seed or None) is
used to draw one 63-bit seed for a torch.Generator. The same seed gives the same weights, and the weights
have the same statistics as levels 1-3, but they are different numbers.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from dlfs.reference import write_golden

# ----------------------------------------------------------------------------------------------------
# Conversions
# ----------------------------------------------------------------------------------------------------


def _to_torch(x, float_only=False) -> torch.Tensor:
    """NumPy/array-like -> torch tensor sharing memory where possible (integers -> float64 if float_only)."""
    x = np.asarray(x)
    if float_only and x.dtype.kind != "f":
        x = x.astype(np.float64)
    return torch.from_numpy(np.ascontiguousarray(x))


def _torch_dtype(dtype) -> torch.dtype:
    return torch.from_numpy(np.empty(0, dtype=dtype)).dtype


# ----------------------------------------------------------------------------------------------------
# Initialisation: torch.nn.init on a (fan_out, fan_in) tensor, returned transposed
# ----------------------------------------------------------------------------------------------------

def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """torch.nn.init.calculate_gain: linear/sigmoid/conv* 1, tanh 5/3, relu sqrt(2), selu 3/4,
    leaky_relu sqrt(2 / (1 + slope**2)) (slope = param, 0.01 when None). ValueError when unsupported."""
    return float(torch.nn.init.calculate_gain(nonlinearity, param))


def _check_fans(fan_in, fan_out, dtype) -> np.dtype:
    for name, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(fan, bool) or not isinstance(fan, (int, np.integer)) or fan < 1:
            raise ValueError(f"{name} must be a positive integer, got {fan!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"weights need a floating dtype, got {dtype}")
    return dtype


def _torch_init(fan_in, fan_out, rng, dtype, fill) -> np.ndarray:
    """Create the torch-layout weight (fan_out, fan_in), fill it with `fill(tensor, generator)`, return W.T."""
    dtype = _check_fans(fan_in, fan_out, dtype)
    seed = int(np.random.default_rng(rng).integers(0, 2 ** 63 - 1))
    generator = torch.Generator().manual_seed(seed)
    weight = torch.empty(int(fan_out), int(fan_in), dtype=_torch_dtype(dtype))
    with torch.no_grad():
        fill(weight, generator)
    return np.ascontiguousarray(weight.numpy().T)        # (fan_in, fan_out) for x @ W


def xavier_uniform(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """torch.nn.init.xavier_uniform_: U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)). (fan_in, fan_out)."""
    return _torch_init(fan_in, fan_out, rng, dtype,
                       lambda w, g: torch.nn.init.xavier_uniform_(w, gain=gain, generator=g))


def xavier_normal(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """torch.nn.init.xavier_normal_: N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out)). (fan_in, fan_out)."""
    return _torch_init(fan_in, fan_out, rng, dtype,
                       lambda w, g: torch.nn.init.xavier_normal_(w, gain=gain, generator=g))


def kaiming_uniform(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """torch.nn.init.kaiming_uniform_ (mode fan_in): bound = gain * sqrt(3 / fan_in). (fan_in, fan_out)."""
    calculate_gain(nonlinearity, a)                       # unsupported nonlinearity -> ValueError first
    return _torch_init(fan_in, fan_out, rng, dtype,
                       lambda w, g: torch.nn.init.kaiming_uniform_(w, a=a, mode="fan_in",
                                                                   nonlinearity=nonlinearity, generator=g))


def kaiming_normal(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """torch.nn.init.kaiming_normal_ (mode fan_in): std = gain / sqrt(fan_in). (fan_in, fan_out)."""
    calculate_gain(nonlinearity, a)
    return _torch_init(fan_in, fan_out, rng, dtype,
                       lambda w, g: torch.nn.init.kaiming_normal_(w, a=a, mode="fan_in",
                                                                  nonlinearity=nonlinearity, generator=g))


# ----------------------------------------------------------------------------------------------------
# Activations and softmax
# ----------------------------------------------------------------------------------------------------

def relu(x):
    """torch.relu, any shape; NaN stays NaN."""
    return torch.relu(_to_torch(x)).numpy()


def sigmoid(x):
    """torch.sigmoid (no overflow warnings), any shape."""
    return torch.sigmoid(_to_torch(x, float_only=True)).numpy()


def tanh(x):
    """torch.tanh, any shape."""
    return torch.tanh(_to_torch(x, float_only=True)).numpy()


def softmax(x, axis=-1):
    """torch.softmax along `axis`; an all -inf row is defined as all zeros (torch alone would give NaN)."""
    t = _to_torch(x, float_only=True)
    p = torch.softmax(t, dim=axis)
    all_masked = torch.isneginf(t).all(dim=axis, keepdim=True)
    return torch.where(all_masked, torch.zeros((), dtype=p.dtype), p).numpy()


def log_softmax(x, axis=-1):
    """torch.log_softmax along `axis`; an all -inf row is defined as all -inf (torch alone would give NaN)."""
    t = _to_torch(x, float_only=True)
    lp = torch.log_softmax(t, dim=axis)
    all_masked = torch.isneginf(t).all(dim=axis, keepdim=True)
    return torch.where(all_masked, torch.full((), -torch.inf, dtype=lp.dtype), lp).numpy()


# ----------------------------------------------------------------------------------------------------
# Linear layer and MLP
# ----------------------------------------------------------------------------------------------------

def linear(x, W, b):
    """x (N, D_in) @ W (D_in, D_out) + b (D_out,) -> (N, D_out), computed by torch.

    Raises ValueError naming both shapes when they do not fit.
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    if x.ndim != 2 or W.ndim != 2:
        raise ValueError(f"linear expects x (N, D_in) and W (D_in, D_out), got x {x.shape} and W {W.shape}")
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"x {x.shape} and W {W.shape} do not fit: x has {x.shape[1]} features "
                         f"but W expects {W.shape[0]} inputs")
    if b.shape != (W.shape[1],):
        raise ValueError(f"bias b {b.shape} does not fit W {W.shape}: expected b of shape ({W.shape[1]},)")
    dtype = np.result_type(x, W, b)                 # torch refuses mixed dtypes: promote like NumPy
    xt, Wt, bt = (_to_torch(a.astype(dtype, copy=False)) for a in (x, W, b))
    return torch.addmm(bt, xt, Wt).numpy()           # b + x @ W in one call


_ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}


class MLP:
    """A multi-layer perceptron, forward pass only: Linear -> act -> ... -> Linear (logits), run by torch.

    MLP([784, 256, 10]) has weights[0] (784, 256), weights[1] (256, 10) (NumPy arrays, x @ W layout)
    and zero biases. init: "kaiming" (kaiming_normal with the activation's gain), "xavier"
    (xavier_normal, gain 1), or a number s > 0 for N(0, s**2).
    forward reads self.weights / self.biases on every call, so you may replace them (e.g. load weights).
    """

    def __init__(self, layer_sizes, activation="relu", init="kaiming", seed=0, dtype=np.float64):
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or any(s < 1 for s in sizes):
            raise ValueError(f"layer_sizes needs at least an input and an output size, all >= 1, got {layer_sizes}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: use one of {sorted(_ACTIVATIONS)}")
        self.layer_sizes = tuple(sizes)
        self.activation = activation
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            self.weights.append(_init_weight(init, fan_in, fan_out, rng, self.dtype, activation))
            self.biases.append(np.zeros(fan_out, dtype=self.dtype))

    def _check_input(self, x) -> torch.Tensor:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.weights[0].shape[0]:
            raise ValueError(f"MLP expects x of shape (N, {self.weights[0].shape[0]}), got {x.shape}")
        return _to_torch(x)

    def _layers(self, x):
        """Yield the torch output of every layer (after its activation, except the last)."""
        h = self._check_input(x)
        act = _ACTIVATIONS[self.activation]
        last = len(self.weights) - 1
        with torch.no_grad():
            for i, (W, b) in enumerate(zip(self.weights, self.biases)):
                h = torch.addmm(_to_torch(b).to(h.dtype), h, _to_torch(W).to(h.dtype))
                if i < last:
                    h = act(h)
                yield h

    def forward(self, x) -> np.ndarray:
        """x (N, D_in) -> logits (N, D_out)."""
        *_, logits = self._layers(x)
        return logits.numpy()

    def hidden_activations(self, x) -> list:
        """The output of every hidden layer's activation: a list of (N, layer_sizes[i]) arrays, i = 1..L-1."""
        return [h.numpy() for h in self._layers(x)][:-1]

    def predict_proba(self, x) -> np.ndarray:
        """softmax of the logits: (N, D_out), each row sums to 1."""
        *_, logits = self._layers(x)
        return torch.softmax(logits, dim=-1).numpy()

    def num_parameters(self) -> int:
        """Total number of weights and biases."""
        return int(sum(W.size + b.size for W, b in zip(self.weights, self.biases)))


def _init_weight(init, fan_in, fan_out, rng, dtype, activation) -> np.ndarray:
    if isinstance(init, str):
        if init == "kaiming":
            return kaiming_normal(fan_in, fan_out, rng=rng, dtype=dtype, nonlinearity=activation)
        if init == "xavier":
            return xavier_normal(fan_in, fan_out, rng=rng, dtype=dtype)
        raise ValueError(f"unknown init {init!r}: use 'kaiming', 'xavier' or a positive number (the std)")
    if isinstance(init, (int, float)) and not isinstance(init, bool) and init > 0:
        return _torch_init(fan_in, fan_out, rng, dtype,
                           lambda w, g: torch.nn.init.normal_(w, 0.0, float(init), generator=g))
    raise ValueError(f"unknown init {init!r}: use 'kaiming', 'xavier' or a positive number (the std)")


# ----------------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------------


def make_golden() -> dict:
    """{file name: {array name: array}}: reference outputs computed by torch alone (not by the code above)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(5)
    f64 = torch.float64

    # Activations: a row of extremes (overflow territory for a naive sigmoid) and random rows
    extremes = torch.tensor([-1000.0, -50.0, -20.0, -1.0, -1e-3, 0.0, 1e-3, 1.0, 20.0, 50.0, 1000.0], dtype=f64)
    x_act = torch.cat([extremes[None], 3 * torch.randn(3, 11, generator=g, dtype=f64)])
    activations = {"x": x_act, "relu": torch.relu(x_act), "sigmoid": torch.sigmoid(x_act),
                   "tanh": torch.tanh(x_act)}

    # Softmax: random rows, a row of huge logits (1e4), a row with -inf entries; plus axis=0 and a 3-D case
    logits = 3 * torch.randn(6, 5, generator=g, dtype=f64)
    logits[4] = torch.tensor([1e4, 1e4 - 1, 1e4 - 3, -1e4, 0.0], dtype=f64)
    logits[5] = torch.tensor([0.0, -torch.inf, 2.0, -torch.inf, 1.0], dtype=f64)
    cols = 2 * torch.randn(4, 7, generator=g, dtype=f64)
    x3 = torch.randn(2, 3, 4, generator=g, dtype=f64)
    softmax_g = {"logits": logits, "softmax": torch.softmax(logits, -1), "log_softmax": torch.log_softmax(logits, -1),
                 "cols": cols, "softmax_axis0": torch.softmax(cols, 0),
                 "x3": x3, "softmax_axis1": torch.softmax(x3, 1), "log_softmax_axis1": torch.log_softmax(x3, 1)}

    # MLP: torch.nn layers (weight stored (out, in)), exported as W = weight.T for x @ W + b
    sizes = [6, 16, 16, 5]
    layers = [torch.nn.Linear(i, o, dtype=f64) for i, o in zip(sizes[:-1], sizes[1:])]
    x = torch.randn(8, 6, generator=g, dtype=f64)
    mlp = {"x": x}
    for k, layer in enumerate(layers):
        mlp[f"W{k}"] = layer.weight.detach().T
        mlp[f"b{k}"] = layer.bias.detach()
    with torch.no_grad():
        for name, act in (("relu", torch.nn.ReLU()), ("sigmoid", torch.nn.Sigmoid()), ("tanh", torch.nn.Tanh())):
            net = torch.nn.Sequential(layers[0], act, layers[1], act, layers[2])
            mlp[f"logits_{name}"] = net(x)
        mlp["proba_relu"] = torch.softmax(mlp["logits_relu"], -1)

    golden = {"activations": activations, "softmax": softmax_g, "mlp_forward": mlp}
    return {fname: {k: np.ascontiguousarray(v.numpy()) for k, v in arrays.items()} for fname, arrays in golden.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 05 PyTorch reference")
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    else:
        W = kaiming_normal(784, 100, rng=0)
        print(f"kaiming_normal(784, 100): shape {W.shape}, std {W.std():.4f} (formula {np.sqrt(2 / 784):.4f})")
        assert W.shape == (784, 100) and abs(W.std() / np.sqrt(2 / 784) - 1) < 0.03
        p = softmax(np.array([[1e4, 0.0, -1e4], [-np.inf, -np.inf, -np.inf]]))
        print("softmax:\n", p)
        assert np.allclose(p, [[1, 0, 0], [0, 0, 0]])
        model = MLP([4, 8, 8, 3], seed=0)
        out = model.forward(np.random.default_rng(1).standard_normal((5, 4)))
        print(f"MLP {model.layer_sizes}: logits {out.shape}, {model.num_parameters()} parameters")
        assert out.shape == (5, 3) and model.num_parameters() == 139
        print("level 4 self-test passed")
