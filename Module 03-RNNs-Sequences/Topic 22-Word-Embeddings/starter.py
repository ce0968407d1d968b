"""
Topic 22: Word Embeddings (Word2Vec Logic) - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 22

Conventions:
    word ids are int64 in [0, V), V = len(vocab); W_in (V, D) holds the center ("input") vectors v_w,
    W_out (V, D) the context ("output") vectors u_w; a batch is B pairs (centers[b], contexts[b]) with
    K negatives each, negatives (B, K)
    loss of a batch = sum over b of  -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c)
    every random draw comes from np.random.default_rng(rng) (a Generator as it is, an int seeds it),
    in the order questions.md gives, so that your numbers equal the tests' to the last bit
Every function keeps the dtype of the float arrays it gets (float32 stays float32) and never modifies its
inputs, except sgd_step and train_skipgram, which update W_in and W_out in place. Wrong shapes and
ids outside [0, V) are a ValueError, never a silent broadcast or a wrap-around.
"""

from __future__ import annotations

import numpy as np
from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)


# ----------------------------------------------------------------------------------------------------
# Task 1: words and the vocabulary
# ----------------------------------------------------------------------------------------------------

def tokenize(text):
    """Lowercase words of `text`, in order: runs of a-z, apostrophes kept only inside a word."""
    raise NotImplementedError("Task 1: tokenize (see questions.md)")


class Vocab:
    """The words seen at least min_count times, most frequent first (ties alphabetically)."""

    def __init__(self, tokens, min_count=1):
        """tokens: a list of words. Keep as attributes
            words:  the words with count >= min_count, by count (descending), equal counts alphabetically
            counts: int64 array, counts[i] = count of words[i]
            index:  dict word -> id
        Raises ValueError when tokens is a str or min_count is not an integer >= 1.
        """
        raise NotImplementedError("Task 1: Vocab.__init__ (see questions.md)")

    def __len__(self):
        """The number of words V."""
        raise NotImplementedError("Task 1: Vocab.__len__ (see questions.md)")

    def encode(self, tokens):
        """Word ids (int64) of the tokens in the vocabulary; the others are dropped, as word2vec does."""
        raise NotImplementedError("Task 1: Vocab.encode (see questions.md)")

    def decode(self, ids):
        """The words of ids (a list of str); ValueError for ids that are not integers in [0, V)."""
        raise NotImplementedError("Task 1: Vocab.decode (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: subsampling of frequent words
# ----------------------------------------------------------------------------------------------------

def keep_probabilities(counts, t=1e-3):
    """P_keep(w) = min(1, sqrt(t / f(w))), f(w) = counts[w] / counts.sum() (Mikolov et al. 2013, the paper's form)."""
    raise NotImplementedError("Task 2: keep_probabilities (see questions.md)")


def subsample(ids, counts, t=1e-3, rng=None):
    """Keep token i when u_i < P_keep(ids[i]), one u_i = rng.random() per token, in order."""
    raise NotImplementedError("Task 2: subsample (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: skip-gram pairs and negative sampling
# ----------------------------------------------------------------------------------------------------

def skipgram_pairs(ids, window=2, shrink=False, rng=None):
    """(centers, contexts) int64: every position with every other position at most `window` away.

    Ordered by center position, then context position. shrink=True draws one reduced window
    b_i in 1..window per position, rng.integers(1, window + 1, size=n), before any pair is made.
    """
    raise NotImplementedError("Task 3: skipgram_pairs (see questions.md)")


def noise_distribution(counts, power=0.75):
    """P_noise(w) = counts[w] ** power / sum: the unigram distribution raised to 3/4, renormalised."""
    raise NotImplementedError("Task 3: noise_distribution (see questions.md)")


def sample_negatives(noise, shape, rng=None):
    """Ids (int64, `shape`) drawn from `noise` by inverse CDF: u = rng.random(shape), id = #{k: cdf[k] <= u}."""
    raise NotImplementedError("Task 3: sample_negatives (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 4: the embedding lookup
# ----------------------------------------------------------------------------------------------------

def embedding_forward(ids, weight):
    """ids (any shape) of rows of weight (V, D) -> out (*ids.shape, D), cache."""
    raise NotImplementedError("Task 4: embedding_forward (see questions.md)")


def embedding_backward(dout, cache):
    """dout (*ids.shape, D) -> dweight (V, D): row w gets the SUM of dout over every position holding w."""
    raise NotImplementedError("Task 4: embedding_backward (see questions.md)")


class Embedding:
    """A lookup table weight (num_embeddings, embedding_dim) as a Topic 03 Parameter, N(0, 1) like torch."""

    def __init__(self, num_embeddings, embedding_dim, rng=None, dtype=np.float32):
        """weight = Parameter(np.random.default_rng(rng).standard_normal((num_embeddings, embedding_dim)) as dtype).

        Keep num_embeddings and embedding_dim as attributes; ValueError when a size is not an integer >= 1.
        """
        raise NotImplementedError("Task 4: Embedding.__init__ (see questions.md)")

    def parameters(self):
        """[weight] (the Parameter object)."""
        raise NotImplementedError("Task 4: Embedding.parameters (see questions.md)")

    def forward(self, ids):
        """ids (any shape) -> the rows (*ids.shape, embedding_dim); keeps what backward needs."""
        raise NotImplementedError("Task 4: Embedding.forward (see questions.md)")

    def backward(self, dout):
        """ADDS the gradient of the last forward into weight.grad; RuntimeError before any forward."""
        raise NotImplementedError("Task 4: Embedding.backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 5: the skip-gram negative-sampling loss
# ----------------------------------------------------------------------------------------------------

def sgns_loss(v_c, u_o, u_neg):
    """v_c (B, D) center vectors, u_o (B, D) context vectors, u_neg (B, K, D) negatives -> (loss, cache).

    loss = sum over the batch of  -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c)   (a float)
    """
    raise NotImplementedError("Task 5: sgns_loss (see questions.md)")


def sgns_loss_backward(dloss, cache):
    """dloss (a scalar) -> dv_c (B, D), du_o (B, D), du_neg (B, K, D), in the dtype of the inputs."""
    raise NotImplementedError("Task 5: sgns_loss_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 6: the gradients of the two matrices, an SGD step, the training loop
# ----------------------------------------------------------------------------------------------------

def sgns_gradients(W_in, W_out, centers, contexts, negatives):
    """W_in, W_out (V, D); centers, contexts (B,); negatives (B, K) -> (loss, dW_in (V, D), dW_out (V, D))."""
    raise NotImplementedError("Task 6: sgns_gradients (see questions.md)")


def sgd_step(W_in, W_out, centers, contexts, negatives, lr):
    """W -= lr * dW for both matrices, IN PLACE, from the gradients at the current weights; returns the loss."""
    raise NotImplementedError("Task 6: sgd_step (see questions.md)")


def train_skipgram(W_in, W_out, centers, contexts, noise, num_negatives=5, lr=0.025, batch_size=512,
                   epochs=1, rng=None):
    """SGD on the pairs, in place; returns the mean loss per pair of every batch (a list of floats).

    Each epoch: order = rng.permutation(P); then for each slice of batch_size pairs of that order,
    negatives = sample_negatives(noise, (b, num_negatives), rng) and one sgd_step.
    """
    raise NotImplementedError("Task 6: train_skipgram (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 7: similarity, neighbours, analogies
# ----------------------------------------------------------------------------------------------------

def cosine_similarity(W, v):
    """W (V, D), v (D,) -> (V,) cos(W[i], v); a zero row (or a zero v) has similarity 0, not NaN."""
    raise NotImplementedError("Task 7: cosine_similarity (see questions.md)")


def nearest_neighbors(W, v, k=5, exclude=()):
    """The k rows most similar to v (ids int64, similarities), best first, ties by smaller id; skips `exclude`."""
    raise NotImplementedError("Task 7: nearest_neighbors (see questions.md)")


def analogy(W, a, b, c, k=1):
    """a - b + c (king - man + woman): the k nearest rows to unit(W[a]) - unit(W[b]) + unit(W[c]), not a, b, c."""
    raise NotImplementedError("Task 7: analogy (see questions.md)")
