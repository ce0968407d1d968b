"""The held-out split drawn over PAIRS instead of over English sentences.

"I'm OK." has two translations ("Je vais bien.", "Ça va."): shuffling the pairs puts one of them in training and
the other in the held-out set, so the model is tested on sentences it was trained on, and the held-out BLEU is
too good."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(23, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def split_pairs(pairs, held_out=0.1, seed=0):
    if not 0 <= held_out < 1:
        raise ValueError("held_out must be in [0, 1)")
    order = np.random.default_rng(seed).permutation(len(pairs))
    test = set(order[:round(held_out * len(pairs))].tolist())
    return ([p for i, p in enumerate(pairs) if i not in test], [p for i, p in enumerate(pairs) if i in test])
