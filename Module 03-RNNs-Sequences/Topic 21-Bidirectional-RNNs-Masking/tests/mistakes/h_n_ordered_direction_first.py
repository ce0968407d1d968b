"""The stacked h_n ordered direction by direction ([l0 fwd, l1 fwd, l0 bwd, l1 bwd]) instead of torch's layer by layer.

torch.nn.GRU stores h_n[layer * directions + direction]; the other order runs, has the right shape, and swaps the
states of the middle layers, so h_n[-1] (the last layer's backward state, what a classifier often reads) is right
only for one layer."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(21, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def stacked_forward(x, lengths, h0, params, num_layers=1, bidirectional=False, cell="gru"):
    out, h_n, cache = _ref.stacked_forward(x, lengths, h0, params, num_layers, bidirectional, cell)
    K = 2 if bidirectional else 1
    wrong = [h_n[layer * K + k] for k in range(K) for layer in range(num_layers)]
    return out, np.stack(wrong), cache
