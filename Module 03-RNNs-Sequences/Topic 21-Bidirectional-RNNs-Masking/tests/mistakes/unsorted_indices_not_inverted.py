"""unsorted_indices set equal to sorted_indices instead of its inverse permutation.

When the sort is its own inverse (lengths (2, 4, 1): order (1, 0, 2)) this is right by luck; for lengths
(1, 3, 2) the order is (1, 2, 0), its inverse (2, 0, 1), and unpacking puts the sequences in the wrong rows."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(21, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=True):
    p = _ref.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    if p.sorted_indices is None:
        return p
    return _ref.PackedSequence(p.data, p.batch_sizes, p.sorted_indices, np.array(p.sorted_indices))
