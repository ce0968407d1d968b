"""
Level 3: Memory-Efficient Implementation
- Priority: No array allocated per step: every buffer is updated in place (`out=`, `*=`, `+=`)
- Constraints: NumPy only; optimizer state is created on the first step, scratch space once per dtype
- Target: Same numbers as level 2 (and torch.optim) with a flat memory profile and less time per step

What it saves. Level 2 writes `p -= lr / bc1 * m / (np.sqrt(v) / sqrt(bc2) + eps)` and NumPy builds a fresh
temporary array for most operators: an Adam step allocates several arrays the size of each parameter, two
of them alive at once. Here the optimizer owns two scratch arrays per dtype, as long as the LARGEST parameter,
and every parameter uses views of them; all arithmetic writes into the state buffers, the scratch views or
p.data itself. Only the first step allocates (the state: m and v for Adam, the momentum buffer for SGD).

Measured on a 2-core CPU (busy: best of 150 interleaved steps) for a 1M-parameter model (1000x1000 + 1000),
tracemalloc peak above the memory already held, after the first step:

    optimizer, dtype     level 2: peak / time      level 3: peak / time      level 3 speed-up
    Adam, float64        15.3 MiB / 10.8 ms        0.3 KB / 6.6 ms           1.6x
    Adam, float32         7.6 MiB /  3.9 ms        0.4 KB / 3.2 ms           1.2x
    RMSprop, float64     15.3 MiB /  6.6 ms        0.3 KB / 5.3 ms           1.25x
    SGD momentum, f64     7.6 MiB /  2.6 ms        0.3 KB / 2.5 ms           1.0x
    clip_grad_norm, f64   7.6 MiB /  0.5 ms        0 B    / 0.5 ms (einsum)  1.0x

The saving is memory first: the scratch is paid once, not per step, so a model that fits in RAM with its
optimizer state still fits while it trains. The time gain comes from fewer passes over memory and no page
faults on fresh temporaries. `python level03-memory-efficient.py` re-measures Adam on your machine.
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
        else:
            self.grad.fill(0)

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


# ----------------------------------------------------------------------------------------------------------
# Task 2: the Optimizer base class
# ----------------------------------------------------------------------------------------------------------
class Optimizer(ABC):
    """Holds the parameters, the learning rate, one dict of state per parameter, and shared scratch space.

    params: a list (or any iterable) of objects with `.data` and `.grad` ndarrays (Parameter, Topic 02 Tensors).
    lr:     learning rate; a plain attribute, so a schedule can set `opt.lr = ...` before each step.
    Subclasses implement `update(data, grad, state)` for ONE parameter; `step()` calls it for every parameter
    whose grad is not None.
    """

    state_names = ()  # the names of the per-parameter buffers a subclass keeps (checked by load_state_dict)

    def __init__(self, params, lr):
        self.params = list(params)  # a generator would be used up after one pass
        if not self.params:
            raise ValueError("optimizer got an empty parameter list (was model.parameters() already consumed?)")
        if not lr >= 0.0:
            raise ValueError(f"invalid learning rate {lr!r}: must be >= 0")
        self.lr = float(lr)
        self.state = [{} for _ in self.params]  # created lazily on the first step that has a gradient
        self._flat_scratch = {}  # dtype -> two 1-D arrays as long as the largest parameter of that dtype
        self._views = {}  # (shape, dtype) -> two views of those arrays with that shape, made once

    def _scratch(self, data):
        """Two scratch arrays shaped like data (views of shared memory: valid until the next parameter)."""
        key = (data.shape, data.dtype)
        views = self._views.get(key)
        if views is None:
            flat = self._flat_scratch.get(data.dtype)
            if flat is None or flat[0].size < data.size:
                size = max([data.size] + [p.data.size for p in self.params if p.data.dtype == data.dtype])
                flat = self._flat_scratch[data.dtype] = (np.empty(size, data.dtype), np.empty(size, data.dtype))
                self._views = {k: v for k, v in self._views.items() if k[1] != data.dtype}  # old memory: drop
            views = self._views[key] = tuple(f[:data.size].reshape(data.shape) for f in flat)
        return views

    def zero_grad(self):
        """Set every gradient to zero in place (parameters whose grad is None are left alone)."""
        for p in self.params:
            if p.grad is not None:
                p.grad.fill(0)

    def step(self):
        """One update of every parameter that has a gradient; a parameter with grad None is skipped."""
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            if p.grad.shape != p.data.shape:
                raise ValueError(f"grad has shape {p.grad.shape} but its parameter has shape {p.data.shape}")
            self.update(p.data, p.grad, state)

    @abstractmethod
    def update(self, data, grad, state):
        """Update one parameter array in place. data, grad: same shape; state: this parameter's dict."""

    def state_dict(self):
        """A flat dict that np.savez can store: {"lr": float, "state.<i>.<name>": ndarray copy or int step}."""
        out = {"lr": self.lr}
        for i, state in enumerate(self.state):
            for name, value in state.items():
                out[f"state.{i}.{name}"] = value.copy() if isinstance(value, np.ndarray) else int(value)
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
        s1, s2 = self._scratch(data)
        g = grad
        if self.weight_decay:
            np.multiply(data, self.weight_decay, out=s1)
            s1 += grad
            g = s1
        if self.momentum:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=data.dtype)  # allocated once, on the first step
            else:
                buf *= self.momentum
                buf += g
            if self.nesterov:
                np.multiply(buf, self.momentum, out=s2)
                s2 += g
                g = s2
            else:
                g = buf
        np.multiply(g, self.lr, out=s2)
        data -= s2


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
        s1, s2 = self._scratch(data)
        g = grad
        if self.weight_decay:
            np.multiply(data, self.weight_decay, out=s1)
            s1 += grad
            g = s1
        square_avg = state["square_avg"]
        square_avg *= self.alpha
        np.multiply(g, g, out=s2)
        s2 *= 1 - self.alpha
        square_avg += s2
        np.sqrt(square_avg, out=s2)
        s2 += self.eps
        np.divide(g, s2, out=s2)  # s2 = g / (sqrt(sq) + eps)
        if self.momentum > 0:
            buf = state["momentum_buffer"]
            buf *= self.momentum
            buf += s2
            np.multiply(buf, self.lr, out=s2)
        else:
            s2 *= self.lr
        data -= s2


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
        s1, s2 = self._scratch(data)
        g = grad
        if self.weight_decay:
            if self.decoupled_weight_decay:
                data *= 1 - self.lr * self.weight_decay  # AdamW: shrink p itself, the gradient stays untouched
            else:
                np.multiply(data, self.weight_decay, out=s1)  # Adam: L2 penalty, added to the gradient
                s1 += grad
                g = s1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        np.multiply(g, 1 - beta1, out=s2)
        m += s2
        v *= beta2
        np.multiply(g, g, out=s2)
        s2 *= 1 - beta2
        v += s2
        bias_correction1 = 1 - beta1 ** t  # m and v start at 0: without this, early steps are far too small
        root_bc2 = math.sqrt(1 - beta2 ** t)
        # m / (sqrt(v) / root_bc2 + eps) = root_bc2 * m / (sqrt(v) + eps * root_bc2): one pass less, same value
        np.sqrt(v, out=s2)
        s2 += self.eps * root_bc2
        np.divide(m, s2, out=s2)
        s2 *= self.lr * root_bc2 / bias_correction1
        data -= s2


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
    return base_lr * gamma ** (step // step_size)


def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    """Half a cosine from base_lr (step 0) down to min_lr (step total_steps), then min_lr: torch's CosineAnnealingLR."""
    _check_step(step)
    if total_steps <= 0:
        raise ValueError(f"total_steps must be > 0, got {total_steps}")
    if step >= total_steps:
        return float(min_lr)  # torch's scheduler would climb back up: a full period is 2 * total_steps
    return min_lr + (base_lr - min_lr) * (1 + math.cos(math.pi * step / total_steps)) / 2


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
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)


def clip_grad_norm(params, max_norm):
    """Rescale ALL gradients together so that their global L2 norm is at most max_norm: torch's clip_grad_norm_.

    total_norm = sqrt(sum over every gradient element of g^2)   (one norm for the whole model)
    every grad *= max_norm / (total_norm + 1e-6)                 only when that factor is < 1
    Returns total_norm, measured BEFORE clipping (a float; NaN if a gradient holds NaN).
    """
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm!r}")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    # sum of g*g in one pass without a g*g temporary (np.vdot would call BLAS, whose threads stall on a busy CPU)
    total_norm = math.sqrt(sum(float(np.einsum("i,i->", g.ravel(), g.ravel())) for g in grads))
    clip_coef = max_norm / (total_norm + 1e-6)
    if not clip_coef >= 1.0:  # NaN lands here too: like torch, a NaN norm turns every gradient into NaN
        for g in grads:
            g *= clip_coef
    return total_norm


# ----------------------------------------------------------------------------------------------------------
# Task 9: the Beale function, a classic 2-D test of optimizers (global minimum 0 at (3, 0.5))
# ----------------------------------------------------------------------------------------------------------
def beale(x, y):
    """f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2; x, y: scalars or same-shape arrays."""
    y2 = y * y
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y2) ** 2 + (2.625 - x + x * y2 * y) ** 2


def beale_grad(x, y):
    """(df/dx, df/dy) of the Beale function, each with the shape of x and y (powers of y computed once)."""
    y2 = y * y
    y3 = y2 * y
    a = 1.5 - x + x * y
    b = 2.25 - x + x * y2
    c = 2.625 - x + x * y3
    dx = 2 * (a * (y - 1) + b * (y2 - 1) + c * (y3 - 1))
    dy = 2 * x * (a + 2 * b * y + 3 * c * y2)
    return dx, dy


def _measure(module_adam, dtype=np.float64, steps=20):
    """(peak bytes allocated during one step, seconds per step) of Adam on a 1000x1000 + 1000 model."""
    import time
    import tracemalloc

    rng = np.random.default_rng(0)
    params = [Parameter(rng.standard_normal((1000, 1000)).astype(dtype)), Parameter(np.zeros(1000, dtype))]
    for p in params:
        p.grad[...] = rng.standard_normal(p.data.shape)
    opt = module_adam(params, lr=1e-3)
    opt.step()  # the first step creates the state
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    opt.step()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    start = time.perf_counter()
    for _ in range(steps):
        opt.step()
    return peak, (time.perf_counter() - start) / steps


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

    # The figures of the module docstring, re-measured against the level-2 reference

    from dlfs.components import load_topic

    reference = load_topic(3, level=2)
    for dtype in (np.float64, np.float32):
        peak3, time3 = _measure(Adam, dtype)
        peak2, time2 = _measure(reference.Adam, dtype)
        print(f"Adam step, 1M {np.dtype(dtype).name} parameters: level 3 peak {peak3 / 1e3:.1f} KB, "
              f"{time3 * 1e3:.1f} ms | level 2 peak {peak2 / 1e6:.1f} MB, {time2 * 1e3:.1f} ms "
              f"({time2 / time3:.1f}x)")
        assert peak3 < 0.01 * peak2, "level 3 should allocate (almost) nothing per step"
    print("level 3 self-test passed")
