"""Topic 20 edge tests: wrong shapes, N = 0 and N = 1, T = 1, float32, extreme values, NaN, views, misuse."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close, assert_shape

NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def make_weights(D, H, seed=0, scale=None, dtype=np.float64):
    rng = np.random.default_rng(seed)
    s = 1 / np.sqrt(H) if scale is None else scale
    return [rng.uniform(-s, s, size=shape).astype(dtype) for shape in ((3 * H, D), (3 * H, H), (3 * H,), (3 * H,))]


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_step_rejects_bad_shapes(impl):
    D, H = 3, 4
    w_ih, w_hh, b_ih, b_hh = make_weights(D, H)
    x, h = np.zeros((2, D)), np.zeros((2, H))
    bad = {
        "x_t with the wrong D": (np.zeros((2, D + 1)), h, w_ih, w_hh, b_ih, b_hh),
        "x_t 1-D": (np.zeros(D), h, w_ih, w_hh, b_ih, b_hh),
        "h_prev of another batch": (x, np.zeros((3, H)), w_ih, w_hh, b_ih, b_hh),
        "h_prev (1, H) (would broadcast)": (x, np.zeros((1, H)), w_ih, w_hh, b_ih, b_hh),
        "weight_hh not (3H, H)": (x, h, w_ih, np.zeros((4 * H, H)), b_ih, b_hh),
        "weight_ih (H, D)": (x, h, np.zeros((H, D)), w_hh, b_ih, b_hh),
        "bias_ih of shape (1,)": (x, h, w_ih, w_hh, np.zeros(1), b_hh),
        "bias_hh of shape (1, 3H)": (x, h, w_ih, w_hh, b_ih, np.zeros((1, 3 * H))),
        "bias_hh of shape (H,)": (x, h, w_ih, w_hh, b_ih, np.zeros(H)),
    }
    for what, args in bad.items():
        with pytest.raises(ValueError):
            impl.gru_step_forward(*args)
            pytest.fail(f"gru_step_forward accepted {what}: raise ValueError, never broadcast")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_sequence_rejects_bad_shapes(impl):
    D, H = 3, 4
    w = make_weights(D, H)
    for what, x, h0 in (("x 2-D", np.zeros((2, D)), np.zeros((2, H))),
                        ("x time-first with the wrong D", np.zeros((2, 5, D + 2)), np.zeros((2, H))),
                        ("h0 (1, H)", np.zeros((2, 5, D)), np.zeros((1, H))),
                        ("h0 (1, N, H) as PyTorch's layers", np.zeros((2, 5, D)), np.zeros((1, 2, H))),
                        ("T = 0", np.zeros((2, 0, D)), np.zeros((2, H)))):
        with pytest.raises(ValueError):
            impl.gru_forward(x, h0, *w)
            pytest.fail(f"gru_forward accepted {what}")


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_backward_rejects_dout_of_the_wrong_shape(impl):
    w = make_weights(3, 4)
    _, cache = impl.gru_forward(np.zeros((2, 5, 3)), np.zeros((2, 4)), *w)
    for shape in [(2, 5, 1), (5, 2, 4), (2, 4), (1, 5, 4)]:
        with pytest.raises(ValueError):
            impl.gru_backward(np.zeros(shape), cache)
            pytest.fail(f"gru_backward accepted dhs of shape {shape} (expected (2, 5, 4))")
    _, cache = impl.gru_step_forward(np.zeros((2, 3)), np.zeros((2, 4)), *w)
    with pytest.raises(ValueError):
        impl.gru_step_backward(np.zeros((2, 1)), cache)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_batch_of_one_equals_its_row_of_a_batch(impl):
    w = make_weights(3, 4, seed=1)
    rng = np.random.default_rng(0)
    x, h0 = rng.standard_normal((5, 6, 3)), rng.standard_normal((5, 4))
    hs, cache = impl.gru_forward(x, h0, *w)
    one, cache1 = impl.gru_forward(x[2:3], h0[2:3], *w)
    assert_shape(one, (1, 6, 4), "N = 1")
    assert_close(one, as_array(hs)[2:3], rtol=1e-12, atol=1e-14, what="a batch of one vs its row of the batch")
    dhs = rng.standard_normal((5, 6, 4))
    dx = as_array(impl.gru_backward(dhs, cache)[0])
    dx1 = as_array(impl.gru_backward(dhs[2:3], cache1)[0])
    assert_close(dx1, dx[2:3], rtol=1e-11, atol=1e-13, what="dx of a batch of one")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_empty_batch(impl):
    w = make_weights(3, 4)
    hs, cache = impl.gru_forward(np.zeros((0, 5, 3)), np.zeros((0, 4)), *w)
    assert_shape(hs, (0, 5, 4), "N = 0 output")
    dx, dh0, dw_ih, dw_hh, db_ih, db_hh = (as_array(g) for g in impl.gru_backward(np.zeros((0, 5, 4)), cache))
    assert_shape(dx, (0, 5, 3), "N = 0 dx")
    assert_shape(dh0, (0, 4), "N = 0 dh0")
    for g, shape in ((dw_ih, (12, 3)), (dw_hh, (12, 4)), (db_ih, (12,)), (db_hh, (12,))):
        assert_shape(g, shape, "N = 0 weight gradient")
        assert np.all(g == 0), "an empty batch gives zero weight gradients"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_one_time_step_is_one_step(impl):
    w = make_weights(3, 4, seed=2)
    rng = np.random.default_rng(1)
    x, h0 = rng.standard_normal((2, 1, 3)), rng.standard_normal((2, 4))
    hs, _ = impl.gru_forward(x, h0, *w)
    h, _ = impl.gru_step_forward(x[:, 0], h0, *w)
    assert_close(as_array(hs)[:, 0], h, rtol=1e-12, atol=1e-14, what="T = 1: the sequence is one step")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_non_contiguous_inputs(impl):
    w = make_weights(3, 4, seed=3)
    rng = np.random.default_rng(2)
    x_tf = rng.standard_normal((6, 2, 3))                  # time first ...
    x = x_tf.transpose(1, 0, 2)                            # ... seen batch first: not contiguous
    h0 = rng.standard_normal((4, 2)).T
    wt = [np.asfortranarray(w[0]), w[1][:, ::-1][:, ::-1], w[2][::1], w[3]]
    hs, cache = impl.gru_forward(x, h0, *wt)
    ref, cache_ref = impl.gru_forward(np.ascontiguousarray(x), np.ascontiguousarray(h0), *w)
    assert_close(hs, ref, rtol=1e-12, atol=1e-14, what="non-contiguous x, h0 and weights")
    dhs = rng.standard_normal((6, 2, 4)).transpose(1, 0, 2)
    for a, b in zip(impl.gru_backward(dhs, cache), impl.gru_backward(np.ascontiguousarray(dhs), cache_ref)):
        assert_close(a, b, rtol=1e-11, atol=1e-13, what="backward with a non-contiguous dhs")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_float32_stays_float32(impl):
    w = make_weights(3, 4, seed=4, dtype=np.float32)
    rng = np.random.default_rng(3)
    x, h0 = rng.standard_normal((2, 5, 3)).astype(np.float32), rng.standard_normal((2, 4)).astype(np.float32)
    h, c1 = impl.gru_step_forward(x[:, 0], h0, *w)
    assert as_array(h).dtype == np.float32, "float32 in, float32 out (step)"
    for g in impl.gru_step_backward(np.ones((2, 4), np.float32), c1):
        assert as_array(g).dtype == np.float32, "float32 gradients (step backward)"
    hs, cache = impl.gru_forward(x, h0, *w)
    assert as_array(hs).dtype == np.float32, "float32 in, float32 out (sequence)"
    for g in impl.gru_backward(np.ones((2, 5, 4), np.float32), cache):
        assert as_array(g).dtype == np.float32, "float32 gradients (sequence backward)"
    ref, _ = impl.gru_forward(x.astype(np.float64), h0.astype(np.float64), *(a.astype(np.float64) for a in w))
    assert_close(hs, ref, rtol=1e-4, atol=1e-5, what="float32 sequence vs float64")


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_float32_layer_in_train_and_eval(impl):
    layer = impl.GRU(3, 4, rng=0)
    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    for mode in (layer.train, layer.eval):
        mode()
        out, h_n = layer.forward(x)
        assert as_array(out).dtype == np.float32 and as_array(h_n).dtype == np.float32, "float32 layer outputs"
        dx = layer.backward(np.ones((2, 5, 4), np.float32))
        assert as_array(dx).dtype == np.float32, "float32 dx"
        assert all(as_array(p.grad).dtype == np.float32 for p in layer.parameters()), "float32 grads"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_extreme_inputs_saturate_without_overflow(impl):
    w = make_weights(2, 3, seed=5, scale=1.0)
    x = np.array([[[1e4, -1e4], [-1e4, 1e4], [3e3, 3e3]]])
    with np.errstate(over="raise", invalid="raise"):
        hs, cache = impl.gru_forward(x, np.zeros((1, 3)), *w)
        hs = as_array(hs)
        grads = impl.gru_backward(np.ones((1, 3, 3)), cache)
    assert np.all(np.isfinite(hs)) and np.abs(hs).max() <= 1.0, "saturated gates: |h| stays <= 1, finite"
    assert all(np.all(np.isfinite(as_array(g))) for g in grads), "saturated gates: finite gradients"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_nan_spoils_only_its_own_sequence_from_its_step_on(impl):
    w = make_weights(2, 3, seed=6)
    x = np.random.default_rng(4).standard_normal((3, 5, 2))
    x[1, 2, 0] = np.nan
    hs = as_array(impl.gru_forward(x, np.zeros((3, 3)), *w)[0])
    assert np.all(np.isfinite(hs[[0, 2]])), "a NaN in sample 1 must not reach the other samples"
    assert np.all(np.isfinite(hs[1, :2])) and np.all(np.isnan(hs[1, 2:])), \
        "sample 1 is NaN from step 2 on (the state carries it), finite before"


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_layer_misuse_raises(impl):
    for args in ((0, 4), (3, 0), (3.5, 4), (True, 4)):
        with pytest.raises(ValueError):
            impl.GRU(*args)
            pytest.fail(f"GRU{args} must raise ValueError")
    layer = impl.GRU(3, 4, rng=0)
    with pytest.raises(RuntimeError):
        layer.backward(np.ones((2, 5, 4), np.float32))
    with pytest.raises(ValueError):
        layer.forward(np.zeros((2, 5, 4), np.float32))           # D = 4 for a layer of input_size 3
    layer.forward(np.zeros((2, 5, 3), np.float32))
    with pytest.raises(ValueError):
        layer.backward(np.ones((2, 5, 4), np.float32), np.ones((1, 4), np.float32))   # dh_n would broadcast


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_load_state_dict_rejects_wrong_keys_and_shapes(impl):
    layer = impl.GRU(3, 4, rng=0)
    good = layer.state_dict()
    before = {k: v.copy() for k, v in good.items()}
    missing = {k: v for k, v in good.items() if k != "bias_hh"}
    extra = {**good, "weight_ih_l0": good["weight_ih"]}
    wrong = {**good, "bias_ih": np.zeros(4, np.float32)}
    for what, state in (("a missing key", missing), ("an extra key", extra), ("a wrong shape", wrong)):
        with pytest.raises(ValueError):
            layer.load_state_dict(state)
            pytest.fail(f"load_state_dict accepted {what}")
    for k, v in layer.state_dict().items():
        assert np.array_equal(v, before[k]), "a rejected load_state_dict must leave the layer unchanged"


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(5)
def test_parameter_count_rejects_bad_arguments(impl):
    for args in (("GRU", 3, 4), ("transformer", 3, 4), ("gru", 0, 4), ("gru", 3, -1), ("gru", 2.0, 4), ("lstm", 3, True)):
        with pytest.raises(ValueError):
            impl.parameter_count(*args)
            pytest.fail(f"parameter_count{args} must raise ValueError")
