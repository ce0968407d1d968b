"""
Topic 18: Vanilla RNN - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 18

Conventions (shared by Module 03, the same as torch.nn.RNN with batch_first=True):
    x (N, T, D), h (N, H), hs (N, T, H); weight_ih (H, D), weight_hh (H, H), bias_ih (H,), bias_hh (H,)
    h_t = tanh(x_t @ weight_ih.T + bias_ih + h_{t-1} @ weight_hh.T + bias_hh)
    every function keeps the dtype (float32 stays float32); wrong shapes raise ValueError
    The _check_* helpers are given: they raise the ValueErrors the tests expect.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

optim = load_topic(3)  # Parameter (.data, .grad)


# ----------------------------------------------------------------------------------------------------
# Checks shared by every function
# ----------------------------------------------------------------------------------------------------

def _check_weights(weight_ih, weight_hh, bias_ih, bias_hh):
    weight_ih, weight_hh = np.asarray(weight_ih), np.asarray(weight_hh)
    bias_ih, bias_hh = np.asarray(bias_ih), np.asarray(bias_hh)
    if weight_ih.ndim != 2:
        raise ValueError(f"weight_ih must be (H, D), got shape {weight_ih.shape}")
    H, D = weight_ih.shape
    if weight_hh.shape != (H, H):
        raise ValueError(f"weight_hh must be (H, H) = ({H}, {H}), got shape {weight_hh.shape}")
    if bias_ih.shape != (H,) or bias_hh.shape != (H,):
        raise ValueError(f"bias_ih and bias_hh must be ({H},), got {bias_ih.shape} and {bias_hh.shape}")
    return weight_ih, weight_hh, bias_ih, bias_hh, H, D


def _check_step(x_t, h_prev, H, D):
    x_t, h_prev = np.asarray(x_t), np.asarray(h_prev)
    if x_t.ndim != 2 or x_t.shape[1] != D:
        raise ValueError(f"x_t must be (N, D) with D = {D}, got shape {x_t.shape}")
    if h_prev.shape != (x_t.shape[0], H):
        raise ValueError(f"h_prev must be (N, H) = ({x_t.shape[0]}, {H}), got shape {h_prev.shape}")
    return x_t, h_prev


def _check_sequence(x, h0, H, D):
    x, h0 = np.asarray(x), np.asarray(h0)
    if x.ndim != 3 or x.shape[2] != D:
        raise ValueError(f"x must be (N, T, D) with D = {D}, got shape {x.shape}")
    if h0.shape != (x.shape[0], H):
        raise ValueError(f"h0 must be (N, H) = ({x.shape[0]}, {H}), got shape {h0.shape}")
    return x, h0


# ----------------------------------------------------------------------------------------------------
# Task 1: one step forward and backward
# ----------------------------------------------------------------------------------------------------

def rnn_step_forward(x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh):
    """h = tanh(x_t @ W_ih.T + b_ih + h_prev @ W_hh.T + b_hh); returns (h (N, H), cache)."""
    raise NotImplementedError("rnn_step_forward")


def rnn_step_backward(dh, cache):
    """-> (dx_t, dh_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh)."""
    raise NotImplementedError("rnn_step_backward")


# ----------------------------------------------------------------------------------------------------
# Task 2: forward through time and BPTT
# ----------------------------------------------------------------------------------------------------

def rnn_forward(x, h0, weight_ih, weight_hh, bias_ih, bias_hh):
    """x (N, T, D), h0 (N, H) -> (hs (N, T, H), cache). T = 0 gives hs of shape (N, 0, H)."""
    raise NotImplementedError("rnn_forward")


def rnn_backward(dhs, cache):
    """dhs (N, T, H) -> (dx, dh0, dweight_ih, dweight_hh, dbias_ih, dbias_hh)."""
    raise NotImplementedError("rnn_backward")


# ----------------------------------------------------------------------------------------------------
# Task 3: the layer
# ----------------------------------------------------------------------------------------------------

class RNN:
    """A one-layer tanh RNN, batch first, with torch.nn.RNN's parameter names, shapes and initialisation."""

    _NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")

    def __init__(self, input_size, hidden_size, rng=None, dtype=np.float32):
        raise NotImplementedError("__init__")

    def parameters(self):
        raise NotImplementedError("parameters")

    def forward(self, x, h0=None):
        """x (N, T, D) -> (out (N, T, H), h_n (N, H)); h0 defaults to zeros."""
        raise NotImplementedError("forward")

    def backward(self, dout, dh_n=None):
        """dout (N, T, H) (+ dh_n (N, H), the gradient of the final state) -> dx; adds into .grad."""
        raise NotImplementedError("backward")

    def state_dict(self):
        raise NotImplementedError("state_dict")

    def load_state_dict(self, state):
        raise NotImplementedError("load_state_dict")


# ----------------------------------------------------------------------------------------------------
# Task 4: character data, truncated BPTT, clipping, sampling (reused by Topics 19 and 20)
# ----------------------------------------------------------------------------------------------------

class CharVocab:
    """Sorted unique characters of `text`; encode(str) -> int64 ids, decode(ids) -> str."""

    def __init__(self, text):
        raise NotImplementedError("__init__")

    def __len__(self):
        raise NotImplementedError("__len__")

    def encode(self, s):
        raise NotImplementedError("encode")

    def decode(self, ids):
        raise NotImplementedError("decode")


def train_val_split(text, val_fraction=0.1):
    """(train, val): the last `val_fraction` of the text (rounded down) is validation, contiguous and fixed."""
    raise NotImplementedError("train_val_split")


def tbptt_batches(ids, batch_size, seq_len):
    """Yield (x, y) int64 (batch_size, seq_len) for truncated BPTT.

    The ids (minus the last, which only serves as a target) are cut into batch_size contiguous streams of
    equal length L = (len(ids) - 1) // batch_size; batch k holds columns [k*seq_len, (k+1)*seq_len) of
    every stream, so row i of batch k+1 continues row i of batch k and the hidden state can carry over.
    y is x shifted by one. A final partial window is dropped.
    """
    raise NotImplementedError("tbptt_batches")


def clip_grad_norm(params, max_norm):
    """Scale every .grad in place by max_norm / total_norm when the global L2 norm exceeds max_norm;
    return the total norm before clipping (as torch.nn.utils.clip_grad_norm_)."""
    raise NotImplementedError("clip_grad_norm")


def sample(model_step, vocab, start, length, rng, temperature=1.0):
    """Generate `length` characters after `start`.

    model_step(id: int, state) -> (logits (V,), state), with state None at the first call. The start text
    is fed first (its last character gives the first prediction); each next id is drawn from
    softmax(logits / temperature) with `rng`. temperature == 0 means argmax. Returns start + generated.
    """
    raise NotImplementedError("sample")
