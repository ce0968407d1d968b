"""Topic 11 stress tests: a larger case against the reference, learning a filter with SGD, determinism, speed."""

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.testing import as_array, assert_close


def randn(seed, *shape):
    return np.random.default_rng(seed).standard_normal(shape)


# ----------------------------------------------------------------------------------------------------
# A larger case (still small enough for the loops of level 1)
# ----------------------------------------------------------------------------------------------------

MEDIUM = dict(x=(3, 4, 9, 11), w=(5, 4, 3, 2), stride=(2, 1), padding=(1, 0))


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_medium_forward_matches_the_reference(impl, reference):
    x, w, b = randn(0, *MEDIUM["x"]), randn(1, *MEDIUM["w"]), randn(2, MEDIUM["w"][0])
    expected, _ = reference.conv2d_forward(x, w, b, MEDIUM["stride"], MEDIUM["padding"])
    got, _ = impl.conv2d_forward(x, w, b, MEDIUM["stride"], MEDIUM["padding"])
    assert_close(got, expected, rtol=1e-10, atol=1e-12, what=f"output for x {MEDIUM['x']}, w {MEDIUM['w']}, "
                                                             f"stride (2, 1), padding (1, 0) vs the level-2 reference")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_medium_backward_matches_the_reference(impl, reference):
    x, w, b = randn(0, *MEDIUM["x"]), randn(1, *MEDIUM["w"]), randn(2, MEDIUM["w"][0])
    out, ref_cache = reference.conv2d_forward(x, w, b, MEDIUM["stride"], MEDIUM["padding"])
    dout = randn(3, *out.shape)
    expected = reference.conv2d_backward(dout, ref_cache)
    _, cache = impl.conv2d_forward(x, w, b, MEDIUM["stride"], MEDIUM["padding"])
    for name, g, e in zip(("dx", "dw", "db"), impl.conv2d_backward(dout, cache), expected):
        assert_close(g, e, rtol=1e-10, atol=1e-12, what=f"{name} for x {MEDIUM['x']}, w {MEDIUM['w']}, stride (2, 1), "
                                                        f"padding (1, 0) vs the level-2 reference")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_conv2d_learns_edge_detectors_with_sgd(impl):
    # the target is a known pair of filters (Sobel x and y) plus a bias: plain SGD on the squared error
    # must recover them, which only works if forward, backward and the gradient accumulation agree
    optim = load_topic(3)
    sobel_x = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])
    target_w = np.stack([sobel_x, sobel_x.T])[:, None]        # (2, 1, 3, 3)
    target_b = np.array([0.5, -0.25])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 5, 5))
    target = np.einsum("nhwuv,ouv->nohw", np.lib.stride_tricks.sliding_window_view(
        np.pad(x[:, 0], ((0, 0), (1, 1), (1, 1))), (3, 3), axis=(1, 2)), target_w[:, 0]) + target_b[None, :, None, None]
    layer = impl.Conv2d(1, 2, 3, padding=1, rng=1, dtype=np.float64)
    opt = optim.SGD(layer.parameters(), lr=0.15)
    losses = []
    for _ in range(100):
        out = as_array(layer.forward(x))
        diff = out - target
        losses.append(float(np.mean(diff ** 2)))
        opt.zero_grad()
        layer.backward(2 * diff / diff.size)
        opt.step()
    assert losses[-1] < 1e-3 * losses[0], (
        f"squared error went from {losses[0]:.6g} to {losses[-1]:.6g} in 100 SGD steps; it should fall by more than "
        f"1000x on this linear problem (do forward, backward and the accumulation into .grad agree?)")
    assert_close(layer.weight.data, target_w, atol=0.05, what="learned filters (should approach Sobel x and y)")
    assert_close(layer.bias.data, target_b, atol=0.05, what="learned bias")


# ----------------------------------------------------------------------------------------------------
# Determinism: init seeds, bit-identical reruns, inputs left untouched
# ----------------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_same_seed_gives_the_same_weights(impl):
    a = impl.Conv2d(3, 4, 3, rng=7)
    b = impl.Conv2d(3, 4, 3, rng=7)
    c = impl.Conv2d(3, 4, 3, rng=np.random.default_rng(7))
    for name in ("weight", "bias"):
        pa, pb, pc = (as_array(getattr(layer, name).data) for layer in (a, b, c))
        assert np.array_equal(pa, pb), f"Conv2d(rng=7) twice gave different {name}s: the init must use only rng"
        assert np.array_equal(pa, pc), f"rng=7 and rng=np.random.default_rng(7) must give the same {name}"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_different_seeds_give_different_weights(impl):
    a, b = impl.Conv2d(3, 4, 3, rng=7), impl.Conv2d(3, 4, 3, rng=8)
    assert not np.array_equal(as_array(a.weight.data), as_array(b.weight.data)), "rng=7 and rng=8 gave equal weights"
    assert not np.array_equal(as_array(a.bias.data), as_array(b.bias.data)), "rng=7 and rng=8 gave equal biases"
    shared = np.random.default_rng(9)
    first, second = impl.Conv2d(3, 4, 3, rng=shared), impl.Conv2d(3, 4, 3, rng=shared)
    assert not np.array_equal(as_array(first.weight.data), as_array(second.weight.data)), (
        "two layers drawn one after the other from the same Generator must differ (use the Generator you are "
        "given, do not re-seed a new one from it)")
    fresh1, fresh2 = impl.Conv2d(3, 4, 3), impl.Conv2d(3, 4, 3)
    assert not np.array_equal(as_array(fresh1.weight.data), as_array(fresh2.weight.data)), \
        "rng=None must draw fresh entropy: two layers gave the same weights"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_init_ignores_numpys_global_seed(impl):
    np.random.seed(0)
    a = impl.Conv2d(2, 3, 3, rng=11)
    np.random.seed(1)
    b = impl.Conv2d(2, 3, 3, rng=11)
    assert np.array_equal(as_array(a.weight.data), as_array(b.weight.data)), (
        "the weights changed with np.random.seed: draw them from rng (np.random.default_rng(rng)), not from the "
        "global np.random functions")


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    x, w, b = randn(0, 2, 3, 6, 7), randn(1, 4, 3, 3, 2), randn(2, 4)
    dout = randn(3, 2, 4, 3, 6)
    copies = [a.copy() for a in (x, w, b, dout)]
    runs = []
    for _ in range(2):
        out, cache = impl.conv2d_forward(x, w, b, (2, 1), (1, 0))
        runs.append([as_array(out).copy()] + [as_array(g).copy() for g in impl.conv2d_backward(dout, cache)])
    for name, first, second in zip(("out", "dx", "dw", "db"), *runs):
        assert np.array_equal(first, second), f"{name} differs between two identical calls"
    for name, before, now in zip(("x", "w", "b", "dout"), copies, (x, w, b, dout)):
        assert np.array_equal(before, now), f"{name} was modified by conv2d_forward/conv2d_backward: never write into inputs"


# ----------------------------------------------------------------------------------------------------
# Speed against the level-2 reference (a warning in the runner, never a failure)
# ----------------------------------------------------------------------------------------------------

def speed_case():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    return x, w, b


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_forward_speed(impl, reference, compare_speed):
    x, w, b = speed_case()
    compare_speed(impl.conv2d_forward, reference.conv2d_forward, x, w, b, 1, 1, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_backward_speed(impl, reference, compare_speed):
    x, w, b = speed_case()
    dout = np.ones((2, 4, 8, 8), dtype=np.float32)
    _, cache = impl.conv2d_forward(x, w, b, 1, 1)
    _, ref_cache = reference.conv2d_forward(x, w, b, 1, 1)
    compare_speed(lambda: impl.conv2d_backward(dout, cache), lambda: reference.conv2d_backward(dout, ref_cache),
                  threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_layer_step_speed(impl, reference, compare_speed):
    x, _, _ = speed_case()
    mine, ref = impl.Conv2d(3, 4, 3, padding=1, rng=0), reference.Conv2d(3, 4, 3, padding=1, rng=0)
    # forward + backward of one training step; the output (2, 4, 8, 8) doubles as the upstream gradient
    compare_speed(lambda: mine.backward(mine.forward(x)), lambda: ref.backward(ref.forward(x)), threshold=3.0)
