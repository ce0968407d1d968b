"""groups split along the wrong axis: the input channels are dealt out to the groups like cards (group g gets
channels g, g + G, g + 2G, ..., i.e. x.reshape(N, C_in // G, G, H, W)) instead of in contiguous blocks
(group g gets channels g*C_in/G .. (g+1)*C_in/G - 1, x.reshape(N, G, C_in // G, H, W), as PyTorch). The layer
is still a valid grouped convolution, with consistent gradients, but it is not the one whose weights you load."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(15, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def _dealt(C, G):
    """Channel order that puts channels g, g + G, g + 2G, ... into block g."""
    return np.arange(C).reshape(C // G, G).T.ravel()


def conv2d_forward(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    x = np.asarray(x)
    order = _dealt(x.shape[1], groups) if x.ndim == 4 and groups >= 1 and x.shape[1] % max(int(groups), 1) == 0 \
        else slice(None)
    out, cache = _ref.conv2d_forward(x[:, order], w, b, stride, padding, dilation, groups)
    cache["order"] = order
    return out, cache


def conv2d_backward(dout, cache):
    dx_dealt, dw, db = _ref.conv2d_backward(dout, cache)
    dx = np.empty_like(dx_dealt)
    dx[:, cache["order"]] = dx_dealt
    return dx, dw, db
