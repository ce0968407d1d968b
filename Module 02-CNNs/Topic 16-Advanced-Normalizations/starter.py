"""
Topic 16: Advanced Normalizations - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 16

All three normalisations compute, over one SET of elements,
    mean = mean(x over the set)      var = mean((x - mean)^2 over the set)      (BIASED: divide by M)
    xhat = (x - mean) / sqrt(var + eps)                                          (eps INSIDE the root)
    out  = gamma * xhat + beta
and differ only in the set:
    LayerNorm     the trailing normalized_shape dims of one sample          gamma, beta: normalized_shape
    GroupNorm     C // G contiguous channels (and all positions) of one sample  gamma, beta: (C,)
    InstanceNorm  all positions of one channel of one sample                gamma, beta: (C,)
None of them looks at the other samples of the batch (BatchNorm, Topic 09, does).
Semantics are PyTorch's (torch.nn.functional.layer_norm / group_norm / instance_norm). Every function
keeps the dtype of x (float32 stays float32); gamma and beta may be None (no scale / no shift), and then
the backward pass returns None in their place. A gamma of shape (1,) or (1, C) is a ValueError, never broadcast.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


# ----------------------------------------------------------------------------------------------------
# Task 1: LayerNorm
# ----------------------------------------------------------------------------------------------------

def layernorm_forward(x, gamma, beta, normalized_shape, eps=1e-5):
    """Layer normalization, as torch.nn.functional.layer_norm.

    x: (*, *normalized_shape): any leading dims, e.g. (N, D), (N, T, D), or (N, C, H, W) with (C, H, W)
    gamma, beta: arrays of shape exactly normalized_shape, or None
    normalized_shape: int or tuple of ints; the trailing dims of x must equal it (else ValueError)
    Returns (out, cache): out has the shape and dtype of x.
    An empty batch (a leading dim of size 0) gives an empty output.
    """
    raise NotImplementedError("Task 1: layernorm_forward (see questions.md)")


def layernorm_backward(dout, cache):
    """dout: the shape of the output (else ValueError).
    Returns dx (shape of x), dgamma and dbeta (shape normalized_shape, summed over the leading dims; None when
    the forward pass had no gamma / no beta)."""
    raise NotImplementedError("Task 1: layernorm_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: GroupNorm
# ----------------------------------------------------------------------------------------------------

def groupnorm_forward(x, gamma, beta, num_groups, eps=1e-5):
    """Group normalization, as torch.nn.functional.group_norm.

    x: (N, C, *spatial), spatial may be empty ((N, C) works); num_groups must divide C (else ValueError)
    Group g holds the CONTIGUOUS channels g * C/G ... (g + 1) * C/G - 1 (x.reshape(N, G, C // G, ...)).
    gamma, beta: (C,) (one per channel) or None.
    Returns (out, cache): out has the shape and dtype of x.
    """
    raise NotImplementedError("Task 2: groupnorm_forward (see questions.md)")


def groupnorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None."""
    raise NotImplementedError("Task 2: groupnorm_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: InstanceNorm
# ----------------------------------------------------------------------------------------------------

def instancenorm_forward(x, gamma, beta, eps=1e-5, running_mean=None, running_var=None, momentum=0.1,
                         use_input_stats=True):
    """Instance normalization, as torch.nn.functional.instance_norm.

    x: (N, C, *spatial), at least one spatial dim; gamma, beta: (C,) or None
    use_input_stats=True (training, or no running statistics): normalise every (sample, channel) with its own
        mean and biased variance. If running_mean and running_var ((C,) arrays) are given, update them IN PLACE:
            running_mean = (1 - momentum) * running_mean + momentum * mean over n of the instance means
            running_var  = (1 - momentum) * running_var  + momentum * mean over n of the UNBIASED instance variances
        Fewer than 2 spatial elements: ValueError("Expected more than 1 spatial element when training, ...").
    use_input_stats=False: normalise with running_mean and running_var (required), change nothing.
    N == 0: empty output, running statistics unchanged.
    Returns (out, cache): out has the shape and dtype of x.
    """
    raise NotImplementedError("Task 3: instancenorm_forward (see questions.md)")


def instancenorm_backward(dout, cache):
    """dout: shape of x. Returns dx (shape of x), dgamma (C,) or None, dbeta (C,) or None.
    With use_input_stats=False the statistics are constants: dx = dout * gamma / sqrt(running_var + eps)."""
    raise NotImplementedError("Task 3: instancenorm_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Tasks 4-6: the layers (Layer protocol: forward, backward ADDS into p.grad, parameters, train/eval, state_dict)
# ----------------------------------------------------------------------------------------------------

class LayerNorm:
    """torch.nn.LayerNorm over the trailing normalized_shape dims of inputs with any leading dims.

    Attributes: normalized_shape (tuple), eps, elementwise_affine, training (True at creation);
    gamma = Parameter(ones(normalized_shape, dtype)) and beta = Parameter(zeros(...)), or None
    (elementwise_affine=False: both None; bias=False: beta None).
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=np.float32):
        raise NotImplementedError("Task 4: LayerNorm.__init__ (see questions.md)")

    def forward(self, x):
        """x: (*, *normalized_shape) -> out of the same shape; keeps the cache for backward."""
        raise NotImplementedError("Task 4: LayerNorm.forward (see questions.md)")

    def backward(self, dout):
        """dout: shape of the last output -> dx; ADDS dgamma, dbeta into gamma.grad, beta.grad.
        RuntimeError if forward was never called."""
        raise NotImplementedError("Task 4: LayerNorm.backward (see questions.md)")

    def parameters(self):
        """[gamma, beta] without the ones that are None (the Parameter objects themselves)."""
        raise NotImplementedError("Task 4: LayerNorm.parameters (see questions.md)")

    def train(self):
        """training = True; return self (LayerNorm computes the same in both modes)."""
        raise NotImplementedError("Task 4: LayerNorm.train (see questions.md)")

    def eval(self):
        """training = False; return self."""
        raise NotImplementedError("Task 4: LayerNorm.eval (see questions.md)")

    def state_dict(self):
        """{"gamma": copy, "beta": copy} for the parameters that exist ({} without any)."""
        raise NotImplementedError("Task 4: LayerNorm.state_dict (see questions.md)")

    def load_state_dict(self, state):
        """Copy the arrays INTO the existing ones; ValueError for missing or unknown keys and wrong shapes."""
        raise NotImplementedError("Task 4: LayerNorm.load_state_dict (see questions.md)")


class GroupNorm:
    """torch.nn.GroupNorm: num_groups contiguous groups of channels, per sample.

    Attributes: num_groups, num_channels, eps, affine, training; gamma (ones) and beta (zeros) of shape
    (num_channels,), or None when affine=False. num_channels % num_groups != 0 -> ValueError (as PyTorch).
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=np.float32):
        raise NotImplementedError("Task 5: GroupNorm.__init__ (see questions.md)")

    def forward(self, x):
        """x: (N, num_channels, *spatial) -> out of the same shape (ValueError for another channel count)."""
        raise NotImplementedError("Task 5: GroupNorm.forward (see questions.md)")

    def backward(self, dout):
        """dout -> dx; ADDS dgamma, dbeta into gamma.grad, beta.grad."""
        raise NotImplementedError("Task 5: GroupNorm.backward (see questions.md)")

    def parameters(self):
        """[gamma, beta], or [] when affine=False."""
        raise NotImplementedError("Task 5: GroupNorm.parameters (see questions.md)")

    def train(self):
        """training = True; return self."""
        raise NotImplementedError("Task 5: GroupNorm.train (see questions.md)")

    def eval(self):
        """training = False; return self."""
        raise NotImplementedError("Task 5: GroupNorm.eval (see questions.md)")

    def state_dict(self):
        """{"gamma", "beta"} copies, or {} when affine=False."""
        raise NotImplementedError("Task 5: GroupNorm.state_dict (see questions.md)")

    def load_state_dict(self, state):
        """Copy INTO the existing arrays; ValueError for wrong keys or shapes."""
        raise NotImplementedError("Task 5: GroupNorm.load_state_dict (see questions.md)")


class InstanceNorm2d:
    """torch.nn.InstanceNorm2d on (N, C, H, W).

    Attributes: num_features, eps, momentum, affine (False by default), track_running_stats (False by default),
    training; gamma, beta (num_features,) or None; running_mean (zeros), running_var (ones) when
    track_running_stats=True, else None. Train mode (or not tracking): the statistics of each instance, and the
    running statistics are updated; eval mode with tracking: the running statistics, nothing updated.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False, track_running_stats=False,
                 dtype=np.float32):
        raise NotImplementedError("Task 6: InstanceNorm2d.__init__ (see questions.md)")

    def forward(self, x):
        """x: (N, num_features, H, W) -> out of the same shape (ValueError otherwise)."""
        raise NotImplementedError("Task 6: InstanceNorm2d.forward (see questions.md)")

    def backward(self, dout):
        """dout -> dx; ADDS dgamma, dbeta into gamma.grad, beta.grad when affine."""
        raise NotImplementedError("Task 6: InstanceNorm2d.backward (see questions.md)")

    def parameters(self):
        """[gamma, beta] when affine, else []."""
        raise NotImplementedError("Task 6: InstanceNorm2d.parameters (see questions.md)")

    def train(self):
        """training = True; return self."""
        raise NotImplementedError("Task 6: InstanceNorm2d.train (see questions.md)")

    def eval(self):
        """training = False; return self."""
        raise NotImplementedError("Task 6: InstanceNorm2d.eval (see questions.md)")

    def state_dict(self):
        """Copies of gamma, beta (if affine) and running_mean, running_var (if tracked); {} for neither."""
        raise NotImplementedError("Task 6: InstanceNorm2d.state_dict (see questions.md)")

    def load_state_dict(self, state):
        """Copy INTO the existing arrays; ValueError for wrong keys or shapes."""
        raise NotImplementedError("Task 6: InstanceNorm2d.load_state_dict (see questions.md)")
