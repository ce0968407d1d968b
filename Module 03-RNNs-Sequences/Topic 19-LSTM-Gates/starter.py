"""
Topic 19: LSTM Gates - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 19

Conventions (the contract of Module 03, PyTorch's layout, so that one set of weights gives torch.nn.LSTM's outputs):
    x is batch first (N, T, D); hidden and cell states (N, H); outputs (N, T, H)
    weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,); row blocks in the order i, f, g, o
    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)        input gate
    f = sigmoid(W_if x + b_if + W_hf h + b_hf)        forget gate
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)           candidate
    o = sigmoid(W_io x + b_io + W_ho h + b_ho)        output gate
    c' = f * c + i * g
    h' = o * tanh(c')
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

def lstm_step_forward(x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """One LSTM step.

    x_t (N, D), h_prev (N, H), c_prev (N, H), weight_ih (4H, D), weight_hh (4H, H), bias_ih (4H,), bias_hh (4H,)
    Returns (h, c, cache): h, c (N, H), the dtype of the inputs; cache = whatever lstm_step_backward needs.
    Raises ValueError on any inconsistent shape (a bias of shape (1,), (1, 4H) or (4H, 1), h_prev (1, H), ...).
    """
    raise NotImplementedError("Task 1: lstm_step_forward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: one step backward
# ----------------------------------------------------------------------------------------------------

def lstm_step_backward(dh, dc, cache):
    """dh = dL/dh, dc = dL/dc (N, H) -> (dx_t, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh).

    Raises ValueError when dh or dc does not have the shape of h.
    """
    raise NotImplementedError("Task 2: lstm_step_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: the whole sequence, forward and backward through time
# ----------------------------------------------------------------------------------------------------

def lstm_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0 (N, H), c0 (N, H) -> (hs (N, T, H), c_n (N, H), cache).

    hs[:, t] is the hidden state after step t; c_n the cell state after the last step.
    N = 0 is allowed; T = 0 and any inconsistent shape raise ValueError.
    """
    raise NotImplementedError("Task 3: lstm_forward (see questions.md)")


def lstm_backward(dhs, cache, dc_n=None):
    """dhs (N, T, H) = dL/dhs, dc_n (N, H) = dL/dc_n or None (zeros)
    -> (dx (N, T, D), dh0 (N, H), dc0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh).

    The gradients reaching step t are dhs[:, t] plus the dh_prev of step t + 1, and the dc_prev of step t + 1.
    Raises ValueError when dhs or dc_n has the wrong shape.
    """
    raise NotImplementedError("Task 3: lstm_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

class LSTM:
    """One LSTM layer (batch first) holding weight_ih, weight_hh, bias_ih, bias_hh as Topic 03 Parameters."""

    def __init__(self, input_size, hidden_size, rng=None, dtype=np.float32):
        """Every parameter drawn from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) with np.random.default_rng(rng).

        Keep input_size, hidden_size, training (True), dh0 and dc0 (None until a backward) as attributes.
        Raises ValueError when a size is not an integer >= 1.
        """
        raise NotImplementedError("Task 4: LSTM.__init__ (see questions.md)")

    def parameters(self):
        """[weight_ih, weight_hh, bias_ih, bias_hh] (the Parameter objects)."""
        raise NotImplementedError("Task 4: LSTM.parameters")

    def train(self):
        """training = True; returns self."""
        raise NotImplementedError("Task 4: LSTM.train")

    def eval(self):
        """training = False; returns self."""
        raise NotImplementedError("Task 4: LSTM.eval")

    def forward(self, x, state=None):
        """x (N, T, D), state (h0, c0) or None (zeros) -> (out (N, T, H), (h_n, c_n))."""
        raise NotImplementedError("Task 4: LSTM.forward")

    def backward(self, dout, dh_n=None, dc_n=None):
        """dout (N, T, H), dh_n, dc_n (N, H) or None -> dx (N, T, D); ADDS into every .grad, keeps dh0 and dc0."""
        raise NotImplementedError("Task 4: LSTM.backward")

    def state_dict(self):
        """{'weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'}: copies of the parameters."""
        raise NotImplementedError("Task 4: LSTM.state_dict")

    def load_state_dict(self, state):
        """Copy state into the parameters IN PLACE; ValueError on missing/extra keys or wrong shapes (nothing changed)."""
        raise NotImplementedError("Task 4: LSTM.load_state_dict")


# ----------------------------------------------------------------------------------------------------
# Task 5: counting parameters
# ----------------------------------------------------------------------------------------------------

def parameter_count(input_size, hidden_size):
    """Number of trainable numbers of one torch.nn.LSTM layer (both bias vectors count).

    Raises ValueError for a size that is not an integer >= 1.
    """
    raise NotImplementedError("Task 5: parameter_count (see questions.md)")
