"""Topic 23 edge tests: bad arguments and broadcast-prone shapes, empty inputs, all-padding, float32, extreme
logits, non-contiguous inputs, misuse of the model."""

import numpy as np
import pytest
from dlfs.testing import as_array, assert_all_finite, assert_close

PAD, SOS, EOS, UNK = 0, 1, 2, 3
NAMES = ("enc_embed", "enc_weight_ih", "enc_weight_hh", "enc_bias_ih", "enc_bias_hh",
         "dec_embed", "dec_weight_ih", "dec_weight_hh", "dec_bias_ih", "dec_bias_hh", "out_weight", "out_bias")


def raises_each(fn, cases, what):
    for name, args in cases.items():
        with pytest.raises(ValueError):
            fn(*args)
            pytest.fail(f"{what} accepted {name}: raise ValueError")


def batch():
    src = np.array([[4, 5, 6, 2, 0], [5, 2, 0, 0, 0], [6, 6, 4, 5, 2]])
    tgt = np.array([[3, 4, 2, 0], [5, 6, 7, 2], [4, 2, 0, 0]])
    return src, tgt


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_data_preparation_rejects_bad_input(impl):
    with pytest.raises(ValueError):
        impl.tokenize(b"Go.")
        pytest.fail("tokenize accepted bytes: it reads a str")
    with pytest.raises(ValueError):
        impl.Vocab(["je", "suis"])
        pytest.fail("Vocab accepted a list of words: it counts a list of TOKEN LISTS (one per sentence)")
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError):
            impl.Vocab([["a"]], min_count=bad)
            pytest.fail(f"Vocab accepted min_count={bad!r}")
        with pytest.raises(ValueError):
            impl.filter_pairs([("I am.", "Je suis.")], max_len=bad)
            pytest.fail(f"filter_pairs accepted max_len={bad!r}")
    for bad in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError):
            impl.split_pairs([(["a"], ["b"])], held_out=bad)
            pytest.fail(f"split_pairs accepted held_out={bad}: it must lie in [0, 1)")
    with pytest.raises(ValueError):
        impl.Vocab([["a"]]).decode([8])
        pytest.fail("decode accepted an id outside the vocabulary")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_empty_inputs_of_the_data_functions(impl):
    assert list(impl.tokenize("")) == [] and list(impl.filter_pairs([])) == []
    assert len(impl.Vocab([])) == 4, "an empty corpus still has the four special tokens"
    assert as_array(impl.Vocab([]).encode([])).tolist() == [EOS], "an empty sentence encodes as <eos> alone"
    train, test = impl.split_pairs([], held_out=0.5)
    assert list(train) == [] and list(test) == []
    pairs = [(["a"], ["b"]), (["c"], ["d"])]
    train, test = impl.split_pairs(pairs, held_out=0.0)
    assert [tuple(map(list, p)) for p in train] == pairs and list(test) == [], "held_out=0 keeps everything for training"
    assert list(impl.filter_pairs([("I am here.", "")])) == [], "an empty French side has 0 tokens: dropped"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_pad_batch_edge_cases(impl):
    ids, mask = impl.pad_batch([])
    assert as_array(ids).shape == (0, 0) and as_array(mask).shape == (0, 0), "no sequence: (0, 0) arrays"
    ids, mask = impl.pad_batch([[], [5]])
    assert as_array(ids).tolist() == [[0], [5]] and as_array(mask).tolist() == [[False], [True]], "an empty row"
    raises_each(impl.pad_batch, {"a <pad> inside a sequence": ([[4, 0, 2]],), "float ids": ([[1.0, 2.0]],),
                                 "a 2-D sequence": ([[[1, 2]]],), "a negative id": ([[3, -1]],)}, "pad_batch")
    seq = np.array([7, 8, 2])
    ids, _ = impl.pad_batch([seq, [9, 2]])
    as_array(ids)[0, 0] = 99
    assert seq[0] == 7, "pad_batch must copy: writing into its output changed the input sequence"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_masked_cross_entropy_rejects_broadcast_prone_shapes(impl):
    logits = np.zeros((2, 3, 5))
    targets = np.ones((2, 3), dtype=np.int64)
    mask = np.ones((2, 3), dtype=bool)
    raises_each(impl.masked_cross_entropy, {
        "a mask of shape (1, T)": (logits, targets, mask[:1]),
        "a mask of shape (B, 1)": (logits, targets, mask[:, :1]),
        "targets of shape (B,)": (logits, targets[:, 0], mask),
        "2-D logits (B * T, V)": (logits.reshape(6, 5), targets, mask),
        "an int 0/1 mask": (logits, targets, mask.astype(np.int64)),
        "a target id >= V": (logits, targets * 5, mask),
        "float targets": (logits, targets.astype(float), mask)}, "masked_cross_entropy")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_all_padding_gives_zero_loss_and_zero_gradient(impl):
    logits = np.random.default_rng(0).standard_normal((2, 3, 4))
    loss, cache = impl.masked_cross_entropy(logits, np.zeros((2, 3), dtype=np.int64), np.zeros((2, 3), dtype=bool))
    assert loss == 0.0, f"no real token: the loss is 0.0 (not NaN from 0 / 0), got {loss}"
    d = as_array(impl.masked_cross_entropy_backward(1.0, cache))
    assert d.shape == (2, 3, 4) and np.all(d == 0), "no real token: zero gradient everywhere"
    loss, cache = impl.masked_cross_entropy(np.zeros((0, 3, 4)), np.zeros((0, 3), dtype=np.int64),
                                            np.zeros((0, 3), dtype=bool))
    assert loss == 0.0 and as_array(impl.masked_cross_entropy_backward(1.0, cache)).shape == (0, 3, 4), "B = 0"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_extreme_logits_and_float32(impl):
    logits = np.array([[[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0]]], dtype=np.float32)
    targets, mask = np.array([[1, 1]]), np.array([[True, True]])
    loss, cache = impl.masked_cross_entropy(logits, targets, mask)
    assert np.isfinite(loss) and abs(loss - 1e4) < 1, f"logits of 1e4: loss (2e4 + 0) / 2 = 1e4, got {loss}"
    d = as_array(impl.masked_cross_entropy_backward(1.0, cache))
    assert d.dtype == np.float32, f"float32 logits must give float32 dlogits, got {d.dtype}"
    assert_all_finite(d, "dlogits of extreme logits (subtract the row max before exp)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_model_rejects_bad_sizes_and_sources(impl):
    for bad in ((0, 5, 4, 4), (5, 5, 4.0, 4), (5, True, 4, 4), (5, 5, 4, -1)):
        with pytest.raises(ValueError):
            impl.Seq2Seq(*bad)
            pytest.fail(f"Seq2Seq{bad} accepted a size that is not an integer >= 1")
    model = impl.Seq2Seq(9, 11, 4, 5, rng=0)
    raises_each(model.encode, {
        "a <pad> before a real token (left padding)": (np.array([[0, 4, 2], [5, 6, 2]]),),
        "a row of only <pad>": (np.array([[4, 2], [0, 0]]),),
        "an id >= the source vocabulary": (np.array([[9, 2]]),),
        "a 1-D source": (np.array([4, 5, 2]),),
        "float ids": (np.array([[4.0, 2.0]]),)}, "encode")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_decoder_step_rejects_broadcast_prone_states(impl):
    model = impl.Seq2Seq(9, 11, 4, 5, rng=0)
    ids = np.array([1, 4, 5])
    raises_each(model.decoder_step, {"h of shape (1, H) for 3 ids": (ids, np.zeros((1, 5), np.float32)),
                                     "h of shape (H,)": (ids, np.zeros(5, np.float32)),
                                     "ids of shape (3, 1)": (ids[:, None], np.zeros((3, 5), np.float32)),
                                     "an id >= the target vocabulary": (np.array([11, 1, 1]), np.zeros((3, 5)))},
                "decoder_step")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_loss_rejects_bad_targets_ratios_and_order(impl):
    src, tgt = batch()
    model = impl.Seq2Seq(9, 11, 4, 5, rng=0)
    with pytest.raises(RuntimeError):
        model.backward()
        pytest.fail("backward before any loss() must raise RuntimeError")
    raises_each(model.loss, {"a target batch of another size": (src, tgt[:2]),
                             "a target id >= the target vocabulary": (src, tgt + 11),
                             "targets of length 0": (src, tgt[:, :0]),
                             "teacher_forcing = 1.5": (src, tgt, 1.5),
                             "teacher_forcing = -0.1": (src, tgt, -0.1)}, "loss")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_load_state_dict_rejects_wrong_keys_and_shapes_and_state_dict_copies(impl):
    model = impl.Seq2Seq(9, 11, 4, 5, rng=0)
    state = model.state_dict()
    before = {k: v.copy() for k, v in state.items()}
    state["out_bias"][...] = 123.0
    assert not np.any(as_array(model.parameters()[-1].data) == 123.0), "state_dict must return COPIES"
    missing = {k: v for k, v in before.items() if k != "out_bias"}
    extra = dict(before, extra=np.zeros(1))
    wrong = dict(before, out_weight=np.zeros((11, 4)))
    for name, bad in (("a missing key", missing), ("an extra key", extra), ("a wrong shape", wrong)):
        with pytest.raises(ValueError):
            model.load_state_dict(bad)
            pytest.fail(f"load_state_dict accepted {name}")
    for k, v in model.state_dict().items():
        assert np.array_equal(v, before[k]), f"a rejected load_state_dict changed {k}"
    other = impl.Seq2Seq(9, 11, 4, 5, rng=1)
    other.load_state_dict(before)
    data = other.parameters()[0].data
    other.load_state_dict({k: v + 1 for k, v in before.items()})
    assert other.parameters()[0].data is data, "load_state_dict writes IN PLACE (an optimizer holds these arrays)"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_float32_model_stays_float32(impl):
    src, tgt = batch()
    model = impl.Seq2Seq(9, 11, 4, 5, rng=0)
    context = as_array(model.encode(src))
    logits, h = model.decoder_step(np.array([1, 1, 1]), context)
    assert context.dtype == np.float32 and as_array(logits).dtype == np.float32 and as_array(h).dtype == np.float32, (
        f"float32 model: context {context.dtype}, logits {as_array(logits).dtype}, state {as_array(h).dtype}")
    loss = model.loss(src, tgt, teacher_forcing=0.5, rng=1)
    assert isinstance(loss, float) and np.isfinite(loss)
    model.backward()
    for n, p in zip(NAMES, model.parameters()):
        assert as_array(p.grad).dtype == np.float32, f"{n}.grad became {as_array(p.grad).dtype}"
    ref = impl.Seq2Seq(9, 11, 4, 5, rng=0, dtype=np.float64)
    assert_close(loss, ref.loss(src, tgt, teacher_forcing=0.5, rng=1), rtol=1e-5, what="float32 loss vs float64")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_decoders_reject_bad_arguments(impl):
    model = impl.Seq2Seq(9, 11, 4, 5, rng=0)
    src = np.array([4, 5, 2])
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError):
            impl.beam_search(model, src, beam_size=bad)
            pytest.fail(f"beam_search accepted beam_size={bad!r}")
        with pytest.raises(ValueError):
            impl.beam_search(model, src, max_len=bad)
            pytest.fail(f"beam_search accepted max_len={bad!r}")
        with pytest.raises(ValueError):
            impl.greedy_decode(model, src[None], max_len=bad)
            pytest.fail(f"greedy_decode accepted max_len={bad!r}")
    with pytest.raises(ValueError):
        impl.beam_search(model, src, alpha=-0.5)
        pytest.fail("beam_search accepted alpha < 0")
    with pytest.raises(ValueError):
        impl.beam_search(model, src[None])
        pytest.fail("beam_search decodes ONE sentence (S,): a batch (1, S) must be rejected")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(7)
def test_batch_of_one_and_non_contiguous_sources(impl):
    src, _ = batch()
    model = impl.Seq2Seq(9, 11, 4, 5, rng=2, dtype=np.float64)
    for p in model.parameters():
        p.data *= 3.0
    together = [list(map(int, s)) for s in impl.greedy_decode(model, src, max_len=6)]
    for b in range(len(src)):
        n = int((src[b] != PAD).sum())
        alone = [list(map(int, s)) for s in impl.greedy_decode(model, src[b:b + 1, :n], max_len=6)]
        assert alone == [together[b]], f"sentence {b} decoded alone differs from its row of the batch"
    fortran = np.asfortranarray(src)
    assert_close(model.encode(fortran), model.encode(src), rtol=0, atol=0, what="context of a Fortran-ordered src")
    assert_close(model.encode(src.T.copy().T), model.encode(src), rtol=0, atol=0, what="context of a transposed view")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(8)
def test_bleu_edge_cases(impl):
    assert impl.corpus_bleu([], []) == 0.0, "an empty corpus scores 0"
    assert impl.corpus_bleu([[]], [[["a", "b"]]]) == 0.0, "an empty hypothesis: c = 0, BLEU 0 (no division by 0)"
    raises_each(impl.corpus_bleu, {"one hypothesis, two reference lists": ([["a"]], [[["a"]], [["b"]]]),
                                   "a hypothesis given as a str": (["a b"], [[["a", "b"]]]),
                                   "references given as one token list": ([["a"]], [["a"]]),
                                   "no reference for a hypothesis": ([["a"]], [[]]),
                                   "max_n = 0": ([["a"]], [[["a"]]], 0)}, "corpus_bleu")
