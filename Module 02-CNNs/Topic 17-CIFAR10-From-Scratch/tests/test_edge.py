"""Topic 17 edge cases: bad inputs, empty and odd batches, modes, and checkpoints that are never half-written."""

import os

import numpy as np
import pytest


# Task 1 --------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_normalize_images_rejects_bad_input(impl):
    good = np.zeros((2, 4, 4, 3), dtype=np.uint8)
    good[0] = 200
    with pytest.raises(ValueError):
        impl.normalize_images(np.zeros((2, 3, 4, 4), dtype=np.uint8))   # NCHW given: the last axis must be RGB
    with pytest.raises(ValueError):
        impl.normalize_images(np.zeros((4, 4, 3), dtype=np.uint8))      # one image without the batch axis
    with pytest.raises(ValueError):
        impl.normalize_images(good, mean=[0.5, 0.5, 0.5], std=[0.2, 0.0, 0.2])   # std 0 in one channel
    with pytest.raises(ValueError):
        impl.normalize_images(good, mean=0.5, std=0.2)                   # a scalar: per-channel values needed
    with pytest.raises(ValueError):
        impl.normalize_images(np.zeros((2, 4, 4, 3), dtype=np.uint8))   # constant images: their std is 0


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_normalize_images_accepts_non_contiguous_input(impl):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (6, 8, 8, 3)).astype(np.uint8)
    view = big[::2, ::2, ::2]                       # strided view, (3, 4, 4, 3)
    out, mean, std = impl.normalize_images(view)
    ref, mean2, std2 = impl.normalize_images(view.copy())
    assert np.array_equal(out, ref) and np.allclose(mean, mean2) and np.allclose(std, std2), (
        "a strided view must give the same result as its contiguous copy")


# Task 2 --------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_augmentation_rejects_bad_arguments(impl):
    x = np.zeros((2, 3, 4, 4), dtype=np.float32)
    with pytest.raises(ValueError):
        impl.random_crop(np.zeros((3, 4, 4)), 1, 0)      # no batch axis
    with pytest.raises(ValueError):
        impl.random_crop(x, -1, 0)
    with pytest.raises(ValueError):
        impl.random_flip(np.zeros((3, 4, 4)), 0)
    with pytest.raises(ValueError):
        impl.random_flip(x, 0, p=1.5)
    with pytest.raises(ValueError):
        impl.RandomCropFlip(padding=-2)


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_augmentation_of_empty_single_and_strided_batches(impl):
    empty = np.zeros((0, 3, 5, 5), dtype=np.float32)
    assert np.shape(impl.RandomCropFlip(padding=2, seed=0)(empty)) == (0, 3, 5, 5), "an empty batch stays empty"
    one = np.random.default_rng(0).standard_normal((1, 2, 5, 5))
    assert np.shape(impl.random_crop(one, 2, 0)) == (1, 2, 5, 5)
    assert np.array_equal(impl.random_crop(one, 0, 0), one), "padding 0: the only window is the image itself"
    strided = np.random.default_rng(1).standard_normal((4, 5, 5, 2)).transpose(0, 3, 1, 2)  # non-contiguous
    a = impl.RandomCropFlip(padding=1, seed=7)(strided)
    b = impl.RandomCropFlip(padding=1, seed=7)(strided.copy())
    assert np.array_equal(a, b), "a transposed (non-contiguous) batch must be augmented like its copy"


# Task 3 --------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_label_smoothing_rejects_bad_input(impl):
    logits, y = np.zeros((3, 4)), np.array([0, 1, 3])
    for eps in (-0.1, 1.5):
        with pytest.raises(ValueError):
            impl.smoothed_cross_entropy(logits, y, smoothing=eps)
    with pytest.raises(ValueError):
        impl.smoothed_cross_entropy(np.zeros((0, 4)), np.zeros(0, dtype=np.int64))   # empty batch: mean undefined
    with pytest.raises(ValueError):
        impl.smoothed_cross_entropy(logits, np.array([0, 1, 4]))                     # label out of range
    with pytest.raises(ValueError):
        impl.smoothed_cross_entropy(logits, y[:, None])                              # (N, 1) labels
    with pytest.raises(ValueError):
        impl.smoothed_cross_entropy(np.zeros(4), np.array([1]))                      # 1-D logits


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_label_smoothing_is_stable_for_extreme_logits(impl):
    logits = np.array([[1e4, -1e4, 0.0], [-5e3, 5e3, 5e3]], dtype=np.float32)
    loss, dlogits = impl.smoothed_cross_entropy(logits, np.array([1, 0]), smoothing=0.1)
    assert np.isfinite(loss) and np.all(np.isfinite(dlogits)), (
        "huge logits overflow exp(): subtract the row maximum before exponentiating")
    assert loss > 1000, "confidently wrong predictions have a huge loss"


# Task 4 --------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_model_and_optimizer_reject_bad_arguments(impl, tiny):
    with pytest.raises(ValueError):
        impl.build_resnet(widths=())
    with pytest.raises(ValueError):
        impl.build_resnet(widths=(4, 0))
    model = tiny()
    with pytest.raises(ValueError):
        impl.make_optimizer(model, "adagrad-typo")
    with pytest.raises(ValueError):
        impl.make_lr_schedule(0.1, total_steps=10, warmup_steps=20)
    weights = impl.get_weights(model)
    with pytest.raises(ValueError):
        impl.set_weights(model, weights[:-1])
    with pytest.raises(ValueError):
        impl.set_weights(model, [w.T if w.ndim == 4 else w for w in weights])


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_optimizers_other_than_sgd(impl, tiny, striped):
    for name in ("adam", "adamw"):
        model = tiny()
        opt = impl.make_optimizer(model, name, lr=1e-3, weight_decay=1e-2)
        before = impl.get_weights(model)
        impl.train_step(model, opt, *striped["val"])
        after = impl.get_weights(model)
        n = len(list(model.parameters()))
        assert all(not np.array_equal(a, b) for a, b in zip(before[:n], after[:n])), (
            f"one {name} step must move every parameter")


# Task 5 --------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_nan_inputs_stop_training_before_the_update(impl, tiny, striped):
    x, y = striped["train"][0][:16].copy(), striped["train"][1][:16]
    x[3, 1, 2, 2] = np.nan
    model = tiny()
    opt = impl.make_optimizer(model)
    before = impl.get_weights(model)
    with pytest.raises(FloatingPointError, match="(?i)nan|finite"):
        impl.train_step(model, opt, x, y)
    n = len(list(model.parameters()))
    assert all(np.array_equal(a, b) for a, b in zip(before[:n], impl.get_weights(model)[:n])), (
        "a NaN loss must stop training BEFORE optimizer.step() ruins the weights")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_evaluation_is_in_eval_mode_and_restores_the_mode(impl, tiny, striped):
    model = tiny()
    impl.fit(model, impl.make_optimizer(model, lr=0.05), striped["train"], epochs=1, batch_size=32, progress=False)
    x, y = striped["val"]
    assert model.training, "fit leaves the model in training mode"
    first = impl.evaluate(model, x, y)
    again = impl.evaluate(model, x, y)
    assert first == again, "evaluate changes between calls: batch statistics (train mode) used during evaluation?"
    assert model.training, "evaluate must restore the training mode it found"
    one_by_one = np.concatenate([impl.predict(model, x[i:i + 1]) for i in range(8)])
    assert np.array_equal(one_by_one, impl.predict(model, x)[:8]), (
        "in eval mode an image's prediction must not depend on the other images of its batch")
    model.eval()
    impl.predict(model, x)
    assert not model.training, "a model in eval mode must stay in eval mode"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_evaluate_rejects_empty_or_mismatched_data(impl, tiny, striped):
    model = tiny()
    x, y = striped["val"]
    with pytest.raises(ValueError):
        impl.evaluate(model, x[:0], y[:0])
    with pytest.raises(ValueError):
        impl.evaluate(model, x[:5], y[:4])
    with pytest.raises(ValueError):
        impl.confusion_matrix([0, 1], [0, 1, 1])


# Task 6 --------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_fit_rejects_bad_training_sets(impl, tiny, striped):
    model = tiny()
    opt = impl.make_optimizer(model)
    x, y = striped["train"]
    with pytest.raises(ValueError, match="empty"):
        impl.fit(model, opt, (x[:0], y[:0]), epochs=1, progress=False)
    with pytest.raises(ValueError):
        impl.fit(model, opt, (x[:10], y[:9]), epochs=1, progress=False)
    with pytest.raises(ValueError):
        impl.fit(model, opt, (x[:10], y[:10]), epochs=1, batch_size=0, progress=False)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_batch_size_one_and_a_batch_larger_than_the_data(impl, tiny, striped):
    x, y = striped["train"][0][:6], striped["train"][1][:6]
    model = tiny()
    opt = impl.make_optimizer(model, lr=0.01)
    before = impl.get_weights(model)
    history = impl.fit(model, opt, (x, y), epochs=1, batch_size=1, progress=False)
    assert np.isfinite(history["train_loss"][0]), "batch size 1 must train (BatchNorm sees 1 x H x W values)"
    history = impl.fit(model, opt, (x, y), epochs=1, batch_size=1000, progress=False)
    assert len(history["train_loss"]) == 1 and np.isfinite(history["train_loss"][0]), (
        "a batch larger than the dataset is just one step")
    assert any(not np.array_equal(a, b) for a, b in zip(before, impl.get_weights(model)))


# Task 7 --------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(7)
def test_a_failed_save_leaves_the_previous_checkpoint_intact(impl, tiny, striped, tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    model = tiny()
    opt = impl.make_optimizer(model)
    impl.save_checkpoint(path, model, opt, 1, {"train_loss": [1.0]})
    good = path.read_bytes()
    impl.fit(model, opt, striped["train"], epochs=1, batch_size=32, progress=False)

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    monkeypatch.setattr(np, "savez_compressed", disk_full)
    with pytest.raises(OSError):
        impl.save_checkpoint(path, model, opt, 2, {"train_loss": [1.0, 0.5]})
    monkeypatch.undo()
    assert path.read_bytes() == good, "a failed save must not touch the previous checkpoint (temp file, then rename)"
    assert os.listdir(tmp_path) == ["run.npz"], f"temporary files left behind: {os.listdir(tmp_path)}"


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(7)
def test_corrupt_or_foreign_checkpoints_are_reported(impl, tiny, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    model = tiny()
    with pytest.raises(ValueError, match="checkpoint"):
        impl.load_checkpoint(broken, model, impl.make_optimizer(model))
    other = impl.build_resnet(widths=(4, 6), num_classes=2, seed=0)
    path = impl.save_checkpoint(tmp_path / "other.npz", other, impl.make_optimizer(other), 1, {})
    with pytest.raises(ValueError, match="checkpoint"):
        impl.load_checkpoint(path, model)
