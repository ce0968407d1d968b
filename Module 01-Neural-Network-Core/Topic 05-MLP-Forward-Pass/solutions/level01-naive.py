"""
Level 1: Naive Implementation
- Priority: Correctness over speed: every number is computed by a Python loop you can follow by hand
- Constraints: Pure Python loops over elements and rows (math.exp, math.log); NumPy only to hold the
  arrays, to draw random numbers one at a time from the Generator, and to return results
- Target: Pass functional tests only (slow: the matmul is three nested loops)

Topic 05: MLP forward pass.
    Initialisation : xavier_uniform/normal, kaiming_uniform/normal, calculate_gain
    Activations    : relu, sigmoid (stable), tanh
    Output         : softmax, log_softmax (stable: subtract the max / log-sum-exp)
    Layers         : linear(x, W, b) = x @ W + b, and the MLP model (forward only)

Conventions (shared by Module 01): x is (N, D) with one row per sample, W is (D_in, D_out), b is (D_out,),
out = x @ W + b. Every function keeps the floating dtype of its input (float32 in -> float32 out).
The loops compute in Python floats (float64) and store the result in the input's dtype.
"""

from __future__ import annotations

import math

import numpy as np

# ----------------------------------------------------------------------------------------------------
# Initialisation
# ----------------------------------------------------------------------------------------------------

_GAIN_ONE = ("linear", "sigmoid", "conv1d", "conv2d", "conv3d",
             "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor that keeps the variance of activations constant through `nonlinearity` (as torch.nn.init).

    linear / sigmoid / conv*: 1    tanh: 5/3    relu: sqrt(2)    selu: 3/4
    leaky_relu: sqrt(2 / (1 + slope**2)), slope = param (0.01 when None)
    Raises ValueError for an unknown nonlinearity or a non-numeric slope.
    """
    if nonlinearity in _GAIN_ONE:
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "selu":
        return 3.0 / 4.0
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = float(param)
        else:
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        return math.sqrt(2.0 / (1.0 + slope ** 2))
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}: use one of linear, sigmoid, tanh, relu, "
                     f"leaky_relu, selu")


def _check_fans(fan_in, fan_out, dtype) -> np.dtype:
    """Validate the layer size and the dtype; return the dtype as np.dtype."""
    for name, fan in (("fan_in", fan_in), ("fan_out", fan_out)):
        if isinstance(fan, bool) or not isinstance(fan, (int, np.integer)) or fan < 1:
            raise ValueError(f"{name} must be a positive integer, got {fan!r}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(f"weights need a floating dtype, got {dtype}")
    return dtype


def _uniform_matrix(fan_in, fan_out, bound, rng, dtype) -> np.ndarray:
    """(fan_in, fan_out) matrix of U(-bound, bound) draws, one rng call per element, row by row."""
    rows = []
    for _ in range(fan_in):
        row = []
        for _ in range(fan_out):
            u = rng.random()                       # U[0, 1)
            row.append(-bound + 2 * bound * u)     # stretch [0, 1) to [-bound, bound)
        rows.append(row)
    return np.array(rows, dtype=dtype)


def _normal_matrix(fan_in, fan_out, std, rng, dtype) -> np.ndarray:
    """(fan_in, fan_out) matrix of N(0, std**2) draws, one rng call per element, row by row."""
    rows = []
    for _ in range(fan_in):
        rows.append([std * rng.standard_normal() for _ in range(fan_out)])
    return np.array(rows, dtype=dtype)


def xavier_uniform(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """Glorot & Bengio (2010): W ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Var(U(-a, a)) = a**2 / 3 = gain**2 * 2 / (fan_in + fan_out): a compromise between keeping the forward
    signal (fan_in) and the backward gradient (fan_out) at constant variance.
    rng: np.random.Generator, an int seed, or None (fresh entropy).
    Returns W of shape (fan_in, fan_out) for out = x @ W.
    """
    dtype = _check_fans(fan_in, fan_out, dtype)
    rng = np.random.default_rng(rng)  # a Generator passes through unchanged, an int seeds a new one
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform_matrix(fan_in, fan_out, bound, rng, dtype)


def xavier_normal(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """Glorot normal: W ~ N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out)). Returns (fan_in, fan_out)."""
    dtype = _check_fans(fan_in, fan_out, dtype)
    rng = np.random.default_rng(rng)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _normal_matrix(fan_in, fan_out, std, rng, dtype)


def kaiming_uniform(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """He et al. (2015), fan_in mode: W ~ U(-bound, bound), bound = gain * sqrt(3 / fan_in).

    gain = calculate_gain(nonlinearity, a): sqrt(2) for relu (half the units are zeroed, so the weights
    make up for the lost half of the variance), sqrt(2 / (1 + a**2)) for leaky_relu with slope a, 1 for linear.
    Var = bound**2 / 3 = gain**2 / fan_in. Returns (fan_in, fan_out).
    """
    dtype = _check_fans(fan_in, fan_out, dtype)
    rng = np.random.default_rng(rng)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan_in)
    return _uniform_matrix(fan_in, fan_out, bound, rng, dtype)


def kaiming_normal(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """He normal, fan_in mode: W ~ N(0, std**2), std = gain / sqrt(fan_in). Returns (fan_in, fan_out)."""
    dtype = _check_fans(fan_in, fan_out, dtype)
    rng = np.random.default_rng(rng)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in)
    return _normal_matrix(fan_in, fan_out, std, rng, dtype)


# ----------------------------------------------------------------------------------------------------
# Activations: one Python call per element
# ----------------------------------------------------------------------------------------------------

def _elementwise(fn, x, keep_int=False) -> np.ndarray:
    """Apply the scalar function fn to every element of x; same shape, same floating dtype."""
    x = np.asarray(x)
    values = [fn(v) for v in x.ravel().tolist()]
    dtype = x.dtype if (x.dtype.kind == "f" or keep_int) else np.float64
    return np.array(values, dtype=dtype).reshape(x.shape)


def _relu_scalar(v):
    return 0 if v < 0 else v          # NaN < 0 is False, so NaN passes through unchanged


def _sigmoid_scalar(v):
    z = math.exp(-abs(v))             # in (0, 1]: math.exp never sees a large positive number
    return 1.0 / (1.0 + z) if v >= 0 else z / (1.0 + z)


def relu(x):
    """max(x, 0) elementwise, any shape; NaN stays NaN."""
    return _elementwise(_relu_scalar, x, keep_int=True)


def sigmoid(x):
    """1 / (1 + exp(-x)) elementwise, without overflow for any finite x.

    math.exp(1000) raises OverflowError. With z = exp(-|x|) in (0, 1]:
        x >= 0: 1 / (1 + z)        x < 0: z / (1 + z)     (the same value, only finite terms)
    """
    return _elementwise(_sigmoid_scalar, x)


def tanh(x):
    """Hyperbolic tangent elementwise, in (-1, 1); tanh(x) = 2 * sigmoid(2x) - 1."""
    return _elementwise(math.tanh, x)


# ----------------------------------------------------------------------------------------------------
# Softmax: one row at a time
# ----------------------------------------------------------------------------------------------------

def _rows_along(x, axis):
    """x as float, with `axis` moved last, flattened to a list of rows (lists) + a function to undo it."""
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    moved = np.moveaxis(x, axis, -1)
    rows = moved.reshape(-1, moved.shape[-1]).tolist() if moved.size else []

    def back(new_rows):
        out = np.array(new_rows, dtype=x.dtype).reshape(moved.shape)
        return np.moveaxis(out, -1, axis)

    return rows, back


def _row_max(row):
    """Max of a row; NaN if the row has a NaN (Python's max() would silently skip it)."""
    m = -math.inf
    for v in row:
        if v != v:                    # only NaN differs from itself
            return math.nan
        if v > m:
            m = v
    return m


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (default: the class axis of (N, C) logits).

    Stable: softmax(x) = softmax(x - c) for any c, so subtract the row max: the largest exponent is
    exp(0) = 1 and nothing overflows, even for logits of 1e4.
    -inf entries get probability 0. A row that is entirely -inf (every class masked out) has no
    distribution: it is defined here as all zeros (log_softmax gives -inf there), never NaN.
    A NaN anywhere in a row makes that whole row NaN. Integer input is treated as float64.
    """
    rows, back = _rows_along(x, axis)
    out = []
    for row in rows:
        m = _row_max(row)
        if m == -math.inf:            # all -inf: shift by 0, every exp is 0
            m = 0.0
        exps = [math.exp(v - m) for v in row]
        total = 0.0
        for e in exps:
            total += e
        if total == 0.0:              # only an all -inf row sums to 0 (otherwise the max gives exp(0) = 1)
            total = 1.0
        out.append([e / total for e in exps])
    return back(out)


def log_softmax(x, axis=-1):
    """log(softmax(x)) computed as x - logsumexp(x) with the max trick, so it stays finite.

    log_softmax(x) = (x - m) - log(sum(exp(x - m))),  m = max(x)
    log(softmax(x)) would give log(0) = -inf as soon as a gap between logits exceeds ~745;
    this gives the exact value (e.g. [0, 1e4] -> [-1e4, 0]). All -inf row -> all -inf.
    """
    rows, back = _rows_along(x, axis)
    out = []
    for row in rows:
        m = _row_max(row)
        if m == -math.inf:
            m = 0.0
        shifted = [v - m for v in row]
        total = 0.0
        for s in shifted:
            total += math.exp(s)
        log_total = math.log(total) if total != 0.0 else 0.0   # 0 only for an all -inf row: stays -inf
        out.append([s - log_total for s in shifted])
    return back(out)


# ----------------------------------------------------------------------------------------------------
# Linear layer and MLP
# ----------------------------------------------------------------------------------------------------

def linear(x, W, b):
    """Affine layer: x (N, D_in) @ W (D_in, D_out) + b (D_out,) -> (N, D_out).

    Raises ValueError naming both shapes when they do not fit (never a silent broadcast).
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    if x.ndim != 2 or W.ndim != 2:
        raise ValueError(f"linear expects x (N, D_in) and W (D_in, D_out), got x {x.shape} and W {W.shape}")
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"x {x.shape} and W {W.shape} do not fit: x has {x.shape[1]} features "
                         f"but W expects {W.shape[0]} inputs")
    if b.shape != (W.shape[1],):
        raise ValueError(f"bias b {b.shape} does not fit W {W.shape}: expected b of shape ({W.shape[1]},)")
    d_out = W.shape[1]
    columns = list(zip(*W.tolist()))   # column j of W = the weights into output unit j
    bias = b.tolist()
    out = []
    for row in x.tolist():                       # each sample
        out_row = []
        for j in range(d_out):                   # each output unit
            acc = bias[j]
            for xi, wij in zip(row, columns[j]):   # dot product with column j
                acc += xi * wij
            out_row.append(acc)
        out.append(out_row)
    dtype = np.result_type(x, W, b)
    return np.array(out, dtype=dtype).reshape(x.shape[0], d_out)


_ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}


class MLP:
    """A multi-layer perceptron, forward pass only: Linear -> act -> ... -> Linear (logits).

    MLP([784, 256, 10]) has weights[0] (784, 256), weights[1] (256, 10) and zero biases.
    init: "kaiming" (kaiming_normal with the activation's gain), "xavier" (xavier_normal, gain 1),
          or a number s > 0 for a plain Gaussian N(0, s**2) (1.0 = the naive randn, 0.01 = "small weights").
    seed: int or np.random.Generator; the layers are drawn one after the other from it.
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

    def _check_input(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.weights[0].shape[0]:
            raise ValueError(f"MLP expects x of shape (N, {self.weights[0].shape[0]}), got {x.shape}")
        return x

    def forward(self, x) -> np.ndarray:
        """x (N, D_in) -> logits (N, D_out): the activation after every layer except the last."""
        h = self._check_input(x)
        act = _ACTIVATIONS[self.activation]
        for i in range(len(self.weights)):
            h = linear(h, self.weights[i], self.biases[i])
            if i < len(self.weights) - 1:        # no activation after the last layer: raw logits
                h = act(h)
        return h

    def hidden_activations(self, x) -> list:
        """The output of every hidden layer's activation: a list of (N, layer_sizes[i]) arrays, i = 1..L-1."""
        h = self._check_input(x)
        act = _ACTIVATIONS[self.activation]
        outs = []
        for i in range(len(self.weights) - 1):
            h = act(linear(h, self.weights[i], self.biases[i]))
            outs.append(h)
        return outs

    def predict_proba(self, x) -> np.ndarray:
        """softmax of the logits: (N, D_out), each row sums to 1."""
        return softmax(self.forward(x), axis=-1)

    def num_parameters(self) -> int:
        """Total number of weights and biases."""
        total = 0
        for W, b in zip(self.weights, self.biases):
            total += W.size + b.size
        return int(total)


def _init_weight(init, fan_in, fan_out, rng, dtype, activation) -> np.ndarray:
    if isinstance(init, str):
        if init == "kaiming":
            return kaiming_normal(fan_in, fan_out, rng=rng, dtype=dtype, nonlinearity=activation)
        if init == "xavier":
            return xavier_normal(fan_in, fan_out, rng=rng, dtype=dtype)
        raise ValueError(f"unknown init {init!r}: use 'kaiming', 'xavier' or a positive number (the std)")
    if isinstance(init, (int, float)) and not isinstance(init, bool) and init > 0:
        return _normal_matrix(fan_in, fan_out, float(init), rng, dtype)
    raise ValueError(f"unknown init {init!r}: use 'kaiming', 'xavier' or a positive number (the std)")


if __name__ == "__main__":
    # Initialisation: the std matches the formula, and the shape is (fan_in, fan_out)
    W = kaiming_normal(784, 100, rng=0)
    print(f"kaiming_normal(784, 100): shape {W.shape}, std {W.std():.4f} (formula {math.sqrt(2 / 784):.4f})")
    assert W.shape == (784, 100) and abs(W.std() / math.sqrt(2 / 784) - 1) < 0.03

    # Softmax by hand: [0, ln 3] -> [1/4, 3/4]; huge logits stay finite
    p = softmax(np.array([[0.0, math.log(3.0)], [1e4, -1e4]]))
    print("softmax:\n", p)
    assert abs(p[0, 0] - 0.25) < 1e-12 and abs(p[0, 1] - 0.75) < 1e-12 and p[1, 0] == 1.0
    assert np.allclose(np.exp(log_softmax(np.array([[0.0, 1e4]]))), [[0.0, 1.0]])

    # A 3-layer MLP on a toy batch
    model = MLP([4, 8, 8, 3], activation="relu", seed=0)
    x = np.random.default_rng(1).standard_normal((5, 4))
    out = model.forward(x)
    print(f"MLP {model.layer_sizes}: logits {out.shape}, {model.num_parameters()} parameters")
    assert out.shape == (5, 3) and model.num_parameters() == 4 * 8 + 8 + 8 * 8 + 8 + 8 * 3 + 3
    assert np.allclose(model.predict_proba(x).sum(axis=1), 1.0)
    print("level 1 self-test passed")
