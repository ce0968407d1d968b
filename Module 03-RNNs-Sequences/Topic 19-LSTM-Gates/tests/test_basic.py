"""Topic 19 basic tests: shapes, PyTorch's LSTM equations and gate order, golden values, gradients through time, the layer."""

import numpy as np
import pytest

from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape

GOLDEN = ("lstm_small", "lstm_long", "lstm_one_step")
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
GRADS = ("dx", "dh0", "dc0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh")


def make_weights(D, H, seed=0, scale=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    s = 1 / np.sqrt(H) if scale is None else scale
    return [rng.uniform(-s, s, size=shape).astype(dtype) for shape in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))]


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def lstm_by_hand(x_t, h, c, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's documented equations, one gate at a time (the test's own oracle)."""
    H = h.shape[1]
    pre = [x_t @ w_ih[k * H:(k + 1) * H].T + b_ih[k * H:(k + 1) * H] + h @ w_hh[k * H:(k + 1) * H].T
           + b_hh[k * H:(k + 1) * H] for k in range(4)]
    i, f, g, o = sigmoid(pre[0]), sigmoid(pre[1]), np.tanh(pre[2]), sigmoid(pre[3])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new


# ----------------------------------------------------------------------------------------------------
# Task 1: one step
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_step_forward_shape_and_dtype(impl):
    w = make_weights(5, 4)
    h, c, _ = impl.lstm_step_forward(np.ones((3, 5)), np.zeros((3, 4)), np.zeros((3, 4)), *w)
    assert_shape(h, (3, 4), "lstm_step_forward h")
    assert_shape(c, (3, 4), "lstm_step_forward c")
    assert as_array(h).dtype == np.float64 and as_array(c).dtype == np.float64


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_step_forward_follows_pytorchs_equations(impl):
    rng = np.random.default_rng(3)
    w = make_weights(4, 3, seed=1, scale=1.0)
    x, h0, c0 = rng.standard_normal((5, 4)), rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    h, c, _ = impl.lstm_step_forward(x, h0, c0, *w)
    h_ref, c_ref = lstm_by_hand(x, h0, c0, *w)
    assert_close(c, c_ref, rtol=1e-10, atol=1e-12, what="c' = f * c + i * g (did you use both biases b_ih and b_hh?)")
    assert_close(h, h_ref, rtol=1e-10, atol=1e-12, what="h' = o * tanh(c')")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_hand_worked_step_with_zero_weights(impl):
    # math-refresh.md, section 3: all weights 0, so only the biases act (split between b_ih and b_hh).
    # i = sigmoid(0) = 0.5, f = sigmoid(0) = 0.5, g = tanh(0.3 + 0.2) = tanh(0.5), o = sigmoid(0) = 0.5
    # c' = 0.5 * c + 0.5 * tanh(0.5),  h' = 0.5 * tanh(c')
    H = 2
    w_ih, w_hh = np.zeros((4 * H, 1)), np.zeros((4 * H, H))
    b_ih = np.array([0, 0, 0, 0, 0.3, 0.3, 0, 0])
    b_hh = np.array([0, 0, 0, 0, 0.2, 0.2, 0, 0])
    c0 = np.array([[1.0, -1.0]])
    h, c, _ = impl.lstm_step_forward(np.zeros((1, 1)), np.array([[0.7, 0.1]]), c0, w_ih, w_hh, b_ih, b_hh)
    c_exp = 0.5 * c0 + 0.5 * np.tanh(0.5)
    assert_close(c, c_exp, rtol=1e-12, what="zero weights: c' = 0.5 * c + 0.5 * tanh(0.3 + 0.2) "
                 "(the input gate multiplies g; b_hh counts too)")
    assert_close(h, 0.5 * np.tanh(c_exp), rtol=1e-12, what="zero weights: h' = 0.5 * tanh(c') (tanh of the cell, not c)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_forget_one_input_zero_keeps_the_cell(impl):
    D, H = 3, 4
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H, seed=5, scale=1.0)
    b_ih[:H] = -60.0                       # i = 0: nothing written
    b_ih[H:2 * H] = 60.0                   # f = 1: everything kept
    b_ih[3 * H:] = 60.0                    # o = 1: h' = tanh(c')
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.standard_normal((2, D)), rng.standard_normal((2, H)), rng.standard_normal((2, H)) * 3
    h, c, _ = impl.lstm_step_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    assert_close(c, c0, rtol=1e-12, atol=1e-12, what="f = 1 and i = 0 must keep the cell exactly: c' = c "
                 "(is the input gate applied to g? is the forget gate the second block?)")
    assert_close(h, np.tanh(c0), rtol=1e-12, atol=1e-12, what="o = 1: h' = tanh(c'), not c'")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_gate_order_is_i_f_g_o(impl):
    # each block in turn gets a huge bias; PyTorch's order is rows 0:H i, H:2H f, 2H:3H g, 3H:4H o
    D, H = 2, 3
    rng = np.random.default_rng(2)
    x, h0, c0 = rng.standard_normal((4, D)), rng.standard_normal((4, H)), rng.standard_normal((4, H))
    w_ih, w_hh = np.zeros((4 * H, D)), np.zeros((4 * H, H))
    b_hh = np.zeros(4 * H)

    def step(blocks):
        b = np.concatenate([np.full(H, v) for v in blocks])
        return (as_array(a) for a in impl.lstm_step_forward(x, h0, c0, w_ih, w_hh, b, b_hh)[:2])

    h, c = step([60, -60, 60, 60])         # i = 1, f = 0, g = 1, o = 1: c' = 1
    assert_close(c, np.ones((4, H)), rtol=1e-12, what="i = 1 (block 0), f = 0 (block 1), g = 1 (block 2): c' = 1 "
                 "(rows are i, f, g, o)")
    h, c = step([-60, 60, 60, -60])        # i = 0, f = 1, o = 0: c' = c, h' = 0
    assert_close(c, c0, rtol=1e-12, atol=1e-12, what="block 1 is the forget gate: f = 1, i = 0 gives c' = c")
    assert_close(h, np.zeros((4, H)), atol=1e-12, what="block 3 is the output gate: o = 0 gives h' = 0")
    h, c = step([60, -60, -60, 60])        # g = -1 from block 2
    assert_close(c, -np.ones((4, H)), rtol=1e-12, what="block 2 is the candidate g = tanh(...): g = -1, c' = -1")
    assert_close(h, np.tanh(-np.ones((4, H))), rtol=1e-12, what="o = 1 (block 3): h' = tanh(c')")


# ----------------------------------------------------------------------------------------------------
# Task 2: one step backward
# ----------------------------------------------------------------------------------------------------

def _step_as_one_output(impl):
    """forward(*inputs) -> ([h; c], cache), backward(d[h; c], cache) -> 7 gradients: checks dh and dc together."""
    def forward(*inputs):
        h, c, cache = impl.lstm_step_forward(*inputs)
        return np.stack([as_array(h), as_array(c)]), cache

    def backward(dout, cache):
        return tuple(as_array(g) for g in impl.lstm_step_backward(dout[0], dout[1], cache))

    return forward, backward


@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_step_backward_shapes(impl):
    w = make_weights(5, 4)
    rng = np.random.default_rng(0)
    _, _, cache = impl.lstm_step_forward(rng.standard_normal((3, 5)), rng.standard_normal((3, 4)),
                                         rng.standard_normal((3, 4)), *w)
    grads = impl.lstm_step_backward(rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), cache)
    assert len(grads) == 7, "lstm_step_backward returns (dx_t, dh_prev, dc_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh)"
    for g, shape, name in zip(grads, [(3, 5), (3, 4), (3, 4), (16, 5), (16, 4), (16,), (16,)],
                              ["dx_t", "dh_prev", "dc_prev", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"]):
        assert_shape(g, shape, name)


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_step_gradient_check(impl):
    rng = np.random.default_rng(4)
    w = make_weights(4, 3, seed=2, scale=1.0)
    inputs = [rng.standard_normal((3, 4)), rng.standard_normal((3, 3)), rng.standard_normal((3, 3)), *w]
    report = check_layer(*_step_as_one_output(impl), *inputs)
    assert report.passed, ("one LSTM step, gradients (x_t, h_prev, c_prev, weight_ih, weight_hh, bias_ih, bias_hh) "
                           f"of a loss on h AND c: {report}")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_step_gradient_through_h_only_includes_tanh_derivative(impl):
    # dc = 0: all of dc_prev comes through h' = o * tanh(c'), so dc_prev = dh * o * (1 - tanh(c')^2) * f
    rng = np.random.default_rng(7)
    w = make_weights(3, 4, seed=3, scale=1.0)
    x, h0, c0 = rng.standard_normal((2, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4)) * 2
    dh = rng.standard_normal((2, 4))
    _, _, cache = impl.lstm_step_forward(x, h0, c0, *w)
    dc_prev = as_array(impl.lstm_step_backward(dh, np.zeros((2, 4)), cache)[2])
    H = 4
    pre = x @ w[0].T + w[2] + h0 @ w[1].T + w[3]
    i, f, g, o = sigmoid(pre[:, :H]), sigmoid(pre[:, H:2 * H]), np.tanh(pre[:, 2 * H:3 * H]), sigmoid(pre[:, 3 * H:])
    c = f * c0 + i * g
    assert_close(dc_prev, dh * o * (1 - np.tanh(c) ** 2) * f, rtol=1e-10, atol=1e-12,
                 what="dc_prev from dh alone = dh * o * (1 - tanh(c')^2) * f (did you forget tanh' on the way to c?)")


# ----------------------------------------------------------------------------------------------------
# Task 3: the sequence
# ----------------------------------------------------------------------------------------------------

def _sequence_as_one_output(impl):
    """forward -> ([hs, c_n] along time, cache), backward splits the gradient into dhs and dc_n."""
    def forward(*inputs):
        hs, c_n, cache = impl.lstm_forward(*inputs)
        return np.concatenate([as_array(hs), as_array(c_n)[:, None]], axis=1), cache

    def backward(dout, cache):
        return tuple(as_array(g) for g in impl.lstm_backward(dout[:, :-1], cache, dout[:, -1]))

    return forward, backward


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_forward_and_backward_shapes(impl):
    w = make_weights(5, 4)
    rng = np.random.default_rng(0)
    hs, c_n, cache = impl.lstm_forward(rng.standard_normal((2, 7, 5)), np.zeros((2, 4)), np.zeros((2, 4)), *w)
    assert_shape(hs, (2, 7, 4), "lstm_forward hs (batch first: (N, T, H))")
    assert_shape(c_n, (2, 4), "lstm_forward c_n")
    grads = impl.lstm_backward(np.ones((2, 7, 4)), cache)
    assert len(grads) == 7, "lstm_backward returns (dx, dh0, dc0, dweight_ih, dweight_hh, dbias_ih, dbias_hh)"
    for g, shape, name in zip(grads, [(2, 7, 5), (2, 4), (2, 4), (16, 5), (16, 4), (16,), (16,)], GRADS):
        assert_shape(g, shape, name)


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", GOLDEN)
def test_forward_matches_pytorch(impl, golden, name):
    g = golden(name)
    hs, c_n, _ = impl.lstm_forward(g["x"], g["h0"], g["c0"], *(g[k] for k in NAMES))
    assert_close(hs, g["hs"], rtol=1e-9, atol=1e-12, what=f"lstm_forward hs vs torch.nn.LSTM(batch_first=True) ({name})")
    assert_close(c_n, g["c_n"], rtol=1e-9, atol=1e-12, what=f"lstm_forward c_n vs torch.nn.LSTM ({name})")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", GOLDEN)
def test_backward_matches_pytorch(impl, golden, name):
    g = golden(name)
    _, _, cache = impl.lstm_forward(g["x"], g["h0"], g["c0"], *(g[k] for k in NAMES))
    grads = impl.lstm_backward(g["dhs"], cache, g["dc_n"])
    for got, key in zip(grads, GRADS):
        assert_close(got, g[key], rtol=1e-9, atol=1e-12, what=f"lstm_backward {key} vs PyTorch autograd ({name})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_sequence_is_the_steps_chained(impl):
    w = make_weights(3, 5, seed=3)
    rng = np.random.default_rng(5)
    x, h, c = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 5)), rng.standard_normal((2, 5))
    hs, c_n, _ = impl.lstm_forward(x, h, c, *w)
    for t in range(6):
        h, c = lstm_by_hand(x[:, t], h, c, *w)
        assert_close(as_array(hs)[:, t], h, rtol=1e-10, atol=1e-12,
                     what=f"hs[:, {t}] must be the state after step {t}, (h, c) fed back to step {t + 1}")
    assert_close(c_n, c, rtol=1e-10, atol=1e-12, what="c_n is the cell state after the last step")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("N,T,D,H", [(2, 5, 3, 4), (1, 8, 2, 3), (3, 1, 4, 2)])
def test_gradient_check_through_time(impl, N, T, D, H):
    rng = np.random.default_rng(N * 100 + T)
    w = make_weights(D, H, seed=T, scale=0.8)
    inputs = [rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), rng.standard_normal((N, H)), *w]
    report = check_layer(*_sequence_as_one_output(impl), *inputs)
    assert report.passed, (f"gradients through time (x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh) of a loss on "
                           f"hs and c_n, N={N} T={T}: {report}")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_gradient_of_the_last_cell_reaches_c0(impl):
    # only dc_n is non-zero: every step is reached only through dc_prev and dh_prev, never directly
    w = make_weights(2, 3, seed=9, scale=1.0)
    rng = np.random.default_rng(9)
    x, h0, c0 = rng.standard_normal((2, 6, 2)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    dc_n = rng.standard_normal((2, 3))

    def last(c):
        return float((as_array(impl.lstm_forward(x, h0, c, *w)[1]) * dc_n).sum())

    _, _, cache = impl.lstm_forward(x, h0, c0, *w)
    dc0 = as_array(impl.lstm_backward(np.zeros((2, 6, 3)), cache, dc_n)[2])
    num = np.zeros_like(c0)
    for idx in np.ndindex(c0.shape):
        e = np.zeros_like(c0)
        e[idx] = 1e-6
        num[idx] = (last(c0 + e) - last(c0 - e)) / 2e-6
    assert_close(dc0, num, rtol=1e-5, atol=1e-9,
                 what="dc0 from a loss on c_n only (six steps of dc_prev: is dc carried from step t + 1 to t?)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_cell_carries_information_over_many_steps(impl):
    # f = 1, i = 0 at every step: the cell is a conveyor belt, c_n = c0 after 50 steps and dc0 = dc_n exactly
    D, H = 2, 3
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H, seed=4)
    b_ih[:H], b_ih[H:2 * H] = -60.0, 60.0
    rng = np.random.default_rng(1)
    x, c0 = rng.standard_normal((2, 50, D)), rng.standard_normal((2, H))
    _, c_n, cache = impl.lstm_forward(x, np.zeros((2, H)), c0, w_ih, w_hh, b_ih, b_hh)
    assert_close(c_n, c0, rtol=1e-12, atol=1e-12, what="f = 1 and i = 0 for 50 steps: c_n = c0")
    dc_n = rng.standard_normal((2, H))
    dc0 = impl.lstm_backward(np.zeros((2, 50, H)), cache, dc_n)[2]
    assert_close(dc0, dc_n, rtol=1e-9, atol=1e-12, what="the gradient rides the cell back 50 steps unchanged: dc0 = dc_n")


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_parameters_and_attributes(impl):
    layer = impl.LSTM(6, 5, rng=0)
    params = layer.parameters()
    assert [p is q for p, q in zip(params, [layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh])] == [True] * 4, \
        "parameters() must return [weight_ih, weight_hh, bias_ih, bias_hh] (the Parameter objects)"
    for p, shape in zip(params, [(20, 6), (20, 5), (20,), (20,)]):
        assert_shape(p.data, shape, "parameter")
        assert as_array(p.data).dtype == np.float32, "parameters are float32 by default"
        assert np.all(as_array(p.grad) == 0), "grad starts at 0"
    assert layer.input_size == 6 and layer.hidden_size == 5 and layer.training is True


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_init_is_uniform_like_pytorch(impl):
    layer = impl.LSTM(40, 64, rng=1, dtype=np.float64)
    bound = 1 / np.sqrt(64)
    for p in layer.parameters():
        a = as_array(p.data)
        assert np.abs(a).max() <= bound, f"init must lie in U(-1/sqrt(H), 1/sqrt(H)) = +-{bound:.4f}, got {np.abs(a).max()}"
    for p in (layer.weight_ih, layer.bias_hh):
        a = as_array(p.data)
        assert abs(a.std() - bound / np.sqrt(3)) < 0.08 * bound / np.sqrt(3), \
            f"std {a.std():.4f}: expected {bound / np.sqrt(3):.4f} (uniform over +-1/sqrt(H), not 1/sqrt(D), not zeros)"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_matches_pytorch_and_accumulates_gradients(impl, golden):
    g = golden("lstm_long")
    _N, _T, D = g["x"].shape
    H = g["h0"].shape[1]
    layer = impl.LSTM(D, H, rng=0, dtype=np.float64)
    layer.load_state_dict({k: g[k] for k in NAMES})
    out, (h_n, c_n) = layer.forward(g["x"], (g["h0"], g["c0"]))
    assert_close(out, g["hs"], rtol=1e-9, atol=1e-12, what="LSTM.forward out vs torch.nn.LSTM")
    assert_close(h_n, g["hs"][:, -1], rtol=1e-12, what="h_n is the last hidden state")
    assert_close(c_n, g["c_n"], rtol=1e-9, atol=1e-12, what="c_n is the last cell state")
    dx = layer.backward(g["dhs"], dc_n=g["dc_n"])
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what="LSTM.backward dx")
    assert_close(layer.dc0, g["dc0"], rtol=1e-9, atol=1e-12, what="layer.dc0 after backward(dout, dc_n=...)")
    layer.backward(g["dhs"], dc_n=g["dc_n"])
    for p, key in zip(layer.parameters(), ["dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"]):
        assert_close(p.grad, 2 * g[key], rtol=1e-9, atol=1e-12, what=f"{key} after two backward calls (ADD into .grad)")


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_backward_with_dh_n_and_dc_n(impl):
    layer = impl.LSTM(3, 4, rng=2, dtype=np.float64)
    rng = np.random.default_rng(3)
    x, h0, c0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    dout, dh_n, dc_n = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    layer.forward(x, (h0, c0))
    dx = layer.backward(dout, dh_n, dc_n)
    total = dout.copy()
    total[:, -1] += dh_n
    _, _, cache = impl.lstm_forward(x, h0, c0, *(getattr(layer, k).data for k in NAMES))
    ref = impl.lstm_backward(total, cache, dc_n)
    assert_close(dx, ref[0], rtol=1e-12, atol=1e-14, what="backward(dout, dh_n, dc_n): dh_n adds to dout[:, -1]")
    assert_close(layer.dh0, ref[1], rtol=1e-12, atol=1e-14, what="layer.dh0 after backward")
    assert_close(layer.dc0, ref[2], rtol=1e-12, atol=1e-14, what="layer.dc0 after backward")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_state_carries_over_between_calls(impl):
    # truncated BPTT (Topic 20's benchmark): forward(x2, state) after out, state = forward(x1) is the long sequence
    layer = impl.LSTM(3, 4, rng=3, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 9, 3))
    full, (_h_full, c_full) = layer.forward(x)
    zeros, _ = layer.forward(x, (np.zeros((2, 4)), np.zeros((2, 4))))
    assert_close(full, zeros, rtol=0, atol=0, what="forward(x) must start from h0 = c0 = zeros")
    a, state = layer.forward(x[:, :4])
    b, (_h_n, c_n) = layer.forward(x[:, 4:], state)
    assert_close(np.concatenate([as_array(a), as_array(b)], axis=1), full, rtol=1e-12, atol=1e-14,
                 what="two calls with the state passed on = one call on the whole sequence (carry h AND c)")
    assert_close(c_n, c_full, rtol=1e-12, atol=1e-14, what="c_n after the second call")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_state_dict_round_trip_and_copies(impl):
    a, b = impl.LSTM(3, 4, rng=0), impl.LSTM(3, 4, rng=1)
    state = a.state_dict()
    assert set(state) == set(NAMES), f"state_dict keys {sorted(state)}, expected {sorted(NAMES)}"
    state["weight_hh"][0, 0] += 100.0
    assert as_array(a.weight_hh.data)[0, 0] != as_array(state["weight_hh"])[0, 0], "state_dict must return copies"
    before = b.weight_ih.data
    src = a.state_dict()
    b.load_state_dict(src)
    assert b.weight_ih.data is before, "load_state_dict must write in place (the optimizer keeps the same arrays)"
    src["bias_ih"][0] += 100.0
    assert as_array(b.bias_ih.data)[0] != src["bias_ih"][0], "load_state_dict must copy, not keep the given arrays"
    x = np.random.default_rng(0).standard_normal((2, 3, 3)).astype(np.float32)
    assert_close(a.forward(x)[0], b.forward(x)[0], rtol=0, atol=0, what="a layer restored from a state_dict")


# ----------------------------------------------------------------------------------------------------
# Task 5: parameter counts
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_parameter_count_matches_pytorch(impl, golden):
    g = golden("parameter_counts")
    got = [impl.parameter_count(int(d), int(h)) for d, h in g["sizes"]]
    assert got == list(g["lstm"]), (f"parameter_count {got} != torch.nn.LSTM {list(g['lstm'])} "
                                    "(four gate blocks, two biases per block: bias_ih and bias_hh)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_lstm_has_four_times_the_rnn(impl, golden):
    g = golden("parameter_counts")
    for (d, h), rnn in zip(g["sizes"], g["rnn"]):
        assert impl.parameter_count(int(d), int(h)) == 4 * int(rnn), "an LSTM layer has 4x the parameters of an RNN layer"
    assert impl.parameter_count(65, 128) == sum(a.size for a in make_weights(65, 128)) == 99_840
