"""Topic 13 stress tests: a larger batch against an independent formula, invariants, determinism, speed."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def batch(seed, shape, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_larger_batch_against_block_reshape(impl):
    # non-overlapping 2x2 windows are the blocks of a reshape: an independent way to get the same numbers
    x = batch(0, (4, 8, 16, 16))
    blocks = x.reshape(4, 8, 8, 2, 8, 2)
    out, cache = impl.maxpool2d_forward(x, 2)
    assert_close(out, blocks.max(axis=(3, 5)), what="2x2 max pool of (4, 8, 16, 16) vs the block-reshape maximum")
    avg, avg_cache = impl.avgpool2d_forward(x, 2)
    assert_close(avg, blocks.mean(axis=(3, 5)), rtol=1e-12, what="2x2 avg pool vs the block-reshape mean")
    dout = batch(1, (4, 8, 8, 8))
    dx = as_array(impl.maxpool2d_backward(dout, cache))
    winners = (blocks == blocks.max(axis=(3, 5), keepdims=True)).reshape(x.shape)
    assert_close(dx, np.repeat(np.repeat(dout, 2, axis=2), 2, axis=3) * winners,
                 what="max pool dx on random data (dout at each block's maximum, 0 elsewhere)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_gradient_is_conserved(impl):
    # every window hands its whole gradient to its cells: sum(dx) = sum(dout) (max pooling, and average pooling
    # when the padding is not counted), with any stride, padding and ceil mode
    x = batch(2, (3, 4, 11, 9))
    dout_seed = 3
    for kwargs in (dict(kernel_size=3, stride=1, padding=1), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                   dict(kernel_size=(4, 2), stride=(3, 1), padding=(2, 1), ceil_mode=True)):
        out, cache = impl.maxpool2d_forward(x, **kwargs)
        dout = batch(dout_seed, as_array(out).shape)
        assert_close(as_array(impl.maxpool2d_backward(dout, cache)).sum(), dout.sum(), rtol=1e-10,
                     what=f"sum of max pool dx vs sum of dout for {kwargs} (a window's gradient went missing, or "
                          f"was counted twice?)")
        out, cache = impl.avgpool2d_forward(x, **kwargs, count_include_pad=False)
        assert_close(as_array(impl.avgpool2d_backward(dout, cache)).sum(), dout.sum(), rtol=1e-10,
                     what=f"sum of avg pool dx vs sum of dout for {kwargs}, count_include_pad=False")


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_bit_identical_reruns_and_inputs_untouched(impl):
    x = np.round(batch(4, (2, 3, 9, 9)), 1)            # rounded: many ties, which must resolve the same way
    dout = batch(5, (2, 3, 5, 5))
    x_copy, dout_copy = x.copy(), dout.copy()
    results = []
    for _ in range(2):
        out, cache = impl.maxpool2d_forward(x, 3, stride=2, padding=1)
        avg, avg_cache = impl.avgpool2d_forward(x, 3, stride=2, padding=1)
        results.append([as_array(out).copy(), as_array(impl.maxpool2d_backward(dout, cache)).copy(),
                        as_array(avg).copy(), as_array(impl.avgpool2d_backward(dout, avg_cache)).copy()])
    for a, b, what in zip(results[0], results[1], ("max out", "max dx", "avg out", "avg dx")):
        assert np.array_equal(a, b), f"{what} differs between two identical calls"
    assert np.array_equal(x, x_copy), "pooling modified its input x"
    assert np.array_equal(dout, dout_copy), "a backward pass modified dout"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_layer_backward_uses_the_latest_forward(impl):
    layer = impl.MaxPool2d(2)
    a, b = batch(6, (1, 2, 4, 4)), batch(7, (1, 2, 4, 4))
    layer.forward(a)
    layer.forward(b)
    dout = batch(8, (1, 2, 2, 2))
    _, cache = impl.maxpool2d_forward(b, 2)
    assert_close(layer.backward(dout), impl.maxpool2d_backward(dout, cache),
                 what="MaxPool2d.backward after two forwards (must use the cache of the last one)")
    assert_close(layer.backward(dout), impl.maxpool2d_backward(dout, cache),
                 what="a second backward from the same forward (the cache must not be consumed or changed)")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_maxpool_speed(impl, reference, compare_speed):
    x = batch(9, (4, 8, 16, 16), np.float32)

    def step(m):
        out, cache = m.maxpool2d_forward(x, 3, stride=2, padding=1)
        return m.maxpool2d_backward(np.ones_like(as_array(out)), cache)

    compare_speed(lambda: step(impl), lambda: step(reference), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_avgpool_speed(impl, reference, compare_speed):
    x = batch(10, (4, 8, 16, 16), np.float32)

    def step(m):
        out, cache = m.avgpool2d_forward(x, 2)
        return m.avgpool2d_backward(np.ones_like(as_array(out)), cache)

    compare_speed(lambda: step(impl), lambda: step(reference), threshold=3.0)
