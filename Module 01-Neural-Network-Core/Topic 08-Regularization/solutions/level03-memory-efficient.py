"""
Level 3: Memory-Efficient Implementation
- Priority: No needless allocation and fast in float32 (Topic 10 builds its MNIST model on this Dropout)
- Constraints: NumPy only; uniforms drawn straight into the mask buffer, in-place comparisons and `out=` products,
  buffers reused while shapes repeat, early-stopping snapshots copied into preallocated arrays
- Target: Same results as level 2 (the same masks for float64 inputs and the same seed), far fewer bytes

What it saves, and how:
- Dropout draws its uniforms IN THE DTYPE OF x, straight into the mask array (`rng.random(out=mask,
  dtype=np.float32)`), turns them into 0/1 in place (`np.greater_equal(mask, p, out=mask)`), scales in place
  (`mask *= 1 / (1 - p)`) and multiplies into the output (`np.multiply(x, mask, out=out)`). Level 2 allocates
  a float64 array of uniforms, a bool array, a float copy, a scaled copy, then the output: 21 bytes per float32
  unit against the 8 of the two arrays returned here, and float32 uniforms take 32 random bits instead of 64.
  (float64 inputs draw float64 uniforms, the very stream level 2 uses: same seed, same mask.)
- The Dropout layer keeps its mask, output and gradient arrays and rewrites them every call while the batch
  shape repeats: a steady-state forward + backward allocates nothing. The arrays it returns are ITS buffers,
  valid until its next call (`.copy()` one to keep it), as in Topic 06's level-3 layers.
- EarlyStopping allocates its snapshot arrays once and refreshes them with np.copyto on every improvement,
  where level 2 allocates (and frees) a whole copy of the model each time.
- l2_penalty sums squares with np.vdot (no W * W temporary); the SGD steps write into the array they return.

Measured on a 2-core CPU (`python level03-memory-efficient.py` re-measures), float32 activations (256, 512)
(Topic 10's first hidden layer at batch 256), median of 200 calls, tracemalloc peak of one call:
    dropout_forward              level 2: 0.50 ms, 1.18 MB     level 3: 0.37 ms, 1.05 MB (just the out and mask)
    Dropout forward + backward   level 2: 0.46 ms, 1.57 MB     level 3: 0.38 ms, 0.01 MB (no array allocated)
    torch.nn.functional.dropout on the same tensor (1 thread): 1.9 ms
  Drawing the 131,072 uniforms takes 0.3 ms of it: the random numbers, not the arithmetic, set the pace.
EarlyStopping.step on an improving epoch, 10.5M float32 parameters (41.9 MB):
    level 2: 7.6 ms, 41.9 MB allocated per improvement       level 3: 4.5 ms, nothing allocated
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3, level=3)  # Parameter, Adam and AdamW from Topic 03 (its allocation-free level)


# ----------------------------------------------------------------------------------------------------
# Task 1: the L2 penalty and its gradient
# ----------------------------------------------------------------------------------------------------

def l2_penalty(weights, lam):
    """The L2 penalty 0.5 * lam * sum_k ||W_k||^2 and its gradient with respect to every W_k.

    weights: list (or tuple) of arrays of any shapes (usually the weight matrices only, not the biases)
    lam:     regularization strength, >= 0 (ValueError otherwise)
    Returns (loss, grads): loss a Python float; grads[k] = lam * W_k, with the shape and dtype of W_k.
    """
    if isinstance(weights, np.ndarray):
        raise TypeError("l2_penalty takes a LIST of weight arrays, e.g. l2_penalty([W1, W2], lam); "
                        "wrap a single array in a list")
    lam = _check_non_negative("lam", lam)
    weights = [_as_float(W) for W in weights]
    loss = 0.5 * lam * sum(float(np.vdot(W, W)) for W in weights)  # a dot product: no W * W temporary
    grads = [np.multiply(W, lam) for W in weights]
    return loss, grads


# ----------------------------------------------------------------------------------------------------
# Task 2: one SGD step with L2, and with decoupled weight decay
# ----------------------------------------------------------------------------------------------------

def _check_step(w, grad, lr):
    w = _as_float(w)
    grad = np.asarray(grad, dtype=w.dtype)
    if grad.shape != w.shape:
        raise ValueError(f"grad has shape {grad.shape} but w has shape {w.shape}")
    return w, grad, _check_non_negative("lr", lr)


def _shrink_then_step(w, grad, lr, shrink):
    """w * shrink - lr * grad, written into one new array (the only temporary is lr * grad's product)."""
    new_w = np.multiply(w, shrink)
    new_w -= np.multiply(grad, lr)
    return new_w


def sgd_step_l2(w, grad, lr, lam):
    """One SGD step on loss + 0.5 * lam * ||w||^2: w - lr * (grad + lam * w).

    w, grad: arrays of the same shape; lr, lam >= 0. Returns a NEW array (w is not modified), dtype of w.
    Computed as w * (1 - lr * lam) - lr * grad: the same number, one array fewer.
    """
    w, grad, lr = _check_step(w, grad, lr)
    lam = _check_non_negative("lam", lam)
    return _shrink_then_step(w, grad, lr, 1.0 - lr * lam)


def sgd_step_decoupled(w, grad, lr, wd):
    """One SGD step with decoupled weight decay: w * (1 - lr * wd) - lr * grad.

    Shrink the weights, then follow the loss gradient. For plain SGD this is sgd_step_l2 with lam = wd.
    Returns a NEW array (w is not modified), dtype of w.
    """
    w, grad, lr = _check_step(w, grad, lr)
    wd = _check_non_negative("wd", wd)
    return _shrink_then_step(w, grad, lr, 1.0 - lr * wd)


# ----------------------------------------------------------------------------------------------------
# Task 3: Adam with L2 in the gradient vs AdamW (decoupled decay), with Topic 03's optimizers
# ----------------------------------------------------------------------------------------------------

def adam_l2_vs_adamw(w0, curvature, target, steps=100, lr=0.01, wd=0.1, betas=(0.9, 0.999), eps=1e-8):
    """Run Adam(weight_decay=wd) and AdamW(weight_decay=wd) from w0 on the same quadratic loss.

    loss(w) = 0.5 * sum(curvature * (w - target)^2), so its gradient is curvature * (w - target).
    w0, curvature, target: arrays of one shape S; steps >= 0.
    Returns (path_adam_l2, path_adamw), each (steps + 1, *S) in w0's dtype: row 0 is w0, row t the weights
    after t steps. Adam adds wd * w to the gradient (L2); AdamW shrinks w by (1 - lr * wd) on its own.
    """
    w0 = _as_float(w0)
    curvature = np.asarray(curvature, dtype=w0.dtype)
    target = np.asarray(target, dtype=w0.dtype)
    if curvature.shape != w0.shape or target.shape != w0.shape:
        raise ValueError(f"w0 {w0.shape}, curvature {curvature.shape} and target {target.shape} must share a shape")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    paths = []
    for optimizer_class in (optim.Adam, optim.AdamW):
        param = optim.Parameter(w0.copy())
        opt = optimizer_class([param], lr=lr, betas=betas, eps=eps, weight_decay=wd)
        path = np.empty((int(steps) + 1,) + w0.shape, dtype=w0.dtype)  # the whole path, allocated once
        path[0] = w0
        for t in range(1, int(steps) + 1):
            np.subtract(param.data, target, out=param.grad)  # gradient written in place: no temporaries
            param.grad *= curvature
            opt.step()
            path[t] = param.data
        paths.append(path)
    return paths[0], paths[1]


# ----------------------------------------------------------------------------------------------------
# Task 4: inverted dropout, functional
# ----------------------------------------------------------------------------------------------------

def _fill_mask(rng, p, mask):
    """Fill `mask` in place with 1 / (1 - p) (kept, probability 1 - p) or 0 (dropped)."""
    if mask.dtype in (np.float32, np.float64):
        rng.random(out=mask, dtype=mask.dtype)          # the uniforms land in the mask array itself
        uniforms = mask
    else:                                               # float16 & co: Generator.random draws 32 or 64 bits only
        uniforms = rng.random(mask.shape, dtype=np.float32)
    np.greater_equal(uniforms, p, out=mask)             # 1.0 where kept, 0.0 where dropped, in place
    mask *= 1.0 / (1.0 - p)                             # inverted scaling, in the dtype of x
    return mask


def dropout_forward(x, p, train=True, rng=None):
    """Inverted dropout: zero each unit with probability p and scale the survivors by 1 / (1 - p).

    x:     array of any shape, e.g. (N, D); integer input becomes float64
    p:     drop probability in [0, 1) (ValueError otherwise); p = 0 is the identity
    train: False (evaluation) -> out is x itself and mask is None: nothing to undo at test time
    rng:   np.random.Generator, int seed or None
    Returns (out, mask): out = x * mask, with x's shape and dtype; mask holds 0 (dropped) or 1 / (1 - p)
    (kept), in x's dtype, so that E[out] = x and backward is just dout * mask.
    Allocates exactly the two arrays it returns.
    """
    p = _check_p(p)
    x = _as_float(x)
    if not train:
        return x, None
    mask = _fill_mask(np.random.default_rng(rng), p, np.empty(x.shape, dtype=x.dtype))
    return np.multiply(x, mask, out=np.empty_like(mask)), mask


def dropout_backward(dout, mask):
    """dout: upstream gradient, the shape of out; mask: from dropout_forward (None in eval mode).

    Returns dx = dout * mask (the same units dropped, the same 1 / (1 - p) scale); dout itself when mask is None.
    """
    dout = _as_float(dout)
    if mask is None:
        return dout
    if dout.shape != np.shape(mask):
        raise ValueError(f"dout has shape {dout.shape} but the dropout mask has shape {np.shape(mask)}")
    return np.multiply(dout, mask)


# ----------------------------------------------------------------------------------------------------
# Task 5: the Dropout layer (Layer protocol), with buffers reused across calls
# ----------------------------------------------------------------------------------------------------

class Dropout:
    """Inverted dropout as a layer: drops units in training mode, the identity in eval mode.

    p:   drop probability in [0, 1)
    rng: np.random.Generator (kept as it is, so a model can share one), int seed or None; stored as self.rng,
         whose bit_generator.state a checkpoint saves to resume with the same masks.
    forward/backward return the layer's own buffers (valid until the next call): copy them to keep them.
    """

    def __init__(self, p=0.5, rng=None):
        self.p = _check_p(p)
        self.rng = np.random.default_rng(rng)  # default_rng returns a Generator unchanged
        self.training = True
        self._mask = self._out = self._dx = None
        self._masked = False        # did the last forward apply a mask (training) or pass x through (eval)?
        self._has_forward = False

    def forward(self, x):
        """x: (N, D) or any shape -> out of the same shape; a fresh mask every call in training mode."""
        x = _as_float(x)
        self._has_forward = True
        self._masked = self.training
        if not self.training:
            return x                                    # eval: the identity, not even a copy
        self._mask = _reuse(self._mask, x.shape, x.dtype)
        _fill_mask(self.rng, self.p, self._mask)
        self._out = _reuse(self._out, x.shape, x.dtype)
        np.multiply(x, self._mask, out=self._out)
        return self._out

    def backward(self, dout):
        """dout: the shape of the last output -> dx = dout * mask (dout itself after an eval-mode forward)."""
        if not self._has_forward:
            raise RuntimeError("Dropout.backward called before forward")
        dout = _as_float(dout)
        if not self._masked:
            return dout
        if dout.shape != self._mask.shape:
            raise ValueError(f"dout has shape {dout.shape} but the dropout mask has shape {self._mask.shape}")
        self._dx = _reuse(self._dx, dout.shape, np.result_type(dout, self._mask))
        np.multiply(dout, self._mask, out=self._dx)
        return self._dx

    def parameters(self):
        return []

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def __repr__(self):
        return f"Dropout(p={self.p})"


# ----------------------------------------------------------------------------------------------------
# Task 6: early stopping, with preallocated snapshots
# ----------------------------------------------------------------------------------------------------

class EarlyStopping:
    """Stop training when a validation metric has not improved for `patience` epochs; keep the best weights.

    patience:     number of consecutive epochs without improvement that triggers the stop (int >= 1)
    min_delta:    an improvement must beat the best value by MORE than this (>= 0)
    mode:         "min" (losses) or "max" (accuracies)
    restore_best: when step() returns True, copy the best weights back into the parameters
    Attributes: best (best metric so far, +inf / -inf before the first), best_epoch (0-based index of the step()
    call that set it, None before), num_bad_epochs (consecutive calls without improvement), stopped (bool).
    """

    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best=True):
        if int(patience) != patience or patience < 1:
            raise ValueError(f"patience must be an integer >= 1, got {patience!r}")
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' (a loss) or 'max' (an accuracy), got {mode!r}")
        self.patience = int(patience)
        self.min_delta = _check_non_negative("min_delta", min_delta)
        self.mode = mode
        self.restore_best = bool(restore_best)
        self.best = math.inf if mode == "min" else -math.inf
        self.best_epoch = None
        self.num_bad_epochs = 0
        self.stopped = False
        self.epoch = 0
        self.best_weights = None    # allocated on the first improvement, then refreshed in place

    def is_improvement(self, metric):
        """True when metric beats self.best by more than min_delta (never for NaN: every comparison is False)."""
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def _snapshot(self, params):
        arrays = [_array_of(p) for p in params]
        buffers = self.best_weights
        if buffers is None or len(buffers) != len(arrays) or any(
                b.shape != a.shape or b.dtype != a.dtype for a, b in zip(arrays, buffers)):
            buffers = self.best_weights = [np.empty_like(a) for a in arrays]  # once, or if the model changed
        for buffer, array in zip(buffers, arrays):
            np.copyto(buffer, array)

    def step(self, metric, params=None):
        """Record one epoch's metric; returns True when training should stop now.

        params: list of Parameters (or arrays) whose .data is snapshotted (copied) on improvement;
                None tracks the metric only.
        """
        metric = float(metric)
        if self.is_improvement(metric):
            self.best, self.best_epoch, self.num_bad_epochs = metric, self.epoch, 0
            if params is not None:
                self._snapshot(params)
        else:
            self.num_bad_epochs += 1
        self.epoch += 1
        stop = self.num_bad_epochs >= self.patience
        if stop:
            self.stopped = True
            if self.restore_best and params is not None and self.best_weights is not None:
                self.restore(params)
        return stop

    def restore(self, params):
        """Copy the best snapshot back into every parameter's .data, in place (p.data stays the same array)."""
        if self.best_weights is None:
            raise RuntimeError("no best weights recorded yet: step(metric, params) has not seen an improvement")
        params = list(params)
        if len(params) != len(self.best_weights):
            raise ValueError(f"{len(params)} parameters given, the snapshot holds {len(self.best_weights)}")
        for p, best in zip(params, self.best_weights):
            data = _array_of(p)
            if data.shape != best.shape:
                raise ValueError(f"parameter of shape {data.shape} cannot take the snapshot of shape {best.shape}")
            np.copyto(data, best)


# ----------------------------------------------------------------------------------------------------
# Self-test and the measurements quoted in the module docstring
# ----------------------------------------------------------------------------------------------------

def _measure(fn, repeats=200):
    """(median seconds, tracemalloc peak bytes of one call) after one warm-up call."""
    import statistics
    import time
    import tracemalloc

    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak


def _benchmark():
    from dlfs.components import topic_file

    level2 = load_topic(8, level=2)
    print(f"(level 2 from {topic_file(8, 2).name})")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 512)).astype(np.float32)
    dout = rng.standard_normal((256, 512)).astype(np.float32)
    rows = {
        "dropout_forward, level 2": lambda: level2.dropout_forward(x, 0.5, rng=rng),
        "dropout_forward, level 3": lambda: dropout_forward(x, 0.5, rng=rng),
    }
    layer2, layer3 = level2.Dropout(0.5, rng=1), Dropout(0.5, rng=1)
    rows["Dropout forward + backward, level 2"] = lambda: (layer2.forward(x), layer2.backward(dout))
    rows["Dropout forward + backward, level 3"] = lambda: (layer3.forward(x), layer3.backward(dout))
    for name, fn in rows.items():
        seconds, peak = _measure(fn)
        print(f"  {name:<38} {seconds * 1e3:6.2f} ms   peak {peak / 1e6:5.2f} MB")

    sizes = [(2048, 2048), (2048, 2048), (1024,), (2048, 1024)]  # about 8.4M float32 parameters
    params = [optim.Parameter(rng.standard_normal(s).astype(np.float32)) for s in sizes]
    print(f"EarlyStopping.step on an improving epoch, {sum(p.data.size for p in params) / 1e6:.1f}M float32 "
          f"parameters ({sum(p.data.nbytes for p in params) / 1e6:.1f} MB):")
    for name, cls in (("level 2", level2.EarlyStopping), ("level 3", EarlyStopping)):
        stopper, metric = cls(patience=3), [1.0]

        def improving_step():
            metric[0] -= 1e-3
            stopper.step(metric[0], params)

        seconds, peak = _measure(improving_step, repeats=20)
        print(f"  {name}: {seconds * 1e3:6.2f} ms per improving step, peak {peak / 1e6:5.2f} MB")


# ----------------------------------------------------------------------------------------------------
# Helpers: input checks and buffer reuse
# ----------------------------------------------------------------------------------------------------

def _as_float(x):
    """x as an ndarray; floating arrays keep their dtype (no copy), anything else becomes float64."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _check_non_negative(name, value):
    value = float(value)  # a Python float: a NumPy float64 scalar would upcast float32 arrays
    if not value >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _check_p(p):
    p = float(p)
    if not 0.0 <= p < 1.0:  # also rejects NaN
        raise ValueError(f"dropout probability p must be in [0, 1), got {p!r} (p = 1 would drop every unit)")
    return p


def _array_of(param):
    """The array behind a Parameter (its .data), or the array itself."""
    return param if isinstance(param, np.ndarray) else param.data


def _reuse(buffer, shape, dtype):
    """`buffer` itself when it already has this shape and dtype (no allocation), else a new empty array."""
    if buffer is not None and buffer.shape == shape and buffer.dtype == dtype:
        return buffer
    return np.empty(shape, dtype=dtype)


if __name__ == "__main__":
    # Self-test on toy data: the invariants of inverted dropout, L2 by hand, early stopping on a script.
    x = np.ones((2000, 50), dtype=np.float32)
    out, mask = dropout_forward(x, 0.2, rng=0)
    print(f"dropout p=0.2 (float32): out {out.shape} {out.dtype}, zeros {np.mean(out == 0):.3f}, mean {out.mean():.3f}")
    assert out.dtype == mask.dtype == np.float32, "float32 in, float32 out (and a float32 mask)"
    assert abs(np.mean(out == 0) - 0.2) < 0.01 and abs(out.mean() - 1.0) < 0.01
    assert dropout_forward(x, 0.2, train=False)[0] is x, "eval mode must be the identity"

    layer = Dropout(0.5, rng=0)
    first = layer.forward(x).copy()
    assert layer.forward(x) is layer._out and not np.array_equal(first, layer._out), "new mask, same buffer"
    assert np.array_equal(layer.backward(x), layer._out), "backward uses the forward mask"

    loss, grads = l2_penalty([np.array([[1.0, 2.0], [3.0, 4.0]])], lam=0.1)
    print(f"l2_penalty: loss {loss} (0.5 * 0.1 * 30 = 1.5), grad {grads[0].tolist()}")
    assert math.isclose(loss, 1.5) and np.allclose(grads[0], [[0.1, 0.2], [0.3, 0.4]])
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    assert np.allclose(sgd_step_l2(w, g, 0.1, 0.2), sgd_step_decoupled(w, g, 0.1, 0.2)), "SGD: L2 == decay"

    params = [optim.Parameter(np.zeros(3))]
    stopper = EarlyStopping(patience=2)
    for epoch, val_loss in enumerate([1.0, 0.5, 0.7, 0.6]):
        params[0].data[...] = epoch  # pretend training moved the weights
        if stopper.step(val_loss, params):
            break
    print(f"early stopping: stopped after epoch {epoch}, best {stopper.best} at epoch {stopper.best_epoch}")
    assert epoch == 3 and stopper.best_epoch == 1 and np.all(params[0].data == 1.0), "restore the epoch-1 weights"
    print("level 3 self-test passed\n")
    _benchmark()
