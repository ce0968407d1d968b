"""Topic 15 edge tests: batch of one and of zero, strided inputs, float32, NaN in a dilated hole, tiny images,
bad shapes and arguments."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape


def rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


KW = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)


# ----------------------------------------------------------------------------------------------------
# Batch sizes 1 and 0
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_batch_of_one(impl):
    x, w, b = rand((3, 4, 6, 6)), rand((6, 2, 3, 3), 1), rand(6, 2)
    out, _ = impl.conv2d_forward(x, w, b, **KW)
    one, cache = impl.conv2d_forward(x[1:2], w, b, **KW)
    assert_close(one, as_array(out)[1:2], rtol=1e-12, what="a batch of one sample (the same as its row of a batch)")
    dx, dw, db = impl.conv2d_backward(np.ones(as_array(one).shape), cache)
    assert_shape(dx, (1, 4, 6, 6), "dx for a batch of one")
    assert_close(db, np.full(6, float(np.prod(as_array(one).shape[2:]))), what="db for dout = 1 (the number of positions)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_empty_batch(impl):
    w, b = rand((6, 2, 3, 3), 1), rand(6, 2)
    out, cache = impl.conv2d_forward(np.zeros((0, 4, 6, 6)), w, b, **KW)
    assert_shape(out, (0, 6, 3, 6), "conv2d_forward of an empty batch (defined: an empty output of the right shape)")
    dx, dw, db = impl.conv2d_backward(np.zeros((0, 6, 3, 6)), cache)
    assert_shape(dx, (0, 4, 6, 6), "dx of an empty batch")
    assert_close(dw, np.zeros_like(w), what="dw of an empty batch (nothing to learn from: zeros)")
    assert_close(db, np.zeros(6), what="db of an empty batch (zeros)")


# ----------------------------------------------------------------------------------------------------
# Strided (non-contiguous) inputs and dtypes
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_non_contiguous_inputs(impl):
    base = rand((2, 4, 7, 12), 3)
    x = base[:, :, :, ::2]                                   # every other column
    xt = base.transpose(0, 1, 3, 2)[:, :, :6]                # transposed
    w = rand((3, 3, 2, 6), 4).transpose(3, 2, 0, 1)           # (6, 2, 3, 3) stored in another order
    dout_base = rand((2, 6, 8, 8), 5)
    for name, xv in (("every other column", x), ("transposed", xt)):
        assert not xv.flags.c_contiguous and not w.flags.c_contiguous
        out, cache = impl.conv2d_forward(xv, w, None, padding=1, groups=2)
        ref, ref_cache = impl.conv2d_forward(np.ascontiguousarray(xv), np.ascontiguousarray(w), None, padding=1, groups=2)
        assert_close(out, ref, rtol=1e-12, what=f"conv2d of a {name} view of x and a strided w (vs contiguous copies)")
        dout = dout_base[:, :, :as_array(out).shape[2], :as_array(out).shape[3]]
        for got, expected, what in zip(impl.conv2d_backward(dout, cache), impl.conv2d_backward(dout, ref_cache),
                                       ("dx", "dw", "db")):
            if expected is not None:
                assert_close(got, expected, rtol=1e-12, what=f"{what} for a {name} view and a strided dout")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(1)
@pytest.mark.parametrize("kwargs", [dict(padding=1, dilation=2, groups=2), dict(padding=1, groups=4)],
                         ids=["grouped-dilated", "depthwise"])
def test_float32_is_preserved(impl, kwargs):
    x, b = rand((2, 4, 6, 6), 6), rand(8, 7)
    w = rand((8, 4 // kwargs["groups"], 3, 3), 8)
    out64, cache64 = impl.conv2d_forward(x, w, b, **kwargs)
    out32, cache32 = impl.conv2d_forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), **kwargs)
    assert as_array(out32).dtype == np.float32, f"float32 in gave {as_array(out32).dtype} out"
    assert_close(out32, out64, rtol=1e-4, atol=1e-4, what="float32 output vs float64")
    dout = rand(as_array(out64).shape, 9)
    for got, expected, what in zip(impl.conv2d_backward(dout.astype(np.float32), cache32),
                                   impl.conv2d_backward(dout, cache64), ("dx", "dw", "db")):
        assert as_array(got).dtype == np.float32, f"{what} is {as_array(got).dtype}, expected float32"
        assert_close(got, expected, rtol=1e-4, atol=1e-3, what=f"float32 {what} vs float64")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_layers_keep_float32(impl):
    x = rand((2, 4, 6, 6), 10, np.float32)
    for layer in (impl.Conv2d(4, 4, 3, groups=2, rng=0), impl.DepthwiseConv2d(4, 3, depth_multiplier=2, rng=0),
                  impl.SeparableConv2d(4, 6, 3, padding=1, rng=0)):
        out = as_array(layer.forward(x))
        dx = as_array(layer.backward(np.ones(out.shape, dtype=np.float32)))
        kinds = {as_array(p.data).dtype for p in layer.parameters()} | {as_array(p.grad).dtype for p in layer.parameters()}
        assert out.dtype == dx.dtype == np.float32 and kinds == {np.dtype(np.float32)}, (
            f"{type(layer).__name__}: float32 in gave {out.dtype} out, {dx.dtype} dx, parameters/grads {kinds}")


# ----------------------------------------------------------------------------------------------------
# Values: a NaN in a dilated hole, tiny images
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(1)
def test_nan_in_a_dilated_hole_is_not_seen(impl):
    x = rand((1, 1, 5, 5), 11)
    x[0, 0, 1, 1] = np.nan              # between the taps of the window at (0, 0): a dilation-2 kernel skips it
    out = as_array(impl.conv2d_forward(x, np.ones((1, 1, 3, 3)), None, dilation=2)[0])
    assert out.shape == (1, 1, 1, 1) and np.isfinite(out[0, 0, 0, 0]), (
        "a 3x3 kernel with dilation 2 reads x[0::2, 0::2] of a 5x5 image: the NaN at (1, 1) sits in a hole and must "
        "not reach the output (were the taps 1 pixel apart?)")
    assert_close(out[0, 0, 0, 0], x[0, 0, ::2, ::2].sum(), what="dilated 3x3 sum of ones over a 5x5 image")
    x[0, 0, 2, 2] = np.nan              # now on a tap
    assert np.isnan(as_array(impl.conv2d_forward(x, np.ones((1, 1, 3, 3)), None, dilation=2)[0])).all(), \
        "a NaN under a tap must propagate"


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(1)
def test_tiny_images(impl):
    one = np.array([[[[3.0]]]])
    assert_close(impl.conv2d_forward(one, np.array([[[[2.0]]]]), np.array([1.0]))[0], [[[[7.0]]]],
                 what="1x1 image, 1x1 kernel, bias 1")
    out = as_array(impl.conv2d_forward(one, np.ones((1, 1, 3, 3)), None, padding=2, dilation=2)[0])
    assert_close(out, [[[[3.0]]]], what="1x1 image, 3x3 kernel with dilation 2 and padding 2 (only the centre tap is real)")
    x = rand((1, 2, 2, 2), 12)
    out = as_array(impl.conv2d_forward(x, np.ones((2, 1, 2, 2)), None, groups=2)[0])
    assert_close(out[0, :, 0, 0], x[0].sum(axis=(1, 2)), what="2x2 depthwise kernel of ones on a 2x2 image")


# ----------------------------------------------------------------------------------------------------
# Bad arguments: a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_bad_shapes_raise(impl):
    x = rand((2, 4, 6, 6))
    bad = [(x, rand((6, 4, 3, 3)), None, dict(groups=2), "w has C_in channels but groups=2 expects C_in / 2"),
           (x, rand((6, 2, 3, 3)), None, dict(groups=3), "groups=3 does not divide 4 input channels"),
           (x, rand((5, 2, 3, 3)), None, dict(groups=2), "groups=2 does not divide 5 output channels"),
           (x, rand((6, 2, 3, 3)), rand(1), dict(groups=2), "a bias of shape (1,) would broadcast"),
           (x, rand((6, 2, 3, 3)), rand((1, 6)), dict(groups=2), "a bias of shape (1, 6) would broadcast"),
           (x[0], rand((6, 4, 3, 3)), None, dict(), "x is 3-D"),
           (x, rand((6, 4, 3)), None, dict(), "w is 3-D"),
           (x, rand((6, 4, 3, 3)), None, dict(dilation=3), "the dilated kernel spans 7 pixels of a 6x6 image"),
           (x, rand((6, 4, 7, 7)), None, dict(), "the kernel is larger than the image"),
           (x, rand((6, 4, 3, 3)), None, dict(padding="same", stride=2), "padding='same' with stride 2"),
           (x, rand((6, 4, 3, 3)), None, dict(padding="full"), "an unknown padding string"),
           (x, rand((6, 4, 3, 3)), None, dict(stride=0), "stride 0"),
           (x, rand((6, 4, 3, 3)), None, dict(dilation=0), "dilation 0"),
           (x, rand((6, 4, 3, 3)), None, dict(groups=0), "groups 0"),
           (x, rand((6, 4, 3, 3)), None, dict(padding=-1), "negative padding")]
    for xx, w, b, kwargs, why in bad:
        with pytest.raises(ValueError):
            impl.conv2d_forward(xx, w, b, **kwargs)
            pytest.fail(f"conv2d_forward must raise ValueError: {why}")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_wrong_dout_shape_raises(impl):
    out, cache = impl.conv2d_forward(rand((2, 4, 6, 6)), rand((6, 2, 3, 3), 1), rand(6), **KW)
    shape = as_array(out).shape
    for wrong in ((2, 6, 3), (2, 6, 3, 1), (1,) + shape[1:], (2, 3) + shape[2:], shape + (1,)):
        with pytest.raises(ValueError):
            impl.conv2d_backward(np.ones(wrong), cache)
            pytest.fail(f"conv2d_backward with dout {wrong} (the output is {shape}) must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_layers_reject_bad_configurations(impl):
    with pytest.raises(ValueError):
        impl.Conv2d(6, 4, 3, groups=4)
    with pytest.raises(ValueError):
        impl.Conv2d(4, 4, 3, padding="same", stride=2)
    with pytest.raises(ValueError):
        impl.DepthwiseConv2d(4, 3, depth_multiplier=0)
    with pytest.raises(ValueError):
        impl.SeparableConv2d(4, 0, 3)
    for layer in (impl.Conv2d(4, 4, 3, rng=0), impl.DepthwiseConv2d(4, 3, rng=0), impl.SeparableConv2d(4, 4, 3, rng=0)):
        with pytest.raises(RuntimeError):
            layer.backward(np.ones((1, 4, 2, 2)))
            pytest.fail(f"{type(layer).__name__}.backward before forward must raise RuntimeError")
    with pytest.raises(ValueError):
        impl.Conv2d(4, 4, 3, rng=0).forward(rand((1, 3, 5, 5)))


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_counts_reject_bad_arguments(impl):
    for args, kwargs in (((6, 4, 3), dict(groups=4)), ((4, 6, 3), dict(groups=4)), ((0, 4, 3), {}), ((4, 4, 0), {})):
        with pytest.raises(ValueError):
            impl.conv_params(*args, **kwargs)
            pytest.fail(f"conv_params{args} {kwargs} must raise ValueError")
    for kwargs in (dict(groups=3), dict(padding="same", stride=2), dict(dilation=5)):
        with pytest.raises(ValueError):
            impl.conv_flops(4, 6, 3, 8, **kwargs)
            pytest.fail(f"conv_flops(4, 6, 3, 8, {kwargs}) must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_receptive_field_rejects_bad_layers(impl):
    for layers in ([(3, 1, 0)], [(0, 1, 1)], [(3, 0, 1)], [(3,)], [(3, 1, 1, 1)], [3]):
        with pytest.raises(ValueError):
            impl.receptive_field(layers)
            pytest.fail(f"receptive_field({layers}) must raise ValueError")
    with pytest.raises(ValueError):
        impl.effective_kernel_size(3, 0)
