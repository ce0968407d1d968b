"""Topic 23 basic tests: the data, padding and the masked loss, the encoder-decoder against PyTorch, teacher
forcing, gradients, greedy and beam-search decoding, corpus BLEU."""

import numpy as np
import pytest
from dlfs.components import load_topic
from dlfs.gradient_check import check_model, numerical_gradient, relative_error
from dlfs.testing import as_array, assert_close, assert_shape

PAD, SOS, EOS, UNK = 0, 1, 2, 3
NAMES = ("enc_embed", "enc_weight_ih", "enc_weight_hh", "enc_bias_ih", "enc_bias_hh",
         "dec_embed", "dec_weight_ih", "dec_weight_hh", "dec_bias_ih", "dec_bias_hh", "out_weight", "out_bias")
GOLDEN = ("seq2seq_small", "seq2seq_long")
TF_SEED = {"seq2seq_small": 10, "seq2seq_long": 11}   # the rng seed level 4 used for each file's loss
RATIOS = {"forced": 1.0, "half": 0.5, "free": 0.0}


def model_from(impl, g, dtype=np.float64):
    Vs, E = g["w_enc_embed"].shape
    Vt, H = g["w_out_weight"].shape
    model = impl.Seq2Seq(Vs, Vt, E, H, rng=0, dtype=dtype)
    model.load_state_dict({n: g["w_" + n].astype(dtype) for n in NAMES})
    return model


def grads_of(model):
    return {n: as_array(p.grad) for n, p in zip(NAMES, model.parameters())}


def zero_grads(model):
    for p in model.parameters():
        p.grad[...] = 0


def small_batch():
    src = np.array([[4, 5, 6, 2, 0], [5, 2, 0, 0, 0], [6, 6, 4, 5, 2]])
    tgt = np.array([[3, 4, 2, 0, 0], [5, 6, 7, 8, 2], [4, 2, 0, 0, 0]])
    return src, tgt


def ragged(a):
    return [[int(v) for v in row if v >= 0] for row in np.asarray(a)]


# ----------------------------------------------------------------------------------------------------
# Task 1: tokens, vocabularies, the filter and the split
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_tokenize_lowercases_and_splits_punctuation(impl):
    assert list(impl.tokenize("I'm OK.")) == ["i'm", "ok", "."], "words lowercased, the full stop its own token"
    assert list(impl.tokenize("Cours\u202f!")) == ["cours", "!"], "U+202F (French thin space) is a space"
    assert list(impl.tokenize("J'ai 19 ans, d'accord ?")) == ["j'ai", "19", "ans", ",", "d'accord", "?"]
    assert list(impl.tokenize("Ça va ?")) == ["ça", "va", "?"], "accented letters are letters"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_vocab_reserves_the_four_special_ids(impl):
    vocab = impl.Vocab([["b", "a", "c"], ["a", "c", "a"], ["d"]])
    assert list(vocab.words[:4]) == ["<pad>", "<sos>", "<eos>", "<unk>"], "ids 0-3: <pad>, <sos>, <eos>, <unk>"
    assert list(vocab.words[4:]) == ["a", "c", "b", "d"], "then by count (a 3, c 2), ties alphabetically (b, d)"
    assert len(vocab) == 8 and vocab.index["c"] == 5
    ids = as_array(vocab.encode(["c", "zzz", "a"]))
    assert ids.dtype == np.int64 and ids.tolist() == [5, UNK, 4, EOS], "unknown words -> <unk>, then <eos> appended"
    assert list(vocab.decode([SOS, 5, PAD, 4, EOS, 6])) == ["c", "a"], "decode skips <pad>/<sos>, stops at <eos>"
    rare = impl.Vocab([["b", "a", "c"], ["a", "c", "a"], ["d"]], min_count=2)
    assert list(rare.words) == ["<pad>", "<sos>", "<eos>", "<unk>", "a", "c"], "min_count=2 drops b and d"
    assert as_array(rare.encode(["b"])).tolist() == [UNK, EOS]


PAIRS = [("I am cold.", "J'ai froid."),                                        # kept
         ("I'm OK.", "Ça va."),                                               # kept ("i'm" is a prefix)
         ("Hello.", "Salut."),                                                # no prefix
         ("I amaze you.", "Je t'étonne."),                                    # "i amaze" is not "i am "
         ("He is a very very very very very tall man.", "Il est grand."),      # 11 English tokens
         ("She is tall.", "Elle est très très très très très très très grande."),  # 11 French tokens
         ("They're ten of them here now and I'm sure.", "Ils sont dix.")]     # exactly 10 tokens: kept


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_filter_keeps_short_pairs_with_an_english_prefix(impl):
    kept = [(list(e), list(f)) for e, f in impl.filter_pairs(PAIRS)]
    assert kept == [(["i", "am", "cold", "."], ["j'ai", "froid", "."]), (["i'm", "ok", "."], ["ça", "va", "."]),
                    (impl.tokenize(PAIRS[6][0]), impl.tokenize(PAIRS[6][1]))], (
        "kept: 1 to max_len (10) tokens on BOTH sides and an English prefix followed by a space; "
        f"got {[' '.join(e) for e, _ in kept]}")
    everything = impl.filter_pairs(PAIRS, max_len=20, prefixes=None)
    assert len(everything) == len(PAIRS), "prefixes=None keeps every pair that is short enough"
    short = impl.filter_pairs(PAIRS, max_len=4, prefixes=())
    assert [" ".join(e) for e, _ in short] == ["i am cold .", "i'm ok .", "hello .", "i amaze you ."], (
        "max_len=4 and prefixes=(): every pair of at most 4 tokens on both sides")


def split_by_hand(pairs, held_out, seed):
    english = list(dict.fromkeys(tuple(e) for e, _ in pairs))
    order = np.random.default_rng(seed).permutation(len(english))
    test_en = {english[i] for i in order[:round(held_out * len(english))]}
    train = [p for p in pairs if tuple(p[0]) not in test_en]
    train_fr = {tuple(f) for _, f in train}
    return train, [p for p in pairs if tuple(p[0]) in test_en and tuple(p[1]) not in train_fr]


def toy_pairs():
    rng = np.random.default_rng(4)
    pairs = []
    for i in range(40):
        for k in range(1 + i % 3):                  # up to three translations of one English sentence
            pairs.append(([f"e{i}", "."], [f"f{int(rng.integers(0, 45))}", "."]))   # French sentences repeat
    return pairs


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_split_holds_out_whole_english_sentences_and_shares_no_sentence(impl):
    pairs = toy_pairs()
    for held_out, seed in ((0.25, 0), (0.5, 3)):
        train, test = impl.split_pairs(pairs, held_out=held_out, seed=seed)
        train = [(list(e), list(f)) for e, f in train]
        test = [(list(e), list(f)) for e, f in test]
        tr, te = split_by_hand(pairs, held_out, seed)
        assert train == tr, "training pairs: every pair whose English sentence is not held out, in order"
        assert test == te, ("held-out pairs: the pairs of the first round(held_out * n) English sentences of "
                            "np.random.default_rng(seed).permutation(n), minus those whose French is in training")
        assert not {tuple(e) for e, _ in train} & {tuple(e) for e, _ in test}, "an English sentence on both sides"
        assert not {tuple(f) for _, f in train} & {tuple(f) for _, f in test}, "a French sentence on both sides"
        assert len(test) > 0


# ----------------------------------------------------------------------------------------------------
# Task 2: padding and the mask
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_pad_batch_pads_on_the_right_and_masks(impl):
    ids, mask = impl.pad_batch([np.array([4, 5, 2]), [7, 2], [9, 8, 6, 2]])
    assert_shape(ids, (3, 4), "pad_batch ids")
    assert as_array(ids).dtype == np.int64 and as_array(mask).dtype == np.bool_
    assert as_array(ids).tolist() == [[4, 5, 2, 0], [7, 2, 0, 0], [9, 8, 6, 2]], "right-padded with <pad> = 0"
    assert as_array(mask).tolist() == [[1, 1, 1, 0], [1, 1, 0, 0], [1, 1, 1, 1]], "mask True on real tokens"
    ids, mask = impl.pad_batch([[1, 2], [3]], pad_id=9)
    assert as_array(ids).tolist() == [[1, 2], [3, 9]] and as_array(mask).tolist() == [[1, 1], [1, 0]], "pad_id=9"


# ----------------------------------------------------------------------------------------------------
# Task 3: the masked cross-entropy
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_masked_cross_entropy_matches_pytorch(impl, golden):
    g = golden("masked_ce")
    loss, cache = impl.masked_cross_entropy(g["logits"], g["targets"], g["mask"])
    assert isinstance(loss, float), f"the loss is a Python float, got {type(loss).__name__}"
    assert_close(loss, g["loss"], rtol=1e-10, what="masked cross-entropy (torch: sum over real tokens / their count)")
    assert_close(impl.masked_cross_entropy_backward(1.0, cache), g["dlogits"], rtol=1e-9, atol=1e-12,
                 what="dlogits")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_mean_is_over_real_tokens_not_over_all_positions(impl):
    # uniform logits: every real token costs log V; 3 real positions of 6
    V = 5
    logits = np.zeros((2, 3, V))
    mask = np.array([[True, True, False], [True, False, False]])
    loss, cache = impl.masked_cross_entropy(logits, np.array([[1, 2, 0], [4, 0, 0]]), mask)
    assert_close(loss, np.log(V), rtol=1e-12, what="uniform logits: loss = log V (divided by 3 real tokens, "
                 "not by the 6 positions)")
    dlogits = as_array(impl.masked_cross_entropy_backward(2.0, cache))
    expected = np.zeros((2, 3, V))
    expected[mask] = 1 / V
    expected[0, 0, 1] -= 1
    expected[0, 1, 2] -= 1
    expected[1, 0, 4] -= 1
    assert_close(dlogits, 2.0 * expected / 3, rtol=1e-12, what="dlogits = dloss * (softmax - one_hot) / n_real")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_padding_never_changes_the_loss_of_real_tokens(impl):
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((3, 5, 7))
    targets = rng.integers(0, 7, (3, 5))
    mask = np.arange(5)[None, :] < np.array([[5], [2], [3]])
    loss, cache = impl.masked_cross_entropy(logits, targets, mask)
    other = logits.copy()
    other[~mask] = rng.standard_normal((int((~mask).sum()), 7)) * 50   # anything at the padded positions
    other_targets = np.where(mask, targets, rng.integers(0, 7, (3, 5)))
    loss2, cache2 = impl.masked_cross_entropy(other, other_targets, mask)
    assert_close(loss2, loss, rtol=1e-12, what="the loss after changing only padded positions")
    d = as_array(impl.masked_cross_entropy_backward(1.0, cache2))
    assert np.all(d[~mask] == 0), "padded positions must get exactly zero gradient"
    assert_close(d[mask], as_array(impl.masked_cross_entropy_backward(1.0, cache))[mask], rtol=1e-12,
                 what="dlogits of the real positions")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_masked_cross_entropy_gradient_check(impl):
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((2, 4, 6))
    targets = rng.integers(0, 6, (2, 4))
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=bool)
    _, cache = impl.masked_cross_entropy(logits, targets, mask)
    analytic = as_array(impl.masked_cross_entropy_backward(0.7, cache))
    numeric = numerical_gradient(lambda: 0.7 * impl.masked_cross_entropy(logits, targets, mask)[0], logits)
    err = relative_error(analytic, numeric)
    assert err < 1e-7, f"dlogits vs finite differences: relative error {err:.2e}"


# ----------------------------------------------------------------------------------------------------
# Task 4: the model and its encoder
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_model_parameters_state_dict_and_initialisation(impl):
    model = impl.Seq2Seq(9, 11, 4, 5, rng=0)
    shapes = [(9, 4), (15, 4), (15, 5), (15,), (15,), (11, 4), (15, 4), (15, 5), (15,), (15,), (11, 5), (11,)]
    got = [tuple(as_array(p.data).shape) for p in model.parameters()]
    assert got == shapes, f"parameters() in the order of questions.md: expected shapes {shapes}, got {got}"
    assert all(as_array(p.data).dtype == np.float32 for p in model.parameters()), "dtype=float32 by default"
    state = model.state_dict()
    assert list(state) == list(NAMES) or set(state) == set(NAMES), f"state_dict keys {sorted(state)}"
    # the documented draw order: Embedding, GRU, Embedding, GRU (Topics 22 and 20), then out_weight, out_bias
    rng = np.random.default_rng(0)
    emb, gru = load_topic(22, level=2), load_topic(20, level=2)
    layers = [emb.Embedding(9, 4, rng=rng), gru.GRU(4, 5, rng=rng), emb.Embedding(11, 4, rng=rng), gru.GRU(4, 5, rng=rng)]
    bound = 1 / np.sqrt(5)
    expected = [p.data for layer in layers for p in layer.parameters()]
    expected += [rng.uniform(-bound, bound, (11, 5)).astype(np.float32), rng.uniform(-bound, bound, 11).astype(np.float32)]
    for name, e in zip(NAMES, expected):
        assert_close(state[name], e, rtol=0, atol=0, what=f"initial {name} (draw order: enc_embed, encoder GRU, "
                     "dec_embed, decoder GRU, out_weight, out_bias from ONE Generator)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
@pytest.mark.parametrize("name", GOLDEN)
def test_encoder_context_matches_pytorch(impl, golden, name):
    g = golden(name)
    context = model_from(impl, g).encode(g["src"])
    assert_close(context, g["context"], rtol=1e-9, atol=1e-12,
                 what="the context (encoder state after each sentence's last real token)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_context_is_the_state_after_the_last_real_token(impl):
    model = impl.Seq2Seq(9, 11, 4, 5, rng=3, dtype=np.float64)
    src = np.array([[4, 5, 6, 2, 0, 0], [7, 8, 2, 0, 0, 0]])
    context = as_array(model.encode(src))
    for b, n in enumerate((4, 3)):
        alone = as_array(model.encode(src[b:b + 1, :n]))
        assert_close(context[b], alone[0], rtol=1e-12, atol=1e-14,
                     what=f"sentence {b} padded to 6 vs alone: the pads after it must not reach its context")
    gru, emb = load_topic(20, level=2), load_topic(22, level=2)
    sd = model.state_dict()
    x, _ = emb.embedding_forward(src[1:, :3], sd["enc_embed"])
    hs, _ = gru.gru_forward(x, np.zeros((1, 5)), sd["enc_weight_ih"], sd["enc_weight_hh"], sd["enc_bias_ih"],
                            sd["enc_bias_hh"])
    assert_close(context[1], hs[0, -1], rtol=1e-12, what="context = GRU(Embedding(src)) state at the last real token")


# ----------------------------------------------------------------------------------------------------
# Task 5: one decoder step
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
@pytest.mark.parametrize("name", GOLDEN)
def test_decoder_step_matches_pytorch(impl, golden, name):
    g = golden(name)
    logits, h_new = model_from(impl, g).decoder_step(g["step_ids"], g["step_h"])
    assert_close(h_new, g["step_h_new"], rtol=1e-9, atol=1e-12, what="decoder_step h_new (GRU on the embedding)")
    assert_close(logits, g["step_logits"], rtol=1e-9, atol=1e-12, what="decoder_step logits = h_new @ W.T + b")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_decoder_step_is_embedding_then_gru_then_linear(impl):
    model = impl.Seq2Seq(6, 8, 3, 4, rng=1, dtype=np.float64)
    sd = model.state_dict()
    ids, h = np.array([1, 5, 5]), np.random.default_rng(0).standard_normal((3, 4))
    logits, h_new = model.decoder_step(ids, h)
    gru = load_topic(20, level=2)
    expected_h, _ = gru.gru_step_forward(sd["dec_embed"][ids], h, sd["dec_weight_ih"], sd["dec_weight_hh"],
                                         sd["dec_bias_ih"], sd["dec_bias_hh"])
    assert_close(h_new, expected_h, rtol=1e-12, what="h_new = GRU step(dec_embed[ids], h) (the DECODER's weights)")
    assert_close(logits, expected_h @ sd["out_weight"].T + sd["out_bias"], rtol=1e-12, what="logits")


# ----------------------------------------------------------------------------------------------------
# Task 6: the loss with teacher forcing and its gradients
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
@pytest.mark.parametrize("ratio", list(RATIOS))
@pytest.mark.parametrize("name", GOLDEN)
def test_loss_and_gradients_match_pytorch(impl, golden, name, ratio):
    g = golden(name)
    model = model_from(impl, g)
    loss = model.loss(g["src"], g["tgt"], teacher_forcing=RATIOS[ratio], rng=TF_SEED[name])
    assert isinstance(loss, float), f"loss() returns a Python float, got {type(loss).__name__}"
    assert list(model.teacher_forced) == g[f"steps_{ratio}"].tolist(), (
        f"teacher_forced flags of steps 1..T-1 at ratio {RATIOS[ratio]}: one rng.random() per step t >= 1, "
        "u < ratio feeds the target")
    assert_close(loss, g[f"loss_{ratio}"], rtol=1e-10, what=f"loss at teacher-forcing ratio {RATIOS[ratio]}")
    model.backward()
    for n, grad in grads_of(model).items():
        assert_close(grad, g[f"g_{ratio}_{n}"], rtol=1e-8, atol=1e-11, what=f"gradient of {n} (ratio {RATIOS[ratio]})")


def loss_by_hand(model, src, tgt, feed):
    """The loss with the decoder fed by feed(t, targets, previous logits); uses only encode and decoder_step."""
    h = as_array(model.encode(src))
    ids, total, logits_prev = np.full(len(tgt), SOS), 0.0, None
    for t in range(tgt.shape[1]):
        if t > 0:
            ids = feed(t, tgt, logits_prev)
        logits, h = model.decoder_step(ids, h)
        logits_prev = as_array(logits)
        m = logits_prev.max(axis=1, keepdims=True)
        logp = logits_prev - m - np.log(np.exp(logits_prev - m).sum(axis=1, keepdims=True))
        real = tgt[:, t] != PAD
        total -= logp[np.arange(len(tgt)), tgt[:, t]][real].sum()
    return total / (tgt != PAD).sum()


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_teacher_forcing_ratio_one_zero_and_a_half(impl):
    src, tgt = small_batch()
    model = impl.Seq2Seq(9, 11, 4, 6, rng=5, dtype=np.float64)
    for p in model.parameters():
        p.data *= 3.0   # sharper predictions: feeding them or the targets gives clearly different losses
    teacher = loss_by_hand(model, src, tgt, lambda t, y, _: y[:, t - 1])
    own = loss_by_hand(model, src, tgt, lambda t, y, logits: logits.argmax(axis=1))
    assert_close(model.loss(src, tgt, teacher_forcing=1.0, rng=0), teacher, rtol=1e-12,
                 what="ratio 1: the decoder always reads the previous TARGET token")
    assert list(model.teacher_forced) == [True] * 4
    assert_close(model.loss(src, tgt, teacher_forcing=0.0, rng=0), own, rtol=1e-12,
                 what="ratio 0: the decoder always reads its own previous prediction (argmax)")
    assert list(model.teacher_forced) == [False] * 4
    assert abs(teacher - own) > 1e-3, "this case must tell the two apart"
    for seed in (0, 1, 2, 7):
        draws = np.random.default_rng(seed).random(4) < 0.5       # steps 1..4 of T = 5
        mixed = loss_by_hand(model, src, tgt,
                             lambda t, y, logits, d=draws: y[:, t - 1] if d[t - 1] else logits.argmax(axis=1))
        assert_close(model.loss(src, tgt, teacher_forcing=0.5, rng=seed), mixed, rtol=1e-12,
                     what=f"ratio 0.5, seed {seed}: step t >= 1 is teacher-forced when rng.random() < 0.5")
        assert list(model.teacher_forced) == draws.tolist()


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(6)
@pytest.mark.parametrize("ratio,seed", [(1.0, 0), (0.5, 4)])
def test_gradient_check_through_decoder_and_encoder(impl, ratio, seed):
    src, tgt = small_batch()
    model = impl.Seq2Seq(9, 11, 4, 5, rng=seed, dtype=np.float64)
    model.loss(src, tgt, teacher_forcing=ratio, rng=seed)
    model.backward()
    params = {n: p.data for n, p in zip(NAMES, model.parameters())}
    report = check_model(lambda: model.loss(src, tgt, teacher_forcing=ratio, rng=seed), params, grads_of(model),
                         h=1e-4, tol=1e-5)   # h = 1e-4: the smallest entries (1e-7) still beat the round-off
    assert report.passed, f"gradients vs finite differences (ratio {ratio}):\n{report}"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_extra_padding_changes_neither_the_loss_nor_the_gradients(impl):
    src, tgt = small_batch()
    model = impl.Seq2Seq(9, 11, 4, 5, rng=2, dtype=np.float64)
    loss = model.loss(src, tgt, teacher_forcing=0.5, rng=3)
    model.backward()
    grads = {n: g.copy() for n, g in grads_of(model).items()}
    zero_grads(model)
    wide_src, wide_tgt = np.pad(src, ((0, 0), (0, 3))), np.pad(tgt, ((0, 0), (0, 2)))
    loss2 = model.loss(wide_src, wide_tgt, teacher_forcing=0.5, rng=3)
    assert_close(loss2, loss, rtol=1e-12, what="the loss with 3 more <pad> columns in src and 2 in tgt")
    model.backward()
    for n, g in grads_of(model).items():
        assert_close(g, grads[n], rtol=1e-10, atol=1e-13, what=f"gradient of {n} with extra padding")
    assert np.all(grads["enc_embed"][PAD] == 0), "<pad> rows of the source never reach the context: zero gradient"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_backward_adds_into_the_gradients(impl):
    src, tgt = small_batch()
    model = impl.Seq2Seq(9, 11, 4, 5, rng=1, dtype=np.float64)
    model.loss(src, tgt)
    model.backward()
    once = {n: g.copy() for n, g in grads_of(model).items()}
    model.backward()
    for n, g in grads_of(model).items():
        assert_close(g, 2 * once[n], rtol=1e-12, atol=1e-15, what=f"{n}.grad after two backward() calls (ADD, not set)")
    assert all(np.abs(g).sum() > 0 for g in once.values()), "every parameter gets a gradient"


# ----------------------------------------------------------------------------------------------------
# Task 7: greedy decoding and beam search
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
@pytest.mark.parametrize("name", GOLDEN)
def test_greedy_and_beam_match_pytorch(impl, golden, name):
    g = golden(name)
    model = model_from(impl, g)
    greedy = [list(map(int, s)) for s in impl.greedy_decode(model, g["src"], max_len=8)]
    assert greedy == ragged(g["greedy"]), "greedy_decode (argmax each step, max_len=8)"
    for b, row in enumerate(g["src"]):
        tokens, score = impl.beam_search(model, row[row != PAD], beam_size=3, max_len=8, alpha=0.7)
        assert list(map(int, tokens)) == ragged(g["beam3"])[b], f"beam_search(beam_size=3, alpha=0.7), sentence {b}"
        assert_close(score, g["beam3_score"][b], rtol=1e-9, what="the winner's score log P / len ** alpha")


# next-token tables for the hand-built cases (ids 4 = A, 5 = B; every other entry 1e-6)
A, B = 4, 5
BEAM_BEATS_GREEDY = {SOS: {A: 0.5, B: 0.4, EOS: 0.1}, A: {A: 0.3, B: 0.3, EOS: 0.4}, B: {EOS: 0.9, A: 0.05, B: 0.05}}
SHORT_OR_LONG = {SOS: {EOS: 0.45, A: 0.55}, A: {B: 0.6, EOS: 0.4}, B: {EOS: 0.95}}


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_beam_search_finds_a_likelier_sentence_than_greedy(impl, bigram):
    model = bigram(BEAM_BEATS_GREEDY, 6)
    src = np.array([4, 2])
    assert [list(s) for s in impl.greedy_decode(model, src[None], max_len=5)] == [[A]], (
        "greedy: A (0.5) first, then <eos> (0.4): P = 0.20")
    tokens, score = impl.beam_search(model, src, beam_size=2, max_len=5, alpha=0.0)
    assert list(tokens) == [B], "beam 2 keeps B (0.4) alive, and B <eos> (0.4 * 0.9 = 0.36) beats A <eos> (0.20)"
    assert_close(score, model.logp([B, EOS]), rtol=1e-12, what="alpha = 0: the score is log P of B <eos>")
    assert model.logp([B, EOS]) > model.logp([A, EOS])


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_beam_size_one_is_greedy(impl, bigram, golden):
    model = bigram(BEAM_BEATS_GREEDY, 6)
    assert list(impl.beam_search(model, np.array([4, 2]), beam_size=1, max_len=5)[0]) == [A]
    for name in GOLDEN:
        g = golden(name)
        real = model_from(impl, g)
        greedy = impl.greedy_decode(real, g["src"], max_len=6)
        for b, row in enumerate(g["src"]):
            tokens, _ = impl.beam_search(real, row[row != PAD], beam_size=1, max_len=6, alpha=0.5)
            assert list(map(int, tokens)) == list(map(int, greedy[b])), "beam_size=1 must give the greedy sentence"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_eos_stops_a_hypothesis(impl, bigram):
    # after <eos> the table would happily continue with A: a finished sentence must not grow
    rows = {SOS: {EOS: 0.7, A: 0.3}, EOS: {A: 0.99}, A: {A: 0.99}}
    model = bigram(rows, 6)
    assert [list(s) for s in impl.greedy_decode(model, np.array([[4, 2]]), max_len=6)] == [[]], (
        "greedy: <eos> first, so the sentence is empty (<eos> is not part of it)")
    assert model.calls == 1, f"greedy must stop when every sentence has ended: {model.calls} decoder steps for 1"
    tokens, score = impl.beam_search(model, np.array([4, 2]), beam_size=2, max_len=4, alpha=0.0)
    assert list(tokens) == [], "the finished '<eos>' (0.7) beats A A A A, which runs into max_len"
    assert_close(score, np.log(model.P[SOS, EOS]), rtol=1e-12, what="score of the finished empty sentence")
    long = bigram({SOS: {A: 0.9, EOS: 0.1}, A: {A: 0.99}}, 6)
    tokens, _ = impl.beam_search(long, np.array([4, 2]), beam_size=1, max_len=4, alpha=0.0)
    assert list(tokens) == [A] * 4, "without <eos> a hypothesis stops at max_len tokens"
    assert [list(s) for s in impl.greedy_decode(long, np.array([[4, 2]]), max_len=4)] == [[A] * 4]
    assert [list(s) for s in impl.greedy_decode(long, np.array([[4, 2]]))] == [[A] * 20], "default max_len = 20"
    assert list(impl.beam_search(long, np.array([4, 2]))[0]) == [A] * 20, "beam_search's default max_len = 20"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_length_normalisation_alpha(impl, bigram):
    model = bigram(SHORT_OR_LONG, 6)
    src = np.array([5, 2])
    short, _ = impl.beam_search(model, src, beam_size=2, max_len=6, alpha=0.0)
    assert list(short) == [], "alpha = 0 (the sum of log-probabilities) prefers the empty sentence: 0.45 > 0.31"
    long, s1 = impl.beam_search(model, src, beam_size=2, max_len=6, alpha=1.0)
    assert list(long) == [A, B], "alpha = 1 (log P per token, <eos> counted) prefers A B <eos>: 0.31 ** (1/3)"
    assert_close(s1, model.logp([A, B, EOS]) / 3, rtol=1e-12, what="alpha = 1: score = log P / 3 for A B <eos>")
    _, s07 = impl.beam_search(model, src, beam_size=2, max_len=6, alpha=0.7)
    assert_close(s07, max(model.logp([EOS]), model.logp([A, EOS]) / 2 ** 0.7, model.logp([A, B, EOS]) / 3 ** 0.7),
                 rtol=1e-12, what="alpha = 0.7: the best of log P / len ** 0.7")


# ----------------------------------------------------------------------------------------------------
# Task 8: corpus BLEU
# ----------------------------------------------------------------------------------------------------

HYP = [["the", "cat", "sat", "on", "the", "mat"], ["it", "is", "raining", "today"]]
REFS = [[["the", "cat", "sat", "on", "a", "mat"], ["a", "cat", "sat", "on", "the", "mat"]],
        [["it", "is", "raining", "now"], ["today", "it", "is", "raining", "hard"]]]


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(8)
def test_bleu_of_the_hand_worked_corpus(impl):
    # math-refresh.md, section 6: p1 = 9/10, p2 = 7/8, p3 = 5/6, p4 = 3/4, c = r = 10, BP = 1
    expected = (9 / 10 * 7 / 8 * 5 / 6 * 3 / 4) ** 0.25
    assert_close(impl.corpus_bleu(HYP, REFS), expected, rtol=1e-12,
                 what="corpus BLEU of the worked example (0.83759): counts summed over the corpus before dividing")
    assert_close(impl.corpus_bleu(HYP, REFS, max_n=2), (9 / 10 * 7 / 8) ** 0.5, rtol=1e-12, what="max_n=2")
    assert_close(impl.corpus_bleu([HYP[0]], [REFS[0][:1]]), (5 / 6 * 3 / 5 * 2 / 4 * 1 / 3) ** 0.25, rtol=1e-12,
                 what="one sentence, one reference: p = 5/6, 3/5, 2/4, 1/3")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(8)
def test_bleu_matches_nltks_documented_example(impl):
    # nltk.translate.bleu_score.corpus_bleu's docstring: this corpus scores 0.5920... (no smoothing)
    hyp1 = ["It", "is", "a", "guide", "to", "action", "which", "ensures", "that", "the", "military", "always", "obeys", "the", "commands", "of", "the", "party"]
    ref1a = ["It", "is", "a", "guide", "to", "action", "that", "ensures", "that", "the", "military", "will", "forever", "heed", "Party", "commands"]
    ref1b = ["It", "is", "the", "guiding", "principle", "which", "guarantees", "the", "military", "forces", "always", "being", "under", "the", "command", "of", "the", "Party"]
    ref1c = ["It", "is", "the", "practical", "guide", "for", "the", "army", "always", "to", "heed", "the", "directions", "of", "the", "party"]
    hyp2 = ["he", "read", "the", "book", "because", "he", "was", "interested", "in", "world", "history"]
    ref2a = ["he", "was", "interested", "in", "world", "history", "because", "he", "read", "the", "book"]
    bleu = impl.corpus_bleu([hyp1, hyp2], [[ref1a, ref1b, ref1c], [ref2a]])
    assert abs(bleu - 0.5920778868801042) < 1e-12, f"nltk's corpus_bleu gives 0.59208 on its own example, got {bleu}"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(8)
def test_bleu_clips_counts_and_is_zero_without_a_4gram_match(impl):
    # the BLEU paper's example: "the" x 7 against refs with at most 2 "the": unigram precision 2/7
    refs = [["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "the", "mat"]]
    assert_close(impl.corpus_bleu([["the"] * 7], [refs], max_n=1), 2 / 7, rtol=1e-12,
                 what="clipped unigram precision 2/7 (c = 7 = the closest reference length, BP = 1)")
    assert impl.corpus_bleu([["the"] * 7], [refs]) == 0.0, "no bigram match: BLEU 0 without smoothing"
    no_four = [["a", "b", "c", "x", "d", "e"]]
    assert impl.corpus_bleu(no_four, [[["a", "b", "c", "d", "e", "f"]]]) == 0.0, "trigrams match, no 4-gram: 0"
    assert impl.corpus_bleu([["a", "b", "c", "d"]], [[["a", "b", "c", "d"]]]) == 1.0, "identical sentences: 1"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(8)
def test_brevity_penalty_and_closest_reference_length(impl):
    ref = ["the", "cat", "sat", "on", "the", "mat"]
    assert_close(impl.corpus_bleu([["the", "cat"]], [[ref]], max_n=2), np.exp(1 - 6 / 2), rtol=1e-12,
                 what="a perfect but short hypothesis: BP = exp(1 - r / c) = exp(-2)")
    long_hyp = ["the", "cat", "sat", "on", "the", "mat", "today"]
    assert_close(impl.corpus_bleu([long_hyp], [[ref]], max_n=1), 6 / 7, rtol=1e-12,
                 what="c = 7 > r = 6: no penalty, p1 = 6/7")
    # lengths 2 and 4 are equally close to 3: the SHORTER (2) is r, so c = 3 > r and BP = 1
    hyp = ["a", "b", "c"]
    assert_close(impl.corpus_bleu([hyp], [[["a", "b"], ["a", "b", "c", "d"]]], max_n=1), 1.0, rtol=1e-12,
                 what="ties in the closest reference length go to the shorter reference")
    assert_close(impl.corpus_bleu([hyp], [[["a", "b", "c", "d", "e"], ["a", "b", "c", "d"]]], max_n=1),
                 np.exp(1 - 4 / 3), rtol=1e-12, what="r is the reference length closest to c (4, not 5)")
