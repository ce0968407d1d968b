"""
PyTorch Reference Implementation
- Used only for verification, not the solution: the same interface as the other levels, with torch inside
  (autograd for the L2 gradient, torch.optim.SGD / Adam / AdamW for the weight-decay steps,
  torch.nn.Dropout for the masks, tensor clone / copy_ for early-stopping snapshots)
- NumPy in, NumPy out
- Randomness: torch cannot draw from a NumPy Generator, so each dropout call takes one 63-bit seed from the
  NumPy rng and runs torch's dropout under that seed (in a forked torch RNG: the global torch state is left
  alone). The same NumPy seed gives the same torch mask, but not the masks of the NumPy levels: the tests
  check dropout through its statistics and invariants, and golden files hold only the deterministic results.
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz

    python level04-pytorch-reference.py                 # self-test
    python level04-pytorch-reference.py --make-golden   # rewrite tests/golden/*.npz
"""

import argparse
import math
import warnings

import numpy as np
import torch

from dlfs.reference import write_golden

# ----------------------------------------------------------------------------------------------------
# Input checks shared by the tasks
# ----------------------------------------------------------------------------------------------------

def _as_float(x):
    """x as an ndarray; floating arrays keep their dtype, anything else (ints, bools, lists) becomes float64."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float64)


def _tensor(x):
    """A torch tensor holding a private copy of the array x (same dtype)."""
    return torch.from_numpy(np.array(x, copy=True, order="C"))


def _check_non_negative(name, value):
    value = float(value)
    if not value >= 0.0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return value


def _check_p(p):
    p = float(p)
    if not 0.0 <= p < 1.0:  # torch accepts p = 1 (all zeros); the contract here does not
        raise ValueError(f"dropout probability p must be in [0, 1), got {p!r} (p = 1 would drop every unit)")
    return p


def _array_of(param):
    return param if isinstance(param, np.ndarray) else param.data


def _torch_seed(rng):
    """One seed for torch, drawn from the NumPy Generator (or int seed, or None)."""
    return int(np.random.default_rng(rng).integers(0, 2**63 - 1))


# ----------------------------------------------------------------------------------------------------
# Task 1: the L2 penalty, differentiated by autograd
# ----------------------------------------------------------------------------------------------------

def l2_penalty(weights, lam):
    """0.5 * lam * sum_k ||W_k||^2 and its gradients lam * W_k, computed by torch autograd."""
    if isinstance(weights, np.ndarray):
        raise TypeError("l2_penalty takes a LIST of weight arrays, e.g. l2_penalty([W1, W2], lam); "
                        "wrap a single array in a list")
    lam = _check_non_negative("lam", lam)
    tensors = [_tensor(_as_float(W)).requires_grad_() for W in weights]
    if not tensors:
        return 0.0, []
    loss = 0.5 * lam * sum((t * t).sum() for t in tensors)
    loss.backward()
    return float(loss.detach()), [t.grad.numpy() for t in tensors]


# ----------------------------------------------------------------------------------------------------
# Task 2: SGD steps: torch.optim.SGD(weight_decay=lam), and the decoupled update written in torch
# ----------------------------------------------------------------------------------------------------

def _check_step(w, grad, lr):
    w = _as_float(w)
    grad = np.asarray(grad, dtype=w.dtype)
    if grad.shape != w.shape:
        raise ValueError(f"grad has shape {grad.shape} but w has shape {w.shape}")
    return w, grad, _check_non_negative("lr", lr)


def sgd_step_l2(w, grad, lr, lam):
    """torch.optim.SGD(lr=lr, weight_decay=lam).step(): w - lr * (grad + lam * w). Returns a new array."""
    w, grad, lr = _check_step(w, grad, lr)
    lam = _check_non_negative("lam", lam)
    t = _tensor(w)
    t.grad = _tensor(grad)
    torch.optim.SGD([t], lr=lr, weight_decay=lam, foreach=False).step()
    return t.numpy()


def sgd_step_decoupled(w, grad, lr, wd):
    """w * (1 - lr * wd) - lr * grad, the way torch.optim.AdamW applies its decay (p.mul_(1 - lr * wd))."""
    w, grad, lr = _check_step(w, grad, lr)
    wd = _check_non_negative("wd", wd)
    t = _tensor(w)
    t.mul_(1.0 - lr * wd).add_(_tensor(grad), alpha=-lr)
    return t.numpy()


# ----------------------------------------------------------------------------------------------------
# Task 3: torch.optim.Adam(weight_decay) vs torch.optim.AdamW(weight_decay)
# ----------------------------------------------------------------------------------------------------

def adam_l2_vs_adamw(w0, curvature, target, steps=100, lr=0.01, wd=0.1, betas=(0.9, 0.999), eps=1e-8):
    """torch.optim.Adam and torch.optim.AdamW, both with weight_decay=wd, on 0.5 * sum(curvature * (w - target)^2).

    Returns (path_adam_l2, path_adamw), each (steps + 1, *w0.shape) in w0's dtype, row 0 = w0.
    """
    w0 = _as_float(w0)
    curvature = np.asarray(curvature, dtype=w0.dtype)
    target = np.asarray(target, dtype=w0.dtype)
    if curvature.shape != w0.shape or target.shape != w0.shape:
        raise ValueError(f"w0 {w0.shape}, curvature {curvature.shape} and target {target.shape} must share a shape")
    if int(steps) != steps or steps < 0:
        raise ValueError(f"steps must be a non-negative integer, got {steps!r}")
    h, c = torch.from_numpy(np.ascontiguousarray(curvature)), torch.from_numpy(np.ascontiguousarray(target))
    paths = []
    for optimizer_class in (torch.optim.Adam, torch.optim.AdamW):
        t = _tensor(w0)
        opt = optimizer_class([t], lr=lr, betas=tuple(betas), eps=eps, weight_decay=wd, foreach=False)
        path = [w0.copy()]
        for _ in range(int(steps)):
            t.grad = h * (t - c)
            opt.step()
            path.append(t.numpy().copy())
        paths.append(np.array(path, dtype=w0.dtype))
    return paths[0], paths[1]


# ----------------------------------------------------------------------------------------------------
# Task 4: inverted dropout with torch's dropout
# ----------------------------------------------------------------------------------------------------

def _torch_mask(shape, dtype, p, seed, module=None):
    """torch's inverted-dropout mask: dropout applied to ones is exactly 0 or 1 / (1 - p)."""
    ones = torch.ones(shape, dtype=torch.from_numpy(np.empty(0, dtype)).dtype)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        mask = module(ones) if module is not None else torch.nn.functional.dropout(ones, p=p, training=True)
    return mask


def dropout_forward(x, p, train=True, rng=None):
    """Inverted dropout with torch.nn.functional.dropout. Returns (out, mask); eval mode: (x, None)."""
    p = _check_p(p)
    x = _as_float(x)
    if not train:
        return x, None
    mask = _torch_mask(x.shape, x.dtype, p, _torch_seed(rng))
    out = torch.from_numpy(np.ascontiguousarray(x)) * mask
    return out.numpy(), mask.numpy()


def dropout_backward(dout, mask):
    """dx = dout * mask (dout itself when mask is None)."""
    dout = _as_float(dout)
    if mask is None:
        return dout
    if dout.shape != np.shape(mask):
        raise ValueError(f"dout has shape {dout.shape} but the dropout mask has shape {np.shape(mask)}")
    return (torch.from_numpy(np.ascontiguousarray(dout)) * torch.from_numpy(np.ascontiguousarray(mask))).numpy()


# ----------------------------------------------------------------------------------------------------
# Task 5: the Dropout layer around torch.nn.Dropout
# ----------------------------------------------------------------------------------------------------

class Dropout:
    """torch.nn.Dropout as a NumPy layer. self.rng (a NumPy Generator) seeds every torch mask."""

    def __init__(self, p=0.5, rng=None):
        self.p = _check_p(p)
        self.rng = np.random.default_rng(rng)
        self.module = torch.nn.Dropout(self.p)
        self.training = True
        self._mask = None
        self._has_forward = False

    def forward(self, x):
        x = _as_float(x)
        self._has_forward = True
        self.module.train(self.training)
        if not self.training:
            self._mask = None
            return x
        self._mask = _torch_mask(x.shape, x.dtype, self.p, _torch_seed(self.rng), module=self.module)
        return (torch.from_numpy(np.ascontiguousarray(x)) * self._mask).numpy()

    def backward(self, dout):
        if not self._has_forward:
            raise RuntimeError("Dropout.backward called before forward")
        return dropout_backward(dout, None if self._mask is None else self._mask.numpy())

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
# Task 6: early stopping, with the PyTorch idiom for best weights: clone() the tensors, copy_() them back
# ----------------------------------------------------------------------------------------------------

class EarlyStopping:
    """Same contract as the NumPy levels; snapshots are torch clones of tensors sharing p.data's memory."""

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
        self._best_state = None  # list of torch tensors (clones)

    @property
    def best_weights(self):
        return None if self._best_state is None else [t.numpy() for t in self._best_state]

    def is_improvement(self, metric):
        if self.mode == "min":
            return metric < self.best - self.min_delta
        return metric > self.best + self.min_delta

    def step(self, metric, params=None):
        metric = float(metric)
        if self.is_improvement(metric):
            self.best, self.best_epoch, self.num_bad_epochs = metric, self.epoch, 0
            if params is not None:
                self._best_state = [torch.from_numpy(_array_of(p)).detach().clone() for p in params]
        else:
            self.num_bad_epochs += 1
        self.epoch += 1
        stop = self.num_bad_epochs >= self.patience
        if stop:
            self.stopped = True
            if self.restore_best and params is not None and self._best_state is not None:
                self.restore(params)
        return stop

    def restore(self, params):
        if self._best_state is None:
            raise RuntimeError("no best weights recorded yet: step(metric, params) has not seen an improvement")
        params = list(params)
        if len(params) != len(self._best_state):
            raise ValueError(f"{len(params)} parameters given, the snapshot holds {len(self._best_state)}")
        for p, best in zip(params, self._best_state):
            data = _array_of(p)
            if data.shape != tuple(best.shape):
                raise ValueError(f"parameter of shape {data.shape} cannot take the snapshot of shape "
                                 f"{tuple(best.shape)}")
            with torch.no_grad():
                torch.from_numpy(data).copy_(best)  # shared memory: writes straight into p.data


# ----------------------------------------------------------------------------------------------------
# Golden files: the deterministic results the tests compare against
# ----------------------------------------------------------------------------------------------------

SGD_CASE = {"w0": [2.0, -1.0, 0.5, 3.0], "curvature": [4.0, 1.0, 0.25, 0.01], "target": [1.0, 1.0, -1.0, 2.0],
            "lr": 0.1, "lam": 0.5, "steps": 20}
ADAM_CASE = {"w0": [1.0, 1.0, 1.0], "curvature": [100.0, 1.0, 0.01], "target": [1.0, 1.0, 1.0],
             "lr": 0.01, "wd": 0.1, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "steps": 60}


def make_golden():
    """{file name: {array name: array}} for tests/golden/."""
    rng = np.random.default_rng(8)
    W0, W1, lam = rng.standard_normal((3, 4)), rng.standard_normal(5), 0.3
    loss, (g0, g1) = l2_penalty([W0, W1], lam)

    s = SGD_CASE
    w = torch.tensor(s["w0"], dtype=torch.float64)
    h, c = torch.tensor(s["curvature"], dtype=torch.float64), torch.tensor(s["target"], dtype=torch.float64)
    opt = torch.optim.SGD([w], lr=s["lr"], weight_decay=s["lam"], foreach=False)
    sgd_path = [w.numpy().copy()]
    for _ in range(s["steps"]):
        w.grad = h * (w - c)
        opt.step()
        sgd_path.append(w.numpy().copy())

    a = ADAM_CASE
    path_adam_l2, path_adamw = adam_l2_vs_adamw(np.array(a["w0"]), np.array(a["curvature"]), np.array(a["target"]),
                                                steps=a["steps"], lr=a["lr"], wd=a["wd"],
                                                betas=(a["beta1"], a["beta2"]), eps=a["eps"])
    return {
        "l2_penalty": {"W0": W0, "W1": W1, "lam": np.float64(lam), "loss": np.float64(loss),
                       "grad0": g0, "grad1": g1},
        "sgd_weight_decay": {**{k: np.asarray(v, dtype=np.float64) for k, v in s.items() if k != "steps"},
                             "steps": np.int64(s["steps"]), "path": np.array(sgd_path)},
        "adam_weight_decay": {**{k: np.asarray(v, dtype=np.float64) for k, v in a.items() if k != "steps"},
                              "steps": np.int64(a["steps"]), "path_adam_l2": path_adam_l2,
                              "path_adamw": path_adamw},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--make-golden", action="store_true", help="write tests/golden/*.npz")
    args = parser.parse_args()
    if args.make_golden:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            write_golden(make_golden(), __file__)
    else:
        x = np.ones((2000, 50), dtype=np.float32)
        out, mask = dropout_forward(x, 0.2, rng=0)
        print(f"torch dropout p=0.2: zeros {np.mean(out == 0):.3f}, mean {out.mean():.3f}, dtype {out.dtype}")
        assert out.dtype == np.float32 and abs(np.mean(out == 0) - 0.2) < 0.01 and abs(out.mean() - 1) < 0.01
        assert np.array_equal(out, dropout_forward(x, 0.2, rng=0)[0]), "same NumPy seed, same torch mask"
        loss, grads = l2_penalty([np.array([[1.0, 2.0], [3.0, 4.0]])], lam=0.1)
        print(f"l2_penalty by autograd: loss {loss}, grad {grads[0].tolist()}")
        assert math.isclose(loss, 1.5) and np.allclose(grads[0], [[0.1, 0.2], [0.3, 0.4]])
        w, g = np.array([1.0, -2.0]), np.array([0.5, 0.5])
        assert np.allclose(sgd_step_l2(w, g, 0.1, 0.2), sgd_step_decoupled(w, g, 0.1, 0.2)), "SGD: L2 == decay"
        weights = [np.zeros(3)]
        stopper = EarlyStopping(patience=2)
        for epoch, val_loss in enumerate([1.0, 0.5, 0.7, 0.6]):
            weights[0][...] = epoch
            if stopper.step(val_loss, weights):
                break
        assert epoch == 3 and stopper.best_epoch == 1 and np.all(weights[0] == 1.0), "restore the epoch-1 weights"
        print("level 4 self-test passed")
