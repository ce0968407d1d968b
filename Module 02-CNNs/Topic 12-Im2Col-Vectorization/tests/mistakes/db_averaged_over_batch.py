"""db averaged instead of summed: db = dout.mean(axis=(0, 2, 3)).

The bias is added at every position of every image, so its gradient is the SUM of dout over the batch and
the positions; the 1/N of a mean loss is already inside dout. Averaging again makes the bias learn
N * H_out * W_out times too slowly."""

from dlfs.components import load_topic

_ref = load_topic(12, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def conv2d_backward(dout, cache):
    dx, dw, db = _ref.conv2d_backward(dout, cache)
    if db is not None:
        db = _ref.np.asarray(dout, dtype=db.dtype).mean(axis=(0, 2, 3))      # a mean, not a sum
    return dx, dw, db
