"""The backward direction reverses the whole padded row (x[:, ::-1]) and runs over all T steps.

The classic bidirectional bug: for a sequence shorter than T the backward direction first reads the padding,
so its state at the last real step is not one step from h0, h_n[1] has seen T - L steps of zeros, and the
outputs differ from torch's packed bidirectional GRU. The outputs at padded steps are still zeroed, so it runs."""

import numpy as np
from dlfs.components import load_topic

_ref = load_topic(21, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def bidirectional_forward(x, lengths, h0, weights_fwd, weights_bwd, cell="gru"):
    x, h0 = np.asarray(x), np.asarray(h0)
    N, T = x.shape[:2]
    hs_f, hn_f, cache_f = _ref.masked_forward(x, lengths, h0[0], *weights_fwd, cell=cell)
    hs_r, hn_b, cache_b = _ref.masked_forward(x[:, ::-1], np.full(N, T), h0[1], *weights_bwd, cell=cell)
    mask = _ref.sequence_mask(lengths, T)[:, :, None]
    out = np.concatenate([hs_f, np.where(mask, hs_r[:, ::-1], 0)], axis=2)
    return out, np.stack([hn_f, hn_b]), (cache_f, cache_b, mask, hs_f.shape[2])


def bidirectional_backward(dout, cache, dh_n=None):
    cache_f, cache_b, mask, H = cache
    dout = np.asarray(dout)
    dx_f, dh0_f, *g_f = _ref.masked_backward(dout[:, :, :H], cache_f, None if dh_n is None else dh_n[0])
    dx_r, dh0_b, *g_b = _ref.masked_backward(np.where(mask, dout[:, :, H:], 0)[:, ::-1], cache_b,
                                             None if dh_n is None else dh_n[1])
    return dx_f + dx_r[:, ::-1], np.stack([dh0_f, dh0_b]), tuple(g_f), tuple(g_b)
