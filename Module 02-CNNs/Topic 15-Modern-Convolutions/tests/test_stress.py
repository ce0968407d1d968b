"""Topic 15 stress tests: larger inputs against independent constructions, determinism, speed."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def rand(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(1)
def test_dilated_kernel_equals_a_dense_kernel_with_holes(impl):
    x, w, b = rand((3, 4, 14, 13)), rand((5, 4, 3, 3), 1), rand(5, 2)
    dense = np.zeros((5, 4, 7, 5))
    dense[:, :, ::3, ::2] = w                              # dilation (3, 2): taps 3 rows and 2 columns apart
    out, cache = impl.conv2d_forward(x, w, b, stride=(1, 2), padding=(3, 2), dilation=(3, 2))
    ref, ref_cache = impl.conv2d_forward(x, dense, b, stride=(1, 2), padding=(3, 2))
    assert_close(out, ref, rtol=1e-10, what="dilated conv vs the dense kernel with zeros between the taps")
    dout = rand(as_array(out).shape, 3)
    dx, dw, db = impl.conv2d_backward(dout, cache)
    ref_dx, ref_dw, _ = impl.conv2d_backward(dout, ref_cache)
    assert_close(dx, ref_dx, rtol=1e-10, what="dilated conv dx vs the dense kernel with holes")
    assert_close(dw, as_array(ref_dw)[:, :, ::3, ::2], rtol=1e-10,
                 what="dilated conv dw vs the taps of the dense kernel's gradient")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_grouped_conv_equals_separate_convolutions(impl):
    G, x, w, b = 4, rand((3, 8, 12, 12), 4), rand((12, 2, 3, 3), 5), rand(12, 6)
    out, cache = impl.conv2d_forward(x, w, b, stride=2, padding=1, groups=G)
    out = as_array(out)
    dout = rand(out.shape, 7)
    dx, dw, db = (as_array(a) for a in impl.conv2d_backward(dout, cache))
    for g in range(G):
        xs, ws, os = slice(2 * g, 2 * g + 2), slice(3 * g, 3 * g + 3), slice(3 * g, 3 * g + 3)
        part, part_cache = impl.conv2d_forward(x[:, xs], w[ws], b[ws], stride=2, padding=1)
        assert_close(out[:, os], part, rtol=1e-10,
                     what=f"group {g} of a groups=4 conv vs a plain conv of input channels {2 * g}..{2 * g + 1}")
        pdx, pdw, pdb = impl.conv2d_backward(dout[:, os], part_cache)
        assert_close(dx[:, xs], pdx, rtol=1e-10, what=f"dx of group {g}")
        assert_close(dw[ws], pdw, rtol=1e-10, what=f"dw of group {g}")


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_bit_identical_reruns_and_inputs_untouched(impl):
    x, w, b = rand((2, 4, 8, 8), 8), rand((8, 1, 3, 3), 9), rand(8, 10)
    dout = rand((2, 8, 8, 8), 11)
    copies = [a.copy() for a in (x, w, b, dout)]
    runs = []
    for _ in range(2):
        out, cache = impl.conv2d_forward(x, w, b, padding=2, dilation=2, groups=4)
        runs.append([as_array(out).copy()] + [as_array(g).copy() for g in impl.conv2d_backward(dout, cache)])
    for a, c, what in zip(runs[0], runs[1], ("out", "dx", "dw", "db")):
        assert np.array_equal(a, c), f"{what} differs between two identical calls"
    for a, c, what in zip((x, w, b, dout), copies, ("x", "w", "b", "dout")):
        assert np.array_equal(a, c), f"conv2d modified its input {what}"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_layer_seeds(impl):
    a = impl.SeparableConv2d(4, 6, 3, depth_multiplier=2, rng=7)
    b = impl.SeparableConv2d(4, 6, 3, depth_multiplier=2, rng=np.random.default_rng(7))
    c = impl.SeparableConv2d(4, 6, 3, depth_multiplier=2, rng=8)
    for p, q, r in zip(a.parameters(), b.parameters(), c.parameters()):
        assert np.array_equal(as_array(p.data), as_array(q.data)), "seed 7 and Generator(7) must give the same weights"
        assert not np.array_equal(as_array(p.data), as_array(r.data)), "seeds 7 and 8 must give different weights"
    x = rand((1, 4, 5, 5), 12, np.float32)
    assert np.array_equal(as_array(a.forward(x)), as_array(a.forward(x))), "forward is deterministic"


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_grouped_conv_speed(impl, reference, compare_speed):
    x, w = rand((2, 8, 12, 12), 13, np.float32), rand((8, 2, 3, 3), 14, np.float32)

    def step(m):
        out, cache = m.conv2d_forward(x, w, None, padding=1, groups=4)
        return m.conv2d_backward(np.ones_like(as_array(out)), cache)

    compare_speed(lambda: step(impl), lambda: step(reference), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(1)
def test_depthwise_conv_speed(impl, reference, compare_speed):
    x, w = rand((2, 8, 12, 12), 15, np.float32), rand((8, 1, 3, 3), 16, np.float32)

    def step(m):
        out, cache = m.conv2d_forward(x, w, None, padding=2, dilation=2, groups=8)
        return m.conv2d_backward(np.ones_like(as_array(out)), cache)

    compare_speed(lambda: step(impl), lambda: step(reference), threshold=3.0)
