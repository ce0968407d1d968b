"""Topic 26 stress tests: many heads against the reference, float32 vs float64, determinism, call sequences, speed."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def make_params(seed, E, bias=True, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {"in_proj_weight": rng.uniform(-0.5, 0.5, (3 * E, E)), "out_proj.weight": rng.uniform(-0.5, 0.5, (E, E))}
    if bias:
        params["in_proj_bias"] = rng.uniform(-0.5, 0.5, 3 * E)
        params["out_proj.bias"] = rng.uniform(-0.5, 0.5, E)
    return {n: v.astype(dtype) for n, v in params.items()}


def qkv(seed, B, T, S, E, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape).astype(dtype) for shape in ((B, T, E), (B, S, E), (B, S, E)))


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.parametrize("heads", [1, 2, 3, 6])
def test_every_head_count_matches_the_reference(impl, reference, heads):
    # a memory-efficient level works on chunks of heads: every head count must agree with level 2
    B, T, S, E = 2, 5, 7, 12
    query, key, value = qkv(heads, B, T, S, E)
    params = make_params(heads, E)
    rng = np.random.default_rng(0)
    kpm = np.zeros((B, S), bool)
    kpm[1, 5:] = True
    am = rng.standard_normal((B * heads, T, S))
    dout = rng.standard_normal((B, T, E))
    for kwargs in ({"key_padding_mask": kpm}, {"attn_mask": am, "average_attn_weights": False}):
        out, w, cache = impl.mha_forward(query, key, value, params, heads, **kwargs)
        ref, w_ref, cache_ref = reference.mha_forward(query, key, value, params, heads, **kwargs)
        assert_close(out, ref, rtol=1e-10, atol=1e-12, what=f"{heads} heads, {sorted(kwargs)}: out vs level 2")
        assert_close(w, w_ref, rtol=1e-10, atol=1e-12, what=f"{heads} heads, {sorted(kwargs)}: weights vs level 2")
        mine, theirs = impl.mha_backward(dout, cache), reference.mha_backward(dout, cache_ref)
        for label, a, b in zip(("dquery", "dkey", "dvalue"), mine[:3], theirs[:3]):
            assert_close(a, b, rtol=1e-9, atol=1e-11, what=f"{heads} heads: {label} vs level 2")
        for name in theirs[3]:
            assert_close(mine[3][name], theirs[3][name], rtol=1e-9, atol=1e-11, what=f"{heads} heads: {name} grad")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_long_float32_sequence_matches_float64(impl):
    query, key, value = qkv(1, 2, 60, 50, 16)
    params = make_params(1, 16)
    out64, _, c64 = impl.mha_forward(query, key, value, params, 4, need_weights=False)
    out32, _, c32 = impl.mha_forward(*(a.astype(np.float32) for a in (query, key, value)),
                                     {n: v.astype(np.float32) for n, v in params.items()}, 4, need_weights=False)
    assert_close(out32, out64, rtol=1e-4, atol=1e-4, what="float32 multi-head attention of 60 x 50 vs float64")
    dout = np.random.default_rng(0).standard_normal((2, 60, 16))
    a, b = impl.mha_backward(dout.astype(np.float32), c32), impl.mha_backward(dout, c64)
    for x, y in zip(a[:3], b[:3]):
        assert_close(x, y, rtol=1e-3, atol=1e-3, what="float32 gradients vs float64")


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    query, key, value = qkv(2, 2, 9, 8, 8)
    params = make_params(2, 8)
    kpm = np.zeros((2, 8), bool)
    kpm[0, 6:] = True
    am = np.random.default_rng(0).standard_normal((9, 8))
    dout = np.random.default_rng(1).standard_normal((2, 9, 8))
    saved = [a.copy() for a in (query, key, value, kpm, am, dout)] + [v.copy() for v in params.values()]
    runs = []
    for _ in range(2):
        out, w, cache = impl.mha_forward(query, key, value, params, 4, key_padding_mask=kpm, attn_mask=am)
        run = [as_array(out).copy(), as_array(w).copy()]
        for _ in range(2):                                    # backward twice on one cache
            dq, dk, dv, grads = impl.mha_backward(dout, cache)
            run += [as_array(g).copy() for g in (dq, dk, dv, *grads.values())]
        runs.append(run)
    for a, b in zip(*runs):
        assert np.array_equal(a, b), "identical runs (and a second backward on one cache) must be bit-identical"
    for a, b in zip(saved, [query, key, value, kpm, am, dout, *params.values()]):
        assert np.array_equal(a, b), "mha_forward / mha_backward must never modify their inputs or the parameters"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_same_seed_gives_the_same_weights_and_seeds_differ(impl):
    a, b = impl.MultiheadAttention(6, 2, rng=3), impl.MultiheadAttention(6, 2, rng=3)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert np.array_equal(x, y), f"the same seed must give bit-identical weights ({name})"
    c = impl.MultiheadAttention(6, 2, rng=4)
    assert not np.array_equal(as_array(a.in_proj_weight.data), as_array(c.in_proj_weight.data)), "seeds 3 and 4 differ"
    gen = np.random.default_rng(0)
    d, e = impl.MultiheadAttention(6, 2, rng=gen), impl.MultiheadAttention(6, 2, rng=gen)
    assert not np.array_equal(as_array(d.out_proj_weight.data), as_array(e.out_proj_weight.data)), \
        "two layers from one Generator must differ (use it, don't re-seed from it)"
    f = impl.MultiheadAttention(6, 3, bias=False, rng=3)
    assert np.array_equal(as_array(f.in_proj_weight.data), as_array(a.in_proj_weight.data)), \
        "in_proj_weight is drawn first, whatever num_heads and bias"
    assert np.array_equal(as_array(f.out_proj_weight.data), as_array(a.out_proj_weight.data)), \
        "out_proj_weight is drawn second, from the same Generator"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_init_ignores_numpys_global_seed(impl):
    np.random.seed(0)
    a = impl.MultiheadAttention(4, 2, rng=11)
    np.random.seed(1)
    b = impl.MultiheadAttention(4, 2, rng=11)
    assert np.array_equal(as_array(a.out_proj_weight.data), as_array(b.out_proj_weight.data)), \
        "np.random.seed must play no part"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_backward_uses_the_last_forward(impl):
    layer = impl.MultiheadAttention(4, 2, rng=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    x1, x2, dout = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 4))
    mask = np.triu(np.ones((5, 5), bool), 1)
    first = as_array(layer.forward(x2, x2, x2, attn_mask=mask)[0]).copy()
    layer.forward(x1, x1, x1)
    again = as_array(layer.forward(x2, x2, x2, attn_mask=mask)[0])
    assert np.array_equal(first, again), "forward must not change the layer: the same x gives the same output"
    grads = layer.backward(dout)
    fresh = impl.MultiheadAttention(4, 2, rng=0, dtype=np.float64)
    fresh.forward(x2, x2, x2, attn_mask=mask)
    for a, b in zip(grads, fresh.backward(dout)):
        assert_close(a, b, rtol=1e-12, atol=1e-14, what="backward must use the cache of the last forward")
    for p, q in zip(layer.parameters(), fresh.parameters()):
        assert_close(p.grad, q.grad, rtol=1e-12, atol=1e-14, what="the gradients after forward, forward, forward, backward")


@pytest.mark.performance
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_forward_speed(impl, reference, compare_speed):
    query, key, value = qkv(0, 2, 64, 64, 32, dtype=np.float32)
    params = make_params(0, 32, dtype=np.float32)
    compare_speed(impl.mha_forward, reference.mha_forward, query, key, value, params, 4, threshold=3.0,
                  need_weights=False)


@pytest.mark.performance
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_backward_speed(impl, reference, compare_speed):
    query, key, value = qkv(0, 2, 64, 64, 32, dtype=np.float32)
    params = make_params(0, 32, dtype=np.float32)
    dout = np.ones((2, 64, 32), np.float32)
    _, _, cache = impl.mha_forward(query, key, value, params, 4, need_weights=False)
    _, _, cache_ref = reference.mha_forward(query, key, value, params, 4, need_weights=False)
    compare_speed(lambda: impl.mha_backward(dout, cache), lambda: reference.mha_backward(dout, cache_ref), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_step_speed(impl, reference, compare_speed):
    x = np.random.default_rng(0).standard_normal((2, 64, 32)).astype(np.float32)
    dout = np.ones((2, 64, 32), np.float32)
    mine, ref = impl.MultiheadAttention(32, 4, rng=0), reference.MultiheadAttention(32, 4, rng=0)

    def step(layer):
        layer.forward(x, x, x, need_weights=False)
        return layer.backward(dout)

    compare_speed(lambda: step(mine), lambda: step(ref), threshold=3.0)
