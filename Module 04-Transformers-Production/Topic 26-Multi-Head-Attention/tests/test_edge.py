"""Topic 26 edge tests: sizes that do not split, shapes and masks that would broadcast, float32, batch 1, size 0,
views, huge inputs, misuse of the layer and of load_state_dict."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")


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


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_split_heads_rejects_sizes_that_do_not_split(impl):
    for what, x, h in (("E = 10 into 3 heads", np.zeros((2, 4, 10)), 3), ("num_heads = 0", np.zeros((2, 4, 8)), 0),
                       ("num_heads = -2", np.zeros((2, 4, 8)), -2), ("num_heads = 2.0", np.zeros((2, 4, 8)), 2.0),
                       ("num_heads = True", np.zeros((2, 4, 8)), True), ("a 1-D x", np.zeros(8), 2)):
        with pytest.raises(ValueError):
            impl.split_heads(x, h)
            pytest.fail(f"split_heads accepted {what}: raise ValueError (E must be num_heads * head_dim)")
    with pytest.raises(ValueError):
        impl.merge_heads(np.zeros((4, 6)))
        pytest.fail("merge_heads accepted a 2-D array: it needs (..., h, T, hd)")
    with pytest.raises(ValueError, match=r"\b10\b.*\b3\b"):
        impl.split_heads(np.zeros((2, 4, 10)), 3)
        pytest.fail("E = 10 into 3 heads must raise")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_split_heads_of_views_and_float32(impl):
    x = np.random.default_rng(0).standard_normal((5, 2, 6)).astype(np.float32).transpose(1, 0, 2)   # a view
    assert not x.flags["C_CONTIGUOUS"]
    heads = as_array(impl.split_heads(x, 3))
    assert heads.dtype == np.float32, f"split_heads of float32 gave {heads.dtype}"
    assert np.array_equal(heads, as_array(impl.split_heads(np.ascontiguousarray(x), 3))), \
        "a transposed view must split like its contiguous copy"
    assert np.array_equal(as_array(impl.merge_heads(heads)), x), "merge_heads(split_heads(view)) != view"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_merge_masks_rejects_shapes_that_would_broadcast(impl):
    B, h, T, S = 2, 3, 4, 5
    bad = {
        "key_padding_mask (S,)": (np.zeros(S, bool), None),
        "key_padding_mask (B, T)": (np.zeros((B, T), bool), None),
        "key_padding_mask (1, S) (would broadcast over the batch)": (np.zeros((1, S), bool), None),
        "key_padding_mask (B, 1, S)": (np.zeros((B, 1, S), bool), None),
        "an int key_padding_mask": (np.zeros((B, S), int), None),
        "attn_mask (S, T)": (None, np.zeros((S, T), bool)),
        "attn_mask (T, 1)": (None, np.zeros((T, 1), bool)),
        "attn_mask (h, T, S) (per head but not per batch)": (None, np.zeros((h, T, S), bool)),
        "attn_mask (B, T, S) (per batch but not per head)": (None, np.zeros((B, T, S), bool)),
        "attn_mask (1, T, S)": (None, np.zeros((1, T, S), bool)),
        "attn_mask (B, h, T, S) (torch wants (B * h, T, S))": (None, np.zeros((B, h, T, S), bool)),
        "an int attn_mask": (None, np.zeros((T, S), int)),
    }
    for what, (kpm, am) in bad.items():
        with pytest.raises(ValueError):
            impl.merge_masks(kpm, am, B, h, T, S)
            pytest.fail(f"merge_masks accepted {what}: raise ValueError, never broadcast")
    for name, (kpm, am) in (("key_padding_mask", bad["key_padding_mask (B, T)"]), ("attn_mask", bad["attn_mask (S, T)"])):
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            impl.merge_masks(kpm, am, B, h, T, S)
            pytest.fail(f"a {name} of the wrong shape must raise a ValueError that names {name}")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_forward_rejects_bad_shapes_and_parameters(impl):
    query, key, value = qkv(0, 2, 3, 4, 6)
    params = make_params(0, 6)
    no_bias = make_params(0, 6, bias=False)
    bad = {
        "E = 6 into 4 heads": ((query, key, value), params, 4),
        "num_heads = 0": ((query, key, value), params, 0),
        "a 2-D query (T, E)": ((query[0], key, value), params, 2),
        "2-D query, key and value": ((query[0], key[0], value[0]), params, 2),
        "key of batch 1 (would broadcast)": ((query, key[:1], value[:1]), params, 2),
        "query of batch 1 (would broadcast)": ((query[:1], key, value), params, 2),
        "value of another length S": ((query, key, value[:, :3]), params, 2),
        "key with another E": ((query, np.zeros((2, 4, 5)), value), params, 2),
        "in_proj_weight (E, E)": ((query, key, value), {**params, "in_proj_weight": np.zeros((6, 6))}, 2),
        "in_proj_bias (1, 3E) (would broadcast)": ((query, key, value), {**params, "in_proj_bias": np.zeros((1, 18))}, 2),
        "out_proj.bias (1, E) (would broadcast)": ((query, key, value), {**params, "out_proj.bias": np.zeros((1, 6))}, 2),
        "out_proj.weight (E, 3E)": ((query, key, value), {**params, "out_proj.weight": np.zeros((6, 18))}, 2),
        "in_proj_bias without out_proj.bias": ((query, key, value), {**no_bias, "in_proj_bias": np.zeros(18)}, 2),
        "a renamed key out_proj_weight": ((query, key, value), {("out_proj_weight" if n == "out_proj.weight" else n): v
                                                                for n, v in params.items()}, 2),
        "an extra key": ((query, key, value), {**params, "bias_k": np.zeros(6)}, 2),
        "params without in_proj_weight": ((query, key, value), {"out_proj.weight": params["out_proj.weight"]}, 2),
        "params as a list": ((query, key, value), list(params.values()), 2),
        "a 1-D in_proj_weight": ((query, key, value), {**no_bias, "in_proj_weight": np.zeros(18)}, 2),
        "a 2-D query (B, E)": ((query[:, 0], key, value), params, 2),
    }
    for what, ((q, k, v), p, h) in bad.items():
        with pytest.raises(ValueError):
            impl.mha_forward(q, k, v, p, h)
            pytest.fail(f"mha_forward accepted {what}: raise ValueError")
    for what, (q, k, v) in (("query", (np.zeros((2, 3, 5)), key, value)), ("key", (query, np.zeros((2, 4, 5)), value)),
                            ("value", (query, key, np.zeros((2, 4, 5))))):
        with pytest.raises(ValueError, match="E = 6"):
            impl.mha_forward(q, k, v, params, 2)
            pytest.fail(f"a {what} of 5 features for E = 6 must raise a ValueError that says E = 6")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_backward_rejects_dout_of_the_wrong_shape(impl):
    query, key, value = qkv(1, 2, 3, 5, 4)
    _, _, cache = impl.mha_forward(query, key, value, make_params(1, 4), 2)
    for shape in ((2, 5, 4), (1, 3, 4), (2, 3, 1), (3, 4), (2, 3, 4, 1)):
        with pytest.raises(ValueError):
            impl.mha_backward(np.ones(shape), cache)
            pytest.fail(f"mha_backward accepted dout of shape {shape} for out (2, 3, 4)")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_float32_stays_float32(impl):
    query, key, value = qkv(2, 2, 3, 5, 8, dtype=np.float32)
    params = make_params(2, 8, dtype=np.float32)
    rng = np.random.default_rng(0)
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    for what, kwargs in (("no mask", {}), ("a bool key padding mask", {"key_padding_mask": kpm}),
                         ("a float64 attn_mask", {"attn_mask": rng.standard_normal((3, 5))}),
                         ("a float64 per-head attn_mask + bool padding",
                          {"attn_mask": rng.standard_normal((8, 3, 5)), "key_padding_mask": kpm}),
                         ("per-head weights", {"average_attn_weights": False})):
        out, w, cache = impl.mha_forward(query, key, value, params, 4, **kwargs)
        assert as_array(out).dtype == np.float32, f"{what}: float32 inputs gave a {as_array(out).dtype} output"
        assert as_array(w).dtype == np.float32, f"{what}: the weights are {as_array(w).dtype}, not float32"
        dq, dk, dv, grads = impl.mha_backward(np.ones((2, 3, 8), np.float32), cache)
        for name, g in (("dquery", dq), ("dkey", dk), ("dvalue", dv), *grads.items()):
            assert as_array(g).dtype == np.float32, f"{what}: {name} is {as_array(g).dtype}, not float32"
    layer = impl.MultiheadAttention(8, 2, rng=0)
    out, w = layer.forward(query, key, value, key_padding_mask=kpm)
    assert as_array(out).dtype == np.float32 and as_array(w).dtype == np.float32, "the float32 layer left float32"
    assert all(as_array(g).dtype == np.float32 for g in layer.backward(np.ones_like(query))), \
        "the float32 layer's dquery, dkey, dvalue must be float32"
    assert layer.in_proj_weight.grad.dtype == np.float32, "in_proj_weight.grad must stay float32"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_batch_of_one_and_one_key(impl):
    query, key, value = qkv(3, 1, 4, 1, 6)
    params = make_params(3, 6)
    out, w, cache = impl.mha_forward(query, key, value, params, 3)
    assert_shape(out, (1, 4, 6), "batch 1, S = 1")
    assert_close(w, np.ones((1, 4, 1)), rtol=1e-12, what="S = 1: every head puts weight 1 on the only key")
    v = value[0, 0] @ params["in_proj_weight"][12:].T + params["in_proj_bias"][12:]
    expected = v @ params["out_proj.weight"].T + params["out_proj.bias"]
    assert_close(out, np.broadcast_to(expected, (1, 4, 6)), rtol=1e-12,
                 what="S = 1: every query gets the projected value of the one key, through out_proj")
    dq, dk, dv, _ = impl.mha_backward(np.ones((1, 4, 6)), cache)
    assert_close(dq, np.zeros_like(query), atol=1e-12, what="S = 1: the softmax is constant, dquery = 0")
    assert_close(dk, np.zeros_like(key), atol=1e-12, what="S = 1: dkey = 0")
    Wv, Wo = params["in_proj_weight"][12:], params["out_proj.weight"]
    assert_close(dv, (np.ones((1, 4, 6)) @ Wo).sum(axis=1, keepdims=True) @ Wv, rtol=1e-12,
                 what="S = 1: dvalue = (sum over the 4 queries of dout Wo) Wv")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_empty_sizes(impl):
    params = make_params(4, 4)
    for what, (B, T, S) in {"batch 0": (0, 3, 5), "T = 0": (2, 0, 5), "S = 0": (2, 3, 0)}.items():
        query, key, value = qkv(4, B, T, S, 4)
        out, w, cache = impl.mha_forward(query, key, value, params, 2)
        assert_shape(out, (B, T, 4), f"{what}: out")
        assert_shape(w, (B, T, S), f"{what}: weights")
        expected = np.broadcast_to(params["out_proj.bias"], (B, T, 4))
        assert_close(out, expected, rtol=0, atol=0,
                     what=f"{what}: no key to see, every head gives 0 and out = out_proj.bias (no NaN)")
        dq, dk, dv, grads = impl.mha_backward(np.ones((B, T, 4)), cache)
        for name, g, ref in (("dquery", dq, query), ("dkey", dk, key), ("dvalue", dv, value)):
            assert_shape(g, ref.shape, f"{what}: {name}")
            assert np.all(as_array(g) == 0), f"{what}: {name} must be zeros"
        assert_close(grads["out_proj.bias"], np.full(4, B * T), rtol=0, atol=0, what=f"{what}: out_proj.bias.grad")
        assert np.all(as_array(grads["in_proj_weight"]) == 0), f"{what}: in_proj_weight.grad must be zeros"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_non_contiguous_inputs(impl):
    query, key, value = qkv(5, 3, 4, 5, 6)
    params = make_params(5, 6)
    views = [np.ascontiguousarray(a.transpose(1, 0, 2)).transpose(1, 0, 2) for a in (query, key, value)]
    pviews = {n: (np.asfortranarray(v) if v.ndim == 2 else v[::-1].copy()[::-1]) for n, v in params.items()}
    kpm = np.ascontiguousarray(np.zeros((5, 3), bool)).T
    kpm[1, 4] = True
    assert not views[0].flags["C_CONTIGUOUS"] and not pviews["in_proj_weight"].flags["C_CONTIGUOUS"]
    out, w, cache = impl.mha_forward(*views, pviews, 3, key_padding_mask=kpm)
    ref, w_ref, cache_ref = impl.mha_forward(query, key, value, params, 3, key_padding_mask=np.ascontiguousarray(kpm))
    assert_close(out, ref, rtol=1e-12, atol=1e-14, what="transposed views must give the same output")
    assert_close(w, w_ref, rtol=1e-12, atol=1e-14, what="transposed views must give the same weights")
    dout = np.random.default_rng(0).standard_normal((4, 3, 6)).transpose(1, 0, 2)
    a, b = impl.mha_backward(dout, cache), impl.mha_backward(np.ascontiguousarray(dout), cache_ref)
    for x, y in zip(a[:3], b[:3]):
        assert_close(x, y, rtol=1e-12, atol=1e-14, what="a transposed dout must give the same gradients")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_huge_inputs_stay_finite(impl):
    query, key, value = qkv(6, 2, 3, 4, 4)
    with np.errstate(over="raise", invalid="raise"):
        out, w, _ = impl.mha_forward(query * 1e3, key * 1e3, value, make_params(6, 4), 2)
    assert np.all(np.isfinite(as_array(out))) and np.all(np.isfinite(as_array(w))), \
        "scores of about 1e5 overflowed: Topic 25's softmax subtracts the row max"


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_misuse_raises(impl):
    for what, args in (("embed_dim 10, num_heads 3 (not divisible)", (10, 3)), ("embed_dim 0", (0, 1)),
                       ("embed_dim -4", (-4, 2)), ("embed_dim 4.0", (4.0, 2)), ("embed_dim True", (True, 1)),
                       ("num_heads 0", (4, 0)), ("num_heads '2'", (4, "2"))):
        with pytest.raises(ValueError):
            impl.MultiheadAttention(*args)
            pytest.fail(f"MultiheadAttention accepted {what}")
    with pytest.raises(ValueError, match="divisible"):
        impl.MultiheadAttention(10, 3)
    for name, args in (("embed_dim", (0, 1)), ("num_heads", (4, 0))):
        with pytest.raises(ValueError, match=rf"\b{name}\b"):
            impl.MultiheadAttention(*args)
            pytest.fail(f"a bad {name} must raise a ValueError that names {name}")
    layer = impl.MultiheadAttention(4, 2, rng=0)
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((2, 3, 4), np.float32))
        pytest.fail("backward before any forward must raise RuntimeError")
    x = np.ones((2, 3, 4), np.float32)
    for what, args in (("x of 5 features", (np.ones((2, 3, 5)),) * 3), ("an unbatched (T, E) x", (x[0],) * 3),
                       ("a key of another batch", (x, x[:1], x[:1]))):
        with pytest.raises(ValueError):
            layer.forward(*args)
            pytest.fail(f"forward accepted {what}")
    layer.forward(x, x, x)
    for shape in ((2, 3, 1), (1, 3, 4), (2, 4, 4)):
        with pytest.raises(ValueError):
            layer.backward(np.ones(shape, np.float32))
            pytest.fail(f"backward accepted dout of shape {shape} for out (2, 3, 4)")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_load_state_dict_rejects_wrong_keys_and_shapes(impl):
    layer = impl.MultiheadAttention(4, 2, rng=0)
    saved = layer.state_dict()
    good = impl.MultiheadAttention(4, 2, rng=1).state_dict()
    cases = {
        "a missing key": {k: v for k, v in good.items() if k != "out_proj.bias"},
        "an extra key": {**good, "bias_k": np.zeros(4)},
        "a renamed key (out_proj_weight)": {("out_proj_weight" if k == "out_proj.weight" else k): v for k, v in good.items()},
        "in_proj_bias of shape (1, 12)": {**good, "in_proj_bias": np.zeros((1, 12))},
        "in_proj_weight of shape (4, 12)": {**good, "in_proj_weight": np.zeros((4, 12))},
    }
    for what, state in cases.items():
        with pytest.raises(ValueError):
            layer.load_state_dict(state)
            pytest.fail(f"load_state_dict accepted {what}")
        for name in NAMES:
            assert np.array_equal(as_array(layer.state_dict()[name]), saved[name]), \
                f"a rejected load_state_dict ({what}) changed {name}: check every key and shape before writing"
    plain = impl.MultiheadAttention(4, 2, bias=False, rng=0)
    with pytest.raises(ValueError):
        plain.load_state_dict(good)
        pytest.fail("a bias=False layer accepted a state_dict with biases")
