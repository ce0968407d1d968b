"""
Level 4: PyTorch Reference Implementation
- Priority: An independent check: the same interface (NumPy in, NumPy out) on torch.nn.functional and autograd
- Constraints: Used only for verification, not the solution; torch is imported here and nowhere else
- Target: Pass every test; `python level04-pytorch-reference.py --make-golden` writes tests/golden/*.npz

Every derivative here is computed by autograd (torch.autograd.grad of the sum of the activation), never from
a formula, so the golden files hold PyTorch's own conventions at the kinks: relu'(0) = 0,
leaky_relu'(0) = negative_slope, elu'(0) = alpha. erf is torch.erf, GELU is F.gelu (exact or tanh).

The weights of the initialisation experiments come from Topic 05's NumPy initialisers (one Generator per
network, as in levels 1-3), so all four levels see exactly the same networks; torch does the arithmetic.
The dead-ReLU experiment copies Topic 06's initial weights into torch.nn.Linear layers and trains them with
torch.optim.SGD and F.cross_entropy.
"""

from __future__ import annotations

import argparse
import math
from abc import ABC, abstractmethod

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

topic05 = load_topic(5)  # kaiming_normal / xavier_normal for the initialisation experiments
topic06 = load_topic(6)  # Linear: the initial weights of the dead-ReLU experiment


# ----------------------------------------------------------------------------------------------------
# Conversions
# ----------------------------------------------------------------------------------------------------

def _as_float(x) -> np.ndarray:
    """Floating arrays keep their dtype; integers, bools and Python numbers become float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _apply(fn, x) -> np.ndarray:
    """fn (a torch function) applied to x; NumPy in (any shape, 0-d too), NumPy out with x's float dtype."""
    x = _as_float(x)
    with torch.no_grad():
        return fn(torch.tensor(x)).numpy()


def _derivative(fn, x) -> np.ndarray:
    """d fn / dx elementwise by autograd: the gradient of sum(fn(x)) w.r.t. x (fn acts elementwise)."""
    x = _as_float(x)
    t = torch.tensor(x, requires_grad=True)
    (grad,) = torch.autograd.grad(fn(t).sum(), t)
    return grad.numpy()


def _check_approximate(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


# ----------------------------------------------------------------------------------------------------
# Activations and their derivatives
# ----------------------------------------------------------------------------------------------------

def relu(x):
    """F.relu."""
    return _apply(F.relu, x)


def relu_grad(x):
    """Autograd of F.relu: 0 at x == 0."""
    return _derivative(F.relu, x)


def leaky_relu(x, negative_slope=0.01):
    """F.leaky_relu."""
    return _apply(lambda t: F.leaky_relu(t, negative_slope), x)


def leaky_relu_grad(x, negative_slope=0.01):
    """Autograd of F.leaky_relu: negative_slope at x == 0."""
    return _derivative(lambda t: F.leaky_relu(t, negative_slope), x)


def elu(x, alpha=1.0):
    """F.elu."""
    return _apply(lambda t: F.elu(t, alpha), x)


def elu_grad(x, alpha=1.0):
    """Autograd of F.elu: alpha at x == 0."""
    return _derivative(lambda t: F.elu(t, alpha), x)


def _swish_torch(t, beta):
    return t * torch.sigmoid(beta * t)


def swish(x, beta=1.0):
    """x * torch.sigmoid(beta * x) (torch has no swish with a beta; F.silu is beta = 1)."""
    return _apply(lambda t: _swish_torch(t, beta), x)


def swish_grad(x, beta=1.0):
    """Autograd of x * sigmoid(beta * x)."""
    return _derivative(lambda t: _swish_torch(t, beta), x)


def silu(x):
    """F.silu."""
    return _apply(F.silu, x)


def silu_grad(x):
    """Autograd of F.silu."""
    return _derivative(F.silu, x)


def erf(x):
    """torch.erf."""
    return _apply(torch.erf, x)


GELU_SATURATION = 10.0  # x >= 10: GELU(x) = x exactly (both forms); x <= -10: tanh-GELU(x) = 0 exactly


def _gelu_torch(t, approximate):
    """F.gelu, with its input capped at +-GELU_SATURATION where the result is exactly x (or 0, tanh form).

    For huge finite inputs torch's kernels overflow: float32 F.gelu(3e38) is inf (x * (1 + erf) before * 0.5),
    and the tanh form's backward computes x^3 (inf for |x| > 1e102 in float64, then inf * 0 = NaN).
    """
    S = GELU_SATURATION
    if approximate == "none":   # the left tail is not 0 (gelu(-20) = -5.5e-88): only the right side is capped
        return torch.where(t <= S, F.gelu(t.clamp(max=S)), t)
    inside = F.gelu(t.clamp(-S, S), approximate="tanh")
    return torch.where(t.abs() <= S, inside, F.relu(t))


def gelu(x, approximate="none"):
    """F.gelu(x, approximate=...)."""
    _check_approximate(approximate)
    return _apply(lambda t: _gelu_torch(t, approximate), x)


def gelu_grad(x, approximate="none"):
    """Autograd of F.gelu."""
    _check_approximate(approximate)
    return _derivative(lambda t: _gelu_torch(t, approximate), x)


# ----------------------------------------------------------------------------------------------------
# Layer classes: forward records the autograd graph, backward asks autograd for dL/dx
# ----------------------------------------------------------------------------------------------------

class _TorchActivation(ABC):
    """A parameter-free layer around an elementwise torch function `self._fn`."""

    def __init__(self):
        self.training = True
        self._x = self._out = None

    @abstractmethod
    def _fn(self, t):
        """The subclass's elementwise torch function of the tensor t."""

    def forward(self, x):
        self._x = torch.tensor(_as_float(x), requires_grad=True)
        self._out = self._fn(self._x)
        return self._out.detach().numpy()

    def backward(self, dout):
        if self._x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = np.asarray(dout)
        if dout.shape != tuple(self._x.shape):
            raise ValueError(f"dout must have the shape of x {tuple(self._x.shape)}, got {dout.shape}")
        upstream = torch.tensor(dout, dtype=self._out.dtype)
        (dx,) = torch.autograd.grad(self._out, self._x, upstream, retain_graph=True)
        return dx.numpy()

    def parameters(self):
        return []

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self


class LeakyReLU(_TorchActivation):
    """torch.nn.LeakyReLU(negative_slope) behind the Layer protocol."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def _fn(self, t):
        return F.leaky_relu(t, self.negative_slope)

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class ELU(_TorchActivation):
    """torch.nn.ELU(alpha) behind the Layer protocol."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def _fn(self, t):
        return F.elu(t, self.alpha)

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"


class SiLU(_TorchActivation):
    """torch.nn.SiLU behind the Layer protocol."""

    def _fn(self, t):
        return F.silu(t)

    def __repr__(self):
        return "SiLU()"


class GELU(_TorchActivation):
    """torch.nn.GELU(approximate) behind the Layer protocol."""

    def __init__(self, approximate="none"):
        _check_approximate(approximate)
        super().__init__()
        self.approximate = approximate

    def _fn(self, t):
        return _gelu_torch(t, self.approximate)

    def __repr__(self):
        return f"GELU(approximate={self.approximate!r})"


# ----------------------------------------------------------------------------------------------------
# Dead neurons
# ----------------------------------------------------------------------------------------------------

def _check_batch(activations) -> torch.Tensor:
    a = np.asarray(activations)
    if a.ndim != 2:
        raise ValueError(f"activations must be a (N, H) batch (one row per sample, one column per unit), "
                         f"got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("an empty batch (N = 0) says nothing about which units are dead")
    return torch.as_tensor(a)


def find_dead_neurons(activations, threshold=0.0):
    """(N, H) -> (H,) bool: (a <= threshold).all(dim=0), the units that are off for every sample."""
    return (_check_batch(activations) <= threshold).all(dim=0).numpy()


def dead_neuron_fraction(activations, threshold=0.0):
    """Fraction of the H units that are dead on this batch."""
    mask = find_dead_neurons(activations, threshold)
    return float(mask.mean()) if mask.size else 0.0


def make_toy_classification(n=128, d=8, num_classes=3, seed=0):
    """X ~ N(0, 1) of shape (n, d), y = argmax(X @ W_teacher), W_teacher ~ N(0, 1) (NumPy, as levels 1-3)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal((d, num_classes))
    return X, np.argmax(X @ teacher, axis=1)


BURST_STEPS = 10
RECOVERY_STEPS = 100
RECOVERY_LR = 0.5


def _torch_linear(layer) -> torch.nn.Linear:
    """A float64 torch.nn.Linear holding a Topic 06 Linear's weights (torch stores the transpose)."""
    d_in, d_out = layer.weight.data.shape
    out = torch.nn.Linear(d_in, d_out, dtype=torch.float64)
    with torch.no_grad():
        out.weight.copy_(torch.from_numpy(layer.weight.data.T.copy()))
        out.bias.copy_(torch.from_numpy(layer.bias.data.copy()))
    return out


def dead_relu_experiment(lr=10.0, bias_init=0.0, negative_slope=0.1, seed=0):
    """The dead-ReLU experiment of levels 1-3 in torch (same data, same initial weights, same schedule)."""
    # 220 steps on (128, 32) tensors: one thread is fastest, and on a busy machine torch's thread pool
    # waiting for cores costs 100x the arithmetic (measured: 0.1 s with one thread, up to 16 s with two).
    with one_torch_thread():
        return _dead_relu_experiment(lr, bias_init, negative_slope, seed)


def _dead_relu_experiment(lr, bias_init, negative_slope, seed):
    X_np, y_np = make_toy_classification(n=128, d=8, num_classes=3, seed=seed)
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
    variants = (("relu", F.relu), ("leaky_relu", lambda t: F.leaky_relu(t, negative_slope)))
    results = {}
    for name, act in variants:
        rng = np.random.default_rng(seed + 1)
        first = _torch_linear(topic06.Linear(8, 32, rng=rng))
        last = _torch_linear(topic06.Linear(32, 3, rng=rng))
        with torch.no_grad():
            first.bias.fill_(bias_init)
        params = list(first.parameters()) + list(last.parameters())

        def pre_activations():
            with torch.no_grad():
                return first(X)

        def fraction(t):
            return float((t <= 0).all(dim=0).double().mean())

        stats = {"negative_at_init": fraction(pre_activations())}
        for phase_lr, steps in ((lr, BURST_STEPS), (RECOVERY_LR, RECOVERY_STEPS)):
            optimizer = torch.optim.SGD(params, lr=phase_lr)
            for _ in range(steps):
                optimizer.zero_grad()
                F.cross_entropy(last(act(first(X))), y).backward()
                optimizer.step()
            if "negative_after_burst" not in stats:
                stats["negative_after_burst"] = fraction(pre_activations())
        z = pre_activations().requires_grad_(True)
        (local_grad,) = torch.autograd.grad(act(z).sum(), z)      # the activation's derivative at every z
        stats["negative_at_end"] = fraction(z.detach())
        stats["dead_at_end"] = fraction(local_grad)
        with torch.no_grad():
            stats["loss_at_end"] = float(F.cross_entropy(last(act(first(X))), y))
        results[name] = stats
    return results


# ----------------------------------------------------------------------------------------------------
# Initialisation vs activation statistics
# ----------------------------------------------------------------------------------------------------

ACTIVATION_NAMES = ("relu", "leaky_relu", "elu", "silu", "gelu", "tanh")
_TORCH_ACTIVATIONS = {"relu": F.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.01), "elu": F.elu,
                      "silu": F.silu, "gelu": F.gelu, "tanh": torch.tanh}
_KAIMING_NONLINEARITY = {"relu": ("relu", 0.0), "leaky_relu": ("leaky_relu", 0.01), "elu": ("relu", 0.0),
                         "silu": ("relu", 0.0), "gelu": ("relu", 0.0), "tanh": ("tanh", 0.0)}


def _init_weight(init, fan_in, fan_out, rng, dtype, activation):
    if isinstance(init, str):
        if init == "kaiming":
            nonlinearity, a = _KAIMING_NONLINEARITY[activation]
            return topic05.kaiming_normal(fan_in, fan_out, rng=rng, dtype=dtype, nonlinearity=nonlinearity, a=a)
        if init == "xavier":
            return topic05.xavier_normal(fan_in, fan_out, rng=rng, dtype=dtype)
    elif isinstance(init, (int, float)) and not isinstance(init, bool) and init > 0:
        return rng.normal(0.0, float(init), size=(fan_in, fan_out)).astype(dtype, copy=False)
    raise ValueError(f"unknown init {init!r}: use 'kaiming', 'xavier' or a positive number (the std)")


def forward_activations(layer_sizes, activation, init, x, seed=0):
    """Every layer's activations act(h @ W + b), computed by torch with Topic 05's NumPy weights."""
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"layer_sizes needs at least an input and one layer size, all >= 1, got {layer_sizes}")
    if activation not in _TORCH_ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}: use one of {ACTIVATION_NAMES}")
    x = _as_float(x)
    if x.ndim != 2 or x.shape[1] != sizes[0]:
        raise ValueError(f"x must be (N, {sizes[0]}) for layer_sizes {sizes}, got shape {x.shape}")
    rng = np.random.default_rng(seed)
    act = _TORCH_ACTIVATIONS[activation]
    h, outputs = torch.tensor(x), []
    with torch.no_grad():
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            W = torch.from_numpy(_init_weight(init, fan_in, fan_out, rng, x.dtype, activation))
            h = act(h @ W)                                  # biases are 0
            outputs.append(h.numpy())
    return outputs


def activation_statistics(layer_sizes, activation, init, x, seed=0):
    """[(mean, std)] per layer; torch.std(unbiased=False) is NumPy's population std."""
    if np.shape(x)[:1] == (0,):
        raise ValueError("activation statistics of an empty batch are undefined")
    return [(float(torch.from_numpy(h).mean()), float(torch.from_numpy(h).std(unbiased=False)))
            for h in forward_activations(layer_sizes, activation, init, x, seed)]


def compare_initializations(activations=("relu", "tanh"), inits=("xavier", "kaiming", 1.0), depth=10,
                            width=256, batch=1000, seed=0):
    """{(activation, init): [(mean, std) per layer]} with x = default_rng(seed + 1).standard_normal((batch, width))."""
    x = np.random.default_rng(seed + 1).standard_normal((batch, width))
    sizes = [width] * (depth + 1)
    return {(act, init): activation_statistics(sizes, act, init, x, seed=seed) for act in activations for init in inits}


# ----------------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------------

def make_golden() -> dict:
    """{file name: {array name: array}}: reference values computed by torch alone (not by the code above)."""
    g = torch.Generator().manual_seed(7)
    f64 = torch.float64
    special = [-1000.0, -100.0, -40.0, -20.0, -10.0, -8.0, -6.0, -5.0, -4.0, -3.0, -2.5, -2.0, -1.5, -1.0,
               -0.75, -0.5, -0.25, -0.1, -1e-3, -1e-8, -1e-300, 0.0, 1e-300, 1e-8, 1e-3, 0.1, 0.25, 0.5, 0.75,
               1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 20.0, 40.0, 100.0, 1000.0]
    x = torch.cat([torch.tensor(special, dtype=f64), 3 * torch.randn(24, generator=g, dtype=f64)])

    cases = {
        "relu": F.relu,
        "leaky_relu": F.leaky_relu,                                   # negative_slope 0.01
        "leaky_relu_slope02": lambda t: F.leaky_relu(t, 0.2),
        "elu": F.elu,                                                 # alpha 1
        "elu_alpha13": lambda t: F.elu(t, 1.3),
        "elu_alpha05": lambda t: F.elu(t, 0.5),
        "silu": F.silu,
        "swish_beta15": lambda t: t * torch.sigmoid(1.5 * t),
        "gelu": F.gelu,
        "gelu_tanh": lambda t: F.gelu(t, approximate="tanh"),
        "erf": torch.erf,
    }
    with_float32 = ("elu", "silu", "gelu", "gelu_tanh", "erf")     # where float32 arithmetic matters
    x32 = x[(x.abs() <= 50)].to(torch.float32)                       # float32: moderate values
    activations = {"x": x, "x32": x32}
    # The float32 references are the float64 results at the float32 inputs, rounded to float32: what a float32
    # implementation should approach, and the same on every machine. (torch's own float32 kernels differ from
    # one build or CPU to another in the last bits, where 1 + erf(x) cancels in the GELU's left tail.)
    for name, fn in cases.items():
        for suffix, inp in (("", x), ("_f32", x32)) if name in with_float32 else (("", x),):
            t = inp.to(f64, copy=True).requires_grad_(True)
            out = fn(t)
            (grad,) = torch.autograd.grad(out.sum(), t)
            activations[f"{name}{suffix}"] = out.detach().to(inp.dtype)
            if name != "erf":
                activations[f"{name}_grad{suffix}"] = grad.to(inp.dtype)

    # Layers: forward and dx = dL/dx for a random upstream gradient, torch.nn modules and autograd
    xl = 2 * torch.randn(6, 7, generator=g, dtype=f64)
    xl[0, :3] = torch.tensor([0.0, 1e-3, -1e-3], dtype=f64)
    dout = torch.randn(6, 7, generator=g, dtype=f64)
    layers = {"x": xl, "dout": dout}
    modules = {"leaky_relu_02": torch.nn.LeakyReLU(0.2), "elu_13": torch.nn.ELU(1.3), "silu": torch.nn.SiLU(),
               "gelu": torch.nn.GELU(), "gelu_tanh": torch.nn.GELU(approximate="tanh")}
    for name, module in modules.items():
        t = xl.clone().requires_grad_(True)
        out = module(t)
        (dx,) = torch.autograd.grad(out, t, dout)
        layers[f"{name}_out"] = out.detach()
        layers[f"{name}_dx"] = dx

    golden = {"activations": activations, "layers": layers}
    return {fname: {k: np.ascontiguousarray(v.numpy()) for k, v in arrays.items()} for fname, arrays in golden.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 07 PyTorch reference")
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    else:
        x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
        print("gelu       :", np.round(gelu(x), 4), " gelu'      :", np.round(gelu_grad(x), 4))
        print("leaky'(0.2):", leaky_relu_grad(x, 0.2), " elu'(alpha=0.5):", np.round(elu_grad(x, 0.5), 4))
        assert relu_grad(0.0) == 0 and leaky_relu_grad(0.0, 0.2) == np.float64(0.2) and elu_grad(0.0, 0.5) == 0.5
        assert abs(float(erf(1.0)) - math.erf(1.0)) < 1e-15
        result = dead_relu_experiment(lr=10.0)
        print(f"lr = 10: ReLU units dead {result['relu']['dead_at_end']:.2f}, "
              f"LeakyReLU units dead {result['leaky_relu']['dead_at_end']:.2f}")
        assert result["relu"]["dead_at_end"] > 0.25 and result["leaky_relu"]["dead_at_end"] == 0.0
        layer = GELU()
        out = layer.forward(x)
        dx = layer.backward(np.ones_like(x))
        assert np.allclose(dx, gelu_grad(x)) and np.allclose(out, gelu(x))
        print("level 4 self-test passed")
