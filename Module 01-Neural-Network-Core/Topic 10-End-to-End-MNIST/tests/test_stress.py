"""Topic 10 under load: determinism (each seed on its own), exact resume, bigger runs, and speed."""

import numpy as np
import pytest


def _train(impl, data, seed, epochs=1, dropout=0.0, sizes=(784, 32, 10), fit_seed=None, **fit_kwargs):
    model = impl.build_mlp(sizes, dropout=dropout, seed=seed)
    opt = impl.make_optimizer(model, "adam", lr=1e-3)
    history = impl.fit(model, opt, data["train"], data["val"], epochs=epochs, batch_size=100,
                       seed=seed if fit_seed is None else fit_seed, progress=False, **fit_kwargs)
    return impl.get_weights(model), history


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(p, q) for p, q in zip(a, b))


# ----------------------------------------------------------------------------------------------------
# Determinism: the same seeds give bit-identical runs; the init seed and the shuffle seed act separately
# ----------------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(3)
@pytest.mark.task(5)
def test_same_seed_same_model_different_seed_different_model(impl, blobs):
    sizes = (12, 16, 10)
    w1, h1 = _train(impl, blobs, seed=3, sizes=sizes, dropout=0.2, epochs=2)
    w2, h2 = _train(impl, blobs, seed=3, sizes=sizes, dropout=0.2, epochs=2)
    w3, _ = _train(impl, blobs, seed=4, sizes=sizes, dropout=0.2, epochs=2)
    assert same(w1, w2), "the same seed must give bit-identical weights"
    assert h1["train_loss"] == h2["train_loss"]
    assert not same(w1, w3), "a different seed must change the run"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_the_shuffle_seed_and_the_init_seed_act_separately(impl, blobs):
    sizes = (12, 16, 10)
    base, _ = _train(impl, blobs, seed=1, fit_seed=2, sizes=sizes, epochs=2)
    again, _ = _train(impl, blobs, seed=1, fit_seed=2, sizes=sizes, epochs=2)
    assert same(base, again), "init seed 1 and shuffle seed 2, twice: the weights must be bit-identical"
    other_shuffle, _ = _train(impl, blobs, seed=1, fit_seed=3, sizes=sizes, epochs=2)
    assert not same(base, other_shuffle), (
        "fit(seed=2) and fit(seed=3) from the same initial weights gave the same model: fit must shuffle with ITS "
        "seed (BatchIterator(x, y, batch_size, seed=seed))")
    other_init, _ = _train(impl, blobs, seed=4, fit_seed=2, sizes=sizes, epochs=2)
    assert not same(base, other_init), "build_mlp(seed=1) and build_mlp(seed=4) trained alike: use build_mlp's seed"
    first = impl.get_weights(impl.build_mlp(sizes, seed=1))
    second = impl.get_weights(impl.build_mlp(sizes, seed=1))
    assert same(first, second), "build_mlp with the same seed must give the same initial weights"


@pytest.mark.determinism
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_validation_does_not_change_training(impl, blobs):
    """Evaluating between epochs (eval mode: no dropout draw, no running-statistics update) leaves training as is."""
    def run(val):
        model = impl.build_mlp((12, 16, 10), dropout=0.3, batchnorm=True, seed=0)
        impl.fit(model, impl.make_optimizer(model, "adam", lr=1e-2), blobs["train"], val, epochs=3, batch_size=32,
                 seed=0, progress=False)
        return impl.get_weights(model)

    assert same(run(blobs["val"]), run(None)), (
        "training with a validation set gave other weights than training without one: the evaluation between "
        "epochs changed the model's state (dropout drew random numbers, or BatchNorm updated its running "
        "statistics, in eval mode), or fit did not switch back to train mode")


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(6)
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


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(6)
@pytest.mark.parametrize("name", ["sgd", "adamw"])
def test_resume_is_exact_with_batchnorm_and_every_optimizer(impl, blobs, tmp_path, name):
    """BatchNorm's running statistics and SGD's momentum buffers (or AdamW's moments) belong in the checkpoint."""
    def new():
        model = impl.build_mlp((12, 16, 10), dropout=0.25, batchnorm=True, seed=6)
        return model, impl.make_optimizer(model, name, lr=0.05 if name == "sgd" else 1e-2, weight_decay=0.01)

    model, opt = new()
    impl.fit(model, opt, blobs["train"], blobs["val"], epochs=3, batch_size=32, seed=6, progress=False)
    straight = impl.get_weights(model)

    path = tmp_path / "ckpt.npz"
    model, opt = new()
    impl.fit(model, opt, blobs["train"], blobs["val"], epochs=1, batch_size=32, seed=6, checkpoint_path=path,
             progress=False)
    saved = impl.get_weights(model)
    model, opt = new()
    state = impl.load_checkpoint(path, model, opt)
    assert state["epoch"] == 1 and len(state["history"]["train_loss"]) == 1, (
        f"the checkpoint of epoch 1 came back as epoch {state['epoch']} with history {state['history']}")
    assert same(impl.get_weights(model), saved), (
        "load_checkpoint did not restore every array get_weights returns (BatchNorm running statistics included)")
    impl.fit(model, opt, blobs["train"], blobs["val"], epochs=3, start_epoch=1, history=state["history"],
             batch_size=32, seed=6, progress=False)
    resumed = impl.get_weights(model)
    for k, (a, b) in enumerate(zip(straight, resumed)):
        assert np.array_equal(a, b), (
            f"{name}: array {k} after resuming differs from the uninterrupted run: the checkpoint must hold the "
            f"running statistics, the optimizer's buffers{' (momentum)' if name == 'sgd' else ' (moments, step)'} "
            f"and the dropout generator")


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_checkpoints_record_each_epoch_without_changing_the_run(impl, blobs, tmp_path):
    path = tmp_path / "every-epoch.npz"

    def run(checkpoint_path):
        model = impl.build_mlp((12, 16, 10), dropout=0.25, batchnorm=True, seed=2)
        history = impl.fit(model, impl.make_optimizer(model, "adam", lr=1e-2), blobs["train"], blobs["val"],
                           epochs=2, batch_size=32, seed=2, checkpoint_path=checkpoint_path, progress=False)
        return model, history

    plain, _ = run(None)
    saved, history = run(path)
    assert same(impl.get_weights(plain), impl.get_weights(saved)), (
        "writing checkpoints changed the training run (saving must only READ the state, e.g. the generator's "
        "bit_generator.state, never draw from it)")
    restored = impl.build_mlp((12, 16, 10), dropout=0.25, batchnorm=True, seed=3)
    state = impl.load_checkpoint(path, restored)
    assert state["epoch"] == 2, f"after 2 epochs the checkpoint says epoch {state['epoch']}"
    assert state["history"] == history, "the history stored in the checkpoint differs from the one fit returned"
    assert same(impl.get_weights(restored), impl.get_weights(saved)), (
        "load_checkpoint(path, model) without an optimizer must still restore every weight and running statistic")


# ----------------------------------------------------------------------------------------------------
# A bigger run, and speed
# ----------------------------------------------------------------------------------------------------

@pytest.mark.value
@pytest.mark.hint(3)
@pytest.mark.task(5)
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
@pytest.mark.task(5)
def test_epoch_speed_against_the_reference(impl, reference, small, compare_speed):
    def one_epoch(module):
        def run():
            model = module.build_mlp((784, 128, 10), seed=0)
            module.fit(model, module.make_optimizer(model), small["train"], epochs=1, batch_size=64, progress=False)
        return run

    compare_speed(one_epoch(impl), one_epoch(reference), threshold=2.0)
