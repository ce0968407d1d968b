"""Truncated-BPTT batches that break the contiguous streams: consecutive windows of the text are put side by
side in one batch (row i of batch k = window k * batch_size + i).

The hidden state carried from batch k to batch k+1 then belongs to a different part of the text than the
one row i now reads, so carrying it over teaches the model nothing (or worse)."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(18, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def tbptt_batches(ids, batch_size, seq_len):
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1 or batch_size < 1 or seq_len < 1:
        raise ValueError("bad arguments")
    n_windows = (len(ids) - 1) // seq_len
    for k in range(n_windows // batch_size):
        rows = [k * batch_size + i for i in range(batch_size)]
        x = np.stack([ids[r * seq_len:(r + 1) * seq_len] for r in rows])
        y = np.stack([ids[r * seq_len + 1:(r + 1) * seq_len + 1] for r in rows])
        yield x, y
