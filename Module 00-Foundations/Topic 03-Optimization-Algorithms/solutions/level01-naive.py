"""
Level 1: Naive Implementation
- Priority: Correctness over speed: every update equation written for ONE number at a time
- Constraints: plain Python loops over the parameters and over every element (math module, float arithmetic);
  NumPy only holds the arrays
- Target: Pass the functional tests on small parameters (a 1M-element model takes seconds per step)

Reading order: Parameter, Optimizer, then SGD -> RMSprop -> Adam -> AdamW; each `update` is the equation of
its docstring, applied element by element: `for idx in np.ndindex(shape)` visits every position of an array
of any shape (a 0-d array included).
"""

import math
from abc import ABC, abstractmethod

import numpy as np


# ----------------------------------------------------------------------------------------------------------
# Task 1: Parameter
# ----------------------------------------------------------------------------------------------------------
class Parameter:
    """A trainable array and the gradient of the loss with respect to it.

    data: ndarray of any shape; floating arrays are kept as they are (float32 stays float32, no copy),
          anything else (ints, bools, lists, scalars) becomes float64.
    grad: ndarray with the shape and dtype of data, zero at the start; backward passes ADD into it.
    """

    def __init__(self, data):
        data = np.asarray(data)
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float64)  # an int array cannot hold a fractional update
        self.data = data
        self.grad = np.zeros_like(data)

    def zero_grad(self):
        """Reset the gradient to zero, in place (code holding a reference to p.grad sees the zeros)."""
        if self.grad is None:
            self.grad = np.zeros_like(self.data)
            return
        for idx in np.ndindex(self.grad.shape):
            self.grad[idx] = 0.0

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


# ----------------------------------------------------------------------------------------------------------
# Task 2: the Optimizer base class
# ----------------------------------------------------------------------------------------------------------
class Optimizer(ABC):
    """Holds the parameters, the learning rate and one dict of state per parameter.

    params: a list (or any iterable) of objects with `.data` and `.grad` ndarrays (Parameter, Topic 02 Tensors).
    lr:     learning rate; a plain attribute, so a schedule can set `opt.lr = ...` before each step.
    Subclasses implement `update(data, grad, state)` for ONE parameter; `step()` calls it for every parameter
    whose grad is not None.
    """

    state_names = ()  # the names of the per-parameter buffers a subclass keeps (checked by load_state_dict)

    def __init__(self, params, lr):
        self.params = list(params)  # a generator would be used up after one pass
        if len(self.params) == 0:
            raise ValueError("optimizer got an empty parameter list (was model.parameters() already consumed?)")
        if not lr >= 0.0:
            raise ValueError(f"invalid learning rate {lr!r}: must be >= 0")
        self.lr = float(lr)
        self.state = []
        for _ in self.params:
            self.state.append({})  # filled on the first step that has a gradient

    def zero_grad(self):
        """Set every gradient to zero in place (parameters whose grad is None are left alone)."""
        for p in self.params:
            if p.grad is not None:
                for idx in np.ndindex(p.grad.shape):
                    p.grad[idx] = 0.0

    def step(self):
        """One update of every parameter that has a gradient; a parameter with grad None is skipped."""
        for i in range(len(self.params)):
            p = self.params[i]
            if p.grad is None:
                continue
            if np.shape(p.grad) != np.shape(p.data):
                raise ValueError(f"grad has shape {np.shape(p.grad)} but its parameter has shape {np.shape(p.data)}")
            self.update(p.data, p.grad, self.state[i])

    @abstractmethod
    def update(self, data, grad, state):
        """Update one parameter array in place. data, grad: same shape; state: this parameter's dict."""

    def state_dict(self):
        """A flat dict that np.savez can store: {"lr": float, "state.<i>.<name>": ndarray copy or int step}."""
        out = {"lr": self.lr}
        for i in range(len(self.state)):
            for name, value in self.state[i].items():
                key = "state." + str(i) + "." + name
                if isinstance(value, np.ndarray):
                    out[key] = value.copy()  # a snapshot: later steps must not change a saved checkpoint
                else:
                    out[key] = int(value)
        return out

    def load_state_dict(self, state_dict):
        """Restore lr and every buffer from state_dict(); the next step() continues exactly where it left off."""
        new_state = [{} for _ in self.params]
        for key, value in state_dict.items():
            if key == "lr":
                continue
            parts = key.split(".")
            if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit():
                raise ValueError(f"unexpected key {key!r} in state_dict")
            i, name = int(parts[1]), parts[2]
            if i >= len(self.params):
                raise ValueError(f"state_dict has state for parameter {i}, but this optimizer has {len(self.params)}")
            if name not in self.state_names:
                raise ValueError(f"{type(self).__name__} keeps no buffer {name!r} (a state_dict of another optimizer?)")
            if name == "step":
                new_state[i][name] = int(value)
                continue
            data = self.params[i].data
            buffer = np.array(value, dtype=data.dtype)  # a copy: later steps must not write into the caller's dict
            if buffer.shape != data.shape:
                raise ValueError(f"{key} has shape {buffer.shape}, parameter {i} has shape {data.shape}")
            new_state[i][name] = buffer
        self.lr = float(state_dict["lr"])
        self.state = new_state


def _check_non_negative(**values):
    for name, value in values.items():
        if not value >= 0.0:
            raise ValueError(f"invalid {name} {value!r}: must be >= 0")


# ----------------------------------------------------------------------------------------------------------
# Task 3: SGD, with momentum and Nesterov momentum
# ----------------------------------------------------------------------------------------------------------
class SGD(Optimizer):
    """Stochastic gradient descent, PyTorch semantics.

        g   = grad + weight_decay * p
        buf = g                      on the first step      (momentum > 0)
        buf = momentum * buf + g     afterwards
        d   = g + momentum * buf     if nesterov, else buf  (d = g when momentum == 0)
        p   = p - lr * d
    """

    state_names = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr)
        _check_non_negative(momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        self.momentum, self.nesterov, self.weight_decay = float(momentum), bool(nesterov), float(weight_decay)

    def update(self, data, grad, state):
        first_step = self.momentum > 0 and "momentum_buffer" not in state
        if first_step:
            state["momentum_buffer"] = np.zeros_like(data)
        for idx in np.ndindex(data.shape):
            p, g = float(data[idx]), float(grad[idx])
            if self.weight_decay:
                g = g + self.weight_decay * p
            if self.momentum > 0:
                buf = g if first_step else self.momentum * float(state["momentum_buffer"][idx]) + g
                state["momentum_buffer"][idx] = buf
                g = g + self.momentum * buf if self.nesterov else buf
            data[idx] = p - self.lr * g


# ----------------------------------------------------------------------------------------------------------
# Task 4: RMSprop
# ----------------------------------------------------------------------------------------------------------
class RMSprop(Optimizer):
    """Divide each gradient by a running root-mean-square of its recent values, PyTorch semantics.

        g  = grad + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g^2           (sq starts at 0)
        d  = g / (sqrt(sq) + eps)                      (eps OUTSIDE the square root)
        buf = momentum * buf + d ; p -= lr * buf       if momentum > 0 (buf starts at 0)
        p -= lr * d                                    otherwise
    """

    state_names = ("step", "square_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        _check_non_negative(alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay)
        self.alpha, self.eps = float(alpha), float(eps)
        self.momentum, self.weight_decay = float(momentum), float(weight_decay)

    def update(self, data, grad, state):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(data)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(data)
        state["step"] += 1
        for idx in np.ndindex(data.shape):
            p, g = float(data[idx]), float(grad[idx])
            if self.weight_decay:
                g = g + self.weight_decay * p
            sq = self.alpha * float(state["square_avg"][idx]) + (1 - self.alpha) * g * g
            state["square_avg"][idx] = sq
            d = g / (math.sqrt(sq) + self.eps)
            if self.momentum > 0:
                buf = self.momentum * float(state["momentum_buffer"][idx]) + d
                state["momentum_buffer"][idx] = buf
                d = buf
            data[idx] = p - self.lr * d


# ----------------------------------------------------------------------------------------------------------
# Task 5: Adam (bias-corrected), Task 6: AdamW (decoupled weight decay)
# ----------------------------------------------------------------------------------------------------------
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), PyTorch semantics; weight_decay is L2 (added to the gradient).

        g  = grad + weight_decay * p
        m  = beta1 * m + (1 - beta1) * g               (m, v start at 0; t counts this parameter's steps)
        v  = beta2 * v + (1 - beta2) * g^2
        p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    state_names = ("step", "exp_avg", "exp_avg_sq")
    decoupled_weight_decay = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        beta1, beta2 = betas
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"invalid betas {betas!r}: each must be in [0, 1)")
        _check_non_negative(eps=eps, weight_decay=weight_decay)
        self.betas, self.eps, self.weight_decay = (float(beta1), float(beta2)), float(eps), float(weight_decay)

    def update(self, data, grad, state):
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(data)
            state["exp_avg_sq"] = np.zeros_like(data)
        state["step"] += 1
        t = state["step"]
        bias_correction1 = 1 - beta1 ** t  # m and v start at 0: without this, early steps are far too small
        bias_correction2 = 1 - beta2 ** t
        for idx in np.ndindex(data.shape):
            p, g = float(data[idx]), float(grad[idx])
            if self.weight_decay and self.decoupled_weight_decay:
                p = p * (1 - self.lr * self.weight_decay)  # AdamW: shrink p itself, the gradient stays untouched
            elif self.weight_decay:
                g = g + self.weight_decay * p  # Adam: L2 penalty, rescaled by the adaptive denominator
            m = beta1 * float(state["exp_avg"][idx]) + (1 - beta1) * g
            v = beta2 * float(state["exp_avg_sq"][idx]) + (1 - beta2) * g * g
            state["exp_avg"][idx] = m
            state["exp_avg_sq"][idx] = v
            denom = math.sqrt(v) / math.sqrt(bias_correction2) + self.eps
            data[idx] = p - (self.lr / bias_correction1) * m / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): p *= 1 - lr * weight_decay, then Adam."""

    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)


# ----------------------------------------------------------------------------------------------------------
# Task 7: learning-rate schedules (pure functions of the step number, step = 0, 1, 2, ...)
# ----------------------------------------------------------------------------------------------------------
def _check_step(step):
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")


def step_lr(step, base_lr, step_size, gamma=0.1):
    """base_lr * gamma^(step // step_size): torch's StepLR."""
    _check_step(step)
    if step_size <= 0:
        raise ValueError(f"step_size must be > 0, got {step_size}")
    lr = base_lr
    for _ in range(step // step_size):  # one decay per completed period
        lr = lr * gamma
    return lr


def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    """Half a cosine from base_lr (step 0) down to min_lr (step total_steps), then min_lr: torch's CosineAnnealingLR."""
    _check_step(step)
    if total_steps <= 0:
        raise ValueError(f"total_steps must be > 0, got {total_steps}")
    if step >= total_steps:
        return float(min_lr)  # torch's scheduler would climb back up: a full period is 2 * total_steps
    progress = step / total_steps  # 0 -> 1 over the schedule
    return min_lr + (base_lr - min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def linear_warmup(step, base_lr, warmup_steps):
    """base_lr * (step + 1) / warmup_steps during warmup, then base_lr.

    Equal to torch's LinearLR(start_factor=1/warmup_steps, total_iters=warmup_steps - 1): the first step
    already moves (lr = base_lr / warmup_steps) and step warmup_steps - 1 reaches base_lr.
    """
    _check_step(step)
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if step >= warmup_steps:
        return float(base_lr)
    return base_lr * (step + 1) / warmup_steps


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """linear_warmup for the first warmup_steps steps, then a cosine from base_lr to min_lr at total_steps.

    Equal to torch's SequentialLR([LinearLR, CosineAnnealingLR(T_max=total_steps - warmup_steps)], [warmup_steps]).
    """
    _check_step(step)
    if not 0 <= warmup_steps <= total_steps or total_steps <= 0:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps and total_steps > 0, "
                         f"got warmup_steps={warmup_steps}, total_steps={total_steps}")
    if step < warmup_steps:
        return linear_warmup(step, base_lr, warmup_steps)
    if step >= total_steps:
        return float(min_lr)
    return cosine_lr(step - warmup_steps, base_lr, total_steps - warmup_steps, min_lr)


# ----------------------------------------------------------------------------------------------------------
# Task 8: gradient clipping (in place on p.grad; parameters whose grad is None are skipped)
# ----------------------------------------------------------------------------------------------------------
def clip_grad_value(params, clip_value):
    """Clamp every gradient element to [-clip_value, clip_value], in place: torch.nn.utils.clip_grad_value_."""
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value!r}")
    for p in params:
        if p.grad is None:
            continue
        for idx in np.ndindex(p.grad.shape):
            g = float(p.grad[idx])
            if g > clip_value:
                p.grad[idx] = clip_value
            elif g < -clip_value:
                p.grad[idx] = -clip_value  # NaN compares False both ways and stays NaN, as in torch


def clip_grad_norm(params, max_norm):
    """Rescale ALL gradients together so that their global L2 norm is at most max_norm: torch's clip_grad_norm_.

    total_norm = sqrt(sum over every gradient element of g^2)   (one norm for the whole model)
    every grad *= max_norm / (total_norm + 1e-6)                 only when that factor is < 1
    Returns total_norm, measured BEFORE clipping (a float; NaN if a gradient holds NaN).
    """
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm!r}")
    params = [p for p in params if p.grad is not None]
    if not params:
        return 0.0
    sum_of_squares = 0.0
    for p in params:
        for idx in np.ndindex(p.grad.shape):
            g = float(p.grad[idx])
            sum_of_squares += g * g
    total_norm = math.sqrt(sum_of_squares)
    clip_coef = max_norm / (total_norm + 1e-6)
    if not clip_coef >= 1.0:  # NaN lands here too: like torch, a NaN norm turns every gradient into NaN
        for p in params:
            for idx in np.ndindex(p.grad.shape):
                p.grad[idx] = float(p.grad[idx]) * clip_coef
    return total_norm


# ----------------------------------------------------------------------------------------------------------
# Task 9: the Beale function, a classic 2-D test of optimizers (global minimum 0 at (3, 0.5))
# ----------------------------------------------------------------------------------------------------------
def beale(x, y):
    """f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; x, y: scalars or same-shape arrays."""
    term1 = 1.5 - x + x * y
    term2 = 2.25 - x + x * y * y
    term3 = 2.625 - x + x * y * y * y
    return term1 * term1 + term2 * term2 + term3 * term3


def beale_grad(x, y):
    """(df/dx, df/dy) of the Beale function, each with the shape of x and y (chain rule, term by term)."""
    term1 = 1.5 - x + x * y
    term2 = 2.25 - x + x * y * y
    term3 = 2.625 - x + x * y * y * y
    # d(term_k^2) = 2 * term_k * d(term_k); d(term1)/dx = y - 1, d(term1)/dy = x, and so on
    dx = 2 * term1 * (y - 1) + 2 * term2 * (y * y - 1) + 2 * term3 * (y * y * y - 1)
    dy = 2 * term1 * x + 2 * term2 * (2 * x * y) + 2 * term3 * (3 * x * y * y)
    return dx, dy


if __name__ == "__main__":
    # Self-test on toy data: Adam's first step is lr * sign(g), SGD's is lr * g, and Adam solves Beale.
    p = Parameter(np.array([[1.0, -2.0], [0.5, 3.0]]))
    p.grad[...] = [[0.3, -4.0], [1e-3, 0.0]]
    Adam([p], lr=0.1).step()
    print(f"Adam first step: {p.data.tolist()}  Shape: {p.data.shape}")
    assert np.allclose(p.data, [[0.9, -1.9], [0.4, 3.0]], atol=1e-6), "Adam's first step should be lr * sign(g)"

    q = Parameter(np.float32([1.0, 2.0]))
    q.grad[...] = [0.5, -1.0]
    SGD([q], lr=0.1, momentum=0.9).step()
    assert q.data.dtype == np.float32 and np.allclose(q.data, [0.95, 2.1]), "SGD's first step should be p - lr * g"

    xy = Parameter(np.array([1.0, 1.5]))
    opt = Adam([xy], lr=0.05)
    for _ in range(2000):
        xy.grad[...] = beale_grad(*xy.data)
        opt.step()
    print(f"Adam on Beale from (1, 1.5): {xy.data.round(4).tolist()}, loss {beale(*xy.data):.2e}")
    assert beale(*xy.data) < 1e-6, "Adam should reach the minimum (3, 0.5)"
    print(f"warmup+cosine lr at steps 0..5 of 10: {[round(warmup_cosine_lr(s, 0.1, 2, 10), 4) for s in range(6)]}")
    print("level 1 self-test passed")
