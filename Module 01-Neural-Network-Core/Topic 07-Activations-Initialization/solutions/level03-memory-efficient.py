"""
Level 3: Memory-Efficient Implementation
- Priority: No needless array: every result is computed in the array that is returned, with in-place `out=` ufuncs;
            layers reuse their buffers from one call to the next and backward reuses what forward computed
- Constraints: NumPy only; float32 stays float32 end to end; same results as level 2 (to float rounding)
- Target: Pass every test; the fast float32 activation layers Topic 10 can train with

How, in three rules:
1. One pass, one buffer. elu(x) is np.minimum(x, 0, out=buf) -> np.expm1(buf, out=buf) -> buf *= alpha ->
   buf += np.maximum(x, 0, out=scratch): the array it returns is the only array it allocates. Level 2's
   np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))) allocates four temporaries besides the result.
   Branches become arithmetic (leaky_relu = max(x, slope x); Phi = m + (1 - 2m) h with m = (x >= 0) as 0/1),
   never masked writes: np.copyto(out, x, where=mask) is about 15x slower than a plain ufunc pass.
2. Backward reuses forward. The layers cache the intermediate their derivative needs instead of the input:
   SiLU keeps s = sigmoid(x) (silu' = s (1 + x (1 - s)): no exp in backward), GELU keeps Phi(x)
   (gelu' = Phi + x phi(x): one exp instead of the 28-term erfc series again), the tanh GELU keeps tanh(u),
   ELU keeps alpha * expm1(min(x, 0)) (elu' = that + alpha for x <= 0: no exp). LeakyReLU needs only x > 0,
   one comparison, recomputed. Level 2 recomputes every derivative from x in every backward call.
3. Buffers live on. A layer keeps its output, cache and dx arrays and refills them while the shape and dtype
   repeat (the steady state of a training loop): after the first batch, forward + backward allocate nothing.
   The arrays a layer returns are therefore ITS buffers, valid until its next call: `.copy()` one to keep it.
   Work arrays (the erfc series needs five) are shared by all calls: one set per shape and dtype, 8 shapes kept.

Measured on a 2-core CPU (python level03-memory-efficient.py): one forward + backward of a (1024, 1024)
float32 batch, steady state, level 2 -> level 3 (tracemalloc peak of what the step allocates; best of 9 runs):
    SiLU           22.0 MB -> 0 MB,   34 ms -> 5.0 ms    (backward: no exp, 5 in-place passes)
    GELU (exact)   37.7 MB -> 0 MB,   81 ms -> 22 ms     (backward: one exp instead of the 28-term series)
    GELU (tanh)    25.2 MB -> 0 MB,   39 ms -> 6.4 ms
    ELU             9.4 MB -> 0 MB,   23 ms -> 13 ms     (expm1 dominates)
    LeakyReLU      12.6 MB -> 0 MB,   10 ms -> 1.1 ms    (max(x, slope x): no np.where, no mask)
and a single call elu(x) on 10**6 float64 values: peak 17.0 MB -> 8.0 MB (the result and nothing else).
PyTorch's fused CPU kernels do the same SiLU step in 1.5 ms and the exact GELU in 2 ms: one pass over
memory with a SIMD erf, where NumPy makes one pass per ufunc.
"""

from __future__ import annotations

import math
import sys
import time
import tracemalloc

import numpy as np

from dlfs.components import load_topic

topic03 = load_topic(3)  # SGD, for the dead-ReLU experiment
topic05 = load_topic(5)  # relu, tanh, kaiming_normal / xavier_normal
topic06 = load_topic(6)  # Linear, ReLU, Sequential, softmax_cross_entropy

SQRT_HALF = math.sqrt(0.5)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
GELU_CUBIC = 0.044715
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# Saturation points: beyond them the result is exact at the cap, and the cap keeps squares and products of
# huge finite inputs from overflowing (no warning, no inf * 0 = NaN).
SIGMOID_SATURATION = 1000.0   # |z| >= 1000: sigmoid(z) is exactly 0 or 1
GELU_TANH_SATURATION = 10.0   # |x| >= 10: the tanh of the tanh-GELU is exactly +-1 in float32 and float64
ERFC_ZERO = 30.0              # z >= 30: erfc(z) is exactly 0 in floating point
DENSITY_ZERO = 40.0           # |x| >= 40: exp(-x^2 / 2) underflows to 0

# erfc(z) = t * exp(-z**2 + sum_k c_k T_k(2t - 1)), t = 2 / (2 + z), z >= 0: the Chebyshev series of
# Numerical Recipes (3rd ed., section 6.2.2); |erf error| < 3e-16 (measured against math.erf).
ERFC_CHEBYSHEV = (
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2, -9.561514786808631e-3,
    -9.46595344482036e-4, 3.66839497852761e-4, 4.2523324806907e-5, -2.0278578112534e-5,
    -1.624290004647e-6, 1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8,
    6.529054439e-9, 5.059343495e-9, -9.91364156e-10, -2.27365122e-10,
    9.6467911e-11, 2.394038e-12, -6.886027e-12, 8.94487e-13,
    3.13092e-13, -1.12708e-13, 3.81e-16, 7.106e-15,
    -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17,
)


def _as_float(x) -> np.ndarray:
    """Floating arrays keep their dtype (no copy); integers, bools and Python numbers become float64."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _reuse(buffer, shape, dtype):
    """`buffer` itself when it already has this shape and dtype (no allocation), else a new empty array."""
    if buffer is not None and buffer.shape == shape and buffer.dtype == dtype:
        return buffer
    return np.empty(shape, dtype=dtype)


_SCRATCH = {}          # (shape, dtype) -> list of work arrays, shared by every call
_SCRATCH_SHAPES = 8    # keep the work arrays of this many shapes (a network has a few activation widths)


def _scratch(shape, dtype, count):
    """`count` work arrays of this shape and dtype, shared by all calls; a call may use them only until it returns."""
    key = (tuple(shape), np.dtype(dtype))
    arrays = _SCRATCH.pop(key, [])
    while len(arrays) < count:
        arrays.append(np.empty(shape, dtype=dtype))
    _SCRATCH[key] = arrays                       # re-inserted last: the most recently used shape
    while len(_SCRATCH) > _SCRATCH_SHAPES:
        del _SCRATCH[next(iter(_SCRATCH))]       # forget the least recently used shape
    return arrays[:count]


# ----------------------------------------------------------------------------------------------------
# Kernels: write f(x) or f'(x) into caller-owned arrays (never into x).
# No masked writes (np.copyto(..., where=mask) is ~15x slower than a plain ufunc pass): a branch becomes
# arithmetic with the 0/1 float array that np.greater(x, 0, out=buf) writes directly.
# ----------------------------------------------------------------------------------------------------

def _leaky_relu_into(x, slope, out):
    """out <- max(x, slope x) (min(x, slope x) when slope > 1): x on the positive side, slope x on the negative."""
    np.multiply(x, slope, out=out)
    (np.maximum if slope <= 1 else np.minimum)(x, out, out=out)   # NaN propagates through both
    return out


def _leaky_relu_grad_into(x, slope, out):
    """out <- (x > 0) (1 - slope) + slope: 1 on the positive side, slope elsewhere (at 0 too)."""
    np.greater(x, 0, out=out)
    out *= 1 - slope
    out += slope
    return out


def _elu_negative_part_into(x, alpha, out):
    """out <- alpha * expm1(min(x, 0)): elu(x) where x <= 0, exactly 0 where x > 0 (exp never sees x > 0)."""
    np.minimum(x, 0, out=out)
    np.expm1(out, out=out)
    out *= alpha
    return out


def _elu_grad_from(x, negative_part, alpha, out, scratch):
    """out <- negative_part + alpha + (1 - alpha) (x > 0): alpha exp(x) for x <= 0, 1 for x > 0."""
    np.add(negative_part, alpha, out=out)
    if alpha != 1:                               # alpha = 1: negative_part + 1 is already 1 for x > 0
        np.greater(x, 0, out=scratch)
        scratch *= 1 - alpha
        out += scratch
    return out


def _sigmoid_into(x, out, z, numerator):
    """out <- sigmoid(x) without overflow: z = exp(-|x|) in (0, 1], sigmoid = (1 or z) / (1 + z).

    With m = (x >= 0) as 0/1: numerator = z + m (1 - z) is 1 where x >= 0 and z where x < 0.
    """
    np.abs(x, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    np.greater_equal(x, 0, out=out)              # m
    np.subtract(1, z, out=numerator)
    numerator *= out
    numerator += z
    z += 1
    np.divide(numerator, z, out=out)             # NaN: z is NaN, so is the result
    return out


def _swish_grad_from(z, s, out):
    """out <- s (1 + z (1 - s)) given z = beta x and s = sigmoid(z): four in-place passes, no exp."""
    np.subtract(1, s, out=out)
    out *= z
    out += 1
    out *= s
    return out


def _erfc_into(z, out, t, two_y, d, dd):
    """out <- erfc(z) for z >= 0 by Clenshaw's recurrence on the Chebyshev series; t, two_y, d, dd: work arrays.

    z is capped at ERFC_ZERO IN PLACE (erfc is exactly 0 beyond; z * z of a huge z would overflow).

    d_j = 2y d_{j+1} - d_{j+2} + c_j from j = 27 down to 1 rotates three arrays (d, dd and a spare) instead of
    allocating two_y * d - dd + c (three temporaries) 27 times.
    """
    c = ERFC_CHEBYSHEV
    np.minimum(z, ERFC_ZERO, out=z)
    np.add(z, 2, out=t)
    np.divide(2, t, out=t)                       # t = 2 / (2 + z)
    np.multiply(t, 4, out=two_y)
    two_y -= 2                                   # 2y = 4t - 2
    d.fill(c[27])                                # the first step from d = dd = 0
    dd.fill(0)
    spare = out
    for c_j in c[26:0:-1]:
        np.multiply(two_y, d, out=spare)
        spare -= dd
        spare += c_j
        d, dd, spare = spare, d, dd
    np.multiply(two_y, d, out=spare)             # series = (c_0 + 2y d_1) / 2 - d_2
    spare += c[0]
    spare *= 0.5
    spare -= dd
    np.multiply(z, z, out=d)
    spare -= d                                   # exponent -z^2 + series
    np.exp(spare, out=spare)
    spare *= t
    if spare is not out:
        np.copyto(out, spare)
    return out


def _normal_cdf_into(x, out):
    """out <- Phi(x) = erfc(-x / sqrt 2) / 2, the left tail computed directly (Phi(-10) = 7.6e-24, not 0).

    With h = erfc(|x| / sqrt 2) / 2 and m = (x >= 0) as 0/1: Phi = m + (1 - 2m) h, i.e. 1 - h or h.
    """
    half_e, t, two_y, d, dd = _scratch(x.shape, x.dtype, 5)
    np.abs(x, out=out)
    out *= SQRT_HALF
    _erfc_into(out, half_e, t, two_y, d, dd)
    half_e *= 0.5
    np.greater_equal(x, 0, out=out)              # m
    np.multiply(out, -2, out=t)
    t += 1
    t *= half_e                                  # (1 - 2m) h
    out += t
    return out


def _gelu_tanh_inner_into(x, out, xc):
    """out <- tanh(sqrt(2/pi) x (1 + 0.044715 x^2)); xc <- x capped at +-GELU_TANH_SATURATION (tanh is +-1 there)."""
    np.clip(x, -GELU_TANH_SATURATION, GELU_TANH_SATURATION, out=xc)
    np.multiply(xc, xc, out=out)
    out *= GELU_CUBIC
    out += 1
    out *= xc
    out *= SQRT_2_OVER_PI
    np.tanh(out, out=out)
    return out


def _gelu_tanh_grad_from(xc, T, out, scratch):
    """out <- 0.5 (1 + T) + 0.5 x (1 - T^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2), given T = tanh(u).

    xc: x capped at +-GELU_TANH_SATURATION; beyond the cap 1 - T^2 is exactly 0, so xc does for x.
    """
    np.multiply(xc, xc, out=scratch)
    scratch *= 3 * GELU_CUBIC
    scratch += 1
    scratch *= SQRT_2_OVER_PI                    # du/dx
    np.multiply(T, T, out=out)
    np.subtract(1, out, out=out)                 # 1 - T^2
    out *= scratch
    out *= xc
    out += 1
    out += T
    out *= 0.5
    return out


def _gelu_grad_from(x, Phi, out):
    """out <- Phi + x phi(x), phi(x) = exp(-x^2 / 2) / sqrt(2 pi), given Phi."""
    np.clip(x, -DENSITY_ZERO, DENSITY_ZERO, out=out)   # x * x of a huge finite x would overflow
    np.multiply(out, out, out=out)
    out *= -0.5
    np.exp(out, out=out)
    out *= INV_SQRT_2PI
    out *= x
    out += Phi
    return out


def _check_approximate(approximate):
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate must be 'none' or 'tanh', got {approximate!r}")


# ----------------------------------------------------------------------------------------------------
# Public functions: each allocates the array it returns; work arrays come from the shared scratch
# ----------------------------------------------------------------------------------------------------

def relu(x):
    """max(x, 0): Topic 05's relu (one np.maximum, one output array), integers promoted to float."""
    return topic05.relu(_as_float(x))


def relu_grad(x):
    """1 where x > 0 else 0, written by np.greater straight into a float array (no bool temporary)."""
    x = _as_float(x)
    return np.greater(x, 0, out=np.empty_like(x))


def leaky_relu(x, negative_slope=0.01):
    """x where x > 0, negative_slope * x elsewhere."""
    x = _as_float(x)
    return _leaky_relu_into(x, negative_slope, np.empty_like(x))


def leaky_relu_grad(x, negative_slope=0.01):
    """1 where x > 0, negative_slope elsewhere."""
    x = _as_float(x)
    return _leaky_relu_grad_into(x, negative_slope, np.empty_like(x))


def elu(x, alpha=1.0):
    """alpha * expm1(min(x, 0)) + max(x, 0): x where x > 0, alpha (exp(x) - 1) elsewhere."""
    x = _as_float(x)
    out = _elu_negative_part_into(x, alpha, np.empty_like(x))
    positive = _scratch(x.shape, x.dtype, 1)[0]
    out += np.maximum(x, 0, out=positive)
    return out


def elu_grad(x, alpha=1.0):
    """1 where x > 0, alpha * exp(x) elsewhere (alpha at 0)."""
    x = _as_float(x)
    negative_part, scratch = _scratch(x.shape, x.dtype, 2)
    _elu_negative_part_into(x, alpha, negative_part)
    return _elu_grad_from(x, negative_part, alpha, np.empty_like(x), scratch)


def _sigmoid_of_scaled(x, beta, out):
    """out <- sigmoid(z), z = beta * x; returns (out, z). Uses the first three scratch arrays (not out).

    For beta != 1, z is capped at +-SIGMOID_SATURATION (the sigmoid is exactly 0 or 1 there) by capping x first,
    so beta * x cannot overflow. beta = 1 needs no cap: z = x, and (1 - s) * x never exceeds |x|.
    """
    scaled, z, numerator = _scratch(x.shape, x.dtype, 3)
    if beta != 1:
        limit = SIGMOID_SATURATION / abs(beta) if beta else np.inf
        np.clip(x, -limit, limit, out=scaled)
        x = np.multiply(scaled, beta, out=scaled)
    return _sigmoid_into(x, out, z, numerator), x


def swish(x, beta=1.0):
    """x * sigmoid(beta x): the sigmoid array becomes the result."""
    x = _as_float(x)
    out, _ = _sigmoid_of_scaled(x, beta, np.empty_like(x))
    out *= x
    return out


def swish_grad(x, beta=1.0):
    """s (1 + z (1 - s)), z = beta x, s = sigmoid(z) held in the fourth scratch array."""
    x = _as_float(x)
    s, z = _sigmoid_of_scaled(x, beta, _scratch(x.shape, x.dtype, 4)[3])
    return _swish_grad_from(z, s, np.empty_like(x))


def silu(x):
    """x * sigmoid(x)."""
    return swish(x, 1.0)


def silu_grad(x):
    """sigmoid(x) (1 + x (1 - sigmoid(x)))."""
    return swish_grad(x, 1.0)


def erf(x):
    """erf(x) = sign(x) (1 - erfc(|x|)), via the Chebyshev erfc; |error| < 1e-15."""
    x = _as_float(x)
    out = np.abs(x, out=np.empty_like(x))
    e, t, two_y, d, dd = _scratch(x.shape, x.dtype, 5)
    _erfc_into(out, e, t, two_y, d, dd)
    np.subtract(1, e, out=out)
    out *= np.sign(x, out=t)                     # erf is odd; sign(NaN) is NaN
    return out


def gelu(x, approximate="none"):
    """x * Phi(x) (exact), or 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (approximate="tanh")."""
    _check_approximate(approximate)
    x = _as_float(x)
    out = np.empty_like(x)
    if approximate == "tanh":
        _gelu_tanh_inner_into(x, out, _scratch(x.shape, x.dtype, 1)[0])
        out += 1
        out *= 0.5                               # before * x: (1 + T) * x overflows for x near the float maximum
        out *= x
        return out
    _normal_cdf_into(x, out)
    out *= x
    return out


def gelu_grad(x, approximate="none"):
    """Phi + x phi(x) (exact), or the derivative of the tanh form."""
    _check_approximate(approximate)
    x = _as_float(x)
    out = np.empty_like(x)
    if approximate == "tanh":
        scratch, xc = _scratch(x.shape, x.dtype, 2)
        T = _gelu_tanh_inner_into(x, np.empty_like(x), xc)
        return _gelu_tanh_grad_from(xc, T, out, scratch)
    Phi = _normal_cdf_into(x, np.empty_like(x))
    return _gelu_grad_from(x, Phi, out)


# ----------------------------------------------------------------------------------------------------
# Layer classes: buffers reused while the shape repeats; backward reuses what forward cached
# ----------------------------------------------------------------------------------------------------

class _Activation:
    """Plumbing shared by the layers: buffer management, dout checks, train/eval."""

    def __init__(self):
        self.training = True
        self._x = None
        self._out = self._cache = self._dx = None

    def _prepare(self, x):
        """Keep a reference to x (no copy: the caller keeps it alive anyway) and size the buffers for it."""
        x = _as_float(x)
        self._x = x
        self._out = _reuse(self._out, x.shape, x.dtype)
        self._cache = _reuse(self._cache, x.shape, x.dtype)
        return x

    def _check_dout(self, dout):
        if self._x is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        dout = np.asarray(dout)
        if dout.shape != self._x.shape:
            raise ValueError(f"dout must have the shape of x {self._x.shape}, got {dout.shape}")
        self._dx = _reuse(self._dx, dout.shape, np.result_type(dout, self._x))
        return dout

    def parameters(self):
        return []

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self


class LeakyReLU(_Activation):
    """leaky_relu as a layer. Nothing worth caching (the derivative is one comparison): backward reads x."""

    def __init__(self, negative_slope=0.01):
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        x = self._prepare(x)
        return _leaky_relu_into(x, self.negative_slope, self._out)

    def backward(self, dout):
        dout = self._check_dout(dout)
        _leaky_relu_grad_into(self._x, self.negative_slope, self._dx)
        self._dx *= dout
        return self._dx

    def __repr__(self):
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class ELU(_Activation):
    """elu as a layer; caches alpha * expm1(min(x, 0)), so backward needs no exp: elu' = that + alpha (x <= 0)."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x):
        x = self._prepare(x)
        _elu_negative_part_into(x, self.alpha, self._cache)
        positive = _scratch(x.shape, x.dtype, 1)[0]
        np.add(self._cache, np.maximum(x, 0, out=positive), out=self._out)
        return self._out

    def backward(self, dout):
        dout = self._check_dout(dout)
        _elu_grad_from(self._x, self._cache, self.alpha, self._dx, _scratch(self._x.shape, self._dx.dtype, 1)[0])
        self._dx *= dout
        return self._dx

    def __repr__(self):
        return f"ELU(alpha={self.alpha})"


class SiLU(_Activation):
    """silu as a layer; caches s = sigmoid(x). backward: dout * s (1 + x (1 - s)), no exp."""

    def forward(self, x):
        x = self._prepare(x)
        z, numerator = _scratch(x.shape, x.dtype, 2)
        _sigmoid_into(x, self._cache, z, numerator)
        np.multiply(x, self._cache, out=self._out)
        return self._out

    def backward(self, dout):
        dout = self._check_dout(dout)
        _swish_grad_from(self._x, self._cache, self._dx)
        self._dx *= dout
        return self._dx

    def __repr__(self):
        return "SiLU()"


class GELU(_Activation):
    """gelu as a layer; caches Phi(x) (exact) or tanh(u) (tanh form) for backward."""

    def __init__(self, approximate="none"):
        _check_approximate(approximate)
        super().__init__()
        self.approximate = approximate

    def forward(self, x):
        x = self._prepare(x)
        if self.approximate == "tanh":
            _gelu_tanh_inner_into(x, self._cache, _scratch(x.shape, x.dtype, 1)[0])   # T = tanh(u)
            np.add(self._cache, 1, out=self._out)
            self._out *= 0.5
            self._out *= x
        else:
            _normal_cdf_into(x, self._cache)                        # Phi(x)
            np.multiply(x, self._cache, out=self._out)
        return self._out

    def backward(self, dout):
        dout = self._check_dout(dout)
        if self.approximate == "tanh":
            scratch, xc = _scratch(self._x.shape, self._dx.dtype, 2)
            np.clip(self._x, -GELU_TANH_SATURATION, GELU_TANH_SATURATION, out=xc)
            _gelu_tanh_grad_from(xc, self._cache, self._dx, scratch)
        else:
            _gelu_grad_from(self._x, self._cache, self._dx)
        self._dx *= dout
        return self._dx

    def __repr__(self):
        return f"GELU(approximate={self.approximate!r})"


# ----------------------------------------------------------------------------------------------------
# Dead neurons
# ----------------------------------------------------------------------------------------------------

def _check_batch(activations) -> np.ndarray:
    a = np.asarray(activations)
    if a.ndim != 2:
        raise ValueError(f"activations must be a (N, H) batch (one row per sample, one column per unit), "
                         f"got shape {a.shape}")
    if a.shape[0] == 0:
        raise ValueError("an empty batch (N = 0) says nothing about which units are dead")
    return a


def find_dead_neurons(activations, threshold=0.0):
    """(N, H) -> (H,) bool: max over the batch <= threshold. Only (H,) arrays: no (N, H) bool temporary.

    A column holding a NaN has a NaN maximum, and NaN <= threshold is False: such a unit is not dead.
    """
    a = _check_batch(activations)
    return np.max(a, axis=0) <= threshold


def dead_neuron_fraction(activations, threshold=0.0):
    """Fraction of the H units that are dead on this batch."""
    mask = find_dead_neurons(activations, threshold)
    return float(np.count_nonzero(mask) / mask.size) if mask.size else 0.0


def make_toy_classification(n=128, d=8, num_classes=3, seed=0):
    """X ~ N(0, 1) of shape (n, d), y = argmax(X @ W_teacher), W_teacher ~ N(0, 1). Not graded."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    teacher = rng.standard_normal((d, num_classes))
    return X, np.argmax(X @ teacher, axis=1)


BURST_STEPS = 10
RECOVERY_STEPS = 100
RECOVERY_LR = 0.5


def _train(model, X, y, lr, steps):
    optimizer = topic03.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        _, dlogits = topic06.softmax_cross_entropy(model.forward(X), y)
        model.backward(dlogits)
        optimizer.step()


def dead_relu_experiment(lr=10.0, bias_init=0.0, negative_slope=0.1, seed=0):
    """The dead-ReLU experiment (see level 2): ReLU vs LeakyReLU(negative_slope), BURST_STEPS SGD steps at `lr`
    then RECOVERY_STEPS at RECOVERY_LR. Returns {"relu": stats, "leaky_relu": stats} with "negative_at_init",
    "negative_after_burst", "negative_at_end", "dead_at_end" and "loss_at_end"."""
    X, y = make_toy_classification(n=128, d=8, num_classes=3, seed=seed)
    variants = (("relu", topic06.ReLU, relu_grad),
                ("leaky_relu", lambda: LeakyReLU(negative_slope), lambda z: leaky_relu_grad(z, negative_slope)))
    results = {}
    for name, make_activation, derivative in variants:
        rng = np.random.default_rng(seed + 1)
        first, last = topic06.Linear(8, 32, rng=rng), topic06.Linear(32, 3, rng=rng)
        first.bias.data[...] = bias_init
        model = topic06.Sequential(first, make_activation(), last)
        z = np.empty((X.shape[0], 32))

        def pre_activations():
            np.dot(X, first.weight.data, out=z)
            return np.add(z, first.bias.data, out=z)

        stats = {"negative_at_init": dead_neuron_fraction(pre_activations())}
        _train(model, X, y, lr, BURST_STEPS)
        stats["negative_after_burst"] = dead_neuron_fraction(pre_activations())
        _train(model, X, y, RECOVERY_LR, RECOVERY_STEPS)
        stats["negative_at_end"] = dead_neuron_fraction(pre_activations())
        stats["dead_at_end"] = dead_neuron_fraction(derivative(z))
        stats["loss_at_end"] = float(topic06.softmax_cross_entropy(model.forward(X), y)[0])
        results[name] = stats
    return results


# ----------------------------------------------------------------------------------------------------
# Initialisation vs activation statistics
# ----------------------------------------------------------------------------------------------------

ACTIVATION_NAMES = ("relu", "leaky_relu", "elu", "silu", "gelu", "tanh")
_KAIMING_NONLINEARITY = {"relu": ("relu", 0.0), "leaky_relu": ("leaky_relu", 0.01), "elu": ("relu", 0.0),
                         "silu": ("relu", 0.0), "gelu": ("relu", 0.0), "tanh": ("tanh", 0.0)}


def _activation_function(name):
    functions = {"relu": relu, "leaky_relu": leaky_relu, "elu": elu, "silu": silu, "gelu": gelu,
                 "tanh": topic05.tanh}
    if name not in functions:
        raise ValueError(f"unknown activation {name!r}: use one of {ACTIVATION_NAMES}")
    return functions[name]


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
    """[h_1, ..., h_L], h_i = act(h_{i-1} @ W_i) (biases are 0, so the + b pass is skipped).

    Every layer's activations are kept (they are the result); the pre-activation of each layer is one reused
    buffer, written by np.dot(h, W, out=z). Weights: Topic 05's initialisers, one Generator default_rng(seed).
    """
    sizes = [int(s) for s in layer_sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise ValueError(f"layer_sizes needs at least an input and one layer size, all >= 1, got {layer_sizes}")
    act = _activation_function(activation)
    h = _as_float(x)
    if h.ndim != 2 or h.shape[1] != sizes[0]:
        raise ValueError(f"x must be (N, {sizes[0]}) for layer_sizes {sizes}, got shape {h.shape}")
    rng = np.random.default_rng(seed)
    outputs, z = [], None
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        W = _init_weight(init, fan_in, fan_out, rng, h.dtype, activation)
        z = _reuse(z, (h.shape[0], fan_out), h.dtype)
        np.dot(h, W, out=z)
        h = act(z)
        outputs.append(h)
    return outputs


def activation_statistics(layer_sizes, activation, init, x, seed=0):
    """[(mean, std)] per layer of forward_activations. ValueError for an empty batch."""
    if np.shape(x)[:1] == (0,):
        raise ValueError("activation statistics of an empty batch are undefined")
    return [(float(np.mean(h)), float(np.std(h))) for h in forward_activations(layer_sizes, activation, init, x, seed)]


def compare_initializations(activations=("relu", "tanh"), inits=("xavier", "kaiming", 1.0), depth=10,
                            width=256, batch=1000, seed=0):
    """{(activation, init): [(mean, std) per layer]}, x = default_rng(seed + 1).standard_normal((batch, width))."""
    x = np.random.default_rng(seed + 1).standard_normal((batch, width))
    sizes = [width] * (depth + 1)
    return {(act, init): activation_statistics(sizes, act, init, x, seed=seed) for act in activations for init in inits}


# ----------------------------------------------------------------------------------------------------
# Measurements (python level03-memory-efficient.py)
# ----------------------------------------------------------------------------------------------------

def _peak_mb(fn, repeats=1):
    """Peak bytes allocated by fn() (tracemalloc), in MB, after one warm-up call."""
    fn()
    tracemalloc.start()
    for _ in range(repeats):
        fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1e6


def _best_ms(fn, repeats=9):
    """The fastest of `repeats` calls, in ms (the minimum is the least disturbed by other processes)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * min(times)


def measure():
    """Level 2 vs level 3: one forward + backward per layer on a (1024, 1024) float32 batch, steady state."""
    level2 = load_topic(7, level=2)
    x = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    dout = np.ones_like(x)
    print("forward + backward of a (1024, 1024) float32 batch, steady state (level 2 -> level 3):")
    for name, make in (("SiLU", lambda m: m.SiLU()), ("GELU (exact)", lambda m: m.GELU()),
                       ("GELU (tanh)", lambda m: m.GELU("tanh")), ("ELU", lambda m: m.ELU()),
                       ("LeakyReLU", lambda m: m.LeakyReLU())):
        row = []
        for module in (level2, sys.modules[__name__]):
            layer = make(module)

            def step(layer=layer):
                layer.forward(x)
                layer.backward(dout)

            row.append((_peak_mb(step), _best_ms(step)))
        (m2, t2), (m3, t3) = row
        print(f"    {name:<13} peak {m2:5.1f} MB -> {m3:4.1f} MB allocated, {t2:5.1f} ms -> {t3:5.1f} ms")
    x64 = np.random.default_rng(1).standard_normal(10 ** 6)
    print(f"elu(x) on 10**6 float64 values: peak {_peak_mb(lambda: level2.elu(x64)):.1f} MB -> "
          f"{_peak_mb(lambda: elu(x64)):.1f} MB")


if __name__ == "__main__":
    x = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for name, f, df in (("relu", relu, relu_grad), ("leaky_relu", leaky_relu, leaky_relu_grad), ("elu", elu, elu_grad),
                        ("silu", silu, silu_grad), ("gelu", gelu, gelu_grad)):
        print(f"{name:>10}: f = {np.round(f(x), 4)}   f' = {np.round(df(x), 4)}")
    grid = np.linspace(-6, 6, 1201)
    worst = max(abs(float(e) - math.erf(v)) for e, v in zip(erf(grid), grid))
    print(f"erf: largest error against math.erf on [-6, 6]: {worst:.1e}")
    assert worst < 1e-14

    # the layers reuse their buffers and agree with the functions, in float32 too
    x32 = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    for layer, f, df in ((SiLU(), silu, silu_grad), (GELU(), gelu, gelu_grad), (ELU(0.7), lambda v: elu(v, 0.7),
                          lambda v: elu_grad(v, 0.7))):
        out = layer.forward(x32)
        dx = layer.backward(np.ones_like(x32))
        assert out.dtype == dx.dtype == np.float32
        assert np.allclose(out, f(x32), atol=1e-6) and np.allclose(dx, df(x32), atol=1e-6), layer
        assert layer.forward(x32) is out, f"{layer!r} should reuse its output buffer"
    print("layers: float32 kept, buffers reused, results equal the functions")
    measure()
    print("level 3 self-test passed")
