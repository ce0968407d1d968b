"""
Level 2: Vectorized Implementation
- Priority: Clarity and speed: every formula is one NumPy expression over whole arrays
- Constraints: NumPy only, no Python loops over elements (loops over the list of weight arrays are fine)
- Target: Pass every test; this is the reference later topics load with `load_topic(8)`

Topic 08: three ways to stop a network from memorising its training set.
    L2 regularization     : l2_penalty, sgd_step_l2, sgd_step_decoupled, adam_l2_vs_adamw
    Dropout               : dropout_forward / dropout_backward (inverted dropout) and the Dropout layer
    Early stopping        : EarlyStopping (patience, min_delta, best-weights snapshot and restore)

Conventions (shared by Module 01): x is (N, D) with one row per sample; weights are lists of arrays;
every function keeps the floating dtype of its inputs (float32 in -> float32 out); `rng` is a
np.random.Generator, an int seed or None, turned into a Generator by np.random.default_rng.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter, Adam and AdamW come from Topic 03: the comparison reuses them


# ----------------------------------------------------------------------------------------------------
# Task 1: the L2 penalty and its gradient
# ----------------------------------------------------------------------------------------------------

def l2_penalty(weights, lam):
    """The L2 penalty 0.5 * lam * sum_k ||W_k||^2 and its gradient with respect to every W_k.

    weights: list (or tuple) of arrays of any shapes (usually the weight matrices only, not the biases)
    lam:     regularization strength, >= 0 (ValueError otherwise)
    Returns (loss, grads): loss a Python float; grads[k] = lam * W_k, with the shape and dtype of W_k.
    """
    weights = _as_weight_list(weights)
    lam = _check_non_negative("lam", lam)
    loss = 0.5 * lam * sum(float(np.sum(W * W)) for W in weights)
    grads = [lam * W for W in weights]  # d/dW of 0.5 * lam * W^2: the 0.5 cancels the 2
    return loss, grads


# ----------------------------------------------------------------------------------------------------
# Task 2: one SGD step with L2, and with decoupled weight decay
# ----------------------------------------------------------------------------------------------------

def _check_step(w, grad, lr):
    w = _as_float(w)
    grad = np.asarray(grad, dtype=w.dtype)  # the update keeps the parameter's dtype
    if grad.shape != w.shape:
        raise ValueError(f"grad has shape {grad.shape} but w has shape {w.shape}")
    return w, grad, _check_non_negative("lr", lr)


def sgd_step_l2(w, grad, lr, lam):
    """One SGD step on loss + 0.5 * lam * ||w||^2: w - lr * (grad + lam * w).

    w, grad: arrays of the same shape; lr, lam >= 0. Returns a NEW array (w is not modified), dtype of w.
    """
    w, grad, lr = _check_step(w, grad, lr)
    lam = _check_non_negative("lam", lam)
    return w - lr * (grad + lam * w)


def sgd_step_decoupled(w, grad, lr, wd):
    """One SGD step with decoupled weight decay: w * (1 - lr * wd) - lr * grad.

    Shrink the weights, then follow the loss gradient. For plain SGD this is sgd_step_l2 with lam = wd.
    Returns a NEW array (w is not modified), dtype of w.
    """
    w, grad, lr = _check_step(w, grad, lr)
    wd = _check_non_negative("wd", wd)
    return w * (1.0 - lr * wd) - lr * grad


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
        param = optim.Parameter(w0.copy())  # a copy: the caller's w0 must not move
        opt = optimizer_class([param], lr=lr, betas=betas, eps=eps, weight_decay=wd)
        path = np.empty((int(steps) + 1,) + w0.shape, dtype=w0.dtype)
        path[0] = param.data
        for t in range(1, int(steps) + 1):
            param.grad[...] = curvature * (param.data - target)  # the data loss only: wd is the optimizer's job
            opt.step()
            path[t] = param.data
        paths.append(path)
    return paths[0], paths[1]


# ----------------------------------------------------------------------------------------------------
# Task 4: inverted dropout, functional
# ----------------------------------------------------------------------------------------------------

def dropout_forward(x, p, train=True, rng=None):
    """Inverted dropout: zero each unit with probability p and scale the survivors by 1 / (1 - p).

    x:     array of any shape, e.g. (N, D); integer input becomes float64
    p:     drop probability in [0, 1) (ValueError otherwise); p = 0 is the identity
    train: False (evaluation) -> out is x itself and mask is None: nothing to undo at test time
    rng:   np.random.Generator, int seed or None
    Returns (out, mask): out = x * mask, with x's shape and dtype; mask holds 0 (dropped) or 1 / (1 - p)
    (kept), in x's dtype, so that E[out] = x and backward is just dout * mask.
    """
    p = _check_p(p)
    x = _as_float(x)
    if not train:
        return x, None
    rng = np.random.default_rng(rng)
    keep = rng.random(x.shape) >= p                # True with probability 1 - p
    mask = keep.astype(x.dtype) / (1.0 - p)        # inverted: scale at train time, so eval needs no change
    return x * mask, mask


def dropout_backward(dout, mask):
    """dout: upstream gradient, the shape of out; mask: from dropout_forward (None in eval mode).

    Returns dx = dout * mask (the same units dropped, the same 1 / (1 - p) scale); dout itself when mask is None.
    """
    dout = _as_float(dout)
    if mask is None:
        return dout
    if dout.shape != np.shape(mask):
        raise ValueError(f"dout has shape {dout.shape} but the dropout mask has shape {np.shape(mask)}")
    return dout * mask


# ----------------------------------------------------------------------------------------------------
# Task 5: the Dropout layer (Layer protocol)
# ----------------------------------------------------------------------------------------------------

class Dropout:
    """Inverted dropout as a layer: drops units in training mode, the identity in eval mode.

    p:   drop probability in [0, 1)
    rng: np.random.Generator (kept as it is, so a model can share one), int seed or None; stored as self.rng,
         whose bit_generator.state a checkpoint saves to resume with the same masks.
    """

    def __init__(self, p=0.5, rng=None):
        self.p = _check_p(p)
        self.rng = np.random.default_rng(rng)  # default_rng returns a Generator unchanged
        self.training = True
        self._mask = None
        self._has_forward = False

    def forward(self, x):
        """x: (N, D) or any shape -> out of the same shape; a fresh mask every call in training mode."""
        out, self._mask = dropout_forward(x, self.p, train=self.training, rng=self.rng)
        self._has_forward = True
        return out

    def backward(self, dout):
        """dout: the shape of the last output -> dx = dout * mask (dout itself after an eval-mode forward)."""
        if not self._has_forward:
            raise RuntimeError("Dropout.backward called before forward")
        return dropout_backward(dout, self._mask)

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
# Task 6: early stopping
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
        self.epoch = 0               # how many times step() has been called
        self.best_weights = None     # copies of the parameter arrays at best_epoch

    def is_improvement(self, metric):
        """True when metric beats self.best by more than min_delta (never for NaN: every comparison is False)."""
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric, params=None):
        """Record one epoch's metric; returns True when training should stop now.

        params: list of Parameters (or arrays) whose .data is snapshotted (copied) on improvement;
                None tracks the metric only.
        """
        metric = float(metric)
        if self.is_improvement(metric):
            self.best, self.best_epoch, self.num_bad_epochs = metric, self.epoch, 0
            if params is not None:
                # copies: the optimizer keeps updating p.data in place, a reference would follow it
                self.best_weights = [_array_of(p).copy() for p in params]
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
            data[...] = best


# ----------------------------------------------------------------------------------------------------
# Input checks shared by the tasks
# ----------------------------------------------------------------------------------------------------

def _as_float(x):
    """x as an ndarray; floating arrays keep their dtype, anything else (ints, bools, lists) becomes float64."""
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


def _as_weight_list(weights):
    if isinstance(weights, np.ndarray):
        raise TypeError("l2_penalty takes a LIST of weight arrays, e.g. l2_penalty([W1, W2], lam); "
                        "wrap a single array in a list")
    return [_as_float(W) for W in weights]


def _array_of(param):
    """The array behind a Parameter (its .data), or the array itself."""
    return param if isinstance(param, np.ndarray) else param.data


if __name__ == "__main__":
    # Self-test on toy data: the invariants of inverted dropout, L2 by hand, early stopping on a script.
    x = np.ones((2000, 50))
    out, mask = dropout_forward(x, 0.2, rng=0)
    print(f"dropout p=0.2: out shape {out.shape}, zeros {np.mean(out == 0):.3f}, mean {out.mean():.3f}")
    assert out.shape == x.shape and abs(np.mean(out == 0) - 0.2) < 0.01 and abs(out.mean() - 1.0) < 0.01
    assert dropout_forward(x, 0.2, train=False)[0] is x, "eval mode must be the identity"

    loss, grads = l2_penalty([np.array([[1.0, 2.0], [3.0, 4.0]])], lam=0.1)
    print(f"l2_penalty: loss {loss} (0.5 * 0.1 * 30 = 1.5), grad {grads[0].tolist()}")
    assert math.isclose(loss, 1.5) and np.allclose(grads[0], [[0.1, 0.2], [0.3, 0.4]])
    w, g = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    assert np.allclose(sgd_step_l2(w, g, 0.1, 0.2), sgd_step_decoupled(w, g, 0.1, 0.2)), "SGD: L2 == decay"

    adam_path, adamw_path = adam_l2_vs_adamw(np.array([1.0, 1.0]), np.array([100.0, 0.01]), np.zeros(2),
                                             steps=200, lr=0.01, wd=0.5)
    print(f"after 200 steps: Adam+L2 {adam_path[-1].round(4).tolist()}, AdamW {adamw_path[-1].round(4).tolist()}")
    assert not np.allclose(adam_path, adamw_path), "with Adam, L2 and decoupled decay must differ"

    params = [optim.Parameter(np.zeros(3))]
    stopper = EarlyStopping(patience=2)
    for epoch, val_loss in enumerate([1.0, 0.5, 0.7, 0.6]):
        params[0].data[...] = epoch  # pretend training moved the weights
        if stopper.step(val_loss, params):
            break
    print(f"early stopping: stopped after epoch {epoch}, best {stopper.best} at epoch {stopper.best_epoch}")
    assert epoch == 3 and stopper.best_epoch == 1 and np.all(params[0].data == 1.0), "restore the epoch-1 weights"
    print("level 2 self-test passed")
