"""db averaged over the batch instead of summed: db = dout.sum(axis=(0, 2, 3)) / N.

The bias is added to every sample, so its gradient is the sum of the per-sample gradients; a 1/N belongs to
the loss (a mean loss already puts it into dout). Dividing again makes the bias learn N times too slowly."""

from dlfs.components import load_topic

_ref = load_topic(11, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def conv2d_backward(dout, cache):
    dx, dw, db = _ref.conv2d_backward(dout, cache)
    if db is not None:
        db = db / max(dx.shape[0], 1)        # averaged over the batch
    return dx, dw, db
