"""Topic 13 edge tests: batch of one and of zero, strided inputs, float32, NaN/Inf, tiny images, bad arguments."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close, assert_shape


def distinct(shape, seed=0):
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) * (4.0 / size) - 2.0).astype(np.float64)


POOLS = [pytest.param("maxpool2d", dict(kernel_size=3, stride=2, padding=1), id="max", marks=pytest.mark.task(2)),
         pytest.param("avgpool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False), id="avg",
                      marks=pytest.mark.task(3))]


def run(impl, name, x, kwargs, dout_seed=1):
    out, cache = getattr(impl, f"{name}_forward")(x, **kwargs)
    out = as_array(out)
    dout = np.random.default_rng(dout_seed).standard_normal(out.shape).astype(out.dtype)
    dx = as_array(getattr(impl, f"{name}_backward")(dout, cache))
    return out, dx


# ----------------------------------------------------------------------------------------------------
# Batch sizes 1 and 0
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_maxpool_batch_of_one_and_of_zero(impl):
    x = distinct((3, 2, 5, 5))
    out, _ = impl.maxpool2d_forward(x, 3, stride=2, padding=1)
    one, cache = impl.maxpool2d_forward(x[1:2], 3, stride=2, padding=1)
    assert_close(one, as_array(out)[1:2], what="max pool of a batch of one sample (the same as its row of a batch)")
    assert_shape(impl.maxpool2d_backward(np.ones((1, 2, 3, 3)), cache), (1, 2, 5, 5), "dx for a batch of one")
    empty, cache = impl.maxpool2d_forward(np.zeros((0, 2, 5, 5)), 3, stride=2, padding=1)
    assert_shape(empty, (0, 2, 3, 3), "max pool of an empty batch (defined: an empty output of the right shape)")
    assert_shape(impl.maxpool2d_backward(np.zeros((0, 2, 3, 3)), cache), (0, 2, 5, 5), "dx of an empty batch")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_avgpool_batch_of_one_and_of_zero(impl):
    x = distinct((3, 2, 5, 5))
    out, _ = impl.avgpool2d_forward(x, 2, ceil_mode=True)
    one, cache = impl.avgpool2d_forward(x[2:3], 2, ceil_mode=True)
    assert_close(one, as_array(out)[2:3], what="avg pool of a batch of one sample")
    assert_shape(impl.avgpool2d_backward(np.ones((1, 2, 3, 3)), cache), (1, 2, 5, 5), "dx for a batch of one")
    empty, cache = impl.avgpool2d_forward(np.zeros((0, 2, 5, 5)), 2, ceil_mode=True)
    assert_shape(empty, (0, 2, 3, 3), "avg pool of an empty batch (defined: an empty output of the right shape)")
    assert_shape(impl.avgpool2d_backward(np.zeros((0, 2, 3, 3)), cache), (0, 2, 5, 5), "dx of an empty batch")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_global_avg_pool_batch_of_one_and_of_zero(impl):
    x = distinct((1, 3, 4, 4))
    out, cache = impl.global_avg_pool_forward(x)
    assert_close(out, x.mean(axis=(2, 3)), what="global average pool of one sample")
    empty, cache = impl.global_avg_pool_forward(np.zeros((0, 3, 4, 4)))
    assert_shape(empty, (0, 3), "global average pool of an empty batch")
    assert_shape(impl.global_avg_pool_backward(np.zeros((0, 3)), cache), (0, 3, 4, 4), "dx of an empty batch")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_flatten_batch_of_zero(impl):
    layer = impl.Flatten()
    out = as_array(layer.forward(np.zeros((0, 3, 4, 4))))
    assert_shape(out, (0, 48), "Flatten of an empty batch (compute C*H*W yourself: reshape(0, -1) raises)")
    assert_shape(layer.backward(np.zeros((0, 48))), (0, 3, 4, 4), "Flatten.backward of an empty batch")


# ----------------------------------------------------------------------------------------------------
# Strided (non-contiguous) inputs
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.parametrize("name,kwargs", POOLS)
def test_non_contiguous_input(impl, name, kwargs):
    base = distinct((2, 3, 6, 10), seed=2)
    views = {"transposed": base.transpose(0, 1, 3, 2)[:, :, :, :5],   # (2, 3, 10, 5), no unit stride
             "every other column": base[:, :, :, ::2],                  # (2, 3, 6, 5)
             "channels reversed": base[:, ::-1]}
    for what, view in views.items():
        assert not view.flags.c_contiguous
        out, dx = run(impl, name, view, kwargs)
        ref_out, ref_dx = run(impl, name, np.ascontiguousarray(view), kwargs)
        assert_close(out, ref_out, rtol=1e-12, what=f"{name} of a {what} view (must equal the contiguous copy)")
        assert_close(dx, ref_dx, rtol=1e-12, what=f"{name} dx for a {what} view")


# ----------------------------------------------------------------------------------------------------
# dtype
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.parametrize("name,kwargs", POOLS)
def test_float32_is_preserved(impl, name, kwargs):
    x = distinct((2, 3, 5, 6), seed=3)
    out64, dx64 = run(impl, name, x, kwargs)
    out32, dx32 = run(impl, name, x.astype(np.float32), kwargs)
    assert out32.dtype == np.float32, f"{name}_forward turned float32 into {out32.dtype}"
    assert dx32.dtype == np.float32, f"{name}_backward turned float32 into {dx32.dtype}"
    assert_close(out32, out64, rtol=1e-6, atol=1e-6, what=f"{name} in float32 vs float64")
    assert_close(dx32, dx64, rtol=1e-5, atol=1e-6, what=f"{name} dx in float32 vs float64")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_layers_keep_float32(impl):
    x = distinct((2, 3, 6, 6), seed=4).astype(np.float32)
    for layer in (impl.MaxPool2d(2), impl.AvgPool2d(3, stride=2, padding=1), impl.GlobalAvgPool2d(), impl.Flatten()):
        out = as_array(layer.forward(x))
        dx = as_array(layer.backward(np.ones(out.shape, dtype=np.float32)))
        assert out.dtype == np.float32 and dx.dtype == np.float32, (
            f"{type(layer).__name__}: float32 in gave {out.dtype} out and {dx.dtype} dx")


# ----------------------------------------------------------------------------------------------------
# NaN, Inf, extreme values
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_nan_and_inf_in_max_pooling(impl):
    x = distinct((1, 1, 4, 4), seed=5)
    x[0, 0, 0, 1] = np.nan
    x[0, 0, 3, 3] = np.inf
    out, cache = impl.maxpool2d_forward(x, 2)
    out = as_array(out)
    assert np.isnan(out[0, 0, 0, 0]), "a window holding a NaN must output NaN (as PyTorch: NaN propagates)"
    assert out[0, 0, 1, 1] == np.inf, "a window holding +inf outputs +inf"
    assert np.isfinite(out[0, 0, 0, 1]) and np.isfinite(out[0, 0, 1, 0]), "a NaN spoils only its own window"
    dx = as_array(impl.maxpool2d_backward(np.ones((1, 1, 2, 2)), cache))
    assert dx[0, 0, 3, 3] == 1.0, "the +inf cell is the maximum of its window: it gets that window's gradient"


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(2)
def test_minus_infinity_beside_the_padding(impl):
    # every real cell is -inf, like the padding: PyTorch picks the FIRST REAL cell of each window, never a pad
    x = np.full((1, 1, 3, 3), -np.inf)
    out, cache = impl.maxpool2d_forward(x, 3, stride=2, padding=1)
    assert np.all(as_array(out) == -np.inf), "max of -inf cells is -inf"
    dx = as_array(impl.maxpool2d_backward(np.ones((1, 1, 2, 2)), cache))
    assert_close(dx[0, 0], [[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]],
                 what="dx when every cell ties with the -inf padding (each window's gradient goes to its first "
                      "real cell, as PyTorch; gradient sent into the padding would be lost)")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_extreme_values(impl):
    big = np.full((1, 2, 4, 4), 1e300)
    out, _ = impl.avgpool2d_forward(big, 2)
    assert_all_finite(out, "avg pool of 1e300 (a sum of four 1e300 still fits in float64)")
    assert_close(out, np.full((1, 2, 2, 2), 1e300), what="avg pool of 1e300")
    x = distinct((1, 2, 4, 4), seed=6) * 1e307
    out, _ = impl.maxpool2d_forward(x, 2)
    assert_close(out, x.reshape(1, 2, 2, 2, 2, 2).max(axis=(3, 5)), what="max pool of values near 1e308")


# ----------------------------------------------------------------------------------------------------
# Tiny images
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_tiny_images(impl):
    one = np.array([[[[3.0]]]])
    assert_close(impl.maxpool2d_forward(one, 1)[0], one, what="1x1 image, kernel 1")
    assert_close(impl.maxpool2d_forward(one, 3, stride=1, padding=1)[0], one,
                 what="1x1 image, kernel 3, padding 1 (the window holds one real cell)")
    assert_close(impl.avgpool2d_forward(one, 3, stride=1, padding=1)[0], one / 9,
                 what="1x1 image, avg kernel 3, padding 1, count_include_pad=True (1 real cell of 9)")
    assert_close(impl.avgpool2d_forward(one, 3, stride=1, padding=1, count_include_pad=False)[0], one,
                 what="1x1 image, avg kernel 3, padding 1, count_include_pad=False")
    two = np.array([[[[1.0, 2.0], [4.0, 3.0]]]])
    assert_close(impl.maxpool2d_forward(two, 2)[0], [[[[4.0]]]], what="2x2 image, kernel 2")
    assert_close(impl.avgpool2d_forward(two, 2)[0], [[[[2.5]]]], what="2x2 image, avg kernel 2")


# ----------------------------------------------------------------------------------------------------
# Bad arguments: a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_bad_pool_arguments_raise(impl):
    x = np.zeros((1, 1, 4, 4))
    bad = [dict(kernel_size=5),                        # larger than the image
           dict(kernel_size=2, padding=2),             # padding above half the kernel (PyTorch refuses)
           dict(kernel_size=0), dict(kernel_size=2, stride=0), dict(kernel_size=2, padding=-1),
           dict(kernel_size=(2, 2, 2)), dict(kernel_size=2.0)]
    for kwargs in bad:
        for name in ("maxpool2d_forward", "avgpool2d_forward"):
            with pytest.raises(ValueError):
                getattr(impl, name)(x, **kwargs)
                pytest.fail(f"{name}(x (1, 1, 4, 4), {kwargs}) must raise ValueError")
    for args in ((4, 5), (4, 2, 0), (4, 2, 1, 2), (4, 0)):
        with pytest.raises(ValueError):
            impl.pool_output_size(*args)
            pytest.fail(f"pool_output_size{args} must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_bad_input_shapes_raise(impl):
    for x in (np.zeros((2, 4, 4)), np.zeros((1, 2, 4, 4, 1)), np.zeros((1, 1, 4, 4), dtype=np.int64)):
        for name in ("maxpool2d_forward", "avgpool2d_forward"):
            with pytest.raises(ValueError):
                getattr(impl, name)(x, 2)
                pytest.fail(f"{name} of an array of shape {x.shape}, dtype {x.dtype} must raise ValueError "
                            f"(expects a floating (N, C, H, W) array)")
        with pytest.raises(ValueError):
            impl.global_avg_pool_forward(x)
            pytest.fail(f"global_avg_pool_forward of shape {x.shape}, dtype {x.dtype} must raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_wrong_dout_shapes_raise(impl):
    x = distinct((2, 3, 4, 4), seed=7)
    for name in ("maxpool2d", "avgpool2d"):
        _, cache = getattr(impl, f"{name}_forward")(x, 2)
        for shape in ((2, 3, 2), (2, 3, 2, 1), (1, 3, 2, 2), (2, 3, 2, 2, 1), (2, 3, 4, 4)):
            with pytest.raises(ValueError):
                getattr(impl, f"{name}_backward")(np.ones(shape), cache)
                pytest.fail(f"{name}_backward with dout {shape} (output is (2, 3, 2, 2)) must raise ValueError")
    _, cache = impl.global_avg_pool_forward(x)
    for shape in ((2, 3, 1, 1), (3,), (2, 1)):
        with pytest.raises(ValueError):
            impl.global_avg_pool_backward(np.ones(shape), cache)
            pytest.fail(f"global_avg_pool_backward with dout {shape} (output is (2, 3)) must raise ValueError: "
                        f"(2, 3, 1, 1) would broadcast silently")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_layers_reject_bad_use(impl):
    with pytest.raises(ValueError):
        impl.MaxPool2d(2, padding=2).forward(np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError):
        impl.AvgPool2d(3, stride=0).forward(np.zeros((1, 1, 4, 4)))
    for layer in (impl.MaxPool2d(2), impl.AvgPool2d(2), impl.GlobalAvgPool2d(), impl.Flatten()):
        with pytest.raises(RuntimeError):
            layer.backward(np.ones((1, 1, 2, 2)))
            pytest.fail(f"{type(layer).__name__}.backward before forward must raise RuntimeError")
    flat = impl.Flatten()
    flat.forward(np.zeros((2, 3, 4)))
    with pytest.raises(ValueError):
        flat.backward(np.zeros((2, 3, 4)))
        pytest.fail("Flatten.backward with a dout of the input's shape (not the output's (2, 12)) must raise")
    with pytest.raises(ValueError):
        impl.Flatten(start_dim=3).forward(np.zeros((2, 3, 4)))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_receptive_field_rejects_bad_layers(impl):
    for layers in ([(0, 1)], [(3, 0)], [(3,)], [(3, 1, 1)], [3]):
        with pytest.raises(ValueError):
            impl.receptive_field(layers)
            pytest.fail(f"receptive_field({layers}) must raise ValueError (each layer is (kernel_size >= 1, stride >= 1))")
