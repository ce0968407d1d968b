"""
Topic 26: Multi-Head Attention - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 26

Conventions (those of torch.nn.MultiheadAttention with batch_first=True, so that its weights give its numbers):
    query (B, T, E), key (B, S, E), value (B, S, E); h heads of head_dim = E // h features each
    in_proj_weight (3E, E) = [Wq; Wk; Wv] stacked by rows, in_proj_bias (3E,), out_proj.weight (E, E), out_proj.bias (E,)
    q = query Wq^T + bq (nn.Linear's layout); head i owns the features i*hd:(i+1)*hd; scale 1 / sqrt(head_dim)
    masks in torch's convention: boolean True = HIDDEN (the opposite of Topic 25), float = added to the scores
    a query that sees no key gets 0 from that head (torch gives NaN), as in Topic 25
Every function keeps the dtype of its inputs (float32 stays float32) and never modifies them; wrong shapes are
a ValueError, never a silent broadcast.
"""

from __future__ import annotations

import numpy as np

from dlfs.components import load_topic

attention = load_topic(25)            # Topic 25: attention_forward / attention_backward / masked_softmax
Parameter = load_topic(3).Parameter   # Topic 03: Parameter(data) has .data and .grad (zeros like data)

NAMES = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")  # torch's state_dict keys


# ----------------------------------------------------------------------------------------------------
# Task 1: splitting and merging the heads
# ----------------------------------------------------------------------------------------------------

def split_heads(x, num_heads):
    """(..., T, E) -> (..., num_heads, T, E // num_heads): head i gets the features i*hd:(i+1)*hd.

    Raises ValueError when num_heads is not an integer >= 1, x has fewer than 2 dims, or E % num_heads != 0.
    """
    raise NotImplementedError("Task 1: split_heads (see questions.md)")


def merge_heads(x):
    """(..., h, T, hd) -> (..., T, h * hd), the inverse of split_heads. Raises ValueError below 3 dims."""
    raise NotImplementedError("Task 1: merge_heads (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: torch's two masks -> one mask for Topic 25's attention
# ----------------------------------------------------------------------------------------------------

def merge_masks(key_padding_mask, attn_mask, batch, num_heads, T, S):
    """torch's key_padding_mask (batch, S) and attn_mask (T, S) or (batch * num_heads, T, S) -> one mask, or None.

    Both in torch's convention: boolean True = HIDDEN, float = added; attn_mask's first index is
    b * num_heads + head. Returns a 4-D array that broadcasts to (batch, num_heads, T, S) in Topic 25's
    convention: boolean True = takes part when every mask given is boolean, otherwise float (0 / -inf for a
    boolean one) added to the scores. Raises ValueError for any other shape or an int dtype.
    """
    raise NotImplementedError("Task 2: merge_masks (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: multi-head attention, forward
# ----------------------------------------------------------------------------------------------------

def mha_forward(query, key, value, params, num_heads, key_padding_mask=None, attn_mask=None,
                need_weights=True, average_attn_weights=True):
    """query (B, T, E), key (B, S, E), value (B, S, E) -> (out (B, T, E), weights, cache).

    params: {"in_proj_weight" (3E, E), "in_proj_bias" (3E,), "out_proj.weight" (E, E), "out_proj.bias" (E,)},
    both biases absent for a layer without bias. weights: None when need_weights is False, else the attention
    weights averaged over the heads (B, T, S), or per head (B, num_heads, T, S) when average_attn_weights=False.
    Raises ValueError on inconsistent shapes, wrong parameter keys or shapes, or E % num_heads != 0.
    """
    raise NotImplementedError("Task 3: mha_forward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: multi-head attention, backward
# ----------------------------------------------------------------------------------------------------

def mha_backward(dout, cache):
    """dout (B, T, E) -> (dquery (B, T, E), dkey (B, S, E), dvalue (B, S, E), grads).

    grads: {name: gradient} under the keys of params. Raises ValueError when dout does not have out's shape.
    """
    raise NotImplementedError("Task 4: mha_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: the layer
# ----------------------------------------------------------------------------------------------------

class MultiheadAttention:
    """torch.nn.MultiheadAttention(embed_dim, num_heads, bias, batch_first=True), in NumPy.

    Parameters (Topic 03 Parameters in dtype): in_proj_weight (3E, E) from xavier_uniform (bound sqrt(6 / 4E)),
    out_proj_weight (E, E) from U(-1/sqrt(E), 1/sqrt(E)), drawn in that order with np.random.default_rng(rng);
    in_proj_bias (3E,) and out_proj_bias (E,) zeros, or None when bias=False.
    """

    def __init__(self, embed_dim, num_heads, bias=True, rng=None, dtype=np.float32):
        raise NotImplementedError("Task 5: MultiheadAttention.__init__ (see questions.md)")

    def parameters(self):
        """[in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias], without the biases when bias=False."""
        raise NotImplementedError("Task 5: MultiheadAttention.parameters")

    def forward(self, query, key, value, key_padding_mask=None, attn_mask=None, need_weights=True,
                average_attn_weights=True):
        """-> (out (B, T, E), weights or None), as mha_forward with the layer's parameters."""
        raise NotImplementedError("Task 5: MultiheadAttention.forward")

    def backward(self, dout):
        """dout (B, T, E) -> (dquery, dkey, dvalue); ADDS every parameter's gradient into its .grad."""
        raise NotImplementedError("Task 5: MultiheadAttention.backward")

    def state_dict(self):
        """{torch's name: a copy of the array}: in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias."""
        raise NotImplementedError("Task 5: MultiheadAttention.state_dict")

    def load_state_dict(self, state):
        """Write the arrays in place; missing or extra keys or a wrong shape: ValueError, nothing changed."""
        raise NotImplementedError("Task 5: MultiheadAttention.load_state_dict")
