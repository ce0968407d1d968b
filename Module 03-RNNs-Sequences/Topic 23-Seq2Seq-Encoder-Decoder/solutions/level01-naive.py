"""
Level 1: naive, correctness first
- Data: regular-expression tokens, a vocabulary counted with a dict, the split by English sentence
- Padding, the masked cross-entropy and its gradient one (sentence, position) at a time
- The encoder is Topic 20's gru_forward over the padded batch; the context is read at each last real token
- The decoder step by step, and its backward pass step by step: the projection's gradients and the embedding's
  one time step at a time
- Beam search lists every extension of every hypothesis in Python and sorts them
- BLEU counts n-grams with plain dicts
"""

from __future__ import annotations

import re

import numpy as np
from dlfs.components import load_topic

optim = load_topic(3)  # Topic 03: Parameter (.data, .grad)
gru = load_topic(20)   # Topic 20: GRU layer (PyTorch's initialisation), gru_forward/backward, gru_step_forward/backward
emb = load_topic(22)   # Topic 22: Embedding layer (N(0, 1) rows), embedding_forward/backward

PAD, SOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")
# the English prefixes of PyTorch's seq2seq tutorial, as token strings: short, simple sentences
ENG_PREFIXES = ("i am", "i'm", "he is", "he's", "she is", "she's", "you are", "you're", "we are", "we're",
                "they are", "they're")
TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")  # words (with inner apostrophes) or one punctuation mark
NAMES = ("enc_embed", "enc_weight_ih", "enc_weight_hh", "enc_bias_ih", "enc_bias_hh",
         "dec_embed", "dec_weight_ih", "dec_weight_hh", "dec_bias_ih", "dec_bias_hh", "out_weight", "out_bias")


# ----------------------------------------------------------------------------------------------------
# Task 1: tokens, vocabularies, the filter and the held-out split
# ----------------------------------------------------------------------------------------------------

def tokenize(sentence):
    """Lowercase tokens of one sentence: words (apostrophes inside kept) and single punctuation marks."""
    if not isinstance(sentence, str):
        raise ValueError(f"tokenize expects a str, got {type(sentence).__name__}")  # noqa: TRY004
    return TOKEN.findall(sentence.lower())  # \s matches U+202F, the thin space French puts before ! and ?


class Vocab:
    """<pad>=0, <sos>=1, <eos>=2, <unk>=3, then the words seen >= min_count times, by count, ties alphabetically."""

    def __init__(self, sentences, min_count=1):
        if isinstance(sentences, str) or any(isinstance(s, str) for s in sentences):
            raise ValueError("Vocab expects a list of token lists (tokenize each sentence first)")
        if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)) or min_count < 1:
            raise ValueError(f"min_count must be an integer >= 1, got {min_count!r}")
        counts = {}
        for sentence in sentences:
            for w in sentence:
                if w not in SPECIALS:
                    counts[w] = counts.get(w, 0) + 1
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        self.words = list(SPECIALS) + kept
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def encode(self, tokens):
        """int64 ids of the tokens (<unk> for unknown words) followed by <eos>."""
        return np.array([self.index.get(w, UNK) for w in tokens] + [EOS], dtype=np.int64)

    def decode(self, ids):
        """The words up to the first <eos> (excluded), <pad> and <sos> skipped."""
        ids = _check_ids(ids, len(self), "ids")
        out = []
        for i in ids.ravel():
            if i == EOS:
                break
            if i not in (PAD, SOS):
                out.append(self.words[i])
        return out


def filter_pairs(pairs, max_len=10, prefixes=ENG_PREFIXES):
    """[(english, french) strings] -> [(english tokens, french tokens)] of the pairs that pass the filter.

    Kept: both sides have 1 to max_len tokens and, unless prefixes is empty or None, the English tokens joined by
    spaces start with one of the prefixes followed by a space ("i am cold ." has the prefix "i am").
    """
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
    starts = tuple(p + " " for p in prefixes) if prefixes else None
    kept = []
    for en, fr in pairs:
        e, f = tokenize(en), tokenize(fr)
        if 1 <= len(e) <= max_len and 1 <= len(f) <= max_len and (starts is None or (" ".join(e) + " ").startswith(starts)):
            kept.append((e, f))
    return kept


def split_pairs(pairs, held_out=0.1, seed=0):
    """(train, held_out) lists of tokenized pairs; no English and no French sentence is on both sides.

    The distinct English sentences (in order of first appearance) are shuffled by
    np.random.default_rng(seed).permutation; the first round(held_out * n) of them are held out with all their
    pairs; a held-out pair whose French sentence also occurs in training is then dropped. Order is kept.
    """
    if not 0 <= held_out < 1:
        raise ValueError(f"held_out must be in [0, 1), got {held_out!r}")
    english = list(dict.fromkeys(tuple(e) for e, _ in pairs))
    order = np.random.default_rng(seed).permutation(len(english))
    test_en = {english[i] for i in order[:round(held_out * len(english))]}
    train = [(e, f) for e, f in pairs if tuple(e) not in test_en]
    train_fr = {tuple(f) for _, f in train}
    test = [(e, f) for e, f in pairs if tuple(e) in test_en and tuple(f) not in train_fr]
    return train, test


# ----------------------------------------------------------------------------------------------------
# Task 2: a padded batch and its mask
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
        raise ValueError(f"{what} must lie in [0, {V}), got values from {ids.min()} to {ids.max()}")
    return ids.astype(np.int64, copy=False)


def pad_batch(sequences, pad_id=PAD):
    """B id sequences -> ids (B, T) int64 right-padded with pad_id, mask (B, T) bool (True on real tokens).

    T is the longest length (0 for no sequence). A sequence holding pad_id is a ValueError (it would be masked).
    """
    seqs = [_check_ids(s, None, "each sequence", ndim=1) for s in sequences]
    if any(np.any(s == pad_id) for s in seqs):
        raise ValueError(f"a sequence contains the padding id {pad_id}: its loss would be masked out")
    T = max((len(s) for s in seqs), default=0)
    ids = np.full((len(seqs), T), pad_id, dtype=np.int64)
    mask = np.zeros((len(seqs), T), dtype=bool)
    for b, s in enumerate(seqs):
        for t, token in enumerate(s):
            ids[b, t] = token
            mask[b, t] = True
    return ids, mask


# ----------------------------------------------------------------------------------------------------
# Task 3: the masked cross-entropy
# ----------------------------------------------------------------------------------------------------

def _check_loss_inputs(logits, targets, mask):
    logits, mask = np.asarray(logits), np.asarray(mask)
    if logits.ndim != 3 or not np.issubdtype(logits.dtype, np.floating):
        raise ValueError(f"logits must be a float array (B, T, V), got {logits.dtype} {logits.shape}")
    targets = _check_ids(targets, logits.shape[2], "targets")
    if targets.shape != logits.shape[:2] or mask.shape != logits.shape[:2]:
        raise ValueError(f"targets {targets.shape} and mask {mask.shape} must both be (B, T) = {logits.shape[:2]}")
    if mask.dtype != np.bool_:
        raise ValueError(f"mask must be a bool array, got {mask.dtype}")
    return logits, targets, mask


def masked_cross_entropy(logits, targets, mask):
    """logits (B, T, V), targets (B, T) ids, mask (B, T) bool -> (loss, cache).

    loss = sum over the real positions (mask True) of -log softmax(logits[b, t])[targets[b, t]], divided by the
    number of real positions (0.0 when there is none): the mean over real tokens, a Python float.
    """
    logits, targets, mask = _check_loss_inputs(logits, targets, mask)
    B, T, _ = logits.shape
    total, n_real = 0.0, 0
    probs = np.zeros_like(logits)
    for b in range(B):
        for t in range(T):
            if not mask[b, t]:
                continue                                  # a padded position costs nothing
            row = logits[b, t] - logits[b, t].max()       # exp never overflows
            log_sum = np.log(np.exp(row).sum())
            total -= row[targets[b, t]] - log_sum
            probs[b, t] = np.exp(row - log_sum)
            n_real += 1
    return float(total / max(n_real, 1)), (probs, targets, mask, n_real)


def masked_cross_entropy_backward(dloss, cache):
    """dloss (a scalar) -> dlogits (B, T, V) = dloss * (softmax - one_hot(targets)) / n_real on real positions, 0 elsewhere."""
    probs, targets, mask, n_real = cache
    dlogits = np.zeros_like(probs)
    for b in range(probs.shape[0]):
        for t in range(probs.shape[1]):
            if mask[b, t]:
                dlogits[b, t] = probs[b, t]
                dlogits[b, t, targets[b, t]] -= 1
                dlogits[b, t] *= dloss / n_real
    return dlogits


# ----------------------------------------------------------------------------------------------------
# Tasks 4 to 6: the encoder-decoder
# ----------------------------------------------------------------------------------------------------

def _source_lengths(src, V):
    """Lengths (B,) of left-aligned, non-empty source rows; ValueError otherwise."""
    src = _check_ids(src, V, "src", ndim=2)
    real = src != PAD
    lengths = real.sum(axis=1)
    if np.any(lengths == 0) or src.shape[1] == 0:
        raise ValueError("every source sentence needs at least one real token (a row of only <pad>)")
    if np.any(real != (np.arange(src.shape[1])[None, :] < lengths[:, None])):
        raise ValueError("src rows must be padded on the right: <pad> only after the last real token")
    return src, lengths


class Seq2Seq:
    """Encoder (embedding + GRU) -> its final state as the context -> decoder (embedding + GRU + linear).

    Parameters, in the order of NAMES: the two embeddings (Topic 22 layers), the two GRUs (Topic 20 layers) and the
    output projection out_weight (V_tgt, H), out_bias (V_tgt,) (torch.nn.Linear's U(-1/sqrt(H), 1/sqrt(H))).
    """

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_size, hidden_size, rng=None, dtype=np.float32):
        for name, v in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size),
                        ("embed_size", embed_size), ("hidden_size", hidden_size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        rng = np.random.default_rng(rng)  # one Generator, drawn in this order, so every level gets the same weights
        self.enc_embed = emb.Embedding(src_vocab_size, embed_size, rng=rng, dtype=dtype)
        self.encoder = gru.GRU(embed_size, hidden_size, rng=rng, dtype=dtype)
        self.dec_embed = emb.Embedding(tgt_vocab_size, embed_size, rng=rng, dtype=dtype)
        self.decoder = gru.GRU(embed_size, hidden_size, rng=rng, dtype=dtype)
        bound = 1.0 / np.sqrt(hidden_size)
        self.out_weight = optim.Parameter(rng.uniform(-bound, bound, (tgt_vocab_size, hidden_size)).astype(dtype))
        self.out_bias = optim.Parameter(rng.uniform(-bound, bound, tgt_vocab_size).astype(dtype))
        self.src_vocab_size, self.tgt_vocab_size = int(src_vocab_size), int(tgt_vocab_size)
        self.hidden_size = int(hidden_size)
        self._cache = None

    def parameters(self):
        e, d = self.encoder, self.decoder
        return [self.enc_embed.weight, e.weight_ih, e.weight_hh, e.bias_ih, e.bias_hh,
                self.dec_embed.weight, d.weight_ih, d.weight_hh, d.bias_ih, d.bias_hh, self.out_weight, self.out_bias]

    def state_dict(self):
        return {name: p.data.copy() for name, p in zip(NAMES, self.parameters())}

    def load_state_dict(self, state):
        if set(state) != set(NAMES):
            raise ValueError(f"state_dict keys {sorted(state)} != expected {sorted(NAMES)}")
        params = self.parameters()
        for name, p in zip(NAMES, params):
            if np.shape(state[name]) != p.data.shape:
                raise ValueError(f"state_dict[{name!r}] has shape {np.shape(state[name])}, expected {p.data.shape}")
        for name, p in zip(NAMES, params):
            p.data[...] = state[name]

    # -------- Task 4: the encoder --------
    def _encode(self, src):
        src, lengths = _source_lengths(src, self.src_vocab_size)
        x, emb_cache = emb.embedding_forward(src, self.enc_embed.weight.data)          # (B, S, E)
        e = self.encoder
        h0 = np.zeros((src.shape[0], self.hidden_size), dtype=e.weight_hh.data.dtype)
        hs, gru_cache = gru.gru_forward(x, h0, e.weight_ih.data, e.weight_hh.data, e.bias_ih.data, e.bias_hh.data)
        # the state after each sentence's LAST REAL token: the pads after it never reach the context
        context = np.stack([hs[b, lengths[b] - 1] for b in range(src.shape[0])])
        return context, (emb_cache, gru_cache, lengths, hs.shape)

    def encode(self, src):
        """src (B, S) right-padded ids -> context (B, H): the encoder state after each sentence's last real token."""
        return self._encode(src)[0]

    # -------- Task 5: one decoder step --------
    def decoder_step(self, ids, h):
        """ids (B,) previous tokens, h (B, H) -> (logits (B, V_tgt), h_new (B, H)); no cache (inference)."""
        ids = _check_ids(ids, self.tgt_vocab_size, "ids", ndim=1)
        h = np.asarray(h)
        if h.shape != (ids.shape[0], self.hidden_size):
            raise ValueError(f"h must have shape ({ids.shape[0]}, {self.hidden_size}), got {h.shape}")
        d = self.decoder
        x, _ = emb.embedding_forward(ids, self.dec_embed.weight.data)
        h_new, _ = gru.gru_step_forward(x, h, d.weight_ih.data, d.weight_hh.data, d.bias_ih.data, d.bias_hh.data)
        return h_new @ self.out_weight.data.T + self.out_bias.data, h_new

    # -------- Task 6: the training loss with teacher forcing, and its backward pass --------
    def loss(self, src, tgt, teacher_forcing=1.0, rng=None):
        """src (B, S), tgt (B, T) right-padded targets ending in <eos> -> the masked mean cross-entropy (a float).

        Step 0 reads <sos>. Before each step t >= 1 ONE draw u = rng.random() (rng = np.random.default_rng(rng))
        decides for the whole batch: u < teacher_forcing feeds the target tgt[:, t - 1], otherwise the argmax of
        the previous step's logits. Keeps what backward() needs.
        """
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing!r}")
        context, enc_cache = self._encode(src)
        tgt = _check_ids(tgt, self.tgt_vocab_size, "tgt", ndim=2)
        B, T = tgt.shape
        if B != context.shape[0] or T == 0:
            raise ValueError(f"tgt must be (B, T) with B = {context.shape[0]} and T >= 1, got {tgt.shape}")
        mask = tgt != PAD
        rng = np.random.default_rng(rng)
        d, W, b = self.decoder, self.out_weight.data, self.out_bias.data
        inputs = np.empty((B, T), dtype=np.int64)
        hs = np.empty((B, T, self.hidden_size), dtype=context.dtype)
        logits = np.empty((B, T, self.tgt_vocab_size), dtype=np.result_type(context, W))
        step_caches, forced, h = [], [], context
        for t in range(T):
            if t == 0:
                inputs[:, 0] = SOS
            else:
                teacher = bool(rng.random() < teacher_forcing)
                forced.append(teacher)
                inputs[:, t] = tgt[:, t - 1] if teacher else logits[:, t - 1].argmax(axis=1)
            x, _ = emb.embedding_forward(inputs[:, t], self.dec_embed.weight.data)
            h, c = gru.gru_step_forward(x, h, d.weight_ih.data, d.weight_hh.data, d.bias_ih.data, d.bias_hh.data)
            step_caches.append(c)
            hs[:, t] = h
            logits[:, t] = h @ W.T + b
        loss, loss_cache = masked_cross_entropy(logits, tgt, mask)
        self.teacher_forced = forced
        self._cache = (enc_cache, step_caches, hs, loss_cache, inputs)
        return loss

    def backward(self):
        """ADDS the gradients of the last loss() into every parameter's .grad."""
        if self._cache is None:
            raise RuntimeError("backward called before loss")
        (emb_cache, gru_cache, lengths, hs_shape), step_caches, hs, loss_cache, inputs = self._cache
        B, T, H = hs.shape
        dlogits = masked_cross_entropy_backward(1.0, loss_cache)                    # (B, T, V)
        d, W = self.decoder, self.out_weight.data
        dh = np.zeros((B, H), dtype=hs.dtype)
        for t in reversed(range(T)):  # the state of step t reaches the logits of t and every later step
            self.out_weight.grad += dlogits[:, t].T @ hs[:, t]
            self.out_bias.grad += dlogits[:, t].sum(axis=0)
            dx, dh, dw_ih, dw_hh, db_ih, db_hh = gru.gru_step_backward(dlogits[:, t] @ W + dh, step_caches[t])
            d.weight_ih.grad += dw_ih
            d.weight_hh.grad += dw_hh
            d.bias_ih.grad += db_ih
            d.bias_hh.grad += db_hh
            _, step_emb_cache = emb.embedding_forward(inputs[:, t], self.dec_embed.weight.data)
            self.dec_embed.weight.grad += emb.embedding_backward(dx, step_emb_cache)
        # dh is now d loss / d context: it enters the encoder at each sentence's last real step only
        denc = np.zeros(hs_shape, dtype=hs.dtype)
        for b in range(B):
            denc[b, lengths[b] - 1] = dh[b]
        dsrc, _, *grads = gru.gru_backward(denc, gru_cache)
        e = self.encoder
        for p, g in zip((e.weight_ih, e.weight_hh, e.bias_ih, e.bias_hh), grads):
            p.grad += g
        self.enc_embed.weight.grad += emb.embedding_backward(dsrc, emb_cache)


# ----------------------------------------------------------------------------------------------------
# Task 7: greedy decoding and beam search
# ----------------------------------------------------------------------------------------------------

def _check_max_len(max_len):
    if isinstance(max_len, bool) or not isinstance(max_len, (int, np.integer)) or max_len < 1:
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def greedy_decode(model, src, max_len=20):
    """src (B, S) -> B lists of ids: each step feeds the argmax; a sentence stops at <eos> (not included) or max_len."""
    _check_max_len(max_len)
    h = model.encode(src)
    B = h.shape[0]
    out = [[] for _ in range(B)]
    done = np.zeros(B, dtype=bool)
    ids = np.full(B, SOS, dtype=np.int64)
    for _ in range(max_len):
        logits, h = model.decoder_step(ids, h)
        ids = np.asarray(logits).argmax(axis=1)   # ties: the smaller id
        for b in np.flatnonzero(~done):
            if ids[b] == EOS:
                done[b] = True
            else:
                out[b].append(int(ids[b]))
        if done.all():
            break
    return out


def beam_search(model, src, beam_size=5, max_len=20, alpha=1.0):
    """src (S,) one sentence -> (ids without <eos>, score): the best hypothesis of a beam search.

    Each step extends every live hypothesis by every token (log-probabilities add up) and keeps the beam_size
    best of all extensions (ties: the earlier hypothesis, then the smaller id). A kept extension by <eos> is
    finished and leaves the beam, which shrinks; the search stops when the beam is empty or after max_len steps.
    The winner among the finished (and, after max_len, the still live) hypotheses has the best
    score = log P / len ** alpha, len counting <eos>: alpha = 0 is the raw sum, alpha = 1 the mean per token.
    """
    _check_max_len(max_len)
    if isinstance(beam_size, bool) or not isinstance(beam_size, (int, np.integer)) or beam_size < 1:
        raise ValueError(f"beam_size must be an integer >= 1, got {beam_size!r}")
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    src = np.asarray(src)
    if src.ndim != 1:
        raise ValueError(f"src must be ONE sentence (S,), got shape {src.shape}")
    h = model.encode(src[None, :])                              # (1, H)
    tokens, logp = [[]], np.zeros(1)
    ids = np.array([SOS], dtype=np.int64)
    finished = []
    for _ in range(max_len):
        logits, h = model.decoder_step(ids, h)
        log_probs = _log_softmax(np.asarray(logits, dtype=np.float64))
        candidates = []                                  # (score, hypothesis, token) of every extension
        for i in range(len(tokens)):
            for w in range(log_probs.shape[1]):
                candidates.append((float(logp[i] + log_probs[i, w]), i, w))
        candidates.sort(key=lambda c: (-c[0], c[1], c[2]))   # best first; ties: earlier hypothesis, smaller id
        scores = {(i, w): score for score, i, w in candidates[:beam_size]}
        keep = []
        for score, i, w in candidates[:beam_size]:
            if w == EOS:
                finished.append((tokens[i], score, len(tokens[i]) + 1))
            else:
                keep.append((i, w))
        if not keep:
            break
        rows = np.array([i for i, _ in keep])
        tokens = [tokens[i] + [w] for i, w in keep]
        logp = np.array([scores[k] for k in keep])
        ids, h = np.array([w for _, w in keep], dtype=np.int64), h[rows]
    else:
        finished += [(t, float(s), len(t)) for t, s in zip(tokens, logp)]
    best_tokens, best_score = max(((t, s / n ** alpha) for t, s, n in finished), key=lambda ts: ts[1])
    return best_tokens, best_score


# ----------------------------------------------------------------------------------------------------
# Task 8: corpus BLEU
# ----------------------------------------------------------------------------------------------------

def _ngrams(tokens, n):
    counts = {}
    for i in range(len(tokens) - n + 1):
        gram = tuple(tokens[i:i + n])
        counts[gram] = counts.get(gram, 0) + 1
    return counts


def corpus_bleu(hypotheses, references, max_n=4):
    """BLEU of a corpus in [0, 1]: hypotheses [tokens], references [[tokens], ...] (one list per hypothesis).

    p_n = (n-grams of all hypotheses, each clipped to its largest count in one of its references) / (n-grams of
    all hypotheses); BP = 1 if c > r else exp(1 - r / c), c = total hypothesis length, r = the sum of the
    reference lengths closest to each hypothesis (ties: the shorter); BLEU = BP * exp(mean over n of log p_n).
    No smoothing: 0.0 when some p_n is 0 (or c = 0). As nltk's corpus_bleu and sacrebleu with smooth 'none'.
    """
    if isinstance(max_n, bool) or not isinstance(max_n, (int, np.integer)) or max_n < 1:
        raise ValueError(f"max_n must be an integer >= 1, got {max_n!r}")
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses but {len(references)} lists of references")
    matches, totals = np.zeros(max_n), np.zeros(max_n)
    c = r = 0
    for hyp, refs in zip(hypotheses, references):
        if isinstance(hyp, str) or not refs or any(isinstance(ref, str) for ref in refs):
            raise ValueError("each hypothesis is a token list, each entry of references a non-empty list of token lists")
        c += len(hyp)
        r += min((len(ref) for ref in refs), key=lambda n: (abs(n - len(hyp)), n))
        for n in range(1, max_n + 1):
            counts = _ngrams(hyp, n)
            ref_counts = [_ngrams(ref, n) for ref in refs]
            for gram, k in counts.items():
                most = max(rc.get(gram, 0) for rc in ref_counts)   # the largest count in ONE reference
                matches[n - 1] += min(k, most)                      # clipped
                totals[n - 1] += k
    if c == 0 or np.any(matches == 0):
        return 0.0
    bp = 1.0 if c > r else float(np.exp(1 - r / c))
    return bp * float(np.exp(np.mean(np.log(matches / totals))))
