"""Topic 12 stress tests: larger batches (several chunks of a bounded workspace), the convolution against its
definition, float32 on a realistic layer, determinism, and the speed of one training step against level 2."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def randn(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


def direct_conv(x, w, b, stride, pads):
    """The definition, computed without any column matrix: out[n, o] = b[o] + sum w[o, c, i, j] * xp[n, c, ...]."""
    (sh, sw), (top, bottom, left, right) = stride, pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    windows = np.lib.stride_tricks.sliding_window_view(xp, w.shape[2:], axis=(2, 3))[:, :, ::sh, ::sw]
    out = np.einsum("nchwij,ocij->nohw", windows, w)
    return out if b is None else out + b[None, :, None, None]


def direct_backward(x, w, dout, stride, pads):
    """dx and dw from the definition: each output sends dout * w back over the window it read."""
    (sh, sw), (top, bottom, left, right) = stride, pads
    xp = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    H_out, W_out = dout.shape[2:]
    kh, kw = w.shape[2:]
    for i in range(kh):
        for j in range(kw):
            tap = xp[:, :, i:i + sh * H_out:sh, j:j + sw * W_out:sw]          # (N, C, H_out, W_out)
            dw[:, :, i, j] = np.einsum("nohw,nchw->oc", dout, tap)
            dxp[:, :, i:i + sh * H_out:sh, j:j + sw * W_out:sw] += np.einsum("nohw,oc->nchw", dout, w[:, :, i, j])
    return dxp[:, :, top:top + x.shape[2], left:left + x.shape[3]], dw


# ----------------------------------------------------------------------------------------------------
# Larger inputs against the definition
# ----------------------------------------------------------------------------------------------------

# 20 images of 16 x 32 x 32 in float64: their columns take 20 * 144 * 1024 * 8 bytes = 22.5 MiB, more than a
# 16 MiB workspace holds, so a chunked implementation goes through the batch in pieces (and must not lose one)
LARGE = dict(x=(20, 16, 32, 32), w=(8, 16, 3, 3), stride=(1, 1), pads=(1, 1, 1, 1))
RECT = dict(x=(6, 5, 13, 17), w=(7, 5, 4, 3), stride=(2, 3), pads=(2, 2, 1, 1))


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("case", [LARGE, RECT], ids=["large_batch_3x3_same", "rect_strided_4x3"])
def test_forward_of_a_larger_batch_matches_the_definition(impl, case):
    x, w, b = randn(0, *case["x"]), randn(1, *case["w"]), randn(2, case["w"][0])
    padding = (case["pads"][0], case["pads"][2])
    got = as_array(impl.conv2d_forward(x, w, b, case["stride"], padding)[0])
    assert_close(got, direct_conv(x, w, b, case["stride"], case["pads"]), rtol=1e-10, atol=1e-10,
                 what=f"conv2d_forward on x {case['x']}, w {case['w']}, stride {case['stride']}, padding {padding} vs "
                      f"the definition (every image of the batch, in its own place: columns ordered (n, ho, wo))")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.parametrize("case", [LARGE, RECT], ids=["large_batch_3x3_same", "rect_strided_4x3"])
def test_backward_of_a_larger_batch_matches_the_definition(impl, case):
    x, w, b = randn(3, *case["x"]), randn(4, *case["w"]), randn(5, case["w"][0])
    padding = (case["pads"][0], case["pads"][2])
    out, cache = impl.conv2d_forward(x, w, b, case["stride"], padding)
    dout = randn(6, *as_array(out).shape)
    dx, dw, db = impl.conv2d_backward(dout, cache)
    dx_ref, dw_ref = direct_backward(x, w, dout, case["stride"], case["pads"])
    what = f"x {case['x']}, w {case['w']}, stride {case['stride']}, padding {padding}"
    assert_close(dx, dx_ref, rtol=1e-10, atol=1e-10,
                 what=f"dx ({what}): col2im must add every window's gradient at (ho * sh + i, wo * sw + j)")
    assert_close(dw, dw_ref, rtol=1e-10, atol=1e-10, what=f"dw ({what}): summed over all the images of the batch")
    assert_close(db, dout.sum(axis=(0, 2, 3)), rtol=1e-10, atol=1e-10, what=f"db ({what})")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_im2col_of_a_larger_batch_puts_every_window_in_its_column(impl):
    x = randn(7, 5, 3, 11, 9)
    cols = as_array(impl.im2col(x, 3, 2, (2, 1), (1, 0)))
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0)))
    H_out, W_out = (11 + 2 - 3) // 2 + 1, (9 - 2) // 1 + 1
    assert cols.shape == (3 * 3 * 2, 5 * H_out * W_out), f"im2col shape {cols.shape}"
    for n, ho, wo in [(0, 0, 0), (4, H_out - 1, W_out - 1), (2, 3, 5), (3, 5, 0)]:
        q = (n * H_out + ho) * W_out + wo
        window = xp[n, :, 2 * ho:2 * ho + 3, wo:wo + 2].reshape(-1)
        assert np.array_equal(cols[:, q], window), (
            f"column {q} should be the window of image {n} at output ({ho}, {wo}), flattened in the order (c, i, j)")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_float32_realistic_layer_is_accurate(impl):
    # a CIFAR-10-like layer in float32 (the dtype of training) against the float64 definition
    rng = np.random.default_rng(8)
    x = rng.standard_normal((16, 16, 16, 16), dtype=np.float32)
    w = (rng.standard_normal((32, 16, 3, 3), dtype=np.float32) / np.float32(12.0))
    b = rng.standard_normal(32, dtype=np.float32)
    out, cache = impl.conv2d_forward(x, w, b, 1, 1)
    out = as_array(out)
    assert out.dtype == np.float32, f"float32 layer returned {out.dtype}"
    expected = direct_conv(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), (1, 1), (1, 1, 1, 1))
    assert_close(out, expected, rtol=1e-4, atol=1e-4, what="float32 output (16 x 16 x 16 x 16, 3x3, 32 filters)")
    dout = rng.standard_normal(out.shape, dtype=np.float32)
    dx, dw, db = (as_array(g) for g in impl.conv2d_backward(dout, cache))
    assert dx.dtype == dw.dtype == db.dtype == np.float32, "float32 gradients expected"
    dx_ref, dw_ref = direct_backward(x.astype(np.float64), w.astype(np.float64), dout.astype(np.float64),
                                     (1, 1), (1, 1, 1, 1))
    assert_close(dx, dx_ref, rtol=1e-4, atol=1e-4, what="float32 dx of the realistic layer")
    assert_close(dw, dw_ref, rtol=1e-4, atol=1e-3, what="float32 dw (a sum of 4096 products per weight)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_gradients_accumulate_over_two_batches(impl):
    layer = impl.Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(1, 0), rng=3, dtype=np.float64)
    x1, x2 = randn(9, 4, 3, 7, 8), randn(10, 2, 3, 7, 8)
    d1 = randn(11, *as_array(layer.forward(x1)).shape)
    layer.backward(d1)
    d2 = randn(12, *as_array(layer.forward(x2)).shape)
    layer.backward(d2)
    w, b = as_array(layer.weight.data), as_array(layer.bias.data)
    _, dw1 = direct_backward(x1, w, d1, (1, 2), (1, 1, 0, 0))
    _, dw2 = direct_backward(x2, w, d2, (1, 2), (1, 1, 0, 0))
    assert_close(layer.weight.grad, dw1 + dw2, rtol=1e-10, atol=1e-10,
                 what="weight.grad after backward on two batches (backward must ADD into .grad, not overwrite it)")
    assert_close(layer.bias.grad, d1.sum(axis=(0, 2, 3)) + d2.sum(axis=(0, 2, 3)), rtol=1e-10, atol=1e-10,
                 what="bias.grad after two backward calls")
    assert_close(layer.forward(x2), direct_conv(x2, w, b, (1, 2), (1, 1, 0, 0)), rtol=1e-10, atol=1e-10,
                 what="Conv2d(3, 4, (3, 2), stride=(1, 2), padding=(1, 0)) output")


# ----------------------------------------------------------------------------------------------------
# Determinism
# ----------------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    x, w, b = randn(0, 3, 4, 9, 8), randn(1, 5, 4, 3, 2), randn(2, 5)
    dout = randn(3, 3, 5, 5, 9)
    copies = [a.copy() for a in (x, w, b, dout)]
    runs = []
    for _ in range(2):
        out, cache = impl.conv2d_forward(x, w, b, (2, 1), (1, 1))
        runs.append([as_array(out).copy()] + [as_array(g).copy() for g in impl.conv2d_backward(dout, cache)])
    for name, first, second in zip(("out", "dx", "dw", "db"), *runs):
        assert np.array_equal(first, second), f"{name} differs between two identical calls (a buffer reused dirty?)"
    for name, before, now in zip(("x", "w", "b", "dout"), copies, (x, w, b, dout)):
        assert np.array_equal(before, now), f"{name} was modified: never write into the caller's arrays"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_an_earlier_forward_does_not_change_a_later_backward(impl):
    # implementations that reuse a workspace must not let one call's columns leak into another's gradients
    x1, x2, w = randn(4, 2, 3, 8, 8), randn(5, 6, 3, 8, 8), randn(6, 4, 3, 3, 3)
    out1, cache1 = impl.conv2d_forward(x1, w, None, 1, 1)
    dout1 = randn(7, *as_array(out1).shape)
    alone = [as_array(g).copy() for g in impl.conv2d_backward(dout1, cache1)[:2]]
    _, cache1 = impl.conv2d_forward(x1, w, None, 1, 1)
    out2, cache2 = impl.conv2d_forward(x2, w, None, 1, 1)          # a bigger batch in between
    impl.conv2d_backward(randn(8, *as_array(out2).shape), cache2)
    for name, first, again in zip(("dx", "dw"), alone, impl.conv2d_backward(dout1, cache1)[:2]):
        assert np.array_equal(first, as_array(again)), (
            f"{name} of batch 1 changed after another forward/backward ran in between: the cache must not point "
            f"into a buffer that later calls overwrite")


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_same_seed_same_weights_different_seed_different_weights(impl):
    a, b = impl.Conv2d(3, 6, 3, rng=5), impl.Conv2d(3, 6, 3, rng=np.random.default_rng(5))
    c = impl.Conv2d(3, 6, 3, rng=6)
    for name in ("weight", "bias"):
        pa, pb, pc = (as_array(getattr(layer, name).data) for layer in (a, b, c))
        assert np.array_equal(pa, pb), f"rng=5 and rng=np.random.default_rng(5) gave different {name}s"
        assert not np.array_equal(pa, pc), f"rng=5 and rng=6 gave the same {name}"
    np.random.seed(0)
    d = impl.Conv2d(3, 6, 3, rng=5)
    np.random.seed(1)
    e = impl.Conv2d(3, 6, 3, rng=5)
    assert np.array_equal(as_array(d.weight.data), as_array(e.weight.data)), (
        "the weights changed with np.random.seed: draw them from np.random.default_rng(rng) only")
    shared = np.random.default_rng(9)
    first, second = impl.Conv2d(3, 6, 3, rng=shared), impl.Conv2d(3, 6, 3, rng=shared)
    assert not np.array_equal(as_array(first.weight.data), as_array(second.weight.data)), (
        "two layers drawn one after the other from one Generator must differ (use the Generator you are given)")


# ----------------------------------------------------------------------------------------------------
# Speed of one training step against the level-2 reference (a warning in the runner, never a failure)
# ----------------------------------------------------------------------------------------------------

def speed_case():
    """A small CIFAR-like layer: 4 images of 8 channels, 12 x 12, 3x3 'same' to 8 channels, float32."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 8, 12, 12), dtype=np.float32)
    w = rng.standard_normal((8, 8, 3, 3), dtype=np.float32) / np.float32(8.5)
    b = rng.standard_normal(8, dtype=np.float32)
    dout = rng.standard_normal((4, 8, 12, 12), dtype=np.float32)
    return x, w, b, dout


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_the_timed_step_is_correct(impl, reference):
    x, w, b, dout = speed_case()
    out, cache = impl.conv2d_forward(x, w, b, 1, 1)
    ref_out, ref_cache = reference.conv2d_forward(x, w, b, 1, 1)
    assert_close(out, ref_out, rtol=1e-4, atol=1e-4, what="output on the inputs of the speed test")
    for name, got, exp in zip(("dx", "dw", "db"), impl.conv2d_backward(dout, cache),
                              reference.conv2d_backward(dout, ref_cache)):
        assert_close(got, exp, rtol=1e-4, atol=1e-3, what=f"{name} on the inputs of the speed test")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_training_step_speed(impl, reference, compare_speed):
    x, w, b, dout = speed_case()

    def step(mod):
        _, cache = mod.conv2d_forward(x, w, b, 1, 1)
        return mod.conv2d_backward(dout, cache)

    # level 1's Python loops over the 576 output positions are expected to be far slower: a warning only
    compare_speed(lambda: step(impl), lambda: step(reference), threshold=3.0)
