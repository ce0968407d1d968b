"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- Forward is torch.nn.functional.batch_norm; batchnorm_backward is autograd, batchnorm_backward_alt is
  PyTorch's own fused kernel (aten::native_batch_norm_backward), the closed form written in C++
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz

The golden running statistics come from torch.nn.BatchNorm1d itself (several training steps, then eval),
so the momentum convention and the unbiased running variance are PyTorch's, not a re-derivation.
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
import torch.nn.functional as F

from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

Parameter = load_topic(3).Parameter  # .data and .grad; Topic 03's optimizers update it in place

MODES = ("train", "test")


def _check_and_prepare(x, gamma, beta, bn_param):
    """Validate the inputs; create the running statistics in bn_param if absent. Returns (x, gamma, beta, mode)."""
    x, gamma, beta = np.asarray(x), np.asarray(gamma), np.asarray(beta)
    if x.ndim != 2:
        raise ValueError(f"batchnorm expects x of shape (N, D), got shape {x.shape}")
    N, D = x.shape
    if gamma.shape != (D,) or beta.shape != (D,):
        raise ValueError(f"gamma and beta must have shape ({D},) for x {x.shape}, got {gamma.shape} and {beta.shape}")
    mode = bn_param.get("mode", "train")
    if mode not in MODES:
        raise ValueError(f"bn_param['mode'] must be one of {MODES}, got {mode!r}")
    if N == 0:
        raise ValueError("empty batch: batch normalization needs at least one sample (two in train mode)")
    if mode == "train" and N == 1:  # the same rule (and message) as torch.nn.BatchNorm1d
        raise ValueError(f"Expected more than 1 value per feature when training, got input size {x.shape}")
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    if bn_param.get("running_mean") is None:
        bn_param["running_mean"] = np.zeros(D, dtype=dtype)
    if bn_param.get("running_var") is None:
        bn_param["running_var"] = np.ones(D, dtype=dtype)
    for name in ("running_mean", "running_var"):
        if np.shape(bn_param[name]) != (D,):
            raise ValueError(f"bn_param[{name!r}] has shape {np.shape(bn_param[name])}, expected ({D},)")
    return x.astype(dtype, copy=False), gamma, beta, mode


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization forward pass by F.batch_norm (same contract as the NumPy levels).

    x: (N, D); gamma, beta: (D,); bn_param: mode ('train' | 'test'), eps (1e-5), momentum (0.1),
    running_mean (D,) zeros and running_var (D,) ones if absent, updated IN PLACE in train mode.
    Returns out (N, D) with the dtype of x, and a cache holding the autograd graph.
    """
    x, gamma, beta, mode = _check_and_prepare(x, gamma, beta, bn_param)
    eps = float(bn_param.get("eps", 1e-5))
    momentum = float(bn_param.get("momentum", 0.1))
    training = mode == "train"
    dtype = torch.from_numpy(np.empty(0, dtype=x.dtype)).dtype
    x_t = torch.tensor(x, requires_grad=True)
    gamma_t = torch.tensor(gamma, dtype=dtype, requires_grad=True)
    beta_t = torch.tensor(beta, dtype=dtype, requires_grad=True)
    running_mean_t = torch.tensor(bn_param["running_mean"], dtype=dtype)
    running_var_t = torch.tensor(bn_param["running_var"], dtype=dtype)
    with one_torch_thread():
        out_t = F.batch_norm(x_t, running_mean_t, running_var_t, gamma_t, beta_t, training, momentum, eps)
    if training:  # torch updated its copies: write them back into the caller's arrays, in place
        bn_param["running_mean"][...] = running_mean_t.numpy()
        bn_param["running_var"][...] = running_var_t.numpy()
        with torch.no_grad():
            save_mean = x_t.mean(dim=0)
            save_invstd = torch.rsqrt(x_t.var(dim=0, unbiased=False) + eps)
    else:
        save_mean = save_invstd = None
    cache = {"mode": mode, "eps": eps, "x": x_t, "gamma": gamma_t, "beta": beta_t, "out": out_t,
             "running_mean": running_mean_t, "running_var": running_var_t,
             "save_mean": save_mean, "save_invstd": save_invstd}
    return out_t.detach().numpy().copy(), cache


def _dout_tensor(dout, cache):
    dout = np.asarray(dout)
    if dout.shape != tuple(cache["out"].shape):
        raise ValueError(f"dout must have the shape of the output {tuple(cache['out'].shape)}, got {dout.shape}")
    return torch.tensor(dout, dtype=cache["out"].dtype)


def batchnorm_backward(dout, cache):
    """dx (N, D), dgamma (D,), dbeta (D,) by autograd through F.batch_norm's graph."""
    dout_t = _dout_tensor(dout, cache)
    with one_torch_thread():
        dx, dgamma, dbeta = torch.autograd.grad(cache["out"], (cache["x"], cache["gamma"], cache["beta"]), dout_t,
                                                retain_graph=True)
    return dx.numpy().copy(), dgamma.numpy().copy(), dbeta.numpy().copy()


def batchnorm_backward_alt(dout, cache):
    """dx, dgamma, dbeta from PyTorch's fused batch-norm backward kernel (the closed form in C++)."""
    dout_t = _dout_tensor(dout, cache)
    with one_torch_thread():
        dx, dgamma, dbeta = torch.ops.aten.native_batch_norm_backward(
            dout_t, cache["x"].detach(), cache["gamma"].detach(), cache["running_mean"], cache["running_var"],
            cache["save_mean"], cache["save_invstd"], cache["mode"] == "train", cache["eps"], [True, True, True])
    return dx.numpy().copy(), dgamma.numpy().copy(), dbeta.numpy().copy()


class BatchNorm1d:
    """Batch normalization over the features of (N, num_features) inputs, computed by torch.

    gamma (ones) and beta (zeros) are Topic 03 Parameters; running_mean (zeros) and running_var (ones) are
    NumPy arrays updated in place by forward in train mode. Starts in train mode (training = True).
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float64):
        if int(num_features) < 1:
            raise ValueError(f"num_features must be >= 1, got {num_features}")
        self.num_features = int(num_features)
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.gamma = Parameter(np.ones(self.num_features, dtype=dtype))
        self.beta = Parameter(np.zeros(self.num_features, dtype=dtype))
        self.running_mean = np.zeros(self.num_features, dtype=dtype)
        self.running_var = np.ones(self.num_features, dtype=dtype)
        self.num_batches_tracked = 0
        self.training = True
        self._cache = None

    def forward(self, x):
        """x: (N, num_features) -> (N, num_features); train mode also updates the running statistics."""
        bn_param = {"mode": "train" if self.training else "test", "eps": self.eps, "momentum": self.momentum,
                    "running_mean": self.running_mean, "running_var": self.running_var}
        out, self._cache = batchnorm_forward(x, self.gamma.data, self.beta.data, bn_param)
        if self.training:
            self.num_batches_tracked += 1
        return out

    def backward(self, dout):
        """dout: (N, num_features) -> dx; ADDS dgamma, dbeta to gamma.grad, beta.grad."""
        if self._cache is None:
            raise RuntimeError("BatchNorm1d.backward called before forward")
        dx, dgamma, dbeta = batchnorm_backward(dout, self._cache)
        self.gamma.grad += dgamma
        self.beta.grad += dbeta
        return dx

    def parameters(self):
        return [self.gamma, self.beta]

    def train(self):
        self.training = True
        return self

    def eval(self):
        self.training = False
        return self

    def state_dict(self):
        """Copies of everything a checkpoint needs: gamma, beta, the running statistics and the batch count."""
        return {"gamma": self.gamma.data.copy(), "beta": self.beta.data.copy(),
                "running_mean": self.running_mean.copy(), "running_var": self.running_var.copy(),
                "num_batches_tracked": int(self.num_batches_tracked)}

    def load_state_dict(self, state):
        """Restore from state_dict() (or np.load of it), IN PLACE: optimizers keep pointing at the same arrays."""
        expected = {"gamma", "beta", "running_mean", "running_var", "num_batches_tracked"}
        if set(state) != expected:
            raise ValueError(f"state_dict keys {sorted(state)} != expected {sorted(expected)}")
        targets = {"gamma": self.gamma.data, "beta": self.beta.data,
                   "running_mean": self.running_mean, "running_var": self.running_var}
        for name, target in targets.items():
            if np.shape(state[name]) != target.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {np.shape(state[name])}, expected {target.shape}")
        for name, target in targets.items():
            target[...] = state[name]
        self.num_batches_tracked = int(state["num_batches_tracked"])

    def __repr__(self):
        return f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"


# ----------------------------------------------------------------------------------------------------
# Golden files for the value tests
# ----------------------------------------------------------------------------------------------------

def make_golden():
    """{file name: {array name: array}} for tests/golden/, all float64 from fixed NumPy seeds."""
    rng = np.random.default_rng(2024)
    D = 5
    loc = np.array([3.0, -2.0, 0.0, 10.0, 0.5])
    scale = np.array([1.5, 0.2, 4.0, 0.01, 1.0])  # 0.01: a small variance, where eps visibly matters

    # one training step, with gamma and beta, from fresh running statistics
    x = rng.normal(loc, scale, size=(8, D))
    gamma = rng.uniform(0.5, 2.0, size=D)
    beta = rng.normal(size=D)
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": 0.1}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    forward_train = {"x": x, "gamma": gamma, "beta": beta, "out": out,
                     "running_mean": bn_param["running_mean"].copy(), "running_var": bn_param["running_var"].copy()}
    backward_train = {"x": x, "gamma": gamma, "beta": beta, "dout": dout, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}

    # several training steps of torch.nn.BatchNorm1d, then eval mode, then eval-mode gradients
    steps = rng.normal(loc, scale, size=(6, 16, D))
    x_eval = rng.normal(loc, scale, size=(4, D))
    dout_eval = rng.standard_normal((4, D))
    layer = torch.nn.BatchNorm1d(D, eps=1e-5, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(gamma))
        layer.bias.copy_(torch.from_numpy(beta))
    means, variances = [], []
    layer.train()
    with torch.no_grad(), one_torch_thread():
        for batch in steps:
            layer(torch.from_numpy(batch))
            means.append(layer.running_mean.numpy().copy())
            variances.append(layer.running_var.numpy().copy())
    layer.eval()
    xe = torch.from_numpy(x_eval).requires_grad_(True)
    with one_torch_thread():
        out_eval_t = layer(xe)
        out_eval_t.backward(torch.from_numpy(dout_eval))
    running = {"gamma": gamma, "beta": beta, "batches": steps, "running_means": np.stack(means),
               "running_vars": np.stack(variances), "x_eval": x_eval, "out_eval": out_eval_t.detach().numpy(),
               "dout_eval": dout_eval, "dx_eval": xe.grad.numpy(), "dgamma_eval": layer.weight.grad.numpy(),
               "dbeta_eval": layer.bias.grad.numpy()}
    return {"forward_train": forward_train, "backward_train": backward_train, "running_stats": running}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 09 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)

    torch.manual_seed(42)
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.5, 10.0], size=(32, 3))
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    print(f"Output shape: {out.shape}; per-feature mean {np.round(out.mean(axis=0), 6)}, "
          f"std {np.round(out.std(axis=0), 4)}")
    assert out.shape == (32, 3), "Shape mismatch!"
    assert np.allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0))
    assert np.allclose(bn_param["running_var"], 0.9 + 0.1 * x.var(axis=0, ddof=1))
    dout = rng.standard_normal(out.shape)
    autograd, fused = batchnorm_backward(dout, cache), batchnorm_backward_alt(dout, cache)
    print("autograd vs fused kernel, max |difference|:", [float(np.abs(a - b).max()) for a, b in zip(autograd, fused)])
    assert all(np.allclose(a, b, atol=1e-12) for a, b in zip(autograd, fused))
    print("All checks passed.")
