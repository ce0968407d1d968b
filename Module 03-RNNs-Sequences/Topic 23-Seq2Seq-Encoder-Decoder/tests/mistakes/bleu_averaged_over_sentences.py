"""Corpus BLEU as the mean of the sentence BLEUs.

Each sentence's precisions and brevity penalty are computed on its own, then the scores are averaged. That is
another metric: one short sentence without a 4-gram match scores 0 and drags the mean down, where the corpus
statistic sums the n-gram counts of all sentences before dividing (nltk's docstring shows the two differ)."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def corpus_bleu(hypotheses, references, max_n=4):
    if len(hypotheses) != len(references):
        raise ValueError("one list of references per hypothesis")
    if not hypotheses:
        return _ref.corpus_bleu(hypotheses, references, max_n)
    return float(np.mean([_ref.corpus_bleu([h], [r], max_n) for h, r in zip(hypotheses, references)]))
