"""Topic 22 edge tests: bad arguments, empty inputs, ids out of range, float32, saturation, views."""

import numpy as np
import pytest
from dlfs.testing import as_array, assert_close, assert_shape


def raises_each(fn, cases, what):
    for name, args in cases.items():
        with pytest.raises(ValueError):
            fn(*args)
            pytest.fail(f"{what} accepted {name}: raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_tokenize_and_vocab_reject_bad_input(impl):
    with pytest.raises(ValueError):
        impl.tokenize(b"bytes, not text")
        pytest.fail("tokenize accepted bytes: it reads a str")
    with pytest.raises(ValueError):
        impl.Vocab("a string")
        pytest.fail("Vocab accepted a str: that would build a vocabulary of characters (tokenize first)")
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError):
            impl.Vocab(["a", "b"], min_count=bad)
            pytest.fail(f"Vocab accepted min_count={bad!r}: it must be an integer >= 1")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_empty_text_and_empty_vocab(impl):
    assert list(impl.tokenize("")) == [] and list(impl.tokenize("12 -- ;;")) == [], "no letters, no words"
    vocab = impl.Vocab([])
    assert len(vocab) == 0 and list(vocab.words) == []
    ids = as_array(impl.Vocab(["a", "a"]).encode([]))
    assert ids.shape == (0,) and ids.dtype == np.int64, "encode([]) is an empty int64 array"
    rare = impl.Vocab(["a", "b"], min_count=2)
    assert len(rare) == 0 and as_array(rare.encode(["a", "b"])).shape == (0,), "every word below min_count: empty"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_decode_rejects_ids_outside_the_vocab(impl):
    vocab = impl.Vocab(["x", "y", "y"])
    for bad in ([2], [-1], [0.0]):
        with pytest.raises(ValueError):
            vocab.decode(np.array(bad))
            pytest.fail(f"decode accepted {bad}: ids are integers in [0, len(vocab)); -1 would wrap to the last word")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_subsampling_rejects_bad_arguments(impl):
    counts = np.array([5, 3, 1])
    raises_each(impl.keep_probabilities, {"t = 0": (counts, 0.0), "t < 0": (counts, -1e-3),
                                          "a negative count": (np.array([5, -1]), 1e-3),
                                          "counts all zero": (np.zeros(3), 1e-3),
                                          "2-D counts": (counts[None], 1e-3)}, "keep_probabilities")
    ids = np.array([0, 1, 2, 0])
    raises_each(impl.subsample, {"an id = V": (np.array([0, 3]), counts), "a negative id": (np.array([-1]), counts),
                                 "float ids": (ids.astype(float), counts), "2-D ids": (ids[None], counts)},
                "subsample")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_subsample_of_nothing_and_of_a_zero_count_word(impl):
    kept = as_array(impl.subsample(np.array([], dtype=np.int64), np.array([3, 1]), rng=0))
    assert kept.shape == (0,) and kept.dtype == np.int64, "no tokens in, no tokens out (int64)"
    keep = as_array(impl.keep_probabilities(np.array([0, 10, 10])))
    assert np.all(np.isfinite(keep)) and keep[0] == 1, "a word of count 0 (never seen) gets P_keep = 1, not NaN"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_a_vocabulary_of_one_word(impl):
    keep = as_array(impl.keep_probabilities(np.array([1])))
    assert_close(keep, [np.sqrt(1e-3)], rtol=1e-12, what="one word seen once: f = 1, P_keep = sqrt(t)")
    assert_close(impl.noise_distribution(np.array([1])), [1.0], rtol=0, atol=0,
                 what="one word (a count of 1 is a valid corpus): the noise distribution is [1]")
    draws = as_array(impl.sample_negatives(np.array([1.0]), (2, 3), rng=0))
    assert draws.tolist() == [[0, 0, 0], [0, 0, 0]], "a single word is the only negative there is"
    assert_close(impl.keep_probabilities(np.array([1, 0])), [np.sqrt(1e-3), 1.0], rtol=1e-12,
                 what="counts summing to 1 are valid")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_noise_must_sum_to_one_within_1e_6(impl):
    assert as_array(impl.sample_negatives(np.array([0.5, 0.5 + 5e-7]), (3,), rng=0)).shape == (3,), \
        "a sum of 1 + 5e-7 is within the tolerance of 1e-6"
    with pytest.raises(ValueError):
        impl.sample_negatives(np.array([0.5, 0.5 + 1.5e-6]), (3,), rng=0)
        pytest.fail("sample_negatives accepted probabilities summing to 1 + 1.5e-6 (more than 1e-6 off)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_pairs_reject_bad_arguments(impl):
    ids = np.array([0, 1, 2])
    raises_each(impl.skipgram_pairs, {"window = 0": (ids, 0), "window = 1.5": (ids, 1.5), "window = True": (ids, True),
                                      "2-D ids": (ids[None], 2), "float ids": (ids.astype(float), 2),
                                      "a negative id": (np.array([0, -2]), 2)}, "skipgram_pairs")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_pairs_of_zero_and_one_token(impl):
    for ids in (np.array([], dtype=np.int64), np.array([4])):
        for shrink in (False, True):
            c, o = (as_array(a) for a in impl.skipgram_pairs(ids, window=3, shrink=shrink, rng=0))
            assert c.shape == (0,) and o.shape == (0,), f"{len(ids)} token(s): no pair (a word is never its own context)"
            assert c.dtype == np.int64 and o.dtype == np.int64


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_noise_and_negatives_reject_bad_arguments(impl):
    with pytest.raises(ValueError):
        impl.noise_distribution(np.array([3, 1]), power=-0.5)
        pytest.fail("noise_distribution accepted power < 0")
    with pytest.raises(ValueError):
        impl.noise_distribution(np.zeros(4))
        pytest.fail("noise_distribution accepted counts that are all zero")
    for name, noise in {"probabilities summing to 2": np.array([1.0, 1.0]),
                        "a negative probability": np.array([1.5, -0.5]),
                        "2-D noise": np.array([[0.5, 0.5]]), "empty noise": np.array([])}.items():
        with pytest.raises(ValueError):
            impl.sample_negatives(noise, (3,), rng=0)
            pytest.fail(f"sample_negatives accepted {name}")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_negatives_of_an_empty_shape_and_a_rounded_distribution(impl):
    noise = np.array([0.25, 0.25, 0.5])
    empty = as_array(impl.sample_negatives(noise, (4, 0), rng=0))
    assert empty.shape == (4, 0) and empty.dtype == np.int64, "K = 0: a (B, 0) int64 array"
    rounded = np.full(3, 1 / 3)                                  # sums to 1 - 1e-16: u near 1 must still land
    draws = as_array(impl.sample_negatives(rounded, (5000,), rng=1))
    assert draws.min() >= 0 and draws.max() <= 2, "an id outside [0, V): normalise the cumulative sum by its last entry"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_embedding_rejects_bad_ids_and_shapes(impl):
    weight = np.zeros((4, 3))
    raises_each(impl.embedding_forward, {"a negative id (would wrap to the last row)": (np.array([0, -1]), weight),
                                         "id = V": (np.array([4]), weight), "float ids": (np.array([1.0]), weight),
                                         "a 1-D weight": (np.array([0]), np.zeros(4))}, "embedding_forward")
    _, cache = impl.embedding_forward(np.array([[0, 1]]), weight)
    for bad in (np.zeros((2, 3)), np.zeros((1, 2, 4)), np.zeros((1, 1, 3))):
        with pytest.raises(ValueError):
            impl.embedding_backward(bad, cache)
            pytest.fail(f"embedding_backward accepted dout {bad.shape} for ids (1, 2) and D = 3")
    tiny = impl.Embedding(1, 1, rng=0)
    assert as_array(tiny.weight.data).shape == (1, 1), "Embedding(1, 1) is a valid table of one word"
    for args in ((0, 3), (3, 0), (2.5, 3), (True, 3)):
        with pytest.raises(ValueError):
            impl.Embedding(*args)
            pytest.fail(f"Embedding{args} accepted")
    with pytest.raises(RuntimeError):
        impl.Embedding(3, 2, rng=0).backward(np.zeros((1, 2)))
        pytest.fail("Embedding.backward before any forward must be a RuntimeError")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_embedding_keeps_float32_and_never_aliases(impl):
    weight = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    saved = weight.copy()
    out, cache = impl.embedding_forward(np.array([1, 1, 4]), weight)
    assert as_array(out).dtype == np.float32, f"float32 table, float32 rows; got {as_array(out).dtype}"
    as_array(out)[...] = 99
    assert np.array_equal(weight, saved), "writing into the output changed the table: return copies of the rows"
    dweight = as_array(impl.embedding_backward(np.ones((3, 3), np.float32), cache))
    assert dweight.dtype == np.float32, f"dweight must be float32 like the table, got {dweight.dtype}"
    out, cache = impl.embedding_forward(np.array([], dtype=np.int64), weight)
    assert_shape(out, (0, 3), "no ids")
    assert_close(impl.embedding_backward(np.zeros((0, 3), np.float32), cache), np.zeros((5, 3)), rtol=0, atol=0,
                 what="no ids: a zero gradient")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_sgns_loss_rejects_bad_shapes(impl):
    v = np.zeros((3, 4))
    raises_each(impl.sgns_loss, {"u_o of another B": (v, np.zeros((2, 4)), np.zeros((3, 2, 4))),
                                 "u_o of another D": (v, np.zeros((3, 5)), np.zeros((3, 2, 4))),
                                 "u_neg 2-D": (v, v, np.zeros((3, 4))),
                                 "u_neg of another B": (v, v, np.zeros((1, 2, 4))),
                                 "u_neg of another D": (v, v, np.zeros((3, 2, 5))),
                                 "v_c 1-D": (np.zeros(4), np.zeros(4), np.zeros((1, 2, 4)))}, "sgns_loss")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_empty_batch_and_no_negatives(impl):
    loss, cache = impl.sgns_loss(np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 2, 3)))
    assert float(loss) == 0.0, "an empty batch has loss 0 (a sum over nothing)"
    grads = impl.sgns_loss_backward(1.0, cache)
    assert [as_array(g).shape for g in grads] == [(0, 3), (0, 3), (0, 2, 3)]
    rng = np.random.default_rng(0)
    v, u = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    loss, cache = impl.sgns_loss(v, u, np.zeros((2, 0, 3)))
    expected = np.logaddexp(0, -(u * v).sum(1)).sum()
    assert abs(float(loss) - expected) < 1e-12, "K = 0: only the positive term -log sigmoid(u_o . v_c)"
    dneg = impl.sgns_loss_backward(1.0, cache)[2]
    assert as_array(dneg).shape == (2, 0, 3)


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_float32_stays_float32(impl):
    rng = np.random.default_rng(1)
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)
    _, cache = impl.sgns_loss(f32(4, 3), f32(4, 3), f32(4, 2, 3))
    for name, g in zip(("dv_c", "du_o", "du_neg"), impl.sgns_loss_backward(1.0, cache)):
        assert as_array(g).dtype == np.float32, f"{name} is {as_array(g).dtype}: float32 in, float32 out"
    W_in, W_out = f32(6, 3), f32(6, 3)
    c, o, neg = np.array([0, 1, 1]), np.array([2, 3, 0]), np.array([[4, 4], [5, 0], [1, 2]])
    _, dW_in, dW_out = impl.sgns_gradients(W_in, W_out, c, o, neg)
    assert as_array(dW_in).dtype == np.float32 and as_array(dW_out).dtype == np.float32, "dW_in, dW_out float32"
    impl.sgd_step(W_in, W_out, c, o, neg, 0.1)
    impl.train_skipgram(W_in, W_out, c, o, np.full(6, 1 / 6), num_negatives=2, lr=0.1, batch_size=2, rng=0)
    assert W_in.dtype == np.float32 and W_out.dtype == np.float32 and np.all(np.isfinite(W_in))
    sims = as_array(impl.cosine_similarity(W_in, W_in[0]))
    assert sims.dtype == np.float32, f"similarities of a float32 table are float32, got {sims.dtype}"


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_sgd_step_with_huge_scores_stays_finite(impl):
    W_in = np.full((3, 4), 30.0)
    W_out = np.full((3, 4), 30.0)                  # scores of 3600: sigmoid(s) = 1 exactly in float64
    with np.errstate(over="raise", invalid="raise"):
        loss = impl.sgd_step(W_in, W_out, np.array([0]), np.array([1]), np.array([[2]]), 0.01)
    assert np.isfinite(float(loss)) and abs(float(loss) - 3600) < 1e-6, \
        f"loss {float(loss)}: -log sigmoid(-3600) = 3600, computed without overflow"
    assert np.all(np.isfinite(W_in)) and np.all(np.isfinite(W_out))


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(6)
def test_sgd_and_train_reject_bad_arguments(impl):
    W = np.zeros((5, 2))
    c, o, neg = np.array([0, 1]), np.array([1, 2]), np.array([[3], [4]])
    raises_each(lambda *a: impl.sgd_step(*a), {
        "lr < 0": (W.copy(), W.copy(), c, o, neg, -0.1),
        "contexts misaligned": (W.copy(), W.copy(), c, o[:1], neg, 0.1),
        "negatives of another B": (W.copy(), W.copy(), c, o, neg[:1], 0.1),
        "negatives 1-D": (W.copy(), W.copy(), c, o, neg[:, 0], 0.1),
        "W_out of another shape": (W.copy(), np.zeros((5, 3)), c, o, neg, 0.1),
        "an id = V": (W.copy(), W.copy(), np.array([0, 5]), o, neg, 0.1)}, "sgd_step")
    noise = np.full(5, 0.2)
    for kwargs in ({"lr": -1.0}, {"batch_size": 0}, {"num_negatives": -1}, {"epochs": -1}, {"batch_size": 2.5}):
        with pytest.raises(ValueError):
            impl.train_skipgram(W.copy(), W.copy(), c, o, noise, **kwargs)
            pytest.fail(f"train_skipgram accepted {kwargs}")
    with pytest.raises(ValueError):
        impl.train_skipgram(W.copy(), W.copy(), c, o[:1], noise)
        pytest.fail("train_skipgram accepted centers and contexts of different lengths")
    assert impl.train_skipgram(W.copy(), W.copy(), c, o, noise, epochs=0) == [], "epochs = 0: no batch, no loss"
    W_in, W_out = np.ones((5, 2)), np.ones((5, 2))
    losses = impl.train_skipgram(W_in, W_out, c, o, noise, num_negatives=0, lr=0.0, rng=0)
    assert len(losses) == 1 and abs(losses[0] - np.logaddexp(0, -2.0)) < 1e-12, \
        "num_negatives=0 (only the positive term) and lr=0 are valid: one batch of 2 pairs, loss log(1 + e^-2) each"
    assert np.array_equal(W_in, np.ones((5, 2))) and np.array_equal(W_out, np.ones((5, 2))), "lr=0 changes nothing"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_non_contiguous_inputs(impl):
    rng = np.random.default_rng(2)
    table = rng.standard_normal((4, 7))
    W = table.T                                      # (7, 4) view, not contiguous
    ids = np.arange(12)[::3] % 7                     # a strided id array
    out, _ = impl.embedding_forward(ids, W)
    assert_close(out, np.ascontiguousarray(W)[ids], rtol=0, atol=0, what="lookup in a transposed view")
    assert_close(impl.cosine_similarity(W, W[2]), impl.cosine_similarity(np.ascontiguousarray(W), W[2].copy()),
                 rtol=1e-12, what="similarities of a transposed view")
    W_out = rng.standard_normal((7, 4))
    c, o, neg = np.array([0, 3, 3])[::-1], np.array([1, 2, 6])[::-1], rng.integers(0, 7, size=(2, 3)).T
    a = impl.sgns_gradients(W, W_out, c, o, neg)
    b = impl.sgns_gradients(np.ascontiguousarray(W), W_out, c.copy(), o.copy(), neg.copy())
    for x, y in zip(a[1:], b[1:]):
        assert_close(x, y, rtol=1e-12, atol=1e-14, what="sgns_gradients on views")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_similarity_edge_cases(impl):
    W = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    assert_close(impl.cosine_similarity(W, np.zeros(2)), np.zeros(3), rtol=0, atol=0,
                 what="a zero query vector: similarity 0 everywhere, not NaN")
    ids, _ = impl.nearest_neighbors(W, W[0], k=10, exclude=[0])
    assert as_array(ids).tolist() == [2, 1], "k larger than the candidates left: all of them, best first"
    with pytest.raises(ValueError):
        impl.cosine_similarity(W, np.zeros(3))
        pytest.fail("cosine_similarity accepted v of another D")
    for bad in ({"k": 0}, {"k": 2.5}, {"k": True}, {"exclude": [3]}, {"exclude": [-1]}):
        with pytest.raises(ValueError):
            impl.nearest_neighbors(W, W[0], **bad)
            pytest.fail(f"nearest_neighbors accepted {bad}")
    with pytest.raises(ValueError):
        impl.analogy(W, 0, 1, 3)
        pytest.fail("analogy accepted an id outside [0, V)")
    ids, _ = impl.analogy(np.vstack([W, np.zeros((1, 2))]), 0, 3, 2)
    assert 3 not in as_array(ids).tolist(), "a zero row as b: no NaN, and b is still excluded"
