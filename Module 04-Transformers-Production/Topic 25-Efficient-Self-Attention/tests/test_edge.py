"""Topic 25 edge tests: huge scores, fully masked rows, wrong shapes and masks, float32, size 0, views, NaN, misuse."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("Wq", "bq", "Wk", "bk", "Wv", "bv", "Wo", "bo")


def qkv(seed, lead, L, S, d, dv=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return tuple(rng.standard_normal(shape).astype(dtype) for shape in
                 (lead + (L, d), lead + (S, d), lead + (S, d if dv is None else dv)))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_softmax_of_huge_scores_does_not_overflow(impl):
    for dtype in (np.float64, np.float32):
        with np.errstate(over="raise", invalid="raise"):
            p = as_array(impl.masked_softmax(np.array([[1e4, 0.0, -1e4], [500.0, 500.0, -1e4]], dtype=dtype)))
        assert_close(p, [[1, 0, 0], [0.5, 0.5, 0]], rtol=1e-6, atol=1e-30,
                     what=f"softmax of scores of 1e4 ({np.dtype(dtype).name}): subtract the row max before exp")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_softmax_fully_masked_row_is_zero(impl):
    s = np.random.default_rng(0).standard_normal((3, 4))
    mask = np.array([[True, False, True, True], [False] * 4, [True] * 4])
    p = as_array(impl.masked_softmax(s, mask))
    assert not np.isnan(p).any(), "a row with every entry masked gave NaN: define it as all zeros"
    assert np.all(p[1] == 0) and np.allclose(p[[0, 2]].sum(axis=-1), 1), "a fully masked row is 0, the others sum to 1"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_softmax_rejects_masks_that_do_not_fit(impl):
    s = np.zeros((2, 4))
    for what, mask in (("an int mask", np.ones((2, 4), int)), ("a float mask", np.ones((2, 4))),
                       ("shape (3,)", np.ones(3, bool)), ("shape (4, 2)", np.ones((4, 2), bool)),
                       ("shape (1, 2, 4) (would grow the output)", np.ones((1, 2, 4), bool)),
                       ("shape (2, 1) (one flag per row)", np.ones((2, 1), bool))):
        with pytest.raises(ValueError):
            impl.masked_softmax(s, mask)
            pytest.fail(f"masked_softmax accepted {what}")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_causal_mask_sizes(impl):
    assert_shape(impl.causal_mask(0), (0, 0), "causal_mask(0)")
    assert np.array_equal(as_array(impl.causal_mask(1)), [[True]]), "causal_mask(1) = [[True]]: a query sees itself"
    for bad in (-1, 2.5, True, None, "3"):
        with pytest.raises(ValueError):
            impl.causal_mask(bad)
            pytest.fail(f"causal_mask accepted L = {bad!r}")
    with pytest.raises(ValueError):
        impl.causal_mask(3, -2)
        pytest.fail("causal_mask accepted S = -2")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_huge_scores_stay_finite(impl):
    q, k, v = qkv(0, (2,), 3, 4, 2)
    k[:, 1] = q[:, 0] * 10                   # key 1 matches query 0 strongly
    with np.errstate(over="raise", invalid="raise"):
        out = as_array(impl.attention_forward(q * 1e3, k * 1e3, v)[0])
    assert np.all(np.isfinite(out)), "scores of 1e6 overflowed exp: subtract the row max first"
    assert_close(out[:, 0], v[:, 1], rtol=1e-9, what="with a huge score the softmax picks one key: out = v[1]")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_forward_rejects_bad_shapes(impl):
    q, k, v = qkv(1, (2,), 3, 4, 5)
    bad = {
        "1-D q": (q[0, 0], k[0], v[0], None),
        "q 3-D, k 2-D": (q, k[0], v, None),
        "k of another d": (q, np.zeros((2, 4, 6)), v, None),
        "v with another S": (q, k, np.zeros((2, 5, 5)), None),
        "k of another batch (would broadcast)": (q, k[:1], v[:1], None),
        "q of batch 1 (would broadcast)": (q[:1], k, v, None),
        "k alone of batch 1 (would broadcast)": (q, k[:1], v, None),
        "q, k, v all 1-D": (q[0, 0], k[0, 0], v[0, 0], None),
        "mask (L,)": (q, k, v, np.ones(3, bool)),
        "mask (S, L)": (q, k, v, np.ones((4, 3), bool)),
        "mask (L, S + 1)": (q, k, v, np.ones((3, 5), bool)),
        "mask (L, 1)": (q, k, v, np.ones((3, 1), bool)),
        "mask of batch 3": (q, k, v, np.ones((3, 3, 4), bool)),
        "mask with an extra leading dim": (q, k, v, np.ones((2, 2, 3, 4), bool)),
        "an int 0/1 mask": (q, k, v, np.ones((3, 4), int)),
        "d = 0 with the default scale 1/sqrt(d)": (np.zeros((2, 3, 0)), np.zeros((2, 4, 0)), v, None),
    }
    for what, (a, b, c, mask) in bad.items():
        with pytest.raises(ValueError):
            impl.attention_forward(a, b, c, mask=mask)
            pytest.fail(f"attention_forward accepted {what}: raise ValueError, never broadcast")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_backward_rejects_dout_of_the_wrong_shape(impl):
    q, k, v = qkv(2, (2,), 3, 4, 5, 6)
    _, cache = impl.attention_forward(q, k, v)
    for shape in ((2, 3, 5), (2, 4, 6), (1, 3, 6), (3, 6), (2, 3, 1)):
        with pytest.raises(ValueError):
            impl.attention_backward(np.ones(shape), cache)
            pytest.fail(f"attention_backward accepted dout of shape {shape} for out (2, 3, 6)")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_float32_stays_float32(impl):
    q, k, v = qkv(3, (2,), 5, 6, 4, dtype=np.float32)
    rng = np.random.default_rng(0)
    for what, kwargs in (("no mask", {}), ("causal", {"causal": True}),
                         ("a bool mask", {"mask": rng.random((5, 6)) < 0.5}),
                         ("a float64 float mask", {"mask": rng.standard_normal((5, 6))}),
                         ("scale=0.3", {"scale": 0.3})):
        out, cache = impl.attention_forward(q, k, v, **kwargs)
        assert as_array(out).dtype == np.float32, f"{what}: float32 q, k, v gave a {as_array(out).dtype} output"
        for name, g in zip(("dq", "dk", "dv"), impl.attention_backward(np.ones((2, 5, 4), np.float32), cache)):
            assert as_array(g).dtype == np.float32, f"{what}: {name} is {as_array(g).dtype}, not float32"
    layer = impl.SelfAttention(4, rng=0)
    out = layer.forward(q, causal=True)
    assert as_array(out).dtype == np.float32, "the float32 layer gave a non-float32 output"
    assert as_array(layer.backward(np.ones_like(q))).dtype == np.float32, "the float32 layer's dx is not float32"
    assert layer.Wq.grad.dtype == np.float32, "Wq.grad must stay float32"


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_empty_sizes(impl):
    for what, (lead, L, S) in {"batch 0": ((0, 2), 3, 4), "L = 0": ((2,), 0, 4), "S = 0": ((2,), 3, 0)}.items():
        q, k, v = qkv(4, lead, L, S, 3, 2)
        out, cache = impl.attention_forward(q, k, v)
        assert_shape(out, lead + (L, 2), f"{what}: out")
        assert np.all(as_array(out) == 0) and not np.isnan(as_array(out)).any(), \
            f"{what}: out must be zeros (S = 0: every query sees no key)"
        for name, g, ref in zip(("dq", "dk", "dv"), impl.attention_backward(np.ones(lead + (L, 2)), cache), (q, k, v)):
            assert_shape(g, ref.shape, f"{what}: {name}")
            assert np.all(as_array(g) == 0), f"{what}: {name} must be zeros"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_single_key(impl):
    q, k, v = qkv(5, (2,), 4, 1, 3)
    out, cache = impl.attention_forward(q, k, v)
    assert_close(out, np.broadcast_to(v, out.shape), rtol=1e-12, what="S = 1: the softmax is 1, out = v[0]")
    dq, dk, dv = impl.attention_backward(np.ones(out.shape), cache)
    assert_close(dq, np.zeros_like(q), atol=1e-12, what="S = 1: the softmax is constant, dq = 0")
    assert_close(dk, np.zeros_like(k), atol=1e-12, what="S = 1: dk = 0")
    assert_close(dv, np.full_like(v, 4.0), rtol=1e-12, what="S = 1: dv = sum over the 4 queries of dout")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_non_contiguous_inputs(impl):
    q, k, v = qkv(6, (3,), 5, 4, 2)
    qt, kt, vt = (np.ascontiguousarray(a.transpose(1, 0, 2)).transpose(1, 0, 2) for a in (q, k, v))
    mask = np.ascontiguousarray((np.random.default_rng(1).random((5, 4)) < 0.7).T).T
    mask[:, 0] = True
    assert not qt.flags["C_CONTIGUOUS"] and not mask.flags["C_CONTIGUOUS"]
    out, cache = impl.attention_forward(qt, kt, vt, mask=mask, causal=True)
    ref, cache_ref = impl.attention_forward(q, k, v, mask=np.ascontiguousarray(mask), causal=True)
    assert_close(out, ref, rtol=1e-12, atol=1e-14, what="transposed views must give the same output")
    dout = np.random.default_rng(2).standard_normal((5, 3, 2)).transpose(1, 0, 2)
    for a, b in zip(impl.attention_backward(dout, cache), impl.attention_backward(np.ascontiguousarray(dout), cache_ref)):
        assert_close(a, b, rtol=1e-12, atol=1e-14, what="a transposed dout must give the same gradients")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_nan_stays_in_its_own_rows(impl):
    q, k, v = qkv(7, (2,), 4, 5, 3)
    q[0, 2, 1] = np.nan
    with np.errstate(invalid="ignore"):
        out = as_array(impl.attention_forward(q, k, v)[0])
    assert np.isnan(out[0, 2]).all(), "a NaN in query 2 must show in its output row"
    rest = np.ones((2, 4), bool)
    rest[0, 2] = False
    assert np.all(np.isfinite(out[rest])), "a NaN in one query spread to other queries: rows are independent"


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_misuse_raises(impl):
    for bad in (0, -3, 2.5, True, "4"):
        with pytest.raises(ValueError):
            impl.SelfAttention(bad)
            pytest.fail(f"SelfAttention accepted d_model = {bad!r}")
    layer = impl.SelfAttention(4, rng=0)
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((2, 3, 4), np.float32))
        pytest.fail("backward before any forward must raise RuntimeError")
    for shape in ((2, 3, 5), (4,)):
        with pytest.raises(ValueError):
            layer.forward(np.ones(shape, np.float32))
            pytest.fail(f"forward accepted x of shape {shape} for d_model = 4")
    layer.forward(np.ones((2, 3, 4), np.float32))
    for shape in ((2, 3, 1), (1, 3, 4), (2, 4, 4)):
        with pytest.raises(ValueError):
            layer.backward(np.ones(shape, np.float32))
            pytest.fail(f"backward accepted dout of shape {shape} for out (2, 3, 4)")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_load_state_dict_rejects_wrong_keys_and_shapes(impl):
    layer = impl.SelfAttention(3, rng=0)
    saved = layer.state_dict()
    good = impl.SelfAttention(3, rng=1).state_dict()
    missing = {k: v for k, v in good.items() if k != "bo"}
    extra = {**good, "Wx": np.zeros((3, 3))}
    renamed = {("W_q" if k == "Wq" else k): v for k, v in good.items()}
    wrong_shape = {**good, "bq": np.zeros((1, 3))}
    for what, state in (("a missing key", missing), ("an extra key", extra), ("a renamed key", renamed),
                        ("bq of shape (1, 3)", wrong_shape)):
        with pytest.raises(ValueError):
            layer.load_state_dict(state)
            pytest.fail(f"load_state_dict accepted {what}")
        for name in NAMES:
            assert np.array_equal(as_array(getattr(layer, name).data), saved[name]), \
                f"a rejected load_state_dict ({what}) changed {name}: check every key and shape before writing"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_mask_leading_dims_align_from_the_right(impl):
    q, k, v = qkv(3, (2, 3), 2, 4, 5)
    grown = np.random.default_rng(4).random((2, 1, 2, 4)) > 0.3
    out = as_array(impl.attention_forward(q, k, v, mask=grown)[0])
    for b in range(2):
        alone = as_array(impl.attention_forward(q[b], k[b], v[b], mask=grown[b, 0])[0])
        assert_close(out[b], alone, rtol=1e-12, atol=1e-12,
                     what=f"a mask (2, 1, L, S) for q (2, 3, L, d): batch {b} uses mask[{b}, 0] for all 3 heads")
    bias = np.where(grown, 0.0, -1e9)                   # the same mask as floats, added to the scores
    for what, a, mask in (("a mask (2, 1, L, S) for q (1, 3, L, d) (would grow the batch)", q[:1], grown),
                          ("a mask (2, L, S) for a 2-D q (L, d) (would add a batch dim)", q[0, 0], grown[:, 0]),
                          ("a float mask (2, 1, L, S) for q (1, 3, L, d)", q[:1], bias),
                          ("a float mask (2, L, S) for a 2-D q (L, d)", q[0, 0], bias[:, 0])):
        b, c = (k[:1], v[:1]) if a.ndim == 4 else (k[0, 0], v[0, 0])
        with pytest.raises(ValueError):
            impl.attention_forward(a, b, c, mask=mask)
            pytest.fail(f"attention_forward accepted {what}: align the mask's leading dims from the right")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_layer_is_not_causal_by_default_and_takes_2d_input(impl):
    layer = impl.SelfAttention(4, rng=3, dtype=np.float64)
    x = np.random.default_rng(5).standard_normal((2, 3, 4))
    full = as_array(layer.forward(x))
    causal = as_array(layer.forward(x, causal=True))
    assert not np.allclose(full[:, 0], causal[:, 0]), \
        "forward(x) without causal= must let the first query see every key: causal defaults to False"
    single = as_array(layer.forward(x[1]))
    assert_shape(single, (3, 4), "forward on an unbatched x (L, d_model)")
    assert_close(single, full[1], rtol=1e-12, atol=1e-12, what="an unbatched x (L, d_model) vs the same rows in a batch")
