"""Topic 19 stress tests: long sequences, the state carried through chunks, learning with Adam, determinism,
call sequences, speed."""

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.testing import as_array, assert_close

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_weights(D, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    s = 1 / np.sqrt(H)
    return [rng.uniform(-s, s, size=shape).astype(dtype) for shape in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))]


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_medium_sequence_matches_the_reference(impl, reference):
    w = make_weights(16, 24, seed=1)
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.standard_normal((8, 30, 16)), rng.standard_normal((8, 24)), rng.standard_normal((8, 24))
    hs, c_n, cache = impl.lstm_forward(x, h0, c0, *w)
    ref, c_ref, cache_ref = reference.lstm_forward(x, h0, c0, *w)
    assert_close(hs, ref, rtol=1e-10, atol=1e-12, what="(8, 30, 16) -> 24 vs the level-2 reference")
    assert_close(c_n, c_ref, rtol=1e-10, atol=1e-12, what="c_n vs the level-2 reference")
    dhs, dc_n = rng.standard_normal((8, 30, 24)), rng.standard_normal((8, 24))
    for a, b in zip(impl.lstm_backward(dhs, cache, dc_n), reference.lstm_backward(dhs, cache_ref, dc_n)):
        assert_close(a, b, rtol=1e-9, atol=1e-11, what="backward vs the level-2 reference")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_long_sequence_stays_bounded(impl):
    w = [3 * a for a in make_weights(4, 8, seed=2)]
    x = np.random.default_rng(1).standard_normal((2, 300, 4)) * 5
    hs, c_n, _ = impl.lstm_forward(x, np.zeros((2, 8)), np.zeros((2, 8)), *w)
    hs, c_n = as_array(hs), as_array(c_n)
    assert np.all(np.isfinite(hs)) and np.abs(hs).max() <= 1.0, "h = o * tanh(c) with 0 < o < 1: |h| < 1 always"
    assert np.all(np.isfinite(c_n)) and np.abs(c_n).max() <= 300, "|c'| <= |c| + 1 per step: |c_n| <= T from c0 = 0"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_the_cell_counts_when_every_gate_is_open(impl):
    # i = f = 1, g = 1: c_t = c_(t-1) + 1, an accumulator over 300 steps that no tanh squashes; h = o * tanh(c)
    D, H, T = 2, 3, 300
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H, seed=3)
    b_ih[:3 * H] = 60.0
    c0 = np.array([[0.5, -2.0, 0.0]])
    hs, c_n, _ = impl.lstm_forward(np.zeros((1, T, D)), np.zeros((1, H)), c0, w_ih, w_hh, b_ih, b_hh)
    assert_close(c_n, c0 + T, rtol=1e-12, what="i = f = g = 1 for 300 steps: c_n = c0 + 300 (the cell is additive)")
    hs = as_array(hs)
    o_last = 1 / (1 + np.exp(-(b_ih[3 * H:] + b_hh[3 * H:] + hs[0, -2] @ w_hh[3 * H:].T)))
    assert_close(hs[0, -1], o_last, rtol=1e-12, what="tanh(c_n) = 1: the last h is the output gate o (h = o * tanh(c))")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_long_sequence_gradient_rides_the_forget_gates(impl):
    # W_hh = 0 and i = 0: c_n = c0 * prod_t f_t exactly, so dL/dc0 = dc_n * prod_t f_t over 500 steps
    D, H, T = 3, 4, 500
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H, seed=4)
    w_hh[:] = 0.0
    b_ih[:H] = -60.0                       # i = 0
    b_ih[H:2 * H] = 5.0                    # f close to 1, but not 1
    rng = np.random.default_rng(4)
    x, c0, dc_n = rng.standard_normal((2, T, D)), rng.standard_normal((2, H)), rng.standard_normal((2, H))
    _, c_n, cache = impl.lstm_forward(x, rng.standard_normal((2, H)), c0, w_ih, w_hh, b_ih, b_hh)
    f = 1 / (1 + np.exp(-(x @ w_ih[H:2 * H].T + b_ih[H:2 * H] + b_hh[H:2 * H])))     # (2, T, H)
    keep = np.prod(f, axis=1)
    assert_close(c_n, c0 * keep, rtol=1e-9, atol=1e-14, what="i = 0, W_hh = 0: c_n = c0 * prod f_t")
    dc0 = as_array(impl.lstm_backward(np.zeros((2, T, H)), cache, dc_n)[2])
    assert_close(dc0, dc_n * keep, rtol=1e-9, atol=1e-14,
                 what="500 steps back along the cell: dc0 = dc_n * prod f_t (dc carried by dc_prev = dc * f)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_state_carried_through_chunks_equals_one_long_sequence(impl):
    # truncated BPTT without truncation: chunk k+1 starts from chunk k's (h_n, c_n), and chunk k's backward takes
    # the later chunk's (dh0, dc0) as its (dh_n, dc_n): the result is the backward pass of the whole sequence
    D, H, T, K = 3, 4, 24, 4
    rng = np.random.default_rng(5)
    x, dout = rng.standard_normal((2, T, D)), rng.standard_normal((2, T, H))
    full = impl.LSTM(D, H, rng=5, dtype=np.float64)
    out_full, (_h_full, c_full) = full.forward(x)
    dx_full = as_array(full.backward(dout))
    chunks = [impl.LSTM(D, H, rng=99, dtype=np.float64) for _ in range(K)]
    outs, state = [], None
    for k, layer in enumerate(chunks):
        layer.load_state_dict(full.state_dict())
        out, state = layer.forward(x[:, k * 6:(k + 1) * 6], state)
        outs.append(as_array(out))
    assert_close(np.concatenate(outs, axis=1), out_full, rtol=1e-12, atol=1e-14,
                 what="four chunks with the state (h, c) passed on = one forward on the whole sequence")
    assert_close(state[1], c_full, rtol=1e-12, atol=1e-14, what="c_n after the last chunk")
    dxs, dh_n, dc_n = [None] * K, None, None
    for k in reversed(range(K)):
        dxs[k] = as_array(chunks[k].backward(dout[:, k * 6:(k + 1) * 6], dh_n, dc_n))
        dh_n, dc_n = chunks[k].dh0, chunks[k].dc0
    assert_close(np.concatenate(dxs, axis=1), dx_full, rtol=1e-10, atol=1e-12,
                 what="chunked backward with (dh0, dc0) handed back as (dh_n, dc_n) = one long backward")
    assert_close(dh_n, full.dh0, rtol=1e-10, atol=1e-12, what="dh0 of the first chunk = dh0 of the whole sequence")
    assert_close(dc_n, full.dc0, rtol=1e-10, atol=1e-12, what="dc0 of the first chunk = dc0 of the whole sequence")
    for name in NAMES:
        total = sum(as_array(getattr(layer, name).grad) for layer in chunks)
        assert_close(total, getattr(full, name).grad, rtol=1e-10, atol=1e-12,
                     what=f"{name}.grad summed over the chunks = the whole sequence's")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_lstm_learns_to_remember_the_first_input_with_adam(impl):
    # the target is the first input of each sequence, read from h_n[:, 0] after 4 more steps of noise
    optim = load_topic(3)
    N, T, H = 16, 5, 4
    layer = impl.LSTM(1, H, rng=0, dtype=np.float64)
    opt = optim.Adam(layer.parameters(), lr=0.03)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(200):
        x = rng.uniform(-0.5, 0.5, size=(N, T, 1))
        _, (h_n, _) = layer.forward(x)
        err = as_array(h_n)[:, 0] - x[:, 0, 0]
        losses.append(float((err ** 2).mean()))
        dh_n = np.zeros((N, H))
        dh_n[:, 0] = 2 * err / N
        for p in layer.parameters():
            p.grad[...] = 0
        layer.backward(np.zeros((N, T, H)), dh_n)
        opt.step()
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert last < first / 5, f"remembering the first input: mean squared error {first:.4f} -> {last:.4f}, expected 5x lower"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_same_seed_gives_the_same_weights_and_seeds_differ(impl):
    a, b = impl.LSTM(5, 7, rng=3), impl.LSTM(5, 7, rng=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(as_array(p.data), as_array(q.data)), "the same seed must give bit-identical weights"
    c = impl.LSTM(5, 7, rng=4)
    for name in NAMES:
        assert not np.array_equal(as_array(getattr(a, name).data), as_array(getattr(c, name).data)), \
            f"seeds 3 and 4 must give different {name}"
    gen = np.random.default_rng(0)
    d, e = impl.LSTM(5, 7, rng=gen), impl.LSTM(5, 7, rng=gen)
    assert not np.array_equal(as_array(d.weight_ih.data), as_array(e.weight_ih.data)), \
        "two layers from one Generator must differ (use it, don't re-seed from it)"
    f, g = impl.LSTM(5, 7), impl.LSTM(5, 7)
    assert not np.array_equal(as_array(f.weight_hh.data), as_array(g.weight_hh.data)), "rng=None is fresh entropy"
    blocks = as_array(a.weight_hh.data).reshape(4, 7, 7)
    assert not np.array_equal(blocks[0], blocks[1]), "the four gate blocks are drawn separately, not copied"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_init_ignores_numpys_global_seed(impl):
    np.random.seed(0)
    a = impl.LSTM(4, 4, rng=11)
    np.random.seed(1)
    b = impl.LSTM(4, 4, rng=11)
    for name in NAMES:
        assert np.array_equal(as_array(getattr(a, name).data), as_array(getattr(b, name).data)), \
            "np.random.seed must play no part"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    w = make_weights(5, 6, seed=5)
    rng = np.random.default_rng(2)
    x, h0, c0 = rng.standard_normal((3, 7, 5)), rng.standard_normal((3, 6)), rng.standard_normal((3, 6))
    dhs, dc_n = rng.standard_normal((3, 7, 6)), rng.standard_normal((3, 6))
    saved = [a.copy() for a in (x, h0, c0, dhs, dc_n, *w)]
    runs = []
    for _ in range(2):
        hs, c_n, cache = impl.lstm_forward(x, h0, c0, *w)
        h, c, step_cache = impl.lstm_step_forward(x[:, 0], h0, c0, *w)
        runs.append([as_array(a).copy() for a in (hs, c_n, h, c)]
                    + [as_array(g).copy() for g in impl.lstm_backward(dhs, cache, dc_n)]
                    + [as_array(g).copy() for g in impl.lstm_step_backward(dhs[:, 0], dc_n, step_cache)])
    for a, b in zip(*runs):
        assert np.array_equal(a, b), "two identical runs must give bit-identical results"
    for a, b in zip(saved, (x, h0, c0, dhs, dc_n, *w)):
        assert np.array_equal(a, b), "the LSTM functions must never modify their inputs"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_train_eval_backward_sequence(impl):
    # train -> forward, eval -> forward, backward: backward uses the LAST forward; an LSTM has no mode-dependent part
    layer = impl.LSTM(3, 4, rng=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 3))
    dout = rng.standard_normal((2, 5, 4))
    out_train, (_, c_train) = layer.train().forward(x2)
    layer.forward(x1)
    out_eval, (_, c_eval) = layer.eval().forward(x2)
    assert_close(out_eval, out_train, rtol=0, atol=0, what="an LSTM gives the same output in train and eval mode")
    assert_close(c_eval, c_train, rtol=0, atol=0, what="and the same c_n")
    dx = layer.backward(dout)
    _, _, cache = impl.lstm_forward(x2, np.zeros((2, 4)), np.zeros((2, 4)), *(getattr(layer, k).data for k in NAMES))
    ref = impl.lstm_backward(dout, cache)
    assert_close(dx, ref[0], rtol=1e-12, atol=1e-14, what="backward must use the cache of the last forward")
    assert_close(layer.dc0, ref[2], rtol=1e-12, atol=1e-14, what="dc0 from the cache of the last forward")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_forward_speed(impl, reference, compare_speed):
    w = make_weights(32, 64, seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x, s = rng.standard_normal((16, 25, 32)).astype(np.float32), np.zeros((16, 64), np.float32)
    compare_speed(impl.lstm_forward, reference.lstm_forward, x, s, s, *w, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_backward_speed(impl, reference, compare_speed):
    w = make_weights(32, 64, seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x, s = rng.standard_normal((16, 25, 32)).astype(np.float32), np.zeros((16, 64), np.float32)
    dhs = rng.standard_normal((16, 25, 64)).astype(np.float32)
    _, _, cache = impl.lstm_forward(x, s, s, *w)
    _, _, cache_ref = reference.lstm_forward(x, s, s, *w)
    compare_speed(lambda: impl.lstm_backward(dhs, cache), lambda: reference.lstm_backward(dhs, cache_ref), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_layer_step_speed(impl, reference, compare_speed):
    x = np.random.default_rng(0).standard_normal((16, 25, 32)).astype(np.float32)
    dout = np.ones((16, 25, 64), np.float32)
    mine, ref = impl.LSTM(32, 64, rng=0), reference.LSTM(32, 64, rng=0)

    def step(layer):
        layer.forward(x)
        return layer.backward(dout)

    compare_speed(lambda: step(mine), lambda: step(ref), threshold=3.0)
