"""Topic 23 stress tests: seeds, reruns, a larger batch against the reference, a short training run, the real
English-French pairs, and speed against the reference."""

import numpy as np
import pytest
from dlfs.components import load_topic
from dlfs.testing import as_array, assert_close

PAD, SOS, EOS, UNK = 0, 1, 2, 3
NAMES = ("enc_embed", "enc_weight_ih", "enc_weight_hh", "enc_bias_ih", "enc_bias_hh",
         "dec_embed", "dec_weight_ih", "dec_weight_hh", "dec_bias_ih", "dec_bias_hh", "out_weight", "out_bias")


def random_batch(seed, B, S, T, Vs, Vt):
    rng = np.random.default_rng(seed)
    src = np.zeros((B, S), dtype=np.int64)
    tgt = np.zeros((B, T), dtype=np.int64)
    for b in range(B):
        n, m = int(rng.integers(1, S)), int(rng.integers(1, T))
        src[b, :n], src[b, n] = rng.integers(4, Vs, n), EOS
        tgt[b, :m], tgt[b, m] = rng.integers(3, Vt, m), EOS
    return src, tgt


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_same_seed_same_weights_seeds_differ_and_numpys_global_seed_plays_no_part(impl):
    np.random.seed(0)
    a = impl.Seq2Seq(9, 11, 4, 5, rng=7).state_dict()
    np.random.seed(1)
    b = impl.Seq2Seq(9, 11, 4, 5, rng=7).state_dict()
    c = impl.Seq2Seq(9, 11, 4, 5, rng=8).state_dict()
    for n in NAMES:
        assert np.array_equal(a[n], b[n]), f"{n}: the same seed must give the same weights (np.random.seed is ignored)"
        assert not np.array_equal(a[n], c[n]), f"{n}: seeds 7 and 8 gave the same weights"
    gen = np.random.default_rng(3)
    first, second = impl.Seq2Seq(9, 11, 4, 5, rng=gen).state_dict(), impl.Seq2Seq(9, 11, 4, 5, rng=gen).state_dict()
    assert not np.array_equal(first["out_weight"], second["out_weight"]), (
        "a Generator is used as it is: two models built from one Generator differ")


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_teacher_forcing_seed_alone_decides(impl):
    src, tgt = random_batch(0, 4, 6, 9, 12, 14)
    model = impl.Seq2Seq(12, 14, 4, 5, rng=0, dtype=np.float64)
    patterns = set()
    for seed in range(6):
        np.random.seed(100 + seed)
        model.loss(src, tgt, teacher_forcing=0.5, rng=seed)
        expected = (np.random.default_rng(seed).random(8) < 0.5).tolist()
        assert list(model.teacher_forced) == expected, (
            f"seed {seed}: the flags must be default_rng(seed).random() < 0.5, one draw per step t = 1..T-1")
        patterns.add(tuple(expected))
    assert len(patterns) > 1
    model.loss(src, tgt, teacher_forcing=0.3, rng=5)
    assert list(model.teacher_forced) == (np.random.default_rng(5).random(8) < 0.3).tolist(), (
        "ratio 0.3: a step is teacher-forced when its draw is < 0.3 (the draw happens for every step)")


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    src, tgt = random_batch(1, 5, 7, 8, 10, 12)
    src_copy, tgt_copy = src.copy(), tgt.copy()
    model = impl.Seq2Seq(10, 12, 6, 8, rng=1)
    runs = []
    for _ in range(2):
        for p in model.parameters():
            p.grad[...] = 0
        loss = model.loss(src, tgt, teacher_forcing=0.5, rng=2)
        model.backward()
        runs.append((loss, [as_array(p.grad).copy() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0], "the same loss call twice must give the same loss, bit for bit"
    for n, g0, g1 in zip(NAMES, runs[0][1], runs[1][1]):
        assert np.array_equal(g0, g1), f"{n}: two identical runs gave different gradients"
    assert np.array_equal(src, src_copy) and np.array_equal(tgt, tgt_copy), "loss/backward modified src or tgt"
    gen = np.random.default_rng(0)
    model.loss(src, tgt, teacher_forcing=0.5, rng=gen)
    first = list(model.teacher_forced)
    model.loss(src, tgt, teacher_forcing=0.5, rng=gen)
    assert first + list(model.teacher_forced) == (np.random.default_rng(0).random(14) < 0.5).tolist(), (
        "a Generator passed as rng is used as it is (its draws continue from one call to the next)")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_larger_batch_matches_the_reference(impl, reference):
    src, tgt = random_batch(2, 24, 10, 12, 40, 60)
    ours, ref = impl.Seq2Seq(40, 60, 8, 16, rng=4, dtype=np.float64), reference.Seq2Seq(40, 60, 8, 16, rng=4, dtype=np.float64)
    for ratio in (1.0, 0.5):
        for m in (ours, ref):
            for p in m.parameters():
                p.grad[...] = 0
        assert_close(ours.loss(src, tgt, ratio, rng=9), ref.loss(src, tgt, ratio, rng=9), rtol=1e-10,
                     what=f"loss of a (24, 12) target batch, ratio {ratio}")
        ours.backward()
        ref.backward()
        for n, a, b in zip(NAMES, ours.parameters(), ref.parameters()):
            assert_close(a.grad, b.grad, rtol=1e-8, atol=1e-12, what=f"gradient of {n}, ratio {ratio}")
    greedy = [list(map(int, s)) for s in impl.greedy_decode(ours, src, max_len=10)]
    assert greedy == [list(map(int, s)) for s in reference.greedy_decode(ref, src, max_len=10)], "greedy of 24 sentences"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_model_learns_to_reverse_short_sequences_with_adam(impl):
    optim = load_topic(3)
    rng = np.random.default_rng(0)
    body = rng.integers(4, 10, (32, 3))
    src = np.concatenate([body, np.full((32, 1), EOS)], axis=1)
    tgt = np.concatenate([body[:, ::-1], np.full((32, 1), EOS)], axis=1)
    model = impl.Seq2Seq(10, 10, 8, 24, rng=0)
    adam = optim.Adam(model.parameters(), lr=0.02)
    losses = []
    for step in range(120):
        adam.zero_grad()
        losses.append(model.loss(src, tgt, teacher_forcing=1.0))
        model.backward()
        adam.step()
    assert losses[-1] < losses[0] / 4, f"Adam on 32 reversals: loss {losses[0]:.3f} -> {losses[-1]:.3f}, not 4x lower"
    decoded = impl.greedy_decode(model, src, max_len=5)
    right = np.mean([list(map(int, d)) == body[b, ::-1].tolist() for b, d in enumerate(decoded)])
    assert right >= 0.5, f"greedy decoding reverses only {right:.0%} of the training sequences after training"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_real_pairs_filter_and_held_out_split(impl, fra_pairs):
    kept = impl.filter_pairs(fra_pairs)
    assert len(kept) == 12010, (f"the documented filter (<= 10 tokens on both sides, an English prefix of "
                                f"ENG_PREFIXES) keeps 12,010 of the 142,787 pairs, got {len(kept):,}")
    train, test = impl.split_pairs(kept, held_out=0.1, seed=0)
    assert 0.05 * len(kept) < len(test) < 0.1 * len(kept) and len(train) + len(test) <= len(kept)
    assert not {tuple(e) for e, _ in train} & {tuple(e) for e, _ in test}, "an English sentence in both splits"
    assert not {tuple(f) for _, f in train} & {tuple(f) for _, f in test}, "a French sentence in both splits"
    vocab = impl.Vocab([f for _, f in train], min_count=2)
    assert 2000 < len(vocab) < 4000, f"French vocabulary (min_count 2) of the training pairs: {len(vocab)} words"


def speed_case():
    src, tgt = random_batch(3, 32, 10, 11, 200, 400)
    return src, tgt


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_loss_and_backward_speed(impl, reference, compare_speed):
    src, tgt = speed_case()
    ours, ref = impl.Seq2Seq(200, 400, 32, 64, rng=0), reference.Seq2Seq(200, 400, 32, 64, rng=0)

    def step(model):
        return lambda: (model.loss(src, tgt, teacher_forcing=0.5, rng=0), model.backward())

    compare_speed(step(ours), step(ref), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_beam_search_speed(impl, reference, compare_speed):
    src, _ = speed_case()
    ours, ref = impl.Seq2Seq(200, 400, 32, 64, rng=0), reference.Seq2Seq(200, 400, 32, 64, rng=0)
    row = src[0][src[0] != PAD]
    compare_speed(lambda: impl.beam_search(ours, row, beam_size=5, max_len=12),
                  lambda: reference.beam_search(ref, row, beam_size=5, max_len=12), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(5)
@pytest.mark.task(8)
def test_bleu_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(0)
    hyps = [rng.integers(0, 30, int(rng.integers(3, 12))).tolist() for _ in range(300)]
    refs = [[rng.integers(0, 30, int(rng.integers(3, 12))).tolist() for _ in range(2)] for _ in range(300)]
    compare_speed(impl.corpus_bleu, reference.corpus_bleu, hyps, refs, threshold=3.0)


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(8)
def test_bleu_of_many_random_sentences_matches_the_reference(impl, reference):
    rng = np.random.default_rng(1)
    hyps = [rng.integers(0, 4, int(rng.integers(0, 12))).tolist() for _ in range(200)]
    refs = [[rng.integers(0, 4, int(rng.integers(1, 12))).tolist() for _ in range(int(rng.integers(1, 4)))]
            for _ in range(200)]
    assert_close(impl.corpus_bleu(hyps, refs), reference.corpus_bleu(hyps, refs), rtol=1e-12,
                 what="corpus BLEU of 200 random sentences (token ids as tokens)")
    assert 0 < reference.corpus_bleu(hyps, refs) < 1
