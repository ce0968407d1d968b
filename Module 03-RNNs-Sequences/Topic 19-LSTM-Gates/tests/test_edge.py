"""Topic 19 edge tests: wrong shapes, N = 0 and N = 1, T = 1, the initial state, float32, extreme values, NaN,
views, the layer's arguments and misuse, gradient checks of the layer's parameters and of (h0, c0)."""

import numpy as np
import pytest

from dlfs.gradient_check import numerical_gradient, relative_error
from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_weights(D, H, seed=0, scale=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    s = 1 / np.sqrt(H) if scale is None else scale
    return [rng.uniform(-s, s, size=shape).astype(dtype) for shape in ((4 * H, D), (4 * H, H), (4 * H,), (4 * H,))]


# ----------------------------------------------------------------------------------------------------
# Task 1: one step
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_step_rejects_bad_shapes(impl):
    D, H = 3, 4
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H)
    x, h, c = np.zeros((2, D)), np.zeros((2, H)), np.zeros((2, H))
    bad = {
        "x_t with the wrong D": (np.zeros((2, D + 1)), h, c, w_ih, w_hh, b_ih, b_hh),
        "x_t 1-D": (np.zeros(D), h, c, w_ih, w_hh, b_ih, b_hh),
        "h_prev of another batch": (x, np.zeros((3, H)), c, w_ih, w_hh, b_ih, b_hh),
        "h_prev (1, H) (would broadcast)": (x, np.zeros((1, H)), c, w_ih, w_hh, b_ih, b_hh),
        "c_prev (1, H) (would broadcast)": (x, h, np.zeros((1, H)), w_ih, w_hh, b_ih, b_hh),
        "c_prev (H,) (would broadcast)": (x, h, np.zeros(H), w_ih, w_hh, b_ih, b_hh),
        "c_prev of another width": (x, h, np.zeros((2, H + 1)), w_ih, w_hh, b_ih, b_hh),
        "weight_hh (3H, H), a GRU's": (x, h, c, w_ih, np.zeros((3 * H, H)), b_ih, b_hh),
        "weight_hh (1, H) (h @ weight_hh.T would broadcast)": (x, h, c, w_ih, np.zeros((1, H)), b_ih, b_hh),
        "weight_hh 3-D": (x, h, c, w_ih, np.zeros((1, 4 * H, H)), b_ih, b_hh),
        "weight_ih (H, D)": (x, h, c, np.zeros((H, D)), w_hh, b_ih, b_hh),
        "weight_ih (4H, D) transposed": (x, h, c, w_ih.T, w_hh, b_ih, b_hh),
        "bias_ih of shape (1,)": (x, h, c, w_ih, w_hh, np.zeros(1), b_hh),
        "bias_ih of shape (4H, 1)": (x, h, c, w_ih, w_hh, b_ih[:, None], b_hh),
        "bias_hh of shape (1, 4H)": (x, h, c, w_ih, w_hh, b_ih, b_hh[None]),
        "bias_hh of shape (H,)": (x, h, c, w_ih, w_hh, b_ih, np.zeros(H)),
    }
    for what, args in bad.items():
        with pytest.raises(ValueError):
            impl.lstm_step_forward(*args)
            pytest.fail(f"lstm_step_forward accepted {what}: raise ValueError, never broadcast")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_step_uses_the_given_cell_state(impl):
    # the same x and h with two different c_prev: only f * c_prev differs, so c' - c'' = f * (c_prev - c_prev')
    w = make_weights(3, 4, seed=8, scale=1.0)
    rng = np.random.default_rng(5)
    x, h = rng.standard_normal((2, 3)), rng.standard_normal((2, 4))
    c1, c2 = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    _, ca, _ = impl.lstm_step_forward(x, h, c1, *w)
    _, cb, _ = impl.lstm_step_forward(x, h, c2, *w)
    _, cz, _ = impl.lstm_step_forward(x, h, np.zeros((2, 4)), *w)
    pre = x @ w[0].T + w[2] + h @ w[1].T + w[3]
    f = 1 / (1 + np.exp(-pre[:, 4:8]))
    assert_close(as_array(ca) - as_array(cb), f * (c1 - c2), rtol=1e-10, atol=1e-12,
                 what="c' changes with c_prev by f * c_prev (is c_prev multiplied by the forget gate, block 1?)")
    assert_close(as_array(ca) - as_array(cz), f * c1, rtol=1e-10, atol=1e-12, what="c_prev given vs zeros")


# ----------------------------------------------------------------------------------------------------
# Task 2: one step backward
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_step_backward_rejects_wrong_dh_and_dc(impl):
    w = make_weights(3, 4)
    _, _, cache = impl.lstm_step_forward(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)), *w)
    ok = np.zeros((2, 4))
    for what, dh, dc in (("dh (2, 1)", np.zeros((2, 1)), ok), ("dh (1, 4)", np.zeros((1, 4)), ok),
                         ("dc (1, 4)", ok, np.zeros((1, 4))), ("dc (4,)", ok, np.zeros(4)),
                         ("dc (2, 4, 1)", ok, np.zeros((2, 4, 1)))):
        with pytest.raises(ValueError):
            impl.lstm_step_backward(dh, dc, cache)
            pytest.fail(f"lstm_step_backward accepted {what} (expected (2, 4) for both)")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_step_backward_from_the_cell_only(impl):
    # dh = 0: the output gate gets nothing, and dc reaches c_prev through the forget gate alone: dc_prev = dc * f
    D, H = 3, 4
    w = make_weights(D, H, seed=6, scale=1.0)
    rng = np.random.default_rng(6)
    x, h0, c0, dc = (rng.standard_normal((2, k)) for k in (D, H, H, H))
    _, _, cache = impl.lstm_step_forward(x, h0, c0, *w)
    dx, dh_prev, dc_prev, dw_ih, dw_hh, db_ih, db_hh = (as_array(g) for g in
                                                        impl.lstm_step_backward(np.zeros((2, H)), dc, cache))
    pre = x @ w[0].T + w[2] + h0 @ w[1].T + w[3]
    s = 1 / (1 + np.exp(-pre))
    i, f, g = s[:, :H], s[:, H:2 * H], np.tanh(pre[:, 2 * H:3 * H])
    assert_close(dc_prev, dc * f, rtol=1e-10, atol=1e-12, what="dh = 0: dc_prev = dc * f (the forget gate only)")
    da = np.concatenate([dc * g * i * (1 - i), dc * c0 * f * (1 - f), dc * i * (1 - g ** 2), np.zeros((2, H))], axis=1)
    assert_close(db_ih, da.sum(0), rtol=1e-10, atol=1e-12,
                 what="dbias_ih from dc alone: [dc*g*i(1-i) | dc*c_prev*f(1-f) | dc*i*(1-g^2) | 0] summed over the batch")
    assert_close(db_hh, da.sum(0), rtol=1e-10, atol=1e-12, what="dbias_hh equals dbias_ih (both biases add to a)")
    assert_close(dw_hh, da.T @ h0, rtol=1e-10, atol=1e-12, what="dweight_hh = da.T @ h_prev")
    assert_close(dw_ih, da.T @ x, rtol=1e-10, atol=1e-12, what="dweight_ih = da.T @ x_t")
    assert_close(dh_prev, da @ w[1], rtol=1e-10, atol=1e-12, what="dh_prev = da @ weight_hh")
    assert_close(dx, da @ w[0], rtol=1e-10, atol=1e-12, what="dx_t = da @ weight_ih")


# ----------------------------------------------------------------------------------------------------
# Task 3: the sequence
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_sequence_rejects_bad_shapes(impl):
    D, H = 3, 4
    w = make_weights(D, H)
    x, s = np.zeros((2, 5, D)), np.zeros((2, H))
    for what, args in (("x 2-D", (np.zeros((2, D)), s, s)),
                       ("x with the wrong D", (np.zeros((2, 5, D + 2)), s, s)),
                       ("h0 (1, H)", (x, np.zeros((1, H)), s)),
                       ("c0 (1, H)", (x, s, np.zeros((1, H)))),
                       ("c0 (H,)", (x, s, np.zeros(H))),
                       ("h0 (1, N, H) as PyTorch's layers", (x, np.zeros((1, 2, H)), s)),
                       ("c0 (1, N, H) as PyTorch's layers", (x, s, np.zeros((1, 2, H)))),
                       ("T = 0", (np.zeros((2, 0, D)), s, s))):
        with pytest.raises(ValueError):
            impl.lstm_forward(*args, *w)
            pytest.fail(f"lstm_forward accepted {what}")
    with pytest.raises(ValueError):
        impl.lstm_forward(x, s, s, w[0], w[1], w[2][None], w[3])
        pytest.fail("lstm_forward accepted bias_ih of shape (1, 4H)")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_backward_rejects_dout_of_the_wrong_shape(impl):
    w = make_weights(3, 4)
    _, _, cache = impl.lstm_forward(np.zeros((2, 5, 3)), np.zeros((2, 4)), np.zeros((2, 4)), *w)
    for shape in [(2, 5, 1), (5, 2, 4), (2, 4), (1, 5, 4), (2, 4, 4)]:
        with pytest.raises(ValueError):
            impl.lstm_backward(np.zeros(shape), cache)
            pytest.fail(f"lstm_backward accepted dhs of shape {shape} (expected (2, 5, 4))")
    for shape in [(1, 4), (4,), (2, 5, 4), (2, 1)]:
        with pytest.raises(ValueError):
            impl.lstm_backward(np.zeros((2, 5, 4)), cache, np.zeros(shape))
            pytest.fail(f"lstm_backward accepted dc_n of shape {shape} (expected (2, 4): it would broadcast)")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_dc_n_none_is_zeros_and_dc_n_counts(impl):
    w = make_weights(3, 4, seed=7, scale=1.0)
    rng = np.random.default_rng(8)
    x, h0, c0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    dhs, dc_n = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 4))
    _, _, cache = impl.lstm_forward(x, h0, c0, *w)
    default = [as_array(g).copy() for g in impl.lstm_backward(dhs, cache)]
    zeros = [as_array(g).copy() for g in impl.lstm_backward(dhs, cache, np.zeros((2, 4)))]
    given = [as_array(g).copy() for g in impl.lstm_backward(dhs, cache, dc_n)]
    only_c = [as_array(g).copy() for g in impl.lstm_backward(np.zeros((2, 4, 4)), cache, dc_n)]
    for name, a, b, c, d in zip(("dx", "dh0", "dc0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"),
                                default, zeros, given, only_c):
        assert_close(a, b, rtol=0, atol=1e-14, what=f"{name}: dc_n=None must mean dc_n = zeros")
        assert_close(c, a + d, rtol=1e-10, atol=1e-12,
                     what=f"{name}: the backward pass is linear, grads(dhs, dc_n) = grads(dhs, 0) + grads(0, dc_n)")
    assert np.abs(only_c[2]).max() > 1e-3, "a loss on c_n must reach c0 (dc_n ignored?)"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_initial_state_given_vs_zeros(impl):
    # h0 and c0 both matter, separately: a state ignored (or swapped) gives the zero-state output
    D, H = 3, 4
    w = make_weights(D, H, seed=9, scale=1.0)
    rng = np.random.default_rng(9)
    x, h0, c0 = rng.standard_normal((2, 3, D)), rng.standard_normal((2, H)), rng.standard_normal((2, H))
    z = np.zeros((2, H))
    runs = {k: [as_array(a) for a in impl.lstm_forward(x, h, c, *w)[:2]]
            for k, (h, c) in {"zeros": (z, z), "h0": (h0, z), "c0": (z, c0), "both": (h0, c0), "swapped": (c0, h0)}.items()}
    for k in ("h0", "c0", "both", "swapped"):
        assert np.abs(runs[k][0] - runs["zeros"][0]).max() > 1e-3, f"a non-zero {k} must change the outputs"
    assert np.abs(runs["both"][0] - runs["swapped"][0]).max() > 1e-3, "h0 and c0 are different inputs (swapped?)"
    # step 0 by hand: c after step 0 differs between c0 and zeros by exactly f_0 * c0
    pre = x[:, 0] @ w[0].T + w[2] + w[3]
    f0 = 1 / (1 + np.exp(-pre[:, H:2 * H]))
    _, c_a, _ = impl.lstm_forward(x[:, :1], z, c0, *w)
    _, c_b, _ = impl.lstm_forward(x[:, :1], z, z, *w)
    assert_close(as_array(c_a) - as_array(c_b), f0 * c0, rtol=1e-10, atol=1e-12,
                 what="c0 enters the first step as f * c0 (c0 must be the cell state, not the hidden state)")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_batch_of_one_equals_its_row_of_a_batch(impl):
    w = make_weights(3, 4, seed=1)
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.standard_normal((5, 6, 3)), rng.standard_normal((5, 4)), rng.standard_normal((5, 4))
    hs, c_n, cache = impl.lstm_forward(x, h0, c0, *w)
    one, c1, cache1 = impl.lstm_forward(x[2:3], h0[2:3], c0[2:3], *w)
    assert_shape(one, (1, 6, 4), "N = 1 hs")
    assert_shape(c1, (1, 4), "N = 1 c_n")
    assert_close(one, as_array(hs)[2:3], rtol=1e-12, atol=1e-14, what="a batch of one vs its row of the batch")
    assert_close(c1, as_array(c_n)[2:3], rtol=1e-12, atol=1e-14, what="c_n of a batch of one")
    dhs, dc_n = rng.standard_normal((5, 6, 4)), rng.standard_normal((5, 4))
    full = [as_array(g) for g in impl.lstm_backward(dhs, cache, dc_n)[:3]]
    single = [as_array(g) for g in impl.lstm_backward(dhs[2:3], cache1, dc_n[2:3])[:3]]
    for name, a, b in zip(("dx", "dh0", "dc0"), single, full):
        assert_close(a, b[2:3], rtol=1e-11, atol=1e-13, what=f"{name} of a batch of one")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_one_hidden_unit(impl):
    # H = 1 is a valid LSTM (weights (4, D), (4, 1)): nothing may require H >= 2
    w_ih, w_hh, b_ih, b_hh = make_weights(2, 1, seed=10, scale=1.0)
    rng = np.random.default_rng(10)
    x, h0, c0 = rng.standard_normal((3, 4, 2)), rng.standard_normal((3, 1)), rng.standard_normal((3, 1))
    hs, c_n, cache = impl.lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    h, c = h0, c0
    for t in range(4):
        a = x[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        s = 1 / (1 + np.exp(-a))
        c = s[:, 1:2] * c + s[:, 0:1] * np.tanh(a[:, 2:3])
        h = s[:, 3:4] * np.tanh(c)
    assert_shape(hs, (3, 4, 1), "H = 1 hs")
    assert_close(as_array(hs)[:, -1], h, rtol=1e-10, atol=1e-12, what="H = 1: one unit, its four gates in rows 0..3")
    assert_close(c_n, c, rtol=1e-10, atol=1e-12, what="H = 1: c_n")
    grads = impl.lstm_backward(np.ones((3, 4, 1)), cache, np.ones((3, 1)))
    for g, shape in zip(grads, [(3, 4, 2), (3, 1), (3, 1), (4, 2), (4, 1), (4,), (4,)]):
        assert_shape(g, shape, "H = 1 gradient")
    out, (h_n, c_n) = impl.LSTM(2, 1, rng=0).forward(x.astype(np.float32))
    for a, shape, name in ((out, (3, 4, 1), "out"), (h_n, (3, 1), "h_n"), (c_n, (3, 1), "c_n")):
        assert_shape(a, shape, f"LSTM(2, 1) {name}")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_empty_batch(impl):
    w = make_weights(3, 4)
    hs, c_n, cache = impl.lstm_forward(np.zeros((0, 5, 3)), np.zeros((0, 4)), np.zeros((0, 4)), *w)
    assert_shape(hs, (0, 5, 4), "N = 0 hs")
    assert_shape(c_n, (0, 4), "N = 0 c_n")
    dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh = (as_array(g) for g in impl.lstm_backward(np.zeros((0, 5, 4)), cache))
    assert_shape(dx, (0, 5, 3), "N = 0 dx")
    assert_shape(dh0, (0, 4), "N = 0 dh0")
    assert_shape(dc0, (0, 4), "N = 0 dc0")
    for g, shape in ((dw_ih, (16, 3)), (dw_hh, (16, 4)), (db_ih, (16,)), (db_hh, (16,))):
        assert_shape(g, shape, "N = 0 weight gradient")
        assert np.all(g == 0), "an empty batch gives zero weight gradients"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_one_time_step_is_one_step(impl):
    w = make_weights(3, 4, seed=2)
    rng = np.random.default_rng(1)
    x, h0, c0 = rng.standard_normal((2, 1, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    hs, c_n, cache = impl.lstm_forward(x, h0, c0, *w)
    h, c, step_cache = impl.lstm_step_forward(x[:, 0], h0, c0, *w)
    assert_close(as_array(hs)[:, 0], h, rtol=1e-12, atol=1e-14, what="T = 1: the sequence is one step (h)")
    assert_close(c_n, c, rtol=1e-12, atol=1e-14, what="T = 1: the sequence is one step (c)")
    dh, dc = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    seq = [as_array(g) for g in impl.lstm_backward(dh[:, None], cache, dc)]
    step = [as_array(g) for g in impl.lstm_step_backward(dh, dc, step_cache)]
    assert_close(seq[0][:, 0], step[0], rtol=1e-11, atol=1e-13, what="T = 1 backward: dx is the step's dx_t")
    for name, a, b in zip(("dh0", "dc0", "dweight_ih", "dweight_hh", "dbias_ih", "dbias_hh"), seq[1:], step[1:]):
        assert_close(a, b, rtol=1e-11, atol=1e-13, what=f"T = 1 backward: {name} is the step's")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_non_contiguous_inputs(impl):
    w = make_weights(3, 4, seed=3)
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 2, 3)).transpose(1, 0, 2)      # time-first data seen batch first: not contiguous
    h0, c0 = rng.standard_normal((4, 2)).T, rng.standard_normal((4, 2)).T
    wt = [np.asfortranarray(w[0]), np.asfortranarray(w[1]), np.repeat(w[2], 2)[::2], np.repeat(w[3], 2)[::2]]  # strided biases
    hs, c_n, cache = impl.lstm_forward(x, h0, c0, *wt)
    ref, c_ref, cache_ref = impl.lstm_forward(*(np.ascontiguousarray(a) for a in (x, h0, c0)), *w)
    assert_close(hs, ref, rtol=1e-12, atol=1e-14, what="non-contiguous x, h0, c0 and weights")
    assert_close(c_n, c_ref, rtol=1e-12, atol=1e-14, what="c_n with non-contiguous inputs")
    dhs = rng.standard_normal((6, 2, 4)).transpose(1, 0, 2)
    dc_n = rng.standard_normal((4, 2)).T
    for a, b in zip(impl.lstm_backward(dhs, cache, dc_n),
                    impl.lstm_backward(np.ascontiguousarray(dhs), cache_ref, np.ascontiguousarray(dc_n))):
        assert_close(a, b, rtol=1e-11, atol=1e-13, what="backward with a non-contiguous dhs and dc_n")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_float32_stays_float32(impl):
    w = make_weights(3, 4, seed=4, dtype=np.float32)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    h0, c0 = (rng.standard_normal((2, 4)).astype(np.float32) for _ in range(2))
    h, c, step_cache = impl.lstm_step_forward(x[:, 0], h0, c0, *w)
    assert as_array(h).dtype == np.float32 and as_array(c).dtype == np.float32, "float32 in, float32 out (step)"
    ones = np.ones((2, 4), np.float32)
    for g in impl.lstm_step_backward(ones, ones, step_cache):
        assert as_array(g).dtype == np.float32, "float32 gradients (step backward)"
    hs, c_n, cache = impl.lstm_forward(x, h0, c0, *w)
    assert as_array(hs).dtype == np.float32 and as_array(c_n).dtype == np.float32, "float32 in, float32 out (sequence)"
    for g in impl.lstm_backward(np.ones((2, 5, 4), np.float32), cache, ones):
        assert as_array(g).dtype == np.float32, "float32 gradients (sequence backward)"
    ref, c_ref, _ = impl.lstm_forward(*(a.astype(np.float64) for a in (x, h0, c0, *w)))
    assert_close(hs, ref, rtol=1e-4, atol=1e-5, what="float32 sequence vs float64")
    assert_close(c_n, c_ref, rtol=1e-4, atol=1e-5, what="float32 c_n vs float64")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_extreme_inputs_saturate_without_overflow(impl):
    w = make_weights(2, 3, seed=5, scale=1.0)
    x = np.array([[[1e4, -1e4], [-1e4, 1e4], [3e3, 3e3], [-800.0, -800.0]]])
    with np.errstate(over="raise", invalid="raise"):
        hs, c_n, cache = impl.lstm_forward(x, np.zeros((1, 3)), np.zeros((1, 3)), *w)
        hs, c_n = as_array(hs), as_array(c_n)
        grads = impl.lstm_backward(np.ones((1, 4, 3)), cache, np.ones((1, 3)))
    assert np.all(np.isfinite(hs)) and np.abs(hs).max() <= 1.0, "saturated gates: |h| = |o * tanh(c)| stays <= 1"
    assert np.all(np.isfinite(c_n)) and np.abs(c_n).max() <= 4.0, "saturated gates: |c| grows by at most 1 per step"
    assert all(np.all(np.isfinite(as_array(g))) for g in grads), "saturated gates: finite gradients"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_nan_spoils_only_its_own_sequence_from_its_step_on(impl):
    w = make_weights(2, 3, seed=6)
    x = np.random.default_rng(4).standard_normal((3, 5, 2))
    x[1, 2, 0] = np.nan
    hs, c_n, _ = impl.lstm_forward(x, np.zeros((3, 3)), np.zeros((3, 3)), *w)
    hs, c_n = as_array(hs), as_array(c_n)
    assert np.all(np.isfinite(hs[[0, 2]])) and np.all(np.isfinite(c_n[[0, 2]])), \
        "a NaN in sample 1 must not reach the other samples (h or c)"
    assert np.all(np.isfinite(hs[1, :2])) and np.all(np.isnan(hs[1, 2:])), \
        "sample 1 is NaN from step 2 on (the state carries it), finite before"
    assert np.all(np.isnan(c_n[1])), "the cell of sample 1 carries the NaN to c_n"


# ----------------------------------------------------------------------------------------------------
# Task 4: the layer
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_float32_layer_in_train_and_eval(impl):
    layer = impl.LSTM(3, 4, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    for mode in (layer.train, layer.eval):
        assert mode() is layer, "train() and eval() return the layer"
        out, (h_n, c_n) = layer.forward(x)
        assert all(as_array(a).dtype == np.float32 for a in (out, h_n, c_n)), "float32 layer outputs (out, h_n, c_n)"
        dx = layer.backward(np.ones((2, 5, 4), np.float32), np.ones((2, 4), np.float32), np.ones((2, 4), np.float32))
        assert as_array(dx).dtype == np.float32, "float32 dx"
        assert as_array(layer.dh0).dtype == np.float32 and as_array(layer.dc0).dtype == np.float32, "float32 dh0, dc0"
        assert all(as_array(p.grad).dtype == np.float32 for p in layer.parameters()), "float32 grads"
    assert layer.training is False, "eval() sets training = False"
    assert layer.train() is layer and layer.training is True, "train() after eval() sets training = True again"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_dtype_argument_and_given_state(impl):
    layer = impl.LSTM(3, 4, rng=5, dtype=np.float64)
    assert all(as_array(p.data).dtype == np.float64 for p in layer.parameters()), "dtype=np.float64 parameters"
    assert all(as_array(p.grad).dtype == np.float64 for p in layer.parameters()), "dtype=np.float64 grads"
    assert layer.dh0 is None and layer.dc0 is None, "dh0 and dc0 are None until a backward"
    rng = np.random.default_rng(5)
    x, h0, c0 = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    out, (_h_n, c_n) = layer.forward(x, (h0, c0))
    ref, c_ref, _ = impl.lstm_forward(x, h0, c0, *(getattr(layer, k).data for k in NAMES))
    assert_close(out, ref, rtol=1e-12, atol=1e-14, what="forward(x, (h0, c0)) starts from the given h0 AND c0")
    assert_close(c_n, c_ref, rtol=1e-12, atol=1e-14, what="c_n of forward(x, (h0, c0))")
    assert as_array(out).dtype == np.float64, "a float64 layer gives float64 outputs"
    out_list, _ = layer.forward(x, [h0, c0])
    assert_close(out_list, ref, rtol=1e-12, atol=1e-14, what="the state may be a list [h0, c0] too")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_backward_leaves_dout_untouched(impl):
    layer = impl.LSTM(3, 4, rng=1, dtype=np.float64)
    rng = np.random.default_rng(1)
    layer.forward(rng.standard_normal((2, 5, 3)))
    dout, dh_n, dc_n = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    saved = [a.copy() for a in (dout, dh_n, dc_n)]
    layer.backward(dout, dh_n, dc_n)
    for a, b, name in zip((dout, dh_n, dc_n), saved, ("dout", "dh_n", "dc_n")):
        assert np.array_equal(a, b), f"backward modified {name}: add dh_n to a copy of dout"


@pytest.mark.gradient
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_gradient_check_of_every_parameter_and_the_initial_state(impl):
    # L = <A, out> + <B, h_n> + <C, c_n>: the layer's .grad, dh0 and dc0 against finite differences, in float64
    layer = impl.LSTM(3, 4, rng=7, dtype=np.float64)
    rng = np.random.default_rng(7)
    x, h0, c0 = rng.standard_normal((2, 5, 3)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    A, B, C = rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 4)), rng.standard_normal((2, 4))

    def loss():
        out, (h_n, c_n) = layer.forward(x, (h0, c0))
        return float((as_array(out) * A).sum() + (as_array(h_n) * B).sum() + (as_array(c_n) * C).sum())

    loss()
    layer.backward(A, B, C)
    analytic = {name: as_array(getattr(layer, name).grad).copy() for name in NAMES}
    analytic["h0"], analytic["c0"] = as_array(layer.dh0).copy(), as_array(layer.dc0).copy()
    values = {name: getattr(layer, name).data for name in NAMES}
    values["h0"], values["c0"] = h0, c0
    errors = {name: relative_error(analytic[name], numerical_gradient(loss, values[name], 1e-6)) for name in values}
    bad = {k: f"{v:.1e}" for k, v in errors.items() if not v < 1e-5}
    assert not bad, f"layer gradients (relative error, float64) wrong for {bad}: .grad, dh0 and dc0 after backward(A, dh_n, dc_n)"


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_misuse_raises(impl):
    for args in ((0, 4), (3, 0), (3.5, 4), (True, 4), (3, "4"), (-1, 4)):
        with pytest.raises(ValueError):
            impl.LSTM(*args)
            pytest.fail(f"LSTM{args} must raise ValueError")
    layer = impl.LSTM(3, 4, rng=0)
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((2, 5, 4), np.float32))
        pytest.fail("backward before any forward must raise RuntimeError")
    x = np.zeros((2, 5, 3), np.float32)
    s = np.zeros((2, 4), np.float32)
    for what, args in (("x with D = 4 for input_size 3", (np.zeros((2, 5, 4), np.float32),)),
                       ("x 2-D", (np.zeros((2, 3), np.float32),)),
                       ("a single array as state", (x, s)),
                       ("a state of three arrays", (x, (s, s, s))),
                       ("h0 (1, H)", (x, (np.zeros((1, 4), np.float32), s))),
                       ("c0 (1, N, H)", (x, (s, np.zeros((1, 2, 4), np.float32))))):
        with pytest.raises(ValueError):
            layer.forward(*args)
            pytest.fail(f"LSTM.forward accepted {what}")
    layer.forward(x)
    dout = np.ones((2, 5, 4), np.float32)
    for what, args in (("dh_n (1, H) (would broadcast)", (dout, np.ones((1, 4), np.float32))),
                       ("dc_n (1, H) (would broadcast)", (dout, None, np.ones((1, 4), np.float32))),
                       ("dout of the wrong shape", (np.ones((2, 4, 4), np.float32),))):
        with pytest.raises(ValueError):
            layer.backward(*args)
            pytest.fail(f"LSTM.backward accepted {what}")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_load_state_dict_rejects_wrong_keys_and_shapes(impl):
    layer = impl.LSTM(3, 4, rng=0)
    good = layer.state_dict()
    before = {k: v.copy() for k, v in good.items()}
    missing = {k: v for k, v in good.items() if k != "bias_hh"}
    extra = {**good, "weight_ih_l0": good["weight_ih"]}
    torch_names = {f"{k}_l0": v for k, v in good.items()}
    wrong_bias = {**good, "bias_ih": np.zeros(12, np.float32)}
    transposed = {**good, "weight_ih": good["weight_ih"].T.copy()}
    changed_then_wrong = {**{k: v + 1 for k, v in good.items()}, "weight_hh": np.zeros((16, 3), np.float32)}
    for what, state in (("a missing key", missing), ("an extra key", extra), ("PyTorch's *_l0 names", torch_names),
                        ("a bias of the wrong shape", wrong_bias), ("a transposed weight_ih", transposed),
                        ("a wrong shape after good keys", changed_then_wrong)):
        with pytest.raises(ValueError):
            layer.load_state_dict(state)
            pytest.fail(f"load_state_dict accepted {what}")
    for k, v in layer.state_dict().items():
        assert np.array_equal(v, before[k]), "a rejected load_state_dict must leave the layer unchanged (check first)"


# ----------------------------------------------------------------------------------------------------
# Task 5: parameter counts
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_parameter_count_rejects_bad_arguments(impl):
    for args in ((0, 4), (3, 0), (3, -1), (2.0, 4), (3, True), ("3", 4), (None, 4)):
        with pytest.raises(ValueError):
            impl.parameter_count(*args)
            pytest.fail(f"parameter_count{args} must raise ValueError")
    assert impl.parameter_count(np.int64(3), np.int32(4)) == 4 * 4 * 7 + 32, "NumPy integers are integers too"
    assert impl.parameter_count(1, 1) == 16, "D = H = 1: four gates x (1 + 1 weights + 2 biases) = 16"
