"""Topic 10 basics: the data pipeline, the model, the loss and its gradients, evaluation, the training loop.

Tests named *_subset / *mnist* use real MNIST digits (skipped, with one reason, when MNIST is not on this
machine); the others run on tiny synthetic data that needs no download (see conftest.py).
"""

import math

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.datasets import BatchIterator
from dlfs.gradient_check import relative_error
from dlfs.testing import assert_close


def decode(x, mean, std):
    """Undo normalize_images on rows made by fake_mnist_arrays: (labels written in the image, file indices)."""
    raw = np.rint((np.asarray(x, dtype=np.float64) * std + mean) * 255).astype(np.int64)
    return raw[:, 0] // 20, raw[:, 1] * 256 + raw[:, 2], raw


def layer_stack(weights, sizes, batchnorm):
    """Split get_weights() of build_mlp(sizes, batchnorm=...) into per-layer pieces (the documented order)."""
    n_linear = len(sizes) - 1
    params, k = [], 0
    for i in range(n_linear):
        W, b = weights[k], weights[k + 1]
        k += 2
        gamma = beta = None
        if batchnorm and i < n_linear - 1:
            gamma, beta = weights[k], weights[k + 1]
            k += 2
        params.append([W, b, gamma, beta, None, None])
    for i in range(n_linear - 1 if batchnorm else 0):
        params[i][4], params[i][5] = weights[k], weights[k + 1]
        k += 2
    assert k == len(weights), f"get_weights returned {len(weights)} arrays, the model has {k}"
    return params


def reference_loss(weights, sizes, batchnorm, x, y, mode, eps=1e-5):
    """Cross-entropy of Linear -> [BatchNorm] -> ReLU -> ... -> Linear, by hand (float64).

    mode "train": BatchNorm normalises with the batch statistics; "eval": with the running ones.
    """
    h = np.asarray(x, dtype=np.float64)
    stack = layer_stack(weights, sizes, batchnorm)
    for i, (W, b, gamma, beta, mean, var) in enumerate(stack):
        h = h @ W + b
        if i == len(stack) - 1:
            break
        if gamma is not None:
            mu, v = (h.mean(axis=0), h.var(axis=0)) if mode == "train" else (mean, var)
            h = gamma * (h - mu) / np.sqrt(v + eps) + beta
        h = np.maximum(h, 0)
    h = h - h.max(axis=1, keepdims=True)
    log_p = h - np.log(np.exp(h).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(y)), y].mean())


# ----------------------------------------------------------------------------------------------------
# Task 1: the data pipeline
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_normalize_images_uses_the_given_statistics(impl):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    test = rng.integers(0, 128, (20, 28, 28), dtype=np.uint8)
    x_tr, mean, std = impl.normalize_images(train)
    x_te, mean2, std2 = impl.normalize_images(test, mean, std)
    assert x_tr.shape == (50, 784) and x_te.shape == (20, 784), "images must be flattened to (N, 784)"
    assert x_tr.dtype == np.float32, f"float32 expected (the fast path), got {x_tr.dtype}"
    assert abs(x_tr.mean()) < 1e-4 and abs(x_tr.std() - 1) < 1e-3, "train images must be standardised to mean 0, std 1"
    assert (mean2, std2) == (mean, std), "normalize_images must return the statistics it was given"
    expected = (test.reshape(20, -1) / 255 - mean) / std
    assert_close(x_te, expected, rtol=1e-5, atol=1e-5,
                 what="test images normalised with the TRAIN mean/std (using their own stats leaks test information)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_normalize_images_dtype_layout_and_input_untouched(impl):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (6, 28, 28), dtype=np.uint8)
    x64, mean, std = impl.normalize_images(images, dtype=np.float64)
    assert x64.dtype == np.float64, f"dtype=np.float64 gave {x64.dtype}: use the dtype argument"
    pixels = images.reshape(6, -1) / 255
    assert mean == pytest.approx(pixels.mean(), rel=1e-6) and std == pytest.approx(pixels.std(), rel=1e-6), (
        f"mean/std {mean:.6g}/{std:.6g}, expected the scalars over all pixels of x / 255: "
        f"{pixels.mean():.6g}/{pixels.std():.6g}")
    assert_close(x64, (pixels - pixels.mean()) / pixels.std(), rtol=1e-6, atol=1e-6, what="(x / 255 - mean) / std")
    flat, _, _ = impl.normalize_images(images.reshape(6, 784), mean, std, dtype=np.float64)
    assert_close(flat, x64, rtol=1e-12, what="(N, 784) input vs the same images as (N, 28, 28)")
    strided = images.transpose(0, 2, 1)[::2]                     # a non-contiguous view
    got, _, _ = impl.normalize_images(strided, mean, std, dtype=np.float64)
    assert_close(got, (np.ascontiguousarray(strided).reshape(3, -1) / 255 - mean) / std, rtol=1e-6, atol=1e-6,
                 what="normalize_images of a strided (transposed, every other image) view")
    floats = (images.reshape(6, 784) * 1.0).astype(np.float32)
    before = floats.copy()
    impl.normalize_images(floats, mean, std)
    assert np.array_equal(floats, before), "normalize_images modified its input in place (x /= 255 on a view?)"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_load_data_split_is_a_seeded_permutation_and_labels_follow_their_images(impl, fake_mnist):
    x_train_raw, y_train_raw, x_test_raw, y_test_raw = fake_mnist
    data = impl.load_data(val_size=50, seed=3)
    mean, std = data["mean"], data["std"]
    parts = {}
    for name in ("train", "val", "test"):
        x, y = data[name]
        assert np.issubdtype(np.asarray(y).dtype, np.int64), f"{name} labels must be int64, got {np.asarray(y).dtype}"
        labels, index, _ = decode(x, mean, std)
        assert np.array_equal(labels, y), (
            f"{name}: {int(np.sum(labels != y))} of {len(y)} labels no longer belong to their image: shuffle x and y "
            f"with the SAME index array")
        parts[name] = index
    perm = np.random.default_rng(3).permutation(len(x_train_raw))
    assert set(parts["val"]) == set(perm[:50]), (
        "the validation split must be the first val_size indices of np.random.default_rng(seed).permutation(N) "
        "(not the first images of the file, not another generator)")
    assert set(parts["train"]) == set(perm[50:]), "the training split must be every other training image"
    assert not set(parts["train"]) & set(parts["val"]), "validation images also appear in training"
    assert len(parts["train"]) == len(set(parts["train"])) == 250, "a training image is missing or repeated"
    assert np.array_equal(np.sort(parts["test"]), np.arange(1000, 1000 + len(x_test_raw))), (
        "the test set must be the test file, untouched by the split")
    other = impl.load_data(val_size=50, seed=4)
    assert set(decode(other["val"][0], other["mean"], other["std"])[1]) != set(parts["val"]), (
        "seeds 3 and 4 gave the same validation split: use the seed argument")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_load_data_subset_statistics_and_dtype(impl, fake_mnist):
    x_train_raw, _, x_test_raw, _ = fake_mnist
    data = impl.load_data(subset=40, val_size=30, seed=0, dtype=np.float64)
    (x_tr, y_tr), (x_val, _), (x_te, y_te) = data["train"], data["val"], data["test"]
    assert x_tr.shape == (40, 784) and x_val.shape == (30, 784), (
        f"subset=40, val_size=30 gave train {x_tr.shape}, val {x_val.shape}")
    assert x_te.shape == (40, 784) and y_te.shape == (40,), f"subset=40 keeps the first 40 test samples, got {x_te.shape}"
    assert x_tr.dtype == x_val.dtype == x_te.dtype == np.float64, "dtype=np.float64 must give float64 arrays"
    mean, std = data["mean"], data["std"]
    _, train_index, _ = decode(x_tr, mean, std)
    perm = np.random.default_rng(0).permutation(len(x_train_raw))
    assert set(train_index) == set(perm[30:70]), "subset=n keeps the n training samples that follow the validation ones"
    pixels = x_train_raw[train_index].reshape(40, -1) / 255
    assert mean == pytest.approx(pixels.mean(), rel=1e-6) and std == pytest.approx(pixels.std(), rel=1e-6), (
        f"mean/std {mean:.6g}/{std:.6g} must be those of the TRAINING split only ({pixels.mean():.6g}/{pixels.std():.6g}),"
        f" not of all images nor of train + validation")
    for name, x, raw in (("validation", x_val, x_train_raw[decode(x_val, mean, std)[1]]),
                         ("test", x_te, x_test_raw[:40])):
        restored = decode(x, mean, std)[2]
        assert np.array_equal(restored, raw.reshape(len(raw), -1)), (
            f"the {name} images are not normalised with the training mean/std (their own statistics leak information)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_load_data_default_split_holds_out_5000_images_with_seed_0(impl, fake_mnist_5200):
    x_train_raw = fake_mnist_5200[0]
    data = impl.load_data(subset=40)                         # val_size and seed left at their defaults
    (x_tr, _), (x_val, _) = data["train"], data["val"]
    assert x_val.shape == (5000, 784), f"load_data's default val_size is 5000, got {x_val.shape[0]} validation images"
    assert x_tr.shape == (40, 784), f"subset=40 keeps 40 training images, got {x_tr.shape[0]}"
    perm = np.random.default_rng(0).permutation(len(x_train_raw))
    val_index = decode(x_val, data["mean"], data["std"])[1]
    assert set(val_index) == set(perm[:5000]), (
        "by default the validation split is the first 5000 indices of np.random.default_rng(0).permutation(N): "
        "load_data's default seed is 0")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_load_data_splits_without_leakage_mnist(impl, mnist_arrays):
    data = impl.load_data(subset=1000, val_size=200, seed=0)
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = data["train"], data["val"], data["test"]
    assert x_tr.shape == (1000, 784) and x_val.shape == (200, 784) and x_te.shape == (1000, 784)
    assert y_tr.shape == (1000,) and np.issubdtype(y_tr.dtype, np.integer)
    assert abs(float(x_tr.mean())) < 1e-3, "the training split must be standardised with its own statistics"
    train_rows = {row.tobytes() for row in x_tr}
    assert not any(row.tobytes() in train_rows for row in x_val), "validation samples also appear in training"
    assert set(np.unique(y_tr)) == set(range(10)), "a random split of 1,000 MNIST digits has every class"


# ----------------------------------------------------------------------------------------------------
# Task 2: the model, its optimizer, its weights
# ----------------------------------------------------------------------------------------------------

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_model_predicts_one_class_per_row(impl, small):
    model = impl.build_mlp((784, 32, 10), seed=0)
    pred = impl.predict(model, small["val"][0])
    assert np.shape(pred) == (500,), f"predict must return one class per sample, got shape {np.shape(pred)}"
    assert set(np.unique(pred)) <= set(range(10))


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_loss_and_grads_match_the_weights(impl, small):
    model = impl.build_mlp((784, 32, 16, 10), seed=0)
    loss, grads = impl.loss_and_grads(model, small["train"][0][:64], small["train"][1][:64])
    weights = impl.get_weights(model)
    assert isinstance(loss, float) and math.isfinite(loss)
    assert [g.shape for g in grads] == [w.shape for w in weights[:len(grads)]], "one gradient per parameter, same shape"
    assert len(grads) == 6, "784-32-16-10 has three weight matrices and three biases"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("dropout,batchnorm", [(0.0, False), (0.3, True)], ids=["plain", "dropout-batchnorm"])
def test_build_mlp_initial_weights_for_a_seed(impl, dropout, batchnorm):
    sizes = (12, 9, 7, 5)
    model = impl.build_mlp(sizes, dropout=dropout, batchnorm=batchnorm, seed=4, dtype=np.float64)
    weights = impl.get_weights(model)
    kaiming = load_topic(5).kaiming_normal
    rng = np.random.default_rng(4)
    stack = layer_stack(weights, sizes, batchnorm)
    for i, (d_in, d_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        W, b, gamma, beta, mean, var = stack[i]
        assert_close(W, kaiming(d_in, d_out, rng=rng, dtype=np.float64), rtol=1e-12,
                     what=f"weight of Linear {i + 1} (Topic 05 kaiming_normal, ONE default_rng(seed) for every layer, "
                          f"in order)")
        assert_close(b, np.zeros(d_out), what=f"bias of Linear {i + 1} (zeros)")
        if gamma is not None:
            assert_close(gamma, np.ones(d_out), what=f"BatchNorm {i + 1} gamma at init")
            assert_close(beta, np.zeros(d_out), what=f"BatchNorm {i + 1} beta at init")
            assert_close(mean, np.zeros(d_out), what=f"BatchNorm {i + 1} running_mean at init")
            assert_close(var, np.ones(d_out), what=f"BatchNorm {i + 1} running_var at init")
    assert all(w.dtype == np.float64 for w in weights), "dtype=np.float64 must give float64 weights"
    assert all(w.dtype == np.float32 for w in impl.get_weights(impl.build_mlp(sizes, seed=4))), (
        "build_mlp's default dtype is float32")
    other = impl.get_weights(impl.build_mlp(sizes, dropout=dropout, batchnorm=batchnorm, seed=5, dtype=np.float64))
    assert not np.array_equal(other[0], weights[0]), "seeds 4 and 5 gave the same first weight: use the seed"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_build_mlp_defaults_are_784_512_256_10_with_seed_0(impl):
    weights = impl.get_weights(impl.build_mlp())
    shapes = [w.shape for w in weights]
    assert shapes == [(784, 512), (512,), (512, 256), (256,), (256, 10), (10,)], (
        f"build_mlp() must build the default 784-512-256-10 MLP (weights (in, out), no BatchNorm), got {shapes}")
    explicit = impl.get_weights(impl.build_mlp((784, 512, 256, 10), seed=0))
    assert all(np.array_equal(a, b) for a, b in zip(weights, explicit)), (
        "build_mlp() and build_mlp(seed=0) gave different weights: the default seed is 0")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_build_mlp_without_a_hidden_layer_is_one_linear(impl):
    """layer_sizes=(d_in, d_out): no hidden layer, just the final Linear (softmax regression)."""
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((9, 5)), rng.integers(0, 3, 9)
    model = impl.build_mlp((5, 3), batchnorm=True, dropout=0.5, seed=1, dtype=np.float64)
    weights = impl.get_weights(model)
    assert [w.shape for w in weights] == [(5, 3), (3,)], (
        f"build_mlp((5, 3)) is one Linear 5 -> 3 (two arrays), got shapes {[w.shape for w in weights]}")
    loss, _ = impl.loss_and_grads(model, x, y)
    assert loss == pytest.approx(reference_loss(weights, (5, 3), False, x, y, "train"), rel=1e-10), (
        "build_mlp((5, 3)): the logits are x @ W + b, with no ReLU, BatchNorm or Dropout after the last Linear")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_dropout_is_active_in_training_and_off_in_evaluation(impl):
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((16, 12)), rng.integers(0, 10, 16)
    sizes = (12, 32, 10)
    plain = impl.build_mlp(sizes, seed=2, dtype=np.float64)
    dropped = impl.build_mlp(sizes, dropout=0.5, seed=2, dtype=np.float64)
    no_dropout = impl.loss_and_grads(plain, x, y)[0]
    first, second = impl.loss_and_grads(dropped, x, y)[0], impl.loss_and_grads(dropped, x, y)[0]
    assert first != pytest.approx(no_dropout, rel=1e-9) and second != pytest.approx(first, rel=1e-9), (
        "build_mlp(dropout=0.5): the training-mode loss equals the loss without dropout, and two forwards agree: "
        "add a Dropout(dropout) layer after each hidden ReLU whenever dropout > 0")
    assert impl.evaluate(dropped, x, y)[0] == pytest.approx(impl.evaluate(plain, x, y)[0], rel=1e-12), (
        "in eval mode a model built with dropout=0.5 must give the loss of the same model without dropout")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_build_mlp_layer_order_linear_batchnorm_relu(impl):
    """Linear -> BatchNorm1d -> ReLU -> (Dropout) per hidden layer, a last Linear with nothing after it."""
    sizes = (6, 5, 4, 3)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    for dropout in (0.0, 0.5):
        model = impl.build_mlp(sizes, dropout=dropout, batchnorm=True, seed=0, dtype=np.float64)
        weights = impl.get_weights(model)
        new = []
        for k, w in enumerate(weights):      # non-trivial gammas, betas and running statistics
            w = rng.standard_normal(w.shape)
            new.append(np.abs(w) + 0.5 if k >= len(weights) - 4 and k % 2 else w)
        impl.set_weights(model, new)
        loss, _ = impl.evaluate(model, x, y)
        expected = reference_loss(new, sizes, True, x, y, "eval")
        assert loss == pytest.approx(expected, rel=1e-9), (
            f"dropout={dropout}: eval-mode loss {loss:.6g}, expected {expected:.6g} for Linear -> BatchNorm (running "
            f"stats) -> ReLU -> Linear -> BatchNorm -> ReLU -> Linear: check the layer order, that nothing follows the "
            f"last Linear, and that eval mode turns dropout off")
    model = impl.build_mlp(sizes, batchnorm=True, seed=0, dtype=np.float64)
    impl.set_weights(model, new)
    loss, _ = impl.loss_and_grads(model, x, y)
    expected = reference_loss(new, sizes, True, x, y, "train")
    assert loss == pytest.approx(expected, rel=1e-9), (
        f"train-mode loss {loss:.6g}, expected {expected:.6g} with BatchNorm on the batch statistics right after each "
        f"hidden Linear (before the ReLU)")


def _expected_update(name, w, g, state, lr, weight_decay, momentum, t, betas=(0.9, 0.999), eps=1e-8):
    """One step of Topic 03's SGD (momentum) / Adam / AdamW (PyTorch semantics), for the test's own bookkeeping."""
    if name == "sgd":
        d = g + weight_decay * w
        state["buf"] = d.copy() if "buf" not in state else momentum * state["buf"] + d
        return w - lr * state["buf"]
    if name == "adamw":
        w = w * (1 - lr * weight_decay)
        d = g
    else:
        d = g + weight_decay * w
    state["m"] = betas[0] * state.get("m", 0) + (1 - betas[0]) * d
    state["v"] = betas[1] * state.get("v", 0) + (1 - betas[1]) * d * d
    m_hat, v_hat = state["m"] / (1 - betas[0] ** t), state["v"] / (1 - betas[1] ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + eps)


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("name", ["sgd", "adam", "adamw"])
def test_make_optimizer_uses_every_hyperparameter(impl, name):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    lr, weight_decay, momentum = 0.05, 0.2, 0.5
    model = impl.build_mlp((4, 6, 3), seed=2, dtype=np.float64)
    opt = impl.make_optimizer(model, name, lr=lr, weight_decay=weight_decay, momentum=momentum)
    states = None
    for t in (1, 2, 3):
        w = impl.get_weights(model)
        _, grads = impl.loss_and_grads(model, x, y)
        states = states or [{} for _ in grads]
        expected = [_expected_update(name, w[k], grads[k], states[k], lr, weight_decay, momentum, t)
                    for k in range(len(grads))]
        impl.train_step(model, opt, x, y)
        for k, (got, want) in enumerate(zip(impl.get_weights(model), expected)):
            assert_close(got, want, rtol=1e-7, atol=1e-10,
                         what=f"{name!r} step {t}, parameter {k} (lr={lr}, weight_decay={weight_decay}"
                              f"{f', momentum={momentum}' if name == 'sgd' else ''}: is every argument passed on, to "
                              f"the right Topic 03 optimizer?)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
@pytest.mark.parametrize("name", ["adam", "sgd"])
def test_make_optimizer_defaults_adam_lr_1e3_and_sgd_momentum_0_9(impl, name):
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((10, 4)), rng.integers(0, 3, 10)
    model = impl.build_mlp((4, 6, 3), seed=2, dtype=np.float64)
    opt = impl.make_optimizer(model) if name == "adam" else impl.make_optimizer(model, "sgd")
    call = "make_optimizer(model)" if name == "adam" else "make_optimizer(model, 'sgd')"
    states = None
    for t in (1, 2, 3):
        w = impl.get_weights(model)
        _, grads = impl.loss_and_grads(model, x, y)
        states = states or [{} for _ in grads]
        expected = [_expected_update(name, w[k], grads[k], states[k], 1e-3, 0.0, 0.9, t) for k in range(len(grads))]
        impl.train_step(model, opt, x, y)
        for k, (got, want) in enumerate(zip(impl.get_weights(model), expected)):
            assert_close(got, want, rtol=1e-7, atol=1e-12,
                         what=f"{call} step {t}, parameter {k}: the defaults are name='adam', lr=1e-3, "
                              f"weight_decay=0, momentum=0.9")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_get_weights_and_set_weights_copy_the_arrays(impl, blobs):
    x, y = blobs["train"]
    model = impl.build_mlp((12, 8, 10), batchnorm=True, seed=0)
    weights = impl.get_weights(model)
    assert len(weights) == 4 + 2 + 2, (
        f"get_weights of Linear-BatchNorm-ReLU-Linear returned {len(weights)} arrays: the 6 parameters "
        f"then BatchNorm's running_mean and running_var")
    snapshot = [w.copy() for w in weights]
    weights[0][...] = 123.0
    assert not np.any(impl.get_weights(model)[0] == 123.0), "get_weights must return copies, not the model's arrays"
    impl.train_step(model, impl.make_optimizer(model, "sgd", lr=0.1), x[:20], y[:20])
    after = impl.get_weights(model)
    assert not np.array_equal(after[0], snapshot[0]), "a training step did not change the weights get_weights returns"
    assert not np.array_equal(after[-2], snapshot[-2]), (
        "a train-mode step changes BatchNorm's running_mean: get_weights must return the CURRENT running statistics")
    new = [np.full(w.shape, 0.25 * (k + 1), dtype=np.float64) for k, w in enumerate(after)]
    impl.set_weights(model, new)
    for k, w in enumerate(new):
        w[...] = -7.0                          # the caller changes its arrays afterwards
    for k, got in enumerate(impl.get_weights(model)):
        assert got.dtype == np.float32, f"set_weights changed array {k} to {got.dtype}: cast into the model's dtype"
        assert np.all(got == np.float32(0.25 * (k + 1))), (
            f"array {k} after set_weights: copy the VALUES into the model (a reference to the caller's array follows "
            f"its later changes)")


# ----------------------------------------------------------------------------------------------------
# Task 3: the loss, its gradients, one training step
# ----------------------------------------------------------------------------------------------------

@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("batchnorm", [False, True], ids=["plain", "batchnorm"])
def test_gradients_match_finite_differences(impl, batchnorm):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5)), rng.integers(0, 3, 8)
    model = impl.build_mlp((5, 6, 3), batchnorm=batchnorm, seed=0, dtype=np.float64)
    _, grads = impl.loss_and_grads(model, x, y)
    weights = impl.get_weights(model)
    h = 1e-5
    for k, grad in enumerate(grads):
        numeric = np.zeros_like(weights[k])
        for i in np.ndindex(weights[k].shape):
            for sign in (1, -1):
                w = [a.copy() for a in weights]
                w[k][i] += sign * h
                impl.set_weights(model, w)
                numeric[i] += sign * impl.loss_and_grads(model, x, y)[0] / (2 * h)
        impl.set_weights(model, weights)
        err = relative_error(grad, numeric)
        # a bias right before BatchNorm has a true gradient of 0: there only an absolute check is meaningful
        assert err < 1e-5 or np.max(np.abs(grad - numeric)) < 1e-8, (
            f"gradient of parameter {k} (shape {grad.shape}) has relative error {err:.1e}")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_golden_loss_and_gradients(impl, golden):
    g = golden("tiny_mlp")
    model = impl.build_mlp((12, 8, 4), seed=0, dtype=np.float64)
    n_params = len([k for k in g if k.startswith("grad")])
    impl.set_weights(model, [g[f"weight{i}"] for i in range(len([k for k in g if k.startswith("weight")]))])
    impl.loss_and_grads(model, g["x"], g["y"])
    loss, grads = impl.loss_and_grads(model, g["x"], g["y"])  # a second call must not see the first one's gradients
    assert loss == pytest.approx(float(g["loss"]), rel=1e-10), "loss differs from PyTorch's cross_entropy (a mean?)"
    assert len(grads) == n_params
    for i, grad in enumerate(grads):
        assert_close(grad, g[f"grad{i}"], rtol=1e-7, atol=1e-10,
                     what=f"gradient {i} on the second call (were the gradients zeroed first?)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_loss_and_grads_updates_nothing_and_returns_copies(impl, blobs):
    x, y = blobs["train"]
    model = impl.build_mlp((12, 8, 10), seed=1, dtype=np.float64)
    before = impl.get_weights(model)
    loss1, grads1 = impl.loss_and_grads(model, x[:30], y[:30])
    kept = [g.copy() for g in grads1]
    impl.loss_and_grads(model, x[30:], y[30:])
    for k, (g, w) in enumerate(zip(grads1, kept)):
        assert np.array_equal(g, w), (
            f"gradient {k} returned by the first call changed during the second: return copies of p.grad")
    for k, (a, b) in enumerate(zip(before, impl.get_weights(model))):
        assert np.array_equal(a, b), f"loss_and_grads changed parameter {k}: it computes gradients, it does not step"
    assert loss1 == pytest.approx(reference_loss(before, (12, 8, 10), False, x[:30], y[:30], "train"), rel=1e-10)


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_train_step_zeroes_the_gradients_then_takes_one_step(impl, blobs):
    x, y = blobs["train"]
    model = impl.build_mlp((12, 8, 10), seed=1, dtype=np.float64)
    opt = impl.make_optimizer(model, "sgd", lr=0.1, momentum=0.0)
    for xb, yb in ((x[:30], y[:30]), (x[30:60], y[30:60])):
        w0 = impl.get_weights(model)
        loss0, g0 = impl.loss_and_grads(model, xb, yb)   # leaves these gradients in p.grad
        loss = impl.train_step(model, opt, xb, yb)
        assert isinstance(loss, float), f"train_step must return the loss as a float, got {type(loss).__name__}"
        assert loss == pytest.approx(loss0, rel=1e-12), "train_step must return the loss BEFORE the update"
        for k, (w, g, got) in enumerate(zip(w0, g0, impl.get_weights(model))):
            assert_close(got, w - 0.1 * g, rtol=1e-10, atol=1e-12,
                         what=f"parameter {k} after one SGD step (lr 0.1): w - lr * grad; twice the gradient means "
                              f"the old p.grad was not zeroed first")


# ----------------------------------------------------------------------------------------------------
# Task 4: evaluation
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_evaluate_of_an_all_zero_model(impl, small):
    model = impl.build_mlp((784, 16, 10), seed=0)
    impl.set_weights(model, [np.zeros_like(w) for w in impl.get_weights(model)])
    x, y = small["val"]
    loss, acc = impl.evaluate(model, x, y)
    assert loss == pytest.approx(math.log(10), rel=1e-5), "uniform logits give a loss of ln(10): is evaluate a MEAN?"
    assert acc == pytest.approx(np.mean(y == 0)), "all-equal logits predict class 0 (argmax picks the first)"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_evaluate_agrees_with_predict(impl, small):
    model = impl.build_mlp((784, 32, 10), seed=1)
    x, y = small["val"]
    _, acc = impl.evaluate(model, x, y, batch_size=128)
    assert acc == pytest.approx(float(np.mean(impl.predict(model, x) == y))), (
        "accuracy must be the fraction of argmax predictions equal to the labels, over ALL batches")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_evaluate_averages_over_samples_whatever_the_batch_size(impl, blobs):
    x, y = blobs["val"]                                     # 40 samples
    model = impl.build_mlp((12, 16, 10), seed=3, dtype=np.float64)
    weights = impl.get_weights(model)
    expected_loss = reference_loss(weights, (12, 16, 10), False, x, y, "eval")
    expected_pred = impl.predict(model, x, batch_size=1000)
    expected_acc = float(np.mean(expected_pred == y))
    assert 0 < expected_acc < 1, "the test needs a model that is neither always right nor always wrong"
    for batch_size in (1, 3, 7, 40, 64):                     # 40 = 13 * 3 + 1: a last batch of ONE sample
        loss, acc = impl.evaluate(model, x, y, batch_size=batch_size)
        assert loss == pytest.approx(expected_loss, rel=1e-9), (
            f"batch_size={batch_size}: loss {loss:.6g}, expected {expected_loss:.6g}: average over SAMPLES (sum of "
            f"loss * batch length / N), not over batches: the last batch is smaller")
        assert acc == pytest.approx(expected_acc, abs=1e-12), (
            f"batch_size={batch_size}: accuracy {acc:.6g}, expected {expected_acc:.6g} (count correct predictions "
            f"over all samples)")
        assert np.array_equal(impl.predict(model, x, batch_size=batch_size), expected_pred), (
            f"predict with batch_size={batch_size} differs from one big batch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_confusion_matrix_by_hand(impl):
    counts = impl.confusion_matrix([0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 2, 1, 1, 0], num_classes=3)
    expected = [[1, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert np.array_equal(counts, expected), f"rows are TRUE classes, columns PREDICTED ones; got {np.asarray(counts).tolist()}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_confusion_matrix_default_size_and_counts(impl):
    rng = np.random.default_rng(2)
    y_true, y_pred = rng.integers(0, 10, 200), rng.integers(0, 10, 200)
    counts = np.asarray(impl.confusion_matrix(y_true[::2], y_pred[::2]))     # strided inputs
    assert counts.shape == (10, 10), f"the default num_classes is 10, got a {counts.shape} matrix"
    assert np.issubdtype(counts.dtype, np.integer), f"counts must be integers, got {counts.dtype}"
    expected = np.zeros((10, 10), dtype=np.int64)
    for t, p in zip(y_true[::2], y_pred[::2]):
        expected[t, p] += 1
    assert np.array_equal(counts, expected), "confusion_matrix[i, j] = number of samples of class i predicted as j"
    empty = np.asarray(impl.confusion_matrix(np.zeros(0, np.int64), np.zeros(0, np.int64), num_classes=4))
    assert empty.shape == (4, 4) and not empty.any(), "no samples: a matrix of zeros"


# ----------------------------------------------------------------------------------------------------
# Task 5: fit
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_fit_learns_the_1000_sample_subset(impl, small):
    model = impl.build_mlp((784, 64, 10), seed=0)
    optimizer = impl.make_optimizer(model, "adam", lr=2e-3)
    history = impl.fit(model, optimizer, small["train"], small["val"], epochs=5, batch_size=50, seed=0,
                       progress=False)
    assert len(history["train_loss"]) == 5 and len(history["val_acc"]) == 5, "one history entry per epoch"
    assert history["train_loss"][-1] < 0.5 * history["train_loss"][0], f"train loss barely moved: {history['train_loss']}"
    assert history["val_acc"][-1] >= 0.85, f"validation accuracy {history['val_acc'][-1]:.1%} after 5 epochs (>= 85% expected)"
    _, test_acc = impl.evaluate(model, *small["test"])
    assert test_acc >= 0.83, f"test accuracy {test_acc:.1%}"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_fit_applies_the_learning_rate_schedule(impl, blobs):
    model = impl.build_mlp((12, 16, 10), seed=0)
    optimizer = impl.make_optimizer(model, "sgd", lr=0.1)
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    history = impl.fit(model, optimizer, blobs["train"], None, epochs=2, batch_size=25, lr_schedule=schedule,
                       progress=False)
    assert seen == list(range(8)), f"the schedule must be called once per step with the global step, got {seen}"
    assert history["lr"] == pytest.approx([0.1 / 4, 0.1 / 8]), "history['lr'] holds the last lr of each epoch"
    model = impl.build_mlp((12, 16, 10), seed=0)
    before = impl.get_weights(model)
    impl.fit(model, impl.make_optimizer(model, "sgd", lr=0.1), blobs["train"], epochs=1, batch_size=25,
             lr_schedule=lambda step: 0.0, progress=False)
    assert all(np.array_equal(a, b) for a, b in zip(before, impl.get_weights(model))), (
        "a schedule that returns 0 for every step must leave the weights alone: set the lr BEFORE each step")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_fit_train_loss_is_a_mean_over_samples(impl, blobs):
    x, y = blobs["train"]                                   # 90 samples: batches of 40, 40 and 10
    x = x.astype(np.float64)
    model = impl.build_mlp((12, 16, 10), seed=2, dtype=np.float64)
    expected = reference_loss(impl.get_weights(model), (12, 16, 10), False, x, y, "train")
    history = impl.fit(model, impl.make_optimizer(model, "sgd", lr=0.0, momentum=0.0), (x, y), epochs=1,
                       batch_size=40, progress=False)
    got = history["train_loss"][0]
    assert got == pytest.approx(expected, rel=1e-9), (
        f"with lr = 0 every step sees the initial weights, so the epoch's train_loss must be the loss over all 90 "
        f"samples, {expected:.6g}; got {got:.6g}: weight each batch's loss by its size (the last batch has 10)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_fit_trains_on_the_batch_iterators_batches(impl, blobs):
    """fit == a hand-written loop over BatchIterator(x, y, batch_size, seed) with set_epoch(epoch), train_step."""
    x, y = blobs["train"]
    fitted = impl.build_mlp((12, 16, 10), seed=1, dtype=np.float64)
    impl.fit(fitted, impl.make_optimizer(fitted, "sgd", lr=0.05, momentum=0.9), (x, y), epochs=2, batch_size=32,
             seed=7, progress=False)
    by_hand = impl.build_mlp((12, 16, 10), seed=1, dtype=np.float64)
    opt = impl.make_optimizer(by_hand, "sgd", lr=0.05, momentum=0.9)
    batches = BatchIterator(x, y, batch_size=32, seed=7)
    for epoch in range(2):
        batches.set_epoch(epoch)
        for xb, yb in batches:
            impl.train_step(by_hand, opt, xb, yb)
    for k, (a, b) in enumerate(zip(impl.get_weights(fitted), impl.get_weights(by_hand))):
        assert_close(a, b, rtol=1e-10, atol=1e-12,
                     what=f"parameter {k} after fit(epochs=2, batch_size=32, seed=7) vs the loop over "
                          f"BatchIterator(x, y, 32, seed=7) with set_epoch(epoch): same batches, same order, the last "
                          f"smaller batch included, x and y shuffled together")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_fit_defaults_one_epoch_of_batches_of_128_with_seed_0(impl):
    rng = np.random.default_rng(4)
    y = rng.integers(0, 10, 300)
    x = rng.standard_normal((10, 12))[y] * 2.5 + rng.standard_normal((300, 12))   # 300: batches of 128, 128, 44
    fitted = impl.build_mlp((12, 8, 10), seed=1, dtype=np.float64)
    history = impl.fit(fitted, impl.make_optimizer(fitted, "sgd", lr=0.05), (x, y), progress=False)
    by_hand = impl.build_mlp((12, 8, 10), seed=1, dtype=np.float64)
    opt = impl.make_optimizer(by_hand, "sgd", lr=0.05)
    batches = BatchIterator(x, y, batch_size=128, seed=0)
    batches.set_epoch(0)
    for xb, yb in batches:
        impl.train_step(by_hand, opt, xb, yb)
    assert len(history["train_loss"]) == 1, f"fit's default is epochs=1, it ran {len(history['train_loss'])}"
    for k, (a, b) in enumerate(zip(impl.get_weights(fitted), impl.get_weights(by_hand))):
        assert_close(a, b, rtol=1e-10, atol=1e-12,
                     what=f"parameter {k} after fit with its defaults vs one epoch over BatchIterator(x, y, 128, seed=0):"
                          f" the defaults are epochs=1, batch_size=128, seed=0")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_epoch_seconds_are_durations_not_clock_readings(impl, blobs):
    import time

    model = impl.build_mlp((12, 8, 10), seed=0)
    start = time.perf_counter()
    history = impl.fit(model, impl.make_optimizer(model), blobs["train"], blobs["val"], epochs=2, batch_size=30,
                       progress=False)
    elapsed = time.perf_counter() - start
    seconds = history["epoch_seconds"]
    assert all(0 <= s <= elapsed for s in seconds) and sum(seconds) <= elapsed, (
        f"epoch_seconds {seconds} for a fit that took {elapsed:.3f} s in all: store the time each epoch took "
        f"(time.perf_counter() at its end minus at its start), not a clock reading")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_fit_stops_when_early_stopping_says_so(impl, blobs):
    class Scripted:
        """Says stop at its second call; remembers what fit gave it."""

        def __init__(self):
            self.metrics, self.weights = [], None

        def step(self, metric, params=None):
            self.metrics.append(float(metric))
            self.weights = [np.array(p if isinstance(p, np.ndarray) else p.data) for p in params or []]
            return len(self.metrics) == 2

    model = impl.build_mlp((12, 8, 10), seed=0)
    stopper = Scripted()
    history = impl.fit(model, impl.make_optimizer(model, "adam", lr=1e-2), blobs["train"], blobs["val"], epochs=6,
                       batch_size=30, early_stopping=stopper, progress=False)
    assert len(history["train_loss"]) == 2, (
        f"early_stopping.step returned True after epoch 2, but fit ran {len(history['train_loss'])} epochs")
    assert stopper.metrics == pytest.approx(history["val_loss"]), (
        f"early stopping must watch the validation LOSS of each epoch: got {stopper.metrics}, "
        f"val_loss {history['val_loss']}")
    assert stopper.weights, "pass model.parameters() to early_stopping.step, so it can keep the best weights"


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_fit_history_has_every_key_and_is_quiet_without_progress(impl, blobs, capsys):
    model = impl.build_mlp((12, 8, 10), seed=0)
    history = impl.fit(model, impl.make_optimizer(model), blobs["train"], blobs["val"], epochs=2, batch_size=30,
                       progress=False)
    for key in ("train_loss", "val_loss", "val_acc", "lr", "epoch_seconds"):
        assert len(history.get(key, [])) == 2, f"history[{key!r}] must hold one value per epoch, got {history.get(key)}"
    assert all(isinstance(v, float) for key in history for v in history[key]), (
        "history values must be Python floats (the checkpoint stores the history as JSON)")
    assert capsys.readouterr().out == "", "fit(progress=False) must print nothing"
    history = impl.fit(model, impl.make_optimizer(model), blobs["train"], None, epochs=1, batch_size=30, progress=False)
    assert history["val_loss"] == [] and history["val_acc"] == [] and len(history["train_loss"]) == 1, (
        "without validation data val_loss and val_acc stay empty")
