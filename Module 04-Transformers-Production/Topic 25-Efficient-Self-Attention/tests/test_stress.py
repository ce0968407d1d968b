"""Topic 25 stress tests: long sequences across chunk boundaries, determinism, call sequences, speed."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close

NAMES = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")


def qkv(seed, lead, L, S, d, dv=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape).astype(dtype) for shape in
                 (lead + (L, d), lead + (S, d), lead + (S, d if dv is None else dv)))


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("L", [1, 63, 64, 65, 130])
def test_lengths_around_block_sizes_match_the_reference(impl, reference, L):
    # a memory-efficient level works on blocks of queries: every length around a block size must agree
    q, k, v = qkv(L, (2,), L, L + 3, 4)
    mask = np.random.default_rng(0).random((1, L + 3)) < 0.8
    mask[0, 0] = True
    dout = np.random.default_rng(1).standard_normal((2, L, 4))
    for kwargs in ({"causal": True}, {"mask": mask}):
        out, cache = impl.attention_forward(q, k, v, **kwargs)
        ref, cache_ref = reference.attention_forward(q, k, v, **kwargs)
        assert_close(out, ref, rtol=1e-10, atol=1e-12, what=f"L = {L}, {sorted(kwargs)}: out vs the level-2 reference")
        for a, b in zip(impl.attention_backward(dout, cache), reference.attention_backward(dout, cache_ref)):
            assert_close(a, b, rtol=1e-9, atol=1e-11, what=f"L = {L}, {sorted(kwargs)}: gradients vs level 2")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_long_float32_sequence_matches_float64(impl):
    q, k, v = qkv(1, (2,), 200, 150, 8)
    out64, c64 = impl.attention_forward(q, k, v, causal=True)
    out32, c32 = impl.attention_forward(*(a.astype(np.float32) for a in (q, k, v)), causal=True)
    assert_close(out32, out64, rtol=1e-4, atol=1e-5, what="float32 attention of 200 x 150 vs float64")
    dout = np.random.default_rng(0).standard_normal((2, 200, 8))
    for a, b in zip(impl.attention_backward(dout.astype(np.float32), c32), impl.attention_backward(dout, c64)):
        assert_close(a, b, rtol=1e-3, atol=1e-4, what="float32 gradients vs float64")


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    q, k, v = qkv(2, (2, 2), 70, 66, 4)
    mask = np.random.default_rng(0).random((70, 66)) < 0.5
    dout = np.random.default_rng(1).standard_normal((2, 2, 70, 4))
    saved = [a.copy() for a in (q, k, v, mask, dout)]
    runs = []
    for _ in range(2):
        out, cache = impl.attention_forward(q, k, v, mask=mask, causal=True)
        runs.append([as_array(out).copy()] + [as_array(g).copy() for g in impl.attention_backward(dout, cache)])
        runs[-1] += [as_array(g).copy() for g in impl.attention_backward(dout, cache)]  # backward twice
    for a, b in zip(*runs):
        assert np.array_equal(a, b), "identical runs (and a second backward on one cache) must be bit-identical"
    for a, b in zip(saved, (q, k, v, mask, dout)):
        assert np.array_equal(a, b), "attention_forward / attention_backward must never modify their inputs"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_same_seed_gives_the_same_weights_and_seeds_differ(impl):
    a, b = impl.SelfAttention(6, rng=3), impl.SelfAttention(6, rng=3)
    for name in NAMES:
        assert np.array_equal(as_array(getattr(a, name).data), as_array(getattr(b, name).data)), \
            f"the same seed must give bit-identical weights ({name})"
    c = impl.SelfAttention(6, rng=4)
    assert not np.array_equal(as_array(a.Wq.data), as_array(c.Wq.data)), "seeds 3 and 4 must differ"
    assert not np.array_equal(as_array(a.Wq.data), as_array(a.Wk.data)), "Wq and Wk must be drawn separately"
    gen = np.random.default_rng(0)
    d, e = impl.SelfAttention(6, rng=gen), impl.SelfAttention(6, rng=gen)
    assert not np.array_equal(as_array(d.Wv.data), as_array(e.Wv.data)), \
        "two layers from one Generator must differ (use it, don't re-seed from it)"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_init_ignores_numpys_global_seed(impl):
    np.random.seed(0)
    a = impl.SelfAttention(4, rng=11)
    np.random.seed(1)
    b = impl.SelfAttention(4, rng=11)
    assert np.array_equal(as_array(a.Wo.data), as_array(b.Wo.data)), "np.random.seed must play no part"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_backward_uses_the_last_forward(impl):
    layer = impl.SelfAttention(3, rng=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    x1, x2, dout = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 3))
    first = as_array(layer.forward(x2, causal=True)).copy()
    layer.forward(x1)
    again = as_array(layer.forward(x2, causal=True))
    assert np.array_equal(first, again), "forward must not change the layer: the same x gives the same output"
    dx = as_array(layer.backward(dout))
    fresh = impl.SelfAttention(3, rng=0, dtype=np.float64)
    fresh.forward(x2, causal=True)
    assert_close(dx, fresh.backward(dout), rtol=1e-12, atol=1e-14, what="backward must use the cache of the last forward")
    for name in NAMES:
        assert_close(getattr(layer, name).grad, getattr(fresh, name).grad, rtol=1e-12, atol=1e-14,
                     what=f"{name}.grad after forward, forward, forward, backward")


@pytest.mark.performance
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_forward_speed(impl, reference, compare_speed):
    q, k, v = qkv(0, (2,), 96, 96, 16, dtype=np.float32)
    compare_speed(impl.attention_forward, reference.attention_forward, q, k, v, threshold=3.0, causal=True)


@pytest.mark.performance
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_backward_speed(impl, reference, compare_speed):
    q, k, v = qkv(0, (2,), 96, 96, 16, dtype=np.float32)
    dout = np.ones((2, 96, 16), np.float32)
    _, cache = impl.attention_forward(q, k, v, causal=True)
    _, cache_ref = reference.attention_forward(q, k, v, causal=True)
    compare_speed(lambda: impl.attention_backward(dout, cache), lambda: reference.attention_backward(dout, cache_ref),
                  threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_step_speed(impl, reference, compare_speed):
    x = np.random.default_rng(0).standard_normal((2, 96, 16)).astype(np.float32)
    dout = np.ones((2, 96, 16), np.float32)
    mine, ref = impl.SelfAttention(16, rng=0), reference.SelfAttention(16, rng=0)

    def step(layer):
        layer.forward(x, causal=True)
        return layer.backward(dout)

    compare_speed(lambda: step(mine), lambda: step(ref), threshold=3.0)
