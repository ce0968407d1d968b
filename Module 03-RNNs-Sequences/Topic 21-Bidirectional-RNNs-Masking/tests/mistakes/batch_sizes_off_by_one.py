"""batch_sizes[t] counts the sequences with lengths >= t instead of lengths > t (the ones that HAVE a step t).

Step 0 and step 1 then both claim all N sequences, the counts add up to more than sum(lengths), and the packed
data no longer matches its batch sizes. The data rows themselves are right."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(21, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=True):
    p = _ref.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
    sorted_lengths = np.sort(np.asarray(lengths))[::-1]
    wrong = (sorted_lengths[None, :] >= np.arange(sorted_lengths[0])[:, None]).sum(axis=1)
    return _ref.PackedSequence(p.data, wrong.astype(np.int64), p.sorted_indices, p.unsorted_indices)
