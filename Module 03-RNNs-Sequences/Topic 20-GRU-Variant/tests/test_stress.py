"""Topic 20 stress tests: a long sequence, learning with Adam, determinism, call sequences, speed."""

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.testing import as_array, assert_close

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_weights(D, H, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    s = 1 / np.sqrt(H)
    return [rng.uniform(-s, s, size=shape).astype(dtype) for shape in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,))]


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_medium_sequence_matches_the_reference(impl, reference):
    w = make_weights(16, 24, seed=1)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((8, 30, 16)), rng.standard_normal((8, 24))
    hs, cache = impl.gru_forward(x, h0, *w)
    ref, cache_ref = reference.gru_forward(x, h0, *w)
    assert_close(hs, ref, rtol=1e-10, atol=1e-12, what="(8, 30, 16) -> 24 vs the level-2 reference")
    dhs = rng.standard_normal((8, 30, 24))
    for a, b in zip(impl.gru_backward(dhs, cache), reference.gru_backward(dhs, cache_ref)):
        assert_close(a, b, rtol=1e-9, atol=1e-11, what="backward vs the level-2 reference")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_long_sequence_stays_bounded(impl):
    w = [3 * a for a in make_weights(4, 8, seed=2)]
    x = np.random.default_rng(1).standard_normal((2, 300, 4)) * 5
    hs = as_array(impl.gru_forward(x, np.zeros((2, 8)), *w)[0])
    assert np.all(np.isfinite(hs)) and np.abs(hs).max() <= 1.0, \
        "h' is a convex mix of h and tanh(...): starting at 0 it can never leave [-1, 1]"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_gru_learns_to_remember_the_first_input_with_adam(impl):
    # the target is the first input of each sequence, read from h_n[:, 0] after 8 steps of noise
    optim = load_topic(3)
    layer = impl.GRU(1, 6, rng=0, dtype=np.float64)
    opt = optim.Adam(layer.parameters(), lr=0.03)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(150):
        x = rng.uniform(-0.5, 0.5, size=(32, 8, 1))
        _, h_n = layer.forward(x)
        err = as_array(h_n)[:, 0] - x[:, 0, 0]
        losses.append(float((err ** 2).mean()))
        dh_n = np.zeros((32, 6))
        dh_n[:, 0] = 2 * err / 32
        for p in layer.parameters():
            p.grad[...] = 0
        layer.backward(np.zeros((32, 8, 6)), dh_n)
        opt.step()
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert last < first / 5, f"remembering the first input: mean squared error {first:.4f} -> {last:.4f}, expected 5x lower"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_same_seed_gives_the_same_weights_and_seeds_differ(impl):
    a, b = impl.GRU(5, 7, rng=3), impl.GRU(5, 7, rng=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(as_array(p.data), as_array(q.data)), "the same seed must give bit-identical weights"
    c = impl.GRU(5, 7, rng=4)
    assert not np.array_equal(as_array(a.weight_hh.data), as_array(c.weight_hh.data)), "seeds 3 and 4 must differ"
    gen = np.random.default_rng(0)
    d, e = impl.GRU(5, 7, rng=gen), impl.GRU(5, 7, rng=gen)
    assert not np.array_equal(as_array(d.weight_ih.data), as_array(e.weight_ih.data)), \
        "two layers from one Generator must differ (use it, don't re-seed from it)"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_init_ignores_numpys_global_seed(impl):
    np.random.seed(0)
    a = impl.GRU(4, 4, rng=11)
    np.random.seed(1)
    b = impl.GRU(4, 4, rng=11)
    assert np.array_equal(as_array(a.weight_ih.data), as_array(b.weight_ih.data)), "np.random.seed must play no part"


@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    w = make_weights(5, 6, seed=5)
    rng = np.random.default_rng(2)
    x, h0, dhs = rng.standard_normal((3, 7, 5)), rng.standard_normal((3, 6)), rng.standard_normal((3, 7, 6))
    saved = [a.copy() for a in (x, h0, dhs, *w)]
    runs = []
    for _ in range(2):
        hs, cache = impl.gru_forward(x, h0, *w)
        runs.append([as_array(hs).copy()] + [as_array(g).copy() for g in impl.gru_backward(dhs, cache)])
    for a, b in zip(*runs):
        assert np.array_equal(a, b), "two identical runs must give bit-identical results"
    for a, b in zip(saved, (x, h0, dhs, *w)):
        assert np.array_equal(a, b), "gru_forward / gru_backward must never modify their inputs"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_train_eval_backward_sequence(impl):
    # train -> forward, eval -> forward, backward: backward uses the LAST forward; a GRU has no mode-dependent part
    layer = impl.GRU(3, 4, rng=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 3))
    dout = rng.standard_normal((2, 5, 4))
    out_train, _ = layer.train().forward(x2)
    layer.forward(x1)
    out_eval, _ = layer.eval().forward(x2)
    assert_close(out_eval, out_train, rtol=0, atol=0, what="a GRU gives the same output in train and eval mode")
    dx = layer.backward(dout)
    _, cache = impl.gru_forward(x2, np.zeros((2, 4)), *(getattr(layer, k).data for k in NAMES))
    assert_close(dx, impl.gru_backward(dout, cache)[0], rtol=1e-12, atol=1e-14,
                 what="backward must use the cache of the last forward")


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_forward_speed(impl, reference, compare_speed):
    w = make_weights(32, 64, seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((16, 25, 32)).astype(np.float32), np.zeros((16, 64), np.float32)
    compare_speed(impl.gru_forward, reference.gru_forward, x, h0, *w, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_backward_speed(impl, reference, compare_speed):
    w = make_weights(32, 64, seed=0, dtype=np.float32)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((16, 25, 32)).astype(np.float32), np.zeros((16, 64), np.float32)
    dhs = rng.standard_normal((16, 25, 64)).astype(np.float32)
    _, cache = impl.gru_forward(x, h0, *w)
    _, cache_ref = reference.gru_forward(x, h0, *w)
    compare_speed(lambda: impl.gru_backward(dhs, cache), lambda: reference.gru_backward(dhs, cache_ref), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(4)
def test_layer_step_speed(impl, reference, compare_speed):
    x = np.random.default_rng(0).standard_normal((16, 25, 32)).astype(np.float32)
    dout = np.ones((16, 25, 64), np.float32)
    mine, ref = impl.GRU(32, 64, rng=0), reference.GRU(32, 64, rng=0)

    def step(layer):
        layer.forward(x)
        return layer.backward(dout)

    compare_speed(lambda: step(mine), lambda: step(ref), threshold=3.0)
