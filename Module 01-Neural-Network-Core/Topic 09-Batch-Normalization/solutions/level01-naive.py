"""
Level 1: Naive Implementation
- Priority: Correctness over speed: every formula written as the loop over features and samples it means
- Constraints: Python loops and scalar arithmetic; NumPy only to hold the arrays
- Target: Pass functional tests only (slow: about 50 ms for a 256 x 64 batch, where level 2 needs well under 1 ms)

Batch normalization, per feature j (a column of x) over the N samples (rows) of the batch, train mode:
    mu_j = (1/N) sum_i x_ij                     var_j = (1/N) sum_i (x_ij - mu_j)^2     (biased)
    xhat_ij = (x_ij - mu_j) / sqrt(var_j + eps) out_ij = gamma_j * xhat_ij + beta_j
    running_mean_j <- (1 - momentum) * running_mean_j + momentum * mu_j
    running_var_j  <- (1 - momentum) * running_var_j  + momentum * var_j * N / (N - 1)   (unbiased)
Test mode uses running_mean_j and running_var_j in place of mu_j and var_j, so each sample is on its own.
Batch size 1 in train mode raises ValueError (as torch.nn.BatchNorm1d): one value has no spread.
"""

from __future__ import annotations

import math

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
    eps = float(bn_param.get("eps", 1e-5))
    momentum = float(bn_param.get("momentum", 0.1))
    running_mean, running_var = bn_param["running_mean"], bn_param["running_var"]
    N, D = x.shape
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    out = np.empty((N, D), dtype=dtype)
    xhat = np.empty((N, D), dtype=dtype)
    xmu = np.empty((N, D), dtype=dtype)
    mu = np.empty(D, dtype=dtype)
    var = np.empty(D, dtype=dtype)
    std = np.empty(D, dtype=dtype)
    inv_std = np.empty(D, dtype=dtype)

    for j in range(D):  # every feature is normalised on its own
        if mode == "train":
            total = 0.0
            for i in range(N):
                total += float(x[i, j])
            mu[j] = total / N
            squares = 0.0
            for i in range(N):
                xmu[i, j] = float(x[i, j]) - float(mu[j])
                squares += float(xmu[i, j]) * float(xmu[i, j])  # not ** 2: Python raises on overflow
            var[j] = squares / N                           # biased: this is what normalises the batch
            # the running statistics remember the batch for test mode (the variance unbiased, as PyTorch)
            running_mean[j] = (1 - momentum) * float(running_mean[j]) + momentum * float(mu[j])
            running_var[j] = (1 - momentum) * float(running_var[j]) + momentum * float(var[j]) * N / (N - 1)
        else:
            mu[j] = running_mean[j]                        # test mode: constants, not the batch's numbers
            var[j] = running_var[j]
            for i in range(N):
                xmu[i, j] = float(x[i, j]) - float(mu[j])
        std[j] = _sqrt(float(var[j]) + eps)                # eps inside the root: never a division by 0
        inv_std[j] = 1.0 / float(std[j])
        for i in range(N):
            xhat[i, j] = float(xmu[i, j]) * float(inv_std[j])
            out[i, j] = float(gamma[j]) * float(xhat[i, j]) + float(beta[j])

    cache = {"mode": mode, "xhat": xhat, "gamma": gamma, "xmu": xmu, "std": std, "inv_std": inv_std}
    return out, cache


def _check_dout(dout, cache):
    dout = np.asarray(dout)
    if dout.shape != cache["xhat"].shape:
        raise ValueError(f"dout must have the shape of the output {cache['xhat'].shape}, got {dout.shape}")
    return dout


# ----------------------------------------------------------------------------------------------------
# Task 2: backward through the computational graph, node by node
# ----------------------------------------------------------------------------------------------------

def batchnorm_backward(dout, cache):
    """Gradients of batchnorm_forward by the chain rule applied to each node of its graph, in reverse.

    The graph of one feature j (train mode):
        mu = mean(x)   xmu = x - mu   sq = xmu^2   var = mean(sq)   std = sqrt(var + eps)
        inv_std = 1/std   xhat = xmu * inv_std   out = gamma * xhat + beta
    dout: (N, D); returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dout = _check_dout(dout, cache)
    xhat, gamma, xmu, std, inv_std = cache["xhat"], cache["gamma"], cache["xmu"], cache["std"], cache["inv_std"]
    N, D = dout.shape
    dx = np.empty((N, D), dtype=xhat.dtype)
    dgamma = np.empty(D, dtype=xhat.dtype)
    dbeta = np.empty(D, dtype=xhat.dtype)

    for j in range(D):
        g, s, inv = float(gamma[j]), float(std[j]), float(inv_std[j])
        # out = gamma * xhat + beta: beta and gamma were used by every sample, their gradients sum
        dbeta_j, dgamma_j = 0.0, 0.0
        dxhat = [0.0] * N
        for i in range(N):
            dbeta_j += float(dout[i, j])
            dgamma_j += float(dout[i, j]) * float(xhat[i, j])
            dxhat[i] = float(dout[i, j]) * g
        dbeta[j], dgamma[j] = dbeta_j, dgamma_j
        if cache["mode"] == "test":
            for i in range(N):  # running stats are constants: only the path through xmu remains
                dx[i, j] = dxhat[i] * inv
            continue

        # xhat = xmu * inv_std: two inputs; inv_std was shared by every sample, so its gradient sums
        dinv_std = 0.0
        dxmu = [0.0] * N
        for i in range(N):
            dinv_std += dxhat[i] * float(xmu[i, j])
            dxmu[i] = dxhat[i] * inv                       # first path into xmu
        dstd = -dinv_std / (s * s)                         # inv_std = 1 / std
        dvar = 0.5 * dstd / s                              # std = sqrt(var + eps)
        for i in range(N):
            dsq = dvar / N                                 # var = (1/N) sum_i sq_i
            dxmu[i] += 2.0 * float(xmu[i, j]) * dsq        # sq = xmu^2: second path into xmu
        dmu = 0.0
        for i in range(N):
            dmu -= dxmu[i]                                 # xmu = x - mu: mu was subtracted from every sample
        for i in range(N):
            dx[i, j] = dxmu[i] + dmu / N                   # mu = (1/N) sum_i x_i: each x_i gets 1/N of dmu
    return dx, dgamma, dbeta


# ----------------------------------------------------------------------------------------------------
# Task 3: backward in closed form
# ----------------------------------------------------------------------------------------------------

def batchnorm_backward_alt(dout, cache):
    """The same gradients in closed form, per feature:

        dx_i = (1/N) * gamma * inv_std * (N * dout_i - sum_k dout_k - xhat_i * sum_k dout_k * xhat_k)

    dout: (N, D); returns dx (N, D), dgamma (D,), dbeta (D,).
    """
    dout = _check_dout(dout, cache)
    xhat, gamma, inv_std = cache["xhat"], cache["gamma"], cache["inv_std"]
    N, D = dout.shape
    dx = np.empty((N, D), dtype=xhat.dtype)
    dgamma = np.empty(D, dtype=xhat.dtype)
    dbeta = np.empty(D, dtype=xhat.dtype)
    for j in range(D):
        sum_dout, sum_dout_xhat = 0.0, 0.0
        for i in range(N):
            sum_dout += float(dout[i, j])
            sum_dout_xhat += float(dout[i, j]) * float(xhat[i, j])
        dbeta[j], dgamma[j] = sum_dout, sum_dout_xhat
        scale = float(gamma[j]) * float(inv_std[j])
        for i in range(N):
            if cache["mode"] == "test":
                dx[i, j] = float(dout[i, j]) * scale
            else:
                dx[i, j] = scale / N * (N * float(dout[i, j]) - sum_dout - float(xhat[i, j]) * sum_dout_xhat)
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
        for j in range(self.num_features):
            self.gamma.grad[j] += dgamma[j]
            self.beta.grad[j] += dbeta[j]
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
            values = np.asarray(state[name])
            for j in range(self.num_features):
                target[j] = values[j]
        self.num_batches_tracked = int(state["num_batches_tracked"])

    def __repr__(self):
        return f"BatchNorm1d({self.num_features}, eps={self.eps:g}, momentum={self.momentum:g})"


# ----------------------------------------------------------------------------------------------------
# Input checks and small helpers (below the lesson code: read the lesson first)
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
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    if bn_param.get("running_mean") is None:
        bn_param["running_mean"] = np.zeros(D, dtype=dtype)
    if bn_param.get("running_var") is None:
        bn_param["running_var"] = np.ones(D, dtype=dtype)
    for name in ("running_mean", "running_var"):
        if np.shape(bn_param[name]) != (D,):
            raise ValueError(f"bn_param[{name!r}] has shape {np.shape(bn_param[name])}, expected ({D},)")
    return x, gamma, beta, mode


def _sqrt(value):
    """math.sqrt that lets NaN through (a NaN input must give NaN outputs, not an exception)."""
    return math.sqrt(value) if value >= 0 else float("nan")


if __name__ == "__main__":
    x = np.array([[1.0, 10.0], [3.0, 10.0], [5.0, 10.0], [7.0, 10.0]])  # feature 1 is constant
    gamma, beta = np.array([1.0, 1.0]), np.array([0.0, 0.5])
    bn_param = {"mode": "train"}
    out, cache = batchnorm_forward(x, gamma, beta, bn_param)
    print(f"Output:\n{out}\nShape: {out.shape}")
    # by hand: mu = 4, var = (9 + 1 + 1 + 9) / 4 = 5, xhat = (x - 4) / sqrt(5 + 1e-5)
    assert out.shape == (4, 2), "Shape mismatch!"
    assert np.allclose(out[:, 0], (x[:, 0] - 4) / np.sqrt(5 + 1e-5)), "feature 0 by hand"
    assert np.allclose(out[:, 1], 0.5), "a constant feature becomes beta"
    print(f"running_mean {bn_param['running_mean']} (0.1 * [4, 10]), running_var {bn_param['running_var']} "
          f"(0.9 + 0.1 * [20/3, 0])")
    assert np.allclose(bn_param["running_mean"], [0.4, 1.0])
    assert np.allclose(bn_param["running_var"], [0.9 + 0.1 * 20 / 3, 0.9])

    dout = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 2.0], [0.5, 0.0]])
    dx, dgamma, dbeta = batchnorm_backward(dout, cache)
    dx_alt, dgamma_alt, dbeta_alt = batchnorm_backward_alt(dout, cache)
    print(f"dx:\n{dx}\ndgamma {dgamma}, dbeta {dbeta}")
    assert np.allclose(dx, dx_alt) and np.allclose(dgamma, dgamma_alt) and np.allclose(dbeta, dbeta_alt)
    assert np.allclose(dbeta, dout.sum(axis=0))

    test_param = {"mode": "test", "running_mean": np.array([4.0, 10.0]), "running_var": np.array([5.0, 1.0])}
    single, _ = batchnorm_forward(x[:1], gamma, beta, test_param)  # batch size 1 is fine in test mode
    print(f"test mode, one sample: {single}")
    assert np.allclose(single, [[-3 / np.sqrt(5 + 1e-5), 0.5]])
    print("All checks passed.")
