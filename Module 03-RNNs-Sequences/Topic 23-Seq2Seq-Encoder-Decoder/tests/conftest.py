"""Shared pieces of Topic 23's tests.

- `BigramModel`: a hand-built stand-in for a trained Seq2Seq, with the two methods the decoders use
  (`encode`, `decoder_step`). Its next-token probabilities depend only on the previous token (a table P), so the
  best sequence of a beam search can be worked out by hand.
- `fra_pairs`: the real English-French pairs, loaded once; skipped with one reason when they are not on this machine.
"""

import numpy as np
import pytest
from dlfs.testing import require_dataset

PAD, SOS, EOS, UNK = 0, 1, 2, 3


class BigramModel:
    """P[i] = the distribution of the next token after token i; the state is the one-hot of the last token."""

    def __init__(self, rows, V):
        self.P = np.full((V, V), 1e-6)
        for prev, dist in rows.items():
            for tok, p in dist.items():
                self.P[prev, tok] = p
        self.P /= self.P.sum(axis=1, keepdims=True)
        self.V, self.calls = V, 0

    def encode(self, src):
        src = np.asarray(src)
        h = np.zeros((src.shape[0], self.V))
        h[:, SOS] = 1.0
        return h

    def decoder_step(self, ids, h):
        self.calls += 1
        ids = np.asarray(ids)
        assert h.shape == (len(ids), self.V), f"decoder_step got a state of shape {h.shape} for {len(ids)} ids"
        h_new = np.zeros_like(h)
        h_new[np.arange(len(ids)), ids] = 1.0
        return np.log(self.P[ids]), h_new

    def logp(self, tokens):
        """log P(tokens | <sos>); include the final <eos> in tokens when there is one."""
        prev, total = SOS, 0.0
        for t in tokens:
            total += np.log(self.P[prev, t])
            prev = t
        return total


@pytest.fixture
def bigram():
    return BigramModel


@pytest.fixture(scope="session")
def fra_pairs():
    require_dataset("fra-eng")
    from dlfs.datasets import load_fra_eng

    return load_fra_eng()
