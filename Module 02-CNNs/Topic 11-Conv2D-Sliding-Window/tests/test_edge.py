"""Topic 11 edge tests: kernels that do not fit, bad arguments, bad shapes, batch of 1 and 0, strided inputs,
float32, NaN, extreme geometries (stride > kernel, stride > input, padding > kernel)."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape


def randn(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------------------------------
# Kernels that do not fit, bad arguments
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_conv_output_size_rejects_bad_arguments(impl):
    assert int(impl.conv_output_size(2, 3, padding=1)) == 2, "a 3-wide kernel fits a 2-wide input padded to 4"
    cases = [dict(size=2, kernel_size=3), dict(size=5, kernel_size=3, dilation=3), dict(size=5, kernel_size=3, stride=0),
             dict(size=5, kernel_size=3, padding=-1), dict(size=5, kernel_size=0), dict(size=5, kernel_size=3, dilation=0)]
    for kwargs in cases:
        with pytest.raises(ValueError):
            impl.conv_output_size(**kwargs)
            pytest.fail(f"conv_output_size({kwargs}) must raise ValueError (the kernel does not fit, or an argument "
                        f"is out of range), it returned a size")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_kernel_larger_than_the_padded_input_raises(impl):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 1, 2, 2), randn(1, 1, 1, 3, 3))
        pytest.fail("a 3x3 kernel on a 2x2 input without padding must raise ValueError (no window fits)")
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 1, 4, 4), randn(1, 1, 1, 2, 5))
        pytest.fail("a kernel 5 wide on an input 4 wide must raise ValueError, even if its height fits")
    out, _ = impl.conv2d_forward(randn(0, 1, 1, 2, 2), randn(1, 1, 1, 3, 3), None, 1, 1)
    assert_shape(out, (1, 1, 2, 2), "a 3x3 kernel on a 2x2 input with padding=1 (it fits the padded 4x4)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("padding", ["full", "SAME", "", -1, (1, -1), (1, 2, 3), 1.5, None])
def test_bad_padding_raises(impl, padding):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 2, 5, 5), randn(1, 3, 2, 3, 3), None, 1, padding)
        pytest.fail(f"padding={padding!r} must raise ValueError: use an int >= 0, a pair (ph, pw), 'valid' or 'same'")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("stride", [2, (1, 2), (2, 1)])
def test_same_padding_with_a_stride_raises(impl, stride):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 2, 6, 6), randn(1, 3, 2, 3, 3), None, stride, "same")
        pytest.fail(f"padding='same' with stride={stride!r} must raise ValueError, as in PyTorch (with a stride the "
                    f"output cannot keep the input's size)")
    out, _ = impl.conv2d_forward(randn(0, 1, 2, 6, 6), randn(1, 3, 2, 3, 3), None, stride, "valid")
    assert as_array(out).shape[1] == 3, "padding='valid' works with any stride"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("stride", [0, -1, (1, 0), 1.5, (2, 2, 2)])
def test_bad_stride_raises(impl, stride):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 1, 2, 5, 5), randn(1, 3, 2, 3, 3), None, stride, 0)
        pytest.fail(f"stride={stride!r} must raise ValueError: use an int >= 1 or a pair (sh, sw)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_channel_mismatch_raises(impl):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 2, 3, 5, 5), randn(1, 4, 2, 3, 3))
        pytest.fail("x with 3 channels and w (4, 2, 3, 3) (expecting 2 input channels) must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("b_shape", [(1,), (4, 1), (5,), (1, 4), ()])
def test_bias_of_the_wrong_shape_raises(impl, b_shape):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, 2, 3, 5, 5), randn(1, 4, 3, 3, 3), randn(2, *b_shape))
        pytest.fail(f"a bias of shape {b_shape} for 4 output channels must raise ValueError (b must be (4,)); "
                    f"broadcasting would silently add the wrong numbers")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("x_shape,w_shape", [((3, 5, 5), (4, 3, 3, 3)), ((1, 1, 3, 5, 5), (4, 3, 3, 3)),
                                             ((2, 3, 5, 5), (3, 3, 3)), ((2, 3, 5, 5), (4, 3, 3, 3, 1))])
def test_wrong_number_of_dimensions_raises(impl, x_shape, w_shape):
    with pytest.raises(ValueError):
        impl.conv2d_forward(randn(0, *x_shape), randn(1, *w_shape))
        pytest.fail(f"x {x_shape} with w {w_shape} must raise ValueError: x is (N, C_in, H, W), w (C_out, C_in, kH, kW)")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("dout_shape", [(2, 4, 3, 1), (4, 3, 4), (2, 4, 4, 3), (1, 4, 3, 4), (2, 4, 3, 4, 1)])
def test_dout_of_the_wrong_shape_raises(impl, dout_shape):
    out, cache = impl.conv2d_forward(randn(0, 2, 3, 5, 6), randn(1, 4, 3, 3, 3), randn(2, 4))
    assert_shape(out, (2, 4, 3, 4), "output")
    with pytest.raises(ValueError):
        impl.conv2d_backward(randn(3, *dout_shape), cache)
        pytest.fail(f"dout of shape {dout_shape} for an output of shape (2, 4, 3, 4) must raise ValueError "
                    f"(a broadcast or a transposed gradient would give wrong gradients silently)")


# ----------------------------------------------------------------------------------------------------
# Batch sizes 1 and 0
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_batch_of_one_equals_its_row_of_a_batch(impl):
    x, w, b = randn(0, 3, 2, 6, 5), randn(1, 3, 2, 3, 2), randn(2, 3)
    batch, _ = impl.conv2d_forward(x, w, b, 2, 1)
    single, cache = impl.conv2d_forward(x[1:2], w, b, 2, 1)
    assert_close(single, as_array(batch)[1:2], rtol=1e-12, what="output for a batch of 1 (x[1:2]) vs the same sample "
                                                                "inside a batch of 3")
    dx, dw, db = impl.conv2d_backward(np.ones(as_array(single).shape), cache)
    assert_shape(dx, (1, 2, 6, 5), "dx for a batch of 1")
    assert_shape(dw, w.shape, "dw for a batch of 1")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_empty_batch_forward(impl):
    out, _ = impl.conv2d_forward(np.zeros((0, 3, 5, 5)), randn(1, 4, 3, 3, 3), randn(2, 4), 2, 1)
    assert_shape(out, (0, 4, 3, 3), "output for N = 0 (an empty batch gives an empty output, as in PyTorch)")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_empty_batch_backward(impl):
    out, cache = impl.conv2d_forward(np.zeros((0, 3, 5, 5)), randn(1, 4, 3, 3, 3), randn(2, 4), 2, 1)
    dx, dw, db = (as_array(g) for g in impl.conv2d_backward(np.zeros((0, 4, 3, 3)), cache))
    assert_shape(dx, (0, 3, 5, 5), "dx for N = 0")
    assert_shape(dw, (4, 3, 3, 3), "dw for N = 0")
    assert np.all(dw == 0) and np.all(db == 0) and db.shape == (4,), \
        "for N = 0 the gradients of w and b are sums over no sample: zeros (never NaN, never an error)"


# ----------------------------------------------------------------------------------------------------
# Memory layouts and dtypes
# ----------------------------------------------------------------------------------------------------

def layouts(seed):
    """(name, non-contiguous x, contiguous copy): an NHWC array seen as NCHW, and a strided slice."""
    nhwc = randn(seed, 2, 6, 7, 3)
    big = randn(seed + 1, 2, 3, 12, 15)
    return [("NHWC buffer seen as NCHW (x.transpose(0, 3, 1, 2))", nhwc.transpose(0, 3, 1, 2)),
            ("strided slice x[:, :, ::2, 1::2]", big[:, :, ::2, 1::2])]


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_non_contiguous_input_forward(impl):
    w, b = randn(5, 4, 3, 3, 2), randn(6, 4)
    w_strided = np.ascontiguousarray(w.transpose(2, 3, 1, 0)).transpose(3, 2, 0, 1)   # same values, other strides
    for name, x in layouts(0):
        assert not x.flags.c_contiguous
        expected, _ = impl.conv2d_forward(np.ascontiguousarray(x), w, b, 2, 1)
        got, _ = impl.conv2d_forward(x, w_strided, b, 2, 1)
        assert_close(got, expected, rtol=1e-12, atol=1e-12,
                     what=f"output for a non-contiguous x ({name}) and w vs their contiguous copies (index with "
                          f"x[n, c, i, j] or views; never reshape the raw buffer)")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_non_contiguous_input_backward(impl):
    w, b = randn(5, 4, 3, 3, 2), randn(6, 4)
    for name, x in layouts(10):
        out, cache = impl.conv2d_forward(np.ascontiguousarray(x), w, b, 2, 1)
        dout = randn(7, *as_array(out).shape)
        expected = impl.conv2d_backward(dout, cache)
        _, cache = impl.conv2d_forward(x, w, b, 2, 1)
        dout_strided = np.asfortranarray(dout)
        got = impl.conv2d_backward(dout_strided, cache)
        for label, g, e in zip(("dx", "dw", "db"), got, expected):
            assert_close(g, e, rtol=1e-12, atol=1e-12, what=f"{label} for a non-contiguous x ({name}) and a "
                                                              f"Fortran-ordered dout vs contiguous copies")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_float32_stays_float32_forward(impl):
    x, w, b = randn(0, 2, 3, 6, 6), randn(1, 4, 3, 3, 3), randn(2, 4)
    out64, _ = impl.conv2d_forward(x, w, b, 1, "same")
    out32, _ = impl.conv2d_forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), 1, "same")
    assert as_array(out64).dtype == np.float64, f"float64 in -> float64 out, got {as_array(out64).dtype}"
    assert as_array(out32).dtype == np.float32, (
        f"float32 in -> float32 out, got {as_array(out32).dtype} (a float64 buffer such as np.zeros(shape) without "
        f"dtype= upcasts silently)")
    assert_close(out32, out64, rtol=1e-4, atol=1e-5, what="float32 output vs float64 output")
    no_bias, _ = impl.conv2d_forward(x.astype(np.float32), w.astype(np.float32), None, 2, 0)
    assert as_array(no_bias).dtype == np.float32, f"float32 in without bias -> float32 out, got {as_array(no_bias).dtype}"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_float32_stays_float32_backward(impl):
    x, w, b = (a.astype(np.float32) for a in (randn(0, 2, 3, 6, 6), randn(1, 4, 3, 3, 3), randn(2, 4)))
    out, cache = impl.conv2d_forward(x, w, b, 2, 1)
    grads = impl.conv2d_backward(randn(3, *as_array(out).shape).astype(np.float32), cache)
    for name, g in zip(("dx", "dw", "db"), grads):
        assert as_array(g).dtype == np.float32, f"{name} is {as_array(g).dtype}: float32 in must give float32 gradients"
    out, cache = impl.conv2d_forward(x, w, None, 1, "same")
    dx, dw, db = impl.conv2d_backward(np.ones(as_array(out).shape, dtype=np.float32), cache)
    assert as_array(dx).dtype == np.float32 and as_array(dw).dtype == np.float32 and db is None, \
        "float32 without bias: dx and dw float32, db None"


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_float32_layer(impl):
    layer = impl.Conv2d(3, 4, 3, stride=2, padding=1, rng=0)
    x = randn(0, 2, 3, 7, 7).astype(np.float32)
    out = as_array(layer.forward(x))
    dx = as_array(layer.backward(np.ones_like(out)))
    assert out.dtype == np.float32 and dx.dtype == np.float32, \
        f"Conv2d (float32 by default) on float32 x: output {out.dtype}, dx {dx.dtype}, expected float32"
    for name, p in (("weight", layer.weight), ("bias", layer.bias)):
        assert as_array(p.grad).dtype == np.float32, f"{name}.grad became {as_array(p.grad).dtype}, expected float32"


# ----------------------------------------------------------------------------------------------------
# Values at the edges
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_nan_spoils_only_the_windows_that_contain_it(impl):
    x = randn(0, 1, 2, 7, 7)
    x[0, 1, 3, 3] = np.nan
    out = as_array(impl.conv2d_forward(x, randn(1, 3, 2, 3, 3), randn(2, 3), 1, 1)[0])
    expected = np.zeros((7, 7), dtype=bool)
    expected[2:5, 2:5] = True                                 # the 3x3 windows that cover pixel (3, 3)
    for o in range(3):
        assert np.array_equal(np.isnan(out[0, o]), expected), (
            f"output channel {o}: NaN at {np.argwhere(np.isnan(out[0, o])).tolist()}, expected exactly the 3x3 "
            f"block of windows that contain the NaN pixel (3, 3); every other output must stay finite")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_stride_larger_than_the_kernel_skips_pixels(impl):
    x, w = randn(0, 1, 1, 7, 7), randn(1, 1, 1, 2, 2)
    out, cache = impl.conv2d_forward(x, w, None, 3, 0)
    assert_shape(out, (1, 1, 2, 2), "2x2 kernel, stride 3, on 7x7 (windows at rows/cols 0 and 3)")
    dx = as_array(impl.conv2d_backward(randn(2, 1, 1, 2, 2), cache)[0])
    read = np.zeros((7, 7), dtype=bool)
    for r in (0, 1, 3, 4):
        for q in (0, 1, 3, 4):
            read[r, q] = True
    assert np.all(dx[0, 0][~read] == 0), (
        f"dx is non-zero at pixels no window read ({np.argwhere((dx[0, 0] != 0) & ~read).tolist()}): with stride 3 "
        f"the windows start at rows/cols 0 and 3 only (i * stride), so rows/cols 2, 5 and 6 get no gradient")
    assert np.all(dx[0, 0][read] != 0), "every pixel a window read must receive a gradient"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_kernel_as_large_as_the_padded_input(impl):
    x, w, b = randn(0, 2, 3, 4, 5), randn(1, 2, 3, 4, 5), randn(2, 2)
    out = as_array(impl.conv2d_forward(x, w, b)[0])
    assert_shape(out, (2, 2, 1, 1), "kernel of the size of the input (one window)")
    assert_close(out[:, :, 0, 0], np.einsum("nchw,ochw->no", x, w) + b, rtol=1e-12,
                 what="kernel of the size of the input: one dot product over channels, rows and columns")
    out = as_array(impl.conv2d_forward(x, randn(3, 2, 3, 6, 7), b, 1, 1)[0])
    assert_shape(out, (2, 2, 1, 1), "kernel 6x7 on a 4x5 input padded by 1 (exactly one window)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_stride_larger_than_the_input_gives_one_output(impl):
    x, w = randn(0, 1, 1, 5, 5), randn(1, 1, 1, 3, 3)
    out = as_array(impl.conv2d_forward(x, w, None, 10, 0)[0])
    assert_shape(out, (1, 1, 1, 1), "stride 10 on a 5x5 input with a 3x3 kernel (only the first window fits)")
    assert_close(out[0, 0, 0, 0], np.sum(x[0, 0, :3, :3] * w[0, 0]), rtol=1e-12, what="the only window: top-left 3x3")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_padding_wider_than_the_kernel_gives_the_bias_in_the_border(impl):
    x, w, b = randn(0, 1, 2, 3, 3), randn(1, 2, 2, 2, 2), np.array([0.25, -4.0])
    out = as_array(impl.conv2d_forward(x, w, b, 1, 3)[0])
    assert_shape(out, (1, 2, 8, 8), "padding 3 with a 2x2 kernel on 3x3: (3 + 6 - 2) + 1 = 8")
    border = np.ones((8, 8), dtype=bool)
    border[2:6, 2:6] = False                                  # windows that touch the image start at rows/cols 2..5
    for o in range(2):
        assert np.all(out[0, o][border] == b[o]), (
            f"output channel {o}: windows that see only padding zeros must equal the bias {b[o]} exactly")


# ----------------------------------------------------------------------------------------------------
# The layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
@pytest.mark.parametrize("args,kwargs", [
    ((0, 4, 3), {}), ((3, 0, 3), {}), ((3, 4, 0), {}), ((3, 4, (3, 0)), {}), ((3, 4, 3), {"stride": 0}),
    ((3, 4, 3), {"stride": 2, "padding": "same"}), ((3, 4, 3), {"padding": "full"}), ((3, 4, 3), {"padding": -1}),
    ((3.0, 4, 3), {}), ((3, True, 3), {}), ((3, 4.5, 3), {}),
])
def test_layer_rejects_bad_arguments(impl, args, kwargs):
    with pytest.raises(ValueError):
        impl.Conv2d(*args, **kwargs)
        pytest.fail(f"Conv2d{args} with {kwargs} must raise ValueError when it is created (as torch.nn.Conv2d)")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_rejects_inputs_that_do_not_fit(impl):
    layer = impl.Conv2d(3, 4, 3, rng=0)
    with pytest.raises(ValueError):
        layer.forward(randn(0, 2, 2, 5, 5).astype(np.float32))
        pytest.fail("Conv2d(3, ...) on an input with 2 channels must raise ValueError")
    out = as_array(layer.forward(randn(0, 2, 3, 5, 5).astype(np.float32)))
    with pytest.raises(ValueError):
        layer.backward(np.ones(out.shape[:3] + (1,), dtype=np.float32))
        pytest.fail("Conv2d.backward with a dout of the wrong shape must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_backward_before_forward_raises(impl):
    layer = impl.Conv2d(2, 3, 3, rng=0)
    with pytest.raises(RuntimeError) as info:
        layer.backward(np.ones((1, 3, 2, 2), dtype=np.float32))
        pytest.fail("Conv2d.backward before any forward must raise RuntimeError (there is no cache to use)")
    if isinstance(info.value, NotImplementedError):
        raise info.value
