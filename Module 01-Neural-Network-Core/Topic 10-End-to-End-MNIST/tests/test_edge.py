"""Topic 10 edge cases: bad data, odd batch sizes, modes, and checkpoints that are never half-written."""

import io
import os
import sys

import numpy as np
import pytest


def same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b))


# ----------------------------------------------------------------------------------------------------
# Task 1: bad images
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_normalize_images_rejects_what_it_cannot_normalise(impl):
    images = np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    out, mean, std = impl.normalize_images(images)
    assert out.shape == (4, 784)
    with pytest.raises(ValueError):
        impl.normalize_images(images[0, 0])                      # one row of pixels is not a batch of images
    for bad_std in (0.0, -1.0):
        with pytest.raises(ValueError):
            impl.normalize_images(images, mean, bad_std)         # dividing by 0 (or flipping the sign)
    with pytest.raises(ValueError):
        impl.normalize_images(np.full((3, 28, 28), 7, dtype=np.uint8))   # constant images: their std is 0
    empty, _, _ = impl.normalize_images(images[:0], mean, std)
    assert empty.shape == (0, 784), f"0 images with given statistics: a (0, 784) array, got {empty.shape}"


# ----------------------------------------------------------------------------------------------------
# Task 2: weights that do not fit
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_set_weights_refuses_wrong_shapes(impl):
    model = impl.build_mlp((784, 16, 10), seed=0)
    weights = impl.get_weights(model)
    with pytest.raises(ValueError):
        impl.set_weights(model, weights[:-1])
    with pytest.raises(ValueError):
        impl.set_weights(model, [w.T if w.ndim == 2 else w for w in weights])


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_set_weights_never_broadcasts_and_changes_nothing_when_it_refuses(impl):
    model = impl.build_mlp((12, 8, 10), batchnorm=True, seed=0)
    good = impl.get_weights(model)
    shifted = [w + 1 for w in good]
    for k, bad in ((1, np.zeros(1)), (1, np.zeros((1, 8))), (len(good) - 1, np.ones(1)), (len(good) - 1, np.ones(9))):
        arrays = [w.copy() for w in shifted]
        arrays[k] = bad
        with pytest.raises(ValueError):
            impl.set_weights(model, arrays)     # a (1,) or (1, D) array would broadcast silently into (D,)
        assert same_weights(impl.get_weights(model), good), (
            f"a refused set_weights (array {k} of shape {bad.shape}) still changed the model: check every shape "
            f"BEFORE writing anything")
    with pytest.raises(ValueError):
        impl.set_weights(model, shifted + [np.zeros(3)])         # one array too many
    assert same_weights(impl.get_weights(model), good)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_unknown_optimizer_is_rejected(impl):
    model = impl.build_mlp((12, 8, 10), seed=0)
    impl.make_optimizer(model, "sgd")
    for name in ("adagrad-typo", ""):
        with pytest.raises(ValueError):
            impl.make_optimizer(model, name)


# ----------------------------------------------------------------------------------------------------
# Task 3: a NaN stops training before it spoils the weights
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_nan_inputs_stop_training_with_a_clear_error(impl, blobs):
    x, y = blobs["train"][0].copy(), blobs["train"][1]
    x[37, 5] = np.nan
    model = impl.build_mlp((12, 16, 10), seed=0)
    with pytest.raises(FloatingPointError, match="(?i)nan|finite"):
        impl.fit(model, impl.make_optimizer(model), (x, y), epochs=1, batch_size=30, progress=False)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(3)
@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_a_refused_step_leaves_weights_and_optimizer_untouched(impl, blobs, bad):
    x, y = blobs["train"]
    model = impl.build_mlp((12, 16, 10), seed=0)
    opt = impl.make_optimizer(model, "adam", lr=1e-2)
    impl.train_step(model, opt, x[:30], y[:30])
    before = impl.get_weights(model)
    poisoned = x[30:60].copy()
    poisoned[3, 2] = bad
    with pytest.raises(FloatingPointError):
        impl.train_step(model, opt, poisoned, y[30:60])
    assert same_weights(impl.get_weights(model), before), (
        "the weights changed although the step was refused: raise BEFORE optimizer.step()")
    twin = impl.build_mlp((12, 16, 10), seed=0)
    twin_opt = impl.make_optimizer(twin, "adam", lr=1e-2)
    impl.train_step(twin, twin_opt, x[:30], y[:30])
    impl.train_step(model, opt, x[60:], y[60:])
    impl.train_step(twin, twin_opt, x[60:], y[60:])
    assert same_weights(impl.get_weights(model), impl.get_weights(twin)), (
        "after a refused step, the next step differs from a run that never saw the bad batch: the optimizer's "
        "state (Adam's moments and step count) must not move either")


# ----------------------------------------------------------------------------------------------------
# Task 4: evaluation never changes the model, and gives back the mode it found
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_evaluation_is_in_eval_mode_and_restores_the_mode(impl, small):
    model = impl.build_mlp((784, 64, 10), dropout=0.5, batchnorm=True, seed=0)
    x, y = small["val"]
    impl.fit(model, impl.make_optimizer(model), small["train"], epochs=1, batch_size=100, progress=False)
    first = impl.predict(model, x)
    again = impl.predict(model, x)
    assert np.array_equal(first, again), "predictions change between calls: dropout or batch statistics active in eval?"
    one_by_one = np.concatenate([impl.predict(model, x[i:i + 1]) for i in range(20)])
    assert np.array_equal(one_by_one, first[:20]), "in eval mode a sample's prediction must not depend on its batch"
    assert model.training, "evaluate/predict must put the model back in training mode after fit"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_evaluation_gives_back_the_mode_it_found(impl, blobs):
    x, y = blobs["val"]
    model = impl.build_mlp((12, 16, 10), dropout=0.5, batchnorm=True, seed=0)
    model.eval()
    impl.evaluate(model, x, y)
    assert not model.training, "evaluate on a model in eval mode left it in TRAINING mode: restore the mode it was in"
    impl.predict(model, x)
    assert not model.training, "predict on a model in eval mode left it in training mode"
    model.train()
    impl.evaluate(model, x, y)
    impl.predict(model, x)
    assert model.training, "evaluate/predict left a training model in eval mode"
    bad_labels = y.copy()
    bad_labels[-1] = 99                                          # fails inside the loop, on the last batch
    with pytest.raises(Exception):
        impl.evaluate(model, x, bad_labels, batch_size=16)
    assert model.training, "an error inside evaluate left the model in eval mode: restore the mode in a finally block"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_evaluation_changes_no_state(impl, blobs):
    """A forward in eval mode between two training steps: running statistics and weights stay as they are."""
    x, y = blobs["train"]
    model = impl.build_mlp((12, 16, 10), dropout=0.3, batchnorm=True, seed=0)
    opt = impl.make_optimizer(model, "sgd", lr=0.05)
    impl.train_step(model, opt, x[:30], y[:30])
    before = impl.get_weights(model)
    impl.evaluate(model, *blobs["val"], batch_size=7)
    impl.predict(model, blobs["val"][0], batch_size=7)
    assert same_weights(impl.get_weights(model), before), (
        "evaluate/predict changed the model's state: BatchNorm's running statistics move only in train mode")


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_evaluation_of_bad_or_empty_data(impl, blobs):
    x, y = blobs["val"]
    model = impl.build_mlp((12, 8, 10), seed=0)
    pred = np.asarray(impl.predict(model, x[:0]))
    assert pred.shape == (0,) and np.issubdtype(pred.dtype, np.integer), (
        f"predict of 0 samples: an empty (0,) int array, got {pred.dtype} {pred.shape}")
    with pytest.raises(ValueError):
        impl.evaluate(model, x[:0], y[:0])
    with pytest.raises(ValueError):
        impl.evaluate(model, x[:10], y[:9])
    with pytest.raises(ValueError):
        impl.confusion_matrix(y[:10], y[:9])


# ----------------------------------------------------------------------------------------------------
# Task 5: odd training sets
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_bad_training_sets_are_rejected(impl, blobs):
    model = impl.build_mlp((12, 16, 10), seed=0)
    opt = impl.make_optimizer(model)
    x, y = blobs["train"]
    with pytest.raises(ValueError, match="empty"):
        impl.fit(model, opt, (x[:0], y[:0]), epochs=1, progress=False)
    with pytest.raises(ValueError):
        impl.fit(model, opt, (x[:10], y[:9]), epochs=1, progress=False)
    with pytest.raises(ValueError):
        impl.fit(model, opt, (x[:10], y[:10]), epochs=1, batch_size=0, progress=False)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_batch_size_one_and_batch_larger_than_the_data(impl, blobs):
    x, y = blobs["train"][0][:30], blobs["train"][1][:30]
    model = impl.build_mlp((12, 8, 10), seed=0)
    opt = impl.make_optimizer(model, "sgd", lr=0.01)
    before = impl.get_weights(model)
    history = impl.fit(model, opt, (x, y), epochs=1, batch_size=1, progress=False)
    assert np.isfinite(history["train_loss"][0])
    history = impl.fit(model, opt, (x, y), epochs=1, batch_size=1000, progress=False)
    assert np.isfinite(history["train_loss"][0]), "a batch larger than the dataset is just one step"
    assert not same_weights(before, impl.get_weights(model))


class _Terminal(io.StringIO):
    """A stdout that says it is a terminal: the progress display takes its interactive path."""

    def isatty(self):
        return True


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_progress_display_neither_crashes_nor_changes_the_run(impl, blobs, capsys, monkeypatch):
    def run(val, **kwargs):
        model = impl.build_mlp((12, 8, 10), seed=0)
        history = impl.fit(model, impl.make_optimizer(model), blobs["train"], val, epochs=2, batch_size=4, **kwargs)
        history.pop("epoch_seconds", None)
        return impl.get_weights(model), history

    quiet = run(blobs["val"], progress=False)
    logged = run(blobs["val"])                              # progress=True is the default
    log = capsys.readouterr().out
    assert log.strip(), "fit() shows its progress by default (progress=True): it printed nothing"
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    shown = run(blobs["val"])                               # 23 steps per epoch: a display at steps 20 and 23
    shown_without_val = run(None)
    monkeypatch.undo()
    assert terminal.getvalue().strip(), "fit() in a terminal printed nothing"
    for name, (weights, history) in (("printing to a log", logged), ("in a terminal", shown)):
        assert same_weights(weights, quiet[0]) and history == quiet[1], (
            f"fit with its progress display ({name}) trained differently from fit(progress=False): the display "
            f"must only read the loss, never change the run")
    assert shown_without_val[1]["val_loss"] == [] and len(shown_without_val[1]["train_loss"]) == 2


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_progress_log_has_one_line_per_epoch_with_its_losses(impl, blobs, capsys):
    model = impl.build_mlp((12, 8, 10), seed=0)
    history = impl.fit(model, impl.make_optimizer(model), blobs["train"], blobs["val"], epochs=3, batch_size=16)
    lines = [line.strip() for line in capsys.readouterr().out.splitlines() if line.strip().startswith("epoch ")]
    assert len(lines) == 3, (
        f"fit(epochs=3) printing to a log must print one line per epoch starting with 'epoch k/3', got {lines}")
    for k, line in enumerate(lines):
        assert line.startswith(f"epoch {k + 1}/3 "), f"line {k}: {line!r} should start with 'epoch {k + 1}/3' (k from 1)"
        want = f"train loss {history['train_loss'][k]:.4f}"
        assert want in line, f"epoch {k + 1}'s line {line!r} should show {want!r}, the epoch's mean training loss"
        acc = f"val acc {history['val_acc'][k]:.2%}"
        assert acc in line, f"epoch {k + 1}'s line {line!r} should show {acc!r}, the epoch's validation accuracy"


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_fit_keeps_float32_weights(impl, blobs):
    model = impl.build_mlp((12, 16, 10), batchnorm=True, seed=0)
    impl.fit(model, impl.make_optimizer(model, "adamw", weight_decay=0.01), blobs["train"], blobs["val"], epochs=1,
             batch_size=32, progress=False)
    wrong = [str(w.dtype) for w in impl.get_weights(model) if w.dtype != np.float32]
    assert not wrong, f"after fit on float32 data some weights are {wrong}: a float64 array upcast the update"


# ----------------------------------------------------------------------------------------------------
# Task 6: checkpoints
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_a_failed_save_leaves_the_previous_checkpoint_intact(impl, blobs, tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    model = impl.build_mlp((12, 8, 10), seed=0)
    opt = impl.make_optimizer(model)
    impl.save_checkpoint(path, model, opt, 1, {"train_loss": [1.0]})
    good = path.read_bytes()
    impl.fit(model, opt, blobs["train"], epochs=1, batch_size=30, progress=False)

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    monkeypatch.setattr(np, "savez_compressed", disk_full)
    with pytest.raises(OSError):
        impl.save_checkpoint(path, model, opt, 2, {"train_loss": [1.0, 0.5]})
    monkeypatch.undo()
    assert path.read_bytes() == good, "a failed save must not touch the previous checkpoint (write to a temp file, then rename)"
    assert os.listdir(tmp_path) == ["run.npz"], f"temporary files left behind: {os.listdir(tmp_path)}"


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_a_corrupt_checkpoint_is_reported(impl, tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    model = impl.build_mlp((784, 8, 10), seed=0)
    with pytest.raises(ValueError, match="checkpoint"):
        impl.load_checkpoint(path, model, impl.make_optimizer(model))
    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))                       # a valid .npz, but no checkpoint
    with pytest.raises(ValueError, match="checkpoint"):
        impl.load_checkpoint(other, model, impl.make_optimizer(model))


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_save_checkpoint_creates_missing_folders(impl, tmp_path):
    path = tmp_path / "runs" / "mnist" / "last.npz"              # neither folder exists yet
    model = impl.build_mlp((12, 8, 10), seed=0)
    impl.save_checkpoint(path, model, impl.make_optimizer(model), 1, {"train_loss": [1.0]})
    assert path.is_file(), "save_checkpoint to runs/mnist/last.npz must create the missing folders (parents=True)"
    restored = impl.build_mlp((12, 8, 10), seed=1)
    assert impl.load_checkpoint(path, restored)["epoch"] == 1
    assert same_weights(impl.get_weights(restored), impl.get_weights(model))


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_a_checkpoint_holding_pickled_objects_is_refused(impl, tmp_path):
    path = tmp_path / "ckpt.npz"
    model = impl.build_mlp((12, 8, 10), seed=0)
    impl.save_checkpoint(path, model, impl.make_optimizer(model), 1, {"train_loss": [1.0]})
    first_weight = impl.get_weights(model)[0]
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    key = next(k for k, v in arrays.items() if v.shape == first_weight.shape and np.array_equal(v, first_weight))
    arrays[key] = arrays[key].astype(object)                      # stored with pickle: loading it can run code
    np.savez(path, **arrays)
    target = impl.build_mlp((12, 8, 10), seed=1)
    before = impl.get_weights(target)
    with pytest.raises(ValueError, match="checkpoint"):
        impl.load_checkpoint(path, target, impl.make_optimizer(target))
    assert same_weights(impl.get_weights(target), before), "a refused checkpoint still changed the model's weights"


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_a_checkpoint_of_another_model_is_refused(impl, blobs, tmp_path):
    path = tmp_path / "bn.npz"
    source = impl.build_mlp((12, 8, 10), batchnorm=True, seed=0)
    opt = impl.make_optimizer(source)
    impl.fit(source, opt, blobs["train"], epochs=1, batch_size=30, progress=False)
    impl.save_checkpoint(path, source, opt, 1, {"train_loss": [1.0]})
    for sizes, batchnorm in (((12, 9, 10), True), ((12, 8, 10), False), ((12, 8, 11), True)):
        target = impl.build_mlp(sizes, batchnorm=batchnorm, seed=1)
        before = impl.get_weights(target)
        with pytest.raises(ValueError):
            impl.load_checkpoint(path, target)
        assert same_weights(impl.get_weights(target), before), (
            f"loading a checkpoint of another model into {sizes} (batchnorm={batchnorm}) failed, but only after "
            f"changing some weights")
