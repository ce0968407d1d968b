"""Topic 12 basic tests: the column layout (by hand and against F.unfold), col2im (overlaps, padding, adjoint,
F.fold), the convolution as one matrix product (by hand, PyTorch's golden values), gradients, the layer."""

import math

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape

X33 = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)        # [[1, 2, 3], [4, 5, 6], [7, 8, 9]]

# (x shape, w shape, stride, padding) for the gradient checks: every argument at a non-default value
GRADIENT_CASES = {
    "stride2_pad1_nonsquare_kernel_rect_input": ((2, 2, 7, 6), (3, 2, 3, 2), 2, 1),
    "tuple_stride_and_padding": ((1, 3, 4, 7), (2, 3, 2, 3), (1, 2), (2, 1)),
    "same_with_even_kernel": ((2, 2, 4, 5), (2, 2, 2, 4), 1, "same"),
    "stride_larger_than_kernel": ((2, 1, 7, 8), (2, 1, 2, 2), 3, 0),
    "one_by_one_kernel_stride2": ((2, 3, 5, 4), (4, 3, 1, 1), 2, 0),
}
GOLDEN_CONV = ["conv_basic", "conv_strided_rectangular", "conv_same_even_kernel", "conv_valid_no_bias"]
GOLDEN_IM2COL = ["im2col_strided_padded", "im2col_same_even_kernel"]


def randn(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


PADDING_NAMES = ("valid", "same")   # level 4 stores a padding string as its index in this tuple ("padding_name")


def geometry(g):
    """(stride, padding) as the level-4 reference stored them in a golden file."""
    stride = tuple(int(s) for s in g["stride"])
    if "padding_name" in g:
        return stride, PADDING_NAMES[int(g["padding_name"])]
    return stride, tuple(int(p) for p in g["padding"])


def out_size(size, k, s, p_total):
    return (size + p_total - k) // s + 1


# ----------------------------------------------------------------------------------------------------
# Task 1: im2col
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("x_shape,kh,kw,stride,padding,expected", [
    ((2, 3, 5, 5), 3, 3, 1, 0, (27, 2 * 3 * 3)),
    ((2, 3, 5, 5), 3, 3, 1, 1, (27, 2 * 5 * 5)),
    ((1, 2, 7, 6), 3, 2, 2, 1, (12, 1 * 4 * 4)),
    ((3, 1, 6, 9), 2, 3, (2, 1), (1, 2), (6, 3 * 4 * 11)),
    ((1, 2, 4, 5), 2, 4, 1, "same", (16, 1 * 4 * 5)),
    ((2, 4, 3, 3), 1, 1, 1, "valid", (4, 2 * 3 * 3)),
])
def test_im2col_shape(impl, x_shape, kh, kw, stride, padding, expected):
    cols = as_array(impl.im2col(randn(0, *x_shape), kh, kw, stride, padding))
    assert_shape(cols, expected, f"im2col(x {x_shape}, kh={kh}, kw={kw}, stride={stride}, padding={padding!r}): "
                                 f"one ROW per (channel, kernel row, kernel column), one COLUMN per output position "
                                 f"of every image: (C * kh * kw, N * H_out * W_out)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_im2col_of_a_tiny_image_by_hand(impl):
    x = np.arange(1.0, 13.0).reshape(1, 1, 3, 4)      # [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
    cols = as_array(impl.im2col(x, 2, 2))
    expected = np.array([[1, 2, 3, 5, 6, 7],        # row (c=0, i=0, j=0): the top-left pixel of each window
                         [2, 3, 4, 6, 7, 8],        # (0, 0, 1): top-right
                         [5, 6, 7, 9, 10, 11],      # (0, 1, 0): bottom-left
                         [6, 7, 8, 10, 11, 12]])    # (0, 1, 1): bottom-right
    if cols.shape == (6, 4):
        pytest.fail("im2col returned the windows as ROWS (shape (6, 4)): this topic's layout has one COLUMN per "
                    "window, shape (C * kh * kw, N * H_out * W_out) = (4, 6)")
    assert_shape(cols, (4, 6), "im2col of a 3x4 image with a 2x2 window (6 windows of 4 pixels)")
    assert_close(cols, expected, rtol=0, atol=0,
                 what="im2col(arange(1, 13).reshape(1, 1, 3, 4), 2, 2): column q is window q (left to right, then "
                      "top to bottom), flattened row by row")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_im2col_orders_rows_by_channel_then_kernel_and_columns_by_image_then_position(impl):
    x = np.arange(24.0).reshape(2, 2, 2, 3)   # x[0, 0] = [[0, 1, 2], [3, 4, 5]], x[0, 1] = [[6, 7, 8], [9, 10, 11]], ...
    cols = as_array(impl.im2col(x, 2, 2))
    expected = np.array([
        [0, 1, 12, 13],     # (c=0, i=0, j=0)    columns: (n=0, wo=0), (n=0, wo=1), (n=1, wo=0), (n=1, wo=1)
        [1, 2, 13, 14],     # (c=0, i=0, j=1)
        [3, 4, 15, 16],     # (c=0, i=1, j=0)
        [4, 5, 16, 17],     # (c=0, i=1, j=1)
        [6, 7, 18, 19],     # (c=1, i=0, j=0)
        [7, 8, 19, 20],     # (c=1, i=0, j=1)
        [9, 10, 21, 22],    # (c=1, i=1, j=0)
        [10, 11, 22, 23],   # (c=1, i=1, j=1)
    ])
    assert_shape(cols, (8, 4), "im2col of 2 images of 2 channels (2x3) with a 2x2 window")
    assert_close(cols, expected, rtol=0, atol=0,
                 what="im2col rows must run over (c, i, j) with j fastest (the order of w.reshape(C_out, -1)), "
                      "columns over (n, ho, wo) with wo fastest (image 0's windows first)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_im2col_with_padding_and_stride_by_hand(impl):
    cols = as_array(impl.im2col(X33, 2, 2, stride=2, padding=1))
    # xp is 5x5 with x in the middle; windows start at rows/columns 0 and 2
    expected = np.array([[0, 0, 0, 5],
                         [0, 0, 4, 6],
                         [0, 2, 0, 8],
                         [1, 3, 7, 9]])
    assert_close(cols, expected, rtol=0, atol=0,
                 what="im2col(x 3x3, 2, 2, stride=2, padding=1): zeros of the padding on EVERY side, windows every "
                      "2 pixels of the padded image")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("name", GOLDEN_IM2COL)
def test_im2col_matches_pytorch_unfold(impl, golden, name):
    g = golden(name)
    stride, padding = geometry(g)
    cols = impl.im2col(g["x"], int(g["kh"]), int(g["kw"]), stride, padding)
    assert_close(cols, g["cols"], rtol=1e-12, atol=1e-12,
                 what=f"im2col vs torch.nn.functional.unfold ({name}: stride {stride}, padding {padding!r}; for "
                      f"'same' with an even kernel the extra zero goes at the bottom / right)")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(1)
@pytest.mark.parametrize("k,stride,padding", [(3, 1, 1), (3, 2, 1), (5, 1, 2), (1, 1, 0), (2, 2, 0)])
def test_column_matrix_size_follows_the_formula(impl, k, stride, padding):
    N, C, H, W = 2, 3, 8, 8
    x = randn(1, N, C, H, W).astype(np.float32)
    cols = as_array(impl.im2col(x, k, k, stride, padding))
    Ho, Wo = out_size(H, k, stride, 2 * padding), out_size(W, k, stride, 2 * padding)
    expected = C * k * k * N * Ho * Wo * 4
    assert cols.dtype == np.float32, f"im2col of a float32 batch returned {cols.dtype}: keep the dtype of x"
    assert cols.nbytes == expected, (
        f"the column matrix takes {cols.nbytes} bytes, expected C * k * k * N * H_out * W_out * 4 = {expected:.6g} "
        f"(every pixel copied once per window that contains it)")
    factor = cols.nbytes / x.nbytes
    assert math.isclose(factor, k * k * Ho * Wo / (H * W)), (
        f"memory overhead {factor:.6g}x, expected k^2 * H_out * W_out / (H * W) = {k * k * Ho * Wo / (H * W):.6g}")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("kh,kw", [(3, 5), (6, 3), (1, 4)])
def test_same_and_four_sided_padding_equal_zeros_added_by_hand(impl, kh, kw):
    x = randn(30, 2, 2, 6, 7)
    top, left = (kh - 1) // 2, (kw - 1) // 2
    bottom, right = kh - 1 - top, kw - 1 - left
    by_hand = as_array(impl.im2col(np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right))), kh, kw))
    same = as_array(impl.im2col(x, kh, kw, 1, "same"))
    assert_shape(same, (2 * kh * kw, 2 * 6 * 7), f"im2col(padding='same') with a {kh}x{kw} kernel keeps H x W")
    assert_close(same, by_hand, rtol=0, atol=0,
                 what=f"im2col(padding='same'), {kh}x{kw} kernel, vs x padded by hand with (top, bottom, left, right) "
                      f"= ({top}, {bottom}, {left}, {right}): (k - 1) // 2 zeros before, the other k - 1 - (k - 1) // 2 "
                      f"after")
    assert_close(impl.im2col(x, kh, kw, 1, (top, bottom, left, right)), by_hand, rtol=0, atol=0,
                 what=f"im2col(padding=(top, bottom, left, right) = {(top, bottom, left, right)}), a 4-tuple")
    pads = (2, 0, 0, 1)
    by_hand = impl.im2col(np.pad(x, ((0, 0), (0, 0), (2, 0), (0, 1))), kh, kw, (2, 1))
    assert_close(impl.im2col(x, kh, kw, (2, 1), pads), by_hand, rtol=0, atol=0,
                 what=f"im2col(stride=(2, 1), padding={pads}): 2 zeros on top, none at the bottom or left, 1 on the right")


# ----------------------------------------------------------------------------------------------------
# Task 2: col2im
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(2)
@pytest.mark.parametrize("x_shape,kh,kw,stride,padding", [
    ((2, 3, 5, 5), 3, 3, 1, 1), ((1, 2, 7, 6), 3, 2, 2, 1), ((1, 2, 4, 5), 2, 4, 1, "same"), ((2, 1, 6, 9), 2, 3, (2, 1), (1, 2)),
])
def test_col2im_shape(impl, x_shape, kh, kw, stride, padding):
    N, C, H, W = x_shape
    rows = C * kh * kw
    cols = as_array(impl.im2col(randn(2, *x_shape), kh, kw, stride, padding))
    back = as_array(impl.col2im(randn(3, rows, cols.shape[1]), x_shape, kh, kw, stride, padding))
    assert_shape(back, x_shape, f"col2im(cols, {x_shape}, ...) (the padding must be cut off: x had no such pixels)")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(2)
@pytest.mark.parametrize("H,k,stride,expected", [
    (3, 2, 1, [[1, 2, 1], [2, 4, 2], [1, 2, 1]]),
    (4, 3, 1, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]),
    (5, 3, 2, np.outer([1, 1, 2, 1, 1], [1, 1, 2, 1, 1])),
])
def test_col2im_adds_up_overlapping_windows(impl, H, k, stride, expected):
    x = np.zeros((1, 1, H, H))
    ones = np.ones_like(as_array(impl.im2col(x, k, k, stride)))
    counts = as_array(impl.col2im(ones, x.shape, k, k, stride))[0, 0]
    if counts.max() == 1:
        pytest.fail(f"col2im of ones gives 1 everywhere: it ASSIGNS (=) the windows instead of ADDING (+=) them. With "
                    f"stride {stride} < kernel {k} the windows overlap, and each pixel must collect every window "
                    f"that contains it")
    assert_close(counts, np.asarray(expected, dtype=float), rtol=0, atol=0,
                 what=f"col2im of ones ({H}x{H} input, {k}x{k} kernel, stride {stride}): each pixel counts the "
                      f"windows that contain it")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_col2im_defaults_are_stride_one_and_no_padding(impl):
    x_shape = (2, 3, 5, 4)                              # 2x3 kernel: H_out = 4, W_out = 2 at stride 1
    c = randn(31, 3 * 2 * 3, 2 * 4 * 2)
    assert_close(impl.col2im(c, x_shape, 2, 3), impl.col2im(c, x_shape, 2, 3, 1, 0), rtol=0, atol=0,
                 what="col2im(cols, x_shape, kh, kw) without stride and padding must mean stride=1, padding=0, "
                      "the defaults of im2col")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_col2im_cuts_off_the_padding(impl):
    x = np.zeros((1, 1, 3, 3))
    ones = np.ones_like(as_array(impl.im2col(x, 3, 3, 1, 1)))
    counts = as_array(impl.col2im(ones, x.shape, 3, 3, 1, 1))
    assert_shape(counts, (1, 1, 3, 3), "col2im with padding=1 (the padded 5x5 image must be cropped back to 3x3)")
    expected = np.array([[4, 6, 4], [6, 9, 6], [4, 6, 4]], dtype=float)
    assert_close(counts[0, 0], expected, rtol=0, atol=0,
                 what="col2im of ones, 3x3 input, 3x3 kernel, padding 1 (the centre pixel is in all 9 windows, a "
                      "corner in 4): remove `padding` rows/columns on EACH side, not only at the bottom/right")
    # an asymmetric padding ('same' with an even kernel): one zero before, two after
    x = np.zeros((1, 1, 3, 3))
    ones = np.ones_like(as_array(impl.im2col(x, 4, 4, 1, "same")))
    counts = as_array(impl.col2im(ones, x.shape, 4, 4, 1, "same"))[0, 0]
    expected_same = np.outer([2, 3, 3], [2, 3, 3]).astype(float)
    assert_close(counts, expected_same, rtol=0, atol=0,
                 what="col2im of ones, 3x3 input, 4x4 kernel, padding='same' (1 zero before, 2 after): pixel 0 is in 2 "
                      "windows per axis, pixels 1 and 2 in 3")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
@pytest.mark.parametrize("x_shape,kh,kw,stride,padding", [
    ((2, 3, 5, 5), 3, 3, 1, 1),               # stride < kernel: overlaps
    ((1, 2, 7, 6), 3, 2, 2, 1),               # overlaps in one direction only
    ((2, 1, 7, 8), 2, 2, 3, 0),               # stride > kernel: pixels no window sees
    ((1, 2, 4, 5), 2, 4, 1, "same"),          # asymmetric padding
    ((2, 2, 6, 5), 3, 3, (2, 1), (2, 1)),
])
def test_col2im_is_the_adjoint_of_im2col(impl, x_shape, kh, kw, stride, padding):
    x = randn(4, *x_shape)
    cols = as_array(impl.im2col(x, kh, kw, stride, padding))
    c = randn(5, *cols.shape)
    lhs = float(np.sum(cols * c))
    rhs = float(np.sum(x * as_array(impl.col2im(c, x_shape, kh, kw, stride, padding))))
    assert math.isclose(lhs, rhs, rel_tol=1e-10, abs_tol=1e-10), (
        f"<im2col(x), c> = {lhs:.6g} but <x, col2im(c)> = {rhs:.6g}: col2im must be the transpose of im2col, sending "
        f"every entry back to the pixel it was copied from and ADDING overlaps (x {x_shape}, kernel {kh}x{kw}, "
        f"stride {stride}, padding {padding!r})")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(2)
@pytest.mark.parametrize("name", GOLDEN_IM2COL)
def test_col2im_matches_pytorch_fold(impl, golden, name):
    g = golden(name)
    stride, padding = geometry(g)
    back = impl.col2im(g["c"], g["x"].shape, int(g["kh"]), int(g["kw"]), stride, padding)
    assert_close(back, g["col2im_c"], rtol=1e-12, atol=1e-12,
                 what=f"col2im vs torch.nn.functional.fold ({name}), which sums overlapping windows and is then cropped")


# ----------------------------------------------------------------------------------------------------
# Task 3: forward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("x_shape,w_shape,stride,padding,expected", [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, (2, 4, 3, 3)),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1, (2, 4, 5, 5)),
    ((1, 2, 7, 6), (3, 2, 3, 2), 2, 1, (1, 3, 4, 4)),
    ((3, 1, 6, 9), (2, 1, 2, 3), (2, 1), (1, 2), (3, 2, 4, 11)),
    ((1, 2, 4, 5), (5, 2, 2, 4), 1, "same", (1, 5, 4, 5)),
    ((2, 4, 6, 6), (3, 4, 1, 1), 2, 0, (2, 3, 3, 3)),
])
def test_forward_output_shape(impl, x_shape, w_shape, stride, padding, expected):
    out, _ = impl.conv2d_forward(randn(0, *x_shape), randn(1, *w_shape), randn(2, w_shape[0]), stride, padding)
    assert_shape(out, expected, f"conv2d_forward(x {x_shape}, w {w_shape}, stride={stride}, padding={padding!r})")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_forward_by_hand(impl):
    # the worked example of math-refresh.md: two filters on the 3x3 image, bias (0.5, 0)
    w = np.array([[[[1.0, 2.0], [0.0, -1.0]]], [[[0.0, 0.0], [0.0, 1.0]]]])
    out, _ = impl.conv2d_forward(X33, w, np.array([0.5, 0.0]))
    out = as_array(out)
    assert_shape(out, (1, 2, 2, 2), "two 2x2 filters on a 3x3 image")
    assert_close(out[0, 0], [[0.5, 2.5], [6.5, 8.5]], rtol=0, atol=1e-12,
                 what="filter [[1, 2], [0, -1]] + 0.5 (window [[1, 2], [4, 5]] gives 1 + 4 - 5 + 0.5 = 0.5; the kernel "
                      "is NOT flipped, and row (c, i, j) of im2col must meet w[o, c, i, j])")
    assert_close(out[0, 1], [[5, 6], [8, 9]], rtol=0, atol=1e-12,
                 what="filter [[0, 0], [0, 1]] picks the bottom-right pixel of every window")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("i,j", [(0, 0), (0, 2), (1, 0), (2, 1)])
def test_a_one_hot_kernel_shifts_the_image(impl, i, j):
    x = randn(6, 2, 2, 5, 6)
    w = np.zeros((2, 2, 3, 3))
    w[0, 0, i, j] = 1.0       # output channel 0 copies channel 0, shifted by (i, j)
    w[1, 1, i, j] = 1.0       # output channel 1 copies channel 1
    out = as_array(impl.conv2d_forward(x, w)[0])
    assert_close(out, x[:, :, i:i + 3, j:j + 4], rtol=0, atol=1e-12,
                 what=f"a kernel with a single 1 at (i, j) = ({i}, {j}) must give out[n, o, ho, wo] = "
                      f"x[n, o, ho + i, wo + j] (a flipped or transposed kernel shifts the other way)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_forward_is_w_reshaped_times_im2col(impl):
    x, w, b = randn(7, 2, 3, 6, 5), randn(8, 4, 3, 3, 2), randn(9, 4)
    out = as_array(impl.conv2d_forward(x, w, b, (2, 1), (1, 0))[0])
    cols = as_array(impl.im2col(x, 3, 2, (2, 1), (1, 0)))
    by_hand = (w.reshape(4, -1) @ cols).reshape(4, 2, 3, 4).transpose(1, 0, 2, 3) + b[None, :, None, None]
    assert_close(out, by_hand, rtol=1e-10, atol=1e-12,
                 what="conv2d_forward vs w.reshape(C_out, -1) @ im2col(x) put back in NCHW order (+ the bias per "
                      "output channel)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", GOLDEN_CONV)
def test_forward_matches_pytorch(impl, golden, name):
    g = golden(name)
    stride, padding = geometry(g)
    out, _ = impl.conv2d_forward(g["x"], g["w"], g.get("b"), stride, padding)
    assert_close(out, g["out"], rtol=1e-10, atol=1e-10,
                 what=f"conv2d_forward vs torch.nn.functional.conv2d ({name}: stride {stride}, padding {padding!r})")


# ----------------------------------------------------------------------------------------------------
# Task 4: backward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_backward_shapes(impl):
    x, w, b = randn(0, 2, 3, 7, 6), randn(1, 4, 3, 3, 2), randn(2, 4)
    out, cache = impl.conv2d_forward(x, w, b, 2, 1)
    grads = impl.conv2d_backward(randn(3, *as_array(out).shape), cache)
    assert len(grads) == 3, f"conv2d_backward must return (dx, dw, db), got {len(grads)} values"
    dx, dw, db = grads
    assert_shape(dx, x.shape, "dx (the padding cut off)")
    assert_shape(dw, w.shape, "dw")
    assert_shape(db, (4,), "db (summed over the batch and the positions)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.parametrize("name", GOLDEN_CONV)
def test_backward_matches_pytorch(impl, golden, name):
    g = golden(name)
    stride, padding = geometry(g)
    _, cache = impl.conv2d_forward(g["x"], g["w"], g.get("b"), stride, padding)
    dx, dw, db = impl.conv2d_backward(g["dout"], cache)
    assert_close(dx, g["dx"], rtol=1e-10, atol=1e-10, what=f"dx vs PyTorch autograd ({name}): col2im of w_mat.T @ dout_mat")
    assert_close(dw, g["dw"], rtol=1e-10, atol=1e-10,
                 what=f"dw vs PyTorch autograd ({name}): dout_mat @ cols.T, SUMMED over every image of the batch")
    if "db" in g:
        assert_close(db, g["db"], rtol=1e-10, atol=1e-10, what=f"db vs PyTorch ({name})")
    else:
        assert db is None, "without a bias (b=None), conv2d_backward must return db = None"


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradient_check(impl, name):
    x_shape, w_shape, stride, padding = GRADIENT_CASES[name]
    x, w, b = randn(10, *x_shape), randn(11, *w_shape), randn(12, w_shape[0])

    def forward(x, w, b):
        return impl.conv2d_forward(x, w, b, stride, padding)

    report = check_layer(forward, impl.conv2d_backward, x, w, b)
    names = {"input0": "dx", "input1": "dw", "input2": "db"}
    bad = {names[k]: f"{v:.3g}" for k, v in report.items() if not v < 1e-5}
    assert not bad, (f"{name}: relative error vs finite differences {bad} (must be < 1e-5). dx wrong? col2im must ADD "
                     f"overlapping windows and cut the padding off where it was added; dw wrong? sum over the batch")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_gradient_check_without_bias(impl):
    x, w = randn(13, 2, 2, 5, 6), randn(14, 3, 2, 3, 3)

    def forward(x, w):
        return impl.conv2d_forward(x, w, None, 1, 1)

    def backward(dout, cache):
        dx, dw, db = impl.conv2d_backward(dout, cache)
        assert db is None, "without a bias, db must be None"
        return dx, dw

    report = check_layer(forward, backward, x, w)
    assert report.passed, f"no-bias convolution: relative errors {dict(report)} (input0 = dx, input1 = dw)"


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_dw_and_db_are_summed_over_the_batch(impl):
    x, w, b = randn(15, 3, 2, 5, 5), randn(16, 3, 2, 3, 3), randn(17, 3)
    out, cache = impl.conv2d_forward(x, w, b, 1, 1)
    dout = randn(18, *as_array(out).shape)
    _, dw, db = impl.conv2d_backward(dout, cache)
    dw_sum, db_sum = np.zeros_like(w), np.zeros(3)
    for n in range(3):
        _, c = impl.conv2d_forward(x[n:n + 1], w, b, 1, 1)
        _, dw_n, db_n = impl.conv2d_backward(dout[n:n + 1], c)
        dw_sum += as_array(dw_n)
        db_sum += as_array(db_n)
    assert_close(dw, dw_sum, rtol=1e-10, atol=1e-12,
                 what="dw of a batch of 3 vs the sum of the dw of each image (a loss summed over the batch: the "
                      "gradient is the SUM, not the mean, nor the first image's)")
    assert_close(db, db_sum, rtol=1e-10, atol=1e-12, what="db of a batch vs the sum of each image's db")
    assert_close(db, dout.sum(axis=(0, 2, 3)), rtol=1e-10, what="db = dout summed over the batch and the positions")


# ----------------------------------------------------------------------------------------------------
# Task 5: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_parameters_and_attributes(impl):
    layer = impl.Conv2d(3, 8, (3, 2), stride=(2, 1), padding=1, rng=0)
    assert_shape(layer.weight.data, (8, 3, 3, 2), "Conv2d(3, 8, (3, 2)).weight.data (C_out, C_in, kH, kW)")
    assert_shape(layer.weight.grad, (8, 3, 3, 2), "weight.grad")
    assert_shape(layer.bias.data, (8,), "bias.data")
    assert np.all(as_array(layer.weight.grad) == 0) and np.all(as_array(layer.bias.grad) == 0), "grads start at 0"
    params = layer.parameters()
    assert len(params) == 2 and params[0] is layer.weight and params[1] is layer.bias, \
        "parameters() must return [weight, bias], the Parameter objects themselves"
    assert tuple(layer.kernel_size) == (3, 2) and tuple(layer.stride) == (2, 1), "kernel_size and stride as pairs"
    assert layer.in_channels == 3 and layer.out_channels == 8 and layer.training is True, \
        "in_channels, out_channels, and training=True at creation"
    assert as_array(layer.weight.data).dtype == np.float32 and as_array(layer.bias.data).dtype == np.float32, \
        "dtype defaults to float32"
    no_bias = impl.Conv2d(3, 8, 3, bias=False, rng=0)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weight], \
        "Conv2d(bias=False): bias is None and parameters() == [weight]"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
@pytest.mark.parametrize("c_in,c_out,kernel", [(16, 64, 3), (3, 500, (5, 2))])
def test_layer_init_is_pytorchs_uniform(impl, c_in, c_out, kernel):
    layer = impl.Conv2d(c_in, c_out, kernel, rng=1, dtype=np.float64)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    bound = 1 / math.sqrt(c_in * kh * kw)
    w, b = as_array(layer.weight.data), as_array(layer.bias.data)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound, (
        f"weights and biases must lie in [-1/sqrt(fan_in), 1/sqrt(fan_in)] = +-{bound:.6g} with fan_in = C_in * kH * kW "
        f"= {c_in * kh * kw}; max |w| = {np.abs(w).max():.6g}")
    assert np.abs(w).max() > 0.95 * bound, f"max |w| = {np.abs(w).max():.6g}: the weights do not fill U(-bound, bound)"
    assert abs(w.var() / (bound ** 2 / 3) - 1) < 0.1, (
        f"weight variance {w.var():.6g}, expected bound^2 / 3 = {bound ** 2 / 3:.6g} (uniform, Kaiming with a = sqrt(5))")
    assert abs(w.mean()) < 0.1 * bound, f"weight mean {w.mean():.6g}, expected about 0"


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_matches_pytorch_and_accumulates_gradients(impl, golden):
    g = golden("conv_strided_rectangular")
    stride, padding = geometry(g)
    w_shape = g["w"].shape
    layer = impl.Conv2d(w_shape[1], w_shape[0], w_shape[2:], stride=stride, padding=padding, dtype=np.float64, rng=0)
    layer.weight.data[...] = g["w"]
    layer.bias.data[...] = g["b"]
    assert_close(layer.forward(g["x"]), g["out"], rtol=1e-10, atol=1e-10, what="Conv2d.forward vs F.conv2d")
    dx = layer.backward(g["dout"])
    assert_close(dx, g["dx"], rtol=1e-10, atol=1e-10, what="Conv2d.backward dx vs PyTorch")
    assert_close(layer.weight.grad, g["dw"], rtol=1e-10, atol=1e-10, what="weight.grad after one backward")
    assert_close(layer.bias.grad, g["db"], rtol=1e-10, atol=1e-10, what="bias.grad after one backward")
    layer.backward(g["dout"])
    assert_close(layer.weight.grad, 2 * g["dw"], rtol=1e-10, atol=1e-10,
                 what="weight.grad after two backward calls (must ADD: weight.grad += dw)")
    assert_close(layer.bias.grad, 2 * g["db"], rtol=1e-10, atol=1e-10, what="bias.grad after two backward calls")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_without_bias_and_with_same_padding(impl, golden):
    g = golden("conv_valid_no_bias")
    stride, padding = geometry(g)
    w_shape = g["w"].shape
    layer = impl.Conv2d(w_shape[1], w_shape[0], w_shape[2:], stride=stride, padding=padding, bias=False,
                        dtype=np.float64)
    layer.weight.data[...] = g["w"]
    assert_close(layer.forward(g["x"]), g["out"], rtol=1e-10, atol=1e-10, what="Conv2d(bias=False).forward vs F.conv2d")
    assert_close(layer.backward(g["dout"]), g["dx"], rtol=1e-10, atol=1e-10, what="Conv2d(bias=False).backward")
    g = golden("conv_same_even_kernel")
    w_shape = g["w"].shape
    layer = impl.Conv2d(w_shape[1], w_shape[0], w_shape[2:], padding="same", dtype=np.float64)
    layer.weight.data[...] = g["w"]
    layer.bias.data[...] = g["b"]
    assert_close(layer.forward(g["x"]), g["out"], rtol=1e-10, atol=1e-10,
                 what="Conv2d(padding='same') with a 4x2 kernel vs F.conv2d(padding='same')")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_uses_the_current_weights_and_the_last_forward(impl):
    layer = impl.Conv2d(2, 3, 3, padding=1, rng=2, dtype=np.float64)
    x1, x2 = randn(20, 2, 2, 5, 5), randn(21, 1, 2, 4, 6)
    layer.forward(x1)
    layer.weight.data *= 2.0                        # an optimizer updates the weights in place
    out2 = layer.forward(x2)
    expected, cache = impl.conv2d_forward(x2, as_array(layer.weight.data).copy(), as_array(layer.bias.data).copy(), 1, 1)
    assert_close(out2, expected, rtol=1e-12, what="forward after the weights changed in place (read weight.data anew)")
    dout = randn(22, 1, 3, 4, 6)
    dx = layer.backward(dout)
    assert_close(dx, impl.conv2d_backward(dout, cache)[0], rtol=1e-12,
                 what="backward must use the cache of the LAST forward (x2, shape (1, 2, 4, 6))")
    assert layer.eval() is layer and layer.training is False, "eval() sets training = False and returns the layer"
    assert_close(layer.forward(x2), out2, rtol=0, atol=0, what="a convolution computes the same in eval mode")
    assert layer.train() is layer and layer.training is True, "train() sets training = True and returns the layer"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_with_a_one_by_one_kernel(impl):
    layer = impl.Conv2d(4, 6, 1, stride=2, rng=3, dtype=np.float64)
    assert tuple(layer.kernel_size) == (1, 1), f"Conv2d(4, 6, 1).kernel_size is {layer.kernel_size}, expected (1, 1)"
    assert_shape(layer.weight.data, (6, 4, 1, 1), "Conv2d(4, 6, 1).weight (a 1x1 kernel is a valid kernel)")
    x = randn(32, 2, 4, 5, 6)
    w, b = as_array(layer.weight.data)[:, :, 0, 0], as_array(layer.bias.data)
    expected = np.einsum("oc,nchw->nohw", w, x[:, :, ::2, ::2]) + b[None, :, None, None]
    assert_close(layer.forward(x), expected, rtol=1e-12, atol=1e-12,
                 what="Conv2d(4, 6, kernel_size=1, stride=2): the channels mixed at every other pixel")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_chains_in_sequential_and_learns_with_sgd(impl):
    nn, optim = load_topic(6), load_topic(3)
    rng = np.random.default_rng(23)
    target = impl.Conv2d(2, 3, 3, padding=1, rng=24, dtype=np.float64)
    model = nn.Sequential(impl.Conv2d(2, 3, 3, padding=1, rng=25, dtype=np.float64))
    opt = optim.SGD(model.parameters(), lr=1.5)
    first = None
    for step in range(60):
        x = rng.standard_normal((4, 2, 6, 6))
        y = as_array(target.forward(x))
        opt.zero_grad()
        pred = as_array(model.forward(x))
        loss = 0.5 * np.mean((pred - y) ** 2)
        first = loss if first is None else first
        model.backward((pred - y) / pred.size)
        opt.step()
    assert loss < 1e-3 * first, (
        f"a Conv2d in Topic 06's Sequential, trained by Topic 03's SGD to copy another Conv2d: loss went from "
        f"{first:.6g} to {loss:.6g} in 60 steps (expected a 1000x drop: are the gradients added into .grad, "
        f"and summed over the batch?)")
    assert_close(model.parameters()[0].data, target.weight.data, atol=1e-2, what="learnt weights vs the target's")
