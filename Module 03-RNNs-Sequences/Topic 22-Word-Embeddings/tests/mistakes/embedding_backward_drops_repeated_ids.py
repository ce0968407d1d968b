"""The embedding backward pass as fancy-index assignment: dweight[ids] += dout.

NumPy buffers a fancy-indexed in-place add: when an id appears several times in ids, only ONE of its rows of dout
lands in dweight (the last one written), the others are silently lost. Every frequent word (a center in many pairs
of a batch) then gets a fraction of its gradient. np.add.at(dweight, ids, dout) adds them all."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(22, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 3


def embedding_backward(dout, cache):
    ids, (V, D), dtype = cache
    dout = np.asarray(dout)
    if dout.shape != ids.shape + (D,):
        raise ValueError(f"dout must have shape {ids.shape + (D,)}, got {dout.shape}")
    dweight = np.zeros((V, D), dtype=dtype)
    dweight[ids.ravel()] += dout.reshape(-1, D)                # repeated ids: only one copy survives
    return dweight
