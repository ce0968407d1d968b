"""
Topic 08: Regularization - your implementation.

Copy this file to solution.py in the same folder, then replace every `raise NotImplementedError` with your
code, task by task (questions.md has the details, hints/ has help):

    cp starter.py solution.py
    python utils/test_runner.py --day 8          # from the repository root

Conventions (shared by Module 01; Topic 10 builds its MNIST model with your Dropout and EarlyStopping):
- x is (N, D): one row per sample. Weights are passed as lists of arrays.
- Every function keeps the floating dtype of its input: float32 in -> float32 out. Integer input becomes float64.
- `rng` is a np.random.Generator, an int seed, or None (fresh randomness): np.random.default_rng(rng)
  turns all three into a Generator (and returns a Generator unchanged). Never use the global np.random.seed.
- Layers follow the Layer protocol: forward(x), backward(dout), parameters(), train(), eval(), .training.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Topic 03: Parameter, Adam, AdamW (your own with DLFS_USE_MINE=3)


# ----------------------------------------------------------------------------------------------------
# Task 1: the L2 penalty and its gradient
# ----------------------------------------------------------------------------------------------------

def l2_penalty(weights, lam):
    """The L2 penalty 0.5 * lam * sum_k ||W_k||^2 and its gradient with respect to every W_k.

    weights: list (or tuple) of arrays of any shapes (usually the weight matrices only, not the biases)
    lam:     regularization strength, >= 0 (ValueError otherwise)
    Returns (loss, grads): loss a Python float; grads[k] = lam * W_k, with the shape and dtype of W_k.
    An empty list gives (0.0, []); a NaN weight gives a NaN loss.
    """
    raise NotImplementedError("Task 1: l2_penalty (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: one SGD step with L2, and with decoupled weight decay
# ----------------------------------------------------------------------------------------------------

def sgd_step_l2(w, grad, lr, lam):
    """One SGD step on loss + 0.5 * lam * ||w||^2: w - lr * (grad + lam * w).

    w, grad: arrays of the same shape (ValueError otherwise); lr, lam >= 0 (ValueError otherwise).
    Returns a NEW array (w is not modified), in the dtype of w.
    """
    raise NotImplementedError("Task 2: sgd_step_l2 (see questions.md)")


def sgd_step_decoupled(w, grad, lr, wd):
    """One SGD step with decoupled weight decay: w * (1 - lr * wd) - lr * grad.

    Same checks and return convention as sgd_step_l2. For plain SGD this equals sgd_step_l2 with lam = wd.
    """
    raise NotImplementedError("Task 2: sgd_step_decoupled (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: Adam with L2 in the gradient vs AdamW (decoupled decay), with Topic 03's optimizers
# ----------------------------------------------------------------------------------------------------

def adam_l2_vs_adamw(w0, curvature, target, steps=100, lr=0.01, wd=0.1, betas=(0.9, 0.999), eps=1e-8):
    """Run optim.Adam(weight_decay=wd) and optim.AdamW(weight_decay=wd) from w0 on the same quadratic loss.

    loss(w) = 0.5 * sum(curvature * (w - target)^2), so its gradient is curvature * (w - target).
    w0, curvature, target: arrays of one shape S (ValueError otherwise); steps: integer >= 0.
    Returns (path_adam_l2, path_adamw), each of shape (steps + 1, *S) in w0's dtype: row 0 is w0, row t the
    weights after t steps. The caller's w0 must not change.
    """
    raise NotImplementedError("Task 3: adam_l2_vs_adamw (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: inverted dropout, functional
# ----------------------------------------------------------------------------------------------------

def dropout_forward(x, p, train=True, rng=None):
    """Inverted dropout: zero each unit with probability p and scale the survivors by 1 / (1 - p).

    x:     array of any shape, e.g. (N, D); integer input becomes float64
    p:     drop probability in [0, 1) (ValueError otherwise, in both modes); p = 0 is the identity
    train: False (evaluation) -> returns (x, None): the values of x unchanged, no mask
    rng:   np.random.Generator, int seed or None
    Returns (out, mask): out = x * mask, with x's shape and dtype; mask holds 0 (dropped) or 1 / (1 - p)
    (kept), in x's dtype, so that E[out] = x and backward is just dout * mask.
    """
    raise NotImplementedError("Task 4: dropout_forward (see questions.md)")


def dropout_backward(dout, mask):
    """dout: upstream gradient, the shape of out; mask: from dropout_forward (None in eval mode).

    Returns dx = dout * mask; dout itself when mask is None. ValueError when dout and mask differ in shape.
    """
    raise NotImplementedError("Task 4: dropout_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: the Dropout layer (Layer protocol)
# ----------------------------------------------------------------------------------------------------

class Dropout:
    """Inverted dropout as a layer: drops units in training mode, the identity in eval mode.

    p:   drop probability in [0, 1) (ValueError otherwise)
    rng: np.random.Generator (kept as it is, NOT copied, so a model can share one), int seed or None.
    """

    def __init__(self, p=0.5, rng=None):
        """Set self.p, self.rng (a Generator: np.random.default_rng(rng)) and self.training = True."""
        raise NotImplementedError("Task 5: Dropout.__init__ (see questions.md)")

    def forward(self, x):
        """x: (N, D) or any shape -> out of the same shape; a fresh mask from self.rng at every training call."""
        raise NotImplementedError("Task 5: Dropout.forward (see questions.md)")

    def backward(self, dout):
        """dout: the shape of the last output -> dx = dout * (the last forward's mask); the identity after an
        eval-mode forward. RuntimeError when called before any forward."""
        raise NotImplementedError("Task 5: Dropout.backward (see questions.md)")

    def parameters(self):
        """Dropout has no parameters: []."""
        raise NotImplementedError("Task 5: Dropout.parameters (see questions.md)")

    def train(self):
        """Training mode (self.training = True); returns self."""
        raise NotImplementedError("Task 5: Dropout.train (see questions.md)")

    def eval(self):
        """Evaluation mode (self.training = False); returns self."""
        raise NotImplementedError("Task 5: Dropout.eval (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 6: early stopping
# ----------------------------------------------------------------------------------------------------

class EarlyStopping:
    """Stop training when a validation metric has not improved for `patience` epochs; keep the best weights.

    patience:     number of consecutive epochs without improvement that triggers the stop (int >= 1)
    min_delta:    an improvement must beat the best value by MORE than this (>= 0)
    mode:         "min" (losses) or "max" (accuracies)
    restore_best: when step() returns True, copy the best weights back into the parameters
    ValueError for any other patience, min_delta or mode.
    Attributes: best (best metric so far, +inf / -inf before the first), best_epoch (0-based index of the step()
    call that set it, None before), num_bad_epochs (consecutive calls without improvement), stopped (bool).
    """

    def __init__(self, patience=5, min_delta=0.0, mode="min", restore_best=True):
        raise NotImplementedError("Task 6: EarlyStopping.__init__ (see questions.md)")

    def step(self, metric, params=None):
        """Record one epoch's metric; returns True when training should stop now.

        params: list of Parameters (Topic 03: .data arrays) snapshotted as COPIES when the metric improves;
                None tracks the metric only (nothing to snapshot or restore).
        A NaN metric is never an improvement. When the stop is decided and restore_best is True, the best
        snapshot is copied back into params before returning True.
        """
        raise NotImplementedError("Task 6: EarlyStopping.step (see questions.md)")

    def restore(self, params):
        """Copy the best snapshot back into every parameter's .data, IN PLACE (p.data stays the same array).

        RuntimeError when no snapshot exists yet; ValueError when params do not match the snapshot.
        """
        raise NotImplementedError("Task 6: EarlyStopping.restore (see questions.md)")


if __name__ == "__main__":
    out, mask = dropout_forward(np.ones((1000, 100)), 0.2, rng=0)
    print(f"dropped {np.mean(out == 0):.3f} of the units (expected 0.2), mean {out.mean():.3f} (expected 1.0)")
    loss, grads = l2_penalty([np.array([[1.0, 2.0], [3.0, 4.0]])], lam=0.1)
    print(f"l2_penalty = {loss} (expected 1.5), grad = {grads[0].tolist()} (expected 0.1 * W)")
