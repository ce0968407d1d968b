"""
Level 3: Memory-Efficient Implementation
- Priority: Fewest bytes allocated per call: in-place `out=` ufuncs, buffers reused across calls, float32 end to end
- Constraints: NumPy only; results identical to level 2 in float64 (same formulas, same random stream)
- Target: Pass every test with less peak memory than level 2, and stay fast in float32 (Topic 10 trains on this)

What it saves (measured on a 2-core CPU with tracemalloc, see `python level03-memory-efficient.py`):
- softmax of (4096, 1000) float32 logits: one output buffer instead of three temporaries
  (x - max, exp, e / sum): peak 16.4 MB vs 32.8 MB for level 2 (2.0x less).
- log_softmax of the same logits: peak 16.4 MB vs 32.8 MB (2.0x less): the exponentials are summed
  in the output buffer, then the subtraction is simply recomputed instead of kept in a second array.
- MLP([784, 512, 512, 10]) forward on a (1024, 784) float32 batch: the hidden activations live in two
  buffers kept from one call to the next (matmul `out=`, `+= b`, `np.maximum(h, 0, out=h)`), so a
  repeated call allocates only the returned logits: peak 0.07 MB vs 6.3 MB for level 2 (~80x less),
  at the same speed (the matmul dominates).
- kaiming_normal(4096, 4096, dtype=float32): drawn directly in float32 (Generator.standard_normal
  dtype=float32) and scaled in place: peak 67 MB vs 201 MB for level 2 (float64 draw + float32 copy),
  and about 2x faster.
  Those float32 weights are therefore different numbers from level 2's, with the same statistics;
  in float64 both levels draw exactly the same weights.

Topic 05: MLP forward pass.
    Initialisation : xavier_uniform/normal, kaiming_uniform/normal, calculate_gain
    Activations    : relu, sigmoid (stable), tanh
    Output         : softmax, log_softmax (stable: subtract the max / log-sum-exp)
    Layers         : linear(x, W, b) = x @ W + b, and the MLP model (forward only)

Conventions (shared by Module 01): x is (N, D) with one row per sample, W is (D_in, D_out), b is (D_out,),
out = x @ W + b. Every function keeps the floating dtype of its input (float32 in -> float32 out).
The public functions never modify their input: the in-place work happens in buffers they own.
"""

from __future__ import annotations

import math

import numpy as np

# ----------------------------------------------------------------------------------------------------
# Initialisation
# ----------------------------------------------------------------------------------------------------

_GAIN_ONE = ("linear", "sigmoid", "conv1d", "conv2d", "conv3d",
             "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
_NATIVE_RANDOM = (np.dtype(np.float32), np.dtype(np.float64))   # dtypes the Generator draws directly


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


def _uniform(shape, bound, rng, dtype) -> np.ndarray:
    """U(-bound, bound) drawn in `dtype` directly, then stretched in place: W = 2*bound*u - bound."""
    if dtype in _NATIVE_RANDOM:
        W = rng.random(shape, dtype=dtype)
    else:                                          # e.g. float16: the Generator has no such draw
        W = rng.random(shape).astype(dtype)
    W *= 2 * bound
    W -= bound
    return W


def _normal(shape, std, rng, dtype) -> np.ndarray:
    """N(0, std**2) drawn in `dtype` directly, then scaled in place."""
    if dtype in _NATIVE_RANDOM:
        W = rng.standard_normal(shape, dtype=dtype)
    else:
        W = rng.standard_normal(shape).astype(dtype)
    W *= std
    return W


def xavier_uniform(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """Glorot & Bengio (2010): W ~ U(-a, a), a = gain * sqrt(6 / (fan_in + fan_out)).

    Var(U(-a, a)) = a**2 / 3 = gain**2 * 2 / (fan_in + fan_out): a compromise between keeping the forward
    signal (fan_in) and the backward gradient (fan_out) at constant variance.
    rng: np.random.Generator, an int seed, or None (fresh entropy).
    Returns W of shape (fan_in, fan_out) for out = x @ W.
    """
    dtype = _check_fans(fan_in, fan_out, dtype)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _uniform((fan_in, fan_out), bound, np.random.default_rng(rng), dtype)


def xavier_normal(fan_in, fan_out, rng=None, dtype=np.float64, gain=1.0) -> np.ndarray:
    """Glorot normal: W ~ N(0, std**2), std = gain * sqrt(2 / (fan_in + fan_out)). Returns (fan_in, fan_out)."""
    dtype = _check_fans(fan_in, fan_out, dtype)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _normal((fan_in, fan_out), std, np.random.default_rng(rng), dtype)


def kaiming_uniform(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """He et al. (2015), fan_in mode: W ~ U(-bound, bound), bound = gain * sqrt(3 / fan_in).

    gain = calculate_gain(nonlinearity, a): sqrt(2) for relu (half the units are zeroed, so the weights
    make up for the lost half of the variance), sqrt(2 / (1 + a**2)) for leaky_relu with slope a, 1 for linear.
    Var = bound**2 / 3 = gain**2 / fan_in. Returns (fan_in, fan_out).
    """
    dtype = _check_fans(fan_in, fan_out, dtype)
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan_in)
    return _uniform((fan_in, fan_out), bound, np.random.default_rng(rng), dtype)


def kaiming_normal(fan_in, fan_out, rng=None, dtype=np.float64, nonlinearity="relu", a=0.0) -> np.ndarray:
    """He normal, fan_in mode: W ~ N(0, std**2), std = gain / sqrt(fan_in). Returns (fan_in, fan_out)."""
    dtype = _check_fans(fan_in, fan_out, dtype)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan_in)
    return _normal((fan_in, fan_out), std, np.random.default_rng(rng), dtype)


# ----------------------------------------------------------------------------------------------------
# Activations: in-place kernels (used by the MLP on its own buffers) and copying public wrappers
# ----------------------------------------------------------------------------------------------------

def _relu_(h):
    """h <- max(h, 0) in place; NaN stays NaN."""
    return np.maximum(h, 0, out=h)


def _sigmoid_(h, scratch):
    """h <- sigmoid(h) in place, stably; scratch is a buffer of h's shape and dtype (overwritten).

    z = exp(-|h|) in (0, 1];  sigmoid = 1 / (1 + z) where h >= 0 and z / (1 + z) where h < 0.
    """
    np.abs(h, out=scratch)
    np.negative(scratch, out=scratch)
    np.exp(scratch, out=scratch)                 # z, never overflows
    np.copyto(h, 1, where=h >= 0)                # numerator 1 where h >= 0 (now all positive) ...
    np.copyto(h, scratch, where=h < 0)           # ... so h < 0 picks exactly the negative inputs: numerator z
    scratch += 1
    h /= scratch                                 # NaN entries matched neither mask and stay NaN
    return h


def _tanh_(h):
    return np.tanh(h, out=h)


def relu(x):
    """max(x, 0) elementwise, any shape; NaN stays NaN. One output array, no temporaries."""
    return np.maximum(x, 0)


def sigmoid(x):
    """1 / (1 + exp(-x)) elementwise, without overflow for any finite x (see _sigmoid_)."""
    x = np.asarray(x)
    out = np.array(x, dtype=x.dtype if x.dtype.kind == "f" else np.float64)   # the output buffer (a copy)
    return _sigmoid_(out, np.empty_like(out))


def tanh(x):
    """Hyperbolic tangent elementwise, in (-1, 1); tanh(x) = 2 * sigmoid(2x) - 1."""
    return np.tanh(x)


# ----------------------------------------------------------------------------------------------------
# Softmax: everything happens in the one output buffer
# ----------------------------------------------------------------------------------------------------

def _as_float(x) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _row_max(x, axis):
    """max along axis (keepdims); an all -inf row gets 0 so that exp(x - max) is 0, not NaN."""
    m = np.max(x, axis=axis, keepdims=True)
    m[m == -np.inf] = 0
    return m


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (default: the class axis of (N, C) logits).

    Stable: softmax(x) = softmax(x - c) for any c, so subtract the row max: the largest exponent is
    exp(0) = 1 and nothing overflows, even for logits of 1e4.
    -inf entries get probability 0. A row that is entirely -inf (every class masked out) has no
    distribution: it is defined here as all zeros (log_softmax gives -inf there), never NaN.
    A NaN anywhere in a row makes that whole row NaN. Integer input is treated as float64.
    """
    x = _as_float(x)
    out = np.empty_like(x)                       # the only full-size allocation
    np.subtract(x, _row_max(x, axis), out=out)
    np.exp(out, out=out)
    s = np.sum(out, axis=axis, keepdims=True)    # (N, 1): small
    s[s == 0] = 1                                # only an all -inf row sums to 0
    out /= s
    return out


def log_softmax(x, axis=-1):
    """log(softmax(x)) computed as x - logsumexp(x) with the max trick, so it stays finite.

    log_softmax(x) = (x - m) - log(sum(exp(x - m))),  m = max(x)
    log(softmax(x)) would give log(0) = -inf as soon as a gap between logits exceeds ~745;
    this gives the exact value (e.g. [0, 1e4] -> [-1e4, 0]). All -inf row -> all -inf.
    """
    x = _as_float(x)
    m = _row_max(x, axis)
    out = np.empty_like(x)
    np.subtract(x, m, out=out)
    np.exp(out, out=out)
    s = np.sum(out, axis=axis, keepdims=True)
    s[s == 0] = 1
    np.log(s, out=s)
    np.subtract(x, m, out=out)                   # recompute x - m (cheap) instead of keeping a 2nd buffer;
    # (x - m) - log(s), not x - (m + log s): m + log s would round away log s for |m| ~ 1e4 in float32
    out -= s
    return out


# ----------------------------------------------------------------------------------------------------
# Linear layer and MLP
# ----------------------------------------------------------------------------------------------------

def _check_linear(x, W, b):
    if x.ndim != 2 or W.ndim != 2:
        raise ValueError(f"linear expects x (N, D_in) and W (D_in, D_out), got x {x.shape} and W {W.shape}")
    if x.shape[1] != W.shape[0]:
        raise ValueError(f"x {x.shape} and W {W.shape} do not fit: x has {x.shape[1]} features "
                         f"but W expects {W.shape[0]} inputs")
    if b.shape != (W.shape[1],):
        raise ValueError(f"bias b {b.shape} does not fit W {W.shape}: expected b of shape ({W.shape[1]},)")


def linear(x, W, b):
    """Affine layer: x (N, D_in) @ W (D_in, D_out) + b (D_out,) -> (N, D_out).

    One allocation: the bias is added in place into the matmul's result.
    Raises ValueError naming both shapes when they do not fit (never a silent broadcast).
    """
    x, W, b = np.asarray(x), np.asarray(W), np.asarray(b)
    _check_linear(x, W, b)
    out = np.matmul(x, W)
    if out.dtype != np.result_type(out, b):      # e.g. integer x @ W with a float bias
        out = out.astype(np.result_type(out, b))
    out += b
    return out


_ACTIVATIONS = ("relu", "sigmoid", "tanh")


class MLP:
    """A multi-layer perceptron, forward pass only: Linear -> act -> ... -> Linear (logits).

    MLP([784, 256, 10]) has weights[0] (784, 256), weights[1] (256, 10) and zero biases.
    init: "kaiming" (kaiming_normal with the activation's gain), "xavier" (xavier_normal, gain 1),
          or a number s > 0 for a plain Gaussian N(0, s**2) (1.0 = the naive randn, 0.01 = "small weights").
    seed: int or np.random.Generator; the layers are drawn one after the other from it.
    forward reads self.weights / self.biases on every call, so you may replace them (e.g. load weights).

    Memory: each hidden layer writes into a buffer kept between calls (reallocated only when the batch
    size, width or dtype changes); only the returned logits are a new array, so the caller never holds
    a view of a buffer the next call overwrites.
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
        self._buffers = {}                       # (layer index, "h" or "scratch") -> reusable array

    def _check_input(self, x) -> np.ndarray:
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 2 or x.shape[1] != self.weights[0].shape[0]:
            raise ValueError(f"MLP expects x of shape (N, {self.weights[0].shape[0]}), got {x.shape}")
        return x

    def _buffer(self, key, shape, dtype) -> np.ndarray:
        buf = self._buffers.get(key)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[key] = np.empty(shape, dtype=dtype)
        return buf

    def _activate_(self, h, i):
        if self.activation == "relu":
            return _relu_(h)
        if self.activation == "tanh":
            return _tanh_(h)
        return _sigmoid_(h, self._buffer((i, "scratch"), h.shape, h.dtype))

    def _layer_into(self, h, i, out):
        """out <- h @ W_i + b_i, without temporaries."""
        W, b = self.weights[i], self.biases[i]
        _check_linear(h, W, b)
        np.matmul(h, W, out=out)
        out += b
        return out

    def forward(self, x) -> np.ndarray:
        """x (N, D_in) -> logits (N, D_out): the activation after every layer except the last."""
        h = self._check_input(x)
        last = len(self.weights) - 1
        for i in range(last):
            dtype = np.result_type(h, self.weights[i], self.biases[i])
            out = self._buffer((i, "h"), (h.shape[0], self.weights[i].shape[1]), dtype)
            h = self._activate_(self._layer_into(h, i, out), i)
        return linear(h, self.weights[last], self.biases[last])   # a fresh array: the caller owns it

    def hidden_activations(self, x) -> list:
        """The output of every hidden layer's activation: a list of (N, layer_sizes[i]) arrays, i = 1..L-1.

        Each array is new (the caller keeps them all), so nothing here is buffered.
        """
        h = self._check_input(x)
        outs = []
        for i in range(len(self.weights) - 1):
            h = self._activate_(linear(h, self.weights[i], self.biases[i]), i)
            outs.append(h)
        return outs

    def predict_proba(self, x) -> np.ndarray:
        """softmax of the logits: (N, D_out), each row sums to 1 (computed in the logits array itself)."""
        logits = self.forward(x)
        np.subtract(logits, _row_max(logits, -1), out=logits)
        np.exp(logits, out=logits)
        s = logits.sum(axis=-1, keepdims=True)
        s[s == 0] = 1
        logits /= s
        return logits

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
        return _normal((fan_in, fan_out), float(init), rng, dtype)
    raise ValueError(f"unknown init {init!r}: use 'kaiming', 'xavier' or a positive number (the std)")


# ----------------------------------------------------------------------------------------------------
# Measuring the saving
# ----------------------------------------------------------------------------------------------------

def _peak_mb(fn, *args) -> float:
    """Peak memory (MB) that NumPy allocates during fn(*args), measured with tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn(*args)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del result
    return peak / 1e6


def _measure() -> None:
    """Print peak memory and time against level 2 (loaded by path, for comparison only)."""
    import importlib.util
    import time
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("level2", Path(__file__).with_name("level02-vectorized.py"))
    v2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(v2)
    rng = np.random.default_rng(0)
    logits = (rng.standard_normal((4096, 1000)) * 5).astype(np.float32)
    x = rng.standard_normal((1024, 784)).astype(np.float32)
    m2, m3 = v2.MLP([784, 512, 512, 10], dtype=np.float32), MLP([784, 512, 512, 10], dtype=np.float32)
    m3.forward(x)                                # first call allocates the buffers
    rows = [
        ("softmax (4096, 1000) float32", v2.softmax, softmax, (logits,)),
        ("log_softmax (4096, 1000) float32", v2.log_softmax, log_softmax, (logits,)),
        ("MLP forward (1024, 784) float32", m2.forward, m3.forward, (x,)),
        ("kaiming_normal(4096, 4096) float32", lambda: v2.kaiming_normal(4096, 4096, 0, np.float32),
         lambda: kaiming_normal(4096, 4096, 0, np.float32), ()),
    ]
    for name, f2, f3, args in rows:
        p2, p3 = _peak_mb(f2, *args), _peak_mb(f3, *args)
        t2 = min(_time(f2, args, time) for _ in range(5))
        t3 = min(_time(f3, args, time) for _ in range(5))
        print(f"{name:38s} peak {p2:7.2f} MB -> {p3:7.2f} MB ({p2 / max(p3, 1e-9):5.1f}x less)   "
              f"time {t2 * 1e3:7.2f} ms -> {t3 * 1e3:7.2f} ms")


def _time(fn, args, time) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


if __name__ == "__main__":
    # Initialisation: the std matches the formula, and the shape is (fan_in, fan_out)
    W = kaiming_normal(784, 100, rng=0, dtype=np.float32)
    print(f"kaiming_normal(784, 100, float32): shape {W.shape}, dtype {W.dtype}, std {W.std():.4f} "
          f"(formula {math.sqrt(2 / 784):.4f})")
    assert W.shape == (784, 100) and W.dtype == np.float32 and abs(W.std() / math.sqrt(2 / 784) - 1) < 0.03

    # Softmax in float32: huge logits stay finite, the input is untouched, exp(log_softmax) == softmax
    logits = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]], dtype=np.float32)
    before = logits.copy()
    p = softmax(logits)
    print("softmax:\n", p.round(4))
    assert p.dtype == np.float32 and np.allclose(p.sum(axis=1), 1.0) and np.array_equal(logits, before)
    assert np.allclose(np.exp(log_softmax(logits)), p)

    # The MLP reuses its buffers: two calls, two independent results
    model = MLP([4, 8, 8, 3], activation="sigmoid", seed=0)
    x1, x2 = np.random.default_rng(1).standard_normal((2, 5, 4))
    out1 = model.forward(x1)
    out1_copy = out1.copy()
    model.forward(x2)
    assert np.array_equal(out1, out1_copy), "the second call must not overwrite the first result"
    print(f"MLP {model.layer_sizes}: logits {out1.shape}, {model.num_parameters()} parameters")
    assert np.allclose(model.predict_proba(x1).sum(axis=1), 1.0)
    print("level 3 self-test passed\n")
    _measure()
