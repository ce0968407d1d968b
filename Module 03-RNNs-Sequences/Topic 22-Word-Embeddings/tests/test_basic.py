"""Topic 22 basic tests: words, vocabulary, subsampling, pairs, negatives, the lookup, the loss, training, queries."""

import math

import numpy as np
import pytest
from dlfs.gradient_check import (
    check_layer,
    check_model,
    numerical_gradient,
    relative_error,
)
from dlfs.testing import as_array, assert_close, assert_shape


def inverse_cdf(noise, u):
    """The test's own sampler: id = number of cumulative probabilities <= u."""
    cdf = np.cumsum(noise)
    cdf /= cdf[-1]
    return np.searchsorted(cdf, u, side="right")


def pairs_by_hand(ids, reach):
    centers, contexts = [], []
    for i in range(len(ids)):
        for j in range(len(ids)):
            if j != i and abs(j - i) <= reach[i]:
                centers.append(ids[i])
                contexts.append(ids[j])
    return centers, contexts


def sgns_loss_by_hand(v_c, u_o, u_neg):
    loss = 0.0
    for b in range(len(v_c)):
        loss += math.log1p(math.exp(-float(u_o[b] @ v_c[b])))
        for k in range(u_neg.shape[1]):
            loss += math.log1p(math.exp(float(u_neg[b, k] @ v_c[b])))
    return loss


# ----------------------------------------------------------------------------------------------------
# Task 1: words and the vocabulary
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_tokenize_lowercases_and_keeps_inner_apostrophes(impl):
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n'Tis o'er; ROMEO's 3 swords-men!"
    got = list(impl.tokenize(text))
    assert got == ["first", "citizen", "before", "we", "proceed", "any", "further", "hear", "me", "speak",
                   "tis", "o'er", "romeo's", "swords", "men"], \
        f"got {got}: words are lowercase runs of a-z, an apostrophe kept only between two letters"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_vocab_orders_by_count_then_alphabetically(impl):
    tokens = ["b", "a", "c", "a", "b", "a", "d", "c", "b", "a"]      # a: 4, b: 3, c: 2, d: 1
    vocab = impl.Vocab(tokens)
    assert list(vocab.words) == ["a", "b", "c", "d"], f"words {vocab.words}: most frequent first"
    assert as_array(vocab.counts).tolist() == [4, 3, 2, 1], "counts[i] is the count of words[i]"
    assert as_array(vocab.counts).dtype == np.int64, "counts must be int64"
    assert dict(vocab.index) == {"a": 0, "b": 1, "c": 2, "d": 3}, "index maps each word to its id"
    assert len(vocab) == 4
    ties = impl.Vocab(["pear", "fig", "apple", "fig", "pear", "apple", "kiwi"])
    assert list(ties.words) == ["apple", "fig", "pear", "kiwi"], \
        f"words {ties.words}: equal counts are ordered alphabetically (never by first appearance)"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_vocab_min_count_drops_rare_words(impl):
    tokens = ["b", "a", "c", "a", "b", "a", "d", "c", "b", "a"]
    two = impl.Vocab(tokens, min_count=2)
    assert list(two.words) == ["a", "b", "c"], f"min_count=2 keeps the words seen at least twice, got {two.words}"
    four = impl.Vocab(tokens, min_count=4)
    assert list(four.words) == ["a"] and as_array(four.counts).tolist() == [4], \
        "min_count=4 keeps only 'a' (count 4): the comparison is count >= min_count"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_encode_drops_unknown_words_and_decode_inverts(impl):
    vocab = impl.Vocab(["to", "be", "or", "not", "to", "be"], min_count=2)   # be: 2, to: 2
    ids = as_array(vocab.encode(["to", "be", "or", "not", "to", "be", "that"]))
    assert ids.dtype == np.int64, f"encode returns int64 ids, got {ids.dtype}"
    assert ids.tolist() == [1, 0, 1, 0], f"got {ids.tolist()}: words not in the vocabulary are dropped (no <unk> id)"
    assert list(vocab.decode(ids)) == ["to", "be", "to", "be"]


# ----------------------------------------------------------------------------------------------------
# Task 2: subsampling
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_keep_probabilities_follow_the_papers_formula(impl):
    counts = np.array([7000, 2000, 990, 10])
    f = counts / counts.sum()
    got = as_array(impl.keep_probabilities(counts))
    assert_close(got, np.minimum(1, np.sqrt(1e-3 / f)), rtol=1e-12,
                 what="keep probability with the default t = 1e-3: min(1, sqrt(t / f)), f = count / total")
    got = as_array(impl.keep_probabilities(counts, t=0.05))
    expected = np.minimum(1, np.sqrt(0.05 / f))
    assert_close(got, expected, rtol=1e-12, what="keep probability with t = 0.05")
    assert expected[0] < 1 and expected[3] == 1, "a frequent word is thinned, a rare one always kept"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_subsample_draws_one_uniform_per_token_in_order(impl):
    counts = np.array([50, 30, 15, 5])
    ids = np.random.default_rng(0).choice(4, size=200, p=counts / counts.sum())
    keep = np.minimum(1, np.sqrt(0.02 / (counts / counts.sum())))
    u = np.random.default_rng(7).random(len(ids))
    got = as_array(impl.subsample(ids, counts, t=0.02, rng=7))
    assert got.dtype == np.int64, f"subsample returns int64 ids, got {got.dtype}"
    assert got.tolist() == ids[u < keep[ids]].tolist(), \
        "token i is kept when u_i < P_keep(ids[i]), u = rng.random(len(ids)) drawn at once, in order"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_subsample_keeps_rare_words_and_thins_frequent_ones(impl):
    counts = np.array([20000, 2000, 10, 5])       # f = 0.91, 0.091, 4.5e-4, 2.3e-4
    ids = np.repeat(np.arange(4), counts)
    kept = as_array(impl.subsample(ids, counts, rng=1))     # default t = 1e-3
    kept_counts = np.bincount(kept, minlength=4)
    expected = np.minimum(1, np.sqrt(1e-3 / (counts / counts.sum())))
    assert kept_counts[3] == 5 and kept_counts[2] == 10, \
        "words with f <= t are always kept: is the keep probability inverted (the discard probability)?"
    assert abs(kept_counts[0] / 20000 - expected[0]) < 0.01, \
        f"'the'-like word kept {kept_counts[0] / 20000:.3f} of the time, expected {expected[0]:.3f}"


# ----------------------------------------------------------------------------------------------------
# Task 3: skip-gram pairs and negative sampling
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_pairs_of_a_short_sentence(impl):
    ids = np.array([10, 11, 12, 13])
    c, o = impl.skipgram_pairs(ids, window=1)
    assert as_array(c).tolist() == [10, 11, 11, 12, 12, 13] and as_array(o).tolist() == [11, 10, 12, 11, 13, 12], \
        "window=1: each word with its left and right neighbour, ordered by center, then context position"
    c, o = impl.skipgram_pairs(ids)    # default window = 2
    assert as_array(c).tolist() == [10, 10, 11, 11, 11, 12, 12, 12, 13, 13]
    assert as_array(o).tolist() == [11, 12, 10, 12, 13, 10, 11, 13, 11, 12], \
        "window=2 (default): up to two words on each side, never past the ends of the sequence"
    assert as_array(c).dtype == np.int64 and as_array(o).dtype == np.int64, "pairs are int64 ids"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_pairs_are_aligned_and_never_pair_a_position_with_itself(impl):
    n, w = 30, 4
    ids = np.arange(100, 100 + n)              # all distinct: the id tells the position
    c, o = (as_array(a) for a in impl.skipgram_pairs(ids, window=w))
    assert c.shape == o.shape, "centers and contexts must have the same length (one pair per index)"
    assert np.all(c != o), "a position was paired with itself: skip the offset 0"
    assert np.all(np.abs(c - o) <= w), "a context further than `window` from its center"
    expected = sum(min(w, i) + min(w, n - 1 - i) for i in range(n))
    assert len(c) == expected, f"{len(c)} pairs, expected {expected} (window {w} clipped at both ends)"
    assert len(set(zip(c.tolist(), o.tolist()))) == len(c), "a pair appears twice"
    same = as_array(impl.skipgram_pairs(np.array([5, 5, 5]), window=1)[1])
    assert same.tolist() == [5, 5, 5, 5], "the same word at two positions is a real pair ('the the'): only the position itself is skipped"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_pair_count_at_the_window_edges(impl):
    ids = np.arange(5)
    c, o = (as_array(a) for a in impl.skipgram_pairs(ids, window=10))
    assert len(c) == len(o) == 20, f"window 10 on 5 words: every word with the 4 others (20 pairs), got {len(c)}"
    c, o = (as_array(a) for a in impl.skipgram_pairs(ids, window=4))
    assert len(c) == len(o) == 20, f"window 4 on 5 words reaches from the first word to the last: 20 pairs, got {len(c)}"
    c, _ = (as_array(a) for a in impl.skipgram_pairs(ids, window=3))
    assert len(c) == 18, f"window 3 on 5 words: the first and the last word are not paired (18 pairs), got {len(c)}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_shrunk_window_follows_the_drawn_reach(impl):
    ids = np.random.default_rng(0).integers(0, 50, size=40)
    reach = np.random.default_rng(3).integers(1, 5 + 1, size=len(ids))
    c, o = impl.skipgram_pairs(ids, window=5, shrink=True, rng=3)
    ec, eo = pairs_by_hand(ids, reach)
    assert as_array(c).tolist() == ec and as_array(o).tolist() == eo, \
        "shrink=True: reach b_i = rng.integers(1, window + 1, size=n) drawn at once, pairs within b_i of position i"
    full = impl.skipgram_pairs(ids, window=5, shrink=False, rng=3)
    assert len(as_array(full[0])) > len(ec), "shrink=False uses the whole window"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_noise_distribution_is_unigram_to_the_three_quarters(impl):
    counts = np.array([81, 16, 1, 0])
    got = as_array(impl.noise_distribution(counts))
    expected = np.array([27, 8, 1, 0]) / 36                 # 81^0.75 = 27, 16^0.75 = 8
    assert_close(got, expected, rtol=1e-12, what="P_noise = count^0.75 / sum (default power 0.75)")
    assert_close(impl.noise_distribution(counts, power=1.0), counts / 98, rtol=1e-12,
                 what="power 1 is the unigram distribution")
    assert_close(impl.noise_distribution(counts, power=0.0), [1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-12,
                 what="power 0 is uniform over the words that occur (a word of count 0 is never a negative)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_sample_negatives_is_inverse_cdf_of_the_generator(impl):
    noise = np.array([0.5, 0.0, 0.3, 0.2])
    got = as_array(impl.sample_negatives(noise, (6, 4), rng=11))
    assert_shape(got, (6, 4), "sample_negatives(noise, (6, 4))")
    assert got.dtype == np.int64, f"negatives are int64 ids, got {got.dtype}"
    expected = inverse_cdf(noise, np.random.default_rng(11).random((6, 4)))
    assert got.tolist() == expected.tolist(), \
        "u = rng.random(shape), then id = the number of cumulative probabilities <= u (np.searchsorted side='right')"
    assert not np.any(got == 1), "a word of probability 0 was drawn"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_negatives_follow_the_noise_distribution(impl):
    counts = np.array([400, 100, 50, 10, 1])
    noise = as_array(impl.noise_distribution(counts))
    draws = as_array(impl.sample_negatives(noise, (40000,), rng=0))
    freq = np.bincount(draws, minlength=5) / len(draws)
    assert np.abs(freq - noise).max() < 0.01, f"frequencies {freq.round(3)} vs noise {noise.round(3)}"


# ----------------------------------------------------------------------------------------------------
# Task 4: the embedding lookup
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_embedding_forward_looks_up_rows(impl):
    weight = np.arange(12.0).reshape(4, 3)
    ids = np.array([[3, 0], [1, 3], [2, 2]])
    out, _ = impl.embedding_forward(ids, weight)
    assert_shape(out, (3, 2, 3), "embedding_forward of ids (3, 2) in a (4, 3) table")
    assert_close(out, weight[ids], rtol=0, atol=0, what="out[i, j] is the row weight[ids[i, j]]")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_embedding_backward_adds_repeated_ids(impl):
    weight = np.zeros((5, 2))
    ids = np.array([2, 2, 0, 2])
    dout = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]])
    _, cache = impl.embedding_forward(ids, weight)
    dweight = as_array(impl.embedding_backward(dout, cache))
    assert_shape(dweight, (5, 2), "dweight")
    assert_close(dweight[2], [7.0, 70.0], rtol=0, atol=0,
                 what="id 2 appears three times: dweight[2] = 1 + 2 + 4. dweight[ids] += dout keeps only one "
                      "of the three (buffered fancy indexing): use np.add.at")
    assert_close(dweight[[1, 3, 4]], np.zeros((3, 2)), rtol=0, atol=0, what="rows never looked up get no gradient")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_embedding_matches_pytorch(impl, golden):
    g = golden("embedding")
    out, cache = impl.embedding_forward(g["ids"], g["weight"])
    assert_close(out, g["out"], rtol=0, atol=0, what="forward vs torch.nn.functional.embedding")
    assert_close(impl.embedding_backward(g["dout"], cache), g["dweight"], rtol=1e-12, atol=1e-12,
                 what="dweight vs autograd (id 1 appears three times)")


@pytest.mark.gradient
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_embedding_gradient_check(impl):
    rng = np.random.default_rng(0)
    weight = rng.standard_normal((6, 4))
    ids = np.array([[0, 5, 5], [3, 0, 5]])
    report = check_layer(lambda w: impl.embedding_forward(ids, w),
                         lambda dout, cache: (impl.embedding_backward(dout, cache),), weight)
    assert report.passed, f"embedding backward vs finite differences:\n{report}"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_embedding_layer_init_and_accumulates(impl):
    layer = impl.Embedding(2000, 8, rng=0)
    w = as_array(layer.weight.data)
    assert_shape(w, (2000, 8), "Embedding(2000, 8).weight.data")
    assert w.dtype == np.float32, f"the default dtype is float32, got {w.dtype}"
    assert abs(w.mean()) < 0.03 and abs(w.std() - 1) < 0.03, \
        f"weights mean {w.mean():.3f}, std {w.std():.3f}: torch.nn.Embedding draws from N(0, 1)"
    assert len(layer.parameters()) == 1 and layer.parameters()[0] is layer.weight, "parameters() is [weight]"
    small = impl.Embedding(5, 3, rng=1, dtype=np.float64)
    assert as_array(small.weight.data).dtype == np.float64, "dtype=np.float64 must give a float64 table"
    ids = np.array([4, 1, 4])
    out = small.forward(ids)
    assert_close(out, as_array(small.weight.data)[ids], rtol=0, atol=0, what="Embedding.forward")
    dout = np.arange(9.0).reshape(3, 3)
    small.backward(dout)
    small.backward(dout)
    expected = np.zeros((5, 3))
    np.add.at(expected, ids, dout)
    assert_close(small.weight.grad, 2 * expected, rtol=1e-12, atol=0,
                 what="two backward calls ADD twice into weight.grad (repeated ids summed)")


# ----------------------------------------------------------------------------------------------------
# Task 5: the loss
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_sgns_loss_hand_worked(impl):
    # math-refresh.md, section 4: s_pos = u_o . v_c = 2, s_neg = [0, -1]
    v_c = np.array([[1.0, 0.0]])
    u_o = np.array([[2.0, 0.0]])
    u_neg = np.array([[[0.0, 1.0], [-1.0, 0.0]]])
    loss, _ = impl.sgns_loss(v_c, u_o, u_neg)
    expected = math.log(1 + math.exp(-2)) + math.log(2) + math.log(1 + math.exp(-1))
    assert abs(float(loss) - expected) < 1e-12, \
        f"loss {float(loss):.6f}, expected -log sigmoid(2) - log sigmoid(-0) - log sigmoid(1) = {expected:.6f}: " \
        "the negatives enter with the sign flipped, sigmoid(-u_k . v_c)"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_sgns_loss_matches_pytorch(impl, golden):
    g = golden("sgns_loss")
    loss, cache = impl.sgns_loss(g["v_c"], g["u_o"], g["u_neg"])
    assert abs(float(loss) - float(g["loss"])) < 1e-10, f"loss {float(loss)} vs PyTorch's {float(g['loss'])}"
    for name, got in zip(("dv_c", "du_o", "du_neg"), impl.sgns_loss_backward(1.0, cache)):
        assert_close(got, g[name], rtol=1e-10, atol=1e-12, what=f"{name} vs autograd")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_sgns_loss_gradient_check(impl):
    rng = np.random.default_rng(1)
    v_c, u_o, u_neg = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 5, 3))
    _, cache = impl.sgns_loss(v_c, u_o, u_neg)
    grads = impl.sgns_loss_backward(1.0, cache)
    for name, x, g in zip(("dv_c", "du_o", "du_neg"), (v_c, u_o, u_neg), grads):
        numeric = numerical_gradient(lambda: impl.sgns_loss(v_c, u_o, u_neg)[0], x)
        err = relative_error(as_array(g), numeric)
        assert err < 1e-5, f"{name}: relative error {err:.2e} against finite differences"
    _, cache = impl.sgns_loss(v_c, u_o, u_neg)
    half = impl.sgns_loss_backward(0.5, cache)
    assert_close(half[0], 0.5 * as_array(grads[0]), rtol=1e-12, what="the gradients scale with dloss")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_sgns_loss_is_stable_for_large_scores(impl, golden):
    g = golden("sgns_large_scores")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        loss, cache = impl.sgns_loss(g["v_c"], g["u_o"], g["u_neg"])
        grads = impl.sgns_loss_backward(1.0, cache)
    assert np.isfinite(float(loss)) and abs(float(loss) - float(g["loss"])) < 1e-6 * float(g["loss"]), \
        f"scores of +-8000: loss {float(loss)}, expected {float(g['loss'])}; log(sigmoid(s)) must be computed as " \
        "-log(1 + exp(-s)) without overflow (np.logaddexp(0, -s))"
    for name, got in zip(("dv_c", "du_o", "du_neg"), grads):
        assert_close(got, g[name], rtol=1e-10, atol=1e-12, what=f"{name} at saturated scores")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_loss_is_a_sum_over_the_batch(impl):
    rng = np.random.default_rng(2)
    v_c, u_o, u_neg = rng.standard_normal((5, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 2, 4))
    loss, _ = impl.sgns_loss(v_c, u_o, u_neg)
    assert abs(float(loss) - sgns_loss_by_hand(v_c, u_o, u_neg)) < 1e-10, \
        "the loss of a batch is the SUM of the per-pair losses (not the mean): one SGD step on the batch " \
        "moves like one step per pair"


# ----------------------------------------------------------------------------------------------------
# Task 6: the two matrices, SGD, training
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_sgns_gradients_match_pytorch(impl, golden):
    g = golden("sgns_gradients")
    loss, dW_in, dW_out = impl.sgns_gradients(g["W_in"], g["W_out"], g["centers"], g["contexts"], g["negatives"])
    assert abs(float(loss) - float(g["loss"])) < 1e-10, "loss vs PyTorch"
    assert_close(dW_in, g["dW_in"], rtol=1e-10, atol=1e-12, what="dW_in vs autograd (centers repeat)")
    assert_close(dW_out, g["dW_out"], rtol=1e-10, atol=1e-12,
                 what="dW_out vs autograd: W_out gets the gradients of the contexts AND of the negatives")


@pytest.mark.gradient
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_sgns_gradients_gradient_check(impl):
    rng = np.random.default_rng(3)
    V, D = 6, 3
    params = {"W_in": rng.standard_normal((V, D)), "W_out": rng.standard_normal((V, D))}
    centers, contexts = np.array([0, 0, 3, 5, 0]), np.array([3, 1, 0, 0, 3])
    negatives = np.array([[1, 1], [5, 0], [3, 2], [0, 0], [4, 1]])   # a word as context and negative, repeats
    _, dW_in, dW_out = impl.sgns_gradients(params["W_in"], params["W_out"], centers, contexts, negatives)
    report = check_model(lambda: impl.sgns_gradients(params["W_in"], params["W_out"], centers, contexts,
                                                     negatives)[0],
                         params, {"W_in": as_array(dW_in), "W_out": as_array(dW_out)})
    assert report.passed, f"dW_in / dW_out vs finite differences:\n{report}"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_sgd_step_matches_pytorch(impl, golden):
    g = golden("sgns_gradients")
    W_in, W_out = g["W_in"].copy(), g["W_out"].copy()
    loss = impl.sgd_step(W_in, W_out, g["centers"], g["contexts"], g["negatives"], float(g["lr"]))
    assert abs(float(loss) - float(g["step_loss"])) < 1e-10, "sgd_step returns the loss BEFORE the update"
    assert_close(W_in, g["W_in_after"], rtol=1e-10, atol=1e-12,
                 what="W_in after one step vs torch.optim.SGD on nn.Embedding(sparse=True)")
    assert_close(W_out, g["W_out_after"], rtol=1e-10, atol=1e-12, what="W_out after one step vs torch.optim.SGD")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_sgd_step_equals_the_dense_update_and_touches_only_used_rows(impl):
    rng = np.random.default_rng(4)
    V, D = 12, 4
    W_in, W_out = rng.standard_normal((V, D)), rng.standard_normal((V, D))
    centers, contexts = np.array([1, 1, 4, 7]), np.array([4, 2, 1, 4])
    negatives = np.array([[9, 9], [2, 0], [4, 9], [0, 2]])
    _, dW_in, dW_out = impl.sgns_gradients(W_in, W_out, centers, contexts, negatives)
    new_in, new_out = W_in.copy(), W_out.copy()
    impl.sgd_step(new_in, new_out, centers, contexts, negatives, 0.7)
    assert_close(new_in, W_in - 0.7 * as_array(dW_in), rtol=1e-12, atol=1e-12,
                 what="W_in after sgd_step(lr=0.7): W_in - lr * dW_in, computed at the weights BEFORE the step")
    assert_close(new_out, W_out - 0.7 * as_array(dW_out), rtol=1e-12, atol=1e-12,
                 what="W_out after sgd_step(lr=0.7): W_out - lr * dW_out, from the OLD center vectors")
    untouched_in = np.setdiff1d(np.arange(V), centers)
    untouched_out = np.setdiff1d(np.arange(V), np.concatenate([contexts, negatives.ravel()]))
    assert np.array_equal(new_in[untouched_in], W_in[untouched_in]), "rows of W_in that are no center changed"
    assert np.array_equal(new_out[untouched_out], W_out[untouched_out]), "rows of W_out never used changed"
    same_in, same_out = W_in.copy(), W_out.copy()
    impl.sgd_step(same_in, same_out, centers, contexts, negatives, 0.0)
    assert np.array_equal(same_in, W_in) and np.array_equal(same_out, W_out), "lr = 0 must change nothing"


def train_by_hand(impl, W_in, W_out, centers, contexts, noise, K, lr, batch_size, epochs, seed):
    """The documented order of the draws, with the implementation's own sgd_step."""
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        order = rng.permutation(len(centers))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            negatives = inverse_cdf(noise, rng.random((len(batch), K)))
            losses.append(float(impl.sgd_step(W_in, W_out, centers[batch], contexts[batch], negatives, lr)) / len(batch))
    return losses


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(6)
def test_train_skipgram_follows_the_documented_draws(impl):
    rng = np.random.default_rng(5)
    V, D = 9, 3
    W_in, W_out = rng.standard_normal((V, D)) * 0.3, rng.standard_normal((V, D)) * 0.3
    ids = rng.integers(0, V, size=25)
    centers, contexts = (as_array(a) for a in impl.skipgram_pairs(ids, window=2))
    noise = np.full(V, 1 / V)
    a_in, a_out = W_in.copy(), W_out.copy()
    losses = impl.train_skipgram(a_in, a_out, centers, contexts, noise, num_negatives=2, lr=0.2, batch_size=7,
                                 epochs=2, rng=9)
    b_in, b_out = W_in.copy(), W_out.copy()
    expected = train_by_hand(impl, b_in, b_out, centers, contexts, noise, 2, 0.2, 7, 2, 9)
    assert len(losses) == 2 * math.ceil(len(centers) / 7), \
        f"{len(losses)} losses: one per batch of 7 pairs (the last one smaller), for each of the 2 epochs"
    assert_close(losses, expected, rtol=1e-10, atol=1e-12,
                 what="losses per pair: each epoch rng.permutation(P), then per batch sample_negatives(noise, (b, K), rng) "
                      "and sgd_step; the loss is divided by the batch's size")
    assert_close(a_in, b_in, rtol=1e-10, atol=1e-12, what="W_in after train_skipgram")
    assert_close(a_out, b_out, rtol=1e-10, atol=1e-12, what="W_out after train_skipgram")
    one_in, one_out = W_in.copy(), W_out.copy()
    per_pair = impl.train_skipgram(one_in, one_out, centers, contexts, noise, num_negatives=1, lr=0.1, batch_size=1,
                                   rng=4)
    expected = train_by_hand(impl, W_in.copy(), W_out.copy(), centers, contexts, noise, 1, 0.1, 1, 1, 4)
    assert len(per_pair) == len(centers), "batch_size=1 (word2vec's own setting): one SGD step per pair"
    assert_close(per_pair, expected, rtol=1e-10, atol=1e-12, what="losses of batch_size=1, num_negatives=1")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(6)
def test_train_skipgram_defaults(impl):
    rng = np.random.default_rng(6)
    V, D = 20, 4
    W_in, W_out = rng.standard_normal((V, D)) * 0.1, np.zeros((V, D))
    centers, contexts = (as_array(a) for a in impl.skipgram_pairs(rng.integers(0, V, size=300), window=2))
    noise = np.full(V, 1 / V)
    a_in, a_out, b_in, b_out = W_in.copy(), W_out.copy(), W_in.copy(), W_out.copy()
    got = impl.train_skipgram(a_in, a_out, centers, contexts, noise, rng=1)
    expected = train_by_hand(impl, b_in, b_out, centers, contexts, noise, 5, 0.025, 512, 1, 1)
    assert len(got) == len(expected) == math.ceil(len(centers) / 512), "one epoch of batches of 512 by default"
    assert_close(got, expected, rtol=1e-10, what="defaults num_negatives=5, lr=0.025, batch_size=512, epochs=1")
    assert_close(a_in, b_in, rtol=1e-10, atol=1e-12, what="W_in with the default arguments")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(6)
def test_training_pulls_cooccurring_words_together(impl):
    # two separate "topics": words 0-4 only ever appear near each other, and words 5-9 too
    rng = np.random.default_rng(7)
    ids = np.concatenate([rng.integers(0, 5, size=20) if k % 2 == 0 else rng.integers(5, 10, size=20)
                          for k in range(60)])
    centers, contexts = (as_array(a) for a in impl.skipgram_pairs(ids, window=2))
    W_in = (rng.random((10, 8)) - 0.5) / 8
    W_out = np.zeros((10, 8))
    noise = as_array(impl.noise_distribution(np.bincount(ids, minlength=10)))
    losses = impl.train_skipgram(W_in, W_out, centers, contexts, noise, num_negatives=3, lr=0.05, batch_size=64,
                                 epochs=8, rng=0)
    first, last = np.mean(losses[:5]), np.mean(losses[-5:])
    assert last < first - 0.5, f"loss per pair {first:.3f} -> {last:.3f}: training must lower it"
    sims = as_array(impl.cosine_similarity(W_in, W_in[0]))
    assert sims[1:5].min() > sims[5:].max(), \
        f"after training word 0 must be closer to words 1-4 than to 5-9, similarities {sims.round(2)}"


# ----------------------------------------------------------------------------------------------------
# Task 7: similarity and queries
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_cosine_similarity_values(impl):
    W = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    with np.errstate(all="raise"):   # the zero row must not go through 0 / 0 (a warning, then a NaN to hide)
        got = as_array(impl.cosine_similarity(W, np.array([2.0, 0.0])))
    assert_close(got, [1.0, 0.0, -1.0, 1 / math.sqrt(2), 0.0], rtol=1e-12, atol=1e-15,
                 what="cos(W[i], v): divided by BOTH norms; a zero row has similarity 0 (not NaN)")
    small = as_array(impl.cosine_similarity(W * 0.01, np.array([0.02, 0.0])))
    assert_close(small, got, rtol=1e-12, atol=1e-15,
                 what="vectors 100 times shorter (norms below 1): the cosine does not depend on the lengths")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_similarity_matches_pytorch(impl, golden):
    g = golden("similarity")
    assert_close(impl.cosine_similarity(g["W"], g["v"]), g["sims"], rtol=1e-10, atol=1e-12,
                 what="vs torch.nn.functional.cosine_similarity")
    ids, sims = impl.nearest_neighbors(g["W"], g["v"], k=4, exclude=[2])
    assert as_array(ids).tolist() == g["nn_ids"].tolist(), "nearest_neighbors(k=4, exclude=[2]) ids"
    assert_close(sims, g["nn_sims"], rtol=1e-10, atol=1e-12, what="nearest_neighbors similarities")
    ids, sims = impl.analogy(g["W"], 0, 1, 3, k=3)
    assert as_array(ids).tolist() == g["analogy_ids"].tolist(), "analogy(0, 1, 3, k=3) ids"
    assert_close(sims, g["analogy_sims"], rtol=1e-10, atol=1e-12, what="analogy similarities")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_nearest_neighbors_order_ties_and_exclude(impl):
    W = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.1], [3.0, 0.0], [1.0, 1.0], [-1.0, 0.0]])
    ids, sims = impl.nearest_neighbors(W, np.array([1.0, 0.0]), k=3)
    assert as_array(ids).tolist() == [0, 3, 2], \
        f"got {as_array(ids).tolist()}: best first, and rows 0 and 3 tie at 1.0 (the smaller id first)"
    assert as_array(ids).dtype == np.int64
    assert_close(sims, [1.0, 1.0, 2 / math.sqrt(4.01)], rtol=1e-12, what="the similarities of the neighbours")
    ids, _ = impl.nearest_neighbors(W, W[0], exclude=[0, 3])          # default k = 5
    assert as_array(ids).tolist() == [2, 4, 1, 5], "exclude=[0, 3] skips them; k=5 by default (4 left here)"
    angles = np.linspace(0, 3, 9)
    fan = np.stack([np.cos(angles), np.sin(angles)], axis=1)       # 9 directions, further and further from row 0
    ids, _ = impl.nearest_neighbors(fan, fan[0])
    assert as_array(ids).tolist() == [0, 1, 2, 3, 4], "k = 5 by default: the five closest of 9 rows"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_analogy_excludes_the_query_words_and_uses_unit_vectors(impl):
    # king - man + woman: with unit vectors the target is exactly "queen"; rows scaled so that raw
    # vectors would point elsewhere
    king, man, woman = np.array([1.0, 1.0, 0.0]), np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    target = king / math.sqrt(2) - man + woman
    W = np.stack([50 * king, 9 * man, 0.1 * woman, 3 * target, np.array([1.0, 0.1, 0.0])])
    ids, sims = impl.analogy(W, 0, 1, 2, k=2)
    assert as_array(ids)[0] == 3, \
        f"got {as_array(ids).tolist()}: a - b + c of the UNIT vectors of W[a], W[b], W[c] points at row 3"
    assert 0 not in as_array(ids).tolist() and 1 not in as_array(ids).tolist() and 2 not in as_array(ids).tolist(), \
        "the query words a, b, c are never answers"
    assert abs(float(as_array(sims)[0]) - 1) < 1e-12
    ids, _ = impl.analogy(W, 0, 1, 1)         # b = c: the target is W[a] itself, which is excluded
    assert as_array(ids).tolist() == [4], "analogy(a, b, b) must not answer a (excluded); default k = 1"
