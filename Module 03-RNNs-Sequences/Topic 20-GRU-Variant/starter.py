"""
Topic 20: GRU Variant - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 20

Conventions (the contract of Module 03, PyTorch's layout, so that one set of weights gives torch.nn.GRU's outputs):
    x is batch first (N, T, D); hidden states (N, H); outputs (N, T, H)
    weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,); row blocks in the order r, z, n
    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))        # r multiplies the hidden projection AND its bias
    h' = (1 - z) * n + z * h
Every function keeps the dtype of its inputs (float32 stays float32) and never modifies them; wrong shapes are
a ValueError, never a silent broadcast.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


# ----------------------------------------------------------------------------------------------------
# Task 1: one step forward
# ----------------------------------------------------------------------------------------------------

def gru_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One GRU step.

    x_t (N, D), h_prev (N, H), weight_ih (3H, D), weight_hh (3H, H), bias_ih (3H,), bias_hh (3H,)
    Returns (h, cache): h (N, H), the dtype of the inputs; cache = whatever gru_step_backward needs.
    Raises ValueError on any inconsistent shape (a bias of shape (1,) or (1, 3H), h_prev (1, H), ...).
    """
    raise NotImplementedError("Task 1: gru_step_forward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: one step backward
# ----------------------------------------------------------------------------------------------------

def gru_step_backward(dh, cache):
    """dh (N, H) = dL/dh -> (dx_t (N, D), dh_prev (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh).

    Raises ValueError when dh does not have the shape of h.
    """
    raise NotImplementedError("Task 2: gru_step_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: the whole sequence, forward and backward through time
# ----------------------------------------------------------------------------------------------------

def gru_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0 (N, H) -> (hs (N, T, H), cache); hs[:, t] is the state after step t.

    N = 0 is allowed; T = 0 and any inconsistent shape raise ValueError.
    """
    raise NotImplementedError("Task 3: gru_forward (see questions.md)")


def gru_backward(dhs, cache):
    """dhs (N, T, H) = dL/dhs -> (dx (N, T, D), dh0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh).

    The gradient reaching step t is dhs[:, t] plus the dh_prev coming back from step t + 1.
    Raises ValueError when dhs does not have the shape of hs.
    """
    raise NotImplementedError("Task 3: gru_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

class GRU:
    """One GRU layer (batch first) holding weight_ih, weight_hh, bias_ih, bias_hh as Topic 03 Parameters."""

    def __init__(self, input_size, hidden_size, rng=None, dtype=np.float32):
        """Every parameter drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) with np.random.default_rng(rng).

        Keep input_size, hidden_size, training (True) and dh0 (None until a backward) as attributes.
        Raises ValueError when a size is not an integer >= 1.
        """
        raise NotImplementedError("Task 4: GRU.__init__ (see questions.md)")

    def parameters(self):
        """[weight_ih, weight_hh, bias_ih, bias_hh] (the Parameter objects)."""
        raise NotImplementedError("Task 4: GRU.parameters")

    def train(self):
        """training = True; returns self."""
        raise NotImplementedError("Task 4: GRU.train")

    def eval(self):
        """training = False; returns self."""
        raise NotImplementedError("Task 4: GRU.eval")

    def forward(self, x, h0=None):
        """x (N, T, D), h0 (N, H) or None (zeros) -> (out (N, T, H), h_n (N, H))."""
        raise NotImplementedError("Task 4: GRU.forward")

    def backward(self, dout, dh_n=None):
        """dout (N, T, H), dh_n (N, H) or None -> dx (N, T, D); ADDS into every .grad and keeps dh0."""
        raise NotImplementedError("Task 4: GRU.backward")

    def state_dict(self):
        """{'weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'}: copies of the parameters."""
        raise NotImplementedError("Task 4: GRU.state_dict")

    def load_state_dict(self, state):
        """Copy state into the parameters IN PLACE; ValueError on missing/extra keys or wrong shapes (nothing changed)."""
        raise NotImplementedError("Task 4: GRU.load_state_dict")


# ----------------------------------------------------------------------------------------------------
# Task 5: parameter counts
# ----------------------------------------------------------------------------------------------------

def parameter_count(kind, input_size, hidden_size):
    """Number of trainable numbers of one torch.nn.RNN ('rnn'), LSTM ('lstm') or GRU ('gru') layer.

    Raises ValueError for an unknown kind or a size that is not an integer >= 1.
    """
    raise NotImplementedError("Task 5: parameter_count (see questions.md)")
