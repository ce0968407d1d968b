"""
PyTorch Reference Implementation
- Used only for verification, not the solution: NumPy in, NumPy out, torch inside
- The encoder is torch.nn.Embedding + torch.nn.GRU(batch_first=True), the decoder torch.nn.Embedding +
  torch.nn.GRU on one step + torch.nn.Linear; their weights SHARE memory with Topic 03 Parameters (torch.from_numpy),
  so an optimizer updating .data updates the torch modules; backward is autograd
- The masked cross-entropy is torch.nn.functional.cross_entropy(reduction="sum") on the real positions / their count
- pad_batch is torch.nn.utils.rnn.pad_sequence; the data preparation and BLEU (no torch counterpart) are written
  independently of the other levels, BLEU with exact fractions as nltk does
- Run `python level04-pytorch-reference.py --make-golden` to write tests/golden/*.npz
"""

from __future__ import annotations

import argparse
import math
import re
from fractions import Fraction

import numpy as np
import torch
import torch.nn.functional as F
from dlfs.components import load_topic
from dlfs.reference import one_torch_thread, write_golden
from torch import nn

optim = load_topic(3)  # Topic 03: Parameter (.data, .grad)
gru = load_topic(20)   # Topic 20's GRU layer: the same initial weights as the other levels
emb = load_topic(22)   # Topic 22's Embedding layer: the same initial rows

PAD, SOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")
ENG_PREFIXES = ("i am", "i'm", "he is", "he's", "she is", "she's", "you are", "you're", "we are", "we're",
                "they are", "they're")
TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
NAMES = ("enc_embed", "enc_weight_ih", "enc_weight_hh", "enc_bias_ih", "enc_bias_hh",
         "dec_embed", "dec_weight_ih", "dec_weight_hh", "dec_bias_ih", "dec_bias_hh", "out_weight", "out_bias")


def _is_size(v, low=1):
    return not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= low


def _ids(a, V, what, ndim=None):
    a = np.asarray(a)
    if a.size == 0 and a.dtype == np.float64:
        a = a.astype(np.int64)
    if not np.issubdtype(a.dtype, np.integer) or (ndim is not None and a.ndim != ndim):
        raise ValueError(f"{what} must be {ndim or 'n'}-D integers, got {a.dtype} {a.shape}")
    if a.size and (a.min() < 0 or (V is not None and a.max() >= V)):
        raise ValueError(f"{what} must lie in [0, {V})")
    return a.astype(np.int64, copy=False)


# ----------------------------------------------------------------------------------------------------
# Task 1: data
# ----------------------------------------------------------------------------------------------------

def tokenize(sentence):
    if not isinstance(sentence, str):
        raise ValueError("tokenize expects a str")  # noqa: TRY004 (one error type for every bad argument)
    return TOKEN.findall(sentence.lower())


class Vocab:
    def __init__(self, sentences, min_count=1):
        if isinstance(sentences, str) or any(isinstance(s, str) for s in sentences):
            raise ValueError("Vocab expects a list of token lists")
        if not _is_size(min_count):
            raise ValueError(f"min_count must be an integer >= 1, got {min_count!r}")
        counts = {}
        for s in sentences:
            for w in s:
                if w not in SPECIALS:
                    counts[w] = counts.get(w, 0) + 1
        kept = sorted((w for w in counts if counts[w] >= min_count), key=lambda w: (-counts[w], w))
        self.words = list(SPECIALS) + kept
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self):
        return len(self.words)

    def encode(self, tokens):
        return np.array([self.index.get(w, UNK) for w in tokens] + [EOS], dtype=np.int64)

    def decode(self, ids):
        ids = _ids(ids, len(self), "ids").ravel().tolist()
        ids = ids[:ids.index(EOS)] if EOS in ids else ids
        return [self.words[i] for i in ids if i not in (PAD, SOS)]


def filter_pairs(pairs, max_len=10, prefixes=ENG_PREFIXES):
    if not _is_size(max_len):
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
    out = []
    for en, fr in pairs:
        e, f = tokenize(en), tokenize(fr)
        joined = " ".join(e) + " "
        if 0 < len(e) <= max_len and 0 < len(f) <= max_len and (not prefixes or any(joined.startswith(p + " ")
                                                                                    for p in prefixes)):
            out.append((e, f))
    return out


def split_pairs(pairs, held_out=0.1, seed=0):
    if not 0 <= held_out < 1:
        raise ValueError(f"held_out must be in [0, 1), got {held_out!r}")
    english, seen = [], set()
    for e, _ in pairs:
        if tuple(e) not in seen:
            seen.add(tuple(e))
            english.append(tuple(e))
    order = np.random.default_rng(seed).permutation(len(english))
    test_en = {english[i] for i in order[:round(held_out * len(english))]}
    train = [p for p in pairs if tuple(p[0]) not in test_en]
    seen_fr = {tuple(f) for _, f in train}
    return train, [p for p in pairs if tuple(p[0]) in test_en and tuple(p[1]) not in seen_fr]


# ----------------------------------------------------------------------------------------------------
# Task 2: padding with torch.nn.utils.rnn.pad_sequence
# ----------------------------------------------------------------------------------------------------

def pad_batch(sequences, pad_id=PAD):
    seqs = [torch.from_numpy(_ids(s, None, "each sequence", ndim=1).copy()) for s in sequences]
    if any(bool((s == pad_id).any()) for s in seqs):
        raise ValueError(f"a sequence contains the padding id {pad_id}")
    if not seqs:
        return np.zeros((0, 0), dtype=np.int64), np.zeros((0, 0), dtype=bool)
    ids = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=pad_id)
    lengths = torch.tensor([len(s) for s in seqs])
    mask = torch.arange(ids.shape[1])[None, :] < lengths[:, None]
    return ids.numpy().astype(np.int64), mask.numpy()


# ----------------------------------------------------------------------------------------------------
# Task 3: the masked cross-entropy with torch.nn.functional.cross_entropy
# ----------------------------------------------------------------------------------------------------

def _mce_torch(logits_t, targets_t, mask_t):
    n_real = int(mask_t.sum())
    total = F.cross_entropy(logits_t[mask_t], targets_t[mask_t], reduction="sum")
    return total / max(n_real, 1)


def masked_cross_entropy(logits, targets, mask):
    logits, mask = np.asarray(logits), np.asarray(mask)
    if logits.ndim != 3 or not np.issubdtype(logits.dtype, np.floating):
        raise ValueError(f"logits must be a float array (B, T, V), got {logits.dtype} {logits.shape}")
    targets = _ids(targets, logits.shape[2], "targets")
    if targets.shape != logits.shape[:2] or mask.shape != logits.shape[:2] or mask.dtype != np.bool_:
        raise ValueError("targets and mask (bool) must both be (B, T)")
    with one_torch_thread():
        lt = torch.from_numpy(np.ascontiguousarray(logits)).requires_grad_(True)
        loss = _mce_torch(lt, torch.from_numpy(targets), torch.from_numpy(mask))
    return float(loss.detach()), (lt, loss)


def masked_cross_entropy_backward(dloss, cache):
    lt, loss = cache
    with one_torch_thread():
        (g,) = torch.autograd.grad(loss, lt, torch.tensor(float(dloss), dtype=loss.dtype), retain_graph=True)
    return g.numpy()


# ----------------------------------------------------------------------------------------------------
# Tasks 4 to 6: the model on torch modules sharing the Parameters' memory
# ----------------------------------------------------------------------------------------------------

class Seq2Seq:
    def __init__(self, src_vocab_size, tgt_vocab_size, embed_size, hidden_size, rng=None, dtype=np.float32):
        for name, v in (("src_vocab_size", src_vocab_size), ("tgt_vocab_size", tgt_vocab_size),
                        ("embed_size", embed_size), ("hidden_size", hidden_size)):
            if not _is_size(v):
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        rng = np.random.default_rng(rng)
        layers = [emb.Embedding(src_vocab_size, embed_size, rng=rng, dtype=dtype),
                  gru.GRU(embed_size, hidden_size, rng=rng, dtype=dtype),
                  emb.Embedding(tgt_vocab_size, embed_size, rng=rng, dtype=dtype),
                  gru.GRU(embed_size, hidden_size, rng=rng, dtype=dtype)]
        bound = 1.0 / np.sqrt(hidden_size)
        out_w = optim.Parameter(rng.uniform(-bound, bound, (tgt_vocab_size, hidden_size)).astype(dtype))
        out_b = optim.Parameter(rng.uniform(-bound, bound, tgt_vocab_size).astype(dtype))
        self._params = layers[0].parameters() + layers[1].parameters() + layers[2].parameters() \
            + layers[3].parameters() + [out_w, out_b]
        self.src_vocab_size, self.tgt_vocab_size, self.hidden_size = src_vocab_size, tgt_vocab_size, hidden_size
        self.enc_embed = nn.Embedding(src_vocab_size, embed_size)
        self.encoder = nn.GRU(embed_size, hidden_size, batch_first=True)
        self.dec_embed = nn.Embedding(tgt_vocab_size, embed_size)
        self.decoder = nn.GRU(embed_size, hidden_size, batch_first=True)
        self.out = nn.Linear(hidden_size, tgt_vocab_size)
        slots = [(self.enc_embed, "weight")] + [(self.encoder, f"{k}_l0") for k in gru.GRU.NAMES] \
            + [(self.dec_embed, "weight")] + [(self.decoder, f"{k}_l0") for k in gru.GRU.NAMES] \
            + [(self.out, "weight"), (self.out, "bias")]
        self._torch = []
        for (module, name), p in zip(slots, self._params):
            t = nn.Parameter(torch.from_numpy(p.data))   # shares memory with p.data
            setattr(module, name, t)
            self._torch.append(t)
        self._loss = None

    def parameters(self):
        return list(self._params)

    def state_dict(self):
        return {n: p.data.copy() for n, p in zip(NAMES, self._params)}

    def load_state_dict(self, state):
        if set(state) != set(NAMES):
            raise ValueError(f"state_dict keys {sorted(state)} != expected {sorted(NAMES)}")
        for n, p in zip(NAMES, self._params):
            if np.shape(state[n]) != p.data.shape:
                raise ValueError(f"state_dict[{n!r}] has shape {np.shape(state[n])}, expected {p.data.shape}")
        for n, p in zip(NAMES, self._params):
            p.data[...] = state[n]

    def _context(self, src):
        src = _ids(src, self.src_vocab_size, "src", ndim=2)
        lengths = (src != PAD).sum(axis=1)
        if src.shape[1] == 0 or np.any(lengths == 0) or np.any((src != PAD) != (np.arange(src.shape[1]) < lengths[:, None])):
            raise ValueError("src rows must be right-padded with at least one real token")
        hs, _ = self.encoder(self.enc_embed(torch.from_numpy(src)))
        return hs[torch.arange(src.shape[0]), torch.from_numpy(lengths - 1)]

    def encode(self, src):
        with torch.no_grad(), one_torch_thread():
            return self._context(src).numpy()

    def _step(self, ids_t, h):
        out, h_new = self.decoder(self.dec_embed(ids_t)[:, None, :], h[None])
        return self.out(out[:, 0]), h_new[0]

    def decoder_step(self, ids, h):
        ids = _ids(ids, self.tgt_vocab_size, "ids", ndim=1)
        h = np.asarray(h)
        if h.shape != (ids.shape[0], self.hidden_size):
            raise ValueError(f"h must have shape ({ids.shape[0]}, {self.hidden_size}), got {h.shape}")
        with torch.no_grad(), one_torch_thread():
            logits, h_new = self._step(torch.from_numpy(ids), torch.from_numpy(np.ascontiguousarray(h)))
        return logits.numpy(), h_new.numpy()

    def loss(self, src, tgt, teacher_forcing=1.0, rng=None):
        if not 0.0 <= teacher_forcing <= 1.0:
            raise ValueError(f"teacher_forcing must be in [0, 1], got {teacher_forcing!r}")
        with one_torch_thread():
            h = self._context(src)
            tgt = _ids(tgt, self.tgt_vocab_size, "tgt", ndim=2)
            if tgt.shape[0] != h.shape[0] or tgt.shape[1] == 0:
                raise ValueError("tgt must be (B, T) with the batch of src and T >= 1")
            tgt_t = torch.from_numpy(tgt)
            rng = np.random.default_rng(rng)
            ids_t, logits, forced = torch.full((tgt.shape[0],), SOS, dtype=torch.int64), [], []
            for t in range(tgt.shape[1]):
                if t > 0:
                    forced.append(bool(rng.random() < teacher_forcing))
                    ids_t = tgt_t[:, t - 1] if forced[-1] else logits[-1].detach().argmax(dim=1)
                step_logits, h = self._step(ids_t, h)
                logits.append(step_logits)
            self._loss = _mce_torch(torch.stack(logits, dim=1), tgt_t, tgt_t != PAD)
        self.teacher_forced = forced
        return float(self._loss.detach())

    def backward(self):
        if self._loss is None:
            raise RuntimeError("backward called before loss")
        with one_torch_thread():
            grads = torch.autograd.grad(self._loss, self._torch, allow_unused=True, retain_graph=True)
        for p, g in zip(self._params, grads):
            if g is not None:
                p.grad += g.numpy()


# ----------------------------------------------------------------------------------------------------
# Task 7: decoding (torch.topk over the flattened scores of the beam)
# ----------------------------------------------------------------------------------------------------

def greedy_decode(model, src, max_len=20):
    if not _is_size(max_len):
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
    h = model.encode(src)
    out, alive = [[] for _ in range(h.shape[0])], [True] * h.shape[0]
    ids = np.full(h.shape[0], SOS, dtype=np.int64)
    for _ in range(max_len):
        logits, h = model.decoder_step(ids, h)
        ids = torch.from_numpy(np.asarray(logits)).argmax(dim=1).numpy()   # torch: the first maximum
        for b, w in enumerate(ids):
            if alive[b]:
                alive[b] = w != EOS
                if alive[b]:
                    out[b].append(int(w))
        if not any(alive):
            break
    return out


def beam_search(model, src, beam_size=5, max_len=20, alpha=1.0):
    if not _is_size(max_len) or not _is_size(beam_size):
        raise ValueError("beam_size and max_len must be integers >= 1")
    if not alpha >= 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}")
    src = np.asarray(src)
    if src.ndim != 1:
        raise ValueError(f"src must be one sentence (S,), got {src.shape}")
    h = model.encode(src[None])
    beam, finished = [([], 0.0)], []
    ids = np.array([SOS], dtype=np.int64)
    for _ in range(max_len):
        logits, h = model.decoder_step(ids, h)
        logp = torch.log_softmax(torch.from_numpy(np.asarray(logits, dtype=np.float64)), dim=1)
        scores = torch.tensor([s for _, s in beam], dtype=torch.float64)[:, None] + logp
        flat = scores.flatten()
        # sort by score, ties by flat index (hypothesis, then token): a stable descending sort
        order = torch.sort(flat, descending=True, stable=True).indices[:beam_size].tolist()
        new_beam, rows = [], []
        for k in order:
            i, w = divmod(k, scores.shape[1])
            if w == EOS:
                finished.append((beam[i][0], float(flat[k]), len(beam[i][0]) + 1))
            else:
                new_beam.append((beam[i][0] + [w], float(flat[k])))
                rows.append(i)
        if not new_beam:
            beam = []
            break
        beam, h, ids = new_beam, h[rows], np.array([t[-1] for t, _ in new_beam], dtype=np.int64)
    finished += [(t, s, len(t)) for t, s in beam]
    best = max(finished, key=lambda f: f[1] / f[2] ** alpha)
    return best[0], best[1] / best[2] ** alpha


# ----------------------------------------------------------------------------------------------------
# Task 8: corpus BLEU with exact fractions, nltk's way
# ----------------------------------------------------------------------------------------------------

def corpus_bleu(hypotheses, references, max_n=4):
    if not _is_size(max_n):
        raise ValueError(f"max_n must be an integer >= 1, got {max_n!r}")
    if len(hypotheses) != len(references):
        raise ValueError("one list of references per hypothesis")
    num, den = [0] * max_n, [0] * max_n
    c = r = 0
    for hyp, refs in zip(hypotheses, references):
        if isinstance(hyp, str) or not refs or any(isinstance(x, str) for x in refs):
            raise ValueError("hypotheses are token lists, references non-empty lists of token lists")
        c += len(hyp)
        r += min((abs(len(x) - len(hyp)), len(x)) for x in refs)[1]   # closest, ties: shorter
        for n in range(1, max_n + 1):
            grams = [tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1)]
            for g in set(grams):
                best = max(sum(tuple(x[i:i + n]) == g for i in range(len(x) - n + 1)) for x in refs)
                num[n - 1] += min(grams.count(g), best)
            den[n - 1] += len(grams)
    if c == 0 or 0 in num:
        return 0.0
    p = [Fraction(a, b) for a, b in zip(num, den)]
    bp = 1.0 if c > r else math.exp(1 - r / c)
    return bp * math.exp(sum(math.log(x) for x in p) / max_n)


# ----------------------------------------------------------------------------------------------------
# Golden files
# ----------------------------------------------------------------------------------------------------

def _ragged(lists):
    """Id lists as one (B, max length) array padded with -1 (a decoded id may be any id, <pad> included)."""
    out = np.full((len(lists), max(map(len, lists), default=0)), -1, dtype=np.int64)
    for b, ids in enumerate(lists):
        out[b, :len(ids)] = ids
    return out


def _golden_case(seed, Vs, Vt, E, H, src_lens, tgt_lens):
    rng = np.random.default_rng(seed)
    src = [rng.integers(4, Vs, n - 1).tolist() + [EOS] for n in src_lens]
    tgt = [rng.integers(3, Vt, n - 1).tolist() + [EOS] for n in tgt_lens]
    src, _ = pad_batch(src)
    tgt, _ = pad_batch(tgt)
    model = Seq2Seq(Vs, Vt, E, H, rng=seed, dtype=np.float64)
    for p in model.parameters():  # larger weights than PyTorch's init: the decoding decisions are clear-cut
        p.data *= 2.0
    out = {"src": src, "tgt": tgt, **{f"w_{n}": v for n, v in model.state_dict().items()}}
    for name, tf in (("forced", 1.0), ("half", 0.5), ("free", 0.0)):
        for p in model.parameters():
            p.zero_grad()
        out[f"loss_{name}"] = np.array(model.loss(src, tgt, teacher_forcing=tf, rng=seed + 10))
        out[f"steps_{name}"] = np.array(model.teacher_forced, dtype=bool)
        model.backward()
        out.update({f"g_{name}_{n}": p.grad.copy() for n, p in zip(NAMES, model.parameters())})
    out["context"] = model.encode(src)
    ids = np.arange(len(tgt)) % Vt
    out["step_ids"], out["step_h"] = ids, np.random.default_rng(seed + 1).standard_normal((len(tgt), H))
    out["step_logits"], out["step_h_new"] = model.decoder_step(ids, out["step_h"])
    greedy = greedy_decode(model, src, max_len=8)
    out["greedy"] = _ragged(greedy)
    beams = [beam_search(model, row[row != PAD], beam_size=3, max_len=8, alpha=0.7) for row in src]
    out["beam3"] = _ragged([b for b, _ in beams])
    out["beam3_score"] = np.array([s for _, s in beams])
    return out


def make_golden():
    """{file name: {array name: array}}: weights, losses at three teacher-forcing ratios, all gradients, decodes."""
    files = {"seq2seq_small": _golden_case(0, 9, 11, 4, 5, (4, 2, 5), (3, 6, 2)),
             "seq2seq_long": _golden_case(1, 15, 13, 6, 7, (9, 3, 7, 12), (10, 4, 8, 5))}
    rng = np.random.default_rng(5)
    logits = rng.standard_normal((3, 4, 6)) * 3
    targets = rng.integers(0, 6, (3, 4))
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=bool)
    loss, cache = masked_cross_entropy(logits, targets, mask)
    files["masked_ce"] = {"logits": logits, "targets": targets, "mask": mask, "loss": np.array(loss),
                          "dlogits": masked_cross_entropy_backward(1.0, cache)}
    return files


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Topic 23 PyTorch reference; --make-golden writes tests/golden/*.npz")
    parser.add_argument("--make-golden", action="store_true")
    args = parser.parse_args()
    if args.make_golden:
        write_golden(make_golden(), __file__)
    model = Seq2Seq(10, 12, 8, 16, rng=0)
    src, _ = pad_batch([[4, 5, 2], [6, 2]])
    tgt, _ = pad_batch([[7, 8, 9, 2], [5, 2]])
    print("loss", model.loss(src, tgt), "greedy", greedy_decode(model, src, 5))
