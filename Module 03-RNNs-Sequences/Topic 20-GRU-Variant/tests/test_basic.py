"""Topic 20 basic tests: shapes, PyTorch's GRU formulation, golden values, gradients through time, the layer."""

import numpy as np
import pytest

from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape

GOLDEN = ("gru_small", "gru_long", "gru_one_step")
NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_weights(D, H, seed=0, scale=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    s = 1 / np.sqrt(H) if scale is None else scale
    return [rng.uniform(-s, s, size=shape).astype(dtype) for shape in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,))]


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def gru_by_hand(x_t, h, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's documented equations, one gate at a time (the test's own oracle)."""
    H = h.shape[1]
    W = [w_ih[k * H:(k + 1) * H] for k in range(3)]
    U = [w_hh[k * H:(k + 1) * H] for k in range(3)]
    b = [b_ih[k * H:(k + 1) * H] for k in range(3)]
    c = [b_hh[k * H:(k + 1) * H] for k in range(3)]
    r = sigmoid(x_t @ W[0].T + b[0] + h @ U[0].T + c[0])
    z = sigmoid(x_t @ W[1].T + b[1] + h @ U[1].T + c[1])
    n = np.tanh(x_t @ W[2].T + b[2] + r * (h @ U[2].T + c[2]))
    return (1 - z) * n + z * h


# ----------------------------------------------------------------------------------------------------
# Task 1: one step
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_step_forward_shape_and_dtype(impl):
    w = make_weights(5, 4)
    h, _ = impl.gru_step_forward(np.ones((3, 5)), np.zeros((3, 4)), *w)
    assert_shape(h, (3, 4), "gru_step_forward h")
    assert as_array(h).dtype == np.float64


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_step_forward_follows_pytorchs_equations(impl):
    rng = np.random.default_rng(3)
    w = make_weights(4, 3, seed=1, scale=1.0)
    x, h0 = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    h, _ = impl.gru_step_forward(x, h0, *w)
    assert_close(h, gru_by_hand(x, h0, *w), rtol=1e-10, atol=1e-12,
                 what="h' = (1 - z) * n + z * h with n = tanh(W_in x + b_in + r * (W_hn h + b_hn))")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_hand_worked_step_with_zero_weights(impl):
    # math-refresh.md, section 3: all weights 0, so only the biases act. r = sigmoid(0) = 0.5,
    # z = sigmoid(0) = 0.5, n = tanh(b_in + r * b_hn) = tanh(0.2 + 0.5 * 0.6) = tanh(0.5),
    # h' = 0.5 * tanh(0.5) + 0.5 * h
    H = 2
    w_ih, w_hh = np.zeros((3 * H, 1)), np.zeros((3 * H, H))
    b_ih = np.array([0, 0, 0, 0, 0.2, 0.2])
    b_hh = np.array([0, 0, 0, 0, 0.6, 0.6])
    h0 = np.array([[1.0, -1.0]])
    h, _ = impl.gru_step_forward(np.zeros((1, 1)), h0, w_ih, w_hh, b_ih, b_hh)
    expected = 0.5 * np.tanh(0.5) + 0.5 * h0
    assert_close(h, expected, rtol=1e-12, what="zero weights: h' = 0.5 * tanh(0.2 + 0.5 * 0.6) + 0.5 * h "
                 "(b_hn is inside the reset: r * (W_hn h + b_hn))")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_reset_gate_multiplies_the_hidden_projection_and_its_bias(impl):
    # r close to 0 (a large negative reset bias): the whole hidden projection W_hn h + b_hn disappears,
    # so n = tanh(W_in x + b_in) whatever h and b_hn. z = 0 (large negative update bias): h' = n.
    D, H = 3, 4
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H, seed=5, scale=1.0)
    b_ih[:H] = -60.0
    b_ih[H:2 * H] = -60.0
    b_hh[2 * H:] = 5.0
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((2, D)), rng.standard_normal((2, H)) * 3
    h, _ = impl.gru_step_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
    expected = np.tanh(x @ w_ih[2 * H:].T + b_ih[2 * H:])
    assert_close(h, expected, rtol=1e-9, atol=1e-12,
                 what="with r = 0 and z = 0, h' = tanh(W_in x + b_in): did you leave b_hn (or W_hn h) outside r * (...)?")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_update_gate_one_keeps_the_old_state(impl):
    D, H = 3, 4
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H, seed=6, scale=1.0)
    b_ih[H:2 * H] = 60.0                   # z = 1
    rng = np.random.default_rng(1)
    x, h0 = rng.standard_normal((3, D)), rng.standard_normal((3, H))
    h, _ = impl.gru_step_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
    assert_close(h, h0, rtol=1e-12, atol=1e-12,
                 what="z = 1 must keep h unchanged (h' = (1 - z) * n + z * h): are z and (1 - z) swapped?")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_gate_order_is_r_z_n(impl):
    # only the SECOND block of rows (the update gate z in PyTorch's order r, z, n) gets a large bias:
    # h' = h. If the blocks were read as (z, r, n), the first block would be the update gate instead.
    D, H = 2, 3
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H, seed=7, scale=1.0)
    b_hh[:H] = -60.0                       # block 0 = r = 0
    b_hh[H:2 * H] = 60.0                   # block 1 = z = 1
    rng = np.random.default_rng(2)
    x, h0 = rng.standard_normal((4, D)), rng.standard_normal((4, H))
    h, _ = impl.gru_step_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
    assert_close(h, h0, rtol=1e-12, atol=1e-12,
                 what="rows H:2H are the update gate z (PyTorch's order r, z, n): with z = 1, h' must equal h")
    b_hh[:H], b_hh[H:2 * H] = 0.0, -60.0   # z = 0: h' = n, which reads the THIRD block
    h, _ = impl.gru_step_forward(x, h0, w_ih, w_hh, b_ih, b_hh)
    r = sigmoid(x @ w_ih[:H].T + b_ih[:H] + h0 @ w_hh[:H].T)
    n = np.tanh(x @ w_ih[2 * H:].T + b_ih[2 * H:] + r * (h0 @ w_hh[2 * H:].T + b_hh[2 * H:]))
    assert_close(h, n, rtol=1e-9, atol=1e-12, what="with z = 0, h' = n from rows 2H:3H (r from rows 0:H)")


# ----------------------------------------------------------------------------------------------------
# Task 2: one step backward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_step_backward_shapes(impl):
    w = make_weights(5, 4)
    rng = np.random.default_rng(0)
    _, cache = impl.gru_step_forward(rng.standard_normal((3, 5)), rng.standard_normal((3, 4)), *w)
    grads = impl.gru_step_backward(rng.standard_normal((3, 4)), cache)
    assert len(grads) == 6, "gru_step_backward returns (dx_t, dh_prev, dweight_ih, dweight_hh, dbias_ih, dbias_hh)"
    for g, shape, name in zip(grads, [(3, 5), (3, 4), (12, 5), (12, 4), (12,), (12,)],
                              ["dx_t", "dh_prev", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"]):
        assert_shape(g, shape, name)


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_step_gradient_check(impl):
    rng = np.random.default_rng(4)
    w = make_weights(4, 3, seed=2, scale=1.0)
    inputs = [rng.standard_normal((3, 4)), rng.standard_normal((3, 3)), *w]

    def backward(dh, cache):
        return tuple(as_array(g) for g in impl.gru_step_backward(dh, cache))

    report = check_layer(impl.gru_step_forward, backward, *inputs)
    assert report.passed, f"one GRU step, gradients (x_t, h_prev, weight_ih, weight_hh, bias_ih, bias_hh): {report}"


# ----------------------------------------------------------------------------------------------------
# Task 3: the sequence
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_forward_and_backward_shapes(impl):
    w = make_weights(5, 4)
    rng = np.random.default_rng(0)
    hs, cache = impl.gru_forward(rng.standard_normal((2, 7, 5)), np.zeros((2, 4)), *w)
    assert_shape(hs, (2, 7, 4), "gru_forward hs (batch first: (N, T, H))")
    grads = impl.gru_backward(np.ones((2, 7, 4)), cache)
    assert len(grads) == 6, "gru_backward returns (dx, dh0, dweight_ih, dweight_hh, dbias_ih, dbias_hh)"
    for g, shape, name in zip(grads, [(2, 7, 5), (2, 4), (12, 5), (12, 4), (12,), (12,)],
                              ["dx", "dh0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"]):
        assert_shape(g, shape, name)


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", GOLDEN)
def test_forward_matches_pytorch(impl, golden, name):
    g = golden(name)
    hs, _ = impl.gru_forward(g["x"], g["h0"], *(g[k] for k in NAMES))
    assert_close(hs, g["hs"], rtol=1e-9, atol=1e-12, what=f"gru_forward vs torch.nn.GRU(batch_first=True) ({name})")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", GOLDEN)
def test_backward_matches_pytorch(impl, golden, name):
    g = golden(name)
    _, cache = impl.gru_forward(g["x"], g["h0"], *(g[k] for k in NAMES))
    grads = impl.gru_backward(g["dhs"], cache)
    for got, key in zip(grads, ["dx", "dh0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"]):
        assert_close(got, g[key], rtol=1e-9, atol=1e-12, what=f"gru_backward {key} vs PyTorch autograd ({name})")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_sequence_is_the_steps_chained(impl):
    w = make_weights(3, 5, seed=3)
    rng = np.random.default_rng(5)
    x, h = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 5))
    hs, _ = impl.gru_forward(x, h, *w)
    for t in range(6):
        h = gru_by_hand(x[:, t], h, *w)
        assert_close(as_array(hs)[:, t], h, rtol=1e-10, atol=1e-12,
                     what=f"hs[:, {t}] must be the state after step {t}, fed back as h_prev to step {t + 1}")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("N,T,D,H", [(2, 5, 3, 4), (1, 8, 2, 3), (3, 1, 4, 2)])
def test_gradient_check_through_time(impl, N, T, D, H):
    rng = np.random.default_rng(N * 100 + T)
    w = make_weights(D, H, seed=T, scale=0.8)
    inputs = [rng.standard_normal((N, T, D)), rng.standard_normal((N, H)), *w]

    def backward(dhs, cache):
        return tuple(as_array(g) for g in impl.gru_backward(dhs, cache))

    report = check_layer(impl.gru_forward, backward, *inputs)
    assert report.passed, (f"gradients through time (x, h0, weight_ih, weight_hh, bias_ih, bias_hh), "
                           f"N={N} T={T}: {report}")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_gradient_of_the_last_state_reaches_h0(impl):
    # only dhs[:, -1] is non-zero: every earlier step is reached only through dh_prev, never directly
    w = make_weights(2, 3, seed=9, scale=1.0)
    rng = np.random.default_rng(9)
    x, h0 = rng.standard_normal((2, 6, 2)), rng.standard_normal((2, 3))
    dhs = np.zeros((2, 6, 3))
    dhs[:, -1] = rng.standard_normal((2, 3))

    def last(h):
        return float((as_array(impl.gru_forward(x, h, *w)[0])[:, -1] * dhs[:, -1]).sum())

    _, cache = impl.gru_forward(x, h0, *w)
    dh0 = as_array(impl.gru_backward(dhs, cache)[1])
    num = np.zeros_like(h0)
    for idx in np.ndindex(h0.shape):
        e = np.zeros_like(h0)
        e[idx] = 1e-6
        num[idx] = (last(h0 + e) - last(h0 - e)) / 2e-6
    assert_close(dh0, num, rtol=1e-5, atol=1e-9, what="dh0 from the last step only (six steps of dh_prev)")


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_parameters_and_attributes(impl):
    layer = impl.GRU(6, 5, rng=0)
    params = layer.parameters()
    assert [p is q for p, q in zip(params, [layer.weight_ih, layer.weight_hh, layer.bias_ih, layer.bias_hh])] == [True] * 4, \
        "parameters() must return [weight_ih, weight_hh, bias_ih, bias_hh] (the Parameter objects)"
    for p, shape in zip(params, [(15, 6), (15, 5), (15,), (15,)]):
        assert_shape(p.data, shape, "parameter")
        assert as_array(p.data).dtype == np.float32, "parameters are float32 by default"
        assert np.all(as_array(p.grad) == 0), "grad starts at 0"
    assert layer.input_size == 6 and layer.hidden_size == 5 and layer.training is True


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_init_is_uniform_like_pytorch(impl):
    layer = impl.GRU(40, 64, rng=1, dtype=np.float64)
    bound = 1 / np.sqrt(64)
    for p in layer.parameters():
        a = as_array(p.data)
        assert np.abs(a).max() <= bound, f"init must lie in U(-1/sqrt(H), 1/sqrt(H)) = +-{bound:.4f}, got {np.abs(a).max()}"
    w = as_array(layer.weight_ih.data)
    assert abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound / np.sqrt(3), \
        f"weight_ih std {w.std():.4f}: expected {bound / np.sqrt(3):.4f} (uniform over +-1/sqrt(H), not 1/sqrt(D))"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_matches_pytorch_and_accumulates_gradients(impl, golden):
    g = golden("gru_long")
    N, T, D = g["x"].shape
    H = g["h0"].shape[1]
    layer = impl.GRU(D, H, rng=0, dtype=np.float64)
    layer.load_state_dict({k: g[k] for k in NAMES})
    out, h_n = layer.forward(g["x"], g["h0"])
    assert_close(out, g["hs"], rtol=1e-9, atol=1e-12, what="GRU.forward out vs torch.nn.GRU")
    assert_close(h_n, g["hs"][:, -1], rtol=1e-12, what="h_n is the last state")
    dx = layer.backward(g["dhs"])
    assert_close(dx, g["dx"], rtol=1e-9, atol=1e-12, what="GRU.backward dx")
    layer.backward(g["dhs"])
    for p, key in zip(layer.parameters(), ["dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"]):
        assert_close(p.grad, 2 * g[key], rtol=1e-9, atol=1e-12, what=f"{key} after two backward calls (ADD into .grad)")


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_backward_with_dh_n(impl):
    layer = impl.GRU(3, 4, rng=2, dtype=np.float64)
    rng = np.random.default_rng(3)
    x, h0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4))
    dout, dh_n = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 4))
    layer.forward(x, h0)
    dx = layer.backward(dout, dh_n)
    total = dout.copy()
    total[:, -1] += dh_n
    _, cache = impl.gru_forward(x, h0, *(getattr(layer, k).data for k in NAMES))
    ref = impl.gru_backward(total, cache)
    assert_close(dx, ref[0], rtol=1e-12, atol=1e-14, what="backward(dout, dh_n): dh_n adds to dout[:, -1]")
    assert_close(layer.dh0, ref[1], rtol=1e-12, atol=1e-14, what="layer.dh0 after backward")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_default_h0_is_zeros(impl):
    layer = impl.GRU(3, 4, rng=3, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    a, _ = layer.forward(x)
    b, _ = layer.forward(x, np.zeros((2, 4)))
    assert_close(a, b, rtol=0, atol=0, what="forward(x) must start from h0 = zeros")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_state_dict_round_trip_and_copies(impl):
    a, b = impl.GRU(3, 4, rng=0), impl.GRU(3, 4, rng=1)
    state = a.state_dict()
    assert set(state) == set(NAMES), f"state_dict keys {sorted(state)}, expected {sorted(NAMES)}"
    state["weight_hh"][0, 0] += 100.0
    assert as_array(a.weight_hh.data)[0, 0] != as_array(state["weight_hh"])[0, 0], "state_dict must return copies"
    before = b.weight_ih.data
    b.load_state_dict(a.state_dict())
    assert b.weight_ih.data is before, "load_state_dict must write in place (the optimizer keeps the same arrays)"
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
    for kind in ("rnn", "lstm", "gru"):
        got = [impl.parameter_count(kind, int(d), int(h)) for d, h in g["sizes"]]
        assert got == list(g[kind]), (f"parameter_count({kind!r}) {got} != torch.nn.{kind.upper()} {list(g[kind])} "
                                      "(two biases per gate block: bias_ih and bias_hh)")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_gru_has_three_quarters_of_the_lstm(impl):
    for d, h in ((65, 128), (7, 3)):
        rnn, lstm, gru = (impl.parameter_count(k, d, h) for k in ("rnn", "lstm", "gru"))
        assert gru * 4 == lstm * 3 and gru == 3 * rnn, f"GRU {gru}, LSTM {lstm}, RNN {rnn}: expected 3 : 4 : 1"
    assert impl.parameter_count("gru", 65, 128) == sum(a.size for a in make_weights(65, 128))
