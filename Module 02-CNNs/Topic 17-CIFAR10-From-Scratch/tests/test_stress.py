"""Topic 17 under load: whole training runs, seeds, exact resume, and speed against the reference."""

import numpy as np
import pytest


def _run(impl, data, seed=0, aug_seed=0, epochs=2, checkpoint_path=None, start=None, model_seed=None):
    """A short run with augmentation, label smoothing and a warmup-cosine schedule."""
    model = impl.build_resnet(widths=(4, 8), num_classes=2, seed=seed if model_seed is None else model_seed)
    opt = impl.make_optimizer(model, "sgd", lr=0.05, weight_decay=5e-4)
    aug = impl.RandomCropFlip(padding=1, flip=True, seed=aug_seed)
    schedule = impl.make_lr_schedule(0.05, total_steps=3 * epochs, warmup_steps=2)
    history = impl.fit(model, opt, data["train"], data["val"], epochs=epochs, batch_size=32, seed=seed,
                       lr_schedule=schedule, smoothing=0.1, augment=aug, checkpoint_path=checkpoint_path,
                       progress=False)
    return model, opt, aug, history


# Task 2 and 6: seeds ----------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_each_augmentation_seed_on_its_own(impl):
    x = np.random.default_rng(0).standard_normal((16, 3, 6, 6)).astype(np.float32)
    a, b, c = (impl.RandomCropFlip(padding=2, seed=s) for s in (5, 5, 6))
    first_a, first_b, first_c = a(x), b(x), c(x)
    assert np.array_equal(first_a, first_b), "the same augmentation seed must give bit-identical batches"
    assert not np.array_equal(first_a, first_c), "a different augmentation seed must give other crops and flips"
    second_a = a(x)
    assert not np.array_equal(first_a, second_a), (
        "two calls of the same augmenter must draw new crops: keep ONE Generator, do not re-seed it every call")
    assert np.array_equal(second_a, b(x)), "the second batches of two same-seed augmenters must be identical"
    r1 = impl.random_crop(x, 2, np.random.default_rng(9))
    r2 = impl.random_crop(x, 2, np.random.default_rng(9))
    assert np.array_equal(r1, r2), "random_crop must draw only from the generator it is given"


@pytest.mark.determinism
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_same_seeds_same_run_each_seed_on_its_own(impl, striped):
    m1, _, _, h1 = _run(impl, striped, seed=3, aug_seed=1)
    m2, _, _, h2 = _run(impl, striped, seed=3, aug_seed=1)
    w1, w2 = impl.get_weights(m1), impl.get_weights(m2)
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2)), "the same seeds must give bit-identical weights"
    assert h1["train_loss"] == h2["train_loss"], "the same seeds must give the same losses"
    w3 = impl.get_weights(_run(impl, striped, seed=3, aug_seed=2)[0])
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w3)), "the augmentation seed must change the run"
    w4 = impl.get_weights(_run(impl, striped, seed=3, aug_seed=1, model_seed=4)[0])
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w4)), "the initialisation seed must change the run"


# Task 6: fit -----------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_fit_learns_a_synthetic_problem_and_records_its_history(impl, striped):
    model, opt, _, history = _run(impl, striped, epochs=3)
    assert set(history) >= {"train_loss", "val_loss", "val_acc", "lr", "epoch_seconds"}
    assert all(len(history[k]) == 3 for k in ("train_loss", "val_loss", "val_acc", "lr", "epoch_seconds")), (
        "one history entry per epoch")
    assert history["val_acc"][-1] >= 0.9, f"validation accuracy {history['val_acc']} on a separable problem"
    assert history["train_loss"][-1] < history["train_loss"][0], f"train loss {history['train_loss']}"
    val_loss, val_acc = impl.evaluate(model, *striped["val"])
    assert val_acc == pytest.approx(history["val_acc"][-1]) and val_loss == pytest.approx(history["val_loss"][-1]), (
        "the validation numbers of the history must be evaluate() on the raw validation images: "
        "no augmentation at evaluation time, eval mode")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_fit_calls_the_schedule_with_the_global_step(impl, tiny, striped):
    model = tiny()
    opt = impl.make_optimizer(model, lr=0.1)
    seen = []

    def schedule(step):
        seen.append(step)
        return 0.1 / (1 + step)

    history = impl.fit(model, opt, striped["train"], None, epochs=2, batch_size=40, lr_schedule=schedule,
                       progress=False)
    assert seen == list(range(6)), f"96 images in batches of 40 = 3 steps per epoch: steps 0..5, got {seen}"
    assert history["lr"] == pytest.approx([0.1 / 3, 0.1 / 6]), "history['lr'] holds the last lr of each epoch"
    assert history["train_loss"][0] > 0


# Task 7: exact resume --------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(7)
def test_resume_from_a_checkpoint_is_exact(impl, striped, tmp_path):
    """3 epochs in one go == 2 epochs, save, FRESH objects (other seeds), load, 1 more epoch."""
    model, _, _, history = _run(impl, striped, seed=5, aug_seed=2, epochs=3)
    straight = impl.get_weights(model)

    path = tmp_path / "ckpt.npz"
    model = impl.build_resnet(widths=(4, 8), num_classes=2, seed=5)
    opt = impl.make_optimizer(model, "sgd", lr=0.05, weight_decay=5e-4)
    aug = impl.RandomCropFlip(padding=1, flip=True, seed=2)
    schedule = impl.make_lr_schedule(0.05, total_steps=9, warmup_steps=2)
    impl.fit(model, opt, striped["train"], striped["val"], epochs=2, batch_size=32, seed=5, lr_schedule=schedule,
             smoothing=0.1, augment=aug, checkpoint_path=path, progress=False)

    model = impl.build_resnet(widths=(4, 8), num_classes=2, seed=99)       # everything must come from the file
    opt = impl.make_optimizer(model, "sgd", lr=0.05, weight_decay=5e-4)
    aug = impl.RandomCropFlip(padding=1, flip=True, seed=77)
    state = impl.load_checkpoint(path, model, opt, aug)
    assert state["epoch"] == 2, f"the checkpoint was written after epoch 2, it says {state['epoch']}"
    resumed_history = impl.fit(model, opt, striped["train"], striped["val"], epochs=3, batch_size=32, seed=5,
                               lr_schedule=schedule, smoothing=0.1, augment=aug, start_epoch=state["epoch"],
                               history=state["history"], progress=False)
    resumed = impl.get_weights(model)
    for k, (a, b) in enumerate(zip(straight, resumed)):
        assert np.array_equal(a, b), (
            f"array {k} {a.shape} differs from an uninterrupted run: save every parameter, the BatchNorm "
            "running statistics, the optimizer state (momentum buffers), the augmentation RNG and the epoch")
    assert resumed_history["train_loss"] == pytest.approx(history["train_loss"], rel=1e-12)


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(7)
def test_checkpoint_round_trip_restores_copies(impl, striped, tmp_path):
    model, opt, aug, history = _run(impl, striped, epochs=1)
    path = impl.save_checkpoint(tmp_path / "c.npz", model, opt, 1, history, aug)
    saved = impl.get_weights(model)
    impl.train_step(model, opt, *striped["val"])         # the live objects move on ...
    fresh = impl.build_resnet(widths=(4, 8), num_classes=2, seed=1)
    fresh_opt = impl.make_optimizer(fresh, "sgd", lr=0.05, weight_decay=5e-4)
    state = impl.load_checkpoint(path, fresh, fresh_opt)
    restored = impl.get_weights(fresh)
    assert all(np.array_equal(a, b) for a, b in zip(saved, restored)), (
        "load_checkpoint must restore the weights as they were when saved (save copies, not references)")
    assert state["history"]["train_loss"] == pytest.approx(history["train_loss"])


# Task 6: speed ---------------------------------------------------------------------------------------

@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_epoch_speed_against_the_reference(impl, reference, compare_speed):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((128, 3, 16, 16)).astype(np.float32), rng.integers(0, 10, 128)

    def one_epoch(module):
        def run():
            model = module.build_resnet(widths=(8, 16), num_classes=10, seed=0)
            module.fit(model, module.make_optimizer(model), (x, y), epochs=1, batch_size=64, progress=False,
                       augment=module.RandomCropFlip(padding=2, seed=0), smoothing=0.1)
            return model
        return run

    compare_speed(one_epoch(impl), one_epoch(reference), threshold=3.0, repeats=2)
