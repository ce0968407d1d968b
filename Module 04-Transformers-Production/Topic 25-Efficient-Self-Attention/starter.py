"""
Topic 25: Efficient Self-Attention - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 25

Conventions (those of torch.nn.functional.scaled_dot_product_attention, so that the same arrays give its numbers):
    q (..., L, d), k (..., S, d), v (..., S, dv): any leading dims (batch, heads); L and S may differ
    out = softmax(q @ k^T * scale + masks) @ v, the softmax over the KEYS (last axis); scale = 1 / sqrt(d) by default
    a boolean mask means True = "takes part in attention" (SDPA's attn_mask); a float mask is ADDED to the scores
    causal=True: query i sees keys j <= i (the diagonal included)
    a query that sees no key at all gets out = 0 and zero gradients (SDPA gives NaN there)
Every function keeps the dtype of its inputs (float32 stays float32) and never modifies them; wrong shapes are
a ValueError, never a silent broadcast.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


# ----------------------------------------------------------------------------------------------------
# Task 1: a stable, masked softmax
# ----------------------------------------------------------------------------------------------------

def masked_softmax(scores, mask=None):
    """Softmax over the last axis of scores (any shape), entries where mask is False get probability 0.

    mask: None or boolean, broadcastable to scores without changing its shape (its last dim = scores' last dim).
    A row whose every entry is masked gives zeros (not NaN). Scores of 1e4 must not overflow.
    Raises ValueError for a non-boolean mask or one that does not fit.
    """
    raise NotImplementedError("Task 1: masked_softmax (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: the causal mask
# ----------------------------------------------------------------------------------------------------

def causal_mask(L, S=None):
    """(L, S) boolean (S = L by default): True where key j may be seen by query i, i.e. j <= i.

    Raises ValueError when L or S is not an integer >= 0.
    """
    raise NotImplementedError("Task 2: causal_mask (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: scaled dot-product attention, forward
# ----------------------------------------------------------------------------------------------------

def attention_forward(q, k, v, mask=None, causal=False, scale=None):
    """q (..., L, d), k (..., S, d), v (..., S, dv) -> (out (..., L, dv), cache).

    mask: None, boolean (True = takes part) or float (added to the scores); shape (..., L or 1, S), its leading
    dims broadcast over those of q. causal: also hide key j > i. scale: None means 1 / sqrt(d).
    Raises ValueError on inconsistent shapes or a mask that does not fit.
    """
    raise NotImplementedError("Task 3: attention_forward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: scaled dot-product attention, backward
# ----------------------------------------------------------------------------------------------------

def attention_backward(dout, cache):
    """dout (..., L, dv) -> (dq (..., L, d), dk (..., S, d), dv (..., S, dv)).

    Raises ValueError when dout does not have the shape of out.
    """
    raise NotImplementedError("Task 4: attention_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: the self-attention layer
# ----------------------------------------------------------------------------------------------------

class SelfAttention:
    """Single-head self-attention: q, k, v = x Wq^T + bq, x Wk^T + bk, x Wv^T + bv; out = attention Wo^T + bo.

    Parameters Wq, bq, Wk, bk, Wv, bv, Wo, bo (Topic 03 Parameters in dtype): weights (d_model, d_model),
    biases (d_model,), all drawn from U(-1/sqrt(d_model), 1/sqrt(d_model)) with np.random.default_rng(rng),
    in that order.
    """

    NAMES = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")

    def __init__(self, d_model, rng=None, dtype=np.float32):
        raise NotImplementedError("Task 5: SelfAttention.__init__ (see questions.md)")

    def parameters(self):
        """[Wq, bq, Wk, bk, Wv, bv, Wo, bo]"""
        raise NotImplementedError("Task 5: SelfAttention.parameters")

    def forward(self, x, mask=None, causal=False):
        """x (..., L, d_model) -> out (..., L, d_model); mask and causal as in attention_forward."""
        raise NotImplementedError("Task 5: SelfAttention.forward")

    def backward(self, dout):
        """dout (..., L, d_model) -> dx; ADDS every parameter's gradient into its .grad (cache of the last forward)."""
        raise NotImplementedError("Task 5: SelfAttention.backward")

    def state_dict(self):
        """{name: a copy of the array} for the eight names of NAMES."""
        raise NotImplementedError("Task 5: SelfAttention.state_dict")

    def load_state_dict(self, state):
        """Write the arrays in place; missing or extra keys or a wrong shape: ValueError, nothing changed."""
        raise NotImplementedError("Task 5: SelfAttention.load_state_dict")
