"""
Level 1: naive loops (correctness first)
- Counting words with a dict, subsampling and making pairs one token at a time
- Negative sampling by walking the cumulative distribution for each draw
- The embedding lookup row by row; its backward pass adds each row of dout into its word's row
- The loss of each pair with dot products, its gradients written out term by term
"""

from __future__ import annotations

import math
import re

import numpy as np
from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")  # letters, with apostrophes inside a word: "o'er", "i'll"


def _check_int(name, v, low):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")


def _check_ids(ids, V, what, ndim=None):
    ids = np.asarray(ids)
    if ids.size == 0 and ids.dtype == np.float64:
        ids = ids.astype(np.int64)  # np.asarray([]) is float64: an empty list of ids is fine
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got dtype {ids.dtype}")
    if ndim is not None and ids.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-D, got shape {ids.shape}")
    for i in ids.ravel():
        if i < 0 or (V is not None and i >= V):
            raise ValueError(f"{what} must lie in [0, {V}), got {i} (a negative id would silently wrap around)")
    return ids.astype(np.int64)


def _check_weight(weight, what="weight"):
    weight = np.asarray(weight)
    if weight.ndim != 2 or not np.issubdtype(weight.dtype, np.floating):
        raise ValueError(f"{what} must be a 2-D float array (V, D), got {weight.dtype} {weight.shape}")
    return weight


def _check_counts(counts):
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0 or not np.issubdtype(counts.dtype, np.number) \
            or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError("counts must be a non-empty 1-D array of non-negative numbers with a positive sum")
    return [float(c) for c in counts]


# ----------------------------------------------------------------------------------------------------
# Task 1: words and the vocabulary
# ----------------------------------------------------------------------------------------------------

def tokenize(text):
    """Lowercase words of `text`, in order: runs of a-z, apostrophes kept only inside a word."""
    if not isinstance(text, str):
        raise ValueError(f"tokenize expects a str, got {type(text).__name__}")  # noqa: TRY004 (one error type)
    return WORD.findall(text.lower())


class Vocab:
    """The words seen at least min_count times, most frequent first (ties alphabetically)."""

    def __init__(self, tokens, min_count=1):
        if isinstance(tokens, str):
            raise ValueError("Vocab expects a list of words, not a str (tokenize it first)")  # noqa: TRY004
        _check_int("min_count", min_count, 1)
        counts = {}
        for w in tokens:
            counts[w] = counts.get(w, 0) + 1
        kept = [w for w in counts if counts[w] >= min_count]
        kept.sort(key=lambda w: (-counts[w], w))
        self.words = kept
        self.counts = np.array([counts[w] for w in kept], dtype=np.int64)
        self.index = {}
        for i, w in enumerate(kept):
            self.index[w] = i

    def __len__(self):
        return len(self.words)

    def encode(self, tokens):
        """Word ids (int64) of the tokens in the vocabulary; the others are dropped, as word2vec does."""
        out = []
        for w in tokens:
            if w in self.index:
                out.append(self.index[w])
        return np.array(out, dtype=np.int64)

    def decode(self, ids):
        ids = _check_ids(ids, len(self.words), "ids")
        return [self.words[i] for i in ids.ravel()]


# ----------------------------------------------------------------------------------------------------
# Task 2: subsampling of frequent words
# ----------------------------------------------------------------------------------------------------

def keep_probabilities(counts, t=1e-3):
    """P_keep(w) = min(1, sqrt(t / f(w))), f(w) = counts[w] / counts.sum() (Mikolov et al. 2013, the paper's form)."""
    if not t > 0:
        raise ValueError(f"t must be > 0, got {t!r}")
    counts = _check_counts(counts)
    total = sum(counts)
    keep = np.empty(len(counts))
    for w, c in enumerate(counts):
        keep[w] = 1.0 if c == 0 else min(1.0, math.sqrt(t / (c / total)))
    return keep


def subsample(ids, counts, t=1e-3, rng=None):
    """Keep token i when u_i < P_keep(ids[i]), one u_i = rng.random() per token, in order."""
    keep = keep_probabilities(counts, t)
    ids = _check_ids(ids, len(keep), "ids", ndim=1)
    u = np.random.default_rng(rng).random(len(ids))
    kept = []
    for i in range(len(ids)):
        if u[i] < keep[ids[i]]:
            kept.append(ids[i])
    return np.array(kept, dtype=np.int64)


# ----------------------------------------------------------------------------------------------------
# Task 3: skip-gram pairs and negative sampling
# ----------------------------------------------------------------------------------------------------

def skipgram_pairs(ids, window=2, shrink=False, rng=None):
    """(centers, contexts) int64: every position with every other position at most `window` away.

    Ordered by center position, then context position. shrink=True draws one reduced window
    b_i in 1..window per position, rng.integers(1, window + 1, size=n), before any pair is made.
    """
    ids = _check_ids(ids, None, "ids", ndim=1)
    _check_int("window", window, 1)
    n = len(ids)
    reach = np.random.default_rng(rng).integers(1, window + 1, size=n) if shrink else [window] * n
    centers, contexts = [], []
    for i in range(n):
        for j in range(i - reach[i], i + reach[i] + 1):
            if j != i and 0 <= j < n:  # never the word with itself, never past the ends
                centers.append(ids[i])
                contexts.append(ids[j])
    return np.array(centers, dtype=np.int64), np.array(contexts, dtype=np.int64)


def noise_distribution(counts, power=0.75):
    """P_noise(w) = counts[w] ** power / sum: the unigram distribution raised to 3/4, renormalised."""
    if not power >= 0:
        raise ValueError(f"power must be >= 0, got {power!r}")
    counts = _check_counts(counts)
    weights = [c ** power if c > 0 else 0.0 for c in counts]  # a word never seen is never drawn
    total = sum(weights)
    return np.array([w / total for w in weights])


def sample_negatives(noise, shape, rng=None):
    """Ids (int64, `shape`) drawn from `noise` by inverse CDF: u = rng.random(shape), id = #{k: cdf[k] <= u}."""
    noise = np.asarray(noise, dtype=np.float64)
    if noise.ndim != 1 or noise.size == 0 or np.any(noise < 0) or not abs(noise.sum() - 1) < 1e-6:
        raise ValueError("noise must be a 1-D array of probabilities summing to 1")
    cdf = np.cumsum(noise)
    cdf /= cdf[-1]  # the last entry exactly 1, so u < 1 never falls off the end
    u = np.random.default_rng(rng).random(shape)
    out = np.empty(u.shape, dtype=np.int64)
    for idx, value in np.ndenumerate(u):
        k = 0
        while cdf[k] <= value:  # the first k whose cumulative probability passes u
            k += 1
        out[idx] = k
    return out


# ----------------------------------------------------------------------------------------------------
# Task 4: the embedding lookup
# ----------------------------------------------------------------------------------------------------

def embedding_forward(ids, weight):
    """ids (any shape) of rows of weight (V, D) -> out (*ids.shape, D), cache."""
    weight = _check_weight(weight)
    ids = _check_ids(ids, weight.shape[0], "ids")
    D = weight.shape[1]
    out = np.empty(ids.shape + (D,), dtype=weight.dtype)
    for idx, i in np.ndenumerate(ids):
        out[idx] = weight[i]  # a copy of the row
    return out, (ids, weight.shape, weight.dtype)


def embedding_backward(dout, cache):
    """dout (*ids.shape, D) -> dweight (V, D): row w gets the SUM of dout over every position holding w."""
    ids, (V, D), dtype = cache
    dout = np.asarray(dout)
    if dout.shape != ids.shape + (D,):
        raise ValueError(f"dout must have shape {ids.shape + (D,)}, got {dout.shape}")
    dweight = np.zeros((V, D), dtype=dtype)
    for idx, i in np.ndenumerate(ids):
        dweight[i] += dout[idx]  # a word used twice gets both gradients
    return dweight


class Embedding:
    """A lookup table weight (num_embeddings, embedding_dim) as a Topic 03 Parameter, N(0, 1) like torch."""

    def __init__(self, num_embeddings, embedding_dim, rng=None, dtype=np.float32):
        _check_int("num_embeddings", num_embeddings, 1)
        _check_int("embedding_dim", embedding_dim, 1)
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        data = np.random.default_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        self.weight = Parameter(data.astype(dtype))
        self._cache = None

    def parameters(self):
        return [self.weight]

    def forward(self, ids):
        out, self._cache = embedding_forward(ids, self.weight.data)
        return out

    def backward(self, dout):
        """ADDS the gradient of the last forward into weight.grad."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        self.weight.grad += embedding_backward(dout, self._cache)


# ----------------------------------------------------------------------------------------------------
# Task 5: the skip-gram negative-sampling loss
# ----------------------------------------------------------------------------------------------------

def _sigmoid(a):
    # exp only ever sees a non-positive argument: sigmoid(-1000) = 0 without an overflow
    if a >= 0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


def _log1p_exp(a):
    # log(1 + e^a), written so that exp never overflows: -log sigmoid(s) = _log1p_exp(-s)
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))


def sgns_loss(v_c, u_o, u_neg):
    """v_c (B, D) center vectors, u_o (B, D) context vectors, u_neg (B, K, D) negatives -> (loss, cache).

    loss = sum over the batch of  -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c)   (a float)
    """
    v_c, u_o, u_neg = np.asarray(v_c), np.asarray(u_o), np.asarray(u_neg)
    if v_c.ndim != 2 or u_o.shape != v_c.shape:
        raise ValueError(f"v_c and u_o must both be (B, D), got {v_c.shape} and {u_o.shape}")
    if u_neg.ndim != 3 or u_neg.shape[0] != v_c.shape[0] or u_neg.shape[2] != v_c.shape[1]:
        raise ValueError(f"u_neg must be (B, K, D) = ({v_c.shape[0]}, K, {v_c.shape[1]}), got {u_neg.shape}")
    B, K = u_neg.shape[:2]
    s_pos, s_neg = [], []
    loss = 0.0
    for b in range(B):
        s = float(np.dot(u_o[b], v_c[b]))
        s_pos.append(s)
        loss += _log1p_exp(-s)                # -log sigmoid(s)
        row = []
        for k in range(K):
            s = float(np.dot(u_neg[b, k], v_c[b]))
            row.append(s)
            loss += _log1p_exp(s)             # -log sigmoid(-s)
        s_neg.append(row)
    return float(loss), (v_c, u_o, u_neg, s_pos, s_neg)


def sgns_loss_backward(dloss, cache):
    """dloss (a scalar) -> dv_c (B, D), du_o (B, D), du_neg (B, K, D), in the dtype of the inputs."""
    v_c, u_o, u_neg, s_pos, s_neg = cache
    dtype = np.result_type(v_c, u_o, u_neg)
    dloss = float(dloss)
    B, K, D = u_neg.shape
    dv_c = np.zeros((B, D), dtype=dtype)
    du_o = np.zeros((B, D), dtype=dtype)
    du_neg = np.zeros((B, K, D), dtype=dtype)
    for b in range(B):
        g = (_sigmoid(s_pos[b]) - 1.0) * dloss      # d/ds [-log sigmoid(s)] = sigmoid(s) - 1
        dv_c[b] += g * u_o[b]
        du_o[b] = g * v_c[b]
        for k in range(K):
            g = _sigmoid(s_neg[b][k]) * dloss        # d/ds [-log sigmoid(-s)] = sigmoid(s)
            dv_c[b] += g * u_neg[b, k]
            du_neg[b, k] = g * v_c[b]
    return dv_c, du_o, du_neg


# ----------------------------------------------------------------------------------------------------
# Task 6: the gradients of the two matrices, an SGD step, the training loop
# ----------------------------------------------------------------------------------------------------

def _check_batch(W_in, W_out, centers, contexts, negatives):
    W_in, W_out = _check_weight(W_in, "W_in"), _check_weight(W_out, "W_out")
    if W_out.shape != W_in.shape:
        raise ValueError(f"W_in and W_out must have the same shape (V, D), got {W_in.shape} and {W_out.shape}")
    V = W_in.shape[0]
    centers = _check_ids(centers, V, "centers", ndim=1)
    contexts = _check_ids(contexts, V, "contexts", ndim=1)
    negatives = _check_ids(negatives, V, "negatives", ndim=2)
    if contexts.shape != centers.shape or negatives.shape[0] != centers.shape[0]:
        raise ValueError(f"centers {centers.shape}, contexts {contexts.shape} and negatives {negatives.shape} "
                         "must describe the same B pairs")
    return W_in, W_out, centers, contexts, negatives


def sgns_gradients(W_in, W_out, centers, contexts, negatives):
    """W_in, W_out (V, D); centers, contexts (B,); negatives (B, K) -> (loss, dW_in (V, D), dW_out (V, D))."""
    W_in, W_out, centers, contexts, negatives = _check_batch(W_in, W_out, centers, contexts, negatives)
    v_c, c_in = embedding_forward(centers, W_in)
    u_o, c_o = embedding_forward(contexts, W_out)
    u_neg, c_neg = embedding_forward(negatives, W_out)
    loss, cache = sgns_loss(v_c, u_o, u_neg)
    dv_c, du_o, du_neg = sgns_loss_backward(1.0, cache)
    dW_in = embedding_backward(dv_c, c_in)
    dW_out = embedding_backward(du_o, c_o) + embedding_backward(du_neg, c_neg)  # W_out is used twice
    return loss, dW_in, dW_out


def sgd_step(W_in, W_out, centers, contexts, negatives, lr):
    """W -= lr * dW for both matrices, IN PLACE, from the gradients at the current weights; returns the loss."""
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    loss, dW_in, dW_out = sgns_gradients(W_in, W_out, centers, contexts, negatives)
    for w in range(W_in.shape[0]):
        W_in[w] -= lr * dW_in[w]
        W_out[w] -= lr * dW_out[w]
    return loss


def train_skipgram(W_in, W_out, centers, contexts, noise, num_negatives=5, lr=0.025, batch_size=512,
                   epochs=1, rng=None):
    """SGD on the pairs, in place; returns the mean loss per pair of every batch (a list of floats).

    Each epoch: order = rng.permutation(P); then for each slice of batch_size pairs of that order,
    negatives = sample_negatives(noise, (b, num_negatives), rng) and one sgd_step.
    """
    _check_int("num_negatives", num_negatives, 0)
    _check_int("batch_size", batch_size, 1)
    _check_int("epochs", epochs, 0)
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    centers = _check_ids(centers, len(noise), "centers", ndim=1)
    contexts = _check_ids(contexts, len(noise), "contexts", ndim=1)
    if contexts.shape != centers.shape:
        raise ValueError(f"centers and contexts must be aligned, got {centers.shape} and {contexts.shape}")
    rng = np.random.default_rng(rng)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(centers))
        start = 0
        while start < len(order):
            batch = order[start:start + batch_size]
            negatives = sample_negatives(noise, (len(batch), num_negatives), rng)
            loss = sgd_step(W_in, W_out, centers[batch], contexts[batch], negatives, lr)
            losses.append(loss / len(batch))
            start += batch_size
    return losses


# ----------------------------------------------------------------------------------------------------
# Task 7: similarity, neighbours, analogies
# ----------------------------------------------------------------------------------------------------

def cosine_similarity(W, v):
    """W (V, D), v (D,) -> (V,) cos(W[i], v); a zero row (or a zero v) has similarity 0, not NaN."""
    W, v = _check_weight(W, "W"), np.asarray(v)
    if v.shape != (W.shape[1],):
        raise ValueError(f"v must have shape ({W.shape[1]},), got {v.shape}")
    v_norm = math.sqrt(sum(float(x) * float(x) for x in v))
    sims = np.zeros(W.shape[0], dtype=np.result_type(W, v))
    for i in range(W.shape[0]):
        row_norm = math.sqrt(sum(float(x) * float(x) for x in W[i]))
        if row_norm * v_norm > 0:
            sims[i] = float(np.dot(W[i], v)) / (row_norm * v_norm)
    return sims


def nearest_neighbors(W, v, k=5, exclude=()):
    """The k rows most similar to v (ids int64, similarities), best first, ties by smaller id; skips `exclude`."""
    _check_int("k", k, 1)
    sims = cosine_similarity(W, v)
    skip = {int(i) for i in _check_ids(list(exclude), len(sims), "exclude")}
    ranked = sorted((i for i in range(len(sims)) if i not in skip), key=lambda i: (-sims[i], i))[:k]
    ids = np.array(ranked, dtype=np.int64)
    return ids, sims[ids]


def analogy(W, a, b, c, k=1):
    """a - b + c (king - man + woman): the k nearest rows to unit(W[a]) - unit(W[b]) + unit(W[c]), not a, b, c."""
    W = _check_weight(W, "W")
    ids = _check_ids([a, b, c], W.shape[0], "a, b, c")
    units = []
    for i in ids:
        norm = math.sqrt(sum(float(x) * float(x) for x in W[i]))
        units.append(W[i] / norm if norm > 0 else W[i] * 0)
    return nearest_neighbors(W, units[0] - units[1] + units[2], k=k, exclude=ids)
