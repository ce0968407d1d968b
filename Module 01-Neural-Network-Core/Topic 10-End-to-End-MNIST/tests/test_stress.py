"""Topic 10 under load: determinism, exact resume, bigger runs, and speed against the reference."""

import numpy as np
import pytest


def _train(impl, small, seed, epochs=1, dropout=0.0):
    model = impl.build_mlp((784, 32, 10), dropout=dropout, seed=seed)
    opt = impl.make_optimizer(model, "adam", lr=1e-3)
    history = impl.fit(model, opt, small["train"], small["val"], epochs=epochs, batch_size=100, seed=seed,
                       progress=False)
    return impl.get_weights(model), history


@pytest.mark.determinism
@pytest.mark.hint(3)
def test_same_seed_same_model_different_seed_different_model(impl, small):
    w1, h1 = _train(impl, small, seed=3)
    w2, h2 = _train(impl, small, seed=3)
    w3, _ = _train(impl, small, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2)), "the same seed must give bit-identical weights"
    assert h1["train_loss"] == h2["train_loss"]
    assert not all(np.array_equal(a, b) for a, b in zip(w1, w3)), "a different seed must change the run"


@pytest.mark.determinism
@pytest.mark.hint(4)
def test_resume_from_a_checkpoint_is_exact(impl, small, tmp_path):
    """3 epochs in one go == 2 epochs, save, fresh objects, load, 1 more epoch (dropout included)."""
    straight, history = _train(impl, small, seed=5, epochs=3, dropout=0.2)

    path = tmp_path / "ckpt.npz"
    model = impl.build_mlp((784, 32, 10), dropout=0.2, seed=5)
    opt = impl.make_optimizer(model, "adam", lr=1e-3)
    impl.fit(model, opt, small["train"], small["val"], epochs=2, batch_size=100, seed=5, checkpoint_path=path,
             progress=False)
    model = impl.build_mlp((784, 32, 10), dropout=0.2, seed=99)  # different init: everything must come from the file
    opt = impl.make_optimizer(model, "adam", lr=1e-3)
    state = impl.load_checkpoint(path, model, opt)
    assert state["epoch"] == 2
    resumed_history = impl.fit(model, opt, small["train"], small["val"], epochs=3, batch_size=100, seed=5,
                               start_epoch=state["epoch"], history=state["history"], progress=False)
    resumed = impl.get_weights(model)
    for a, b in zip(straight, resumed):
        assert np.array_equal(a, b), ("resumed weights differ from an uninterrupted run: save the optimizer state "
                                      "(Adam's moments and step), the dropout RNG, and shuffle by (seed, epoch)")
    assert resumed_history["train_loss"] == pytest.approx(history["train_loss"], rel=1e-12)


@pytest.mark.value
@pytest.mark.hint(3)
def test_ten_thousand_samples_one_epoch(impl, mnist_arrays):
    x_train, y_train, x_test, y_test = mnist_arrays
    x, mean, std = impl.normalize_images(x_train[:10000])
    xt, _, _ = impl.normalize_images(x_test[:2000], mean, std)
    model = impl.build_mlp((784, 128, 10), seed=0)
    impl.fit(model, impl.make_optimizer(model, "adam", lr=1e-3), (x, y_train[:10000].astype(np.int64)), epochs=1,
             batch_size=64, progress=False)
    _, acc = impl.evaluate(model, xt, y_test[:2000].astype(np.int64))
    assert acc >= 0.86, f"one epoch on 10,000 digits reaches about 89% on these test digits, got {acc:.1%}"


@pytest.mark.performance
@pytest.mark.hint(3)
def test_epoch_speed_against_the_reference(impl, reference, small, compare_speed):
    def one_epoch(module):
        def run():
            model = module.build_mlp((784, 128, 10), seed=0)
            module.fit(model, module.make_optimizer(model), small["train"], epochs=1, batch_size=64, progress=False)
            return model
        return run

    compare_speed(one_epoch(impl), one_epoch(reference), threshold=2.0)
    loss_impl, _ = impl.evaluate(one_epoch(impl)(), *small["val"])
    loss_ref, _ = reference.evaluate(one_epoch(reference)(), *small["val"])
    assert loss_impl == pytest.approx(loss_ref, rel=0.02), (
        f"the same epoch gives validation loss {loss_impl:.4f} here and {loss_ref:.4f} in the reference")
