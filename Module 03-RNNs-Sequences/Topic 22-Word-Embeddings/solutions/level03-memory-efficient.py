"""
Level 3: memory-efficient
- The skip-gram pairs written offset by offset into two output arrays allocated once (no (n, 2 * window) grid)
- A sparse SGD step: the gradients of the B + B + B*K rows in use, scattered into W_in and W_out with
  np.add.at; no (V, D) gradient is ever allocated, and every other row is left untouched
- The training loop gathers rows into buffers allocated once (np.take(..., out=)), in the dtype of the
  weights (float32 stays float32)
- Cosine similarities without a normalised copy of W: row norms by einsum, one matrix-vector product
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from dlfs.components import load_topic

Parameter = load_topic(3).Parameter  # Topic 03: Parameter(data) has .data and .grad (zeros like data)

WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")  # letters, with apostrophes inside a word: "o'er", "i'll"


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
        if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
            raise ValueError(f"min_count must be an integer >= 1, got {min_count!r}")
        counts = Counter(tokens)
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        self.words = kept
        self.counts = np.array([counts[w] for w in kept], dtype=np.int64)
        self.index = {w: i for i, w in enumerate(kept)}

    def __len__(self):
        return len(self.words)

    def encode(self, tokens):
        """Word ids (int64) of the tokens in the vocabulary; the others are dropped, as word2vec does."""
        return np.array([self.index[w] for w in tokens if w in self.index], dtype=np.int64)

    def decode(self, ids):
        ids = _check_ids(ids, len(self.words), "ids")
        return [self.words[i] for i in ids.ravel()]


# ----------------------------------------------------------------------------------------------------
# Task 2: subsampling of frequent words
# ----------------------------------------------------------------------------------------------------

def _check_counts(counts):
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0 or not np.issubdtype(counts.dtype, np.number) \
            or np.any(counts < 0) or counts.sum() <= 0:
        raise ValueError("counts must be a non-empty 1-D array of non-negative numbers with a positive sum")
    return counts.astype(np.float64)


def keep_probabilities(counts, t=1e-3):
    """P_keep(w) = min(1, sqrt(t / f(w))), f(w) = counts[w] / counts.sum() (Mikolov et al. 2013, the paper's form)."""
    if not t > 0:
        raise ValueError(f"t must be > 0, got {t!r}")
    counts = _check_counts(counts)
    f = counts / counts.sum()
    with np.errstate(divide="ignore"):  # a word of count 0 never occurs; sqrt(t / 0) = inf -> kept
        return np.minimum(1.0, np.sqrt(t / f))


def subsample(ids, counts, t=1e-3, rng=None):
    """Keep token i when u_i < P_keep(ids[i]), one u_i = rng.random() per token, in order."""
    keep = keep_probabilities(counts, t)
    ids = _check_ids(ids, len(keep), "ids", ndim=1)
    u = np.random.default_rng(rng).random(len(ids))
    return ids[u < keep[ids]]


# ----------------------------------------------------------------------------------------------------
# Task 3: skip-gram pairs and negative sampling
# ----------------------------------------------------------------------------------------------------

def skipgram_pairs(ids, window=2, shrink=False, rng=None):
    """(centers, contexts) int64: every position with every other position at most `window` away.

    Ordered by center position, then context position. shrink=True draws one reduced window
    b_i in 1..window per position, rng.integers(1, window + 1, size=n), before any pair is made.
    """
    ids = _check_ids(ids, None, "ids", ndim=1)
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)) or window < 1:
        raise ValueError(f"window must be an integer >= 1, got {window!r}")
    n = len(ids)
    reach = np.random.default_rng(rng).integers(1, window + 1, size=n) if shrink else np.full(n, window)
    pos = np.arange(n)
    # pairs per center: min(reach, i) on the left, min(reach, n - 1 - i) on the right
    per_center = np.minimum(reach, pos) + np.minimum(reach, n - 1 - pos)
    fill = np.zeros(n, dtype=np.int64)
    np.cumsum(per_center[:-1], out=fill[1:])      # where center i's first pair goes
    centers = np.empty(int(per_center.sum()), dtype=np.int64)
    contexts = np.empty_like(centers)
    for d in [*range(-window, 0), *range(1, window + 1)]:  # ascending offsets keep each center's pairs in order
        lo, hi = max(0, -d), max(0, min(n, n - d))          # centers whose context i + d exists
        rows = lo + np.flatnonzero(reach[lo:hi] >= abs(d))
        slots = fill[rows]
        centers[slots] = ids[rows]
        contexts[slots] = ids[rows + d]
        fill[rows] += 1
    return centers, contexts


def noise_distribution(counts, power=0.75):
    """P_noise(w) = counts[w] ** power / sum: the unigram distribution raised to 3/4, renormalised."""
    if not power >= 0:
        raise ValueError(f"power must be >= 0, got {power!r}")
    counts = _check_counts(counts)
    weights = np.where(counts > 0, counts ** power, 0.0)  # a word never seen is never drawn, even for power 0
    return weights / weights.sum()


def sample_negatives(noise, shape, rng=None):
    """Ids (int64, `shape`) drawn from `noise` by inverse CDF: u = rng.random(shape), id = #{k: cdf[k] <= u}."""
    noise = np.asarray(noise, dtype=np.float64)
    if noise.ndim != 1 or noise.size == 0 or np.any(noise < 0) or not abs(noise.sum() - 1) < 1e-6:
        raise ValueError("noise must be a 1-D array of probabilities summing to 1")
    cdf = np.cumsum(noise)
    cdf /= cdf[-1]  # the last entry exactly 1, so u < 1 never falls off the end
    u = np.random.default_rng(rng).random(shape)
    return np.searchsorted(cdf, u, side="right").astype(np.int64)


# ----------------------------------------------------------------------------------------------------
# Task 4: the embedding lookup
# ----------------------------------------------------------------------------------------------------

def _check_ids(ids, V, what, ndim=None):
    ids = np.asarray(ids)
    if ids.size == 0 and ids.dtype == np.float64:
        ids = ids.astype(np.int64)  # np.asarray([]) is float64: an empty list of ids is fine
    if not np.issubdtype(ids.dtype, np.integer):
        raise ValueError(f"{what} must be integers, got dtype {ids.dtype}")
    if ndim is not None and ids.ndim != ndim:
        raise ValueError(f"{what} must be {ndim}-D, got shape {ids.shape}")
    if ids.size and (ids.min() < 0 or (V is not None and ids.max() >= V)):
        raise ValueError(f"{what} must lie in [0, {V}), got values from {ids.min()} to {ids.max()} "
                         "(a negative id would silently wrap around)")
    return ids.astype(np.int64, copy=False)


def _check_weight(weight, what="weight"):
    weight = np.asarray(weight)
    if weight.ndim != 2 or not np.issubdtype(weight.dtype, np.floating):
        raise ValueError(f"{what} must be a 2-D float array (V, D), got {weight.dtype} {weight.shape}")
    return weight


def embedding_forward(ids, weight):
    """ids (any shape) of rows of weight (V, D) -> out (*ids.shape, D), cache."""
    weight = _check_weight(weight)
    ids = _check_ids(ids, weight.shape[0], "ids")
    out = weight[ids]  # fancy indexing copies the rows: out never aliases weight
    return out, (ids, weight.shape, weight.dtype)


def embedding_backward(dout, cache):
    """dout (*ids.shape, D) -> dweight (V, D): row w gets the SUM of dout over every position holding w."""
    ids, (V, D), dtype = cache
    dout = np.asarray(dout)
    if dout.shape != ids.shape + (D,):
        raise ValueError(f"dout must have shape {ids.shape + (D,)}, got {dout.shape}")
    dweight = np.zeros((V, D), dtype=dtype)
    np.add.at(dweight, ids.ravel(), dout.reshape(-1, D))  # dweight[ids] += dout would keep one copy per id
    return dweight


class Embedding:
    """A lookup table weight (num_embeddings, embedding_dim) as a Topic 03 Parameter, N(0, 1) like torch."""

    def __init__(self, num_embeddings, embedding_dim, rng=None, dtype=np.float32):
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
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
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e))


def _log1p_exp(a):
    # log(1 + e^a) = max(a, 0) + log(1 + e^-|a|): -log sigmoid(s) = _log1p_exp(-s), finite for |s| = 1e4
    return np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))


def sgns_loss(v_c, u_o, u_neg):
    """v_c (B, D) center vectors, u_o (B, D) context vectors, u_neg (B, K, D) negatives -> (loss, cache).

    loss = sum over the batch of  -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c)   (a float)
    """
    v_c, u_o, u_neg = np.asarray(v_c), np.asarray(u_o), np.asarray(u_neg)
    if v_c.ndim != 2 or u_o.shape != v_c.shape:
        raise ValueError(f"v_c and u_o must both be (B, D), got {v_c.shape} and {u_o.shape}")
    if u_neg.ndim != 3 or u_neg.shape[0] != v_c.shape[0] or u_neg.shape[2] != v_c.shape[1]:
        raise ValueError(f"u_neg must be (B, K, D) = ({v_c.shape[0]}, K, {v_c.shape[1]}), got {u_neg.shape}")
    s_pos = np.einsum("bd,bd->b", u_o, v_c)        # (B,)
    s_neg = np.einsum("bkd,bd->bk", u_neg, v_c)    # (B, K)
    loss = _log1p_exp(-s_pos).sum() + _log1p_exp(s_neg).sum()
    return float(loss), (v_c, u_o, u_neg, s_pos, s_neg)


def sgns_loss_backward(dloss, cache):
    """dloss (a scalar) -> dv_c (B, D), du_o (B, D), du_neg (B, K, D), in the dtype of the inputs."""
    v_c, u_o, u_neg, s_pos, s_neg = cache
    dtype = np.result_type(v_c, u_o, u_neg)
    g_pos = (-_sigmoid(-s_pos) * dloss).astype(dtype)   # d/ds [-log sigmoid(s)]  = sigmoid(s) - 1
    g_neg = (_sigmoid(s_neg) * dloss).astype(dtype)     # d/ds [-log sigmoid(-s)] = sigmoid(s)
    dv_c = g_pos[:, None] * u_o + np.einsum("bk,bkd->bd", g_neg, u_neg)
    du_o = g_pos[:, None] * v_c
    du_neg = g_neg[:, :, None] * v_c[:, None, :]
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


class _Workspace:
    """Buffers for batches of up to B pairs with K negatives, allocated once and reused by every step."""

    def __init__(self, B, K, D, dtype):
        self.v_c = np.empty((B, D), dtype)
        self.u_o = np.empty((B, D), dtype)
        self.u_neg = np.empty((B, K, D), dtype)
        self.g_pos = np.empty(B, dtype)
        self.g_neg = np.empty((B, K), dtype)
        self.dv_c = np.empty((B, D), dtype)


def _sparse_step(W_in, W_out, centers, contexts, negatives, lr, ws):
    """One SGD step on the rows in use, with the buffers of ws; returns the loss (float)."""
    B, K = negatives.shape
    v_c, u_o, u_neg = ws.v_c[:B], ws.u_o[:B], ws.u_neg[:B, :K]
    np.take(W_in, centers, axis=0, out=v_c)
    np.take(W_out, contexts, axis=0, out=u_o)
    np.take(W_out, negatives, axis=0, out=u_neg)
    s_pos = np.einsum("bd,bd->b", u_o, v_c, out=ws.g_pos[:B])
    s_neg = np.einsum("bkd,bd->bk", u_neg, v_c, out=ws.g_neg[:B, :K])
    loss = float(_log1p_exp(-s_pos).sum() + _log1p_exp(s_neg).sum())
    # the scores become the gradients -lr * dL/ds, in place: sigmoid(s) - 1 and sigmoid(s)
    g_pos = s_pos
    g_pos[...] = _sigmoid(s_pos)
    g_pos -= 1
    g_pos *= -lr
    g_neg = s_neg
    g_neg[...] = _sigmoid(s_neg)
    g_neg *= -lr
    # every gradient is computed from the OLD rows before any row moves
    dv_c = ws.dv_c[:B]
    np.multiply(g_pos[:, None], u_o, out=dv_c)
    dv_c += np.einsum("bk,bkd->bd", g_neg, u_neg)
    np.multiply(g_pos[:, None], v_c, out=u_o)            # u_o now holds -lr * du_o
    np.multiply(g_neg[:, :, None], v_c[:, None, :], out=u_neg)  # u_neg now holds -lr * du_neg
    np.add.at(W_in, centers, dv_c)                        # add.at: a word twice in the batch moves twice
    np.add.at(W_out, contexts, u_o)
    np.add.at(W_out, negatives.ravel(), u_neg.reshape(-1, u_neg.shape[-1]))
    return loss


def sgd_step(W_in, W_out, centers, contexts, negatives, lr):
    """W -= lr * dW for both matrices, IN PLACE, from the gradients at the current weights; returns the loss."""
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    W_in, W_out, centers, contexts, negatives = _check_batch(W_in, W_out, centers, contexts, negatives)
    ws = _Workspace(*negatives.shape, W_in.shape[1], np.result_type(W_in, W_out))
    return _sparse_step(W_in, W_out, centers, contexts, negatives, lr, ws)


def train_skipgram(W_in, W_out, centers, contexts, noise, num_negatives=5, lr=0.025, batch_size=512,
                   epochs=1, rng=None):
    """SGD on the pairs, in place; returns the mean loss per pair of every batch (a list of floats).

    Each epoch: order = rng.permutation(P); then for each slice of batch_size pairs of that order,
    negatives = sample_negatives(noise, (b, num_negatives), rng) and one sgd_step.
    """
    for name, v, low in (("num_negatives", num_negatives, 0), ("batch_size", batch_size, 1), ("epochs", epochs, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {v!r}")
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    centers = _check_ids(centers, len(noise), "centers", ndim=1)
    contexts = _check_ids(contexts, len(noise), "contexts", ndim=1)
    if contexts.shape != centers.shape:
        raise ValueError(f"centers and contexts must be aligned, got {centers.shape} and {contexts.shape}")
    _check_batch(W_in, W_out, centers[:0], contexts[:0], np.zeros((0, num_negatives), np.int64))
    rng = np.random.default_rng(rng)
    ws = _Workspace(min(batch_size, max(len(centers), 1)), num_negatives, W_in.shape[1],
                    np.result_type(W_in, W_out))
    batch_c = np.empty(min(batch_size, len(centers)), dtype=np.int64)
    batch_o = np.empty_like(batch_c)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(centers))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            b = len(batch)
            negatives = sample_negatives(noise, (b, num_negatives), rng)
            np.take(centers, batch, out=batch_c[:b])
            np.take(contexts, batch, out=batch_o[:b])
            loss = _sparse_step(W_in, W_out, batch_c[:b], batch_o[:b], negatives, lr, ws)
            losses.append(loss / b)
    return losses


# ----------------------------------------------------------------------------------------------------
# Task 7: similarity, neighbours, analogies
# ----------------------------------------------------------------------------------------------------

def cosine_similarity(W, v):
    """W (V, D), v (D,) -> (V,) cos(W[i], v); a zero row (or a zero v) has similarity 0, not NaN."""
    W, v = _check_weight(W, "W"), np.asarray(v)
    if v.shape != (W.shape[1],):
        raise ValueError(f"v must have shape ({W.shape[1]},), got {v.shape}")
    norms = np.sqrt(np.einsum("vd,vd->v", W, W))   # no (V, D) temporary, unlike np.linalg.norm(W, axis=1)
    norms *= np.sqrt(v @ v)
    sims = W @ v
    np.divide(sims, norms, out=sims, where=norms > 0)
    sims[norms == 0] = 0
    return sims


def nearest_neighbors(W, v, k=5, exclude=()):
    """The k rows most similar to v (ids int64, similarities), best first, ties by smaller id; skips `exclude`."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    sims = cosine_similarity(W, v)
    excluded = np.unique(_check_ids(list(exclude), len(sims), "exclude"))
    ranking = sims.copy()
    ranking[excluded] = -np.inf                       # below every real similarity (all lie in [-1, 1])
    order = np.argsort(-ranking, kind="stable")[:min(k, len(sims) - len(excluded))]
    return order, sims[order]


def analogy(W, a, b, c, k=1):
    """a - b + c (king - man + woman): the k nearest rows to unit(W[a]) - unit(W[b]) + unit(W[c]), not a, b, c."""
    W = _check_weight(W, "W")
    ids = _check_ids([a, b, c], W.shape[0], "a, b, c")
    unit = W[ids] / np.maximum(np.linalg.norm(W[ids], axis=1, keepdims=True), np.finfo(W.dtype).tiny)
    return nearest_neighbors(W, unit[0] - unit[1] + unit[2], k=k, exclude=ids)
