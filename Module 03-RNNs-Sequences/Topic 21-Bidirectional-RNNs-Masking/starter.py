"""
Topic 21: Bidirectional RNNs & Masking - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 21

Conventions (the contract of Module 03, PyTorch's layouts):
    x is batch first (N, T, D), padded after each sequence's end; lengths (N,) ints with 1 <= lengths[i] <= T
    the cells are Topic 18's (rnn_step_forward / rnn_step_backward) and Topic 20's (gru_step_forward /
    gru_step_backward), imported below: reuse them, never copy them
    weights per direction: (weight_ih, weight_hh, bias_ih, bias_hh), G*H rows (G = 3 for a GRU, 1 for an RNN)
    bidirectional outputs (N, T, 2H) = [forward | backward]; h0 and h_n (num_layers * directions, N, H) with
    index layer * directions + direction, parameter names weight_ih_l0, weight_ih_l0_reverse, ... (torch's)
    PackedSequence(data, batch_sizes, sorted_indices, unsorted_indices) as torch.nn.utils.rnn's
Every function keeps the dtype of its inputs (float32 stays float32) and never modifies them; wrong shapes,
a length 0 or a length above T are a ValueError, never a silent broadcast.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)
rnn = load_topic(18)                 # rnn.rnn_step_forward(x_t, h, w_ih, w_hh, b_ih, b_hh) -> (h, cache), ...
gru = load_topic(20)                 # gru.gru_step_forward / gru.gru_step_backward, the same signatures

# torch.nn.utils.rnn.PackedSequence, as a plain tuple of NumPy arrays (the two index arrays None when sorted)
PackedSequence = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


# ----------------------------------------------------------------------------------------------------
# Task 1: the mask, and reversing each sequence within its own length
# ----------------------------------------------------------------------------------------------------

def sequence_mask(lengths, T):
    """lengths (N,) ints in [1, T] -> mask (N, T) bool, mask[i, t] = t < lengths[i]. ValueError on bad lengths or T."""
    raise NotImplementedError("Task 1: sequence_mask (see questions.md)")


def reverse_padded(x, lengths):
    """x (N, T, ...) -> a new array of the same shape: row i holds x[i, :L] reversed (L = lengths[i]), then
    x[i, L:] as it is."""
    raise NotImplementedError("Task 1: reverse_padded (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: packing
# ----------------------------------------------------------------------------------------------------

def pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=True):
    """x (N, T, *) (or (T, N, *) with batch_first=False), lengths (N,) -> PackedSequence.

    data (sum(lengths), *): every sequence's step 0 by decreasing length, then every step 1, ...;
    batch_sizes (max(lengths),) int64: how many sequences have a step t; sorted_indices: the sequence at sorted
    position k; unsorted_indices: the inverse permutation. Ties keep their order (a stable sort).
    enforce_sorted=True: lengths must already be decreasing (ValueError otherwise), both index arrays None.
    """
    raise NotImplementedError("Task 2: pack_padded_sequence (see questions.md)")


def pad_packed_sequence(packed, batch_first=True, padding_value=0.0, total_length=None):
    """PackedSequence -> (padded (N, T, *) or (T, N, *), lengths (N,) int64), in the ORIGINAL order of the batch.

    T = max(lengths), or total_length (ValueError when smaller); padded steps hold padding_value.
    """
    raise NotImplementedError("Task 2: pad_packed_sequence (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: the masked recurrence, forward and backward
# ----------------------------------------------------------------------------------------------------

def masked_forward(x, lengths, h0, weight_ih, weight_hh, bias_ih, bias_hh, cell="gru"):
    """x (N, T, D) padded, lengths (N,), h0 (N, H) -> (hs (N, T, H), h_n (N, H), cache).

    hs[i, t] = the state after step t for t < lengths[i], 0 at the padded steps; h_n[i] = the state after the
    LAST REAL step of sequence i. cell is "gru" (Topic 20's cell) or "rnn" (Topic 18's).
    """
    raise NotImplementedError("Task 3: masked_forward (see questions.md)")


def masked_backward(dhs, cache, dh_n=None):
    """dhs (N, T, H), dh_n (N, H) or None -> (dx (N, T, D), dh0 (N, H), dweight_ih, dweight_hh, dbias_ih, dbias_hh).

    dhs at padded positions is ignored; dx is 0 there.
    """
    raise NotImplementedError("Task 3: masked_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: the bidirectional layer
# ----------------------------------------------------------------------------------------------------

def bidirectional_forward(x, lengths, h0, weights_fwd, weights_bwd, cell="gru"):
    """x (N, T, D), lengths (N,), h0 (2, N, H), weights_* = (weight_ih, weight_hh, bias_ih, bias_hh)
    -> (out (N, T, 2H) = [forward | backward], h_n (2, N, H), cache).

    The backward direction reads each sequence from its own last real step back to step 0.
    """
    raise NotImplementedError("Task 4: bidirectional_forward (see questions.md)")


def bidirectional_backward(dout, cache, dh_n=None):
    """dout (N, T, 2H), dh_n (2, N, H) or None -> (dx (N, T, D), dh0 (2, N, H), grads_fwd (4,), grads_bwd (4,))."""
    raise NotImplementedError("Task 4: bidirectional_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: a stack of layers
# ----------------------------------------------------------------------------------------------------

def parameter_names(num_layers=1, bidirectional=False):
    """torch.nn.GRU(num_layers=..., bidirectional=...)'s parameter names, in named_parameters() order."""
    raise NotImplementedError("Task 5: parameter_names (see questions.md)")


def stacked_forward(x, lengths, h0, params, num_layers=1, bidirectional=False, cell="gru"):
    """x (N, T, D), lengths (N,), h0 (num_layers * K, N, H), params {name: array} (K = 2 if bidirectional else 1)
    -> (out (N, T, K * H) of the last layer, h_n (num_layers * K, N, H), cache).

    Layer l > 0 reads the whole output of layer l - 1; h_n[l * K + k] is layer l, direction k.
    """
    raise NotImplementedError("Task 5: stacked_forward (see questions.md)")


def stacked_backward(dout, cache, dh_n=None):
    """dout (N, T, K * H), dh_n (num_layers * K, N, H) or None -> (dx, dh0, grads {name: gradient})."""
    raise NotImplementedError("Task 5: stacked_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 6: the layer
# ----------------------------------------------------------------------------------------------------

class StackedRNN:
    """torch.nn.GRU / RNN(batch_first=True, num_layers, bidirectional) on a padded batch with lengths."""

    def __init__(self, input_size, hidden_size, num_layers=1, bidirectional=False, cell="gru", rng=None,
                 dtype=np.float32):
        """One Parameter attribute per name of parameter_names(num_layers, bidirectional), each drawn from
        U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)) with np.random.default_rng(rng), in that order.

        Keep input_size, hidden_size, num_layers, bidirectional, cell, training (True) and dh0 (None).
        Raises ValueError when a size is not an integer >= 1 or cell is unknown.
        """
        raise NotImplementedError("Task 6: StackedRNN.__init__ (see questions.md)")

    def parameters(self):
        """The Parameter objects in parameter_names order."""
        raise NotImplementedError("Task 6: StackedRNN.parameters")

    def train(self):
        """training = True; returns self."""
        raise NotImplementedError("Task 6: StackedRNN.train")

    def eval(self):
        """training = False; returns self."""
        raise NotImplementedError("Task 6: StackedRNN.eval")

    def forward(self, x, lengths=None, h0=None):
        """x (N, T, D), lengths (N,) or None (all T), h0 or None (zeros) -> (out (N, T, K * H), h_n)."""
        raise NotImplementedError("Task 6: StackedRNN.forward")

    def backward(self, dout, dh_n=None):
        """dout (N, T, K * H), dh_n or None -> dx; ADDS into every .grad and keeps dh0."""
        raise NotImplementedError("Task 6: StackedRNN.backward")

    def state_dict(self):
        """{name: copy of the parameter} under torch's names."""
        raise NotImplementedError("Task 6: StackedRNN.state_dict")

    def load_state_dict(self, state):
        """Copy state into the parameters IN PLACE; ValueError on missing/extra keys or wrong shapes (nothing changed)."""
        raise NotImplementedError("Task 6: StackedRNN.load_state_dict")


# ----------------------------------------------------------------------------------------------------
# Task 7: pooling over real steps, and the loss over real tokens
# ----------------------------------------------------------------------------------------------------

def masked_mean_forward(hs, lengths):
    """hs (N, T, F), lengths (N,) -> (pooled (N, F) = mean of hs[i, :lengths[i]], cache)."""
    raise NotImplementedError("Task 7: masked_mean_forward (see questions.md)")


def masked_mean_backward(dpooled, cache):
    """dpooled (N, F) -> dhs (N, T, F): dpooled / length at the real steps, 0 at the padded ones."""
    raise NotImplementedError("Task 7: masked_mean_backward (see questions.md)")


def masked_cross_entropy(logits, targets, lengths):
    """logits (N, T, C), targets (N, T) ints, lengths (N,) -> (loss, dlogits (N, T, C)).

    The mean of -log softmax over the REAL tokens only; padded logits and targets are never read.
    """
    raise NotImplementedError("Task 7: masked_cross_entropy (see questions.md)")
