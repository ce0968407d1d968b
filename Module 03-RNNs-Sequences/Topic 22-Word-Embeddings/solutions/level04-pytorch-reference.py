"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- The text pipeline (words, vocabulary, subsampling, pairs, negatives) is NumPy, as in level 2: PyTorch has
  no word2vec data pipeline, and the seeded draws must be NumPy's to be comparable
- The lookup is torch.nn.functional.embedding / torch.nn.Embedding, every gradient is autograd, the SGD step
  is torch.optim.SGD on nn.Embedding(sparse=True) sharing memory with the NumPy arrays, the similarities
  are torch.nn.functional.cosine_similarity
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

import numpy as np
import torch
import torch.nn.functional as F
from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden

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
    offsets = np.concatenate([np.arange(-window, 0), np.arange(1, window + 1)])  # never 0: no word with itself
    pos = np.arange(n)[:, None] + offsets[None, :]                               # (n, 2 * window)
    valid = (pos >= 0) & (pos < n) & (np.abs(offsets)[None, :] <= reach[:, None])
    rows, cols = np.nonzero(valid)                                               # row-major: center, then offset
    return ids[rows], ids[pos[rows, cols]]


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


def _torch(a, requires_grad=False):
    return torch.tensor(np.ascontiguousarray(a), requires_grad=requires_grad)


def _ids(ids):
    return torch.from_numpy(np.ascontiguousarray(ids))  # torch refuses negative strides (reversed views)


def embedding_forward(ids, weight):
    """ids (any shape) of rows of weight (V, D) -> out (*ids.shape, D), cache (torch.nn.functional.embedding)."""
    weight = _check_weight(weight)
    ids = _check_ids(ids, weight.shape[0], "ids")
    with one_torch_thread():
        w = _torch(weight, requires_grad=True)
        out = F.embedding(_ids(ids), w)
    return out.detach().numpy().copy(), (out, w)


def embedding_backward(dout, cache):
    """dout (*ids.shape, D) -> dweight (V, D) by autograd."""
    out, w = cache
    dout = np.asarray(dout)
    if dout.shape != tuple(out.shape):
        raise ValueError(f"dout must have shape {tuple(out.shape)}, got {dout.shape}")
    with one_torch_thread():
        (g,) = torch.autograd.grad(out, [w], _torch(dout.astype(w.detach().numpy().dtype)), retain_graph=True)
    return g.numpy().copy()


class Embedding:
    """A lookup table weight (num_embeddings, embedding_dim) as a Topic 03 Parameter, N(0, 1) like torch."""

    def __init__(self, num_embeddings, embedding_dim, rng=None, dtype=np.float32):
        for name, v in (("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        # NumPy's Generator draws the N(0, 1) values (seeded like every level), torch.nn.Embedding uses them
        data = np.random.default_rng(rng).standard_normal((self.num_embeddings, self.embedding_dim))
        self.weight = Parameter(data.astype(dtype))
        self._cache = None

    def parameters(self):
        return [self.weight]

    def forward(self, ids):
        weight = self.weight.data
        ids = _check_ids(ids, weight.shape[0], "ids")
        with one_torch_thread():
            module = torch.nn.Embedding(self.num_embeddings, self.embedding_dim, _weight=_torch(weight))
            out = module(_ids(ids))
        self._cache = (out, module)
        return out.detach().numpy().copy()

    def backward(self, dout):
        """ADDS the gradient of the last forward into weight.grad."""
        if self._cache is None:
            raise RuntimeError("backward called before forward")
        out, module = self._cache
        dout = np.asarray(dout)
        if dout.shape != tuple(out.shape):
            raise ValueError(f"dout must have shape {tuple(out.shape)}, got {dout.shape}")
        with one_torch_thread():
            (g,) = torch.autograd.grad(out, [module.weight], _torch(dout.astype(self.weight.data.dtype)),
                                       retain_graph=True)
        self.weight.grad += g.numpy()


# ----------------------------------------------------------------------------------------------------
# Task 5: the skip-gram negative-sampling loss
# ----------------------------------------------------------------------------------------------------

def _loss(v_c, u_o, u_neg):
    # logsigmoid is torch's stable log(sigmoid(s)): finite for |s| = 1e4
    s_pos = (u_o * v_c).sum(-1)
    s_neg = torch.einsum("bkd,bd->bk", u_neg, v_c)
    return -(F.logsigmoid(s_pos).sum() + F.logsigmoid(-s_neg).sum())


def sgns_loss(v_c, u_o, u_neg):
    """v_c (B, D) center vectors, u_o (B, D) context vectors, u_neg (B, K, D) negatives -> (loss, cache).

    loss = sum over the batch of  -log sigmoid(u_o . v_c) - sum_k log sigmoid(-u_k . v_c)   (a float)
    """
    v_c, u_o, u_neg = np.asarray(v_c), np.asarray(u_o), np.asarray(u_neg)
    if v_c.ndim != 2 or u_o.shape != v_c.shape:
        raise ValueError(f"v_c and u_o must both be (B, D), got {v_c.shape} and {u_o.shape}")
    if u_neg.ndim != 3 or u_neg.shape[0] != v_c.shape[0] or u_neg.shape[2] != v_c.shape[1]:
        raise ValueError(f"u_neg must be (B, K, D) = ({v_c.shape[0]}, K, {v_c.shape[1]}), got {u_neg.shape}")
    dtype = np.result_type(v_c, u_o, u_neg)
    with one_torch_thread():
        inputs = [_torch(a.astype(dtype), requires_grad=True) for a in (v_c, u_o, u_neg)]
        loss = _loss(*inputs)
    return float(loss.detach()), (loss, inputs)


def sgns_loss_backward(dloss, cache):
    """dloss (a scalar) -> dv_c (B, D), du_o (B, D), du_neg (B, K, D), by autograd."""
    loss, inputs = cache
    with one_torch_thread():
        grads = torch.autograd.grad(loss, inputs, torch.tensor(float(dloss), dtype=loss.dtype),
                                    retain_graph=True, allow_unused=True)
    return tuple(np.zeros(tuple(i.shape), dtype=i.detach().numpy().dtype) if g is None else g.numpy().copy()
                 for g, i in zip(grads, inputs))


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


def _embeddings(W_in, W_out, sparse=False):
    # _weight wraps the arrays without a copy: an in-place torch update is an in-place NumPy update
    V, D = W_in.shape
    return (torch.nn.Embedding(V, D, _weight=torch.from_numpy(W_in), sparse=sparse),
            torch.nn.Embedding(V, D, _weight=torch.from_numpy(W_out), sparse=sparse))


def sgns_gradients(W_in, W_out, centers, contexts, negatives):
    """W_in, W_out (V, D); centers, contexts (B,); negatives (B, K) -> (loss, dW_in (V, D), dW_out (V, D))."""
    W_in, W_out, centers, contexts, negatives = _check_batch(W_in, W_out, centers, contexts, negatives)
    with one_torch_thread():
        emb_in, emb_out = _embeddings(W_in.copy(), W_out.copy())
        loss = _loss(emb_in(_ids(centers)), emb_out(_ids(contexts)),
                     emb_out(_ids(negatives)))
        loss.backward()
    return float(loss.detach()), emb_in.weight.grad.numpy().copy(), emb_out.weight.grad.numpy().copy()


def sgd_step(W_in, W_out, centers, contexts, negatives, lr):
    """W -= lr * dW for both matrices, IN PLACE (torch.optim.SGD on sparse gradients); returns the loss."""
    if not lr >= 0:
        raise ValueError(f"lr must be >= 0, got {lr!r}")
    W_in, W_out, centers, contexts, negatives = _check_batch(W_in, W_out, centers, contexts, negatives)
    if not (W_in.flags.c_contiguous and W_out.flags.c_contiguous):
        raise ValueError("sgd_step updates W_in and W_out in place: they must be C-contiguous arrays")
    with one_torch_thread():
        emb_in, emb_out = _embeddings(W_in, W_out, sparse=True)
        opt = torch.optim.SGD([emb_in.weight, emb_out.weight], lr=lr)
        loss = _loss(emb_in(_ids(centers)), emb_out(_ids(contexts)),
                     emb_out(_ids(negatives)))
        if loss.requires_grad:  # B = 0: nothing to update
            loss.backward()
            opt.step()
    return float(loss.detach())


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
    rng = np.random.default_rng(rng)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(centers))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            negatives = sample_negatives(noise, (len(batch), num_negatives), rng)
            loss = sgd_step(W_in, W_out, centers[batch], contexts[batch], negatives, lr)
            losses.append(loss / len(batch))
    return losses


# ----------------------------------------------------------------------------------------------------
# Task 7: similarity, neighbours, analogies
# ----------------------------------------------------------------------------------------------------

def cosine_similarity(W, v):
    """W (V, D), v (D,) -> (V,) cos(W[i], v) by torch.nn.functional.cosine_similarity (0 for a zero row)."""
    W, v = _check_weight(W, "W"), np.asarray(v)
    if v.shape != (W.shape[1],):
        raise ValueError(f"v must have shape ({W.shape[1]},), got {v.shape}")
    dtype = np.result_type(W, v)
    with one_torch_thread():
        sims = F.cosine_similarity(_torch(W.astype(dtype)), _torch(v.astype(dtype))[None, :], dim=1)
    return sims.numpy().copy()


def nearest_neighbors(W, v, k=5, exclude=()):
    """The k rows most similar to v (ids int64, similarities), best first, ties by smaller id; skips `exclude`."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an integer >= 1, got {k!r}")
    sims = cosine_similarity(W, v)
    excluded = np.unique(_check_ids(list(exclude), len(sims), "exclude"))
    ranking = torch.from_numpy(sims.copy())
    ranking[_ids(excluded)] = -float("inf")
    order = torch.sort(ranking, descending=True, stable=True).indices[:min(k, len(sims) - len(excluded))]
    order = order.numpy().astype(np.int64)
    return order, sims[order]


def analogy(W, a, b, c, k=1):
    """a - b + c (king - man + woman): the k nearest rows to unit(W[a]) - unit(W[b]) + unit(W[c]), not a, b, c."""
    W = _check_weight(W, "W")
    ids = _check_ids([a, b, c], W.shape[0], "a, b, c")
    with one_torch_thread():
        unit = F.normalize(_torch(W[ids]), dim=1, eps=float(np.finfo(W.dtype).tiny)).numpy()
    return nearest_neighbors(W, unit[0] - unit[1] + unit[2], k=k, exclude=ids)


# ----------------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------------

def make_golden():
    """{file name: {array name: array}} for tests/golden/, float64, from torch and autograd."""
    files = {}
    rng = np.random.default_rng(22)
    V, D, B, K = 7, 5, 6, 3
    ids = np.array([[1, 4, 1], [6, 1, 0]])           # id 1 three times: its gradient rows must add up
    weight = rng.standard_normal((V, D))
    dout = rng.standard_normal((2, 3, D))
    out, cache = embedding_forward(ids, weight)
    files["embedding"] = {"ids": ids, "weight": weight, "dout": dout, "out": out,
                          "dweight": embedding_backward(dout, cache)}
    v_c, u_o, u_neg = rng.standard_normal((B, D)), rng.standard_normal((B, D)), rng.standard_normal((B, K, D))
    loss, cache = sgns_loss(v_c, u_o, u_neg)
    dv_c, du_o, du_neg = sgns_loss_backward(1.0, cache)
    files["sgns_loss"] = {"v_c": v_c, "u_o": u_o, "u_neg": u_neg, "loss": np.array(loss),
                          "dv_c": dv_c, "du_o": du_o, "du_neg": du_neg}
    big = 40 * np.sign(rng.standard_normal((B, D)))  # scores of +-1000 and more: sigmoid saturates
    loss, cache = sgns_loss(big, -big, np.repeat(big[:, None, :], K, axis=1))
    dv_c, du_o, du_neg = sgns_loss_backward(1.0, cache)
    files["sgns_large_scores"] = {"v_c": big, "u_o": -big, "u_neg": np.repeat(big[:, None, :], K, axis=1),
                                  "loss": np.array(loss), "dv_c": dv_c, "du_o": du_o, "du_neg": du_neg}
    W_in, W_out = 0.5 * rng.standard_normal((V, D)), 0.5 * rng.standard_normal((V, D))
    centers = np.array([0, 2, 2, 5, 0, 2])             # repeated centers, and a center that is also a context
    contexts = np.array([2, 0, 3, 4, 2, 6])
    negatives = rng.integers(0, V, size=(B, K))
    negatives[0] = [1, 1, 3]                           # the same negative twice in one row
    loss, dW_in, dW_out = sgns_gradients(W_in, W_out, centers, contexts, negatives)
    lr = 0.3
    W_in_after, W_out_after = W_in.copy(), W_out.copy()
    step_loss = sgd_step(W_in_after, W_out_after, centers, contexts, negatives, lr)
    files["sgns_gradients"] = {"W_in": W_in, "W_out": W_out, "centers": centers, "contexts": contexts,
                               "negatives": negatives, "loss": np.array(loss), "dW_in": dW_in, "dW_out": dW_out,
                               "lr": np.array(lr), "step_loss": np.array(step_loss),
                               "W_in_after": W_in_after, "W_out_after": W_out_after}
    W = rng.standard_normal((9, 4))
    W[5] = 0                                           # a zero row: similarity 0, not NaN
    v = rng.standard_normal(4)
    ids, sims = nearest_neighbors(W, v, k=4, exclude=[2])
    a_ids, a_sims = analogy(W, 0, 1, 3, k=3)
    files["similarity"] = {"W": W, "v": v, "sims": cosine_similarity(W, v), "nn_ids": ids, "nn_sims": sims,
                           "analogy_ids": a_ids, "analogy_sims": a_sims}
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 22 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    rng = np.random.default_rng(0)
    W_in, W_out = rng.standard_normal((10, 4)), np.zeros((10, 4))
    c, o = skipgram_pairs(rng.integers(0, 10, size=50), window=2)
    losses = train_skipgram(W_in, W_out, c, o, noise_distribution(np.arange(1, 11)), lr=0.05, batch_size=16,
                            epochs=3, rng=0)
    print(f"{len(c)} pairs, loss per pair {losses[0]:.3f} -> {losses[-1]:.3f}")
