"""h_n taken as hs[:, T - 1], the last column of the padded batch, instead of each sequence's last real step.

For every sequence shorter than T that column is padding (zeros), so h_n is 0 there; a classifier reading h_n
then sees nothing of the short sequences. The outputs hs themselves are right."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(21, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def masked_forward(x, lengths, h0, weight_ih, weight_hh, bias_ih, bias_hh, cell="gru"):
    hs, _, cache = _ref.masked_forward(x, lengths, h0, weight_ih, weight_hh, bias_ih, bias_hh, cell=cell)
    return hs, np.asarray(hs)[:, -1].copy(), cache
