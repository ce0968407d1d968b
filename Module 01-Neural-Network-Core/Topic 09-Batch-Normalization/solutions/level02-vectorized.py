"""
Level 2: Vectorized Implementation
- Priority: Clarity and speed: every step of the computational graph is one NumPy expression over the batch
- Constraints: NumPy broadcasting and reductions along axis 0, no Python loops over samples or features
- Target: Pass every test; the reference later topics import with load_topic(9)

Topic 09: batch normalization, with PyTorch's semantics (torch.nn.BatchNorm1d, F.batch_norm).
    batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)   train mode: batch statistics
                                                                  test mode : running statistics
    batchnorm_backward(dout, cache)     -> (dx, dgamma, dbeta)    the computational graph, node by node
    batchnorm_backward_alt(dout, cache) -> (dx, dgamma, dbeta)    the same gradients in one closed form
    BatchNorm1d(num_features, eps, momentum, dtype)               the layer (Layer protocol of Module 01)

Train mode, per feature j over the N samples of the batch:
    mu_j = mean_i x_ij        var_j = mean_i (x_ij - mu_j)^2            (biased: divide by N)
    xhat_ij = (x_ij - mu_j) / sqrt(var_j + eps)        out_ij = gamma_j * xhat_ij + beta_j
    running_mean = (1 - momentum) * running_mean + momentum * mu
    running_var  = (1 - momentum) * running_var  + momentum * var * N / (N - 1)    (unbiased)
Test mode: the same normalisation with running_mean and running_var in place of mu and var.
Batch size 1 in train mode raises ValueError (the variance of one value is 0: nothing to normalise by).
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # .data and .grad; Topic 03's optimizers update it in place

MODES = ("train", "test")


# ----------------------------------------------------------------------------------------------------
# Task 1: forward
# ----------------------------------------------------------------------------------------------------

def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization forward pass.

    x: (N, D); gamma, beta: (D,); bn_param: dict with
        mode          'train' (batch statistics, update the running ones) or 'test' (running statistics)
        eps           added to the variance inside the square root (default 1e-5)
        momentum      running = (1 - momentum) * running + momentum * batch_stat (default 0.1, as PyTorch)
        running_mean  (D,), created as zeros if absent; updated IN PLACE in train mode
        running_var   (D,), created as ones if absent; updated IN PLACE (with the unbiased variance)
    Returns out (N, D) with the dtype of x, and the cache batchnorm_backward needs.
    Raises ValueError for an empty batch, N == 1 in train mode, wrong shapes or an unknown mode.
    """
    x, gamma, beta, mode = _check_and_prepare(x, gamma, beta, bn_param)
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.1)
    running_mean, running_var = bn_param["running_mean"], bn_param["running_var"]

    if mode == "test":
        # the statistics are constants now: each sample is normalised on its own
        inv_std = 1.0 / np.sqrt(running_var + eps)
        xhat = (x - running_mean) * inv_std
        out = gamma * xhat + beta
        return out, {"mode": "test", "xhat": xhat, "gamma": gamma, "inv_std": inv_std}

    N = x.shape[0]
    # The computational graph, one node per line (the backward pass walks it in reverse)
    mu = x.mean(axis=0)              # (D,)   step 1: mean of each feature over the batch
    xmu = x - mu                     # (N, D) step 2: centre
    sq = xmu ** 2                    # (N, D) step 3: squared deviations
    var = sq.mean(axis=0)            # (D,)   step 4: biased variance (divide by N), used to normalise
    std = np.sqrt(var + eps)         # (D,)   step 5: eps INSIDE the root keeps it > 0 for a constant feature
    inv_std = 1.0 / std              # (D,)   step 6: inverse standard deviation
    xhat = xmu * inv_std             # (N, D) step 7: normalised input, mean 0 and variance ~1 per feature
    gammax = gamma * xhat            # (N, D) step 8: scale
    out = gammax + beta              # (N, D) step 9: shift

    # Running statistics for test mode, in place so that the caller's arrays see the update
    running_mean[...] = (1 - momentum) * running_mean + momentum * mu
    running_var[...] = (1 - momentum) * running_var + momentum * var * (N / (N - 1))  # unbiased, as PyTorch

    cache = {"mode": "train", "xhat": xhat, "gamma": gamma, "xmu": xmu, "inv_std": inv_std, "std": std}
    return out, cache


# ----------------------------------------------------------------------------------------------------
# Task 2: backward through the computational graph, node by node
# ----------------------------------------------------------------------------------------------------

def _check_dout(dout, cache):
    dout = np.asarray(dout)
    if dout.shape != cache["xhat"].shape:
        raise ValueError(f"dout must have the shape of the output {cache['xhat'].shape}, got {dout.shape}")
    return dout


def batchnorm_backward(dout, cache):
    """Gradients of batchnorm_forward by the chain rule applied to each node of its graph, in reverse.

    dout: (N, D) upstream gradient dL/dout; cache: from batchnorm_forward.
    Returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dout = _check_dout(dout, cache)
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    dbeta = dout.sum(axis=0)                  # step 9: out = gammax + beta, beta broadcast over the rows
    dgamma = (dout * xhat).sum(axis=0)        # step 8: gammax = gamma * xhat
    dxhat = dout * gamma                      # (N, D)
    if cache["mode"] == "test":
        return dxhat * inv_std, dgamma, dbeta  # running stats are constants: xhat is affine in x

    N = dout.shape[0]
    xmu, std = cache["xmu"], cache["std"]
    # step 7: xhat = xmu * inv_std, two inputs, two gradients (inv_std was broadcast over the rows: sum them)
    dinv_std = (dxhat * xmu).sum(axis=0)      # (D,)
    dxmu1 = dxhat * inv_std                   # (N, D) first path into xmu
    # step 6: inv_std = 1 / std
    dstd = -dinv_std / std ** 2               # (D,)
    # step 5: std = sqrt(var + eps), d sqrt(u)/du = 1 / (2 sqrt(u))
    dvar = 0.5 * dstd / std                   # (D,)
    # step 4: var = mean of sq over the rows: each row receives 1/N of the gradient
    dsq = np.broadcast_to(dvar / N, dout.shape)
    # step 3: sq = xmu ** 2
    dxmu2 = 2 * xmu * dsq                     # (N, D) second path into xmu
    # step 2: xmu = x - mu, with xmu reached by both paths
    dx1 = dxmu1 + dxmu2
    dmu = -dx1.sum(axis=0)                    # (D,)
    # step 1: mu = mean of x over the rows
    dx2 = np.broadcast_to(dmu / N, dout.shape)
    dx = dx1 + dx2
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 3: backward in closed form
# ----------------------------------------------------------------------------------------------------

def batchnorm_backward_alt(dout, cache):
    """The same gradients as batchnorm_backward, simplified on paper into one line:

        dx = (1/N) * gamma * inv_std * (N * dout - sum_i dout - xhat * sum_i (dout * xhat))

    dout: (N, D); returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dout = _check_dout(dout, cache)
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * xhat).sum(axis=0)
    if cache["mode"] == "test":
        return dout * (gamma * inv_std), dgamma, dbeta
    N = dout.shape[0]
    # the two sums are dbeta and dgamma: remove from dout its mean and its projection on xhat
    dx = (gamma * inv_std / N) * (N * dout - dbeta - xhat * dgamma)
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

class BatchNorm1d:
    """Batch normalization over the features of (N, num_features) inputs, as torch.nn.BatchNorm1d.

    gamma (ones) and beta (zeros) are Topic 03 Parameters; running_mean (zeros) and running_var (ones) are
    plain arrays updated in place by forward in train mode. Starts in train mode (training = True).
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
        dx, dgamma, dbeta = batchnorm_backward_alt(dout, self._cache)
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
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {value.shape}, expected {target.shape}")
        for name, target in targets.items():
            target[...] = state[name]
        self.num_batches_tracked = int(state["num_batches_tracked"])

    def __repr__(self):
        return f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"


# ----------------------------------------------------------------------------------------------------
# Input checks: a wrong shape must be a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

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
    if mode == "train" and N == 1:
        raise ValueError(f"Expected more than 1 value per feature when training, got input size {x.shape}")
    if bn_param.get("running_mean") is None:
        bn_param["running_mean"] = np.zeros(D, dtype=x.dtype)
    if bn_param.get("running_var") is None:
        bn_param["running_var"] = np.ones(D, dtype=x.dtype)
    for name in ("running_mean", "running_var"):
        if np.shape(bn_param[name]) != (D,):
            raise ValueError(f"bn_param[{name!r}] has shape {np.shape(bn_param[name])}, expected ({D},)")
    return x, gamma, beta, mode


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    x = rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.5, 10.0], size=(64, 3))
    gamma, beta = np.array([1.0, 2.0, 0.5]), np.array([0.0, -1.0, 3.0])
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    print(f"Output shape: {out.shape}")
    print(f"per-feature mean {np.round(out.mean(axis=0), 6)} (beta {beta}), "
          f"std {np.round(out.std(axis=0), 4)} (gamma {gamma})")
    assert out.shape == (64, 3), "Shape mismatch!"
    assert np.allclose(out.mean(axis=0), beta) and np.allclose(out.std(axis=0), gamma, atol=1e-4)
    assert np.allclose(bn_param["running_mean"], 0.1 * x.mean(axis=0)), "momentum convention"

    dout = rng.standard_normal(out.shape)
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    dx_alt, dgamma_alt, dbeta_alt = batchnorm_backward_alt(dout, cache)
    print(f"max |dx - dx_alt| = {np.abs(dx - dx_alt).max():.2e}")
    assert np.allclose(dx, dx_alt, atol=1e-12) and np.allclose(dgamma, dgamma_alt) and np.allclose(dbeta, dbeta_alt)
    # dx sums to zero per feature: a shift of a whole column of x is removed by the mean
    assert np.allclose(dx.sum(axis=0), 0, atol=1e-10)

    layer = BatchNorm1d(3)
    for _ in range(200):
        layer.forward(rng.normal(loc=[5.0, -3.0, 0.0], scale=[2.0, 0.5, 10.0], size=(32, 3)))
    print(f"running_mean {np.round(layer.running_mean, 2)} (true [5, -3, 0]), "
          f"running_var {np.round(layer.running_var, 2)} (true [4, 0.25, 100])")
    layer.eval()
    single = layer.forward(x[:1])  # batch size 1 is fine in eval mode
    assert single.shape == (1, 3)
    try:
        layer.train().forward(x[:1])
        raise AssertionError("batch size 1 in train mode must raise")
    except ValueError as exc:
        print(f"batch size 1 in train mode: ValueError({exc})")
    print("All checks passed.")
