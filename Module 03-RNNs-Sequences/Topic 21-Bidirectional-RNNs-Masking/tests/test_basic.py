"""Topic 21 basic tests: masks, packing, the masked and bidirectional recurrences, stacks, the layer, pooling, loss."""

import numpy as np
import pytest
from dlfs.gradient_check import check_layer, check_model
from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
GATES = {"gru": 3, "rnn": 1}


def make_weights(D, H, cell="gru", seed=0, scale=None):
    rng = np.random.default_rng(seed)
    G, s = GATES[cell], (1 / np.sqrt(H) if scale is None else scale)
    return [rng.uniform(-s, s, size=shape) for shape in ((G * H, D), (G * H, H), (G * H,), (G * H,))]


def make_params(D, H, num_layers, bidirectional, cell="gru", seed=0):
    """{torch name: array} for a stack, in torch.nn.GRU's order (the test's own, independent of impl)."""
    K = 2 if bidirectional else 1
    params = {}
    for layer in range(num_layers):
        for k, suffix in enumerate(("", "_reverse")[:K]):
            w = make_weights(D if layer == 0 else K * H, H, cell, seed=100 * seed + 10 * layer + k)
            params.update({f"{n}_l{layer}{suffix}": a for n, a in zip(NAMES, w)})
    return params


def padded_batch(rng, lengths, T, D, pad=0.0):
    x = rng.standard_normal((len(lengths), T, D))
    mask = np.arange(T)[None, :] < np.asarray(lengths)[:, None]
    return np.where(mask[:, :, None], x, pad)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def cell_step(cell, x, h, w_ih, w_hh, b_ih, b_hh):
    """One step of PyTorch's RNN (tanh) or GRU cell, written out here as the test's own oracle."""
    if cell == "rnn":
        return np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
    H = h.shape[-1]
    gi, gh = x @ w_ih.T + b_ih, h @ w_hh.T + b_hh
    r, z = sigmoid(gi[..., :H] + gh[..., :H]), sigmoid(gi[..., H:2 * H] + gh[..., H:2 * H])
    n = np.tanh(gi[..., 2 * H:] + r * gh[..., 2 * H:])
    return (1 - z) * n + z * h


# ----------------------------------------------------------------------------------------------------
# Task 1: the mask, and reversing within each length
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_sequence_mask_matches_pytorch(impl, golden):
    g = golden("mask_small")
    mask = as_array(impl.sequence_mask(g["lengths"], 5))
    assert mask.dtype == bool, f"the mask must be boolean, got {mask.dtype}"
    assert np.array_equal(mask, g["mask"]), f"mask[i, t] = t < lengths[i]; got\n{mask.astype(int)}"
    assert_shape(impl.sequence_mask(np.array([2, 1]), 7), (2, 7), "sequence_mask with T larger than every length")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_reverse_padded_reverses_only_the_real_steps(impl, golden):
    g = golden("mask_small")
    got = as_array(impl.reverse_padded(g["x"], g["lengths"]))
    assert_close(got, g["reversed"], rtol=0, atol=0, what="reverse_padded vs torch.gather")
    x = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]], dtype=float)
    got = as_array(impl.reverse_padded(x, [3, 5]))
    assert np.array_equal(got, [[3, 2, 1, 0, 0], [8, 7, 6, 5, 4]]), (
        f"[1, 2, 3, pad, pad] of length 3 reversed is [3, 2, 1, pad, pad], got {got[0]}: reversing the whole row "
        "would start the backward direction at the padding")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_reversing_twice_gives_the_input_back(impl):
    rng = np.random.default_rng(0)
    x, lengths = rng.standard_normal((4, 6, 2, 3)), np.array([6, 1, 3, 4])
    back = as_array(impl.reverse_padded(impl.reverse_padded(x, lengths), lengths))
    assert_close(back, x, rtol=0, atol=0, what="reverse_padded twice (x of shape (N, T, 2, 3))")
    assert not np.shares_memory(as_array(impl.reverse_padded(x, lengths)), x), "reverse_padded returns a new array"


# ----------------------------------------------------------------------------------------------------
# Task 2: packing
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_pack_by_hand(impl):
    # three sequences of lengths 1, 3, 2: sorted by length they are 1, 2, 0 (sequence 1 first)
    x = np.array([[10, 0, 0], [20, 21, 22], [30, 31, 0]], dtype=float)[:, :, None]
    data, batch_sizes, sorted_indices, unsorted_indices = impl.pack_padded_sequence(x, [1, 3, 2],
                                                                                    enforce_sorted=False)
    assert np.array_equal(as_array(batch_sizes), [3, 2, 1]), (
        f"batch_sizes[t] = how many sequences have a step t: [3, 2, 1], got {as_array(batch_sizes)}")
    assert np.array_equal(as_array(data)[:, 0], [20, 30, 10, 21, 31, 22]), (
        f"data is step 0 of the sequences by decreasing length (20, 30, 10), then step 1 (21, 31), then 22; "
        f"got {as_array(data)[:, 0]}")
    assert np.array_equal(as_array(sorted_indices), [1, 2, 0]), f"sorted_indices {as_array(sorted_indices)}"
    assert np.array_equal(as_array(unsorted_indices), [2, 0, 1]), (
        f"unsorted_indices is the INVERSE permutation of sorted_indices [1, 2, 0], i.e. [2, 0, 1]; got "
        f"{as_array(unsorted_indices)}")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_pack_matches_pytorch(impl, golden):
    g = golden("packing")
    p = impl.pack_padded_sequence(g["x"], g["lengths"], enforce_sorted=False)
    for key in ("data", "batch_sizes", "sorted_indices", "unsorted_indices"):
        assert np.array_equal(as_array(getattr(p, key)), g[key]), f"PackedSequence.{key} vs torch's"
    ps = impl.pack_padded_sequence(g["x_sorted_time_major"], g["sorted_lengths"], batch_first=False)
    assert np.array_equal(as_array(ps.data), g["data_sorted"]), "pack with batch_first=False: x is (T, N, *)"
    assert np.array_equal(as_array(ps.batch_sizes), g["batch_sizes_sorted"]), "batch_sizes (time-major input)"
    assert ps.sorted_indices is None and ps.unsorted_indices is None, (
        "with enforce_sorted=True (the default) torch leaves sorted_indices and unsorted_indices None")


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_pad_matches_pytorch(impl, golden):
    g = golden("packing")
    p = impl.PackedSequence(g["data"], g["batch_sizes"], g["sorted_indices"], g["unsorted_indices"])
    padded, lengths = impl.pad_packed_sequence(p, padding_value=-7.5, total_length=6)
    assert_close(padded, g["padded"], rtol=0, atol=0,
                 what="pad_packed_sequence(padding_value=-7.5, total_length=6): the ORIGINAL order, padded with -7.5")
    assert np.array_equal(as_array(lengths), g["padded_lengths"]), "lengths come back in the original order"
    ps = impl.PackedSequence(g["data_sorted"], g["batch_sizes_sorted"], None, None)
    padded_tm, lengths_tm = impl.pad_packed_sequence(ps, batch_first=False)
    assert_close(padded_tm, g["padded_time_major"], rtol=0, atol=0, what="pad_packed_sequence(batch_first=False)")
    assert np.array_equal(as_array(lengths_tm), g["sorted_lengths"]), "lengths of a sorted pack"


@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(2)
@pytest.mark.parametrize("lengths", [[5, 1, 3, 3, 2], [1], [4, 4, 4], [2, 7, 1, 7, 5, 3]])
def test_pack_then_pad_is_the_identity_on_real_steps(impl, lengths):
    rng = np.random.default_rng(len(lengths))
    T = max(lengths) + 1
    x = rng.standard_normal((len(lengths), T, 3))
    p = impl.pack_padded_sequence(x, lengths, enforce_sorted=False)
    assert as_array(p.batch_sizes).sum() == sum(lengths) == as_array(p.data).shape[0], \
        "the packed data holds exactly sum(lengths) rows, one per real step: no padding"
    padded, back = impl.pad_packed_sequence(p, total_length=T)
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    assert_close(as_array(padded)[mask], x[mask], rtol=0, atol=0, what=f"pad(pack(x)) at the real steps, {lengths}")
    assert np.all(as_array(padded)[~mask] == 0), "pad(pack(x)) holds padding_value (0) at the padded steps"
    assert np.array_equal(as_array(back), lengths), "pad_packed_sequence gives the lengths back in the batch order"


# ----------------------------------------------------------------------------------------------------
# Task 3: the masked recurrence
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_masked_forward_matches_pytorch(impl, golden, cell):
    g = golden(f"masked_{cell}")
    hs, h_n, _ = impl.masked_forward(g["x"], g["lengths"], g["h0"], *(g[k] for k in NAMES), cell=cell)
    assert_close(hs, g["hs"], rtol=1e-9, atol=1e-12, what=f"masked_forward hs vs torch.nn.{cell.upper()} on a pack")
    assert_close(h_n, g["h_n"], rtol=1e-9, atol=1e-12, what=f"masked_forward h_n vs torch ({cell})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_masked_backward_matches_pytorch(impl, golden, cell):
    g = golden(f"masked_{cell}")
    _, _, cache = impl.masked_forward(g["x"], g["lengths"], g["h0"], *(g[k] for k in NAMES), cell=cell)
    grads = impl.masked_backward(g["dhs"], cache, g["dh_n"])
    for got, key in zip(grads, ("dx", "dh0") + tuple("d" + n for n in NAMES)):
        assert_close(got, g[key], rtol=1e-9, atol=1e-12, what=f"masked_backward {key} vs autograd ({cell})")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_h_n_is_the_state_at_each_true_last_step(impl):
    rng = np.random.default_rng(1)
    lengths = np.array([2, 5, 1])
    x, h0 = padded_batch(rng, lengths, 5, 3), rng.standard_normal((3, 4))
    hs, h_n, _ = impl.masked_forward(x, lengths, h0, *make_weights(3, 4, seed=1))
    hs, h_n = as_array(hs), as_array(h_n)
    for i, L in enumerate(lengths):
        assert_close(h_n[i], hs[i, L - 1], rtol=0, atol=0,
                     what=f"h_n[{i}] is the state after step {L - 1} (its last real step), not after step T - 1")
        assert np.all(hs[i, L:] == 0), f"hs[{i}, {L}:] are padded steps: their outputs must be 0"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_padded_batch_equals_each_sequence_alone(impl, cell):
    rng = np.random.default_rng(2)
    lengths, T, D, H = np.array([3, 6, 1, 4]), 6, 2, 3
    w = make_weights(D, H, cell, seed=2, scale=0.8)
    x, h0 = padded_batch(rng, lengths, T, D), rng.standard_normal((4, H))
    dhs, dh_n = rng.standard_normal((4, T, H)), rng.standard_normal((4, H))
    hs, h_n, cache = impl.masked_forward(x, lengths, h0, *w, cell=cell)
    dx, dh0, *dw = impl.masked_backward(dhs, cache, dh_n)
    total = [np.zeros_like(a) for a in w]
    for i, L in enumerate(lengths):
        hs_i, hn_i, c_i = impl.masked_forward(x[i:i + 1, :L], [L], h0[i:i + 1], *w, cell=cell)
        dx_i, dh0_i, *dw_i = impl.masked_backward(dhs[i:i + 1, :L], c_i, dh_n[i:i + 1])
        assert_close(as_array(hs)[i, :L], as_array(hs_i)[0], rtol=1e-12, atol=1e-14,
                     what=f"sequence {i} in the padded batch vs alone (outputs)")
        assert_close(as_array(h_n)[i], as_array(hn_i)[0], rtol=1e-12, atol=1e-14, what=f"h_n of sequence {i}")
        assert_close(as_array(dx)[i, :L], as_array(dx_i)[0], rtol=1e-11, atol=1e-13, what=f"dx of sequence {i}")
        assert np.all(as_array(dx)[i, L:] == 0), f"dx[{i}, {L}:]: padded inputs do not influence anything"
        assert_close(as_array(dh0)[i], as_array(dh0_i)[0], rtol=1e-11, atol=1e-13, what=f"dh0 of sequence {i}")
        total = [a + as_array(b) for a, b in zip(total, dw_i)]
    for got, want, name in zip(dw, total, NAMES):
        assert_close(got, want, rtol=1e-10, atol=1e-12,
                     what=f"d{name} of the padded batch = the sum over the sequences run alone (padding adds nothing)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_values_in_the_padding_change_nothing(impl):
    rng = np.random.default_rng(3)
    lengths = np.array([4, 2, 5])
    x, h0, w = padded_batch(rng, lengths, 5, 3), rng.standard_normal((3, 4)), make_weights(3, 4, seed=3)
    noisy = padded_batch(np.random.default_rng(3), lengths, 5, 3, pad=np.nan)
    noisy[0, 4:] = 1e6
    dhs = rng.standard_normal((3, 5, 4))
    runs = []
    for inp in (x, noisy):
        hs, h_n, cache = impl.masked_forward(inp, lengths, h0, *w)
        runs.append([as_array(hs), as_array(h_n)] + [as_array(g) for g in impl.masked_backward(dhs, cache)])
    for a, b, what in zip(*runs, ("hs", "h_n", "dx", "dh0") + NAMES):
        assert np.all(np.isfinite(b)), f"NaN in the padding leaked into {what}: never compute with padded inputs"
        assert_close(b, a, rtol=1e-12, atol=1e-14, what=f"{what} with NaN / 1e6 in the padding")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_masked_gradient_check(impl, cell):
    rng = np.random.default_rng(4)
    lengths, T, D, H = np.array([2, 5, 3]), 5, 3, 2
    inputs = [padded_batch(rng, lengths, T, D), rng.standard_normal((3, H)), *make_weights(D, H, cell, 4, 0.9)]

    def forward(x, h0, *w):        # hs and h_n as one output, so that both receive a gradient
        hs, h_n, cache = impl.masked_forward(x, lengths, h0, *w, cell=cell)
        return np.concatenate([as_array(hs).reshape(3, -1), as_array(h_n)], axis=1), cache

    def backward(dout, cache):
        dhs, dh_n = dout[:, :T * H].reshape(3, T, H), dout[:, T * H:]
        return tuple(as_array(g) for g in impl.masked_backward(dhs, cache, dh_n))

    report = check_layer(forward, backward, *inputs)
    assert report.passed, f"masked_backward ({cell}): x, h0, weight_ih, weight_hh, bias_ih, bias_hh: {report}"


# ----------------------------------------------------------------------------------------------------
# Task 4: the bidirectional layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_bidirectional_matches_pytorch(impl, golden, cell):
    g = golden(f"bidirectional_{cell}")
    w_f = [g[f"{n}_l0"] for n in NAMES]
    w_b = [g[f"{n}_l0_reverse"] for n in NAMES]
    out, h_n, cache = impl.bidirectional_forward(g["x"], g["lengths"], g["h0"], w_f, w_b, cell=cell)
    assert_close(out, g["out"], rtol=1e-9, atol=1e-12,
                 what=f"bidirectional out [forward | backward] vs torch.nn.{cell.upper()}(bidirectional=True)")
    assert_close(h_n, g["h_n"], rtol=1e-9, atol=1e-12, what="bidirectional h_n (2, N, H): forward, then backward")
    dx, dh0, g_f, g_b = impl.bidirectional_backward(g["dout"], cache, g["dh_n"])
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what="bidirectional dx")
    assert_close(dh0, g["dh0"], rtol=1e-9, atol=1e-12, what="bidirectional dh0")
    for got, n in zip(tuple(g_f) + tuple(g_b), [f"{n}_l0" for n in NAMES] + [f"{n}_l0_reverse" for n in NAMES]):
        assert_close(got, g["d" + n], rtol=1e-9, atol=1e-12, what=f"d{n}")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_backward_direction_starts_at_each_sequences_last_real_step(impl):
    # the backward direction's first step reads x[i, L - 1] from h0[1]: out[i, L - 1, H:] is one cell step
    rng = np.random.default_rng(5)
    lengths, T, D, H = np.array([3, 5, 1]), 5, 2, 3
    x, h0 = padded_batch(rng, lengths, T, D), rng.standard_normal((2, 3, H))
    w_f, w_b = make_weights(D, H, seed=5), make_weights(D, H, seed=6)
    out, h_n, _ = impl.bidirectional_forward(x, lengths, h0, w_f, w_b)
    out = as_array(out)
    for i, L in enumerate(lengths):
        first = cell_step("gru", x[i, L - 1], h0[1, i], *w_b)
        assert_close(out[i, L - 1, H:], first, rtol=1e-12, atol=1e-14,
                     what=f"sequence {i} (length {L}): the backward direction's first step is at t = {L - 1}, "
                          "from h0[1]; did you reverse the padded row, padding included?")
        assert np.all(out[i, L:] == 0), f"out[{i}, {L}:] (padding) must be 0 in both directions"
    assert_close(as_array(h_n)[1], out[:, 0, H:], rtol=0, atol=0,
                 what="h_n[1] (backward direction) is its state after reading step 0, i.e. out[:, 0, H:]")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(4)
def test_bidirectional_is_two_masked_runs(impl):
    rng = np.random.default_rng(6)
    lengths, T, D, H = np.array([4, 2, 6, 6]), 6, 3, 2
    x, h0 = padded_batch(rng, lengths, T, D), rng.standard_normal((2, 4, H))
    w_f, w_b = make_weights(D, H, "rnn", seed=7), make_weights(D, H, "rnn", seed=8)
    out, h_n, _ = impl.bidirectional_forward(x, lengths, h0, w_f, w_b, cell="rnn")
    hs_f, hn_f, _ = impl.masked_forward(x, lengths, h0[0], *w_f, cell="rnn")
    xr = np.array([np.concatenate([x[i, :L][::-1], x[i, L:]]) for i, L in enumerate(lengths)])
    hs_r, hn_b, _ = impl.masked_forward(xr, lengths, h0[1], *w_b, cell="rnn")
    back = np.array([np.concatenate([as_array(hs_r)[i, :L][::-1], np.zeros((T - L, H))]) for i, L in enumerate(lengths)])
    assert_close(as_array(out)[:, :, :H], hs_f, rtol=1e-12, atol=1e-14, what="out[..., :H] is the forward direction")
    assert_close(as_array(out)[:, :, H:], back, rtol=1e-12, atol=1e-14,
                 what="out[..., H:] is the backward direction, put back in the original time order")
    assert_close(h_n, np.stack([as_array(hn_f), as_array(hn_b)]), rtol=1e-12, atol=1e-14, what="h_n = [forward, backward]")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_bidirectional_gradient_check(impl):
    rng = np.random.default_rng(7)
    lengths, T, D, H = np.array([3, 1, 4]), 4, 2, 2
    x, h0 = padded_batch(rng, lengths, T, D), rng.standard_normal((2, 3, H))
    w_f, w_b = make_weights(D, H, seed=9, scale=0.9), make_weights(D, H, seed=10, scale=0.9)
    n_out = T * 2 * H

    def forward(x, h0, *w):
        out, h_n, cache = impl.bidirectional_forward(x, lengths, h0, w[:4], w[4:])
        return np.concatenate([as_array(out).reshape(3, -1), as_array(h_n).transpose(1, 0, 2).reshape(3, -1)], 1), cache

    def backward(dout, cache):
        dx, dh0, g_f, g_b = impl.bidirectional_backward(dout[:, :n_out].reshape(3, T, 2 * H), cache,
                                                        dout[:, n_out:].reshape(3, 2, H).transpose(1, 0, 2))
        return tuple(as_array(g) for g in (dx, dh0, *g_f, *g_b))

    report = check_layer(forward, backward, x, h0, *w_f, *w_b)
    assert report.passed, f"bidirectional_backward: x, h0, the 4 forward and the 4 backward parameters: {report}"


# ----------------------------------------------------------------------------------------------------
# Task 5: stacks of layers
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_parameter_names_are_pytorchs(impl):
    assert list(impl.parameter_names()) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"], \
        "parameter_names() (one layer, one direction): torch.nn.GRU's four names"
    assert list(impl.parameter_names(2, bidirectional=True)) == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
        "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
        "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
        "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"], \
        "parameter_names(2, True): layer by layer, the forward direction then '_reverse'"
    assert len(impl.parameter_names(num_layers=3)) == 12 and impl.parameter_names(3)[-1] == "bias_hh_l2"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
@pytest.mark.parametrize("name,cell,num_layers,bidirectional", [
    ("stacked_gru_2x2", "gru", 2, True), ("stacked_rnn_2x2", "rnn", 2, True), ("stacked_gru_3x1", "gru", 3, False)])
def test_stacked_matches_pytorch(impl, golden, name, cell, num_layers, bidirectional):
    g = golden(name)
    params = {k: g[k] for k in impl.parameter_names(num_layers, bidirectional)}
    out, h_n, cache = impl.stacked_forward(g["x"], g["lengths"], g["h0"], params, num_layers=num_layers,
                                           bidirectional=bidirectional, cell=cell)
    assert_close(out, g["out"], rtol=1e-9, atol=1e-12, what=f"{name}: out of the last layer vs torch")
    assert_close(h_n, g["h_n"], rtol=1e-9, atol=1e-12,
                 what=f"{name}: h_n (num_layers * directions, N, H), index layer * directions + direction")
    dx, dh0, grads = impl.stacked_backward(g["dout"], cache, g["dh_n"])
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what=f"{name}: dx")
    assert_close(dh0, g["dh0"], rtol=1e-9, atol=1e-12, what=f"{name}: dh0")
    assert set(grads) == set(params), f"stacked_backward grads keys {sorted(grads)} != the parameter names"
    for k in params:
        assert_close(grads[k], g["d" + k], rtol=1e-9, atol=1e-12, what=f"{name}: d{k}")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
@pytest.mark.parametrize("num_layers", [2, 3])
def test_second_layer_reads_both_directions_of_the_first(impl, num_layers):
    rng = np.random.default_rng(8)
    lengths, T, D, H = np.array([5, 3, 1]), 5, 3, 2
    x, h0 = padded_batch(rng, lengths, T, D), rng.standard_normal((2 * num_layers, 3, H))
    params = make_params(D, H, num_layers, True, seed=1)
    out, h_n, _ = impl.stacked_forward(x, lengths, h0, params, num_layers, True)
    o, states = x, []
    for layer in range(num_layers):
        w_f = [params[f"{n}_l{layer}"] for n in NAMES]
        w_b = [params[f"{n}_l{layer}_reverse"] for n in NAMES]
        o, hn, _ = impl.bidirectional_forward(o, lengths, h0[2 * layer:2 * layer + 2], w_f, w_b)
        states.append(as_array(hn))
    assert_close(out, o, rtol=1e-12, atol=1e-14,
                 what=f"{num_layers} layers: layer l reads the (N, T, 2H) output of layer l - 1, [forward | backward], "
                      "from h0[2l], h0[2l + 1]")
    assert_close(h_n, np.concatenate(states), rtol=1e-12, atol=1e-14,
                 what="h_n = [layer 0 forward, layer 0 backward, layer 1 forward, ...] (torch's order)")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(5)
@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_stack_on_a_padded_batch_equals_each_sequence_alone(impl, cell):
    rng = np.random.default_rng(9)
    lengths, T, D, H = np.array([2, 5, 1, 4]), 5, 3, 2
    params = make_params(D, H, 2, True, cell, seed=2)
    x, h0 = padded_batch(rng, lengths, T, D), rng.standard_normal((4, 4, H))
    dout, dh_n = rng.standard_normal((4, T, 2 * H)), rng.standard_normal((4, 4, H))
    out, h_n, cache = impl.stacked_forward(x, lengths, h0, params, 2, True, cell)
    dx, dh0, grads = impl.stacked_backward(dout, cache, dh_n)
    total = {k: np.zeros_like(v) for k, v in params.items()}
    for i, L in enumerate(lengths):
        o_i, hn_i, c_i = impl.stacked_forward(x[i:i + 1, :L], [L], h0[:, i:i + 1], params, 2, True, cell)
        dx_i, dh0_i, g_i = impl.stacked_backward(dout[i:i + 1, :L], c_i, dh_n[:, i:i + 1])
        assert_close(as_array(out)[i, :L], as_array(o_i)[0], rtol=1e-12, atol=1e-14,
                     what=f"2-layer bidirectional {cell}: sequence {i} padded vs alone (outputs)")
        assert_close(as_array(h_n)[:, i], as_array(hn_i)[:, 0], rtol=1e-12, atol=1e-14, what=f"h_n of sequence {i}")
        assert_close(as_array(dx)[i, :L], as_array(dx_i)[0], rtol=1e-11, atol=1e-13, what=f"dx of sequence {i}")
        assert_close(as_array(dh0)[:, i], as_array(dh0_i)[:, 0], rtol=1e-11, atol=1e-13, what=f"dh0 of sequence {i}")
        total = {k: total[k] + as_array(g_i[k]) for k in total}
    for k in params:
        assert_close(grads[k], total[k], rtol=1e-10, atol=1e-12, what=f"d{k}: padded batch vs the sum of the sequences")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(5)
def test_stacked_gradient_check(impl):
    rng = np.random.default_rng(10)
    lengths, T, D, H = np.array([3, 1, 2]), 3, 2, 2
    params = make_params(D, H, 2, True, seed=3)
    x, h0 = padded_batch(rng, lengths, T, D), rng.standard_normal((4, 3, H))
    g_out, g_hn = rng.standard_normal((3, T, 2 * H)), rng.standard_normal((4, 3, H))
    g_out[~(np.arange(T)[None, :] < lengths[:, None])] = 0

    def loss():
        out, h_n, _ = impl.stacked_forward(x, lengths, h0, params, 2, True)
        return float((as_array(out) * g_out).sum() + (as_array(h_n) * g_hn).sum())

    _, _, cache = impl.stacked_forward(x, lengths, h0, params, 2, True)
    dx, dh0, grads = impl.stacked_backward(g_out, cache, g_hn)
    report = check_model(loss, {**params, "x": x, "h0": h0},
                         {**{k: as_array(v) for k, v in grads.items()}, "x": as_array(dx), "h0": as_array(dh0)})
    assert report.passed, f"2-layer bidirectional GRU, every parameter, x and h0: {report}"


# ----------------------------------------------------------------------------------------------------
# Task 6: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_layer_parameters_and_attributes(impl):
    layer = impl.StackedRNN(5, 4, num_layers=2, bidirectional=True, rng=0)
    names = list(impl.parameter_names(2, True))
    assert [p is getattr(layer, n) for p, n in zip(layer.parameters(), names)] == [True] * 16, \
        "parameters() returns the Parameter objects in torch's order, also stored as attributes named like torch's"
    shapes = {"weight_ih_l0": (12, 5), "weight_hh_l0": (12, 4), "bias_ih_l0": (12,), "weight_ih_l1": (12, 8),
              "weight_ih_l1_reverse": (12, 8), "bias_hh_l1_reverse": (12,)}
    for n, shape in shapes.items():
        assert_shape(getattr(layer, n).data, shape, f"{n} (layer 1 reads 2H = 8 features)")
    for p in layer.parameters():
        assert as_array(p.data).dtype == np.float32, "parameters are float32 by default"
        assert np.all(as_array(p.grad) == 0), "grad starts at 0"
    assert (layer.input_size, layer.hidden_size, layer.num_layers, layer.bidirectional, layer.training) == \
        (5, 4, 2, True, True)
    rnn = impl.StackedRNN(3, 6, cell="rnn", rng=0, dtype=np.float64)
    assert [getattr(rnn, n).data.shape for n in impl.parameter_names()] == [(6, 3), (6, 6), (6,), (6,)], \
        "cell='rnn': one gate block, weight_ih (H, D)"
    assert as_array(rnn.weight_ih_l0.data).dtype == np.float64 and rnn.num_layers == 1 and rnn.bidirectional is False


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_layer_init_is_uniform_like_pytorch(impl):
    layer = impl.StackedRNN(30, 64, num_layers=2, bidirectional=True, rng=1, dtype=np.float64)
    bound = 1 / np.sqrt(64)
    for n, p in zip(impl.parameter_names(2, True), layer.parameters()):
        a = as_array(p.data)
        assert np.abs(a).max() <= bound, f"{n}: init must lie in U(-1/sqrt(H), 1/sqrt(H)) = +-{bound:.4f}"
    w = as_array(layer.weight_ih_l1_reverse.data)
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound / np.sqrt(3), \
        f"weight_ih_l1_reverse std {w.std():.4f}: expected {bound / np.sqrt(3):.4f} (1/sqrt(H), not 1/sqrt(2H))"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_layer_matches_pytorch_and_accumulates_gradients(impl, golden):
    g = golden("stacked_gru_2x2")
    D, H = g["x"].shape[2], g["h0"].shape[2]
    layer = impl.StackedRNN(D, H, num_layers=2, bidirectional=True, cell="gru", rng=0, dtype=np.float64)
    layer.load_state_dict({k: g[k] for k in impl.parameter_names(2, True)})
    out, h_n = layer.forward(g["x"], g["lengths"], g["h0"])
    assert_close(out, g["out"], rtol=1e-9, atol=1e-12, what="StackedRNN.forward out vs torch.nn.GRU")
    assert_close(h_n, g["h_n"], rtol=1e-9, atol=1e-12, what="StackedRNN.forward h_n")
    dx = layer.backward(g["dout"], g["dh_n"])
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what="StackedRNN.backward dx")
    assert_close(layer.dh0, g["dh0"], rtol=1e-9, atol=1e-12, what="layer.dh0 after backward")
    layer.backward(g["dout"], g["dh_n"])
    for k in impl.parameter_names(2, True):
        assert_close(getattr(layer, k).grad, 2 * g["d" + k], rtol=1e-9, atol=1e-12,
                     what=f"{k}.grad after two backward calls (ADD into .grad)")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_layer_defaults_all_lengths_and_zero_state(impl):
    layer = impl.StackedRNN(3, 4, num_layers=2, rng=3, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 5, 3))
    a, ha = layer.forward(x)
    b, hb = layer.forward(x, np.array([5, 5]), np.zeros((2, 2, 4)))
    assert_shape(a, (2, 5, 4), "one direction: out (N, T, H)")
    assert_shape(ha, (2, 2, 4), "h_n (num_layers, N, H)")
    assert_close(a, b, rtol=0, atol=0, what="forward(x) uses lengths = T for all and h0 = zeros")
    assert_close(ha, hb, rtol=0, atol=0, what="h_n with the default lengths and h0")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_state_dict_round_trip_and_copies(impl):
    a, b = impl.StackedRNN(3, 4, bidirectional=True, rng=0), impl.StackedRNN(3, 4, bidirectional=True, rng=1)
    state = a.state_dict()
    assert set(state) == set(impl.parameter_names(1, True)), f"state_dict keys {sorted(state)}: torch's names"
    state["weight_hh_l0_reverse"][0, 0] += 100.0
    assert as_array(a.weight_hh_l0_reverse.data)[0, 0] != as_array(state["weight_hh_l0_reverse"])[0, 0], \
        "state_dict must return copies"
    before = b.weight_ih_l0.data
    b.load_state_dict(a.state_dict())
    assert b.weight_ih_l0.data is before, "load_state_dict must write in place (the optimizer keeps the same arrays)"
    x = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    assert_close(a.forward(x, [3, 1])[0], b.forward(x, [3, 1])[0], rtol=0, atol=0, what="a restored layer")


# ----------------------------------------------------------------------------------------------------
# Task 7: pooling and the loss over real tokens
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_pooling_and_loss_match_pytorch(impl, golden):
    g = golden("pooling_and_loss")
    loss, dlogits = impl.masked_cross_entropy(g["logits"], g["targets"], g["lengths"])
    assert abs(float(loss) - float(g["loss"])) < 1e-10, f"loss {float(loss)} vs torch's cross_entropy {float(g['loss'])}"
    assert_close(dlogits, g["dlogits"], rtol=1e-9, atol=1e-12, what="dlogits vs autograd")
    pooled, cache = impl.masked_mean_forward(g["hs"], g["lengths"])
    assert_close(pooled, g["pooled"], rtol=1e-12, atol=1e-14, what="masked_mean_forward")
    assert_close(impl.masked_mean_backward(g["dpooled"], cache), g["dhs"], rtol=1e-12, atol=1e-14,
                 what="masked_mean_backward")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_loss_is_the_mean_over_real_tokens(impl):
    # two sequences, lengths 1 and 3 (T = 3): 4 real tokens; uniform logits over C = 4 classes
    # give -log(1/4) at every token, but the first token of sequence 0 is predicted with certainty
    logits = np.zeros((2, 3, 4))
    logits[0, 0, 2] = 50.0
    targets = np.array([[2, 0, 0], [1, 3, 0]])
    loss, dlogits = impl.masked_cross_entropy(logits, targets, [1, 3])
    expected = 3 * np.log(4) / 4
    assert abs(float(loss) - expected) < 1e-12, (
        f"loss {float(loss):.6f}, expected 3 * log(4) / 4 = {expected:.6f}: the mean over the 4 real tokens "
        f"(over all 6 positions gives {3 * np.log(4) / 6:.6f}, the mean of the per-sequence means {np.log(4) / 2:.6f})")
    d = as_array(dlogits)
    assert np.all(d[0, 1:] == 0), "padded positions get no gradient"
    assert_close(d[1, 0], (np.full(4, 0.25) - np.eye(4)[1]) / 4, rtol=1e-12, atol=1e-15,
                 what="dlogits of a real token = (softmax - onehot) / number of real tokens")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_padded_targets_and_logits_are_never_read(impl):
    rng = np.random.default_rng(11)
    lengths = np.array([2, 4])
    logits, targets = rng.standard_normal((2, 4, 3)), rng.integers(0, 3, size=(2, 4))
    loss, d = impl.masked_cross_entropy(logits, targets, lengths)
    bad_logits, bad_targets = logits.copy(), targets.copy()
    bad_logits[0, 2:] = np.nan
    bad_targets[0, 2:] = [-100, 999]            # ignore_index and out of range: never looked at
    loss2, d2 = impl.masked_cross_entropy(bad_logits, bad_targets, lengths)
    assert abs(float(loss2) - float(loss)) < 1e-12, "the loss read a padded logit or target"
    assert np.all(np.isfinite(as_array(d2))), "NaN logits in the padding leaked into dlogits"
    assert_close(d2, d, rtol=1e-12, atol=1e-15, what="dlogits with garbage in the padding")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_masked_mean_divides_by_each_length(impl):
    hs = np.array([[[1.0], [3.0], [100.0]], [[2.0], [4.0], [6.0]]])
    pooled, cache = impl.masked_mean_forward(hs, [2, 3])
    assert_close(pooled, [[2.0], [4.0]], rtol=1e-12, what="mean over the real steps: (1 + 3) / 2 and (2 + 4 + 6) / 3 "
                 "(not / T, and the 100 in the padding never counts)")
    assert_close(impl.masked_mean_backward(np.array([[6.0], [3.0]]), cache), [[[3.0], [3.0], [0.0]], [[1.0], [1.0], [1.0]]],
                 rtol=1e-12, what="dhs = dpooled / length at the real steps, 0 at the padded ones")


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(7)
def test_pooling_and_loss_gradient_check(impl):
    rng = np.random.default_rng(12)
    lengths = np.array([3, 1, 2])
    hs = rng.standard_normal((3, 3, 4))
    report = check_layer(lambda h: impl.masked_mean_forward(h, lengths),
                         lambda d, c: as_array(impl.masked_mean_backward(d, c)), hs)
    assert report.passed, f"masked_mean_backward: {report}"
    logits, targets = rng.standard_normal((3, 3, 5)), rng.integers(0, 5, size=(3, 3))
    params = {"logits": logits}
    _, d = impl.masked_cross_entropy(logits, targets, lengths)
    report = check_model(lambda: float(impl.masked_cross_entropy(params["logits"], targets, lengths)[0]), params,
                         {"logits": as_array(d)})
    assert report.passed, f"masked_cross_entropy dlogits: {report}"
