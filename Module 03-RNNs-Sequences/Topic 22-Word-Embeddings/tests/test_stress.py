"""Topic 22 stress tests: each seed on its own, reruns, larger batches vs the reference, speed, TinyShakespeare."""

import numpy as np
import pytest
from dlfs.testing import as_array, assert_close


def corpus(n=400, V=30, seed=0):
    counts = np.arange(V, 0, -1) ** 2
    ids = np.random.default_rng(seed).choice(V, size=n, p=counts / counts.sum())
    return ids, np.bincount(ids, minlength=V)


@pytest.mark.determinism
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_subsampling_seed_alone_decides(impl):
    ids, counts = corpus()
    a = as_array(impl.subsample(ids, counts, t=0.01, rng=3))
    b = as_array(impl.subsample(ids, counts, t=0.01, rng=3))
    assert np.array_equal(a, b), "the same seed must keep the same tokens"
    assert not np.array_equal(a, as_array(impl.subsample(ids, counts, t=0.01, rng=4))), "seeds 3 and 4 must differ"
    gen = np.random.default_rng(0)
    first, second = as_array(impl.subsample(ids, counts, t=0.01, rng=gen)), as_array(impl.subsample(ids, counts, t=0.01, rng=gen))
    assert not np.array_equal(first, second), "two calls with one Generator must differ (use it, do not re-seed from it)"
    np.random.seed(0)
    c = as_array(impl.subsample(ids, counts, t=0.01, rng=3))
    np.random.seed(1)
    assert np.array_equal(c, as_array(impl.subsample(ids, counts, t=0.01, rng=3))), "np.random.seed must play no part"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_window_seed_alone_decides(impl):
    ids, _ = corpus(200)
    a = [as_array(x) for x in impl.skipgram_pairs(ids, window=4, shrink=True, rng=5)]
    b = [as_array(x) for x in impl.skipgram_pairs(ids, window=4, shrink=True, rng=5)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b)), "the same seed must give the same reduced windows"
    other = as_array(impl.skipgram_pairs(ids, window=4, shrink=True, rng=6)[1])
    assert len(other) != len(a[1]) or not np.array_equal(other, a[1]), "seeds 5 and 6 must give other windows"
    full = [as_array(x) for x in impl.skipgram_pairs(ids, window=4, shrink=False, rng=5)]
    again = [as_array(x) for x in impl.skipgram_pairs(ids, window=4, shrink=False, rng=6)]
    assert all(np.array_equal(x, y) for x, y in zip(full, again)), "shrink=False draws nothing: the seed plays no part"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_negative_sampling_seed_alone_decides(impl):
    noise = as_array(impl.noise_distribution(corpus()[1]))
    a = as_array(impl.sample_negatives(noise, (50, 5), rng=1))
    assert np.array_equal(a, as_array(impl.sample_negatives(noise, (50, 5), rng=1))), "same seed, same negatives"
    assert not np.array_equal(a, as_array(impl.sample_negatives(noise, (50, 5), rng=2))), "seeds 1 and 2 must differ"
    gen = np.random.default_rng(1)
    first = as_array(impl.sample_negatives(noise, (50, 5), rng=gen))
    assert np.array_equal(first, a), "a Generator is used as it is: rng=default_rng(1) draws what rng=1 draws"
    assert not np.array_equal(first, as_array(impl.sample_negatives(noise, (50, 5), rng=gen))), \
        "the second call on one Generator must continue its stream"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_embedding_init_seed_alone_decides(impl):
    a, b, c = impl.Embedding(6, 4, rng=2), impl.Embedding(6, 4, rng=2), impl.Embedding(6, 4, rng=3)
    assert np.array_equal(as_array(a.weight.data), as_array(b.weight.data)), "the same seed, the same table"
    assert not np.array_equal(as_array(a.weight.data), as_array(c.weight.data)), "seeds 2 and 3 must differ"
    expected = np.random.default_rng(2).standard_normal((6, 4)).astype(np.float32)
    assert np.array_equal(as_array(a.weight.data), expected), \
        "weight = np.random.default_rng(rng).standard_normal((num_embeddings, embedding_dim)), cast to dtype"
    gen = np.random.default_rng(0)
    d, e = impl.Embedding(6, 4, rng=gen), impl.Embedding(6, 4, rng=gen)
    assert not np.array_equal(as_array(d.weight.data), as_array(e.weight.data)), "two tables from one Generator differ"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(6)
def test_training_seed_alone_decides_and_inputs_stay(impl):
    ids, counts = corpus(300, V=20)
    centers, contexts = (as_array(x) for x in impl.skipgram_pairs(ids, window=2))
    noise = as_array(impl.noise_distribution(counts))
    saved = [centers.copy(), contexts.copy(), noise.copy()]
    W0 = np.random.default_rng(0).standard_normal((20, 5)) * 0.1
    runs = {}
    for seed in (7, 7, 8):
        W_in, W_out = W0.copy(), np.zeros((20, 5))
        losses = impl.train_skipgram(W_in, W_out, centers, contexts, noise, num_negatives=3, lr=0.05,
                                     batch_size=32, epochs=2, rng=seed)
        runs.setdefault(seed, []).append((W_in, W_out, losses))
    (a_in, a_out, a_l), (b_in, b_out, b_l) = runs[7]
    assert np.array_equal(a_in, b_in) and np.array_equal(a_out, b_out) and a_l == b_l, \
        "the same seed must give bit-identical weights and losses"
    assert not np.array_equal(a_in, runs[8][0][0]), "seeds 7 and 8 must train differently (order and negatives)"
    for x, y in zip(saved, (centers, contexts, noise)):
        assert np.array_equal(x, y), "train_skipgram must never modify centers, contexts or noise"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    rng = np.random.default_rng(3)
    W_in, W_out = rng.standard_normal((15, 4)), rng.standard_normal((15, 4))
    c, o, neg = rng.integers(0, 15, 40), rng.integers(0, 15, 40), rng.integers(0, 15, (40, 3))
    saved = [a.copy() for a in (W_in, W_out, c, o, neg)]
    first = impl.sgns_gradients(W_in, W_out, c, o, neg)
    second = impl.sgns_gradients(W_in, W_out, c, o, neg)
    assert float(first[0]) == float(second[0])
    for x, y in zip(first[1:], second[1:]):
        assert np.array_equal(as_array(x), as_array(y)), "two identical calls must give bit-identical gradients"
    for x, y in zip(saved, (W_in, W_out, c, o, neg)):
        assert np.array_equal(x, y), "sgns_gradients must not modify its inputs (only sgd_step updates in place)"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_larger_batch_matches_the_reference(impl, reference):
    rng = np.random.default_rng(4)
    V, D, B, K = 300, 16, 1500, 5
    W_in, W_out = rng.standard_normal((V, D)) * 0.3, rng.standard_normal((V, D)) * 0.3
    c, o, neg = rng.integers(0, 40, B), rng.integers(0, V, B), rng.integers(0, V, (B, K))   # many repeats
    got, ref = impl.sgns_gradients(W_in, W_out, c, o, neg), reference.sgns_gradients(W_in, W_out, c, o, neg)
    assert abs(float(got[0]) - float(ref[0])) < 1e-9 * abs(float(ref[0]))
    for x, y, name in zip(got[1:], ref[1:], ("dW_in", "dW_out")):
        assert_close(x, y, rtol=1e-9, atol=1e-11, what=f"{name} of 1500 pairs vs the level-2 reference")
    a_in, a_out, b_in, b_out = W_in.copy(), W_out.copy(), W_in.copy(), W_out.copy()
    impl.sgd_step(a_in, a_out, c, o, neg, 0.05)
    reference.sgd_step(b_in, b_out, c, o, neg, 0.05)
    assert_close(a_in, b_in, rtol=1e-9, atol=1e-11, what="W_in after one step of 1500 pairs")
    assert_close(a_out, b_out, rtol=1e-9, atol=1e-11, what="W_out after one step of 1500 pairs")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_many_pairs_match_the_reference(impl, reference):
    ids, _ = corpus(3000, V=200, seed=1)
    for shrink in (False, True):
        got = [as_array(x) for x in impl.skipgram_pairs(ids, window=5, shrink=shrink, rng=2)]
        ref = reference.skipgram_pairs(ids, window=5, shrink=shrink, rng=2)
        assert all(np.array_equal(x, y) for x, y in zip(got, ref)), f"pairs of 3000 tokens (shrink={shrink})"


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_sgd_step_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(0)
    V, D, B, K = 2000, 32, 1024, 5
    W_in, W_out = (rng.standard_normal((V, D)) * 0.1).astype(np.float32), np.zeros((V, D), np.float32)
    c, o, neg = rng.integers(0, V, B), rng.integers(0, V, B), rng.integers(0, V, (B, K))
    compare_speed(lambda: impl.sgd_step(W_in, W_out, c, o, neg, 0.0),
                  lambda: reference.sgd_step(W_in, W_out, c, o, neg, 0.0), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_pairs_speed(impl, reference, compare_speed):
    ids, _ = corpus(5000, V=200)
    compare_speed(impl.skipgram_pairs, reference.skipgram_pairs, ids, 5, True, 0, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(7)
def test_neighbours_speed(impl, reference, compare_speed):
    W = np.random.default_rng(0).standard_normal((3000, 32)).astype(np.float32)
    compare_speed(impl.nearest_neighbors, reference.nearest_neighbors, W, W[0], 10, [0], threshold=3.0)


# ----------------------------------------------------------------------------------------------------
# TinyShakespeare
# ----------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shakespeare_words():
    from dlfs.datasets import load_tinyshakespeare

    return load_tinyshakespeare()


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.data("tinyshakespeare")
def test_tinyshakespeare_words_and_vocabulary(impl, shakespeare_words):
    tokens = list(impl.tokenize(shakespeare_words))
    assert len(tokens) == 203836, f"{len(tokens)} words in TinyShakespeare, expected 203,836"
    assert tokens[:6] == ["first", "citizen", "before", "we", "proceed", "any"]
    vocab = impl.Vocab(tokens, min_count=5)
    assert len(vocab) == 3322, f"{len(vocab)} words seen at least 5 times, expected 3,322"
    assert list(vocab.words[:3]) == ["the", "and", "to"] and as_array(vocab.counts)[:3].tolist() == [6287, 5690, 4902]
    assert vocab.index["romeo"] == list(vocab.words).index("romeo")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(6)
@pytest.mark.data("tinyshakespeare")
def test_short_training_on_shakespeare_lowers_the_loss(impl, shakespeare_words):
    tokens = list(impl.tokenize(shakespeare_words[:60000]))
    vocab = impl.Vocab(tokens, min_count=3)
    ids = as_array(impl.subsample(vocab.encode(tokens), vocab.counts, t=1e-3, rng=0))
    centers, contexts = (as_array(x) for x in impl.skipgram_pairs(ids, window=2, shrink=True, rng=1))
    V = len(vocab)
    W_in = ((np.random.default_rng(2).random((V, 16)) - 0.5) / 16).astype(np.float32)
    W_out = np.zeros((V, 16), np.float32)
    noise = as_array(impl.noise_distribution(vocab.counts))
    losses = impl.train_skipgram(W_in, W_out, centers[:6000], contexts[:6000], noise, num_negatives=3, lr=0.2,
                                 batch_size=200, epochs=2, rng=3)
    assert np.mean(losses[-5:]) < np.mean(losses[:3]) - 0.3, \
        f"loss per pair {np.mean(losses[:3]):.3f} -> {np.mean(losses[-5:]):.3f} on Shakespeare's words"
    assert W_in.dtype == np.float32
