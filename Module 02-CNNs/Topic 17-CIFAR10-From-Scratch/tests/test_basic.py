"""Topic 17 basics: normalisation, augmentation, label smoothing, the ResNet, its optimizer, one training step."""

import math
import sys

import numpy as np
import pytest

from dlfs.finite_difference_checker import numerical_gradient
from dlfs.testing import assert_close, rel_error


def _window(x, padding, dy, dx):
    """Image x (C, H, W) zero-padded by `padding`, window at offset (dy, dx)."""
    C, H, W = x.shape
    padded = np.zeros((C, H + 2 * padding, W + 2 * padding), dtype=x.dtype)
    padded[:, padding:padding + H, padding:padding + W] = x
    return padded[:, dy:dy + H, dx:dx + W]


def _find_offset(out, x, padding, allow_flip=False):
    """The (dy, dx, flipped) with which image x gives out, or None."""
    for dy in range(2 * padding + 1):
        for dx in range(2 * padding + 1):
            window = _window(x, padding, dy, dx)
            if np.array_equal(out, window):
                return dy, dx, False
            if allow_flip and np.array_equal(out, window[:, :, ::-1]):
                return dy, dx, True
    return None


# ----------------------------------------------------------------------------------------------------
# Task 1: data
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_normalize_images_uses_per_channel_training_statistics(impl):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (30, 5, 5, 3)).astype(np.uint8)
    train[..., 2] //= 4                                   # channel 2 is much darker than the others
    test = rng.integers(0, 128, (7, 5, 5, 3)).astype(np.uint8)
    x_tr, mean, std = impl.normalize_images(train)
    x_te, mean2, std2 = impl.normalize_images(test, mean, std)
    assert x_tr.shape == (30, 3, 5, 5) and x_te.shape == (7, 3, 5, 5), (
        f"images must come out as NCHW (N, 3, H, W), got {x_tr.shape}: did you transpose NHWC -> NCHW?")
    assert x_tr.dtype == np.float32 and x_te.dtype == np.float32, f"float32 expected, got {x_tr.dtype}"
    assert np.shape(mean) == (3,) and np.shape(std) == (3,), (
        f"one mean and one std PER CHANNEL expected (shape (3,)), got {np.shape(mean)} and {np.shape(std)}")
    expected_mean = train.reshape(-1, 3).mean(axis=0) / 255
    expected_std = train.reshape(-1, 3).std(axis=0) / 255
    assert_close(mean, expected_mean, rtol=1e-6, what="per-channel mean of x / 255 (computed on the TRAIN images)")
    assert_close(std, expected_std, rtol=1e-6, what="per-channel std of x / 255 (population std, ddof=0)")
    assert_close(x_tr.mean(axis=(0, 2, 3)), np.zeros(3), atol=1e-5, what="per-channel mean of normalised train images")
    assert_close(x_tr.std(axis=(0, 2, 3)), np.ones(3), atol=1e-4, what="per-channel std of normalised train images")
    assert np.array_equal(np.asarray(mean2), np.asarray(mean)) and np.array_equal(np.asarray(std2), np.asarray(std)), (
        "normalize_images must return the statistics it was given")
    expected = (test.transpose(0, 3, 1, 2) / 255 - expected_mean[:, None, None]) / expected_std[:, None, None]
    assert_close(x_te, expected, rtol=1e-5, atol=1e-5,
                 what="test images normalised with the TRAIN statistics (their own statistics would leak)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_normalize_images_by_hand(impl):
    x = np.array([[[[0, 51, 255], [255, 102, 0]]]], dtype=np.uint8)   # one 1x2 image, 3 channels
    out, mean, std = impl.normalize_images(x, mean=[0.5, 0.3, 0.5], std=[0.5, 0.1, 0.25], dtype=np.float64)
    expected = np.array([[[[-1.0, 1.0]], [[-1.0, 1.0]], [[2.0, -2.0]]]])  # (x/255 - m) / s, channel by channel
    assert out.dtype == np.float64, "dtype=np.float64 must give float64"
    assert_close(out, expected, rtol=1e-12, what="(x / 255 - mean[c]) / std[c] worked by hand")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_load_data_splits_without_leakage(impl, monkeypatch):
    rng = np.random.default_rng(1)
    x_train = rng.integers(0, 256, (80, 4, 4, 3)).astype(np.uint8)
    y_train = (np.arange(80) % 10).astype(np.uint8)
    x_test = rng.integers(0, 256, (30, 4, 4, 3)).astype(np.uint8)
    y_test = (np.arange(30) % 10).astype(np.uint8)

    def fake_load_cifar10(data_dir=None, download=True, normalize=False):
        return x_train, y_train, x_test, y_test

    import dlfs.datasets

    real = dlfs.datasets.load_cifar10
    for module in [m for m in list(sys.modules.values()) if getattr(m, "__dict__", {}).get("load_cifar10") is real]:
        monkeypatch.setattr(module, "load_cifar10", fake_load_cifar10)  # wherever the loader was imported
    data = impl.load_data(subset=50, val_size=20, seed=0)
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = data["train"], data["val"], data["test"]
    assert x_tr.shape == (50, 3, 4, 4) and x_val.shape == (20, 3, 4, 4) and x_te.shape == (30, 3, 4, 4), (
        f"subset=50, val_size=20 on 80 training images: got {x_tr.shape}, {x_val.shape}, {x_te.shape}")
    assert y_tr.dtype == np.int64 and y_val.dtype == np.int64 and y_te.dtype == np.int64, "labels must be int64"
    train_rows = {row.tobytes() for row in x_tr}
    assert not any(row.tobytes() in train_rows for row in x_val), "a validation image also appears in training"
    assert_close(x_tr.mean(axis=(0, 2, 3)), np.zeros(3), atol=1e-5,
                 what="per-channel mean of the training split (normalised with ITS statistics)")
    mean, std = np.asarray(data["mean"]), np.asarray(data["std"])
    expected = (x_test.transpose(0, 3, 1, 2) / 255 - mean[:, None, None]) / std[:, None, None]
    assert_close(x_te, expected, rtol=1e-5, atol=1e-5, what="test images, normalised with the train statistics")


# ----------------------------------------------------------------------------------------------------
# Task 2: augmentation
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_random_crop_is_a_window_of_the_zero_padded_image(impl):
    x = np.random.default_rng(0).standard_normal((6, 2, 5, 5))
    out = impl.random_crop(x, 2, np.random.default_rng(1))
    assert np.shape(out) == x.shape, f"a crop keeps the image size: {np.shape(out)} instead of {x.shape}"
    for n in range(len(x)):
        found = _find_offset(np.asarray(out)[n], x[n], 2)
        assert found is not None, (
            f"output image {n} is not a 5x5 window of input image {n} padded with 2 zeros on each side "
            "(offsets 0..2*padding in both directions): are images and offsets still paired?")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_random_crop_draws_every_offset_from_0_to_2_padding(impl):
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3).repeat(450, axis=0)
    x += np.arange(450)[:, None, None, None] * 100   # every image unique
    out = np.asarray(impl.random_crop(x, 1, np.random.default_rng(0)))
    counts = np.zeros((3, 3), dtype=int)
    for n in range(len(x)):
        found = _find_offset(out[n], x[n], 1)
        assert found is not None, f"image {n} is not a window of its padded input"
        counts[found[:2]] += 1
    assert counts.min() >= 20, (f"offset counts over 450 images:\n{counts}\nsome offsets (dy, dx) in 0..2 are "
                                "(almost) never drawn: rng.integers(0, 2 * padding + 1) includes 2 * padding")
    assert counts.max() <= 80, f"offsets are far from uniform:\n{counts}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_random_flip_mirrors_about_half_of_the_images(impl):
    x = np.random.default_rng(0).standard_normal((200, 2, 3, 4))
    out = np.asarray(impl.random_flip(x, np.random.default_rng(2)))
    flipped = 0
    for n in range(len(x)):
        if np.array_equal(out[n], x[n, :, :, ::-1]):
            flipped += 1
        else:
            assert np.array_equal(out[n], x[n]), (
                f"image {n} is neither itself nor its left-right mirror (flip the LAST axis, the width, "
                "and keep every image in its place)")
    assert 70 <= flipped <= 130, f"{flipped} of 200 images flipped with p = 0.5"
    none = np.asarray(impl.random_flip(x, np.random.default_rng(2), p=0.0))
    every = np.asarray(impl.random_flip(x, np.random.default_rng(2), p=1.0))
    assert np.array_equal(none, x), "p = 0 must flip nothing"
    assert np.array_equal(every, x[:, :, :, ::-1]), "p = 1 must flip every image"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_augmentation_keeps_every_image_with_its_label(impl):
    """Image n is filled with the value y[n] (a border of zeros may come in): after cropping and flipping,
    its central pixels must still read y[n]."""
    y = np.random.default_rng(0).integers(1, 10, 64)
    x = np.broadcast_to(y[:, None, None, None], (64, 3, 8, 8)).astype(np.float32)
    aug = impl.RandomCropFlip(padding=2, flip=True, seed=3)
    for _ in range(2):
        out = np.asarray(aug(x))
        centre = out[:, :, 2:6, 2:6]
        bad = np.flatnonzero(~np.all(centre == y[:, None, None, None], axis=(1, 2, 3)))
        assert bad.size == 0, (f"images {bad[:5].tolist()} no longer match their labels after augmentation: "
                               "a crop or a flip changed the order of the images in the batch")


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_augmentation_keeps_shape_and_dtype(impl, dtype):
    x = np.random.default_rng(0).standard_normal((5, 3, 6, 7)).astype(dtype)
    for out in (impl.random_crop(x, 2, 0), impl.random_flip(x, 0), impl.RandomCropFlip(padding=3, seed=0)(x)):
        assert np.shape(out) == x.shape and np.asarray(out).dtype == dtype, (
            f"augmentation must keep shape {x.shape} and dtype {np.dtype(dtype)}, "
            f"got {np.shape(out)} {np.asarray(out).dtype}")


# ----------------------------------------------------------------------------------------------------
# Task 3: label smoothing
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("eps", [0.0, 0.1, 0.2, 1.0])
def test_label_smoothing_matches_pytorch(impl, golden, eps):
    g = golden("label_smoothing")
    key = f"{eps:.1f}".replace(".", "_")
    loss, dlogits = impl.smoothed_cross_entropy(g["logits"], g["y"], smoothing=eps)
    assert isinstance(loss, float), f"the loss must be a Python float, got {type(loss).__name__}"
    assert loss == pytest.approx(float(g[f"loss_{key}"]), rel=1e-10), (
        f"loss with smoothing {eps} differs from F.cross_entropy(label_smoothing={eps}): "
        "target = (1 - eps) * one_hot + eps / C, averaged over the batch")
    assert_close(dlogits, g[f"grad_{key}"], rtol=1e-8, atol=1e-12,
                 what=f"dlogits with smoothing {eps} (softmax - smoothed target) / N")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_label_smoothing_by_hand(impl):
    # logits [0, ln 3]: p = [1/4, 3/4]; label 1, eps 0.2, C = 2: target q = [0.1, 0.9]
    loss, dlogits = impl.smoothed_cross_entropy(np.array([[0.0, math.log(3)]]), np.array([1]), smoothing=0.2)
    expected = -(0.1 * math.log(0.25) + 0.9 * math.log(0.75))
    assert loss == pytest.approx(expected, rel=1e-12), f"loss {loss:.6g}, by hand {expected:.6g}"
    assert_close(dlogits, [[0.15, -0.15]], rtol=1e-12, atol=1e-15, what="dlogits = p - q = [0.25 - 0.1, 0.75 - 0.9]")
    loss, _ = impl.smoothed_cross_entropy(np.zeros((3, 10)), np.array([0, 4, 9]), smoothing=0.3)
    assert loss == pytest.approx(math.log(10), rel=1e-12), "uniform logits give ln C whatever the smoothing"


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_label_smoothing_gradient_matches_finite_differences(impl):
    rng = np.random.default_rng(4)
    logits, y = rng.standard_normal((4, 5)) * 2, np.array([0, 4, 2, 2])
    _, dlogits = impl.smoothed_cross_entropy(logits, y, smoothing=0.3)
    numeric = numerical_gradient(lambda z: impl.smoothed_cross_entropy(z, y, smoothing=0.3)[0], logits.copy())
    err = rel_error(dlogits, numeric)
    assert err < 1e-7, f"dlogits has relative error {err:.3g} against finite differences (did you divide by N?)"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_label_smoothing_keeps_the_dtype(impl, dtype):
    logits = np.random.default_rng(0).standard_normal((6, 10)).astype(dtype)
    loss, dlogits = impl.smoothed_cross_entropy(logits, np.arange(6), smoothing=0.1)
    assert isinstance(loss, float) and np.asarray(dlogits).dtype == dtype and np.shape(dlogits) == (6, 10), (
        f"{np.dtype(dtype)} logits must give {np.dtype(dtype)} dlogits of the same shape, got "
        f"{np.asarray(dlogits).dtype} {np.shape(dlogits)}")


# ----------------------------------------------------------------------------------------------------
# Task 4: the model, its optimizer and schedule
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_build_resnet_shapes(impl, tiny):
    model = tiny(num_classes=3)
    shapes = sorted(tuple(np.shape(w)) for w in impl.get_weights(model))
    # stem conv, stage conv, the block's two convs, the Linear (in, out) + bias; 4 BatchNorms: gamma, beta,
    # running_mean, running_var
    expected = sorted([(4, 3, 3, 3), (8, 4, 3, 3), (8, 8, 3, 3), (8, 8, 3, 3), (8, 3), (3,)]
                      + [(4,)] * 4 + [(8,)] * 12)
    assert shapes == expected, f"widths (4, 8): weight shapes {shapes}, expected {expected}"
    classes = impl.predict(model, np.zeros((2, 3, 8, 8), dtype=np.float32))
    assert np.shape(classes) == (2,), "predict gives one class per image"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_golden_network_loss_gradients_and_running_statistics(impl, golden):
    g = golden("tiny_resnet")
    model = impl.build_resnet(widths=(3, 4), num_classes=3, seed=0, dtype=np.float64)
    weights = [g[f"weight{i}"] for i in range(sum(k.startswith("weight") for k in g))]
    impl.set_weights(model, weights)
    loss, grads = impl.loss_and_grads(model, g["x"], g["y"], smoothing=float(g["smoothing"]))
    assert loss == pytest.approx(float(g["loss"]), rel=1e-9), (
        f"loss {loss:.10g} differs from PyTorch's {float(g['loss']):.10g} for the same weights and images")
    n_grads = sum(k.startswith("grad") for k in g)
    assert len(grads) == n_grads, f"{len(grads)} gradients, PyTorch has {n_grads}"
    for i, grad in enumerate(grads):
        assert_close(grad, g[f"grad{i}"], rtol=1e-6, atol=1e-10,
                     what=f"gradient of parameter {i} (shape {np.shape(grad)})")
    # the train-mode forward pass above updated the running statistics: eval mode must now use them
    logits = g["eval_logits"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected_eval = float(-log_probs[np.arange(len(g["y"])), g["y"]].mean())
    eval_loss, _ = impl.evaluate(model, g["x"], g["y"])
    assert eval_loss == pytest.approx(expected_eval, rel=1e-8), (
        f"eval-mode loss {eval_loss:.10g} differs from PyTorch's {expected_eval:.10g}: after one train-mode "
        "forward, running_mean and running_var must be updated (momentum 0.1, unbiased variance) and used in eval")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_network_gradients_match_finite_differences(impl):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 3, 4, 4)), np.array([0, 1, 2])
    model = impl.build_resnet(widths=(2, 3), num_classes=3, seed=1, dtype=np.float64)
    weights = impl.get_weights(model)
    _, grads = impl.loss_and_grads(model, x, y, smoothing=0.1)
    h = 1e-6
    for k, grad in enumerate(grads):
        picks = [tuple(i) for i in np.ndindex(weights[k].shape)]
        picks = [picks[j] for j in rng.choice(len(picks), size=min(4, len(picks)), replace=False)]
        for idx in picks:
            values = []
            for sign in (1, -1):
                w = [a.copy() for a in weights]
                w[k][idx] += sign * h
                impl.set_weights(model, w)
                values.append(impl.loss_and_grads(model, x, y, smoothing=0.1)[0])
            numeric = (values[0] - values[1]) / (2 * h)
            err = abs(grad[idx] - numeric) / max(abs(grad[idx]) + abs(numeric), 1e-8)
            assert err < 1e-5 or abs(grad[idx] - numeric) < 1e-9, (
                f"gradient of parameter {k} (shape {grad.shape}) at {idx}: {grad[idx]:.6g} vs finite "
                f"differences {numeric:.6g} (relative error {err:.2g})")
        impl.set_weights(model, weights)


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_weight_decay_groups_are_split_correctly(impl, tiny):
    model = tiny()
    decay, no_decay = impl.parameter_groups(model)
    all_params = list(model.parameters())
    assert len(decay) + len(no_decay) == len(all_params), "every parameter must be in exactly one group"
    assert len({id(p) for p in decay} | {id(p) for p in no_decay}) == len(all_params), (
        "a parameter is in both groups (or twice in one)")
    decay_shapes = sorted(len(p.data.shape) for p in decay)
    assert decay_shapes == [2, 4, 4, 4, 4], (
        f"decay must hold the 4 conv filters and the Linear weight, got parameters of ndim {decay_shapes}")
    assert all(len(p.data.shape) == 1 for p in no_decay), "no_decay holds the biases and BatchNorm's gamma and beta"
    assert len(no_decay) == 9, f"4 BatchNorms (gamma, beta) + the Linear bias = 9, got {len(no_decay)}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_weight_decay_shrinks_only_the_decay_group(impl, tiny, striped):
    model = tiny()
    opt = impl.make_optimizer(model, "sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)
    impl.loss_and_grads(model, *striped["val"])   # gradients exist ...
    opt.zero_grad()                               # ... and are zero: only the weight decay acts
    before = impl.get_weights(model)
    opt.step()
    after = impl.get_weights(model)
    n = len(list(model.parameters()))
    factor = 1 - 0.1 * 0.01 * (1 + 0.9)           # Nesterov's first step: p -= lr * (1 + momentum) * wd * p
    for k in range(n):
        if before[k].ndim >= 2:
            assert_close(after[k], before[k] * factor, rtol=1e-5, atol=1e-7,
                         what=f"weight {k} {before[k].shape} after one step of weight decay alone")
        else:
            assert np.array_equal(after[k], before[k]), (
                f"parameter {k} {before[k].shape} (a bias or BatchNorm gamma/beta) changed under weight decay: "
                "it belongs to the no_decay group")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_setting_lr_reaches_every_group(impl, tiny, striped):
    model = tiny()
    opt = impl.make_optimizer(model, "sgd", lr=0.1)
    impl.loss_and_grads(model, *striped["val"])
    before = impl.get_weights(model)
    opt.lr = 0.0
    assert opt.lr == 0.0
    opt.step()
    changed = [k for k, (a, b) in enumerate(zip(before, impl.get_weights(model))) if not np.array_equal(a, b)]
    n = len(list(model.parameters()))
    changed = [k for k in changed if k < n]
    assert not changed, f"with lr = 0 parameters {changed} still moved: setting opt.lr must reach every group"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_warmup_cosine_schedule(impl):
    schedule = impl.make_lr_schedule(0.4, total_steps=100, warmup_steps=10, min_lr=0.01)
    assert schedule(0) == pytest.approx(0.04), "the first step already moves: base_lr * 1 / warmup_steps"
    assert schedule(9) == pytest.approx(0.4) and schedule(10) == pytest.approx(0.4), "the warmup ends at base_lr"
    assert schedule(55) == pytest.approx(0.01 + 0.39 / 2), "half-way through the cosine: (base + min) / 2"
    assert schedule(100) == pytest.approx(0.01) and schedule(500) == pytest.approx(0.01), "min_lr after total_steps"
    values = [schedule(s) for s in range(101)]
    assert all(a <= b for a, b in zip(values[:10], values[1:11])), "the warmup must increase"
    assert all(a >= b for a, b in zip(values[10:], values[11:])), "the cosine must decrease"
    flat = impl.make_lr_schedule(0.1, total_steps=10)
    assert flat(0) == pytest.approx(0.1), "warmup_steps=0: no warmup, the cosine starts at base_lr"


# ----------------------------------------------------------------------------------------------------
# Task 5: a training step, evaluation
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_real_images_a_few_steps_lower_the_loss_and_move_every_parameter(impl, cifar_small):
    x, y = cifar_small
    model = impl.build_resnet(widths=(8, 16), num_classes=10, seed=0)
    opt = impl.make_optimizer(model, "sgd", lr=0.05, weight_decay=5e-4)
    before = impl.get_weights(model)
    loss0, _ = impl.loss_and_grads(model, x, y, smoothing=0.1)
    for step in range(12):
        idx = slice((step % 4) * 64, (step % 4 + 1) * 64)
        impl.train_step(model, opt, x[idx], y[idx], smoothing=0.1)
    loss1, _ = impl.loss_and_grads(model, x, y, smoothing=0.1)
    assert loss1 < loss0 - 0.05, f"12 SGD steps on 256 CIFAR-10 images: loss {loss0:.4f} -> {loss1:.4f}"
    after = impl.get_weights(model)
    frozen = [k for k, (a, b) in enumerate(zip(before, after)) if np.array_equal(a, b)]
    assert not frozen, (f"arrays {frozen} (shapes {[before[k].shape for k in frozen]}) did not move: every "
                        "parameter (conv filters included) and every running statistic must change")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_evaluate_weights_the_metrics_by_samples(impl, tiny):
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((10, 3, 8, 8)).astype(np.float32), rng.integers(0, 3, 10)
    model = tiny(num_classes=3, seed=2)
    loss_all, acc_all = impl.evaluate(model, x, y, batch_size=10)
    loss_b, acc_b = impl.evaluate(model, x, y, batch_size=4)      # batches of 4, 4 and 2
    assert acc_all == pytest.approx(float(np.mean(impl.predict(model, x) == y))), (
        "accuracy must be the fraction of correct predictions")
    assert loss_b == pytest.approx(loss_all, rel=1e-5) and acc_b == pytest.approx(acc_all), (
        f"batch_size 4 gives loss {loss_b:.6g}, accuracy {acc_b:.6g}; one batch gives {loss_all:.6g}, "
        f"{acc_all:.6g}: average over SAMPLES, a last batch of 2 weighs 2/10")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_flip_tta_averages_an_image_and_its_mirror(impl, tiny):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((12, 3, 8, 8)).astype(np.float32), rng.integers(0, 3, 12)
    model = tiny(num_classes=3, seed=4)
    mirror = x[:, :, :, ::-1].copy()
    tta = impl.predict(model, x, tta=True)
    assert np.array_equal(tta, impl.predict(model, mirror, tta=True)), (
        "with tta=True an image and its mirror must get the same prediction (the average of both logits)")
    loss, _ = impl.evaluate(model, x, y, tta=True)
    loss_m, _ = impl.evaluate(model, mirror, y, tta=True)
    assert loss == pytest.approx(loss_m, rel=1e-5), "tta=True: the loss of x and of its mirror must be equal"
    plain, plain_m = impl.evaluate(model, x, y)[0], impl.evaluate(model, mirror, y)[0]
    assert plain != pytest.approx(plain_m, rel=1e-6), "tta=False must not average with the mirror image"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_confusion_matrix_by_hand(impl):
    counts = impl.confusion_matrix([0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 2, 1, 1, 0], num_classes=3)
    expected = [[1, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert np.array_equal(counts, expected), f"rows are TRUE classes, columns PREDICTED ones; got {np.asarray(counts).tolist()}"
