"""Topic 25 basic tests: the masked softmax, the causal mask, attention forward and backward, the layer."""

import numpy as np
import pytest

from dlfs.gradient_check import check_layer, check_model
from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")
PLAIN = ("attention_cross", "attention_float_mask_scale")
MASKED = ("attention_causal", "attention_causal_cross", "attention_bool_mask", "attention_key_padding_causal")


def attention_by_hand(q, k, v, allowed=None, scale=None, add=None):
    """The test's own oracle: softmax over the keys of the (masked) scores, times v. allowed: bool, True = counts."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if add is not None:
        s = s + add
    if allowed is not None:
        s = np.where(allowed, s, -np.inf)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True) @ v


def qkv(seed, lead, L, S, d, dv=None):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(lead + (L, d)), rng.standard_normal(lead + (S, d)),
            rng.standard_normal(lead + (S, d if dv is None else dv)))


def golden_args(g):
    kwargs = {"causal": bool(g["causal"])}
    if not np.isnan(g["scale"]):
        kwargs["scale"] = float(g["scale"])
    if "mask" in g:
        kwargs["mask"] = g["mask"]
    return kwargs


# ----------------------------------------------------------------------------------------------------
# Task 1: the masked softmax
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_softmax_keeps_shape_and_dtype(impl):
    s = np.random.default_rng(0).standard_normal((2, 3, 4))
    assert_shape(impl.masked_softmax(s), (2, 3, 4), "masked_softmax(scores)")
    p32 = as_array(impl.masked_softmax(s.astype(np.float32), s > 0))
    assert p32.dtype == np.float32, f"float32 scores gave {p32.dtype} probabilities: keep the input dtype"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_softmax_rows_sum_to_one_over_the_last_axis(impl):
    s = np.random.default_rng(1).standard_normal((2, 3, 4)) * 3
    p = as_array(impl.masked_softmax(s))
    sums = p.sum(axis=-1)
    assert np.allclose(sums, 1), f"rows of the softmax sum to {sums.ravel()[:3]}, not 1: normalise over the LAST axis"
    expected = np.exp(s) / np.exp(s).sum(axis=-1, keepdims=True)
    assert_close(p, expected, rtol=1e-12, what="softmax = exp(s) / sum_j exp(s_j), over the last axis")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_softmax_hand_worked_with_a_mask(impl):
    # math-refresh.md, section 2: softmax([1, 2, 3]) and the same row with its middle entry masked
    e = np.exp([1.0, 2.0, 3.0])
    assert_close(impl.masked_softmax(np.array([1.0, 2.0, 3.0])), e / e.sum(), rtol=1e-12,
                 what="softmax([1, 2, 3]) = [0.0900, 0.2447, 0.6652]")
    p = impl.masked_softmax(np.array([1.0, 2.0, 3.0]), np.array([True, False, True]))
    assert_close(p, [e[0] / (e[0] + e[2]), 0.0, e[2] / (e[0] + e[2])], rtol=1e-12,
                 what="mask [T, F, T]: [0.1192, 0, 0.8808]; a masked entry gets 0 and the others renormalise")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_softmax_mask_broadcasts_over_leading_rows(impl):
    s = np.random.default_rng(2).standard_normal((3, 2, 5))
    mask = np.array([True, True, False, True, False])
    p = as_array(impl.masked_softmax(s, mask))
    assert np.all(p[..., ~mask] == 0), "entries where the mask is False must get probability exactly 0"
    e = np.exp(s[..., mask])
    assert_close(p[..., mask], e / e.sum(axis=-1, keepdims=True), rtol=1e-12,
                 what="the kept entries: a softmax over them alone (True = takes part)")


# ----------------------------------------------------------------------------------------------------
# Task 2: the causal mask
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_causal_mask_shape_and_dtype(impl):
    m = as_array(impl.causal_mask(3, 5))
    assert_shape(m, (3, 5), "causal_mask(3, 5)")
    assert m.dtype == np.bool_, f"causal_mask must be boolean (True = may be seen), got {m.dtype}"
    assert_shape(impl.causal_mask(4), (4, 4), "causal_mask(4): S defaults to L")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_causal_mask_keeps_the_diagonal(impl):
    expected = np.array([[1, 0, 0], [1, 1, 0], [1, 1, 1]], dtype=bool)
    m = as_array(impl.causal_mask(3))
    assert np.array_equal(m, expected), (f"causal_mask(3) =\n{m.astype(int)}\nexpected\n{expected.astype(int)}: "
                                         "query i sees keys j <= i, ITSELF included (the diagonal is True)")
    expected = np.array([[1, 0, 0, 0], [1, 1, 0, 0]], dtype=bool)
    assert np.array_equal(as_array(impl.causal_mask(2, 4)), expected), \
        "causal_mask(2, 4): aligned at the top left like SDPA's is_causal, row i is True up to column i"


# ----------------------------------------------------------------------------------------------------
# Task 3: attention forward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_forward_shapes_with_batch_and_heads(impl):
    q, k, v = qkv(0, (2, 3), 5, 7, 4, 6)
    out, _ = impl.attention_forward(q, k, v)
    assert_shape(out, (2, 3, 5, 6), "q (2, 3, 5, 4), k (2, 3, 7, 4), v (2, 3, 7, 6): out (..., L, dv)")
    q, k, v = qkv(1, (), 5, 3, 4, 2)
    out, _ = impl.attention_forward(q, k, v)
    assert_shape(out, (5, 2), "2-D q (5, 4), k (3, 4), v (3, 2): out (5, 2)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_hand_worked_attention(impl):
    # math-refresh.md, section 3: d = 4, scores = q . k / sqrt(4) = [1, 0], p = [e / (e + 1), 1 / (e + 1)]
    q = np.array([[2.0, 0, 0, 0]])
    k = np.array([[1.0, 0, 0, 0], [0, 0, 0, 0]])
    v = np.array([[1.0, 0], [0, 1.0]])
    out, _ = impl.attention_forward(q, k, v)
    e = np.e
    assert_close(out, [[e / (e + 1), 1 / (e + 1)]], rtol=1e-12,
                 what="out = [0.7311, 0.2689]: scores scaled by 1/sqrt(d) = 1/2 (1/d would give [0.6225, 0.3775])")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", PLAIN)
def test_forward_matches_pytorch(impl, golden, name):
    g = golden(name)
    out, _ = impl.attention_forward(g["q"], g["k"], g["v"], **golden_args(g))
    assert_close(out, g["out"], rtol=1e-10, atol=1e-12,
                 what=f"{name}: out vs torch's scaled_dot_product_attention (softmax over the keys, scale 1/sqrt(d))")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", MASKED)
def test_masked_forward_matches_pytorch(impl, golden, name):
    g = golden(name)
    out, _ = impl.attention_forward(g["q"], g["k"], g["v"], **golden_args(g))
    assert_close(out, g["out"], rtol=1e-10, atol=1e-12,
                 what=f"{name}: out vs SDPA (mask True = takes part, causal keeps j <= i, masks BEFORE the softmax)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_scale_argument_is_used(impl):
    q, k, v = qkv(2, (2,), 4, 5, 3)
    out, _ = impl.attention_forward(q, k, v, scale=0.0)
    assert_close(out, np.broadcast_to(v.mean(axis=-2, keepdims=True), out.shape), rtol=1e-12,
                 what="scale=0: every score 0, every query gets the plain mean of the values")
    out, _ = impl.attention_forward(q, k, v, scale=2.0)
    assert_close(out, attention_by_hand(q, k, v, scale=2.0), rtol=1e-10, what="scale=2.0 replaces 1/sqrt(d)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_causal_first_query_sees_only_the_first_key(impl):
    q, k, v = qkv(3, (2,), 5, 5, 4)
    out = as_array(impl.attention_forward(q, k, v, causal=True)[0])
    assert_close(out[:, 0], v[:, 0], rtol=1e-12,
                 what="causal: query 0 sees key 0 only (itself), so out[0] = v[0]; is the diagonal masked?")
    full = as_array(impl.attention_forward(q, k, v)[0])
    assert_close(out[:, -1], full[:, -1], rtol=1e-12, what="causal: the last query sees every key")
    assert_close(out, attention_by_hand(q, k, v, allowed=np.tril(np.ones((5, 5), bool))), rtol=1e-10,
                 what="causal: query i attends keys j <= i")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_bool_mask_true_means_take_part(impl):
    q, k, v = qkv(4, (2,), 3, 4, 2)
    mask = np.array([False, False, True, False])[None, :]   # (1, S): only key 2 takes part
    out, _ = impl.attention_forward(q, k, v, mask=mask)
    assert_close(out, np.broadcast_to(v[:, 2:3], out.shape), rtol=1e-12,
                 what="a boolean mask means True = takes part (SDPA's attn_mask), False = hidden; "
                      "nn.MultiheadAttention's opposite convention is not this one")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_masked_keys_have_no_influence(impl):
    q, k, v = qkv(5, (2,), 4, 6, 3)
    mask = np.array([True, False, True, True, False, True])
    out, _ = impl.attention_forward(q, k, v, mask=mask[None, :])
    k2, v2 = k.copy(), v.copy()
    k2[:, ~mask] = 50.0                                  # huge scores at the hidden keys
    v2[:, ~mask] = -1e3
    out2, _ = impl.attention_forward(q, k2, v2, mask=mask[None, :])
    assert_close(out2, out, rtol=1e-12, atol=1e-12,
                 what="changing a hidden key or value changed the output: mask the SCORES before the softmax, "
                      "not the probabilities after it")
    assert_close(out, attention_by_hand(q, k, v, allowed=mask), rtol=1e-10, what="masked attention")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_float_mask_is_added_to_the_scores(impl):
    q, k, v = qkv(6, (3,), 4, 5, 2)
    bias = np.random.default_rng(0).standard_normal((4, 5))
    out, _ = impl.attention_forward(q, k, v, mask=bias)
    assert_close(out, attention_by_hand(q, k, v, add=bias), rtol=1e-10,
                 what="a float mask is ADDED to the scaled scores (ALiBi, relative positions, -inf to hide)")
    hidden = np.where(np.tril(np.ones((4, 5), bool)), 0.0, -np.inf)
    out, _ = impl.attention_forward(q, k, v, mask=hidden)
    ref, _ = impl.attention_forward(q, k, v, causal=True)
    assert_close(out, ref, rtol=1e-12, what="a float mask of 0 / -inf is the same as the boolean mask")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_causal_combines_with_a_mask(impl):
    q, k, v = qkv(7, (2,), 5, 5, 3)
    mask = np.random.default_rng(1).random((2, 5, 5)) < 0.7
    mask[:, :, 0] = True
    out, _ = impl.attention_forward(q, k, v, mask=mask, causal=True)
    assert_close(out, attention_by_hand(q, k, v, allowed=mask & np.tril(np.ones((5, 5), bool))), rtol=1e-10,
                 what="mask and causal together: a key takes part only where both allow it")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_fully_masked_query_gives_zero_output(impl, golden):
    g = golden("attention_dead_rows")   # SDPA gives NaN there: the golden file puts the topic's zeros in by hand
    out = as_array(impl.attention_forward(g["q"], g["k"], g["v"], mask=g["mask"])[0])
    assert not np.isnan(out).any(), ("a query whose every key is masked gave NaN (0 / 0 in the softmax, or "
                                     "exp(-inf - (-inf))): define its probabilities as 0")
    dead = ~g["mask"].any(axis=-1)
    assert np.all(out[dead] == 0), "a query that sees no key must get out = 0 exactly"
    assert_close(out, g["out"], rtol=1e-10, atol=1e-12, what="the other queries are unchanged")


# ----------------------------------------------------------------------------------------------------
# Task 4: attention backward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_backward_shapes(impl):
    q, k, v = qkv(8, (2, 3), 5, 7, 4, 6)
    _, cache = impl.attention_forward(q, k, v)
    dq, dk, dv = impl.attention_backward(np.ones((2, 3, 5, 6)), cache)
    assert_shape(dq, q.shape, "dq")
    assert_shape(dk, k.shape, "dk")
    assert_shape(dv, v.shape, "dv (S, dv): p^T @ dout, with p transposed")


@pytest.mark.gradient
@pytest.mark.hint(3)
@pytest.mark.task(4)
@pytest.mark.parametrize("case", ["cross", "causal", "bool_mask", "float_mask_scale"])
def test_gradient_check(impl, case):
    rng = np.random.default_rng(3)
    kwargs = {}
    if case == "cross":
        q, k, v = qkv(9, (2, 2), 3, 4, 3, 2)
    else:
        q, k, v = qkv(10, (2,), 4, 4, 3)
    if case == "causal":
        kwargs["causal"] = True
    elif case == "bool_mask":
        kwargs["mask"] = rng.random((2, 4, 4)) < 0.6
        kwargs["mask"][..., 1] = True
    elif case == "float_mask_scale":
        kwargs["mask"], kwargs["scale"] = rng.standard_normal((4, 4)), 0.7
    report = check_layer(lambda a, b, c: impl.attention_forward(a, b, c, **kwargs), impl.attention_backward, q, k, v)
    assert report.passed, f"attention gradients (dq, dk, dv), {case}: {report}"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
@pytest.mark.parametrize("name", PLAIN + MASKED + ("attention_dead_rows",))
def test_backward_matches_pytorch(impl, golden, name):
    g = golden(name)
    kwargs = golden_args(g) if "causal" in g else {"mask": g["mask"]}
    _, cache = impl.attention_forward(g["q"], g["k"], g["v"], **kwargs)
    for label, got, want in zip(("dq", "dk", "dv"), impl.attention_backward(g["dout"], cache), (g["dq"], g["dk"], g["dv"])):
        assert_close(got, want, rtol=1e-9, atol=1e-12, what=f"{name}: {label} vs autograd")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_fully_masked_query_gets_zero_gradient(impl):
    q, k, v = qkv(11, (2,), 4, 3, 2)
    mask = np.ones((2, 4, 3), bool)
    mask[0, 2] = False
    mask[1, 0] = False
    out, cache = impl.attention_forward(q, k, v, mask=mask)
    dq, dk, dv = (as_array(g) for g in impl.attention_backward(np.ones(out.shape), cache))
    assert np.all(np.isfinite(dq)) and np.all(np.isfinite(dk)) and np.all(np.isfinite(dv)), \
        "a fully masked query made the gradients NaN"
    assert np.all(dq[0, 2] == 0) and np.all(dq[1, 0] == 0), "a query that sees no key has dq = 0"
    report = check_layer(lambda a, b, c: impl.attention_forward(a, b, c, mask=mask), impl.attention_backward, q, k, v)
    assert report.passed, f"gradients with fully masked queries: {report}"


# ----------------------------------------------------------------------------------------------------
# Task 5: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_parameters_and_shapes(impl):
    layer = impl.SelfAttention(6, rng=0)
    params = layer.parameters()
    assert len(params) == 8, f"parameters() must give [Wq, bq, Wk, bk, Wv, bv, Wo, bo], got {len(params)}"
    for name, p in zip(NAMES, params):
        assert p is getattr(layer, name), f"parameters()[{NAMES.index(name)}] must be layer.{name}"
        assert p.data.shape == ((6, 6) if name[0] == "W" else (6,)), f"{name} has shape {p.data.shape}"
        assert p.data.dtype == np.float32 and p.grad.shape == p.data.shape, f"{name}: float32 data and a .grad"
    out = layer.forward(np.zeros((2, 3, 5, 6), np.float32))
    assert_shape(out, (2, 3, 5, 6), "SelfAttention(6) on x (2, 3, 5, 6)")
    tiny = impl.SelfAttention(1, rng=0)              # d_model = 1 is a valid (if small) layer
    assert_shape(tiny.forward(np.ones((2, 4, 1), np.float32), causal=True), (2, 4, 1), "SelfAttention(1) on x (2, 4, 1)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_init_is_uniform_like_nn_linear(impl):
    layer = impl.SelfAttention(64, rng=0, dtype=np.float64)
    bound = 1 / np.sqrt(64)
    for name in ("Wq", "Wk", "Wv", "Wo"):
        w = as_array(getattr(layer, name).data)
        assert np.abs(w).max() <= bound, f"{name} leaves U(-1/sqrt(d_model), 1/sqrt(d_model))"
        assert abs(w.std() / (bound / np.sqrt(3)) - 1) < 0.05, \
            f"{name} has std {w.std():.4f}, a uniform on +-{bound:.3f} has {bound / np.sqrt(3):.4f}"
    biases = np.concatenate([as_array(getattr(layer, n).data) for n in ("bq", "bk", "bv", "bo")])
    assert np.abs(biases).max() <= bound and biases.std() > 0.3 * bound, "biases from the same uniform, not zeros"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_matches_multihead_attention_and_accumulates(impl, golden):
    g = golden("self_attention_layer")  # torch.nn.MultiheadAttention with one head, causal
    layer = impl.SelfAttention(8, rng=0, dtype=np.float64)
    layer.load_state_dict({n: g[n] for n in NAMES})
    out = layer.forward(g["x"], causal=True)
    assert_close(out, g["out"], rtol=1e-10, atol=1e-12, what="the layer vs nn.MultiheadAttention(8, num_heads=1)")
    dx = layer.backward(g["dout"])
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what="dx: x feeds q, k AND v, three gradients add up")
    for name in NAMES:
        assert_close(getattr(layer, name).grad, g["d" + name], rtol=1e-9, atol=1e-12, what=f"{name}.grad")
    layer.backward(g["dout"])
    for name in NAMES:
        assert_close(getattr(layer, name).grad, 2 * g["d" + name], rtol=1e-9, atol=1e-12,
                     what=f"a second backward must ADD into {name}.grad (twice the gradient), not overwrite it")


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_gradient_check(impl):
    layer = impl.SelfAttention(4, rng=1, dtype=np.float64)
    rng = np.random.default_rng(2)
    x, dout = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    mask = np.array([[True, True, False]])

    def loss():
        return float((as_array(layer.forward(x, mask=mask)) * dout).sum())

    loss()
    dx = as_array(layer.backward(dout)).copy()
    grads = {n: as_array(getattr(layer, n).grad).copy() for n in NAMES}
    # bk shifts every score of a row by the same q . bk, which the softmax ignores: its gradient is exactly 0
    assert_close(grads.pop("bk"), np.zeros(4), atol=1e-12, what="bk.grad (a softmax ignores a shift of its row)")
    params = {n: getattr(layer, n).data for n in NAMES if n != "bk"}
    report = check_model(loss, {**params, "x": x}, {**grads, "x": dx})
    assert report.passed, f"layer gradients (seven parameters and x): {report}"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_state_dict_round_trip_and_copies(impl):
    a, b = impl.SelfAttention(5, rng=0), impl.SelfAttention(5, rng=1)
    state = a.state_dict()
    assert set(state) == set(NAMES), f"state_dict keys {sorted(state)}, expected {sorted(NAMES)}"
    state["Wq"][...] = 7.0
    assert not np.any(as_array(a.Wq.data) == 7.0), "state_dict must return copies, not the parameter arrays"
    b.load_state_dict(a.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 4, 5)).astype(np.float32)
    assert_close(b.forward(x), a.forward(x), rtol=0, atol=0, what="a layer loaded from another's state_dict")
    before = b.Wq.data
    b.load_state_dict(impl.SelfAttention(5, rng=2).state_dict())
    assert b.Wq.data is before, "load_state_dict writes in place (an optimizer holds the same arrays)"
