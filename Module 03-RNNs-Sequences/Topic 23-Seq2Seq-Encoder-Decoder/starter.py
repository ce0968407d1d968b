"""
Topic 23: Seq2Seq Encoder-Decoder - your implementation.

Copy this file to solution.py (in this folder) and fill in every function; the tasks are described in
questions.md. Check your work with:

    python utils/test_runner.py --day 23

Conventions:
    ids are int64; <pad> = 0, <sos> = 1, <eos> = 2, <unk> = 3 in both vocabularies; batches are right-padded
    src (B, S), tgt (B, T): every sentence ends with <eos>; mask = ids != <pad>
    the encoder (embedding + GRU) reads src; its state after each sentence's LAST REAL token is the context
    the decoder (embedding + GRU + linear) starts from the context, reads <sos> first, predicts tgt[:, t] at step t
Every float function keeps the dtype of its inputs (float32 stays float32) and never modifies them; wrong shapes
are a ValueError, never a silent broadcast.
"""

from __future__ import annotations

import re

import numpy as np
from dlfs.components import load_topic

optim = load_topic(3)  # Topic 03: Parameter (.data, .grad)
gru = load_topic(20)   # Topic 20: GRU layer, gru_forward/backward, gru_step_forward/backward
emb = load_topic(22)   # Topic 22: Embedding layer, embedding_forward/backward

PAD, SOS, EOS, UNK = 0, 1, 2, 3
SPECIALS = ("<pad>", "<sos>", "<eos>", "<unk>")
ENG_PREFIXES = ("i am", "i'm", "he is", "he's", "she is", "she's", "you are", "you're", "we are", "we're",
                "they are", "they're")
TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")  # words (with inner apostrophes) or one punctuation mark
NAMES = ("enc_embed", "enc_weight_ih", "enc_weight_hh", "enc_bias_ih", "enc_bias_hh",
         "dec_embed", "dec_weight_ih", "dec_weight_hh", "dec_bias_ih", "dec_bias_hh", "out_weight", "out_bias")


# ----------------------------------------------------------------------------------------------------
# Task 1: tokens, vocabularies, the filter and the held-out split
# ----------------------------------------------------------------------------------------------------

def tokenize(sentence):
    """Lowercase tokens of one sentence: TOKEN.findall(sentence.lower()). ValueError if sentence is not a str."""
    raise NotImplementedError("Task 1: tokenize (see questions.md)")


class Vocab:
    """SPECIALS at ids 0-3, then the words seen >= min_count times, by count (descending), ties alphabetically."""

    def __init__(self, sentences, min_count=1):
        """sentences: a list of token lists. Keep .words (list) and .index ({word: id})."""
        raise NotImplementedError("Task 1: Vocab (see questions.md)")

    def __len__(self):
        raise NotImplementedError("Task 1: Vocab.__len__")

    def encode(self, tokens):
        """int64 ids of the tokens (<unk> for unknown words) followed by <eos>."""
        raise NotImplementedError("Task 1: Vocab.encode")

    def decode(self, ids):
        """The words up to the first <eos> (excluded), <pad> and <sos> skipped; ValueError for ids outside the vocab."""
        raise NotImplementedError("Task 1: Vocab.decode")


def filter_pairs(pairs, max_len=10, prefixes=ENG_PREFIXES):
    """[(english, french)] -> [(english tokens, french tokens)]: 1..max_len tokens on both sides, English prefix."""
    raise NotImplementedError("Task 1: filter_pairs (see questions.md)")


def split_pairs(pairs, held_out=0.1, seed=0):
    """(train, held_out) pairs: whole English sentences held out, no sentence (either side) in both."""
    raise NotImplementedError("Task 1: split_pairs (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 2: a padded batch and its mask
# ----------------------------------------------------------------------------------------------------

def pad_batch(sequences, pad_id=PAD):
    """B id sequences -> (ids (B, T) int64 right-padded with pad_id, mask (B, T) bool True on real tokens)."""
    raise NotImplementedError("Task 2: pad_batch (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 3: the masked cross-entropy
# ----------------------------------------------------------------------------------------------------

def masked_cross_entropy(logits, targets, mask):
    """logits (B, T, V), targets (B, T), mask (B, T) bool -> (mean over real tokens of -log softmax, cache)."""
    raise NotImplementedError("Task 3: masked_cross_entropy (see questions.md)")


def masked_cross_entropy_backward(dloss, cache):
    """dloss (a scalar) -> dlogits (B, T, V), zero at padded positions."""
    raise NotImplementedError("Task 3: masked_cross_entropy_backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Tasks 4 to 6: the encoder-decoder
# ----------------------------------------------------------------------------------------------------

class Seq2Seq:
    """Encoder (Embedding + GRU) -> context -> decoder (Embedding + GRU + linear out_weight, out_bias)."""

    def __init__(self, src_vocab_size, tgt_vocab_size, embed_size, hidden_size, rng=None, dtype=np.float32):
        """rng = np.random.default_rng(rng), then in this order: emb.Embedding(src_vocab_size, embed_size, rng),
        gru.GRU(embed_size, hidden_size, rng), emb.Embedding(tgt_vocab_size, ...), gru.GRU(...), out_weight
        (tgt_vocab_size, hidden_size) and out_bias (tgt_vocab_size,) from U(-1/sqrt(H), 1/sqrt(H)).
        Raises ValueError when a size is not an integer >= 1."""
        raise NotImplementedError("Task 4: Seq2Seq.__init__ (see questions.md)")

    def parameters(self):
        """The 12 Parameters in the order of NAMES."""
        raise NotImplementedError("Task 4: Seq2Seq.parameters")

    def state_dict(self):
        """{name of NAMES: a copy of that parameter's data}."""
        raise NotImplementedError("Task 4: Seq2Seq.state_dict")

    def load_state_dict(self, state):
        """Write every array IN PLACE; ValueError (nothing changed) on missing/extra keys or wrong shapes."""
        raise NotImplementedError("Task 4: Seq2Seq.load_state_dict")

    def encode(self, src):
        """src (B, S) right-padded -> context (B, H): the encoder state after each sentence's last real token."""
        raise NotImplementedError("Task 4: Seq2Seq.encode (see questions.md)")

    def decoder_step(self, ids, h):
        """ids (B,), h (B, H) -> (logits (B, V_tgt), h_new (B, H)): embedding, one GRU step, the linear layer."""
        raise NotImplementedError("Task 5: Seq2Seq.decoder_step (see questions.md)")

    def loss(self, src, tgt, teacher_forcing=1.0, rng=None):
        """The masked mean cross-entropy of tgt (a float); one rng.random() per step t >= 1 decides teacher forcing.
        Keep the flags of steps 1..T-1 in self.teacher_forced and what backward() needs."""
        raise NotImplementedError("Task 6: Seq2Seq.loss (see questions.md)")

    def backward(self):
        """ADD the gradients of the last loss() into every parameter's .grad; RuntimeError before any loss()."""
        raise NotImplementedError("Task 6: Seq2Seq.backward (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 7: greedy decoding and beam search
# ----------------------------------------------------------------------------------------------------

def greedy_decode(model, src, max_len=20):
    """src (B, S) -> B lists of ids (without <eos>): the argmax fed back each step, until <eos> or max_len."""
    raise NotImplementedError("Task 7: greedy_decode (see questions.md)")


def beam_search(model, src, beam_size=5, max_len=20, alpha=1.0):
    """src (S,) -> (ids without <eos>, score = log P / len ** alpha with <eos> counted in len)."""
    raise NotImplementedError("Task 7: beam_search (see questions.md)")


# ----------------------------------------------------------------------------------------------------
# Task 8: corpus BLEU
# ----------------------------------------------------------------------------------------------------

def corpus_bleu(hypotheses, references, max_n=4):
    """Corpus BLEU in [0, 1], clipped n-gram counts summed over the corpus, closest-length brevity penalty."""
    raise NotImplementedError("Task 8: corpus_bleu (see questions.md)")
