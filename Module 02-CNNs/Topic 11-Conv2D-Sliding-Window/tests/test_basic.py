"""Topic 11 basic tests: the output size, shapes, hand-worked cases, PyTorch's golden values, gradients, the layer."""

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.finite_difference_checker import numerical_gradient
from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape, rel_error

# The worked example of math-refresh.md: one channel, a 4x4 image, an asymmetric 3x3 kernel, bias 0.5
X44 = np.array([[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 2], [1, 0, 2, 1]], dtype=np.float64)[None, None]
K33 = np.array([[1, 0, 2], [0, -1, 0], [-1, 0, 0]], dtype=np.float64)[None, None]
B05 = np.array([0.5])

# name -> (x shape, w shape, stride, padding, bias), as the level-4 reference wrote tests/golden/conv_<name>.npz
GOLDEN_CASES = {
    "basic": ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, True),
    "strided_padded": ((2, 2, 7, 6), (3, 2, 3, 3), 2, 1, True),
    "rectangular": ((2, 3, 6, 9), (2, 3, 2, 3), (2, 1), (1, 2), True),
    "same_even_kernel": ((1, 2, 5, 6), (3, 2, 2, 4), 1, "same", True),
    "valid_no_bias": ((2, 2, 5, 4), (2, 2, 3, 2), (1, 2), "valid", False),
}

# (x shape, w shape, stride, padding) for the gradient checks: every argument at a non-default value
GRADIENT_CASES = {
    "stride2_pad1_nonsquare_kernel_rect_input": ((2, 2, 5, 6), (3, 2, 3, 2), 2, 1),
    "tuple_stride_and_padding": ((1, 3, 4, 7), (2, 3, 2, 3), (1, 2), (2, 1)),
    "same_with_even_kernel": ((2, 2, 4, 5), (2, 2, 2, 4), 1, "same"),
    "stride_larger_than_kernel": ((2, 1, 7, 8), (2, 1, 2, 2), 3, 0),
}


def randn(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def forward(impl, x, w, b=None, stride=1, padding=0):
    out, cache = impl.conv2d_forward(x, w, b, stride, padding)
    return as_array(out), cache


# ----------------------------------------------------------------------------------------------------
# Task 1: the output size
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("size,kernel,stride,padding,dilation,expected", [
    (5, 3, 1, 0, 1, 3), (5, 3, 1, 1, 1, 5), (7, 3, 2, 1, 1, 4), (6, 3, 2, 1, 1, 3), (28, 5, 1, 2, 1, 28),
    (32, 3, 2, 1, 1, 16), (10, 3, 3, 0, 1, 3), (5, 5, 1, 0, 1, 1), (4, 1, 1, 2, 1, 8), (3, 2, 5, 0, 1, 1),
    (7, 3, 1, 0, 2, 3), (9, 3, 2, 2, 2, 5), (0, 3, 1, 2, 1, 2),
])
def test_conv_output_size_follows_the_formula(impl, size, kernel, stride, padding, dilation, expected):
    got = impl.conv_output_size(size, kernel, stride=stride, padding=padding, dilation=dilation)
    assert int(got) == expected, (
        f"conv_output_size({size}, {kernel}, stride={stride}, padding={padding}, dilation={dilation}) = {got}, "
        f"expected floor(({size} + 2*{padding} - {dilation}*({kernel} - 1) - 1) / {stride}) + 1 = {expected} "
        f"(padding is added on BOTH sides; the division rounds down)")


# ----------------------------------------------------------------------------------------------------
# Shapes
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("x_shape,w_shape,stride,padding,expected", [
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0, (2, 4, 3, 3)),
    ((2, 3, 5, 5), (4, 3, 3, 3), 1, 1, (2, 4, 5, 5)),
    ((2, 3, 7, 6), (4, 3, 3, 3), 2, 1, (2, 4, 4, 3)),
    ((1, 2, 6, 9), (3, 2, 2, 3), (2, 1), (1, 2), (1, 3, 4, 11)),
    ((2, 1, 5, 6), (2, 1, 2, 4), 1, "same", (2, 2, 5, 6)),
    ((1, 2, 7, 8), (2, 2, 5, 6), 1, "same", (1, 2, 7, 8)),
    ((1, 2, 6, 5), (3, 2, 3, 3), 1, "same", (1, 3, 6, 5)),
    ((2, 1, 5, 6), (2, 1, 3, 3), 1, "valid", (2, 2, 3, 4)),
    ((1, 1, 5, 5), (1, 1, 2, 2), 3, 0, (1, 1, 2, 2)),
    ((1, 1, 4, 4), (1, 1, 1, 1), 1, 2, (1, 1, 8, 8)),
])
def test_forward_output_shape(impl, x_shape, w_shape, stride, padding, expected):
    x, w, b = randn(0, *x_shape), randn(1, *w_shape), randn(2, w_shape[0])
    out, _ = forward(impl, x, w, b, stride, padding)
    assert_shape(out, expected, f"conv2d_forward output for x {x_shape}, w {w_shape}, stride={stride!r}, "
                                f"padding={padding!r} (NCHW, H_out = floor((H + 2p - kH) / sh) + 1)")
    assert out.dtype == np.float64, f"output dtype {out.dtype}, expected float64 like x and w"


@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_backward_shapes(impl):
    x, w, b = randn(0, 2, 3, 7, 6), randn(1, 4, 3, 3, 2), randn(2, 4)
    out, cache = forward(impl, x, w, b, stride=2, padding=1)
    grads = impl.conv2d_backward(randn(3, *out.shape), cache)
    assert len(grads) == 3, f"conv2d_backward must return (dx, dw, db), got {len(grads)} values"
    dx, dw, db = grads
    assert_shape(dx, x.shape, "dx (the shape of x, not of the padded x)")
    assert_shape(dw, w.shape, "dw (the shape of w)")
    assert_shape(db, (4,), "db (one value per output channel)")
    _, cache = forward(impl, x, w, None, stride=2, padding=1)
    dx, dw, db = impl.conv2d_backward(randn(3, *out.shape), cache)
    assert db is None, f"db must be None when the forward pass had no bias (b=None), got {type(db).__name__}"
    assert_shape(dx, x.shape, "dx without bias")


# ----------------------------------------------------------------------------------------------------
# Values worked by hand (math-refresh.md)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_hand_worked_single_channel(impl):
    out, _ = forward(impl, X44, K33, B05)
    flipped = np.array([[3.5, 0.5], [0.5, 0.5]])
    if out.shape == (1, 1, 2, 2) and np.allclose(out[0, 0], flipped):
        pytest.fail("you computed a true convolution (the kernel flipped by 180 degrees); PyTorch's conv2d, and this "
                    "topic, slide the kernel as it is: out[i, j] = sum_{u,v} w[u, v] * x[i + u, j + v] (cross-correlation)")
    assert_close(out, [[[[-1.5, 0.5], [4.5, 3.5]]]], rtol=1e-12,
                 what="the worked example of math-refresh.md (4x4 image, 3x3 kernel, bias 0.5, stride 1, no padding)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_hand_worked_stride_two_padding_one(impl):
    out, _ = forward(impl, X44, K33, B05, stride=2, padding=1)
    assert_close(out, [[[[-0.5, -0.5], [0.5, 3.5]]]], rtol=1e-12,
                 what="the worked example with padding=1 and stride=2 (windows start at padded rows/cols 0 and 2)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_padding_adds_zeros_on_every_side(impl):
    # ones * ones: each output counts the image pixels its window covers (the padding zeros count 0)
    x, w = np.ones((1, 1, 3, 4)), np.ones((1, 1, 3, 3))
    out, _ = forward(impl, x, w, padding=1)
    expected = [[4, 6, 6, 4], [6, 9, 9, 6], [4, 6, 6, 4]]
    assert_close(out[0, 0], expected, what="ones (3x4) * ones (3x3) with padding=1: 4 in the corners, 6 on the edges, "
                                            "9 inside (is the padding on all four sides, p on EACH side?)")
    out, _ = forward(impl, x, w, padding=(1, 0))
    assert_close(out[0, 0], [[6, 6], [9, 9], [6, 6]], what="padding=(1, 0): one zero row above and below, no columns")
    out, _ = forward(impl, x, w, padding=(0, 2))
    assert_close(out[0, 0], [[3, 6, 9, 9, 6, 3]], what="padding=(0, 2): two zero columns left and right, no rows")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_same_padding_with_an_even_kernel_pads_bottom_and_right(impl):
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    out, _ = forward(impl, x, np.ones((1, 1, 2, 2)), padding="same")
    expected = [[12, 16, 9], [24, 28, 15], [15, 17, 9]]
    if np.allclose(out[0, 0], [[1, 3, 5], [5, 12, 16], [11, 24, 28]]):
        pytest.fail("padding='same' with a 2x2 kernel put the extra zero row/column at the top/left; PyTorch puts "
                    "(k - 1) // 2 zeros before and the rest AFTER (bottom/right)")
    assert_close(out[0, 0], expected, what="'same' with a 2x2 kernel of ones: out[i, j] = x[i, j] + x[i, j+1] + "
                                            "x[i+1, j] + x[i+1, j+1], zeros beyond the bottom/right edge")
    x, w = np.arange(1.0, 36.0).reshape(1, 1, 5, 7), np.arange(1.0, 16.0).reshape(1, 1, 3, 5)
    same, _ = forward(impl, x, w, padding="same")
    explicit, _ = forward(impl, x, w, padding=(1, 2))
    assert_close(same, explicit, rtol=1e-12, what="'same' with an odd 3x5 kernel vs padding=(1, 2) (k - 1 = 2 and 4 "
                                                  "zeros per axis, split evenly: 1 and 2 on each side)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_channels_are_summed_and_bias_added_per_output_channel(impl):
    # 1x1 kernel: a per-pixel matrix product over the channels. W_out == C_out == 4 on purpose: a bias
    # broadcast along the last axis (out + b) gives no error, only wrong numbers.
    rng = np.random.default_rng(5)
    x = rng.integers(-3, 4, size=(2, 3, 2, 4)).astype(np.float64)
    w = rng.integers(-2, 3, size=(4, 3, 1, 1)).astype(np.float64)
    b = np.array([10.0, 20.0, 30.0, 40.0])
    out, _ = forward(impl, x, w, b)
    expected = np.einsum("oc,nchw->nohw", w[:, :, 0, 0], x) + b[None, :, None, None]
    assert_close(out, expected, rtol=1e-12, what="1x1 convolution: out[n, o] = sum_c w[o, c] * x[n, c] + b[o] "
                                                 "(sum over the input channels; b[o] added to the whole channel o)")


# ----------------------------------------------------------------------------------------------------
# Golden values written by level 4 (torch.nn.functional.conv2d and autograd)
# ----------------------------------------------------------------------------------------------------

def run_golden(impl, golden, name):
    g = golden(f"conv_{name}")
    _, _, stride, padding, _ = GOLDEN_CASES[name]
    out, cache = forward(impl, g["x"].copy(), g["w"].copy(), g.get("b"), stride, padding)
    return g, out, cache, f"case {name!r} (x {g['x'].shape}, w {g['w'].shape}, stride={stride!r}, padding={padding!r})"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_forward_matches_pytorch(impl, golden, name):
    g, out, _, what = run_golden(impl, golden, name)
    assert_close(out, g["out"], rtol=1e-9, atol=1e-12, what=f"output vs torch.nn.functional.conv2d, {what}")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_backward_matches_pytorch(impl, golden, name):
    g, _, cache, what = run_golden(impl, golden, name)
    dx, dw, db = impl.conv2d_backward(g["dout"].copy(), cache)
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what=f"dx vs PyTorch autograd, {what}")
    assert_close(dw, g["dw"], rtol=1e-9, atol=1e-12, what=f"dw vs PyTorch autograd, {what}")
    if "db" in g:
        assert_close(db, g["db"], rtol=1e-9, atol=1e-12,
                     what=f"db vs PyTorch autograd, {what} (summed over the batch and the positions?)")
    else:
        assert db is None, f"db must be None without a bias, {what}"


# ----------------------------------------------------------------------------------------------------
# Gradients against finite differences (float64)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", list(GRADIENT_CASES))
def test_gradient_check(impl, name):
    x_shape, w_shape, stride, padding = GRADIENT_CASES[name]
    x, w, b = randn(10, *x_shape), randn(11, *w_shape), randn(12, w_shape[0])
    report = check_layer(lambda x_, w_, b_: impl.conv2d_forward(x_, w_, b_, stride, padding),
                         impl.conv2d_backward, x, w, b, seed=13)
    names = {"input0": "dx", "input1": "dw", "input2": "db"}
    bad = {names[k]: v for k, v in report.items() if not v < 1e-5}
    advice = {"dx": "output (i, j) read the padded pixels from (i * sh, j * sw): its gradient goes back to exactly "
                    "those pixels, and the padding's share is dropped",
              "dw": "dw[o, c, u, v] sums dout[n, o, i, j] * xp[n, c, i * sh + u, j * sw + v] over n, i, j",
              "db": "db[o] is dout summed over the batch and every position (not averaged)"}
    assert not bad, (f"{name} (x {x_shape}, w {w_shape}, stride={stride!r}, padding={padding!r}): relative error vs "
                     f"finite differences " + ", ".join(f"{k} {v:.3g}" for k, v in bad.items()) + " (> 1e-5); " +
                     "; ".join(advice[k] for k in bad))


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_gradient_check_without_bias(impl):
    x, w = randn(20, 2, 2, 5, 4), randn(21, 2, 2, 3, 2)
    report = check_layer(lambda x_, w_: impl.conv2d_forward(x_, w_, None, (2, 1), (1, 2)),
                         lambda d, c: tuple(impl.conv2d_backward(d, c)[:2]), x, w, seed=22)
    assert report.passed, f"bias=None, stride (2, 1), padding (1, 2): gradient check failed\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_db_sums_dout_over_the_batch_and_the_positions(impl):
    x, w, b = randn(30, 3, 2, 5, 5), randn(31, 4, 2, 3, 3), randn(32, 4)
    out, cache = forward(impl, x, w, b, padding=1)
    dout = randn(33, *out.shape)
    db = as_array(impl.conv2d_backward(dout, cache)[2])
    expected = dout.sum(axis=(0, 2, 3))
    if np.allclose(db, expected / 3):
        pytest.fail("db is dout averaged over the batch (divided by N = 3): the bias is added to every sample, so its "
                    "gradient is the SUM over the batch (and over all positions); any 1/N belongs to the loss")
    assert_close(db, expected, rtol=1e-12, what="db (dout summed over axes 0, 2, 3: batch, rows, columns)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("n,o,i,j", [(0, 0, 0, 0), (1, 2, 1, 2), (0, 1, 2, 3)])
def test_one_output_sends_the_kernel_back_to_its_window(impl, n, o, i, j):
    # dout = 1 at output (n, o, i, j) only: dx is the kernel w[o] laid on the window (i*sh - pt, j*sw - pl),
    # cropped to the image; dw[o] is the window of the padded input; db = one-hot(o)
    x, w, b = randn(40, 2, 2, 5, 6), randn(41, 3, 2, 3, 2), randn(42, 3)
    stride, pad = 2, 1
    out, cache = forward(impl, x, w, b, stride, pad)
    dout = np.zeros(out.shape)
    dout[n, o, i, j] = 1.0
    dx, dw, db = (as_array(g) for g in impl.conv2d_backward(dout, cache))
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dxp = np.zeros_like(xp)
    r, q = i * stride, j * stride
    dxp[n, :, r:r + 3, q:q + 2] = w[o]
    dw_expected = np.zeros_like(w)
    dw_expected[o] = xp[n, :, r:r + 3, q:q + 2]
    assert_close(dx, dxp[:, :, pad:-pad, pad:-pad], rtol=1e-12, atol=1e-12,
                 what=f"dx for dout = one-hot at output {(n, o, i, j)} with stride 2, padding 1 (the kernel w[{o}] "
                      f"placed where that window read: padded rows {r}..{r + 2}, cols {q}..{q + 1})")
    assert_close(dw, dw_expected, rtol=1e-12, atol=1e-12, what=f"dw for dout = one-hot at {(n, o, i, j)} (the window "
                                                               f"of sample {n} under filter {o}, zeros elsewhere)")
    assert_close(db, np.eye(3)[o], what=f"db for dout = one-hot at {(n, o, i, j)}")


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_parameters_and_attributes(impl):
    layer = impl.Conv2d(3, 8, 3)
    params = layer.parameters()
    assert len(params) == 2 and params[0] is layer.weight and params[1] is layer.bias, \
        "parameters() must return [weight, bias], the Parameter objects themselves (optimizers update them in place)"
    assert_shape(layer.weight.data, (8, 3, 3, 3), "weight.data (out_channels, in_channels, kH, kW)")
    assert_shape(layer.bias.data, (8,), "bias.data (out_channels,)")
    for name, p in (("weight", layer.weight), ("bias", layer.bias)):
        assert as_array(p.data).dtype == np.float32, f"{name} must be float32 by default (dtype=np.float32)"
        assert_shape(p.grad, as_array(p.data).shape, f"{name}.grad")
        assert np.all(as_array(p.grad) == 0), f"{name}.grad must start at 0"
    assert layer.training is True, "a new layer starts in train mode"
    assert layer.eval() is layer and layer.training is False, "eval() sets training = False and returns self"
    assert layer.train() is layer and layer.training is True, "train() sets training = True and returns self"
    for kernel, shape in ((1, (5, 2, 1, 1)), ((1, 3), (5, 2, 1, 3))):
        assert_shape(impl.Conv2d(2, 5, kernel).weight.data, shape, f"weight.data for kernel_size={kernel!r}")
    rect = impl.Conv2d(2, 5, kernel_size=(3, 2), bias=False, dtype=np.float64)
    assert_shape(rect.weight.data, (5, 2, 3, 2), "weight.data for kernel_size=(3, 2)")
    assert as_array(rect.weight.data).dtype == np.float64, "dtype=np.float64 must give float64 weights"
    assert rect.bias is None and rect.parameters() == [rect.weight], \
        "bias=False: layer.bias is None and parameters() is [weight]"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
@pytest.mark.parametrize("c_in,c_out,kernel", [(16, 64, 3), (4, 200, (3, 5))])
def test_layer_init_is_kaiming_uniform_like_pytorch(impl, c_in, c_out, kernel):
    layer = impl.Conv2d(c_in, c_out, kernel, rng=0, dtype=np.float64)
    kH, kW = (kernel, kernel) if isinstance(kernel, int) else kernel
    fan_in = c_in * kH * kW
    bound = 1 / np.sqrt(fan_in)
    w, b = as_array(layer.weight.data), as_array(layer.bias.data)
    assert np.abs(w).max() <= bound, (
        f"max |w| = {np.abs(w).max():.6g} exceeds 1/sqrt(fan_in) = {bound:.6g}, fan_in = in_channels * kH * kW = "
        f"{fan_in} (PyTorch's default: kaiming_uniform with a = sqrt(5) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)))")
    assert np.abs(w).max() > 0.97 * bound, (
        f"max |w| = {np.abs(w).max():.6g} is well below the bound {bound:.6g}: the weights should fill "
        f"U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = in_channels * kH * kW = {fan_in}")
    std = w.std()
    assert abs(std / (bound / np.sqrt(3)) - 1) < 0.05, (
        f"std of the weights {std:.6g}, expected bound / sqrt(3) = {bound / np.sqrt(3):.6g} (a uniform distribution)")
    assert abs(w.mean()) < 0.05 * bound, f"mean of the weights {w.mean():.6g}, expected about 0"
    assert np.abs(b).max() <= bound and np.abs(b).max() > 0.5 * bound, (
        f"bias values up to {np.abs(b).max():.6g}: PyTorch's Conv2d draws its bias from U(-1/sqrt(fan_in), "
        f"1/sqrt(fan_in)) = U(-{bound:.6g}, {bound:.6g}) too (not zeros, unlike Module 01's Linear)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_matches_pytorch_and_accumulates_gradients(impl, golden):
    g = golden("conv_strided_padded")
    layer = impl.Conv2d(2, 3, 3, stride=2, padding=1, dtype=np.float64)
    layer.weight.data[...] = g["w"]          # in place, as an optimizer does: forward must read these arrays
    layer.bias.data[...] = g["b"]
    assert_close(layer.forward(g["x"]), g["out"], rtol=1e-9, atol=1e-12, what="Conv2d.forward vs PyTorch")
    dx = layer.backward(g["dout"])
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what="Conv2d.backward's return value dx")
    assert_close(layer.weight.grad, g["dw"], rtol=1e-9, atol=1e-12, what="weight.grad after one backward")
    assert_close(layer.bias.grad, g["db"], rtol=1e-9, atol=1e-12, what="bias.grad after one backward")
    layer.backward(g["dout"])
    assert_close(layer.weight.grad, 2 * g["dw"], rtol=1e-9, atol=1e-12,
                 what="weight.grad after two backward calls (backward must ADD into .grad, not overwrite it)")
    assert_close(layer.bias.grad, 2 * g["db"], rtol=1e-9, atol=1e-12, what="bias.grad after two backward calls")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_without_bias_matches_pytorch(impl, golden):
    g = golden("conv_valid_no_bias")
    layer = impl.Conv2d(2, 2, (3, 2), stride=(1, 2), padding="valid", bias=False, dtype=np.float64)
    layer.weight.data[...] = g["w"]
    assert_close(layer.forward(g["x"]), g["out"], rtol=1e-9, atol=1e-12, what="Conv2d(bias=False).forward vs PyTorch")
    assert_close(layer.backward(g["dout"]), g["dx"], rtol=1e-9, atol=1e-12, what="Conv2d(bias=False).backward dx")
    assert_close(layer.weight.grad, g["dw"], rtol=1e-9, atol=1e-12, what="weight.grad of Conv2d(bias=False)")


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_gradient_check(impl):
    layer = impl.Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(1, 1), rng=3, dtype=np.float64)
    x = randn(50, 2, 2, 5, 4)
    dout = randn(51, *as_array(layer.forward(x)).shape)

    def loss():
        return float(np.sum(as_array(layer.forward(x)) * dout))

    for p in layer.parameters():
        p.grad[...] = 0
    layer.forward(x)
    dx = as_array(layer.backward(dout))
    for name, p in (("weight", layer.weight), ("bias", layer.bias)):
        err = rel_error(p.grad, numerical_gradient(loss, p.data))
        assert err < 1e-5, f"Conv2d {name}.grad: relative error {err:.3g} vs finite differences (> 1e-5)"
    err = rel_error(dx, numerical_gradient(loss, x))
    assert err < 1e-5, f"Conv2d.backward dx: relative error {err:.3g} vs finite differences (> 1e-5)"


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_backward_uses_the_last_forward(impl):
    layer = impl.Conv2d(2, 3, 3, padding=1, rng=4, dtype=np.float64)
    x1, x2 = randn(60, 2, 2, 4, 4), randn(61, 2, 2, 4, 4)
    layer.forward(x1)
    layer.forward(x2)
    dout = randn(62, 2, 3, 4, 4)
    dx = layer.backward(dout)
    _, cache = impl.conv2d_forward(x2, layer.weight.data.copy(), layer.bias.data.copy(), 1, 1)
    dx2, dw2, db2 = impl.conv2d_backward(dout, cache)
    assert_close(dx, dx2, rtol=1e-12, what="dx after forward(x1), forward(x2), backward (must use x2's cache)")
    assert_close(layer.weight.grad, dw2, rtol=1e-12, what="weight.grad after forward(x1), forward(x2), backward")
    assert_close(layer.bias.grad, db2, rtol=1e-12, what="bias.grad after forward(x1), forward(x2), backward")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_eval_mode_gives_the_same_output(impl):
    layer = impl.Conv2d(3, 2, 3, stride=2, rng=5)
    x = randn(70, 2, 3, 7, 7).astype(np.float32)
    train_out = as_array(layer.forward(x)).copy()
    eval_out = as_array(layer.eval().forward(x))
    assert np.array_equal(train_out, eval_out), "a convolution has no train/eval difference: the outputs must be equal"


@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_chains_in_topic06_sequential(impl):
    nn = load_topic(6)
    model = nn.Sequential(impl.Conv2d(1, 4, 3, padding="same", rng=0), nn.ReLU(), impl.Conv2d(4, 2, 3, stride=2, rng=1))
    x = randn(80, 2, 1, 9, 9).astype(np.float32)
    out = as_array(model.forward(x))
    assert_shape(out, (2, 2, 4, 4), "Sequential(Conv2d(1, 4, 3, 'same'), ReLU, Conv2d(4, 2, 3, stride=2)) output")
    dx = as_array(model.backward(np.ones_like(out)))
    assert_shape(dx, x.shape, "dx through the Sequential")
    assert len(model.parameters()) == 4, "two Conv2d layers with bias: 4 Parameters"
    assert all(np.any(as_array(p.grad) != 0) for p in model.parameters()), "every parameter must receive a gradient"
