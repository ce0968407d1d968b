"""Topic 10 edge cases: bad data, odd batch sizes, modes, and checkpoints that are never half-written."""

import os

import numpy as np
import pytest


@pytest.mark.edge
@pytest.mark.hint(2)
def test_nan_inputs_stop_training_with_a_clear_error(impl, small):
    x, y = small["train"][0][:200].copy(), small["train"][1][:200]
    x[37, 5] = np.nan
    model = impl.build_mlp((784, 16, 10), seed=0)
    with pytest.raises(FloatingPointError, match="(?i)nan|finite"):
        impl.fit(model, impl.make_optimizer(model), (x, y), epochs=1, batch_size=50, progress=False)


@pytest.mark.edge
@pytest.mark.hint(2)
def test_bad_training_sets_are_rejected(impl, small):
    model = impl.build_mlp((784, 16, 10), seed=0)
    opt = impl.make_optimizer(model)
    x, y = small["train"]
    with pytest.raises(ValueError, match="empty"):
        impl.fit(model, opt, (x[:0], y[:0]), epochs=1, progress=False)
    with pytest.raises(ValueError):
        impl.fit(model, opt, (x[:10], y[:9]), epochs=1, progress=False)
    with pytest.raises(ValueError):
        impl.fit(model, opt, (x[:10], y[:10]), epochs=1, batch_size=0, progress=False)
    with pytest.raises(ValueError):
        impl.evaluate(model, x[:0], y[:0])
    with pytest.raises(ValueError):
        impl.make_optimizer(model, "adagrad-typo")


@pytest.mark.edge
@pytest.mark.hint(2)
def test_batch_size_one_and_batch_larger_than_the_data(impl, small):
    x, y = small["train"][0][:30], small["train"][1][:30]
    model = impl.build_mlp((784, 8, 10), seed=0)
    opt = impl.make_optimizer(model, "sgd", lr=0.01)
    before = [w.copy() for w in impl.get_weights(model)]
    history = impl.fit(model, opt, (x, y), epochs=1, batch_size=1, progress=False)
    assert np.isfinite(history["train_loss"][0])
    history = impl.fit(model, opt, (x, y), epochs=1, batch_size=1000, progress=False)
    assert np.isfinite(history["train_loss"][0]), "a batch larger than the dataset is just one step"
    assert any(not np.array_equal(a, b) for a, b in zip(before, impl.get_weights(model)))


@pytest.mark.edge
@pytest.mark.hint(2)
def test_evaluation_is_in_eval_mode_and_restores_the_mode(impl, small):
    model = impl.build_mlp((784, 64, 10), dropout=0.5, batchnorm=True, seed=0)
    x, y = small["val"]
    impl.fit(model, impl.make_optimizer(model), small["train"], epochs=1, batch_size=100, progress=False)
    first = impl.predict(model, x)
    again = impl.predict(model, x)
    assert np.array_equal(first, again), "predictions change between calls: dropout or batch statistics active in eval?"
    one_by_one = np.concatenate([impl.predict(model, x[i:i + 1]) for i in range(20)])
    assert np.array_equal(one_by_one, first[:20]), "in eval mode a sample's prediction must not depend on its batch"
    assert model.training if hasattr(model, "training") else True, "evaluate/predict must restore training mode"


@pytest.mark.edge
@pytest.mark.hint(4)
def test_set_weights_refuses_wrong_shapes(impl):
    model = impl.build_mlp((784, 16, 10), seed=0)
    weights = impl.get_weights(model)
    with pytest.raises(ValueError):
        impl.set_weights(model, weights[:-1])
    with pytest.raises(ValueError):
        impl.set_weights(model, [w.T if w.ndim == 2 else w for w in weights])


@pytest.mark.edge
@pytest.mark.hint(4)
def test_a_failed_save_leaves_the_previous_checkpoint_intact(impl, small, tmp_path, monkeypatch):
    path = tmp_path / "run.npz"
    model = impl.build_mlp((784, 8, 10), seed=0)
    opt = impl.make_optimizer(model)
    impl.save_checkpoint(path, model, opt, 1, {"train_loss": [1.0]})
    good = path.read_bytes()
    impl.fit(model, opt, small["train"], epochs=1, batch_size=100, progress=False)

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
def test_a_corrupt_checkpoint_is_reported(impl, tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(b"PK\x03\x04 this is not a checkpoint")
    model = impl.build_mlp((784, 8, 10), seed=0)
    with pytest.raises(ValueError, match="checkpoint"):
        impl.load_checkpoint(path, model, impl.make_optimizer(model))
