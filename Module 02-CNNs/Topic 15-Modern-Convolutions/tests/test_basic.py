"""Topic 15 basic tests: grouped/dilated convolution by hand, against PyTorch and finite differences; the layers;
parameter and FLOP counts; the receptive field of dilated stacks."""

import math

import numpy as np
import pytest

from dlfs.finite_difference_checker import numerical_gradient, numerical_jacobian_vector
from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape, rel_error


def rand(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def grads(result):
    dx, dw, db = result
    return as_array(dx), as_array(dw), None if db is None else as_array(db)


# (name, x shape, w shape, bias, kwargs) exactly as the level-4 reference wrote tests/golden/conv.npz
GOLDEN_CASES = [
    ("dilated", (2, 3, 7, 7), (4, 3, 3, 3), True, dict(padding=2, dilation=2)),
    ("grouped", (2, 4, 6, 6), (6, 2, 3, 3), True, dict(stride=2, padding=1, groups=2)),
    ("depthwise_x2", (2, 3, 6, 5), (6, 1, 3, 3), True, dict(padding=1, groups=3)),
    ("grouped_dilated_rect", (1, 4, 8, 7), (4, 1, 3, 2), False,
     dict(stride=(1, 2), padding=(2, 1), dilation=(2, 1), groups=4)),
    ("same_even_dilated", (2, 2, 6, 6), (3, 2, 2, 2), True, dict(padding="same", dilation=3)),
    ("same_even", (2, 2, 5, 6), (2, 1, 4, 3), False, dict(padding="same", groups=2)),
    ("valid_bottleneck_1x1", (2, 6, 4, 4), (3, 6, 1, 1), True, dict(padding="valid")),
    ("strided_dilated", (2, 2, 9, 9), (4, 2, 3, 3), True, dict(stride=2, dilation=2)),
]
GOLDEN_IDS = [c[0] for c in GOLDEN_CASES]


def golden_case(golden, name):
    g = golden("conv")
    b = g.get(f"{name}_b")
    return g, g[f"{name}_x"], g[f"{name}_w"], b


# ----------------------------------------------------------------------------------------------------
# Task 1: grouped, dilated convolution
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(1)
def test_output_shapes_with_every_argument(impl):
    x = rand((2, 4, 9, 8))
    cases = [((6, 4, 3, 3), dict(), (7, 6)),
             ((6, 4, 3, 3), dict(dilation=2), (5, 4)),                       # the kernel spans 5 pixels
             ((6, 4, 3, 3), dict(dilation=2, padding=2), (9, 8)),            # padding = dilation keeps the size
             ((6, 2, 3, 3), dict(groups=2, stride=2, padding=1), (5, 4)),
             ((4, 1, 3, 3), dict(groups=4, dilation=(3, 1), padding="same"), (9, 8)),
             ((8, 4, 2, 3), dict(stride=(2, 3), padding=(1, 0), dilation=(1, 2)), (5, 2)),
             ((6, 4, 4, 4), dict(padding="same", dilation=2), (9, 8)),          # even kernel: asymmetric padding
             ((3, 4, 1, 1), dict(padding="valid"), (9, 8))]
    for w_shape, kwargs, hw in cases:
        out, _ = impl.conv2d_forward(x, rand(w_shape, 1), None, **kwargs)
        assert_shape(out, (2, w_shape[0]) + hw,
                     f"conv2d_forward(x {x.shape}, w {w_shape}, {kwargs}): Ho = floor((H + pads - d*(k-1) - 1) / s) + 1")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(1)
def test_dilated_conv_by_hand(impl):
    x = np.arange(25.0).reshape(1, 1, 5, 5)
    w = np.array([[1.0, 10.0], [100.0, 1000.0]]).reshape(1, 1, 2, 2)
    out, _ = impl.conv2d_forward(x, w, None, dilation=2)
    # the four taps are 2 pixels apart: out[i, j] = x[i, j] + 10 x[i, j+2] + 100 x[i+2, j] + 1000 x[i+2, j+2]
    X = x[0, 0]
    expected = X[:3, :3] + 10 * X[:3, 2:] + 100 * X[2:, :3] + 1000 * X[2:, 2:]
    if as_array(out).shape[2:] == (2, 2):
        pytest.fail("a 2x2 kernel with dilation 2 on 5x5 gives 3x3 (it spans 3 pixels); 2x2 means the dilation "
                    "was applied to the stride (the windows) instead of to the taps inside a window")
    assert_close(out[0, 0], expected, what="2x2 kernel with dilation 2 (taps 2 pixels apart: x[i, j], x[i, j+2], "
                                           "x[i+2, j], x[i+2, j+2])")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_grouped_conv_by_hand(impl):
    x = rand((2, 4, 3, 3), 2)
    # groups=2: output channels 0, 1 see input channels 0, 1; output channels 2, 3 see input channels 2, 3
    w = np.zeros((4, 2, 1, 1))
    w[0, 0] = 2.0            # out 0 = 2 * in 0
    w[1, 1] = -1.0           # out 1 = -in 1
    w[2, 0] = 3.0            # out 2 = 3 * in 2   (channel 0 OF GROUP 1)
    w[3, :] = 1.0            # out 3 = in 2 + in 3
    out = as_array(impl.conv2d_forward(x, w, np.array([0.0, 0.0, 0.5, 0.0]), groups=2)[0])
    expected = np.stack([2 * x[:, 0], -x[:, 1], 3 * x[:, 2] + 0.5, x[:, 2] + x[:, 3]], axis=1)
    assert_close(out, expected, rtol=1e-12,
                 what="groups=2, 1x1 kernels (group g is the CONTIGUOUS block of channels g*C/G .. (g+1)*C/G - 1, of "
                      "the input and of the output; w[o, c] is channel c of o's group)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_depthwise_channel_order_is_pytorchs(impl):
    x = rand((2, 3, 5, 5), 3)
    w = rand((6, 1, 3, 3), 4)                       # depth multiplier 2: two filters per input channel
    out = as_array(impl.conv2d_forward(x, w, None, padding=1, groups=3)[0])
    for o in range(6):
        c = o // 2                                   # PyTorch: output channel o filters input channel o // multiplier
        single = as_array(impl.conv2d_forward(x[:, c:c + 1], w[o:o + 1], None, padding=1)[0])
        assert_close(out[:, o:o + 1], single, rtol=1e-12,
                     what=f"depthwise output channel {o} (with 2 filters per channel it must filter input channel "
                          f"{o} // 2 = {c}, not {o % 3})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_pointwise_conv_is_a_matmul_over_channels(impl):
    x, w, b = rand((2, 6, 4, 5), 5), rand((3, 6, 1, 1), 6), rand(3, 7)
    out, _ = impl.conv2d_forward(x, w, b)
    assert_close(out, np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x) + b[:, None, None], rtol=1e-12,
                 what="1x1 convolution (a Linear layer over the channels, applied at every pixel)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
@pytest.mark.parametrize("name,x_shape,w_shape,has_bias,kwargs", GOLDEN_CASES, ids=GOLDEN_IDS)
def test_forward_matches_pytorch(impl, golden, name, x_shape, w_shape, has_bias, kwargs):
    g, x, w, b = golden_case(golden, name)
    out, _ = impl.conv2d_forward(x, w, b, **kwargs)
    assert_close(out, g[f"{name}_out"], rtol=1e-10, atol=1e-12,
                 what=f"conv2d_forward(x {x_shape}, w {w_shape}, bias={has_bias}, {kwargs}) vs torch F.conv2d")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
@pytest.mark.parametrize("name,x_shape,w_shape,has_bias,kwargs", GOLDEN_CASES, ids=GOLDEN_IDS)
def test_backward_matches_pytorch(impl, golden, name, x_shape, w_shape, has_bias, kwargs):
    g, x, w, b = golden_case(golden, name)
    _, cache = impl.conv2d_forward(x, w, b, **kwargs)
    dx, dw, db = grads(impl.conv2d_backward(g[f"{name}_dout"], cache))
    what = f"({kwargs}, bias={has_bias}) vs PyTorch autograd"
    assert_close(dx, g[f"{name}_dx"], rtol=1e-10, atol=1e-12, what=f"dx {what}")
    assert_close(dw, g[f"{name}_dw"], rtol=1e-10, atol=1e-12, what=f"dw {what}")
    if has_bias:
        assert_close(db, g[f"{name}_db"], rtol=1e-10, atol=1e-12, what=f"db {what}")
    else:
        assert db is None, "conv2d_backward must return db = None when the forward pass had no bias"


GRAD_CASES = [((1, 2, 5, 4), (2, 2, 3, 3), dict(padding=2, dilation=2)),
              ((1, 4, 5, 5), (4, 2, 3, 3), dict(stride=2, padding=1, groups=2)),
              ((1, 2, 4, 4), (4, 1, 3, 3), dict(padding=1, groups=2)),                       # depthwise x2
              ((1, 2, 5, 5), (2, 1, 2, 3), dict(padding="same", dilation=(2, 1), groups=2))]   # asymmetric


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(1)
@pytest.mark.parametrize("x_shape,w_shape,kwargs", GRAD_CASES, ids=["dilated", "grouped-strided", "depthwise", "same"])
def test_gradient_check(impl, x_shape, w_shape, kwargs):
    x, w, b = rand(x_shape, 8), rand(w_shape, 9), rand(w_shape[0], 10)
    report = check_layer(lambda x, w, b: impl.conv2d_forward(x, w, b, **kwargs), impl.conv2d_backward, x, w, b)
    assert report.passed, f"conv2d {kwargs}: gradients differ from finite differences (input0 = x, 1 = w, 2 = b)\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_gradient_check_without_bias(impl):
    x, w = rand((2, 2, 5, 4), 11), rand((2, 1, 3, 2), 12)
    kwargs = dict(stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2)

    def backward(dout, cache):
        dx, dw, db = impl.conv2d_backward(dout, cache)
        assert db is None, "db must be None when b is None"
        return dx, dw

    report = check_layer(lambda x, w: impl.conv2d_forward(x, w, None, **kwargs), backward, x, w)
    assert report.passed, f"conv2d without bias {kwargs}: gradients differ from finite differences\n{report}"


# ----------------------------------------------------------------------------------------------------
# Task 2: the layers
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_conv2d_layer_attributes_and_init(impl):
    layer = impl.Conv2d(4, 8, 3, groups=2, rng=0)
    w = as_array(layer.weight.data)
    assert_shape(w, (8, 2, 3, 3), "Conv2d(4, 8, 3, groups=2).weight ((out, in // groups, kH, kW))")
    assert_shape(layer.bias.data, (8,), "Conv2d(...).bias")
    assert w.dtype == np.float32, f"the default dtype is float32, got {w.dtype}"
    bound = 1 / math.sqrt(2 * 3 * 3)                 # fan_in = in // groups * kH * kW = 18
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.8 * bound, (
        f"weights must be U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = (in_channels // groups) * kH * kW = 18 "
        f"(bound {bound:.6g}), got max |w| = {np.abs(w).max():.6g}")
    assert np.abs(as_array(layer.bias.data)).max() <= bound * (1 + 1e-6), "bias must be U(-1/sqrt(fan_in), ...)"
    assert layer.parameters() == [layer.weight, layer.bias], "parameters() = [weight, bias] (the Parameter objects)"
    assert layer.training is True and layer.eval() is layer and layer.training is False and layer.train() is layer
    no_bias = impl.Conv2d(4, 8, 3, bias=False, rng=0)
    assert no_bias.bias is None and no_bias.parameters() == [no_bias.weight], "bias=False: bias is None, one parameter"
    assert np.array_equal(as_array(impl.Conv2d(4, 8, 3, groups=2, rng=0).weight.data), w), "the same seed must give the same weights"
    assert not np.array_equal(as_array(impl.Conv2d(4, 8, 3, groups=2, rng=1).weight.data), w), "another seed, other weights"
    assert as_array(impl.Conv2d(4, 8, 3, dtype=np.float64).weight.data).dtype == np.float64, "dtype=float64 is honoured"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_conv2d_layer_forward_and_accumulating_backward(impl):
    layer = impl.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2, rng=3,
                        dtype=np.float64)
    x = rand((2, 4, 6, 7), 13)
    out = as_array(layer.forward(x))
    ref, cache = impl.conv2d_forward(x, layer.weight.data, layer.bias.data, stride=(2, 1), padding=(1, 0),
                                     dilation=(1, 2), groups=2)
    assert_close(out, ref, rtol=1e-12, what="Conv2d.forward vs conv2d_forward with the layer's arguments")
    dout = rand(out.shape, 14)
    dx = as_array(layer.backward(dout))
    ref_dx, ref_dw, ref_db = grads(impl.conv2d_backward(dout, cache))
    assert_close(dx, ref_dx, rtol=1e-12, what="Conv2d.backward returns dx")
    assert_close(layer.weight.grad, ref_dw, rtol=1e-12, what="weight.grad after one backward")
    layer.backward(dout)
    assert_close(layer.weight.grad, 2 * ref_dw, rtol=1e-12, what="weight.grad after two backwards (backward ADDS)")
    assert_close(layer.bias.grad, 2 * ref_db, rtol=1e-12, what="bias.grad after two backwards (backward ADDS)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_depthwise_layer_matches_pytorch(impl, golden):
    g = golden("layers")
    layer = impl.DepthwiseConv2d(3, 3, padding=1, depth_multiplier=2, bias=False, dtype=np.float64)
    assert_shape(layer.weight.data, (6, 1, 3, 3),
                 "DepthwiseConv2d(3, 3, depth_multiplier=2).weight (PyTorch's layout: (C * multiplier, 1, kH, kW))")
    assert layer.bias is None and layer.parameters() == [layer.weight], "bias=False: no bias parameter"
    layer.weight.data[...] = g["dw_weight"]
    assert_close(layer.forward(g["x"]), g["mid"], rtol=1e-10,
                 what="DepthwiseConv2d (multiplier 2) vs torch Conv2d(3, 6, 3, groups=3): output channel o filters "
                      "input channel o // 2")
    with_bias = impl.DepthwiseConv2d(5, 3, rng=0)
    assert_shape(with_bias.bias.data, (5,), "DepthwiseConv2d(5, 3).bias")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_separable_layer_matches_pytorch(impl, golden):
    g = golden("layers")
    layer = impl.SeparableConv2d(3, 5, 3, padding=1, depth_multiplier=2, dtype=np.float64)
    assert layer.depthwise.bias is None, "the depthwise half of SeparableConv2d has no bias (the pointwise bias absorbs it)"
    assert_shape(layer.depthwise.weight.data, (6, 1, 3, 3), "SeparableConv2d(3, 5, 3, depth_multiplier=2).depthwise.weight")
    assert_shape(layer.pointwise.weight.data, (5, 6, 1, 1), "SeparableConv2d(3, 5, 3, depth_multiplier=2).pointwise.weight")
    assert_shape(layer.pointwise.bias.data, (5,), "SeparableConv2d(...).pointwise.bias")
    assert len(layer.parameters()) == 3, "parameters(): depthwise weight, pointwise weight, pointwise bias"
    layer.depthwise.weight.data[...] = g["dw_weight"]
    layer.pointwise.weight.data[...] = g["pw_weight"]
    layer.pointwise.bias.data[...] = g["pw_bias"]
    assert_close(layer.forward(g["x"]), g["out"], rtol=1e-10, what="SeparableConv2d forward vs PyTorch")
    dx = layer.backward(g["dout"])
    assert_close(dx, g["dx"], rtol=1e-10, what="SeparableConv2d dx vs PyTorch")
    assert_close(layer.depthwise.weight.grad, g["d_dw_weight"], rtol=1e-10, what="depthwise weight.grad vs PyTorch")
    assert_close(layer.pointwise.weight.grad, g["d_pw_weight"], rtol=1e-10, what="pointwise weight.grad vs PyTorch")
    assert_close(layer.pointwise.bias.grad, g["d_pw_bias"], rtol=1e-10, what="pointwise bias.grad vs PyTorch")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_separable_layer_gradient_check(impl):
    layer = impl.SeparableConv2d(2, 3, 3, stride=1, padding=2, dilation=2, depth_multiplier=2, rng=5, dtype=np.float64)
    x = rand((1, 2, 4, 4), 15)
    dout = rand(as_array(layer.forward(x)).shape, 16)
    for p in layer.parameters():
        p.grad[...] = 0
    layer.forward(x)
    dx = as_array(layer.backward(dout))
    numeric = numerical_jacobian_vector(lambda v: layer.forward(v), x.copy(), dout)
    err = rel_error(dx, numeric)
    assert err < 1e-5, f"SeparableConv2d dx: relative error {err:.6g} against finite differences"
    for k, p in enumerate(layer.parameters()):
        numeric = numerical_gradient(lambda: float(np.sum(as_array(layer.forward(x)) * dout)), p.data)
        err = rel_error(p.grad, numeric)
        assert err < 1e-5, f"SeparableConv2d parameter {k} ({p.data.shape}): relative error {err:.6g}"


# ----------------------------------------------------------------------------------------------------
# Task 3: parameter and FLOP counts
# ----------------------------------------------------------------------------------------------------

# the same list as COUNT_CASES of the level-4 reference (tests/golden/counts.npz holds PyTorch's numbers)
COUNT_CASES = [
    (128, 128, 3, 32, 1, 1, 1, 1, True),
    (128, 128, 3, 32, 1, 1, 1, 128, False),
    (128, 128, 1, 32, 1, 0, 1, 1, True),
    (128, 128, 3, 32, 1, 1, 1, 4, True),
    (128, 32, 1, 32, 1, 0, 1, 1, True),
    (32, 32, 3, 32, 1, 1, 1, 1, True),
    (32, 128, 1, 32, 1, 0, 1, 1, True),
    (64, 96, (3, 5), (20, 17), (2, 1), (1, 2), (2, 1), 8, True),
    (16, 48, 3, 15, 1, "same", 3, 16, False),
    (8, 8, 7, 9, 2, 0, 1, 2, True),
]


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_counts_of_the_readme_table_by_hand(impl):
    # 128 -> 128 channels, 3x3, on 32x32 with padding 1 (the output is 32x32 too)
    std_p, std_f = impl.conv_params(128, 128, 3), impl.conv_flops(128, 128, 3, 32, padding=1)
    assert (std_p, std_f) == (147584, 301989888), (
        f"standard 3x3 128->128: got {std_p} params, {std_f} FLOPs; expected 128*128*9 + 128 = 147584 and "
        f"2 FLOPs * 32*32 outputs * 128 channels * 128*9 multiply-adds = 301989888")
    dw_p = impl.conv_params(128, 128, 3, groups=128, bias=False)
    dw_f = impl.conv_flops(128, 128, 3, 32, padding=1, groups=128)
    assert (dw_p, dw_f) == (1152, 2359296), (
        f"depthwise 3x3 (groups=128): got {dw_p} params, {dw_f} FLOPs; expected 128*1*9 = 1152 and "
        f"2 * 1024 * 128 * 9 = 2359296 (each output reads 1 channel, not 128: the 1/groups factor)")
    g_p, g_f = impl.conv_params(128, 128, 3, groups=4), impl.conv_flops(128, 128, 3, 32, padding=1, groups=4)
    assert (g_p, g_f) == (36992, 75497472), f"grouped (4) 3x3: got {g_p}, {g_f}; expected 36992, 75497472"
    bottleneck = (impl.conv_params(128, 32, 1) + impl.conv_params(32, 32, 3) + impl.conv_params(32, 128, 1))
    assert bottleneck == 4128 + 9248 + 4224, f"bottleneck 1x1 -> 3x3 -> 1x1 (128 -> 32 -> 32 -> 128): got {bottleneck}"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_counts_match_pytorch(impl, golden):
    g = golden("counts")
    assert len(g["params"]) == len(COUNT_CASES)
    for n, (c_in, c_out, k, size, s, p, d, groups, bias) in enumerate(COUNT_CASES):
        params = impl.conv_params(c_in, c_out, k, groups=groups, bias=bias)
        flops = impl.conv_flops(c_in, c_out, k, size, stride=s, padding=p, dilation=d, groups=groups)
        what = f"Conv2d({c_in}, {c_out}, {k}, stride={s}, padding={p}, dilation={d}, groups={groups}, bias={bias}) on {size}"
        assert params == int(g["params"][n]), f"conv_params of {what} = {params}, torch counts {int(g['params'][n])}"
        assert flops == int(g["flops"][n]), (
            f"conv_flops of {what} = {flops}, torch.utils.flop_counter counts {int(g['flops'][n])} (2 FLOPs per "
            f"multiply-add, bias not counted, multiply-adds per output = in_channels / groups * kH * kW)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_counts_match_the_weight_shapes_and_outputs(impl):
    x = rand((1, 8, 11, 10), 17)
    for args, kwargs in (((8, 12, 3), dict(groups=4, padding=1)), ((8, 8, 3), dict(groups=8, dilation=2)),
                         ((8, 6, (2, 3)), dict(stride=2, groups=2, bias=False)), ((8, 16, 1), dict())):
        layer = impl.Conv2d(*args, rng=0, dtype=np.float64, **kwargs)
        n_params = sum(as_array(p.data).size for p in layer.parameters())
        count_kwargs = {k: v for k, v in kwargs.items() if k in ("groups", "bias")}
        assert impl.conv_params(*args, **count_kwargs) == n_params, (
            f"conv_params{args} {count_kwargs} = {impl.conv_params(*args, **count_kwargs)}, but Conv2d{args} "
            f"{kwargs} holds {n_params} numbers")
        out = as_array(layer.forward(x))
        w = as_array(layer.weight.data)
        expected = 2 * out[0].size * w[0].size              # each output value: one multiply-add per weight of its filter
        flop_kwargs = {k: v for k, v in kwargs.items() if k != "bias"}
        got = impl.conv_flops(*args, input_size=(11, 10), **flop_kwargs)
        assert got == expected, f"conv_flops{args} {flop_kwargs} on 11x10 = {got}, expected 2 * {out[0].size} * {w[0].size}"


# ----------------------------------------------------------------------------------------------------
# Task 4: dilation and the receptive field
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_effective_kernel_size(impl):
    for (k, d), expected in (((3, 1), 3), ((3, 2), 5), ((3, 4), 9), ((5, 3), 13), ((1, 7), 1), ((2, 3), 4)):
        got = impl.effective_kernel_size(k, d)
        assert got == expected, f"effective_kernel_size({k}, dilation={d}) = {got}, expected d * (k - 1) + 1 = {expected}"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_receptive_field_of_stacked_dilated_convs(impl):
    cases = [([], (1, 1)),
             ([(3, 1, 1), (3, 1, 2), (3, 1, 4), (3, 1, 8)], (31, 1)),    # exponential dilations: 1 + 2(1+2+4+8)
             ([(3, 1, 2), (3, 1, 2)], (9, 1)),
             ([(3, 1)] * 4, (9, 1)),                                      # pairs mean dilation 1
             ([(3, 2, 1), (3, 1, 2)], (11, 2)),                           # the stride multiplies the dilated reach
             ([(2, 1, 3), (5, 2, 1), (3, 1, 4)], (4 + 4 + 16, 2))]
    for layers, expected in cases:
        got = tuple(int(v) for v in impl.receptive_field(layers))
        assert got == expected, (f"receptive_field({layers}) = {got}, expected {expected}: a dilated layer covers "
                                 f"d * (k - 1) + 1 pixels, so it adds d * (k - 1) * jump")


def footprint(impl, dilations, length=48, cell=5):
    """Input cells reached by the gradient of one output cell through 1x3 convolutions of all-ones kernels."""
    x = np.ones((1, 1, 1, length))
    caches, y = [], x
    for d in dilations:
        y, cache = impl.conv2d_forward(y, np.ones((1, 1, 1, 3)), None, dilation=(1, d))
        caches.append(cache)
    g = np.zeros(as_array(y).shape)
    g[0, 0, 0, cell] = 1.0
    for cache in reversed(caches):
        g = as_array(impl.conv2d_backward(g, cache)[0])
    return np.flatnonzero(g[0, 0, 0])


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_receptive_field_is_the_gradient_footprint(impl):
    seen = footprint(impl, [1, 2, 4])
    size, _ = (int(v) for v in impl.receptive_field([(3, 1, 1), (3, 1, 2), (3, 1, 4)]))
    assert size == 15 and seen[-1] - seen[0] + 1 == 15 and len(seen) == 15, (
        f"dilations 1, 2, 4: receptive field {size}, gradient reaches cells {seen.tolist()} (15 contiguous cells "
        f"expected: exponential dilations cover their field without holes)")
    seen = footprint(impl, [2, 2])
    assert seen[-1] - seen[0] + 1 == 9 and len(seen) == 5, (
        f"two 3-tap convolutions with dilation 2 span 9 cells but reach only every other one (5 cells): "
        f"got {seen.tolist()} (the gridding effect of repeating one dilation)")
