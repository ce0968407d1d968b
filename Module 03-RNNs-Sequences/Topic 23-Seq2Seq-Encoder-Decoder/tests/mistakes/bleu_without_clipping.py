"""Corpus BLEU counting every hypothesis n-gram that occurs in a reference, without clipping.

"the the the the the the the" against "the cat is on the mat" then has a unigram precision of 7/7 instead of 2/7:
the exact loophole the BLEU paper closed with the modified (clipped) n-gram precision. A model that repeats its
most frequent word is rewarded."""

from collections import Counter

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


def corpus_bleu(hypotheses, references, max_n=4):
    if isinstance(max_n, bool) or not isinstance(max_n, (int, np.integer)) or max_n < 1:
        raise ValueError("max_n must be an integer >= 1")
    if len(hypotheses) != len(references):
        raise ValueError("one list of references per hypothesis")
    matches, totals = np.zeros(max_n), np.zeros(max_n)
    c = r = 0
    for hyp, refs in zip(hypotheses, references):
        if isinstance(hyp, str) or not refs or any(isinstance(ref, str) for ref in refs):
            raise ValueError("token lists expected")
        c += len(hyp)
        r += min((len(ref) for ref in refs), key=lambda n: (abs(n - len(hyp)), n))
        for n in range(1, max_n + 1):
            counts = _ref._ngrams(hyp, n)
            seen = Counter()
            for ref in refs:
                seen |= _ref._ngrams(ref, n)
            matches[n - 1] += sum(k for gram, k in counts.items() if gram in seen)   # not clipped
            totals[n - 1] += sum(counts.values())
    if c == 0 or np.any(matches == 0):
        return 0.0
    bp = 1.0 if c > r else float(np.exp(1 - r / c))
    return bp * float(np.exp(np.mean(np.log(matches / totals))))
