"""Topic 10 basics: the data pipeline, the model, the loss and its gradients, evaluation, one real training run."""

import math

import numpy as np
import pytest

from dlfs.finite_difference_checker import relative_error
from dlfs.testing import assert_close


@pytest.mark.value
@pytest.mark.hint(1)
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
def test_load_data_splits_without_leakage(impl):
    data = impl.load_data(subset=1000, val_size=200, seed=0)
    (x_tr, y_tr), (x_val, y_val), (x_te, y_te) = data["train"], data["val"], data["test"]
    assert x_tr.shape == (1000, 784) and x_val.shape == (200, 784) and x_te.shape == (1000, 784)
    assert y_tr.shape == (1000,) and np.issubdtype(y_tr.dtype, np.integer)
    assert abs(float(x_tr.mean())) < 1e-3, "the training split must be standardised with its own statistics"
    train_rows = {row.tobytes() for row in x_tr}
    assert not any(row.tobytes() in train_rows for row in x_val), "validation samples also appear in training"
    assert set(np.unique(y_tr)) == set(range(10)), "a random split of 1,000 MNIST digits has every class"


@pytest.mark.shape
@pytest.mark.hint(2)
def test_model_predicts_one_class_per_row(impl, small):
    model = impl.build_mlp((784, 32, 10), seed=0)
    pred = impl.predict(model, small["val"][0])
    assert np.shape(pred) == (500,), f"predict must return one class per sample, got shape {np.shape(pred)}"
    assert set(np.unique(pred)) <= set(range(10))


@pytest.mark.shape
@pytest.mark.hint(2)
def test_loss_and_grads_match_the_weights(impl, small):
    model = impl.build_mlp((784, 32, 16, 10), seed=0)
    loss, grads = impl.loss_and_grads(model, small["train"][0][:64], small["train"][1][:64])
    weights = impl.get_weights(model)
    assert isinstance(loss, float) and math.isfinite(loss)
    assert [g.shape for g in grads] == [w.shape for w in weights[:len(grads)]], "one gradient per parameter, same shape"
    assert len(grads) == 6, "784-32-16-10 has three weight matrices and three biases"


@pytest.mark.value
@pytest.mark.hint(2)
def test_evaluate_of_an_all_zero_model(impl, small):
    model = impl.build_mlp((784, 16, 10), seed=0)
    impl.set_weights(model, [np.zeros_like(w) for w in impl.get_weights(model)])
    x, y = small["val"]
    loss, acc = impl.evaluate(model, x, y)
    assert loss == pytest.approx(math.log(10), rel=1e-5), "uniform logits give a loss of ln(10): is evaluate a MEAN?"
    assert acc == pytest.approx(np.mean(y == 0)), "all-equal logits predict class 0 (argmax picks the first)"


@pytest.mark.value
@pytest.mark.hint(2)
def test_evaluate_agrees_with_predict(impl, small):
    model = impl.build_mlp((784, 32, 10), seed=1)
    x, y = small["val"]
    _, acc = impl.evaluate(model, x, y, batch_size=128)
    assert acc == pytest.approx(float(np.mean(impl.predict(model, x) == y))), (
        "accuracy must be the fraction of argmax predictions equal to the labels, over ALL batches")


@pytest.mark.value
@pytest.mark.hint(2)
def test_confusion_matrix_by_hand(impl):
    counts = impl.confusion_matrix([0, 1, 2, 2, 1, 0, 2], [0, 2, 2, 2, 1, 1, 0], num_classes=3)
    expected = [[1, 1, 0], [0, 1, 1], [1, 0, 2]]
    assert np.array_equal(counts, expected), f"rows are TRUE classes, columns PREDICTED ones; got {np.asarray(counts).tolist()}"


@pytest.mark.gradient
@pytest.mark.hint(2)
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
def test_fit_applies_the_learning_rate_schedule(impl, small):
    model = impl.build_mlp((784, 16, 10), seed=0)
    optimizer = impl.make_optimizer(model, "sgd", lr=0.1)
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    history = impl.fit(model, optimizer, small["train"], None, epochs=2, batch_size=250, lr_schedule=schedule,
                       progress=False)
    assert seen == list(range(8)), f"the schedule must be called once per step with the global step, got {seen}"
    assert history["lr"] == pytest.approx([0.1 / 4, 0.1 / 8]), "history['lr'] holds the last lr of each epoch"


@pytest.mark.value
@pytest.mark.hint(2)
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
