"""Topic 12 edge tests: kernels that do not fit, bad arguments and shapes (clear ValueErrors), batches of 1 and 0,
non-contiguous inputs, float32 / float64 kept, NaN, strides larger than the kernel, 1x1 kernels, the layer's errors."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape


def randn(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------------------------------
# Arguments that do not fit: ValueError, before anything is computed
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_kernel_larger_than_the_padded_input_raises(impl):
    with pytest.raises(ValueError):
        impl.im2col(randn(0, 1, 1, 2, 2), 3, 3)
        pytest.fail("im2col with a 3x3 window on a 2x2 image (no padding) must raise ValueError: no window fits")
    with pytest.raises(ValueError):
        impl.im2col(randn(0, 1, 1, 4, 4), 2, 5)
        pytest.fail("a window 5 wide on an image 4 wide must raise ValueError, even if its height fits")
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 1, 2, 2), randn(1, 1, 1, 3, 3))
        pytest.fail("conv2d_forward with a 3x3 kernel on a 2x2 image must raise ValueError")
    cols = as_array(impl.im2col(randn(0, 1, 1, 2, 2), 3, 3, 1, 1))
    assert_shape(cols, (9, 4), "a 3x3 window on a 2x2 image with padding=1 (it fits the padded 4x4)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("padding", ["full", "SAME", "", -1, (1, -1), (1, 2, 3), 1.5, None, True,
                                     (1, -1, 0, 0), (0, 0, 1.5, 1)])
def test_bad_padding_raises(impl, padding):
    with pytest.raises(ValueError):
        impl.im2col(randn(0, 1, 2, 5, 5), 3, 3, 1, padding)
        pytest.fail(f"im2col(padding={padding!r}) must raise ValueError: use an int >= 0, (ph, pw), 'valid' or 'same'")
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 2, 5, 5), randn(1, 3, 2, 3, 3), None, 1, padding)
        pytest.fail(f"conv2d_forward(padding={padding!r}) must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("stride", [2, (1, 2)])
def test_same_padding_with_a_stride_raises(impl, stride):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 2, 6, 6), randn(1, 3, 2, 3, 3), None, stride, "same")
        pytest.fail(f"padding='same' with stride={stride!r} must raise ValueError, as in PyTorch")
    with pytest.raises(ValueError):
        impl.im2col(randn(0, 1, 2, 6, 6), 3, 3, stride, "same")
        pytest.fail(f"im2col(padding='same', stride={stride!r}) must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("stride", [0, -1, (1, 0), 1.5, (2, 2, 2)])
def test_bad_stride_raises(impl, stride):
    with pytest.raises(ValueError):
        impl.im2col(randn(0, 1, 2, 5, 5), 3, 3, stride, 0)
        pytest.fail(f"im2col(stride={stride!r}) must raise ValueError: use an int >= 1 or (sh, sw)")
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 2, 5, 5), randn(1, 3, 2, 3, 3), None, stride, 0)
        pytest.fail(f"conv2d_forward(stride={stride!r}) must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("stride,padding,word", [(1, (1, -1), "padding"), (1, (2, 1.5), "padding"), (1, "full", "padding"),
                                                 ((1, 0), 0, "stride"), (1.5, 0, "stride")])
def test_error_messages_name_the_bad_argument(impl, stride, padding, word):
    with pytest.raises(ValueError, match=f"(?i)(?<![a-z]){word}(?![a-z])"):   # the word itself, not inside another
        impl.im2col(randn(0, 1, 2, 5, 5), 3, 3, stride, padding)
        pytest.fail(f"im2col(stride={stride!r}, padding={padding!r}) must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("kh,kw", [(0, 3), (3, 0), (-1, 2), (2.0, 2)])
def test_bad_window_size_raises(impl, kh, kw):
    with pytest.raises(ValueError):
        impl.im2col(randn(0, 1, 2, 5, 5), kh, kw)
        pytest.fail(f"im2col(kh={kh!r}, kw={kw!r}) must raise ValueError: the window sizes are ints >= 1")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_channel_mismatch_raises(impl):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 2, 3, 5, 5), randn(1, 4, 2, 3, 3))
        pytest.fail("x has 3 channels but w expects 2 (w.shape[1]): conv2d_forward must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("b_shape", [(1,), (4, 1), (), (3,), (1, 4)])
def test_bias_of_the_wrong_shape_raises(impl, b_shape):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 2, 3, 5, 5), randn(1, 4, 3, 3, 3), randn(2, *b_shape))
        pytest.fail(f"a bias of shape {b_shape} must raise ValueError (only (C_out,) = (4,) is a bias per output "
                    f"channel; (1,) or () would broadcast silently)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("x_shape,w_shape", [((3, 5, 5), (4, 3, 3, 3)), ((2, 3, 5, 5), (4, 3, 3)),
                                             ((1, 2, 3, 5, 5), (4, 3, 3, 3))])
def test_wrong_number_of_dimensions_raises(impl, x_shape, w_shape):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, *x_shape), randn(1, *w_shape))
        pytest.fail(f"x {x_shape} with w {w_shape}: both must be 4-D (NCHW and (C_out, C_in, kH, kW)), ValueError")
    if len(x_shape) != 4:
        with pytest.raises(ValueError):
            impl.im2col(randn(0, *x_shape), 3, 3)
            pytest.fail(f"im2col of an array of shape {x_shape} must raise ValueError (x must be (N, C, H, W))")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_col2im_rejects_a_matrix_of_the_wrong_shape(impl):
    x_shape = (2, 3, 5, 5)
    good = as_array(impl.im2col(randn(0, *x_shape), 3, 3, 1, 1))      # (27, 50)
    for shape in [(27, 49), (26, 50), (50, 27), (27 * 50,)]:
        with pytest.raises(ValueError):
            impl.col2im(randn(1, *shape), x_shape, 3, 3, 1, 1)
            pytest.fail(f"col2im of a matrix of shape {shape} for x_shape {x_shape}, 3x3, padding 1 must raise "
                        f"ValueError (expected {good.shape})")
    for bad_shape in [(3, 5, 5), (2, 3, 5, -5), (2, 3, 5.0, 5)]:
        with pytest.raises(ValueError):
            impl.col2im(good, bad_shape, 3, 3, 1, 1)
            pytest.fail(f"col2im with x_shape={bad_shape} must raise ValueError (x_shape is (N, C, H, W))")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(2)
@pytest.mark.parametrize("kh,kw", [(2, 5), (5, 2)])
def test_col2im_rejects_a_kernel_larger_than_the_padded_input(impl, kh, kw):
    # a kernel 5 wide on an image 4 wide gives H_out * W_out = 0 windows: an empty matrix must not slip through
    with pytest.raises(ValueError):
        impl.col2im(np.zeros((kh * kw, 0)), (1, 1, 4, 4), kh, kw)
        pytest.fail(f"col2im with a {kh}x{kw} kernel for a 4x4 image (no padding) must raise ValueError, as im2col "
                    f"does: no window fits")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.parametrize("dout_shape", [(2, 4, 5, 1), (2, 4, 1, 5), (1, 4, 5, 5), (2, 4, 25), (4, 2, 5, 5),
                                        (2, 4, 6, 6)])
def test_dout_of_the_wrong_shape_raises(impl, dout_shape):
    _, cache = impl.conv2d_forward(randn(0, 2, 3, 5, 5), randn(1, 4, 3, 3, 3), randn(2, 4), 1, 1)
    with pytest.raises(ValueError):
        impl.conv2d_backward(randn(3, *dout_shape), cache)
        pytest.fail(f"dout of shape {dout_shape} must raise ValueError: it must be exactly the output's (2, 4, 5, 5) "
                    f"(a (.., 1) axis would broadcast silently)")


# ----------------------------------------------------------------------------------------------------
# Batches of one and of zero
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_batch_of_one_equals_its_row_of_a_batch(impl):
    x, w, b = randn(0, 3, 2, 6, 5), randn(1, 3, 2, 3, 3), randn(2, 3)
    full, cache = impl.conv2d_forward(x, w, b, 2, 1)
    one, cache1 = impl.conv2d_forward(x[1:2], w, b, 2, 1)
    assert_close(one, as_array(full)[1:2], rtol=1e-12, atol=1e-12, what="output of image 1 alone vs inside the batch")
    dout = randn(3, *as_array(full).shape)
    dx_full = as_array(impl.conv2d_backward(dout, cache)[0])
    dx_one = impl.conv2d_backward(dout[1:2], cache1)[0]
    assert_close(dx_one, dx_full[1:2], rtol=1e-12, atol=1e-12,
                 what="dx of image 1 alone vs inside the batch (the images of a batch are independent)")
    cols = as_array(impl.im2col(x, 3, 3, 2, 1))
    assert_close(impl.im2col(x[1:2], 3, 3, 2, 1), cols[:, 9:18], rtol=0, atol=0,
                 what="im2col of image 1 alone = columns 9..17 of the batch's matrix (image 0 fills columns 0..8)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_empty_batch(impl):
    x, w, b = np.zeros((0, 2, 5, 5)), randn(1, 3, 2, 3, 3), randn(2, 3)
    cols = as_array(impl.im2col(x, 3, 3, 1, 1))
    assert_shape(cols, (18, 0), "im2col of an empty batch: (C * kh * kw, 0)")
    assert_shape(impl.col2im(cols, x.shape, 3, 3, 1, 1), (0, 2, 5, 5), "col2im of an empty matrix")
    out, cache = impl.conv2d_forward(x, w, b, 1, 1)
    assert_shape(out, (0, 3, 5, 5), "output of an empty batch (N = 0 is allowed, as in PyTorch)")
    dx, dw, db = impl.conv2d_backward(np.zeros((0, 3, 5, 5)), cache)
    assert_shape(dx, (0, 2, 5, 5), "dx of an empty batch")
    assert_close(dw, np.zeros_like(w), rtol=0, atol=0, what="dw of an empty batch (a sum over nothing: zeros)")
    assert_close(db, np.zeros(3), rtol=0, atol=0, what="db of an empty batch (zeros)")


# ----------------------------------------------------------------------------------------------------
# Memory layouts and dtypes
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_non_contiguous_inputs(impl):
    x = randn(0, 2, 6, 7, 3).transpose(0, 3, 1, 2)       # (2, 3, 6, 7) in NHWC memory order: not C-contiguous
    w_view = randn(1, 4, 6, 3, 2)[:, ::2]                # (4, 3, 3, 2), strided along the channel axis
    b = randn(2, 8)[::2]                                 # (4,), strided
    dout = randn(3, 2, 4, 8, 3).transpose(0, 1, 3, 2)    # (2, 4, 3, 8), transposed
    out, cache = impl.conv2d_forward(x, w_view, b, (2, 1), 1)
    ref, ref_cache = impl.conv2d_forward(np.ascontiguousarray(x), np.ascontiguousarray(w_view),
                                         np.ascontiguousarray(b), (2, 1), 1)
    assert_close(out, ref, rtol=1e-12, atol=1e-12,
                 what="conv2d_forward of a transposed x and strided w, b vs their contiguous copies")
    for got, exp, name in zip(impl.conv2d_backward(dout, cache),
                              impl.conv2d_backward(np.ascontiguousarray(dout), ref_cache), ("dx", "dw", "db")):
        assert_close(got, exp, rtol=1e-12, atol=1e-12, what=f"{name} with non-contiguous x, w, b and dout")
    assert_close(impl.im2col(x[:, :, ::2], 2, 3), impl.im2col(np.ascontiguousarray(x[:, :, ::2]), 2, 3),
                 rtol=0, atol=0, what="im2col of a strided view vs of its copy (a window view must use the real strides)")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(impl, dtype):
    x, w, b = (randn(0, 2, 3, 6, 6).astype(dtype), randn(1, 4, 3, 3, 3).astype(dtype), randn(2, 4).astype(dtype))
    cols = as_array(impl.im2col(x, 3, 3, 1, 1))
    assert cols.dtype == dtype, f"im2col of a {np.dtype(dtype).name} batch returned {cols.dtype}"
    back = as_array(impl.col2im(cols, x.shape, 3, 3, 1, 1))
    assert back.dtype == dtype, f"col2im of a {np.dtype(dtype).name} matrix returned {back.dtype}"
    out, cache = impl.conv2d_forward(x, w, b, 2, 1)
    out = as_array(out)
    assert out.dtype == dtype, f"conv2d_forward in {np.dtype(dtype).name} returned {out.dtype} (no silent up/downcast)"
    grads = impl.conv2d_backward(np.ones_like(out), cache)
    for name, g in zip(("dx", "dw", "db"), grads):
        assert as_array(g).dtype == dtype, f"{name} is {as_array(g).dtype}, expected {np.dtype(dtype).name}"
    ref, _ = impl.conv2d_forward(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), 2, 1)
    assert_close(out, ref, rtol=1e-4, atol=1e-5, what=f"{np.dtype(dtype).name} output vs float64")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_without_a_bias(impl, dtype):
    x, w = randn(0, 2, 3, 6, 6).astype(dtype), randn(1, 4, 3, 3, 3).astype(dtype)
    out, cache = impl.conv2d_forward(x, w, None, 1, 1)
    out = as_array(out)
    assert out.dtype == dtype, (f"conv2d_forward(b=None) in {np.dtype(dtype).name} returned {out.dtype}: the dtype "
                                f"comes from x and w (and b when there is one), None is no dtype")
    dx, dw, db = impl.conv2d_backward(np.ones_like(out), cache)
    assert as_array(dx).dtype == dtype and as_array(dw).dtype == dtype and db is None, (
        f"without a bias: dx {as_array(dx).dtype}, dw {as_array(dw).dtype} (expected {np.dtype(dtype).name}), db {db!r} "
        f"(expected None)")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_float32_layer(impl):
    layer = impl.Conv2d(3, 5, 3, stride=2, padding=1, rng=0)
    x = randn(1, 2, 3, 8, 8).astype(np.float32)
    out = as_array(layer.forward(x))
    dx = as_array(layer.backward(np.ones_like(out)))
    assert out.dtype == np.float32 and dx.dtype == np.float32, \
        f"a float32 Conv2d on float32 input gave out {out.dtype}, dx {dx.dtype}: keep float32 throughout"
    assert as_array(layer.weight.grad).dtype == np.float32 and as_array(layer.bias.grad).dtype == np.float32, \
        "weight.grad and bias.grad must stay float32"


# ----------------------------------------------------------------------------------------------------
# Special values and geometries
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_nan_spoils_only_the_windows_that_contain_it(impl):
    x, w = randn(0, 1, 2, 6, 6), randn(1, 2, 2, 3, 3)
    x[0, 1, 2, 4] = np.nan
    out = as_array(impl.conv2d_forward(x, w, None, 1, 1)[0])
    # with padding 1, output (ho, wo) sees pixels ho - 1 .. ho + 1 and wo - 1 .. wo + 1
    expected = np.zeros((6, 6), dtype=bool)
    expected[1:4, 3:6] = True
    for o in range(2):
        got = np.isnan(out[0, o])
        assert np.array_equal(got, expected), (
            f"output channel {o}: NaN at {np.argwhere(got).tolist()}, expected exactly the 9 outputs whose 3x3 window "
            f"contains the NaN pixel (2, 4): rows 1-3, columns 3-5")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_stride_larger_than_the_kernel_skips_pixels(impl):
    x, w = randn(0, 1, 1, 7, 7), randn(1, 1, 1, 2, 2)
    out, cache = impl.conv2d_forward(x, w, None, 3, 0)
    dx = as_array(impl.conv2d_backward(np.ones_like(as_array(out)), cache)[0])
    expected = np.zeros((7, 7))
    for top in (0, 3):
        for left in (0, 3):
            expected[top:top + 2, left:left + 2] = w[0, 0]
    assert np.all(dx[0, 0][expected == 0] == 0), \
        "pixels no window covers (stride 3 > kernel 2) must get a zero gradient"
    assert_close(dx[0, 0], expected, rtol=0, atol=1e-12,
                 what="each covered pixel receives the kernel weight it met (dout = 1)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_one_by_one_kernel_is_a_channel_mixing_matrix_product(impl):
    x, w, b = randn(0, 2, 3, 5, 4), randn(1, 6, 3, 1, 1), randn(2, 6)
    out = as_array(impl.conv2d_forward(x, w, b)[0])
    expected = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x) + b[None, :, None, None]
    assert_close(out, expected, rtol=1e-12, atol=1e-12, what="a 1x1 convolution = w[:, :, 0, 0] applied to every pixel")
    out2 = as_array(impl.conv2d_forward(x, w, b, 2, 1)[0])
    expected2 = np.broadcast_to(b[None, :, None, None], (2, 6, 4, 3)).copy()
    inner = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x[:, :, 1::2, 1::2]) + b[None, :, None, None]
    expected2[:, :, 1:3, 1:3] = inner
    assert_close(out2, expected2, rtol=1e-12, atol=1e-12,
                 what="1x1 kernel, stride 2, padding 1: the border outputs see only padding (the bias), the inner ones "
                      "see pixels 1 and 3 of each axis")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_kernel_as_large_as_the_padded_input(impl):
    x, w, b = randn(0, 2, 3, 4, 5), randn(1, 2, 3, 6, 5), randn(2, 2)
    out = as_array(impl.conv2d_forward(x, w, b, 1, (1, 0))[0])
    assert_shape(out, (2, 2, 1, 1), "a 6x5 kernel on a 4x5 input padded by (1, 0) fits exactly once")
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    assert_close(out[:, :, 0, 0], np.einsum("nchw,ochw->no", xp, w) + b, rtol=1e-12, atol=1e-12,
                 what="the single output = the whole padded image dotted with the kernel")


# ----------------------------------------------------------------------------------------------------
# The layer's errors
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
@pytest.mark.parametrize("args,kwargs", [
    ((0, 4, 3), {}), ((3, 0, 3), {}), ((3, 4, 0), {}), ((3, 4, (3, 0)), {}), ((3, 4, 3), {"stride": 0}),
    ((3, 4, 3), {"padding": -1}), ((3, 4, 3), {"padding": "full"}), ((3, 4, 3), {"stride": 2, "padding": "same"}),
    ((2.5, 4, 3), {}),
])
def test_layer_rejects_bad_arguments(impl, args, kwargs):
    with pytest.raises(ValueError):
        impl.Conv2d(*args, rng=0, **kwargs)
        pytest.fail(f"Conv2d{args} with {kwargs} must raise ValueError when the layer is created")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_rejects_inputs_that_do_not_fit(impl):
    layer = impl.Conv2d(3, 4, 5, rng=0)
    with pytest.raises(ValueError):
        layer.forward(randn(0, 2, 2, 8, 8).astype(np.float32))
        pytest.fail("Conv2d(3, ...) given an input with 2 channels must raise ValueError")
    with pytest.raises(ValueError):
        layer.forward(randn(0, 2, 3, 4, 8).astype(np.float32))
        pytest.fail("a 5x5 kernel on a 4x8 input without padding must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_backward_before_forward_raises(impl):
    layer = impl.Conv2d(2, 3, 3, rng=0)
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((1, 3, 2, 2), dtype=np.float32))
        pytest.fail("Conv2d.backward before any forward must raise RuntimeError (there is no cache)")
