"""Topic 18 stress tests: long sequences (vanishing / exploding gradients), a tiny truncated-BPTT training on
Tiny Shakespeare, and speed against the reference."""

import numpy as np
import pytest

from dlfs.components import load_topic


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_gradient_vanishes_with_small_and_explodes_with_large_recurrent_weights(impl):
    rng = np.random.default_rng(0)
    H, T = 8, 30
    q, _ = np.linalg.qr(rng.standard_normal((H, H)))
    x = rng.standard_normal((1, T, 2)) * 0.01
    norms = {}
    for scale in (0.5, 3.0):
        w = [rng.standard_normal((H, 2)) * 0.01, q * scale, np.zeros(H), np.zeros(H)]
        hs, cache = impl.rnn_forward(x, np.full((1, H), 0.01), *w)
        dhs = np.zeros_like(hs)
        dhs[:, -1] = 1.0
        dx = impl.rnn_backward(dhs, cache)[0]
        norms[scale] = np.linalg.norm(dx[0, 0]) / np.linalg.norm(dx[0, -1])
    assert norms[0.5] < 1e-6, f"|W_hh| = 0.5: the gradient 30 steps back should vanish, ratio {norms[0.5]:.2e}"
    assert norms[3.0] > 1.0, f"|W_hh| = 3 near the origin: the gradient should grow back in time, {norms[3.0]:.2e}"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(4)
@pytest.mark.data("tinyshakespeare")
def test_tiny_tbptt_training_on_shakespeare_lowers_the_loss(impl):
    from dlfs.datasets import load_tinyshakespeare
    optim = load_topic(3)
    text = load_tinyshakespeare()[:400]
    train, _ = impl.train_val_split(text)
    vocab = impl.CharVocab(text)
    V, H = len(vocab), 24
    rnn = impl.RNN(V, H, rng=0, dtype=np.float64)
    rng = np.random.default_rng(1)
    w_out = optim.Parameter(rng.standard_normal((V, H)) * 0.1)
    b_out = optim.Parameter(np.zeros(V))
    params = rnn.parameters() + [w_out, b_out]
    before = [p.data.copy() for p in params]
    ids = vocab.encode(train)
    eye = np.eye(V)

    def epoch(lr, learn=True):
        h, losses = None, []
        for x, y in impl.tbptt_batches(ids, batch_size=4, seq_len=15):
            out, h = rnn.forward(eye[x], h)
            logits = out @ w_out.data.T + b_out.data
            logits -= logits.max(axis=-1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(axis=-1, keepdims=True)
            losses.append(-np.log(np.take_along_axis(p, y[..., None], -1)).mean())
            if learn:
                dlogits = p
                np.put_along_axis(dlogits, y[..., None], np.take_along_axis(p, y[..., None], -1) - 1, -1)
                dlogits /= y.size
                for q in params:
                    q.grad[...] = 0
                w_out.grad += np.einsum("ntv,nth->vh", dlogits, out)
                b_out.grad += dlogits.sum(axis=(0, 1))
                rnn.backward(dlogits @ w_out.data)
                impl.clip_grad_norm(params, max_norm=5.0)
                for q in params:
                    q.data -= lr * q.grad
        return float(np.mean(losses))

    first = epoch(0.0, learn=False)
    for _ in range(15):
        epoch(0.5)
    last = epoch(0.0, learn=False)
    assert last < first - 0.5, f"the training loss should fall: {first:.3f} -> {last:.3f}"
    for p, b in zip(params, before):
        assert not np.allclose(p.data, b), "every parameter must move"


def speed_case():
    rng = np.random.default_rng(0)
    N, T, D, H = 4, 6, 5, 6
    x, h0 = rng.standard_normal((N, T, D)).astype(np.float32), np.zeros((N, H), np.float32)
    w = [(rng.standard_normal(s) * 0.3).astype(np.float32) for s in [(H, D), (H, H), (H,), (H,)]]
    return x, h0, w


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_forward_speed(impl, reference, compare_speed):
    x, h0, w = speed_case()
    compare_speed(impl.rnn_forward, reference.rnn_forward, x, h0, *w, threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_backward_speed(impl, reference, compare_speed):
    x, h0, w = speed_case()
    hs, cache = impl.rnn_forward(x, h0, *w)
    _, ref_cache = reference.rnn_forward(x, h0, *w)
    dhs = np.ones_like(hs)
    compare_speed(lambda: impl.rnn_backward(dhs, cache), lambda: reference.rnn_backward(dhs, ref_cache),
                  threshold=3.0)
