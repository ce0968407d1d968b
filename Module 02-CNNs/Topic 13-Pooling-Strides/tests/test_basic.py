"""Topic 13 basic tests: output sizes, max/avg/global pooling by hand and against PyTorch, gradients, layers."""

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.finite_difference_checker import numerical_jacobian_vector
from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape, rel_error


def distinct(shape, seed=0):
    """Values in [-2, 2] that are all different, at least 4/size apart: no ties, so max pooling is differentiable."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    return (rng.permutation(size).reshape(shape) * (4.0 / size) - 2.0).astype(np.float64)


def golden_config(g, n):
    """(kernel_size, stride, padding, ceil_mode) of golden case n, as the level-4 reference ran it."""
    kernel = tuple(int(v) for v in g[f"case{n}_kernel"])
    stride = None if bool(g[f"case{n}_stride_is_none"]) else tuple(int(v) for v in g[f"case{n}_stride"])
    padding = tuple(int(v) for v in g[f"case{n}_padding"])
    return kernel, stride, padding, bool(g[f"case{n}_ceil"])


N_GOLDEN_CASES = 6

HAND = np.array([[[[1.0, 2.0, 5.0, 0.0],
                   [3.0, 4.0, 1.0, 1.0],
                   [0.0, 0.0, 2.0, 2.0],
                   [7.0, 0.0, 2.0, 1.0]]]])


# ----------------------------------------------------------------------------------------------------
# Task 1: output size
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_pool_output_size_by_hand(impl):
    cases = [  # (size, kernel, stride, padding, ceil_mode) -> expected
        ((28, 2, None, 0, False), 14),   # stride defaults to the kernel size
        ((7, 2, None, 0, False), 3),     # floor: the last row is dropped
        ((7, 2, None, 0, True), 4),      # ceil: a partial last window is kept
        ((32, 3, 2, 1, False), 16),      # ResNet's stem pool
        ((5, 3, 1, 0, False), 3),        # overlapping windows
        ((5, 3, 1, 1, False), 5),        # "same" size with padding
        ((6, 3, 2, 1, True), 4),         # ceil with padding: last window starts inside the input
        ((5, 2, 2, 1, True), 3),         # ceil would give 4, but that window would start in the padding
        ((1, 1, None, 0, False), 1),
    ]
    for args, expected in cases:
        got = impl.pool_output_size(*args)
        size, k, s, p, ceil = args
        assert got == expected, (
            f"pool_output_size(size={size}, kernel_size={k}, stride={s}, padding={p}, ceil_mode={ceil}) = {got}, "
            f"expected {expected}: floor((size + 2*padding - kernel) / stride) + 1 (stride None -> kernel); with "
            f"ceil_mode the ceiling, minus 1 if the last window would start in the right padding")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_maxpool_default_stride_is_the_kernel_size(impl):
    x = distinct((2, 3, 8, 8))
    for k, expected in ((2, (4, 4)), (3, (2, 2)), (4, (2, 2)), ((2, 4), (4, 2))):
        out, _ = impl.maxpool2d_forward(x, k)
        assert_shape(out, (2, 3) + expected,
                     f"maxpool2d_forward(x of 8x8, kernel_size={k}) with stride=None (stride must default to the "
                     f"kernel size, non-overlapping windows, not to 1)")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_maxpool_shapes_with_every_argument(impl):
    x = distinct((2, 3, 7, 6))
    cases = [(dict(kernel_size=3, stride=2, padding=1), (4, 3)),
             (dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 0)), (8, 2)),
             (dict(kernel_size=2, stride=2, ceil_mode=True), (4, 3)),
             (dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (4, 4)),
             (dict(kernel_size=3, stride=1), (5, 4))]
    for kwargs, hw in cases:
        out, _ = impl.maxpool2d_forward(x, **kwargs)
        assert_shape(out, (2, 3) + hw, f"maxpool2d_forward(x (2, 3, 7, 6), {kwargs})")
        assert as_array(out).dtype == np.float64, "the output keeps the dtype of x"


# ----------------------------------------------------------------------------------------------------
# Task 2: max pooling
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_maxpool_forward_by_hand(impl):
    out, _ = impl.maxpool2d_forward(HAND, 2)
    assert_close(out, [[[[4.0, 5.0], [7.0, 2.0]]]], what="2x2 max pool of the 4x4 example (max of each 2x2 block)")
    out, _ = impl.maxpool2d_forward(HAND, 3, stride=1)
    assert_close(out, [[[[5.0, 5.0], [7.0, 4.0]]]], what="3x3 max pool with stride 1 (overlapping windows)")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_maxpool_tie_sends_the_gradient_to_the_first_maximum(impl):
    # PyTorch (verified with F.max_pool2d(..., return_indices=True)): indices [1, 1, 3, 7], the FIRST maximum
    # of each window in row-major order; the gradient goes to that one cell only.
    x = np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 2.0], [1.0, 3.0, 3.0]]]])
    out, cache = impl.maxpool2d_forward(x, 2, stride=1)
    assert_close(out, np.full((1, 1, 2, 2), 3.0), what="max of the tied windows")
    dx = as_array(impl.maxpool2d_backward(np.ones((1, 1, 2, 2)), cache))
    expected = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    if dx.sum() > 4:
        pytest.fail(f"dx sums to {dx.sum():.6g} for 4 windows with dout = 1: on a tie every maximum received the "
                    f"gradient. Only ONE cell per window may (the first maximum in row-major order, as PyTorch)")
    assert_close(dx[0, 0], expected, what="dx with ties (each window's gradient goes to its FIRST maximum "
                                          "in row-major order; cell (0, 1) wins two windows)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_maxpool_overlapping_windows_accumulate(impl):
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 10.0                     # the centre is the maximum of all nine 3x3 windows
    x[0, 0, 0, 0] = -1.0
    out, cache = impl.maxpool2d_forward(x, 3, stride=1)
    dout = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    dx = as_array(impl.maxpool2d_backward(dout, cache))
    assert_close(dx[0, 0, 2, 2], 45.0, what="dx at the cell that wins all nine overlapping windows (sum of their "
                                             "douts 1 + ... + 9 = 45: gradients from overlapping windows ADD, "
                                             "they must not overwrite each other)")
    assert_close(dx.sum(), 45.0, what="sum of dx (every window sends its gradient to exactly one cell)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_maxpool_forward_matches_pytorch(impl, golden):
    g = golden("maxpool")
    for n in range(N_GOLDEN_CASES):
        k, s, p, ceil = golden_config(g, n)
        out, _ = impl.maxpool2d_forward(g[f"case{n}_x"], k, s, p, ceil)
        assert_close(out, g[f"case{n}_out"], rtol=1e-12,
                     what=f"max pool (kernel_size={k}, stride={s}, padding={p}, ceil_mode={ceil}) vs PyTorch")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_maxpool_backward_matches_pytorch_with_ties(impl, golden):
    g = golden("maxpool")   # inputs on a coarse grid: most windows hold tied maxima
    for n in range(N_GOLDEN_CASES):
        k, s, p, ceil = golden_config(g, n)
        _, cache = impl.maxpool2d_forward(g[f"case{n}_x"], k, s, p, ceil)
        dx = impl.maxpool2d_backward(g[f"case{n}_dout"], cache)
        assert_close(dx, g[f"case{n}_dx"], rtol=1e-12, atol=1e-12,
                     what=f"max pool dx (kernel_size={k}, stride={s}, padding={p}, ceil_mode={ceil}, inputs with ties) "
                          f"vs PyTorch: one cell per window, the first maximum, summed over overlapping windows")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(2)
def test_maxpool_padding_is_minus_infinity(impl):
    x = -3.0 + distinct((1, 2, 4, 4), seed=3) / 2       # every value in [-4, -2]
    out, cache = impl.maxpool2d_forward(x, 3, stride=2, padding=1)
    out = as_array(out)
    assert np.all(out < -1), (
        f"max pool of an all-negative input with padding=1 gave {out.max():.6g}: padding must count as -inf for "
        f"max pooling (a zero pad beats every negative value)")
    dx = as_array(impl.maxpool2d_backward(np.ones(out.shape), cache))
    assert_close(dx.sum(), float(out.size), what="sum of dx with padding (no gradient may vanish into the padding)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True),
                                    dict(kernel_size=3, stride=1)],
                         ids=["2x2", "3x3-s2-p1", "rect-ceil", "3x3-s1"])
def test_maxpool_gradient_check(impl, kwargs):
    x = distinct((2, 2, 5, 6), seed=1)
    report = check_layer(lambda x: impl.maxpool2d_forward(x, **kwargs), impl.maxpool2d_backward, x)
    assert report.passed, f"max pool {kwargs}: dx differs from finite differences\n{report}"


# ----------------------------------------------------------------------------------------------------
# Task 3: average pooling
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_avgpool_forward_and_backward_by_hand(impl):
    out, cache = impl.avgpool2d_forward(HAND, 2)
    assert_close(out, [[[[2.5, 1.75], [1.75, 1.75]]]], what="2x2 average pool of the 4x4 example")
    dx = as_array(impl.avgpool2d_backward(np.array([[[[4.0, 8.0], [-4.0, 2.0]]]]), cache))
    expected = np.array([[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0], [-1.0, -1.0, 0.5, 0.5], [-1.0, -1.0, 0.5, 0.5]])
    if np.allclose(dx[0, 0], 4 * expected):
        pytest.fail("avg pool dx is 4 times too large: each of the 4 cells of a window gets dout / 4 "
                    "(the mean divides by the window size, so must its gradient)")
    assert_close(dx[0, 0], expected, what="2x2 average pool dx (each cell receives its window's dout / 4)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_avgpool_count_include_pad_both_ways(impl):
    ones = np.ones((1, 1, 3, 3))
    out, _ = impl.avgpool2d_forward(ones, 2, stride=2, padding=1)
    assert_close(out, [[[[0.25, 0.5], [0.5, 1.0]]]],
                 what="avg pool of ones with padding=1 and count_include_pad=True (PyTorch's default): a corner window "
                      "holds 1 real cell of 4, so 1/4")
    out, _ = impl.avgpool2d_forward(ones, 2, stride=2, padding=1, count_include_pad=False)
    assert_close(out, np.ones((1, 1, 2, 2)),
                 what="avg pool of ones with count_include_pad=False: divide by the real cells only, so 1 everywhere")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(3)
def test_avgpool_ceil_mode_divisor(impl):
    ones = np.ones((1, 1, 6, 6))
    out, _ = impl.avgpool2d_forward(ones, 3, stride=2, padding=1, ceil_mode=True)
    edge = np.array([4 / 9, 2 / 3, 2 / 3, 1 / 3])            # per axis: 2/3 at the padding, 1 inside, 1/2 at the end
    expected = np.outer([2 / 3, 1, 1, 1 / 2], [2 / 3, 1, 1, 1 / 2])
    assert_close(out[0, 0, 0], edge, rtol=1e-12, what="first row of a ceil-mode avg pool of ones (count_include_pad)")
    assert_close(out[0, 0], expected, rtol=1e-12,
                 what="ceil-mode avg pool of ones, 6x6, kernel 3, stride 2, padding 1 (the last window is cut at "
                      "the end of the padding: it counts 2 cells per axis, of which 1 is real)")
    out, _ = impl.avgpool2d_forward(ones, 3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    assert_close(out, np.ones((1, 1, 4, 4)), rtol=1e-12, what="ceil-mode avg pool of ones, count_include_pad=False")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(3)
@pytest.mark.parametrize("include", [True, False], ids=["count_include_pad", "exclude_pad"])
def test_avgpool_forward_matches_pytorch(impl, golden, include):
    g, m = golden("avgpool"), golden("maxpool")
    tag = "incl" if include else "excl"
    for n in range(N_GOLDEN_CASES):
        k, s, p, ceil = golden_config(m, n)
        out, _ = impl.avgpool2d_forward(g[f"case{n}_x"], k, s, p, ceil, count_include_pad=include)
        assert_close(out, g[f"case{n}_{tag}_out"], rtol=1e-10, atol=1e-12,
                     what=f"avg pool (kernel_size={k}, stride={s}, padding={p}, ceil_mode={ceil}, "
                          f"count_include_pad={include}) vs PyTorch")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(3)
@pytest.mark.parametrize("include", [True, False], ids=["count_include_pad", "exclude_pad"])
def test_avgpool_backward_matches_pytorch(impl, golden, include):
    g, m = golden("avgpool"), golden("maxpool")
    tag = "incl" if include else "excl"
    for n in range(N_GOLDEN_CASES):
        k, s, p, ceil = golden_config(m, n)
        _, cache = impl.avgpool2d_forward(g[f"case{n}_x"], k, s, p, ceil, count_include_pad=include)
        dx = impl.avgpool2d_backward(g[f"case{n}_{tag}_dout"], cache)
        assert_close(dx, g[f"case{n}_{tag}_dx"], rtol=1e-10, atol=1e-12,
                     what=f"avg pool dx (kernel_size={k}, stride={s}, padding={p}, ceil_mode={ceil}, "
                          f"count_include_pad={include}) vs PyTorch")


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(3)
@pytest.mark.parametrize("kwargs", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
                                    dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
                                    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1), ceil_mode=True,
                                         count_include_pad=False)],
                         ids=["2x2", "3x3-s2-p1", "exclude-pad", "rect-ceil-exclude"])
def test_avgpool_gradient_check(impl, kwargs):
    x = distinct((2, 2, 5, 6), seed=2)
    report = check_layer(lambda x: impl.avgpool2d_forward(x, **kwargs), impl.avgpool2d_backward, x)
    assert report.passed, f"avg pool {kwargs}: dx differs from finite differences\n{report}"


# ----------------------------------------------------------------------------------------------------
# Task 4: global average pooling
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_global_avg_pool_by_hand_and_against_pytorch(impl, golden):
    out, cache = impl.global_avg_pool_forward(HAND)
    assert_shape(out, (1, 1), "global_avg_pool_forward of (1, 1, 4, 4) (one number per channel: (N, C))")
    assert_close(out, [[1.9375]], what="global average of the 4x4 example (31 / 16)")
    dx = as_array(impl.global_avg_pool_backward(np.array([[16.0]]), cache))
    assert_close(dx, np.ones((1, 1, 4, 4)), what="global average pool dx for dout 16 (16 / (H * W) = 1 everywhere)")
    g = golden("global_avg_pool")
    out, cache = impl.global_avg_pool_forward(g["x"])
    assert_close(out, g["out"], rtol=1e-12, what="global average pool vs PyTorch (adaptive_avg_pool2d(x, 1))")
    assert_close(impl.global_avg_pool_backward(g["dout"], cache), g["dx"], rtol=1e-12,
                 what="global average pool dx vs PyTorch")


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_global_avg_pool_gradient_check(impl):
    x = distinct((2, 3, 4, 5), seed=4)
    report = check_layer(impl.global_avg_pool_forward, impl.global_avg_pool_backward, x)
    assert report.passed, f"global average pool: dx differs from finite differences\n{report}"


# ----------------------------------------------------------------------------------------------------
# Task 5: the layers
# ----------------------------------------------------------------------------------------------------

LAYERS = [("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), "maxpool2d"),
          ("AvgPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), "avgpool2d"),
          ("GlobalAvgPool2d", {}, "global_avg_pool")]


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
@pytest.mark.parametrize("name,kwargs,functional", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_layer_equals_the_functional_form(impl, name, kwargs, functional):
    x = distinct((2, 3, 6, 5), seed=5)
    layer = getattr(impl, name)(**kwargs)
    assert layer.parameters() == [], f"{name}.parameters() must be [] (pooling learns nothing)"
    assert layer.training is True, f"a new {name} starts in train mode (training = True)"
    assert layer.eval() is layer and layer.training is False, f"{name}.eval() sets training = False, returns self"
    assert layer.train() is layer and layer.training is True, f"{name}.train() sets training = True, returns self"
    out = as_array(layer.forward(x))
    ref_out, cache = getattr(impl, f"{functional}_forward")(x, **kwargs)
    assert_close(out, ref_out, rtol=1e-12, what=f"{name}({kwargs}).forward vs {functional}_forward")
    dout = np.random.default_rng(6).standard_normal(out.shape)
    assert_close(layer.backward(dout), getattr(impl, f"{functional}_backward")(dout, cache), rtol=1e-12,
                 what=f"{name}.backward vs {functional}_backward")
    layer.eval()
    assert_close(layer.forward(x), ref_out, rtol=1e-12, what=f"{name} in eval mode (pooling has no mode)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_flatten_default_and_other_dims(impl):
    x = distinct((2, 3, 4, 5), seed=7)
    for kwargs, shape in ((dict(), (2, 60)), (dict(start_dim=2), (2, 3, 20)), (dict(start_dim=1, end_dim=2), (2, 12, 5)),
                          (dict(start_dim=0, end_dim=-2), (24, 5)), (dict(start_dim=-3, end_dim=-1), (2, 60))):
        layer = impl.Flatten(**kwargs)
        out = as_array(layer.forward(x))
        assert_shape(out, shape, f"Flatten({kwargs}) of (2, 3, 4, 5) (as torch.nn.Flatten: dims start..end merged)")
        assert_close(out, x.reshape(shape), what=f"Flatten({kwargs}) keeps the C (row-major) order of the values")
        dout = np.random.default_rng(8).standard_normal(shape)
        dx = as_array(layer.backward(dout))
        assert_close(dx, dout.reshape(x.shape), what=f"Flatten({kwargs}).backward (dout reshaped to x's shape)")
    assert impl.Flatten().parameters() == [], "Flatten has no parameters"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_layers_chain_in_a_topic06_sequential(impl):
    nn = load_topic(6)
    x = distinct((2, 2, 6, 6), seed=9)
    model = nn.Sequential(impl.MaxPool2d(2), impl.AvgPool2d(3, stride=1, padding=1), impl.Flatten(),
                          nn.Linear(18, 4, rng=0))
    dout = np.random.default_rng(10).standard_normal((2, 4))
    out = model.forward(x)
    assert_shape(out, (2, 4), "MaxPool2d(2) -> AvgPool2d(3, 1, 1) -> Flatten -> Linear(18, 4) on (2, 2, 6, 6)")
    dx = as_array(model.backward(dout))
    numeric = numerical_jacobian_vector(lambda v: model.forward(v), x.copy(), dout)
    err = rel_error(dx, numeric)
    assert err < 1e-5, f"dx through the Sequential has relative error {err:.6g} against finite differences"


# ----------------------------------------------------------------------------------------------------
# Task 6: receptive field (strided convolution vs convolution + pooling)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_receptive_field_by_hand(impl):
    cases = [([], (1, 1)),
             ([(3, 1)], (3, 1)),
             ([(3, 1), (3, 1)], (5, 1)),                 # two 3x3 convs see 5x5 (VGG's argument)
             ([(3, 2)], (3, 2)),                          # strided conv: 3 pixels, outputs 2 apart
             ([(3, 1), (2, 2)], (4, 2)),                  # conv + 2x2 pool: 4 pixels, outputs 2 apart
             ([(3, 2), (3, 2)], (7, 4)),                  # the stride multiplies the next layer's reach
             ([(7, 2), (3, 2), (3, 1), (3, 1)], (27, 4)),  # ResNet stem: 7x7 conv s2, 3x3 pool s2, two 3x3 convs
             ([(2, 2)] * 3, (8, 8))]
    for layers, expected in cases:
        got = tuple(int(v) for v in impl.receptive_field(layers))
        assert got == expected, (
            f"receptive_field({layers}) = {got}, expected (size, jump) = {expected}: each layer adds "
            f"(kernel - 1) * jump to the size, then multiplies the jump by its stride")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_receptive_field_matches_the_gradient_footprint(impl):
    # what the receptive field means: the input cells whose gradient an output cell reaches
    layers = [(3, 1), (2, 2), (3, 1), (2, 2)]          # conv, pool, conv, pool (along one axis)
    size, jump = (int(v) for v in impl.receptive_field(layers))
    x = np.ones((1, 1, 1, 40))
    caches, y = [], x
    for k, s in layers:
        y, cache = impl.avgpool2d_forward(y, (1, k), stride=(1, s))
        caches.append(cache)
    dout = np.zeros(y.shape)
    dout[0, 0, 0, 3] = 1.0
    g = dout
    for cache in reversed(caches):
        g = as_array(impl.avgpool2d_backward(g, cache))
    seen = np.flatnonzero(g[0, 0, 0])
    assert seen[-1] - seen[0] + 1 == size == 10 and seen[0] == 3 * jump == 12, (
        f"receptive_field({layers}) = ({size}, {jump}), but output cell 3 reaches input cells {seen.tolist()}")
