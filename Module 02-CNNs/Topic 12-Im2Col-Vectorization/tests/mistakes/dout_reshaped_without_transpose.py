"""In the backward pass dout (N, C_out, H_out, W_out) reshaped straight to (C_out, N * H_out * W_out).

dout_mat must have the column order of cols, (n, ho, wo): first swap the batch and channel axes, then
reshape. Without the swap the shapes still fit, dw and dx are computed from a scrambled gradient, and
only a batch of one image (N = 1) comes out right."""

from dlfs.components import load_topic

_ref = load_topic(12, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def conv2d_backward(dout, cache):
    dout = _ref._check_dout(dout, cache)
    w, cols, stride, pads = cache["w"], cache["cols"], cache["stride"], cache["pads"]
    C_out, kh, kw = w.shape[0], w.shape[2], w.shape[3]
    dout_mat = dout.reshape(C_out, -1)                          # no transpose(1, 0, 2, 3) first
    dw = (dout_mat @ cols.T).reshape(w.shape)
    dx = _ref.col2im(w.reshape(C_out, -1).T @ dout_mat, cache["x_shape"], kh, kw, stride, pads)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    return dx, dw, db
