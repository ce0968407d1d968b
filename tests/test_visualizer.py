"""The network visualizer on a real curriculum model (Topic 06's layers): names, norms and real PNGs."""

import numpy as np
import pytest

from dlfs import visualizer
from dlfs.components import load_topic


def is_png(path, min_bytes=3000):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > min_bytes


@pytest.fixture
def trained_model():
    layers = load_topic(6)
    model = layers.Sequential(layers.Linear(5, 8, rng=0), layers.ReLU(), layers.Linear(8, 3, rng=1))
    x, y = np.random.default_rng(2).standard_normal((16, 5)), np.arange(16) % 3
    for p in model.parameters():
        p.grad[...] = 0
    loss, dlogits = layers.softmax_cross_entropy(model.forward(x), y)
    model.backward(dlogits)
    return model, x


def test_parameters_are_named_after_their_layer_and_attribute(trained_model):
    model, _ = trained_model
    names = [name for name, _ in visualizer.named_parameters(model)]
    assert names == ["0.Linear.weight", "0.Linear.bias", "2.Linear.weight", "2.Linear.bias"]


def test_gradient_norms_are_the_l2_norms_of_the_gradients(trained_model):
    model, _ = trained_model
    norms = visualizer.gradient_norms(model)
    expected = [np.linalg.norm(p.grad) for p in model.parameters()]
    assert np.allclose(list(norms.values()), expected) and all(n > 0 for n in norms.values())


def test_every_plot_writes_a_real_png(trained_model, tmp_path):
    model, x = trained_model
    paths = [visualizer.plot_distributions(model, tmp_path / "w.png"),
             visualizer.plot_distributions(model, tmp_path / "g.png", which="grad"),
             visualizer.plot_gradient_flow(model, tmp_path / "flow.png"),
             visualizer.plot_learning_curves({"train_loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.5],
                                              "val_acc": [0.5, 0.7, 0.8]}, tmp_path / "curves.png"),
             visualizer.plot_activation_maps(np.random.default_rng(0).random((2, 6, 9, 9)), tmp_path / "maps.png")]
    assert all(is_png(p) for p in paths), [p.name for p in paths if not is_png(p)]


def test_activations_are_captured_layer_by_layer(trained_model):
    model, x = trained_model
    acts = visualizer.capture_activations(model, x)
    assert [name for name, _ in acts] == ["0.Linear", "1.ReLU", "2.Linear"]
    assert np.allclose(acts[-1][1], model.forward(x)) and (acts[1][1] >= 0).all()


def test_bad_input_is_a_clear_error(trained_model, tmp_path):
    model, _ = trained_model
    with pytest.raises(ValueError, match="'data' or 'grad'"):
        visualizer.plot_distributions(model, tmp_path / "x.png", which="weights")
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        visualizer.plot_activation_maps(np.zeros((4, 5)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="out of range"):
        visualizer.plot_activation_maps(np.zeros((2, 3, 4, 4)), tmp_path / "x.png", sample=2)
    with pytest.raises(ValueError, match="no \\*_loss"):
        visualizer.plot_learning_curves({"lr": [0.1]}, tmp_path / "x.png")
    model.layers[0].weight.grad = None
    with pytest.raises(ValueError, match="no gradient"):
        visualizer.gradient_norms(model)
