"""Topic 26 basic tests: split and merge the heads, the masks, multi-head attention forward and backward, the layer."""

import numpy as np
import pytest

from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias")
PLAIN = ("mha_self_2heads", "mha_one_head_batch_1")
MASKED = ("mha_cross_3heads_padding", "mha_causal_4heads", "mha_per_head_masks", "mha_float_masks",
          "mha_no_bias_mixed_masks")


def make_params(seed, E, bias=True, scale=0.5):
    rng = np.random.default_rng(seed)
    params = {"in_proj_weight": rng.uniform(-scale, scale, (3 * E, E)), "out_proj.weight": rng.uniform(-scale, scale, (E, E))}
    if bias:
        params["in_proj_bias"] = rng.uniform(-scale, scale, 3 * E)
        params["out_proj.bias"] = rng.uniform(-scale, scale, E)
    return params


def identity_params(E):
    """q = query, k = key, v = value, out = merged: every head's attention can be read off the output columns."""
    eye = np.eye(E)
    return {"in_proj_weight": np.concatenate([eye, eye, eye]), "in_proj_bias": np.zeros(3 * E),
            "out_proj.weight": eye.copy(), "out_proj.bias": np.zeros(E)}


def qkv(seed, B, T, S, E):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((B, T, E)), rng.standard_normal((B, S, E)), rng.standard_normal((B, S, E))


def mha_by_hand(query, key, value, params, h, allowed=None, add=None):
    """The test's own oracle, one head at a time. allowed (B, h, T, S): True = takes part; add: added to the scores."""
    E = query.shape[-1]
    hd = E // h
    W, b = params["in_proj_weight"], params.get("in_proj_bias", np.zeros(3 * E))
    q, k, v = (x @ W[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i, x in enumerate((query, key, value)))
    heads, ps = [], []
    for i in range(h):
        c = slice(i * hd, (i + 1) * hd)
        s = q[..., c] @ np.swapaxes(k[..., c], -1, -2) / np.sqrt(hd)
        if add is not None:
            s = s + add[:, i]
        if allowed is not None:
            s = np.where(allowed[:, i], s, -np.inf)
        m = s.max(axis=-1, keepdims=True)
        e = np.exp(s - np.where(np.isfinite(m), m, 0))
        total = e.sum(axis=-1, keepdims=True)
        p = e / np.where(total == 0, 1, total)             # a query that sees no key: zeros
        ps.append(p)
        heads.append(p @ v[..., c])
    out = np.concatenate(heads, axis=-1) @ params["out_proj.weight"].T + params.get("out_proj.bias", 0.0)
    return out, np.stack(ps, axis=1)


def golden_params(g):
    return {n: g[n] for n in NAMES if n in g}


def run_golden(impl, g, **kwargs):
    return impl.mha_forward(g["query"], g["key"], g["value"], golden_params(g), int(g["num_heads"]),
                            key_padding_mask=g.get("key_padding_mask"), attn_mask=g.get("attn_mask"),
                            average_attn_weights=bool(g["average_attn_weights"]), **kwargs)


# ----------------------------------------------------------------------------------------------------
# Task 1: split and merge the heads
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_split_and_merge_shapes(impl):
    x = np.zeros((2, 5, 12))
    assert_shape(impl.split_heads(x, 3), (2, 3, 5, 4), "split_heads((2, 5, 12), 3): (B, h, T, hd)")
    assert_shape(impl.split_heads(x, 1), (2, 1, 5, 12), "split_heads with one head")
    assert_shape(impl.split_heads(np.zeros((2, 7, 5, 6)), 2), (2, 7, 2, 5, 3), "split_heads keeps every leading dim")
    assert_shape(impl.merge_heads(np.zeros((2, 3, 5, 4))), (2, 5, 12), "merge_heads((2, 3, 5, 4)): (B, T, h * hd)")
    assert_shape(impl.merge_heads(np.zeros((3, 5, 4))), (5, 12), "merge_heads of one unbatched (h, T, hd)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_split_heads_gives_each_head_its_own_features(impl):
    x = np.arange(2 * 4 * 6, dtype=float).reshape(2, 4, 6)   # x[b, t, f] = 24 b + 6 t + f
    heads = as_array(impl.split_heads(x, 3))
    for i in range(3):
        assert np.array_equal(heads[:, i], x[:, :, 2 * i:2 * i + 2]), (
            f"head {i} must hold the features {2 * i}:{2 * i + 2} of EVERY time step; got\n{heads[0, i]}\n"
            f"expected\n{x[0, :, 2 * i:2 * i + 2]}: reshape to (B, T, h, hd) first, then swap the h and T axes "
            "(a reshape straight to (B, h, T, hd) mixes time steps and heads)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_merge_heads_puts_the_heads_side_by_side(impl):
    y = np.arange(2 * 3 * 4 * 2, dtype=float).reshape(2, 3, 4, 2)   # (B, h, T, hd)
    merged = as_array(impl.merge_heads(y))
    for t in range(4):
        assert np.array_equal(merged[1, t], np.concatenate([y[1, 0, t], y[1, 1, t], y[1, 2, t]])), (
            f"merge_heads: time step {t} must be [head 0's features, head 1's, head 2's] of that SAME step: "
            "swap the h and T axes back before the reshape")
    x = np.random.default_rng(0).standard_normal((3, 5, 8))
    assert np.array_equal(as_array(impl.merge_heads(impl.split_heads(x, 4))), x), "merge_heads(split_heads(x)) != x"


# ----------------------------------------------------------------------------------------------------
# Task 2: the masks
# ----------------------------------------------------------------------------------------------------

def full(mask, B, h, T, S):
    mask = as_array(mask)
    assert mask.ndim == 4, f"merge_masks must return a 4-D mask (batch, heads, T, S) or broadcastable, got {mask.shape}"
    return np.broadcast_to(mask, (B, h, T, S))


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_merge_masks_key_padding_means_true_is_hidden(impl):
    kpm = np.array([[False, False, True, True], [False, False, False, True]])   # True = padding (torch)
    m = full(impl.merge_masks(kpm, None, 2, 3, 5, 4), 2, 3, 5, 4)
    assert m.dtype == np.bool_, f"two boolean masks (or one) must give a boolean mask, got {m.dtype}"
    for b in range(2):
        assert np.array_equal(m[b], np.broadcast_to(~kpm[b], (3, 5, 4))), (
            f"batch {b}: key_padding_mask True = HIDDEN (torch's convention) must become False = 'does not take "
            f"part' (Topic 25's), the same for every head and query; got {m[b, 0, 0].astype(int)} "
            f"for key_padding_mask {kpm[b].astype(int)}")
    assert impl.merge_masks(None, None, 2, 3, 5, 4) is None, "no mask at all: merge_masks returns None"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_merge_masks_attn_mask_shared_and_per_head(impl):
    B, h, T, S = 2, 3, 4, 5
    rng = np.random.default_rng(1)
    shared = rng.random((T, S)) < 0.5
    m = full(impl.merge_masks(None, shared, B, h, T, S), B, h, T, S)
    assert np.array_equal(m, np.broadcast_to(~shared, (B, h, T, S))), "an attn_mask (T, S) applies to every batch and head"
    per_head = rng.random((B * h, T, S)) < 0.5
    m = full(impl.merge_masks(None, per_head, B, h, T, S), B, h, T, S)
    for b in range(B):
        for i in range(h):
            assert np.array_equal(m[b, i], ~per_head[b * h + i]), (
                f"attn_mask (B * h, T, S): batch {b}, head {i} uses attn_mask[{b * h + i}] = attn_mask[b * h + head] "
                "(batch-major, torch's view(B, h, T, S)), not attn_mask[head * B + b]")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_merge_masks_combines_bool_and_float(impl):
    B, h, T, S = 2, 2, 3, 4
    rng = np.random.default_rng(2)
    kpm = np.array([[False, False, False, True], [False, True, False, False]])
    am = rng.random((T, S)) < 0.4
    m = full(impl.merge_masks(kpm, am, B, h, T, S), B, h, T, S)
    assert np.array_equal(m, np.broadcast_to(~kpm[:, None, None, :] & ~am, (B, h, T, S))), \
        "two boolean masks: a key takes part only where NEITHER mask hides it"
    fk, fa = rng.standard_normal((B, S)), rng.standard_normal((B * h, T, S))
    m = full(impl.merge_masks(fk, fa, B, h, T, S), B, h, T, S)
    assert_close(m, fk[:, None, None, :] + fa.reshape(B, h, T, S), rtol=1e-12, what="two float masks are added")
    m = full(impl.merge_masks(kpm, fa, B, h, T, S), B, h, T, S)
    assert np.issubdtype(m.dtype, np.floating), f"a boolean and a float mask give a float mask, got {m.dtype}"
    expected = np.where(kpm[:, None, None, :], -np.inf, fa.reshape(B, h, T, S))
    assert_close(m, expected, rtol=1e-12, what="bool key padding + float attn_mask: -inf where padded, the floats elsewhere")
    m = as_array(impl.merge_masks(kpm, fa.astype(np.float32), B, h, T, S))
    assert m.dtype == np.float32, f"a boolean and a float32 mask must give a float32 mask, got {m.dtype}"


# ----------------------------------------------------------------------------------------------------
# Task 3: multi-head attention, forward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_forward_shapes_and_weights(impl):
    query, key, value = qkv(0, 2, 3, 5, 8)
    params = make_params(0, 8)
    out, weights, _ = impl.mha_forward(query, key, value, params, 4)
    assert_shape(out, (2, 3, 8), "out (B, T, E) for query (2, 3, 8), key/value (2, 5, 8)")
    assert_shape(weights, (2, 3, 5), "weights: averaged over the heads by default, (B, T, S)")
    _, weights, _ = impl.mha_forward(query, key, value, params, 4, average_attn_weights=False)
    assert_shape(weights, (2, 4, 3, 5), "average_attn_weights=False: one map per head, (B, h, T, S)")
    _, weights, _ = impl.mha_forward(query, key, value, params, 4, need_weights=False)
    assert weights is None, "need_weights=False: the weights are None (as torch)"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_hand_worked_two_heads(impl):
    # identity projections, E = 4, two heads of 2 features: head 0 scores [4, 0] / sqrt(2), head 1 all zero
    query = np.array([[[2.0, 0, 0, 0], [0, 0, 0, 0]]])
    value = np.array([[[1.0, 0, 3, 0], [0, 1.0, 0, 5]]])
    out, _, _ = impl.mha_forward(query, query, value, identity_params(4), 2)
    p = 1 / (1 + np.exp(-4 / np.sqrt(2)))
    assert_close(as_array(out)[0, 0], [p, 1 - p, 1.5, 2.5], rtol=1e-12,
                 what="query 0 = [0.9442, 0.0558, 1.5, 2.5]: head 0 scaled by 1/sqrt(head_dim) = 1/sqrt(2) "
                      "(1/sqrt(E) = 1/2 would give 0.8808), head 1 sees equal scores and averages its values")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", PLAIN)
def test_forward_matches_multihead_attention(impl, golden, name):
    g = golden(name)
    out, weights, _ = run_golden(impl, g)
    assert_close(out, g["out"], rtol=1e-10, atol=1e-12,
                 what=f"{name}: out vs torch.nn.MultiheadAttention (in_proj rows q, k, v; scale 1/sqrt(head_dim); "
                      "out = merged out_proj.weight^T + bias)")
    assert_close(weights, g["weights"], rtol=1e-10, atol=1e-12, what=f"{name}: the averaged attention weights")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", MASKED)
def test_masked_forward_matches_multihead_attention(impl, golden, name):
    g = golden(name)
    out, weights, _ = run_golden(impl, g)
    assert_close(out, g["out"], rtol=1e-10, atol=1e-12,
                 what=f"{name}: out vs nn.MultiheadAttention (masks: bool True = hidden, float added, "
                      "attn_mask (B*h, T, S) batch-major)")
    assert_close(weights, g["weights"], rtol=1e-10, atol=1e-12, what=f"{name}: the attention weights")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_heads_do_not_mix(impl):
    query, key, value = qkv(1, 2, 4, 4, 6)
    out = as_array(impl.mha_forward(query, key, value, identity_params(6), 3)[0])
    changed = query.copy()
    changed[..., 0:2] *= 3.0                            # only head 0's query features
    out2 = as_array(impl.mha_forward(changed, key, value, identity_params(6), 3)[0])
    assert_close(out2[..., 2:], out[..., 2:], rtol=1e-12, atol=1e-12,
                 what="with identity projections, changing head 0's query features changed heads 1 and 2's output: "
                      "the heads were mixed (a reshape to (B, h, T, hd) without the transpose?)")
    assert not np.allclose(out2[..., :2], out[..., :2]), "head 0's output must change with its query features"
    assert_close(out, mha_by_hand(query, key, value, identity_params(6), 3)[0], rtol=1e-10, what="identity projections")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_in_proj_blocks_are_q_then_k_then_v(impl):
    query, key, value = qkv(2, 2, 3, 5, 4)
    params = make_params(2, 4)
    params["in_proj_weight"][8:] = 0.0                  # rows 2E:3E are Wv: the values become the bias bv alone
    out = as_array(impl.mha_forward(query, key, value, params, 2)[0])
    bv = params["in_proj_bias"][8:]
    expected = bv @ params["out_proj.weight"].T + params["out_proj.bias"]
    assert_close(out, np.broadcast_to(expected, out.shape), rtol=1e-10,
                 what="with Wv = in_proj_weight[2E:] = 0 every value is bv, so out = bv Wo^T + bo whatever the "
                      "weights: the rows of in_proj_weight are [Wq; Wk; Wv] in that order")
    params = make_params(3, 4)
    params["in_proj_weight"][:4] = 0.0                  # Wq = 0: every score is q . k = bq . k, the same for
    params["in_proj_bias"][:4] = 0.0                    # every query, so all queries get the same output
    out = as_array(impl.mha_forward(query, key, value, params, 2)[0])
    assert_close(out, np.broadcast_to(out[:, :1], out.shape), rtol=1e-10,
                 what="with Wq = in_proj_weight[:E] = 0 and bq = 0 every query scores the keys alike")
    assert_close(out, mha_by_hand(query, key, value, params, 2)[0], rtol=1e-10, what="Wq = 0")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_out_proj_has_nn_linear_layout(impl):
    query, key, value = qkv(3, 2, 3, 4, 4)
    params = identity_params(4)
    merged = as_array(impl.mha_forward(query, key, value, params, 2)[0])
    perm = [2, 0, 3, 1]
    params["out_proj.weight"] = np.eye(4)[perm]         # row i picks merged feature perm[i]
    params["out_proj.bias"] = np.array([0.0, 10, 20, 30])
    out = as_array(impl.mha_forward(query, key, value, params, 2)[0])
    assert_close(out, merged[..., perm] + params["out_proj.bias"], rtol=1e-12,
                 what="out = merged out_proj.weight^T + out_proj.bias (nn.Linear's (out, in) layout): output "
                      "feature i is merged @ out_proj.weight[i]; merged @ out_proj.weight is the transposed layer")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_need_weights_and_average_attn_weights(impl):
    query, key, value = qkv(4, 2, 3, 5, 6)
    params = make_params(4, 6)
    kpm = np.array([[False] * 5, [False, False, False, True, True]])
    out, avg, _ = impl.mha_forward(query, key, value, params, 3, key_padding_mask=kpm)
    out2, per_head, _ = impl.mha_forward(query, key, value, params, 3, key_padding_mask=kpm, average_attn_weights=False)
    out3, none, _ = impl.mha_forward(query, key, value, params, 3, key_padding_mask=kpm, need_weights=False)
    assert none is None, "need_weights=False: the weights are None"
    assert_close(out2, out, rtol=0, atol=0, what="average_attn_weights must not change out")
    assert_close(out3, out, rtol=0, atol=0, what="need_weights must not change out")
    allowed = np.broadcast_to(~kpm[:, None, None, :], (2, 3, 3, 5))
    _, p = mha_by_hand(query, key, value, params, 3, allowed=allowed)
    assert_close(per_head, p, rtol=1e-10, atol=1e-14, what="per-head weights: softmax over the keys, head by head")
    assert_close(avg, p.mean(axis=1), rtol=1e-10, atol=1e-14, what="average_attn_weights=True: the mean over heads")
    assert np.all(as_array(avg)[1, :, 3:] == 0), "padded keys get weight 0"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_key_padding_hides_keys_from_every_head(impl):
    query, key, value = qkv(5, 2, 3, 6, 4)
    params = make_params(5, 4)
    kpm = np.array([[False] * 6, [False, False, False, False, True, True]])
    out = as_array(impl.mha_forward(query, key, value, params, 2, key_padding_mask=kpm)[0])
    key2, value2 = key.copy(), value.copy()
    key2[1, 4:], value2[1, 4:] = 40.0, -1e3             # huge keys and values at the padding
    out2 = as_array(impl.mha_forward(query, key2, value2, params, 2, key_padding_mask=kpm)[0])
    assert_close(out2, out, rtol=1e-12, atol=1e-12,
                 what="changing padded keys changed the output: key_padding_mask True means HIDDEN (torch), "
                      "the opposite of Topic 25's boolean mask; hide them in every head")
    allowed = np.broadcast_to(~kpm[:, None, None, :], (2, 2, 3, 6))
    assert_close(out, mha_by_hand(query, key, value, params, 2, allowed=allowed)[0], rtol=1e-10, what="key padding")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_per_head_attn_mask_reaches_its_own_head(impl):
    B, h, T, S, E = 2, 3, 2, 6, 6
    query, key, value = qkv(6, B, T, S, E)
    seen = np.array([[0, 1, 2], [3, 4, 5]])             # batch b, head i sees only key seen[b, i]
    am = np.ones((B * h, T, S), bool)
    for b in range(B):
        for i in range(h):
            am[b * h + i, :, seen[b, i]] = False
    _, w, _ = impl.mha_forward(query, key, value, make_params(6, E), h, attn_mask=am, average_attn_weights=False)
    w = as_array(w)
    for b in range(B):
        for i in range(h):
            assert np.all(w[b, i, :, seen[b, i]] == 1), (
                f"batch {b}, head {i} may see key {seen[b, i]} only (attn_mask[{b * h + i}]), but its weights are "
                f"{np.round(w[b, i, 0], 3)}: attn_mask (B * h, T, S) is indexed b * h + head")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_fully_masked_queries_give_zero_from_their_heads(impl):
    B, h, T, S, E = 2, 2, 3, 4, 4
    query, key, value = qkv(7, B, T, S, E)
    params = make_params(7, E)
    kpm = np.array([[False, False, True, False], [True] * 4])   # batch 1: every key is padding
    out, w, _ = impl.mha_forward(query, key, value, params, h, key_padding_mask=kpm)
    out, w = as_array(out), as_array(w)
    assert not np.isnan(out).any() and not np.isnan(w).any(), \
        "a batch whose every key is padded gave NaN (torch does): every head's output is 0 there, as Topic 25"
    assert_close(out[1], np.broadcast_to(params["out_proj.bias"], (T, E)), rtol=1e-12, atol=1e-15,
                 what="batch 1 sees no key: every head gives 0, so out = out_proj.bias")
    assert np.all(w[1] == 0), "a query that sees no key has weights 0"
    am = np.zeros((B * h, T, S), bool)
    am[1, 2] = True                                            # batch 0, head 1, query 2 sees nothing
    out = as_array(impl.mha_forward(query, key, value, params, h, attn_mask=am)[0])
    allowed = np.broadcast_to(~am.reshape(B, h, T, S), (B, h, T, S))
    assert_close(out, mha_by_hand(query, key, value, params, h, allowed=allowed)[0], rtol=1e-10, atol=1e-12,
                 what="one head of one query sees nothing: that head gives 0, the other head is unchanged")


# ----------------------------------------------------------------------------------------------------
# Task 4: multi-head attention, backward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_backward_shapes(impl):
    query, key, value = qkv(8, 2, 3, 5, 6)
    for bias in (True, False):
        params = make_params(8, 6, bias=bias)
        _, _, cache = impl.mha_forward(query, key, value, params, 3)
        dquery, dkey, dvalue, grads = impl.mha_backward(np.ones((2, 3, 6)), cache)
        assert_shape(dquery, query.shape, "dquery")
        assert_shape(dkey, key.shape, "dkey (B, S, E)")
        assert_shape(dvalue, value.shape, "dvalue (B, S, E)")
        assert set(grads) == set(params), f"grads must have the keys of params {sorted(params)}, got {sorted(grads)}"
        for name in params:
            assert_shape(grads[name], params[name].shape, f"grads[{name!r}]")


GRAD_CASES = {  # name: (B, T, S, E, heads, bias, key padding, attn_mask)
    "cross_3heads": (2, 3, 4, 6, 3, True, None, None),
    "causal_4heads": (2, 4, 4, 8, 4, True, None, "causal"),
    "no_bias_per_head_masks": (2, 3, 4, 4, 2, False, "bool", "per_head"),
    "float_masks": (1, 3, 5, 4, 2, True, "float", "float"),
    "fully_masked_rows": (2, 3, 4, 4, 2, True, "dead", "per_head"),
}


def grad_case(name):
    B, T, S, E, h, bias, kind_k, kind_a = GRAD_CASES[name]
    rng = np.random.default_rng(len(name))
    query, key, value = qkv(9, B, T, S, E)
    params = make_params(9, E, bias=bias)
    kpm = am = None
    if kind_k == "bool":
        kpm = np.zeros((B, S), bool)
        kpm[1, -1] = True
    elif kind_k == "float":
        kpm = rng.standard_normal((B, S))
    elif kind_k == "dead":
        kpm = np.zeros((B, S), bool)
        kpm[1] = True                                   # batch 1 sees no key at all
    if kind_a == "causal":
        am = np.triu(np.ones((T, S), bool), 1)
    elif kind_a == "per_head":
        am = rng.random((B * h, T, S)) < 0.3
        am[:, :, 0] = False
        am[1, 2] = True                                 # batch 0, head 1, query 2 sees nothing
    elif kind_a == "float":
        am = rng.standard_normal((T, S))
    return query, key, value, params, h, kpm, am


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.parametrize("case", list(GRAD_CASES))
def test_gradient_check(impl, case):
    query, key, value, params, h, kpm, am = grad_case(case)
    E = query.shape[-1]
    names = [n for n in NAMES if n in params]
    if "in_proj_bias" in params:   # checked as bq and bv: bk shifts a whole row of scores, which the softmax ignores
        bk = params["in_proj_bias"][E:2 * E]
        checked = ["in_proj_weight", "bq", "bv", "out_proj.weight", "out_proj.bias"]
        inputs = [params["in_proj_weight"], params["in_proj_bias"][:E], params["in_proj_bias"][2 * E:],
                  params["out_proj.weight"], params["out_proj.bias"]]
    else:
        checked, inputs = names, [params[n] for n in names]

    def as_params(ps):
        ps = dict(zip(checked, ps))
        if "bq" in ps:
            ps["in_proj_bias"] = np.concatenate([ps.pop("bq"), bk, ps.pop("bv")])
        return ps

    def forward(q, k, v, *ps):
        out, _, cache = impl.mha_forward(q, k, v, as_params(ps), h, key_padding_mask=kpm, attn_mask=am,
                                         need_weights=False)
        return out, cache

    def backward(dout, cache):
        dq, dk, dv, grads = impl.mha_backward(dout, cache)
        grads = dict(grads)
        if "bq" in checked:
            b = as_array(grads.pop("in_proj_bias"))
            assert_close(b[E:2 * E], np.zeros(E), atol=1e-12,
                         what=f"{case}: the key block of in_proj_bias.grad (q . bk shifts a whole row of scores, "
                              "which the softmax ignores: exactly 0)")
            grads["bq"], grads["bv"] = b[:E], b[2 * E:]
        return (dq, dk, dv) + tuple(grads[n] for n in checked)

    report = check_layer(forward, backward, query, key, value, *inputs)
    labels = ["dquery", "dkey", "dvalue"] + checked
    assert report.passed, f"{case}: gradients ({', '.join(f'input{i} = {n}' for i, n in enumerate(labels))}): {report}"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.parametrize("name", PLAIN + MASKED)
def test_backward_matches_multihead_attention(impl, golden, name):
    g = golden(name)
    _, _, cache = run_golden(impl, g)
    dquery, dkey, dvalue, grads = impl.mha_backward(g["dout"], cache)
    if bool(g["self_attention"]):
        assert_close(as_array(dquery) + as_array(dkey) + as_array(dvalue), g["dquery"], rtol=1e-9, atol=1e-12,
                     what=f"{name}: self-attention, dx = dquery + dkey + dvalue vs autograd")
    else:
        for label in ("dquery", "dkey", "dvalue"):
            assert_close(locals()[label], g[label], rtol=1e-9, atol=1e-12, what=f"{name}: {label} vs autograd")
    for n in golden_params(g):
        assert_close(grads[n], g["grad_" + n], rtol=1e-9, atol=1e-12, what=f"{name}: grads[{n!r}] vs autograd")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_fully_masked_rows_get_zero_gradients(impl):
    query, key, value, params, h, kpm, am = grad_case("fully_masked_rows")
    out, _, cache = impl.mha_forward(query, key, value, params, h, key_padding_mask=kpm, attn_mask=am)
    dquery, dkey, dvalue, grads = impl.mha_backward(np.ones(out.shape), cache)
    for label, g in (("dquery", dquery), ("dkey", dkey), ("dvalue", dvalue), *grads.items()):
        assert np.all(np.isfinite(as_array(g))), f"{label} has NaN or inf: a query that sees no key must add 0"
    for label, g in (("dquery", dquery), ("dkey", dkey), ("dvalue", dvalue)):
        assert np.all(as_array(g)[1] == 0), f"batch 1 sees no key: its {label} must be exactly 0"


# ----------------------------------------------------------------------------------------------------
# Task 5: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_parameters_and_shapes(impl):
    layer = impl.MultiheadAttention(8, 2, rng=0)
    assert (layer.embed_dim, layer.num_heads, layer.head_dim) == (8, 2, 4), "keep embed_dim, num_heads, head_dim"
    assert isinstance(layer.head_dim, (int, np.integer)), f"head_dim must be an integer, got {layer.head_dim!r}"
    params = layer.parameters()
    expected = [layer.in_proj_weight, layer.in_proj_bias, layer.out_proj_weight, layer.out_proj_bias]
    assert len(params) == 4 and all(p is e for p, e in zip(params, expected)), \
        "parameters() must be [in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias]"
    for p, shape in zip(params, [(24, 8), (24,), (8, 8), (8,)]):
        assert p.data.shape == shape and p.data.dtype == np.float32 and p.grad.shape == shape, \
            f"a parameter of shape {p.data.shape} ({p.data.dtype}), expected {shape} float32 with a .grad"
    x = np.zeros((2, 5, 8), np.float32)
    out, w = layer.forward(x, x, x)
    assert_shape(out, (2, 5, 8), "MultiheadAttention(8, 2) on (2, 5, 8)")
    assert_shape(w, (2, 5, 5), "weights averaged over heads by default")
    for E in (1, 5):                                    # one head of every width is a valid layer
        one = impl.MultiheadAttention(E, 1, rng=0)
        x1 = np.ones((2, 3, E), np.float32)
        assert_shape(one.forward(x1, x1, x1)[0], (2, 3, E), f"MultiheadAttention({E}, 1) on (2, 3, {E})")
    plain = impl.MultiheadAttention(8, 2, bias=False, rng=0)
    assert plain.in_proj_bias is None and plain.out_proj_bias is None, "bias=False: no biases (None, as torch)"
    assert len(plain.parameters()) == 2, "bias=False: parameters() = [in_proj_weight, out_proj_weight]"
    assert set(plain.state_dict()) == {"in_proj_weight", "out_proj.weight"}, "bias=False: state_dict has two keys"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_init_like_torch(impl):
    E = 64
    layer = impl.MultiheadAttention(E, 4, rng=0, dtype=np.float64)
    for what, w, bound in (("in_proj_weight (xavier_uniform, bound sqrt(6 / (E + 3E)))", layer.in_proj_weight.data,
                            np.sqrt(6 / (4 * E))),
                           ("out_proj.weight (U(-1/sqrt(E), 1/sqrt(E)))", layer.out_proj_weight.data, 1 / np.sqrt(E))):
        w = as_array(w)
        assert np.abs(w).max() <= bound, f"{what} leaves its bound {bound:.4f}"
        assert abs(w.std() / (bound / np.sqrt(3)) - 1) < 0.05, \
            f"{what} has std {w.std():.4f}, a uniform on +-{bound:.4f} has {bound / np.sqrt(3):.4f}"
    assert np.all(as_array(layer.in_proj_bias.data) == 0) and np.all(as_array(layer.out_proj_bias.data) == 0), \
        "torch starts both biases at 0"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
@pytest.mark.parametrize("name", ["mha_cross_3heads_padding", "mha_no_bias_mixed_masks"])
def test_layer_matches_multihead_attention_and_accumulates(impl, golden, name):
    g = golden(name)
    E, h = g["query"].shape[-1], int(g["num_heads"])
    layer = impl.MultiheadAttention(E, h, bias="in_proj_bias" in g, rng=0, dtype=np.float64)
    layer.load_state_dict(golden_params(g))
    out, w = layer.forward(g["query"], g["key"], g["value"], key_padding_mask=g.get("key_padding_mask"),
                           attn_mask=g.get("attn_mask"), average_attn_weights=bool(g["average_attn_weights"]))
    assert_close(out, g["out"], rtol=1e-10, atol=1e-12, what=f"{name}: the layer vs nn.MultiheadAttention")
    assert_close(w, g["weights"], rtol=1e-10, atol=1e-12, what=f"{name}: the layer's weights")
    dquery, dkey, dvalue = layer.backward(g["dout"])
    if bool(g["self_attention"]):
        assert_close(as_array(dquery) + as_array(dkey) + as_array(dvalue), g["dquery"], rtol=1e-9, atol=1e-12,
                     what=f"{name}: self-attention, the layer's dquery + dkey + dvalue")
    else:
        for label, got in (("dquery", dquery), ("dkey", dkey), ("dvalue", dvalue)):
            assert_close(got, g[label], rtol=1e-9, atol=1e-12, what=f"{name}: the layer's {label}")
    grads = {n: as_array(p.grad).copy() for n, p in zip(golden_params(g), layer.parameters())}
    for n, got in grads.items():
        assert_close(got, g["grad_" + n], rtol=1e-9, atol=1e-12, what=f"{name}: {n}.grad")
    layer.backward(g["dout"])
    for n, p in zip(grads, layer.parameters()):
        assert_close(p.grad, 2 * grads[n], rtol=1e-12, atol=1e-14,
                     what=f"a second backward must ADD into {n}.grad (twice the gradient), not overwrite it")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_state_dict_round_trip_and_copies(impl):
    a, b = impl.MultiheadAttention(6, 3, rng=0), impl.MultiheadAttention(6, 3, rng=1)
    state = a.state_dict()
    assert set(state) == set(NAMES), f"state_dict keys {sorted(state)}, expected torch's {sorted(NAMES)}"
    state["in_proj_weight"][...] = 7.0
    assert not np.any(as_array(a.in_proj_weight.data) == 7.0), "state_dict must return copies, not the arrays"
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 4, 6)).astype(np.float32)
    assert_close(b.forward(x, x, x)[0], a.forward(x, x, x)[0], rtol=0, atol=0, what="a layer loaded from a state_dict")
    before = b.out_proj_weight.data
    b.load_state_dict(impl.MultiheadAttention(6, 3, rng=2).state_dict())
    assert b.out_proj_weight.data is before, "load_state_dict writes in place (an optimizer holds the same arrays)"
