"""
PyTorch Reference Implementation
- Used only for verification, not the solution: the same interface as the other levels, with
  torch.optim.SGD / RMSprop / Adam / AdamW, torch.optim.lr_scheduler and torch.nn.utils inside
- NumPy in, NumPy out: each Parameter's arrays are shared with torch tensors (torch.from_numpy), so torch's
  in-place updates land directly in p.data, exactly as they do in the NumPy levels
- Run `python level04-pytorch-reference.py --make-golden` to write the golden files of tests/golden/

    python level04-pytorch-reference.py                 # self-test
    python level04-pytorch-reference.py --make-golden   # rewrite tests/golden/*.npz
"""

import argparse
import math
import sys
import warnings

import numpy as np
import torch

from dlfs.reference import write_golden


# ----------------------------------------------------------------------------------------------------------
# Task 1: Parameter (the NumPy container the optimizers update; torch only sees it through shared memory)
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
            data = data.astype(np.float64)
        self.data = data
        self.grad = np.zeros_like(data)

    def zero_grad(self):
        """Reset the gradient to zero, in place."""
        if self.grad is None:
            self.grad = np.zeros_like(self.data)
        else:
            self.grad[...] = 0

    def __repr__(self):
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


# ----------------------------------------------------------------------------------------------------------
# Task 2: the Optimizer base class: a thin wrapper around a torch.optim optimizer
# ----------------------------------------------------------------------------------------------------------
class Optimizer:
    """Wraps `torch_class(tensors, lr=lr, **hyper)`; tensors share memory with every p.data and p.grad."""

    torch_class = None
    state_names = ()

    def __init__(self, params, lr, **hyper):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list (was model.parameters() already consumed?)")
        if not lr >= 0.0:
            raise ValueError(f"invalid learning rate {lr!r}: must be >= 0")
        self.tensors = [torch.from_numpy(np.asarray(p.data)) for p in self.params]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.torch_optimizer = self.torch_class(self.tensors, lr=float(lr), foreach=False, **hyper)

    @property
    def lr(self):
        return self.torch_optimizer.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value):
        self.torch_optimizer.param_groups[0]["lr"] = float(value)

    def zero_grad(self):
        """Set every gradient to zero in place (torch's own zero_grad would set them to None)."""
        for p in self.params:
            if p.grad is not None:
                p.grad[...] = 0

    def step(self):
        """Hand every gradient to torch (shared memory, no copy), then torch.optim's step()."""
        for p, t in zip(self.params, self.tensors):
            if t.data_ptr() != p.data.__array_interface__["data"][0] or tuple(t.shape) != p.data.shape:
                t.data = torch.from_numpy(p.data)  # p.data was re-bound to a new array: follow it
            if p.grad is None:
                t.grad = None
                continue
            if np.shape(p.grad) != p.data.shape:
                raise ValueError(f"grad has shape {np.shape(p.grad)} but its parameter has shape {p.data.shape}")
            t.grad = torch.from_numpy(np.asarray(p.grad, dtype=p.data.dtype))
        self.torch_optimizer.step()

    def state_dict(self):
        """The flat format of the NumPy levels: {"lr": float, "state.<i>.<name>": ndarray or int step}."""
        out = {"lr": self.lr}
        for i, t in enumerate(self.tensors):
            for name, value in self.torch_optimizer.state.get(t, {}).items():
                if value is None:
                    continue
                if name == "step":
                    out[f"state.{i}.step"] = int(value.item() if torch.is_tensor(value) else value)
                else:
                    out[f"state.{i}.{name}"] = value.detach().numpy().copy()
        return out

    def load_state_dict(self, state_dict):
        """Rebuild torch's per-tensor state from the flat format."""
        new_state = {t: {} for t in self.tensors}
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
            t = self.tensors[i]
            if name == "step":
                new_state[t][name] = torch.tensor(float(value), dtype=torch.get_default_dtype())
                continue
            buffer = np.array(value, dtype=self.params[i].data.dtype)
            if buffer.shape != self.params[i].data.shape:
                raise ValueError(f"{key} has shape {buffer.shape}, parameter {i} has shape {self.params[i].data.shape}")
            new_state[t][name] = torch.from_numpy(buffer)
        self.torch_optimizer.state.clear()
        self.torch_optimizer.state.update({t: s for t, s in new_state.items() if s})
        self.lr = float(state_dict["lr"])


class SGD(Optimizer):
    """torch.optim.SGD (momentum buffer = g on the first step, then momentum * buf + g)."""

    torch_class = torch.optim.SGD
    state_names = ("momentum_buffer",)

    def __init__(self, params, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        if nesterov and momentum <= 0:
            raise ValueError("Nesterov momentum needs momentum > 0")
        if not weight_decay >= 0:
            raise ValueError(f"invalid weight_decay {weight_decay!r}: must be >= 0")
        super().__init__(params, lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)


class RMSprop(Optimizer):
    """torch.optim.RMSprop (eps added outside the square root)."""

    torch_class = torch.optim.RMSprop
    state_names = ("step", "square_avg", "momentum_buffer")

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay)


class Adam(Optimizer):
    """torch.optim.Adam (bias-corrected; weight_decay added to the gradient)."""

    torch_class = torch.optim.Adam
    state_names = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)


class AdamW(Optimizer):
    """torch.optim.AdamW (decoupled weight decay: p *= 1 - lr * weight_decay before the Adam step)."""

    torch_class = torch.optim.AdamW
    state_names = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay)


# ----------------------------------------------------------------------------------------------------------
# Task 7: schedules, read off torch's schedulers after `step` calls of scheduler.step()
# ----------------------------------------------------------------------------------------------------------
def _scheduled_lr(step, base_lr, make_scheduler):
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    dummy = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=float(base_lr))
    scheduler = make_scheduler(dummy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "scheduler.step() before optimizer.step()": no training happens here
        for _ in range(step):
            scheduler.step()
    return float(dummy.param_groups[0]["lr"])


def step_lr(step, base_lr, step_size, gamma=0.1):
    """torch.optim.lr_scheduler.StepLR."""
    if step_size <= 0:
        raise ValueError(f"step_size must be > 0, got {step_size}")
    return _scheduled_lr(step, base_lr, lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma=gamma))


def cosine_lr(step, base_lr, total_steps, min_lr=0.0):
    """torch.optim.lr_scheduler.CosineAnnealingLR up to total_steps, then min_lr (torch would rise again)."""
    if total_steps <= 0:
        raise ValueError(f"total_steps must be > 0, got {total_steps}")
    if step >= total_steps:
        return float(min_lr)
    return _scheduled_lr(step, base_lr,
                         lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total_steps, eta_min=min_lr))


def _warmup_scheduler(optimizer, warmup_steps):
    return torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / warmup_steps, end_factor=1.0,
                                             total_iters=warmup_steps - 1)


def linear_warmup(step, base_lr, warmup_steps):
    """torch.optim.lr_scheduler.LinearLR(start_factor=1/warmup_steps, total_iters=warmup_steps - 1)."""
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if warmup_steps == 0 or step >= warmup_steps:
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        return float(base_lr)
    return _scheduled_lr(step, base_lr, lambda o: _warmup_scheduler(o, warmup_steps))


def warmup_cosine_lr(step, base_lr, warmup_steps, total_steps, min_lr=0.0):
    """torch's SequentialLR([LinearLR warmup, CosineAnnealingLR(T_max=total_steps - warmup_steps)], [warmup_steps])."""
    if not 0 <= warmup_steps <= total_steps or total_steps <= 0:
        raise ValueError(f"need 0 <= warmup_steps <= total_steps and total_steps > 0, "
                         f"got warmup_steps={warmup_steps}, total_steps={total_steps}")
    if step >= total_steps:
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        return float(min_lr)
    if warmup_steps == 0:
        return cosine_lr(step, base_lr, total_steps, min_lr)

    def make(o):
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total_steps - warmup_steps, eta_min=min_lr)
        return torch.optim.lr_scheduler.SequentialLR(o, [_warmup_scheduler(o, warmup_steps), cosine],
                                                     milestones=[warmup_steps])

    return _scheduled_lr(step, base_lr, make)


# ----------------------------------------------------------------------------------------------------------
# Task 8: clipping with torch.nn.utils (tensors share memory with p.grad, so the clipping is in place)
# ----------------------------------------------------------------------------------------------------------
def _grad_holders(params):
    holders = []
    for p in params:
        if p.grad is not None:
            t = torch.from_numpy(np.array(p.data, copy=True))
            t.grad = torch.from_numpy(p.grad)
            holders.append(t)
    return holders


def clip_grad_value(params, clip_value):
    """torch.nn.utils.clip_grad_value_."""
    if not clip_value >= 0:
        raise ValueError(f"clip_value must be >= 0, got {clip_value!r}")
    holders = _grad_holders(params)
    if holders:
        torch.nn.utils.clip_grad_value_(holders, clip_value, foreach=False)


def clip_grad_norm(params, max_norm):
    """torch.nn.utils.clip_grad_norm_; returns the total norm before clipping, as a float."""
    if not max_norm >= 0:
        raise ValueError(f"max_norm must be >= 0, got {max_norm!r}")
    holders = _grad_holders(params)
    if not holders:
        return 0.0
    return float(torch.nn.utils.clip_grad_norm_(holders, max_norm, foreach=False))


# ----------------------------------------------------------------------------------------------------------
# Task 9: Beale, with the gradient from torch.autograd
# ----------------------------------------------------------------------------------------------------------
def _beale_torch(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def beale(x, y):
    """The Beale function, evaluated by torch."""
    out = _beale_torch(torch.as_tensor(np.asarray(x, dtype=np.float64)), torch.as_tensor(np.asarray(y, dtype=np.float64)))
    return out.item() if out.dim() == 0 else out.numpy()


def beale_grad(x, y):
    """(df/dx, df/dy) by torch.autograd (backward of the sum: each element gets its own partial derivatives)."""
    tx = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    ty = torch.tensor(np.asarray(y, dtype=np.float64), requires_grad=True)
    _beale_torch(tx, ty).sum().backward()
    if tx.dim() == 0:
        return tx.grad.item(), ty.grad.item()
    return tx.grad.numpy(), ty.grad.numpy()


# ----------------------------------------------------------------------------------------------------------
# Golden files: the value tests compare every level with these
# ----------------------------------------------------------------------------------------------------------
# name -> (optimizer class name, keyword arguments, learning rate at each of the 10 steps or None for constant)
TRAJECTORY_CONFIGS = {
    "sgd": ("SGD", {"lr": 0.1}, None),
    "momentum": ("SGD", {"lr": 0.1, "momentum": 0.9}, None),
    "nesterov": ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}, None),
    "sgd_weight_decay": ("SGD", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.05}, None),
    "momentum_lr_change": ("SGD", {"lr": 0.1, "momentum": 0.9}, [0.1] * 5 + [0.01] * 5),
    "rmsprop": ("RMSprop", {"lr": 0.01}, None),
    "rmsprop_momentum": ("RMSprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.8, "weight_decay": 0.05}, None),
    "adam": ("Adam", {"lr": 0.01}, None),
    "adam_l2": ("Adam", {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1}, None),
    "adamw": ("AdamW", {"lr": 0.01, "weight_decay": 0.1}, None),
    "adamw_lr_change": ("AdamW", {"lr": 0.01, "weight_decay": 0.5}, [0.01] * 5 + [0.05] * 5),
}
TRAJECTORY_STEPS = 10


def trajectory_inputs():
    """Initial values of two parameters (2, 3) and (4,), and 10 gradients for each, spanning 1e-3 to 10."""
    rng = np.random.default_rng(2024)
    p0, p1 = rng.standard_normal((2, 3)), rng.standard_normal(4)
    g0 = rng.standard_normal((TRAJECTORY_STEPS, 2, 3)) * 10.0 ** rng.uniform(-3, 1, (TRAJECTORY_STEPS, 2, 3))
    g1 = rng.standard_normal((TRAJECTORY_STEPS, 4)) * 10.0 ** rng.uniform(-3, 1, (TRAJECTORY_STEPS, 4))
    g0[:, 0, 0] = 0.0  # an element that never gets a gradient
    g1[3] = 0.0  # a step where a whole parameter gets a zero gradient
    return p0, p1, g0, g1


def run_trajectory(module, name):
    """Positions of both parameters after each step: arrays (10, 2, 3) and (10, 4)."""
    cls_name, kwargs, lrs = TRAJECTORY_CONFIGS[name]
    p0, p1, g0, g1 = trajectory_inputs()
    params = [module.Parameter(p0.copy()), module.Parameter(p1.copy())]
    opt = getattr(module, cls_name)(params, **kwargs)
    path0, path1 = [], []
    for t in range(TRAJECTORY_STEPS):
        if lrs is not None:
            opt.lr = lrs[t]
        params[0].grad[...] = g0[t]
        params[1].grad[...] = g1[t]
        opt.step()
        path0.append(params[0].data.copy())
        path1.append(params[1].data.copy())
    return np.array(path0), np.array(path1)


SCHEDULE_CASES = {  # name -> (function name, keyword arguments, number of steps tabulated)
    "step": ("step_lr", {"base_lr": 0.1, "step_size": 3, "gamma": 0.5}, 12),
    "cosine": ("cosine_lr", {"base_lr": 0.1, "total_steps": 10, "min_lr": 0.001}, 11),
    "warmup": ("linear_warmup", {"base_lr": 0.1, "warmup_steps": 5}, 9),
    "warmup_cosine": ("warmup_cosine_lr", {"base_lr": 0.1, "warmup_steps": 3, "total_steps": 12, "min_lr": 0.0}, 13),
}


def clipping_inputs():
    """Three gradients of shapes (4, 3), (6,), (2, 2, 2); global L2 norm about 7."""
    rng = np.random.default_rng(7)
    return [rng.standard_normal((4, 3)), rng.standard_normal(6) * 2.0, rng.standard_normal((2, 2, 2))]


def make_golden():
    """{file name: {array name: array}} for tests/golden/."""

    module = sys.modules[__name__]
    p0, p1, g0, g1 = trajectory_inputs()
    trajectories = {"p0": p0, "p1": p1, "g0": g0, "g1": g1}
    for name in TRAJECTORY_CONFIGS:
        trajectories[f"{name}.p0"], trajectories[f"{name}.p1"] = run_trajectory(module, name)

    schedules = {}
    for name, (fn_name, kwargs, n) in SCHEDULE_CASES.items():
        schedules[name] = np.array([globals()[fn_name](s, **kwargs) for s in range(n)])

    clipping = {f"grad{i}": g for i, g in enumerate(clipping_inputs())}
    for max_norm in (1.0, 5.0, 100.0):
        params = [Parameter(np.zeros_like(g)) for g in clipping_inputs()]
        for p, g in zip(params, clipping_inputs()):
            p.grad[...] = g
        total = clip_grad_norm(params, max_norm)
        clipping[f"norm_{max_norm:g}.total"] = np.array(total)
        for i, p in enumerate(params):
            clipping[f"norm_{max_norm:g}.grad{i}"] = p.grad.copy()
    params = [Parameter(np.zeros_like(g)) for g in clipping_inputs()]
    for p, g in zip(params, clipping_inputs()):
        p.grad[...] = g
    clip_grad_value(params, 0.5)
    for i, p in enumerate(params):
        clipping[f"value_0.5.grad{i}"] = p.grad.copy()

    xs = np.array([1.0, 3.0, 0.0, -1.2, 2.5, 4.0])
    ys = np.array([1.5, 0.5, 0.0, 0.7, -0.3, 1.1])
    dx, dy = beale_grad(xs, ys)
    beale_table = {"x": xs, "y": ys, "f": beale(xs, ys), "dx": dx, "dy": dy}
    return {"trajectories": trajectories, "schedules": schedules, "clipping": clipping, "beale": beale_table}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--make-golden", action="store_true", help="rewrite tests/golden/*.npz")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    else:
        # Self-test on toy data: Adam's first step is lr * sign(g), SGD's is lr * g, and Adam solves Beale.
        p = Parameter(np.array([[1.0, -2.0], [0.5, 3.0]]))
        p.grad[...] = [[0.3, -4.0], [1e-3, 0.0]]
        Adam([p], lr=0.1).step()
        print(f"Adam first step: {p.data.tolist()}  Shape: {p.data.shape}")
        assert np.allclose(p.data, [[0.9, -1.9], [0.4, 3.0]], atol=1e-6), "Adam's first step should be lr * sign(g)"

        q = Parameter(np.float32([1.0, 2.0]))
        q.grad[...] = [0.5, -1.0]
        SGD([q], lr=0.1, momentum=0.9).step()
        assert q.data.dtype == np.float32 and np.allclose(q.data, [0.95, 2.1]), "SGD's first step should be p - lr*g"

        xy = Parameter(np.array([1.0, 1.5]))
        opt = Adam([xy], lr=0.05)
        for _ in range(2000):
            xy.grad[...] = beale_grad(*xy.data)
            opt.step()
        print(f"Adam on Beale from (1, 1.5): {xy.data.round(4).tolist()}, loss {beale(*xy.data):.2e}")
        assert beale(*xy.data) < 1e-6, "Adam should reach the minimum (3, 0.5)"
        assert math.isclose(cosine_lr(5, 0.1, 10), 0.05), "half way through the cosine, lr is half of base_lr"
        print("level 4 self-test passed")
