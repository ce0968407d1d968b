"""Topic 21 stress tests: a medium stack against the reference, many random packs, learning on padded batches,
determinism, call sequences, speed."""

import numpy as np
import pytest
from dlfs.components import load_topic
from dlfs.testing import as_array, assert_close

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_params(D, H, num_layers, bidirectional, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    K, s = (2 if bidirectional else 1), 1 / np.sqrt(H)
    params = {}
    for layer in range(num_layers):
        for suffix in ("", "_reverse")[:K]:
            d = D if layer == 0 else K * H
            for n, shape in zip(NAMES, ((3 * H, d), (3 * H, H), (3 * H,), (3 * H,))):
                params[f"{n}_l{layer}{suffix}"] = rng.uniform(-s, s, size=shape).astype(dtype)
    return params


@pytest.mark.value
@pytest.mark.hint(6)
@pytest.mark.task(5)
def test_medium_stack_matches_the_reference(impl, reference):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 21, size=8)
    x, h0 = rng.standard_normal((8, 20, 6)), rng.standard_normal((4, 8, 5))
    params = make_params(6, 5, 2, True, seed=1)
    out, h_n, cache = impl.stacked_forward(x, lengths, h0, params, 2, True)
    ref, h_ref, cache_ref = reference.stacked_forward(x, lengths, h0, params, 2, True)
    assert_close(out, ref, rtol=1e-10, atol=1e-12, what="(8, 20, 6), 2 bidirectional layers of 5 vs the reference")
    assert_close(h_n, h_ref, rtol=1e-10, atol=1e-12, what="h_n vs the reference")
    dout, dh_n = rng.standard_normal((8, 20, 10)), rng.standard_normal((4, 8, 5))
    dx, dh0, grads = impl.stacked_backward(dout, cache, dh_n)
    rdx, rdh0, rgrads = reference.stacked_backward(dout, cache_ref, dh_n)
    assert_close(dx, rdx, rtol=1e-9, atol=1e-11, what="dx vs the reference")
    assert_close(dh0, rdh0, rtol=1e-9, atol=1e-11, what="dh0 vs the reference")
    for k in params:
        assert_close(grads[k], rgrads[k], rtol=1e-9, atol=1e-11, what=f"d{k} vs the reference")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_many_random_packs_round_trip(impl, reference):
    rng = np.random.default_rng(1)
    for _ in range(40):
        N, T = int(rng.integers(1, 7)), int(rng.integers(1, 9))
        lengths = rng.integers(1, T + 1, size=N)
        x = rng.standard_normal((N, T, 2))
        p = impl.pack_padded_sequence(x, lengths, enforce_sorted=False)
        q = reference.pack_padded_sequence(x, lengths, enforce_sorted=False)
        for a, b, name in zip(p, q, ("data", "batch_sizes", "sorted_indices", "unsorted_indices")):
            assert np.array_equal(as_array(a), as_array(b)), f"{name} for lengths {lengths.tolist()} (ties keep order)"
        padded, back = impl.pad_packed_sequence(p, total_length=T, padding_value=-1.0)
        mask = np.arange(T)[None, :] < lengths[:, None]
        assert_close(padded, np.where(mask[:, :, None], x, -1.0), rtol=0, atol=0, what=f"round trip, {lengths.tolist()}")
        assert np.array_equal(as_array(back), lengths)


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_bidirectional_classifier_learns_on_padded_batches(impl):
    # label = is the LAST real input positive? A forward-only read of h_n would see it; here the classifier reads
    # the masked mean of a bidirectional layer, trained with Topic 03's Adam on batches of varied lengths
    optim = load_topic(3)
    layer = impl.StackedRNN(1, 6, bidirectional=True, rng=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    w_out = optim.Parameter(rng.normal(0, 0.3, size=(12, 2)))
    opt = optim.Adam(layer.parameters() + [w_out], lr=0.05)
    losses = []
    for _ in range(60):
        lengths = rng.integers(2, 9, size=16)
        x = rng.uniform(-1, 1, size=(16, 8, 1)) * (np.arange(8)[None, :, None] < lengths[:, None, None])
        x[np.arange(16), 7, 0] += 5.0 * (np.arange(16) % 2)        # junk in the padding of every other row
        x[np.arange(16), lengths - 1, 0] = rng.uniform(-1, 1, size=16)
        y = (x[np.arange(16), lengths - 1, 0] > 0).astype(int)
        out, _ = layer.forward(x, lengths)
        pooled, cache = impl.masked_mean_forward(out, lengths)
        logits = as_array(pooled) @ w_out.data
        loss, dlogits = impl.masked_cross_entropy(logits[:, None, :], y[:, None], np.ones(16, int))
        losses.append(float(loss))
        for p in layer.parameters() + [w_out]:
            p.grad[...] = 0
        w_out.grad[...] = as_array(pooled).T @ as_array(dlogits)[:, 0]
        layer.backward(impl.masked_mean_backward(as_array(dlogits)[:, 0] @ w_out.data.T, cache))
        opt.step()
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert last < first / 2, f"the sign of the last real input: loss {first:.3f} -> {last:.3f}, expected 2x lower"


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_same_seed_gives_the_same_weights_and_seeds_differ(impl):
    a = impl.StackedRNN(5, 7, num_layers=2, bidirectional=True, rng=3)
    b = impl.StackedRNN(5, 7, num_layers=2, bidirectional=True, rng=3)
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.array_equal(as_array(p.data), as_array(q.data)), "the same seed must give bit-identical weights"
    c = impl.StackedRNN(5, 7, num_layers=2, bidirectional=True, rng=4)
    assert not np.array_equal(as_array(a.weight_hh_l1.data), as_array(c.weight_hh_l1.data)), "seeds 3 and 4 differ"
    assert not np.array_equal(as_array(a.bias_ih_l0.data), as_array(a.bias_ih_l0_reverse.data)), \
        "the two directions get their own draws"
    gen = np.random.default_rng(0)
    d, e = impl.StackedRNN(5, 7, rng=gen), impl.StackedRNN(5, 7, rng=gen)
    assert not np.array_equal(as_array(d.weight_ih_l0.data), as_array(e.weight_ih_l0.data)), \
        "two layers from one Generator must differ (use it, don't re-seed from it)"
    np.random.seed(0)
    f = impl.StackedRNN(5, 7, rng=11)
    np.random.seed(1)
    g = impl.StackedRNN(5, 7, rng=11)
    assert np.array_equal(as_array(f.weight_ih_l0.data), as_array(g.weight_ih_l0.data)), "np.random.seed plays no part"


@pytest.mark.determinism
@pytest.mark.hint(6)
@pytest.mark.task(5)
def test_reruns_are_bit_identical_and_inputs_untouched(impl):
    rng = np.random.default_rng(2)
    lengths = np.array([3, 7, 1, 5])
    x, h0, dout = rng.standard_normal((4, 7, 3)), rng.standard_normal((4, 4, 2)), rng.standard_normal((4, 7, 4))
    params = make_params(3, 2, 2, True, seed=2)
    saved = [a.copy() for a in (x, h0, dout, lengths, *params.values())]
    runs = []
    for _ in range(2):
        out, h_n, cache = impl.stacked_forward(x, lengths, h0, params, 2, True)
        dx, dh0, grads = impl.stacked_backward(dout, cache)
        p = impl.pack_padded_sequence(x, lengths, enforce_sorted=False)
        runs.append([as_array(a).copy() for a in (out, h_n, dx, dh0, *grads.values(), p.data)])
    for a, b in zip(*runs):
        assert np.array_equal(a, b), "two identical runs must give bit-identical results"
    for a, b in zip(saved, (x, h0, dout, lengths, *params.values())):
        assert np.array_equal(a, b), "forward, backward and packing must never modify their inputs"


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_train_eval_backward_sequence(impl):
    layer = impl.StackedRNN(3, 4, num_layers=2, bidirectional=True, rng=0, dtype=np.float64)
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 5, 3))
    dout = rng.standard_normal((2, 5, 8))
    out_train, _ = layer.train().forward(x2, [5, 2])
    layer.forward(x1, [3, 4])
    out_eval, _ = layer.eval().forward(x2, [5, 2])
    assert_close(out_eval, out_train, rtol=0, atol=0, what="the same output in train and eval mode")
    dx = layer.backward(dout)
    params = {k: getattr(layer, k).data for k in impl.parameter_names(2, True)}
    _, _, cache = impl.stacked_forward(x2, [5, 2], np.zeros((4, 2, 4)), params, 2, True)
    assert_close(dx, impl.stacked_backward(dout, cache)[0], rtol=1e-12, atol=1e-14,
                 what="backward must use the cache of the last forward")


@pytest.mark.performance
@pytest.mark.hint(6)
@pytest.mark.task(5)
def test_stacked_forward_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 26, size=16)
    x, h0 = rng.standard_normal((16, 25, 16)).astype(np.float32), np.zeros((4, 16, 32), np.float32)
    params = make_params(16, 32, 2, True, dtype=np.float32)
    compare_speed(lambda: impl.stacked_forward(x, lengths, h0, params, 2, True),
                  lambda: reference.stacked_forward(x, lengths, h0, params, 2, True), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(6)
@pytest.mark.task(5)
def test_stacked_backward_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 26, size=16)
    x, h0 = rng.standard_normal((16, 25, 16)).astype(np.float32), np.zeros((4, 16, 32), np.float32)
    params = make_params(16, 32, 2, True, dtype=np.float32)
    dout = rng.standard_normal((16, 25, 64)).astype(np.float32)
    _, _, cache = impl.stacked_forward(x, lengths, h0, params, 2, True)
    _, _, cache_ref = reference.stacked_forward(x, lengths, h0, params, 2, True)
    compare_speed(lambda: impl.stacked_backward(dout, cache), lambda: reference.stacked_backward(dout, cache_ref),
                  threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_pack_speed(impl, reference, compare_speed):
    rng = np.random.default_rng(0)
    lengths = rng.integers(1, 101, size=64)
    x = rng.standard_normal((64, 100, 32)).astype(np.float32)

    def round_trip(m):
        return m.pad_packed_sequence(m.pack_padded_sequence(x, lengths, enforce_sorted=False), total_length=100)

    compare_speed(lambda: round_trip(impl), lambda: round_trip(reference), threshold=3.0)
