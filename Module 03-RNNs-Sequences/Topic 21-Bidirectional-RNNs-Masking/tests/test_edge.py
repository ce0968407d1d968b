"""Topic 21 edge tests: bad lengths, unsorted packs, shapes that would broadcast, N = 1, length 1, float32, views,
NaN at a real step, misuse of the layer."""

import numpy as np
import pytest
from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
GATES = {"gru": 3, "rnn": 1}


def make_weights(D, H, cell="gru", seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    G, s = GATES[cell], 1 / np.sqrt(H)
    return [rng.uniform(-s, s, size=shape).astype(dtype) for shape in ((G * H, D), (G * H, H), (G * H,), (G * H,))]


def make_params(D, H, num_layers, bidirectional, cell="gru", seed=0, dtype=np.float64):
    K = 2 if bidirectional else 1
    params = {}
    for layer in range(num_layers):
        for k, suffix in enumerate(("", "_reverse")[:K]):
            w = make_weights(D if layer == 0 else K * H, H, cell, 100 * seed + 10 * layer + k, dtype)
            params.update({f"{n}_l{layer}{suffix}": a for n, a in zip(NAMES, w)})
    return params


def raises_value_error(fn, what):
    with pytest.raises(ValueError):
        fn()
        pytest.fail(f"accepted {what}: raise ValueError")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("lengths,what", [([3, 0, 2], "a length 0"), ([3, 5, 2], "a length larger than T = 4"),
                                          ([3, -1, 2], "a negative length")])
def test_bad_lengths_are_rejected_everywhere(impl, lengths, what):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 4, 2)), make_weights(2, 3)
    layer = impl.StackedRNN(2, 3, bidirectional=True, rng=0, dtype=np.float64)
    calls = {
        "sequence_mask": lambda: impl.sequence_mask(lengths, 4),
        "reverse_padded": lambda: impl.reverse_padded(x, lengths),
        "pack_padded_sequence": lambda: impl.pack_padded_sequence(x, lengths, enforce_sorted=False),
        "masked_forward": lambda: impl.masked_forward(x, lengths, np.zeros((3, 3)), *w),
        "bidirectional_forward": lambda: impl.bidirectional_forward(x, lengths, np.zeros((2, 3, 3)), w, w),
        "stacked_forward": lambda: impl.stacked_forward(x, lengths, np.zeros((1, 3, 3)), make_params(2, 3, 1, False)),
        "StackedRNN.forward": lambda: layer.forward(x, lengths),
        "masked_mean_forward": lambda: impl.masked_mean_forward(x, lengths),
        "masked_cross_entropy": lambda: impl.masked_cross_entropy(x, np.zeros((3, 4), int), lengths),
    }
    for name, fn in calls.items():
        raises_value_error(fn, f"{name} with {what}")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_lengths_of_the_wrong_shape_or_type_are_rejected(impl):
    x = np.zeros((3, 4, 2))
    for lengths, what in (([[3], [1], [2]], "lengths (N, 1)"), ([3, 1], "2 lengths for 3 sequences"),
                          ([3, 1, 2, 2], "4 lengths for 3 sequences"), ([3.0, 1.0, 2.0], "float lengths"),
                          ([True, True, True], "bool lengths"), (2, "a scalar length")):
        raises_value_error(lambda lengths=lengths: impl.reverse_padded(x, lengths), f"reverse_padded with {what}")
        raises_value_error(lambda lengths=lengths: impl.masked_mean_forward(x, lengths), f"masked_mean_forward with {what}")
    for T in (0, 2.5, True):
        raises_value_error(lambda T=T: impl.sequence_mask([1, 1], T), f"sequence_mask with T = {T!r}")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_enforce_sorted_raises_on_unsorted_lengths(impl):
    x = np.random.default_rng(1).standard_normal((3, 4, 2))
    raises_value_error(lambda: impl.pack_padded_sequence(x, [2, 4, 1]), "unsorted lengths with enforce_sorted=True")
    raises_value_error(lambda: impl.pack_padded_sequence(x, [1, 2, 4], enforce_sorted=True),
                       "increasing lengths with enforce_sorted=True")
    p = impl.pack_padded_sequence(x, [4, 2, 2])                   # ties are sorted
    assert np.array_equal(as_array(p.batch_sizes), [3, 3, 1, 1]), "lengths (4, 2, 2): batch_sizes (3, 3, 1, 1)"
    q = impl.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False)
    assert np.array_equal(as_array(q.sorted_indices), [1, 0, 2]), "enforce_sorted=False sorts by decreasing length"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_inconsistent_packs_and_pads_are_rejected(impl):
    x = np.random.default_rng(2).standard_normal((3, 4, 2))
    p = impl.pack_padded_sequence(x, [1, 4, 2], enforce_sorted=False)      # sorted_indices (1, 2, 0)
    raises_value_error(lambda: impl.pad_packed_sequence(p, total_length=3), "total_length 3 < the longest length 4")
    raises_value_error(lambda: impl.pack_padded_sequence(np.zeros((0, 4, 2)), []), "an empty batch")
    raises_value_error(lambda: impl.pack_padded_sequence(np.zeros(4), [4]), "a 1-D x")
    bad = {"data with a missing row": impl.PackedSequence(as_array(p.data)[:-1], *p[1:]),
           "increasing batch_sizes": impl.PackedSequence(p.data, np.array([1, 2, 2, 2]), *p[2:]),
           "batch_sizes that grow again (2, 1, 2, 2)": impl.PackedSequence(as_array(p.data), np.array([2, 1, 2, 2]), *p[2:]),
           "unsorted_indices equal to sorted_indices": impl.PackedSequence(p.data, p.batch_sizes, p.sorted_indices,
                                                                           p.sorted_indices),
           "sorted_indices without unsorted_indices": impl.PackedSequence(p.data, p.batch_sizes, p.sorted_indices, None)}
    for what, packed in bad.items():
        raises_value_error(lambda packed=packed: impl.pad_packed_sequence(packed), f"pad_packed_sequence of {what}")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_masked_shapes_that_would_broadcast_are_rejected(impl):
    D, H = 3, 4
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H)
    x, lengths, h0 = np.zeros((2, 5, D)), [5, 2], np.zeros((2, H))
    bad = {"h0 (1, H)": (x, lengths, np.zeros((1, H)), w_ih, w_hh, b_ih, b_hh),
           "h0 (1, N, H) as torch's": (x, lengths, np.zeros((1, 2, H)), w_ih, w_hh, b_ih, b_hh),
           "x time-first with the wrong D": (np.zeros((5, 2, D + 1)), lengths, h0, w_ih, w_hh, b_ih, b_hh),
           "x 2-D": (np.zeros((2, D)), lengths, h0, w_ih, w_hh, b_ih, b_hh),
           "T = 0": (np.zeros((2, 0, D)), [1, 1], h0, w_ih, w_hh, b_ih, b_hh),
           "bias_ih (1,)": (x, lengths, h0, w_ih, w_hh, np.zeros(1), b_hh),
           "bias_hh (1, 3H)": (x, lengths, h0, w_ih, w_hh, b_ih, np.zeros((1, 3 * H))),
           "weight_hh (H, H) for a gru": (x, lengths, h0, w_ih, np.zeros((H, H)), b_ih, b_hh)}
    for what, args in bad.items():
        raises_value_error(lambda args=args: impl.masked_forward(*args), f"masked_forward with {what}")
    raises_value_error(lambda: impl.masked_forward(x, lengths, h0, w_ih, w_hh, b_ih, b_hh, cell="lstm"), "cell='lstm'")
    _, _, cache = impl.masked_forward(x, lengths, h0, w_ih, w_hh, b_ih, b_hh)
    for shape in [(2, 5, 1), (5, 2, H), (1, 5, H), (2, H)]:
        raises_value_error(lambda shape=shape: impl.masked_backward(np.zeros(shape), cache), f"masked_backward dhs of shape {shape}")
    raises_value_error(lambda: impl.masked_backward(np.zeros((2, 5, H)), cache, np.zeros((1, H))), "dh_n (1, H)")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_bidirectional_and_stacked_shapes_that_would_broadcast_are_rejected(impl):
    D, H = 3, 2
    w = make_weights(D, H)
    x, lengths = np.zeros((2, 4, D)), [4, 1]
    raises_value_error(lambda: impl.bidirectional_forward(x, lengths, np.zeros((2, 1, H)), w, w), "h0 (2, 1, H)")
    raises_value_error(lambda: impl.bidirectional_forward(x, lengths, np.zeros((2, H)), w, w), "h0 (N, H)")
    raises_value_error(lambda: impl.bidirectional_forward(x, lengths, np.zeros((2, 2, H)), w, w[:3]), "3 weights")
    _, _, cache = impl.bidirectional_forward(x, lengths, np.zeros((2, 2, H)), w, w)
    raises_value_error(lambda: impl.bidirectional_backward(np.zeros((2, 4, H)), cache), "dout (N, T, H), not 2H")
    raises_value_error(lambda: impl.bidirectional_backward(np.zeros((2, 4, 2 * H)), cache, np.zeros((1, 2, H))),
                       "dh_n (1, N, H)")
    params = make_params(D, H, 2, True)
    raises_value_error(lambda: impl.stacked_forward(x, lengths, np.zeros((2, 2, H)), params, 2, True),
                       "h0 (num_layers, N, H) for a bidirectional stack (needs num_layers * 2)")
    raises_value_error(lambda: impl.stacked_forward(x, lengths, np.zeros((4, 1, H)), params, 2, True), "h0 (4, 1, H)")
    missing = {k: v for k, v in params.items() if k != "bias_hh_l1_reverse"}
    raises_value_error(lambda: impl.stacked_forward(x, lengths, np.zeros((4, 2, H)), missing, 2, True), "a missing key")
    raises_value_error(lambda: impl.stacked_forward(x, lengths, np.zeros((4, 2, H)), params, 2, False),
                       "'_reverse' keys for a one-direction stack")
    _, _, cache = impl.stacked_forward(x, lengths, np.zeros((4, 2, H)), params, 2, True)
    raises_value_error(lambda: impl.stacked_backward(np.zeros((2, 4, H)), cache), "stacked dout (N, T, H)")
    raises_value_error(lambda: impl.stacked_backward(np.zeros((2, 4, 2 * H)), cache, np.zeros((2, 2, H))),
                       "stacked dh_n (2, N, H) for 4 states")
    for n in (0, True, 1.5):
        raises_value_error(lambda n=n: impl.parameter_names(n), f"parameter_names(num_layers={n!r})")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_hidden_size_one(impl):
    # H = 1 is a valid layer: a tanh RNN of one unit, checked step by step against the formula
    rng = np.random.default_rng(8)
    x, h0 = rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 1))
    w_ih, w_hh, b_ih, b_hh = make_weights(2, 1, "rnn", seed=4)
    hs, h_n, _ = impl.masked_forward(x, [3, 2], h0, w_ih, w_hh, b_ih, b_hh, cell="rnn")
    h, want = h0, np.zeros((2, 3, 1))
    for t in range(3):
        h = np.tanh(x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
        want[:, t] = h
    want[1, 2] = 0
    assert_close(hs, want, rtol=1e-12, atol=1e-14, what="hidden_size 1 (cell='rnn')")
    assert_close(h_n, [want[0, 2], want[1, 1]], rtol=1e-12, atol=1e-14, what="h_n with hidden_size 1")
    layer = impl.StackedRNN(2, 1, bidirectional=True, rng=0, dtype=np.float64)
    assert_shape(layer.forward(x, [3, 1])[0], (2, 3, 2), "a bidirectional GRU of one unit: out (N, T, 2)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_batch_of_one_equals_its_row_of_a_batch(impl):
    rng = np.random.default_rng(3)
    params = make_params(3, 2, 2, True, "rnn", seed=4)
    lengths = np.array([4, 2, 3])
    x, h0 = rng.standard_normal((3, 4, 3)), rng.standard_normal((4, 3, 2))
    out, h_n, cache = impl.stacked_forward(x, lengths, h0, params, 2, True, "rnn")
    one, h1, cache1 = impl.stacked_forward(x[1:2], lengths[1:2], h0[:, 1:2], params, 2, True, "rnn")
    assert_shape(one, (1, 4, 4), "N = 1, T = 4 kept (padded)")
    assert_close(one, as_array(out)[1:2], rtol=1e-12, atol=1e-14, what="a batch of one vs its row of the batch")
    assert_close(h1, as_array(h_n)[:, 1:2], rtol=1e-12, atol=1e-14, what="h_n of a batch of one")
    dout = rng.standard_normal((3, 4, 4))
    dx = as_array(impl.stacked_backward(dout, cache)[0])
    dx1 = as_array(impl.stacked_backward(dout[1:2], cache1)[0])
    assert_close(dx1, dx[1:2], rtol=1e-11, atol=1e-13, what="dx of a batch of one")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_sequences_of_length_one(impl):
    # with every length 1 both directions make exactly one step from their own h0, on x[:, 0]
    rng = np.random.default_rng(4)
    x, h0 = rng.standard_normal((3, 4, 2)), rng.standard_normal((2, 3, 3))
    w_f, w_b = make_weights(2, 3, seed=1), make_weights(2, 3, seed=2)
    out, h_n, _ = impl.bidirectional_forward(x, [1, 1, 1], h0, w_f, w_b)
    alone, _, _ = impl.bidirectional_forward(x[:, :1], [1, 1, 1], h0, w_f, w_b)
    assert_close(as_array(out)[:, :1], alone, rtol=1e-12, atol=1e-14, what="length 1 in a T = 4 batch vs T = 1")
    assert np.all(as_array(out)[:, 1:] == 0), "all steps after the first are padding"
    assert_close(as_array(h_n), as_array(alone)[:, 0].reshape(3, 2, 3).transpose(1, 0, 2), rtol=0, atol=0,
                 what="length 1: h_n of each direction is its only output")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_nan_at_a_real_step_stays_in_its_sequence(impl):
    # forward direction: NaN from step 2 on; backward direction: NaN at steps 0..2 (it reads step 2 after 3..L-1)
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((3, 5, 2)), make_weights(2, 3, seed=3)
    x[1, 2, 0] = np.nan
    out, _, _ = impl.bidirectional_forward(x, [5, 4, 3], np.zeros((2, 3, 3)), w, w)
    out = as_array(out)
    assert np.all(np.isfinite(out[[0, 2]])), "a NaN in sequence 1 must not reach the other sequences"
    assert np.all(np.isfinite(out[1, :2, :3])) and np.all(np.isnan(out[1, 2:4, :3])), \
        "forward direction: finite before step 2, NaN from step 2 to the last real step"
    assert np.all(np.isfinite(out[1, 3, 3:])) and np.all(np.isnan(out[1, :3, 3:])), \
        "backward direction: finite at step 3 (read first), NaN at steps 2, 1, 0"
    assert np.all(out[1, 4] == 0), "the padding of sequence 1 stays 0"


@pytest.mark.edge
@pytest.mark.hint(6)
@pytest.mark.task(5)
def test_float32_stays_float32(impl):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    lengths = np.array([4, 1, 3])
    w = make_weights(2, 3, dtype=np.float32)
    hs, h_n, cache = impl.masked_forward(x, lengths, np.zeros((3, 3), np.float32), *w)
    assert as_array(hs).dtype == np.float32 and as_array(h_n).dtype == np.float32, "masked_forward float32"
    for g in impl.masked_backward(np.ones((3, 4, 3), np.float32), cache, np.ones((3, 3), np.float32)):
        assert as_array(g).dtype == np.float32, "masked_backward float32 gradients"
    params = make_params(2, 3, 2, True, dtype=np.float32)
    out, h_n, cache = impl.stacked_forward(x, lengths, np.zeros((4, 3, 3), np.float32), params, 2, True)
    assert as_array(out).dtype == np.float32 and as_array(h_n).dtype == np.float32, "stacked_forward float32"
    dx, dh0, grads = impl.stacked_backward(np.ones((3, 4, 6), np.float32), cache)
    assert all(as_array(g).dtype == np.float32 for g in (dx, dh0, *grads.values())), "stacked_backward float32"
    ref, _, _ = impl.stacked_forward(x.astype(np.float64), lengths, np.zeros((4, 3, 3)),
                                     {k: v.astype(np.float64) for k, v in params.items()}, 2, True)
    assert_close(out, ref, rtol=1e-4, atol=1e-5, what="float32 stack vs float64")
    p = impl.pack_padded_sequence(x, lengths, enforce_sorted=False)
    assert as_array(p.data).dtype == np.float32, "packing keeps the dtype"
    assert as_array(impl.pad_packed_sequence(p)[0]).dtype == np.float32, "padding keeps the dtype"
    assert as_array(impl.reverse_padded(x, lengths)).dtype == np.float32, "reverse_padded keeps the dtype"
    pooled, c = impl.masked_mean_forward(x, lengths)
    assert as_array(pooled).dtype == np.float32, "masked_mean_forward float32"
    assert as_array(impl.masked_mean_backward(np.ones((3, 2), np.float32), c)).dtype == np.float32
    _, d = impl.masked_cross_entropy(x, np.zeros((3, 4), int), lengths)
    assert as_array(d).dtype == np.float32, "masked_cross_entropy dlogits float32"


@pytest.mark.edge
@pytest.mark.hint(6)
@pytest.mark.task(5)
def test_non_contiguous_inputs(impl):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((5, 3, 2)).transpose(1, 0, 2)           # time-first data seen batch first
    h0 = rng.standard_normal((4, 2, 3)).transpose(0, 2, 1)
    lengths = np.array([5, 2, 4])[::-1][::-1]
    params = make_params(2, 2, 2, True, seed=5)
    views = {k: np.asfortranarray(v) if v.ndim == 2 else v for k, v in params.items()}
    out, _, cache = impl.stacked_forward(x, lengths, h0, views, 2, True)
    ref, _, cache_ref = impl.stacked_forward(np.ascontiguousarray(x), lengths.copy(), np.ascontiguousarray(h0),
                                                 params, 2, True)
    assert_close(out, ref, rtol=1e-12, atol=1e-14, what="non-contiguous x, h0 and weights")
    dout = rng.standard_normal((5, 3, 4)).transpose(1, 0, 2)
    for a, b in zip(impl.stacked_backward(dout, cache)[:2], impl.stacked_backward(np.ascontiguousarray(dout), cache_ref)[:2]):
        assert_close(a, b, rtol=1e-11, atol=1e-13, what="backward with a non-contiguous dout")
    p = impl.pack_padded_sequence(x, lengths, enforce_sorted=False)
    assert_close(impl.pad_packed_sequence(p)[0], np.where((np.arange(5) < lengths[:, None])[:, :, None], x, 0),
                 rtol=0, atol=0, what="pack / pad of a transposed view")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_float32_layer_in_train_and_eval(impl):
    layer = impl.StackedRNN(3, 4, num_layers=2, bidirectional=True, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    for mode in (layer.train, layer.eval):
        assert mode() is layer, "train() and eval() return the layer"
        out, h_n = layer.forward(x, [5, 3])
        assert as_array(out).dtype == np.float32 and as_array(h_n).dtype == np.float32, "float32 layer outputs"
        dx = layer.backward(np.ones((2, 5, 8), np.float32), np.ones((4, 2, 4), np.float32))
        assert as_array(dx).dtype == np.float32, "float32 dx"
        assert all(as_array(p.grad).dtype == np.float32 for p in layer.parameters()), "float32 grads"
    assert layer.training is False


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_layer_misuse_raises(impl):
    for args, kwargs in (((0, 4), {}), ((3, 0), {}), ((3.5, 4), {}), ((True, 4), {}), ((3, 4), {"num_layers": 0}),
                         ((3, 4), {"num_layers": 2.0}), ((3, 4), {"cell": "lstm"})):
        with pytest.raises(ValueError):
            impl.StackedRNN(*args, **kwargs)
            pytest.fail(f"StackedRNN{args} {kwargs} must raise ValueError")
    layer = impl.StackedRNN(3, 4, bidirectional=True, rng=0)
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((2, 5, 8), np.float32))
    raises_value_error(lambda: layer.forward(np.zeros((2, 5, 4), np.float32)), "x with D = 4 for input_size 3")
    raises_value_error(lambda: layer.forward(np.zeros((2, 5, 3), np.float32), None, np.zeros((1, 2, 4))),
                       "h0 (1, N, H) for a bidirectional layer")
    layer.forward(np.zeros((2, 5, 3), np.float32))
    raises_value_error(lambda: layer.backward(np.ones((2, 5, 8), np.float32), np.ones((2, 1, 4), np.float32)),
                       "dh_n (2, 1, H) would broadcast")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_load_state_dict_rejects_wrong_keys_and_shapes(impl):
    layer = impl.StackedRNN(3, 4, num_layers=2, rng=0)
    good = layer.state_dict()
    before = {k: v.copy() for k, v in good.items()}
    missing = {k: v for k, v in good.items() if k != "bias_hh_l1"}
    extra = {**good, "weight_ih_l0_reverse": good["weight_ih_l0"]}
    wrong = {**good, "weight_ih_l1": np.zeros((12, 3), np.float32)}
    for what, state in (("a missing key", missing), ("an extra key", extra), ("a wrong shape", wrong)):
        raises_value_error(lambda state=state: layer.load_state_dict(state), f"load_state_dict with {what}")
    for k, v in layer.state_dict().items():
        assert np.array_equal(v, before[k]), "a rejected load_state_dict must leave the layer unchanged"
