"""Topic 18 basic tests: shapes, the step and the sequence against PyTorch's golden values, gradients through
time for every parameter and h0, the layer, and the character-data helpers."""

from pathlib import Path

import numpy as np
import pytest

from dlfs.gradient_check import check_layer
from dlfs.testing import assert_close, assert_shape

GOLDEN = Path(__file__).parent / "golden"
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def case(seed, N=2, T=4, D=3, H=5, scale=0.5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    w = [rng.standard_normal(s) * scale for s in [(H, D), (H, H), (H,), (H,)]]
    return [a.astype(dtype) for a in (x, h0, *w)]


# ----------------------------------------------------------------------------------------------------
# Task 1: one step
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_step_forward_matches_the_formula(impl):
    x, h0, wih, whh, bih, bhh = case(0)
    h, _ = impl.rnn_step_forward(x[:, 0], h0, wih, whh, bih, bhh)
    expected = np.tanh(x[:, 0] @ wih.T + bih + h0 @ whh.T + bhh)
    assert_close(h, expected, rtol=1e-10, atol=1e-12, what="h = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_step_backward_gradient_check(impl):
    x, h0, *w = case(1)
    report = check_layer(impl.rnn_step_forward, impl.rnn_step_backward, x[:, 0], h0, *w)
    assert report.passed, f"rnn_step_backward (x_t, h_prev, W_ih, W_hh, b_ih, b_hh):\n{report}"


# ----------------------------------------------------------------------------------------------------
# Task 2: forward through time and BPTT
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("N,T,D,H", [(2, 4, 3, 5), (1, 1, 1, 1), (3, 7, 2, 4)])
def test_forward_and_backward_shapes(impl, N, T, D, H):
    x, h0, *w = case(2, N, T, D, H)
    hs, cache = impl.rnn_forward(x, h0, *w)
    assert_shape(hs, (N, T, H), "hs")
    grads = impl.rnn_backward(np.ones_like(hs), cache)
    expected = [(N, T, D), (N, H), (H, D), (H, H), (H,), (H,)]
    assert [np.shape(g) for g in grads] == expected


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_forward_is_the_step_repeated(impl):
    x, h0, *w = case(3, T=6)
    hs, _ = impl.rnn_forward(x, h0, *w)
    h = h0
    for t in range(6):
        h = np.tanh(x[:, t] @ w[0].T + w[2] + h @ w[1].T + w[3])
        assert_close(hs[:, t], h, rtol=1e-10, atol=1e-12, what=f"hs[:, {t}] (the previous h feeds the next step)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("name", ["basic", "one_sample_long", "wide"])
def test_forward_and_bptt_match_pytorch(impl, name):
    g = np.load(GOLDEN / f"rnn_{name}.npz")
    w = [g[k] for k in NAMES]
    hs, cache = impl.rnn_forward(g["x"], g["h0"], *w)
    assert_close(hs, g["hs"], rtol=1e-9, atol=1e-10, what="hs against torch.nn.RNN")
    grads = impl.rnn_backward(g["dhs"], cache)
    for key, got in zip(("dx", "dh0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"), grads):
        assert_close(got, g[key], rtol=1e-8, atol=1e-10, what=f"{key} against torch autograd")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("N,T,D,H", [(2, 5, 3, 4), (1, 8, 2, 3), (3, 1, 2, 2)])
def test_bptt_gradient_check_every_parameter_and_h0(impl, N, T, D, H):
    x, h0, *w = case(4, N, T, D, H)
    report = check_layer(impl.rnn_forward, impl.rnn_backward, x, h0, *w)
    assert report.passed, f"rnn_backward (x, h0, W_ih, W_hh, b_ih, b_hh):\n{report}"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_gradient_of_the_first_step_comes_from_the_last(impl):
    """A loss on the last output only: dx[:, 0] and dh0 are non-zero only if dh is carried back through time."""
    x, h0, *w = case(5, T=5)
    hs, cache = impl.rnn_forward(x, h0, *w)
    dhs = np.zeros_like(hs)
    dhs[:, -1] = 1.0
    dx, dh0, *_ = impl.rnn_backward(dhs, cache)
    assert np.abs(dx[:, 0]).max() > 1e-6 and np.abs(dh0).max() > 1e-6, (
        "the gradient of a loss at the last step never reached the first step: carry dh_prev to step t-1")


# ----------------------------------------------------------------------------------------------------
# Task 3: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_layer_init_shapes_bounds_and_dtype(impl):
    layer = impl.RNN(3, 16, rng=0)
    shapes = [p.data.shape for p in layer.parameters()]
    assert shapes == [(16, 3), (16, 16), (16,), (16,)]
    for p in layer.parameters():
        assert p.data.dtype == np.float32 and np.abs(p.data).max() <= 0.25 + 1e-7
        assert p.data.std() > 0.1, "U(-1/sqrt(H), 1/sqrt(H)) as PyTorch"
    layer64 = impl.RNN(3, 4, rng=0, dtype=np.float64)
    assert all(p.data.dtype == np.float64 for p in layer64.parameters())


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_layer_matches_the_functional_form_and_returns_h_n(impl):
    layer = impl.RNN(3, 5, rng=1, dtype=np.float64)
    x, h0, *_ = case(6)
    out, h_n = layer.forward(x, h0)
    hs, _ = impl.rnn_forward(x, h0, *(p.data for p in layer.parameters()))
    assert_close(out, hs, rtol=1e-12, what="layer output")
    assert_close(h_n, hs[:, -1], rtol=1e-12, what="h_n = the last output")
    out0, _ = layer.forward(x)
    hz, _ = impl.rnn_forward(x, np.zeros((2, 5)), *(p.data for p in layer.parameters()))
    assert_close(out0, hz, rtol=1e-12, what="h0=None means zeros")


@pytest.mark.gradient
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_layer_backward_accumulates_and_uses_dh_n(impl):
    layer = impl.RNN(3, 5, rng=2, dtype=np.float64)
    x, h0, *_ = case(7)
    out, h_n = layer.forward(x, h0)
    rng = np.random.default_rng(0)
    dout, dh_n = rng.standard_normal(out.shape), rng.standard_normal(h_n.shape)
    dx = layer.backward(dout, dh_n)
    full = dout.copy()
    full[:, -1] += dh_n
    _, cache = impl.rnn_forward(x, h0, *(p.data for p in layer.parameters()))
    ref = impl.rnn_backward(full, cache)
    assert_close(dx, ref[0], rtol=1e-10, what="dx with dh_n added to the last step")
    for p, g in zip(layer.parameters(), ref[2:]):
        assert_close(p.grad, g, rtol=1e-10, what="parameter grads")
    layer.forward(x, h0)
    layer.backward(dout, dh_n)
    for p, g in zip(layer.parameters(), ref[2:]):
        assert_close(p.grad, 2 * g, rtol=1e-10, what="a second backward ADDS into .grad")


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_layer_seeds(impl):
    a, b, c = impl.RNN(2, 3, rng=5), impl.RNN(2, 3, rng=5), impl.RNN(2, 3, rng=6)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        np.testing.assert_array_equal(pa.data, pb.data)
        assert not np.array_equal(pa.data, pc.data)


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_state_dict_copies_and_rejects_wrong_keys(impl):
    layer = impl.RNN(2, 3, rng=0)
    state = layer.state_dict()
    assert sorted(state) == sorted(NAMES)
    state["weight_hh"][...] = 7.0
    assert not np.any(layer.weight_hh.data == 7.0), "state_dict must return copies"
    other = impl.RNN(2, 3, rng=1)
    other.load_state_dict(layer.state_dict())
    for p, q in zip(layer.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    src = layer.state_dict()
    other.load_state_dict(src)
    src["bias_ih"][...] = 9.0
    assert not np.any(other.bias_ih.data == 9.0), "load_state_dict must copy"
    bad = layer.state_dict()
    bad.pop("bias_hh")
    with pytest.raises((KeyError, ValueError)):
        other.load_state_dict(bad)
    extra = dict(layer.state_dict(), extra=np.zeros(1))
    with pytest.raises((KeyError, ValueError)):
        other.load_state_dict(extra)
    wrong = dict(layer.state_dict(), weight_ih=np.zeros((3, 3), np.float32))
    with pytest.raises(ValueError):
        other.load_state_dict(wrong)


# ----------------------------------------------------------------------------------------------------
# Task 4: character data, truncated BPTT, clipping, sampling
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_char_vocab_round_trip(impl):
    v = impl.CharVocab("hello, world")
    assert len(v) == 9
    ids = v.encode("world")
    assert ids.dtype == np.int64 and ids.tolist() == [8, 6, 7, 5, 2]
    assert v.decode(ids) == "world"
    assert v.decode(v.encode("")) == ""
    with pytest.raises(ValueError):
        v.encode("xyz")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_train_val_split_is_the_contiguous_tail(impl):
    text = "abcdefghijklmnopqrst"
    train, val = impl.train_val_split(text)
    assert (train, val) == (text[:18], text[18:])
    train, val = impl.train_val_split(text, val_fraction=0.25)
    assert (train, val) == (text[:15], text[15:])
    assert impl.train_val_split(text, val_fraction=0.0) == (text, "")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_tbptt_batches_are_contiguous_streams(impl):
    ids = np.arange(23)
    batches = list(impl.tbptt_batches(ids, batch_size=2, seq_len=3))
    assert len(batches) == 3                      # L = 22 // 2 = 11 columns per stream, 3 windows of 3
    for x, y in batches:
        assert x.dtype == np.int64 and y.dtype == np.int64 and x.shape == y.shape == (2, 3)
        np.testing.assert_array_equal(y, x + 1)   # y is x shifted by one
    np.testing.assert_array_equal(batches[0][0], [[0, 1, 2], [11, 12, 13]])
    np.testing.assert_array_equal(batches[1][0], [[3, 4, 5], [14, 15, 16]])
    stream0 = np.concatenate([x[0] for x, _ in batches])
    np.testing.assert_array_equal(stream0, np.arange(9)), "row 0 of batch k+1 continues row 0 of batch k"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_clip_grad_norm_uses_the_global_norm(impl):
    from dlfs.components import load_topic
    optim = load_topic(3)
    a, b = optim.Parameter(np.zeros(2)), optim.Parameter(np.zeros(1))
    a.grad[...] = [3.0, 0.0]
    b.grad[...] = [4.0]
    total = impl.clip_grad_norm([a, b], max_norm=1.0)
    assert abs(total - 5.0) < 1e-9, "the total norm BEFORE clipping, over all parameters together"
    assert_close(a.grad, [0.6, 0.0], rtol=1e-5, what="a.grad scaled by 1/5")
    assert_close(b.grad, [0.8], rtol=1e-5, what="b.grad scaled by the same 1/5 (the direction is kept)")
    total = impl.clip_grad_norm([a, b], max_norm=10.0)
    assert abs(total - 1.0) < 1e-5
    assert_close(b.grad, [0.8], rtol=1e-5, what="below max_norm nothing changes")


def _bigram_step(V, table):
    def step(i, state):
        return table[i], (0 if state is None else state + 1)
    return step


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_sample_feeds_the_start_and_follows_temperature(impl):
    v = impl.CharVocab("abc")
    table = np.array([[0.0, 5.0, 0.0], [0.0, 0.0, 5.0], [5.0, 0.0, 0.0]])   # a -> b -> c -> a
    out = impl.sample(_bigram_step(3, table), v, "ca", 5, np.random.default_rng(0), temperature=0)
    assert out == "cabcabc", "temperature 0 is argmax; the prediction starts from the LAST start character"
    rng = np.random.default_rng(0)
    cold = impl.sample(_bigram_step(3, table), v, "a", 200, rng, temperature=0.1)
    assert cold == "a" + "bca" * 66 + "bc"
    hot = impl.sample(_bigram_step(3, table), v, "a", 300, np.random.default_rng(0), temperature=100.0)
    follows = sum(hot[i + 1] == "abc"[("abc".index(hot[i]) + 1) % 3] for i in range(300))
    assert follows < 150, "a high temperature flattens the distribution towards uniform"
