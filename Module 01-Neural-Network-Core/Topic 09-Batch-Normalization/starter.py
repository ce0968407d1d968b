"""
Topic 09: Batch Normalization - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 9

Conventions (shared by Module 01): x is (N, D), one row per sample; the statistics of batch norm are per
FEATURE (a column), over the batch (axis 0). Every function keeps the dtype of x (float32 stays float32).
PyTorch's semantics throughout, so that your numbers match torch.nn.BatchNorm1d:
    momentum = 0.1 means running = 0.9 * running + 0.1 * batch_statistic
    running_var is updated with the UNBIASED batch variance (divide by N - 1), the batch is normalised
    with the BIASED one (divide by N)
    batch size 1 in train mode raises ValueError("Expected more than 1 value per feature when training, ...")
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


# ----------------------------------------------------------------------------------------------------
# Task 1: forward
# ----------------------------------------------------------------------------------------------------

def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalization forward pass.

    x: (N, D); gamma, beta: (D,); bn_param: dict with
        mode          'train' (batch statistics, update the running ones) or 'test' (running statistics);
                      default 'train'
        eps           added to the variance inside the square root (default 1e-5)
        momentum      running = (1 - momentum) * running + momentum * batch_stat (default 0.1, as PyTorch)
        running_mean  (D,), created as zeros (dtype of x) if absent; updated IN PLACE in train mode
        running_var   (D,), created as ones if absent; updated IN PLACE with the UNBIASED variance
    Train mode:  mu = mean over axis 0, var = biased variance over axis 0,
                 xhat = (x - mu) / sqrt(var + eps), out = gamma * xhat + beta
    Test mode:   the same with running_mean and running_var; the running statistics are not changed.
    Returns (out, cache): out (N, D) with the dtype of x; cache = whatever your backward needs.
    Raises ValueError: x not 2-D, gamma/beta/running stats not (D,), unknown mode, empty batch (N == 0),
    and N == 1 in train mode with the message "Expected more than 1 value per feature when training, ...".
    """
    raise NotImplementedError("Task 1: batchnorm_forward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: backward through the computational graph, node by node
# ----------------------------------------------------------------------------------------------------

def batchnorm_backward(dout, cache):
    """Gradients of batchnorm_forward, by the chain rule applied to each node of the forward graph in reverse:
        mu -> xmu = x - mu -> sq = xmu**2 -> var -> std = sqrt(var + eps) -> inv_std = 1/std
           -> xhat = xmu * inv_std -> out = gamma * xhat + beta

    dout: (N, D) upstream gradient dL/dout; cache: from batchnorm_forward (train or test mode).
    Returns dx (N, D), dgamma (D,), dbeta (D,), in the dtype of the forward pass.
    In test mode the statistics are constants: dx = dout * gamma / sqrt(running_var + eps).
    Raises ValueError if dout does not have the shape of the output.
    """
    raise NotImplementedError("Task 2: batchnorm_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: backward in closed form
# ----------------------------------------------------------------------------------------------------

def batchnorm_backward_alt(dout, cache):
    """The same gradients as batchnorm_backward, from the simplified formula (train mode):

        dx = (1/N) * gamma * inv_std * (N * dout - sum_i dout - xhat * sum_i (dout * xhat))
        dgamma = sum_i dout * xhat          dbeta = sum_i dout          (sums over the batch, axis 0)

    dout: (N, D); returns dx (N, D), dgamma (D,), dbeta (D,); must agree with batchnorm_backward to 1e-10.
    """
    raise NotImplementedError("Task 3: batchnorm_backward_alt (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

class BatchNorm1d:
    """Batch normalization over the features of (N, num_features) inputs, as torch.nn.BatchNorm1d.

    Attributes:
        gamma, beta                 Parameter (Topic 03) of shape (num_features,), ones and zeros, dtype
        running_mean, running_var   ndarray (num_features,), zeros and ones, dtype; updated IN PLACE
        eps, momentum               floats (defaults 1e-5 and 0.1)
        training                    True at creation; train() / eval() switch it
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, dtype=np.float64):
        raise NotImplementedError("Task 4: BatchNorm1d.__init__ (see questions.md)")

    def forward(self, x):
        """x: (N, num_features) -> out (N, num_features). Train mode: batch statistics, running stats updated;
        eval mode: running statistics. Keeps the cache for backward."""
        raise NotImplementedError("Task 4: BatchNorm1d.forward (see questions.md)")

    def backward(self, dout):
        """dout: (N, num_features) -> dx (N, num_features); ADDS dgamma into gamma.grad and dbeta into beta.grad."""
        raise NotImplementedError("Task 4: BatchNorm1d.backward (see questions.md)")

    def parameters(self):
        """[gamma, beta]: the Parameter objects themselves (optimizers update them in place)."""
        raise NotImplementedError("Task 4: BatchNorm1d.parameters (see questions.md)")

    def train(self):
        """Set training = True; return self."""
        raise NotImplementedError("Task 4: BatchNorm1d.train (see questions.md)")

    def eval(self):
        """Set training = False; return self."""
        raise NotImplementedError("Task 4: BatchNorm1d.eval (see questions.md)")

    def state_dict(self):
        """{"gamma", "beta", "running_mean", "running_var": COPIES of the arrays, "num_batches_tracked": int}."""
        raise NotImplementedError("Task 4: BatchNorm1d.state_dict (see questions.md)")

    def load_state_dict(self, state):
        """Copy the values of state (as returned by state_dict, or loaded from an .npz) INTO the existing arrays.
        Raises ValueError for missing keys or wrong shapes."""
        raise NotImplementedError("Task 4: BatchNorm1d.load_state_dict (see questions.md)")
