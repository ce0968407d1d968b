"""Finite differences, gradient checks and the timer: the tools every topic's tests rely on."""

import subprocess
import sys

import numpy as np
import pytest

from dlfs import timer
from dlfs.curriculum import REPO_ROOT
from dlfs.finite_difference_checker import numerical_gradient, numerical_jacobian_vector, relative_error
from dlfs.gradient_check import check_layer, check_model


def test_numerical_gradient_of_known_functions():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(v ** 3), x), 3 * x ** 2, rtol=1e-8)
    np.testing.assert_allclose(numerical_gradient(lambda: np.sum(np.sin(x)), x), np.cos(x), rtol=1e-8)
    assert x[0, 1] == -2.0, "x must be restored after perturbation"


def test_numerical_gradient_refuses_integer_arrays():
    with pytest.raises(TypeError, match="floating-point"):
        numerical_gradient(lambda v: v.sum(), np.arange(3))


def test_jacobian_vector_product_of_a_linear_map():
    rng = np.random.default_rng(0)
    W, x, up = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal(4)
    np.testing.assert_allclose(numerical_jacobian_vector(lambda v: v @ W, x, up), W @ up, rtol=1e-7)


def test_relative_error_measure():
    assert relative_error(np.ones(3), np.ones(3)) == 0.0
    assert relative_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    assert relative_error(np.zeros(0), np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match="shape"):
        relative_error(np.ones(2), np.ones(3))


def _softmax_model():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((6, 4)), np.array([0, 1, 2, 1, 0, 2])
    params = {"W": rng.standard_normal((4, 3)) * 0.5, "b": rng.standard_normal(3) * 0.1}

    def loss_and_grads():
        s = X @ params["W"] + params["b"]
        p = np.exp(s - s.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        d = p.copy()
        d[np.arange(6), y] -= 1
        d /= 6
        return -np.log(p[np.arange(6), y]).mean(), {"W": X.T @ d, "b": d.sum(0)}

    return params, loss_and_grads


def test_check_model_passes_correct_and_flags_wrong_gradients():
    params, loss_and_grads = _softmax_model()
    _, grads = loss_and_grads()
    good = check_model(lambda: loss_and_grads()[0], params, grads)
    assert good.passed and good.worst[1] < 1e-7
    bad = check_model(lambda: loss_and_grads()[0], params, {"W": grads["W"], "b": grads["b"] * 6})
    assert not bad.passed and bad.worst[0] == "b"
    assert "WRONG" in str(bad)


def test_check_model_needs_every_gradient_and_float64():
    params, loss_and_grads = _softmax_model()
    with pytest.raises(KeyError, match="b"):
        check_model(lambda: loss_and_grads()[0], params, {"W": params["W"]})
    params["W"] = params["W"].astype(np.float32)
    with pytest.raises(TypeError, match="float64"):
        check_model(lambda: 0.0, params, {"W": 0, "b": 0})


def test_check_layer_on_a_cs231n_style_linear_layer():
    rng = np.random.default_rng(2)
    x, W, b = rng.standard_normal((4, 5)), rng.standard_normal((5, 3)), rng.standard_normal(3)

    def forward(x, W, b):
        return x @ W + b, (x, W)

    def backward(dout, cache):
        x, W = cache
        return dout @ W.T, x.T @ dout, dout.sum(0)

    assert check_layer(forward, backward, x, W, b).passed

    def backward_wrong(dout, cache):
        x, W = cache
        return dout @ W.T, x.T @ dout, dout.mean(0)

    report = check_layer(forward, backward_wrong, x, W, b)
    assert not report.passed and report.worst[0] == "input2"


def test_timer_measures_and_compares():
    t = timer.measure(sum, range(1000), repeats=3)
    assert t.repeats == 3 and 0 < t.best <= t.median
    ratio, slow, fast = timer.speed_ratio(lambda: sum(range(20000)), lambda: sum(range(200)), repeats=3)
    assert ratio > 5 and slow.median > fast.median
    assert timer.format_seconds(0.5e-3).endswith("us") and timer.format_seconds(2.5) == "2.50 s"
    with pytest.raises(ValueError):
        timer.measure(sum, [], repeats=0)


@pytest.mark.parametrize("script", ["utils/timer.py", "utils/gradient_check.py"])
def test_runnable_examples(script):
    proc = subprocess.run([sys.executable, str(REPO_ROOT / script)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()


def test_autograd_gate_cli_passes_on_the_reference():
    proc = subprocess.run([sys.executable, str(REPO_ROOT / "utils" / "finite_difference_checker.py")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Gate passed" in proc.stdout and "FAIL" not in proc.stdout


def test_write_golden_writes_next_to_the_topics_tests(tmp_path, capsys):
    from dlfs.reference import golden_dir, write_golden

    level4 = tmp_path / "Topic 99" / "solutions" / "level04-pytorch-reference.py"
    paths = write_golden({"tiny": {"x": [[1.0, 2.0]], "label": 3}}, level4)
    assert golden_dir(level4) == tmp_path / "Topic 99" / "tests" / "golden"
    assert paths == [golden_dir(level4) / "tiny.npz"]
    with np.load(paths[0], allow_pickle=False) as data:
        assert data["x"].tolist() == [[1.0, 2.0]] and int(data["label"]) == 3
    assert "tiny.npz" in capsys.readouterr().out


def test_one_torch_thread_restores_the_setting():
    torch = pytest.importorskip("torch", reason="PyTorch not installed: the level-4 helper is not exercised")
    from dlfs.reference import one_torch_thread

    before = torch.get_num_threads()
    with one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
