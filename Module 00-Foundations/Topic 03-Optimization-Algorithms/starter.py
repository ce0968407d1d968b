"""
Topic 03: Optimization Algorithms - your implementation.

Copy this file to solution.py (same folder) and replace every `raise NotImplementedError(...)`:
    cp starter.py solution.py
    python utils/test_runner.py --day 3          # from the repository root

The tasks are in questions.md. Every optimizer must follow PyTorch's conventions exactly (the tests compare
your numbers with torch.optim's to 1e-10), and update p.data IN PLACE (p.data -= ..., never p.data = ...).

Conventions used everywhere below:
    params  a list of objects with `.data` and `.grad` ndarrays of the same shape (Parameter, or Topic 02
            Tensors); an object whose grad is None is skipped
    step    the number of the training step for schedules: 0, 1, 2, ...
"""

import math

import numpy as np


# ----------------------------------------------------------------------------------------------------------
# Task 1: Parameter
# ----------------------------------------------------------------------------------------------------------
class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    Parameter(data)
        data: array-like of any shape. A floating ndarray is kept as it is (float32 stays float32, no copy);
              anything else (ints, bools, lists, Python scalars) becomes a float64 ndarray.
    Attributes
        data: that ndarray
        grad: np.zeros_like(data): same shape and dtype, zero at the start; backward passes ADD into it
    """

    def __init__(self, data):
        raise NotImplementedError("Task 1: store data as a float ndarray and grad as zeros like it (see questions.md)")

    def zero_grad(self):
        """Reset grad to zero IN PLACE (a layer may hold a reference to this very array)."""
        raise NotImplementedError("Task 1: zero the gradient in place (see questions.md)")


# ----------------------------------------------------------------------------------------------------------
# Task 2: the Optimizer base class
# ----------------------------------------------------------------------------------------------------------
class Optimizer:
    """Holds the parameters, the learning rate and one dict of state per parameter.

    Optimizer(params, lr)
        params: any iterable of objects with .data and .grad; store it as a list. An empty list is a
                ValueError (the classic cause: a generator such as model.parameters() already consumed).
        lr:     learning rate, >= 0 (else ValueError). A plain attribute `self.lr`: schedules set it before
                each step, so read self.lr inside every step, never a copy made in __init__.
    Methods
        zero_grad()          every p.grad that is not None set to 0 in place
        step()               for each parameter whose grad is not None: check grad and data have the same
                             shape (ValueError otherwise), then self.update(p.data, p.grad, its state dict)
        update(data, grad, state)  the update rule of ONE parameter, written by each subclass
        state_dict()         {"lr": float, "state.<i>.<name>": copy of buffer <name> of parameter i, or the
                             int step counter}: plain numbers and arrays, so np.savez can store it
        load_state_dict(d)   the inverse: restore lr and every buffer (copies), so that training resumes
                             bit-for-bit; ValueError for a key this optimizer does not keep (a name outside
                             state_names), a parameter index out of range, or a buffer of the wrong shape
    """

    state_names = ()  # the buffer names a subclass keeps per parameter, e.g. ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr):
        raise NotImplementedError("Task 2: store the parameter list, lr and one empty state dict per parameter")

    def zero_grad(self):
        raise NotImplementedError("Task 2: zero every gradient in place (see questions.md)")

    def step(self):
        raise NotImplementedError("Task 2: call self.update on every parameter that has a gradient")

    def update(self, data, grad, state):
        """Update one parameter array in place. data, grad: same shape; state: this parameter's dict."""
        raise NotImplementedError("each optimizer (SGD, RMSprop, Adam, ...) defines its own update rule")

    def state_dict(self):
        raise NotImplementedError("Task 2: return lr and copies of every buffer in a flat dict (see questions.md)")

    def load_state_dict(self, state_dict):
        raise NotImplementedError("Task 2: restore lr and every buffer from a state_dict (see questions.md)")


# ----------------------------------------------------------------------------------------------------------
# Task 3: SGD, with momentum and Nesterov momentum
# ----------------------------------------------------------------------------------------------------------
class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch semantics.

    SGD(params, lr, momentum=0.0, nesterov=False, weight_decay=0.0)
        g   = grad + weight_decay * p
        buf = g                      on the first step      (momentum > 0; a COPY of g)
        buf = momentum * buf + g     afterwards
        d   = g + momentum * buf     if nesterov, else buf  (d = g when momentum == 0)
        p   = p - lr * d
    State: "momentum_buffer" (only when momentum > 0). ValueError: momentum or weight_decay < 0, or nesterov
    with momentum == 0.
    """

    state_names = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        raise NotImplementedError("Task 3: check the hyperparameters, then call Optimizer.__init__")

    def update(self, data, grad, state):
        raise NotImplementedError("Task 3: the SGD / momentum / Nesterov update of one parameter")


# ----------------------------------------------------------------------------------------------------------
# Task 4: RMSprop
# ----------------------------------------------------------------------------------------------------------
class RMSprop(Optimizer):
    """Divide each gradient by a running root-mean-square of its recent values, PyTorch semantics.

    RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0)
        g   = grad + weight_decay * p
        sq  = alpha * sq + (1 - alpha) * g^2           (sq starts at 0)
        d   = g / (sqrt(sq) + eps)                      (eps OUTSIDE the square root)
        buf = momentum * buf + d ; p -= lr * buf        if momentum > 0 (buf starts at 0)
        p  -= lr * d                                    otherwise
    State: "step" (int), "square_avg", "momentum_buffer" (only when momentum > 0). ValueError for negatives.
    """

    state_names = ("step", "square_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        raise NotImplementedError("Task 4: check the hyperparameters, then call Optimizer.__init__")

    def update(self, data, grad, state):
        raise NotImplementedError("Task 4: the RMSprop update of one parameter")


# ----------------------------------------------------------------------------------------------------------
# Task 5: Adam, Task 6: AdamW
# ----------------------------------------------------------------------------------------------------------
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch semantics; weight_decay is L2 (added to the gradient).

    Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
        t  = t + 1                                      (this parameter's own step counter, from 0)
        g  = grad + weight_decay * p
        m  = beta1 * m + (1 - beta1) * g                (m, v start at 0)
        v  = beta2 * v + (1 - beta2) * g^2
        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    State: "step" (int), "exp_avg" (m), "exp_avg_sq" (v). ValueError: a beta outside [0, 1), eps or
    weight_decay < 0.
    """

    state_names = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        raise NotImplementedError("Task 5: check the hyperparameters, then call Optimizer.__init__")

    def update(self, data, grad, state):
        raise NotImplementedError("Task 5: the bias-corrected Adam update of one parameter")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), PyTorch semantics.

    AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)
        p *= 1 - lr * weight_decay          first, on the parameter itself
        then the Adam update with the raw gradient (no weight_decay * p added to it)
    Same state as Adam.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        raise NotImplementedError("Task 6: Adam whose weight decay acts on p, not on the gradient")


# ----------------------------------------------------------------------------------------------------------
# Task 7: learning-rate schedules (pure functions; ValueError for step < 0 and the bad arguments listed)
# ----------------------------------------------------------------------------------------------------------
def step_lr(step, base_lr, step_size, gamma=0.1):
    """base_lr * gamma ** (step // step_size) (torch's StepLR). ValueError if step_size <= 0."""
    raise NotImplementedError("Task 7: step decay (see questions.md)")


def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    """min_lr + (base_lr - min_lr) * (1 + cos(pi * step / total_steps)) / 2 for step < total_steps, min_lr after.

    torch's CosineAnnealingLR(T_max=total_steps, eta_min=min_lr). ValueError if total_steps <= 0.
    """
    raise NotImplementedError("Task 7: cosine annealing (see questions.md)")


def linear_warmup(step, base_lr, warmup_steps):
    """base_lr * (step + 1) / warmup_steps for step < warmup_steps, base_lr after (and when warmup_steps == 0).

    torch's LinearLR(start_factor=1/warmup_steps, total_iters=warmup_steps - 1). ValueError if warmup_steps < 0.
    """
    raise NotImplementedError("Task 7: linear warmup (see questions.md)")


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """linear_warmup below warmup_steps, then cosine_lr(step - warmup_steps, ..., total_steps - warmup_steps, ...).

    min_lr from total_steps on. ValueError unless 0 <= warmup_steps <= total_steps and total_steps > 0.
    """
    raise NotImplementedError("Task 7: warmup followed by cosine annealing (see questions.md)")


# ----------------------------------------------------------------------------------------------------------
# Task 8: gradient clipping (in place on p.grad; a grad of None is skipped)
# ----------------------------------------------------------------------------------------------------------
def clip_grad_value(params, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value] in place. ValueError if clip_value < 0."""
    raise NotImplementedError("Task 8: clip by value (see questions.md)")


def clip_grad_norm(params, max_norm):
    """Scale ALL gradients by max_norm / (total_norm + 1e-6) when that is < 1 (torch's clip_grad_norm_).

    total_norm = sqrt(sum of g^2 over every element of every gradient), ONE number for the whole model.
    Returns total_norm measured before clipping, as a float (0.0 when there is no gradient, NaN if a
    gradient holds NaN; then every gradient becomes NaN, as in torch). ValueError if max_norm < 0.
    """
    raise NotImplementedError("Task 8: clip by global norm (see questions.md)")


# ----------------------------------------------------------------------------------------------------------
# Task 9: the Beale function (global minimum 0 at (3, 0.5))
# ----------------------------------------------------------------------------------------------------------
def beale(x, y):
    """(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; x, y: floats or same-shape arrays."""
    raise NotImplementedError("Task 9: the Beale function (see questions.md)")


def beale_grad(x, y):
    """(df/dx, df/dy), each with the shape of x and y."""
    raise NotImplementedError("Task 9: the gradient of the Beale function (see math-refresh.md)")


if __name__ == "__main__":
    p = Parameter(np.array([1.0, 1.5]))
    opt = Adam([p], lr=0.1)
    for _ in range(750):
        p.grad[...] = beale_grad(p.data[0], p.data[1])
        opt.step()
    print(f"Adam on Beale from (1, 1.5): {p.data}, loss {beale(p.data[0], p.data[1]):.2e} (the minimum is (3, 0.5))")
    print(f"cosine_lr at step 5 of 10: {cosine_lr(5, 0.1, 10)} (expected 0.05); math.pi = {math.pi:.5f}")
