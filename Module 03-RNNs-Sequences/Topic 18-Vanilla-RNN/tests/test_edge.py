"""Topic 18 edge cases: T = 0, N = 0, N = 1, T = 1, float32, non-contiguous inputs, bad shapes, extremes."""

import numpy as np
import pytest

from dlfs.testing import assert_close


def case(seed, N=2, T=4, D=3, H=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x, h0 = rng.standard_normal((N, T, D)), rng.standard_normal((N, H))
    w = [rng.standard_normal(s) * 0.5 for s in [(H, D), (H, H), (H,), (H,)]]
    return [a.astype(dtype) for a in (x, h0, *w)]


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_empty_sequence_gives_empty_output_and_passes_dh0_zero(impl):
    x, h0, *w = case(0, T=0)
    hs, cache = impl.rnn_forward(x, h0, *w)
    assert hs.shape == (2, 0, 5)
    dx, dh0, *g = impl.rnn_backward(np.zeros((2, 0, 5)), cache)
    assert dx.shape == (2, 0, 3) and dh0.shape == (2, 5) and not np.any(dh0)
    assert all(not np.any(gi) for gi in g)
    layer = impl.RNN(3, 5, rng=0, dtype=np.float64)
    out, h_n = layer.forward(x, h0)
    assert out.shape == (2, 0, 5)
    assert_close(h_n, h0, what="with T = 0 the final state is h0")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_empty_batch(impl):
    x, h0, *w = case(1, N=0)
    hs, cache = impl.rnn_forward(x, h0, *w)
    assert hs.shape == (0, 4, 5)
    dx, dh0, *g = impl.rnn_backward(np.zeros((0, 4, 5)), cache)
    assert dx.shape == (0, 4, 3) and dh0.shape == (0, 5) and all(not np.any(gi) for gi in g)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_one_sample_one_step_is_the_step_function(impl):
    x, h0, *w = case(2, N=1, T=1)
    hs, _ = impl.rnn_forward(x, h0, *w)
    h, _ = impl.rnn_step_forward(x[:, 0], h0, *w)
    assert_close(hs[:, 0], h, rtol=1e-10, what="T = 1")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_float32_in_float32_out(impl):
    x, h0, *w = case(3, dtype=np.float32)
    h, c1 = impl.rnn_step_forward(x[:, 0], h0, *w)
    assert h.dtype == np.float32
    assert all(g.dtype == np.float32 for g in impl.rnn_step_backward(np.ones_like(h), c1))
    hs, cache = impl.rnn_forward(x, h0, *w)
    assert hs.dtype == np.float32
    assert all(g.dtype == np.float32 for g in impl.rnn_backward(np.ones_like(hs), cache))
    layer = impl.RNN(3, 5, rng=0)
    out, h_n = layer.forward(x)
    assert out.dtype == np.float32 and h_n.dtype == np.float32
    assert layer.backward(np.ones_like(out)).dtype == np.float32
    assert all(p.grad.dtype == np.float32 for p in layer.parameters())


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_non_contiguous_inputs_and_inputs_untouched(impl):
    x, h0, *w = case(4, T=6)
    xt = np.ascontiguousarray(x.transpose(1, 0, 2)).transpose(1, 0, 2)[:, ::2]
    wt = np.asfortranarray(w[1])
    saved = [a.copy() for a in (xt, h0, w[0], wt)]
    hs, cache = impl.rnn_forward(xt, h0, w[0], wt, w[2], w[3])
    ref, _ = impl.rnn_forward(np.ascontiguousarray(xt), h0, w[0], np.ascontiguousarray(wt), w[2], w[3])
    assert_close(hs, ref, rtol=1e-12, what="non-contiguous inputs")
    impl.rnn_backward(np.ones_like(hs), cache)
    for a, b in zip((xt, h0, w[0], wt), saved):
        np.testing.assert_array_equal(a, b)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("bad", ["x2d", "xD", "h0N", "h0H", "whh", "bias1", "bias1H"])
def test_bad_shapes_raise_value_error(impl, bad):
    x, h0, wih, whh, bih, bhh = case(5)
    if bad == "x2d":
        x = x[:, 0]
    elif bad == "xD":
        x = x[:, :, :2]
    elif bad == "h0N":
        h0 = h0[:1]
    elif bad == "h0H":
        h0 = h0[:, :4]
    elif bad == "whh":
        whh = whh[:, :4]
    elif bad == "bias1":
        bih = bih[:1]
    else:
        bhh = bhh[None, :]
    with pytest.raises(ValueError):
        impl.rnn_forward(x, h0, wih, whh, bih, bhh)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_bad_upstream_gradient_shape(impl):
    x, h0, *w = case(6)
    hs, cache = impl.rnn_forward(x, h0, *w)
    with pytest.raises(ValueError):
        impl.rnn_backward(hs[:, :-1], cache)
    layer = impl.RNN(3, 5, rng=0, dtype=np.float64)
    out, _ = layer.forward(x)
    with pytest.raises(ValueError):
        layer.backward(out, np.zeros((2, 4)))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_extreme_values_saturate_without_nan(impl):
    x, h0, *w = case(7)
    hs, cache = impl.rnn_forward(x * 1e6, h0, *w)
    assert np.all(np.isfinite(hs)) and np.abs(hs).max() <= 1.0
    grads = impl.rnn_backward(np.ones_like(hs), cache)
    assert all(np.all(np.isfinite(g)) for g in grads)


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_data_helpers_reject_bad_arguments(impl):
    with pytest.raises(ValueError):
        list(impl.tbptt_batches(np.arange(10), 0, 3))
    with pytest.raises(ValueError):
        list(impl.tbptt_batches(np.arange(10).reshape(2, 5), 1, 3))
    assert list(impl.tbptt_batches(np.arange(5), 2, 3)) == [], "too short for one window: no batch"
    with pytest.raises(ValueError):
        impl.train_val_split("abc", val_fraction=1.5)
    with pytest.raises(ValueError):
        impl.CharVocab("")
    v = impl.CharVocab("ab")
    with pytest.raises(ValueError):
        v.decode([2])
    with pytest.raises(ValueError):
        impl.clip_grad_norm([], max_norm=0.0)
    assert impl.sample(lambda i, s: (np.zeros(2), s), v, "ab", 0, np.random.default_rng(0)) == "ab"
