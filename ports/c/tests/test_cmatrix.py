"""The C matrix library against NumPy (1e-5), its error handling, and MNIST inference in C.

Every function is compared with NumPy on random float32 matrices, including shapes that are not
multiples of the 64-wide block, single rows and columns, and empty matrices. Bad input must raise a
clear Python exception, never crash or read out of bounds (.ci/run runs this file once under
AddressSanitizer).
"""

import numpy as np
import pytest

SHAPES = [(1, 1), (3, 5), (64, 64), (65, 127), (130, 7)]


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
@pytest.mark.parametrize("name,numpy_op", [("add", np.add), ("sub", np.subtract), ("mul", np.multiply)])
def test_elementwise_matches_numpy(cmatrix, name, numpy_op, shape):
    a, b = rand(*shape, seed=1), rand(*shape, seed=2)
    out = getattr(cmatrix, name)(a, b)
    assert out.dtype == np.float32 and out.shape == shape
    np.testing.assert_allclose(out, numpy_op(a, b), rtol=1e-5, atol=1e-6)


MATMUL_SHAPES = [(1, 1, 1), (2, 3, 4), (64, 64, 64), (65, 130, 67), (1, 200, 1), (100, 1, 100)]


@pytest.mark.parametrize("m,k,n", MATMUL_SHAPES, ids=[f"{m}x{k}x{n}" for m, k, n in MATMUL_SHAPES])
@pytest.mark.parametrize("name", ["matmul", "matmul_naive"])
def test_matmul_matches_numpy(cmatrix, name, m, k, n):
    a, b = rand(m, k, seed=3), rand(k, n, seed=4)
    out = getattr(cmatrix, name)(a, b)
    assert out.dtype == np.float32 and out.shape == (m, n)
    expected = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5 * np.sqrt(k))


def test_blocked_and_naive_agree_and_inputs_are_untouched(cmatrix):
    a, b = rand(97, 150, seed=5), rand(150, 71, seed=6)
    a0, b0 = a.copy(), b.copy()
    np.testing.assert_allclose(cmatrix.matmul(a, b), cmatrix.matmul_naive(a, b), rtol=1e-5, atol=1e-4)
    assert np.array_equal(a, a0) and np.array_equal(b, b0), "the inputs must not be written to"


@pytest.mark.parametrize("shape", SHAPES, ids=[f"{r}x{c}" for r, c in SHAPES])
def test_transpose_matches_numpy(cmatrix, shape):
    a = rand(*shape, seed=7)
    out = cmatrix.transpose(a)
    assert out.shape == shape[::-1] and out.flags.c_contiguous
    assert np.array_equal(out, a.T)


@pytest.mark.parametrize("name,reference", [
    ("relu", lambda x: np.maximum(x, 0)), ("sigmoid", lambda x: 1 / (1 + np.exp(-x.astype(np.float64)))),
    ("tanh", np.tanh), ("exp", np.exp)])
def test_apply_matches_numpy(cmatrix, name, reference):
    a = rand(33, 17, seed=8) * 3
    np.testing.assert_allclose(cmatrix.apply(a, name), reference(a), rtol=1e-5, atol=1e-6)


def test_sigmoid_is_finite_for_extreme_values(cmatrix):
    x = np.array([[-1e4, -100.0, 0.0, 100.0, 1e4]], dtype=np.float32)
    out = cmatrix.apply(x, "sigmoid")
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, [[0.0, 0.0, 0.5, 1.0, 1.0]], atol=1e-30)


def test_empty_matrices(cmatrix):
    a, b = np.zeros((0, 3), np.float32), np.zeros((3, 4), np.float32)
    assert cmatrix.matmul(a, b).shape == (0, 4)
    assert cmatrix.add(a, a).shape == (0, 3)
    assert cmatrix.transpose(a).shape == (3, 0)
    assert np.array_equal(cmatrix.matmul(np.zeros((2, 0), np.float32), np.zeros((0, 5), np.float32)),
                          np.zeros((2, 5), np.float32)), "a sum over zero terms is zero"


def test_any_buffer_exporter_works_without_conversion(cmatrix):
    a = rand(4, 6, seed=9)
    view = memoryview(a)  # not an ndarray, but a float32 2-D buffer
    np.testing.assert_allclose(cmatrix.add(view, view), a + a, rtol=1e-6)


@pytest.mark.parametrize("bad,error,match", [
    (np.zeros((3, 3), np.float64), TypeError, "float32"),
    (np.zeros((3, 3), np.int32), TypeError, "float32"),
    (np.zeros(9, np.float32), ValueError, "2-D"),
    (np.zeros((3, 3, 1), np.float32), ValueError, "2-D"),
    (np.zeros((6, 6), np.float32)[::2, ::2], ValueError, "C-contiguous"),
    (np.zeros((3, 4), np.float32).T, ValueError, "C-contiguous"),
    ([[1.0, 2.0], [3.0, 4.0]], TypeError, "buffer"),
    ("abc", TypeError, "buffer"),
], ids=["float64", "int32", "1-D", "3-D", "strided", "transposed", "list", "str"])
def test_bad_input_raises_a_clear_error(cmatrix, bad, error, match):
    with pytest.raises(error, match=match):
        cmatrix.transpose(bad)
    with pytest.raises(error, match=match):
        cmatrix.matmul(bad, np.zeros((3, 3), np.float32))


def test_shape_mismatches_raise(cmatrix):
    with pytest.raises(ValueError, match="equal shapes"):
        cmatrix.add(rand(2, 3), rand(3, 2))
    with pytest.raises(ValueError, match="equal shapes"):
        cmatrix.mul(rand(2, 3), rand(1, 3))  # no silent broadcasting
    with pytest.raises(ValueError, match="columns must equal"):
        cmatrix.matmul(rand(2, 3), rand(4, 2))
    with pytest.raises(ValueError, match="unknown function"):
        cmatrix.apply(rand(2, 2), "softmax")
    with pytest.raises(TypeError):
        cmatrix.add(rand(2, 2))


def test_mlp_predict_checks_its_layers(cmatrix):
    x = rand(5, 4)
    with pytest.raises(ValueError, match="same, non-zero length"):
        cmatrix.mlp_predict(x, [rand(4, 3)], [])
    with pytest.raises(ValueError, match="do not follow"):
        cmatrix.mlp_predict(x, [rand(3, 3)], [rand(3)])
    with pytest.raises(ValueError, match="do not follow"):
        cmatrix.mlp_predict(x, [rand(4, 3)], [rand(2)])
    with pytest.raises(ValueError, match="1-D"):
        cmatrix.mlp_predict(x, [rand(4, 3)], [rand(1, 3)])


def test_mlp_predict_matches_numpy_on_random_weights(cmatrix):
    x = rand(50, 20, seed=10)
    weights, biases = [rand(20, 16, seed=11), rand(16, 3, seed=12)], [rand(16, seed=13), rand(3, seed=14)]
    hidden = np.maximum(x @ weights[0] + biases[0], 0)
    expected = np.argmax(hidden @ weights[1] + biases[1], axis=1)
    pred = cmatrix.mlp_predict(x, weights, biases)
    assert pred.dtype == np.int64 and np.array_equal(pred, expected)


@pytest.mark.data("mnist")
def test_topic10_mnist_model_gives_the_same_predictions_in_c_on_the_whole_test_set(cmatrix):
    from dlfs.components import load_topic
    from dlfs.datasets import load_mnist

    mnist = load_topic(10)
    data = mnist.load_data(subset=5000, val_size=1000, seed=0)
    model = mnist.build_mlp((784, 128, 64, 10), seed=0)
    optimizer = mnist.make_optimizer(model, "adam", lr=1e-3)
    mnist.fit(model, optimizer, data["train"], epochs=1, batch_size=128, seed=0, progress=False)
    _, _, test_images, test_labels = load_mnist()  # all 10,000, normalised with the training statistics
    x_test = mnist.normalize_images(test_images, data["mean"], data["std"])[0]
    y_test = test_labels.astype(np.int64)
    linears = [layer for layer in model.layers if hasattr(layer, "weight")]
    weights = [np.ascontiguousarray(layer.weight.data, dtype=np.float32) for layer in linears]
    biases = [np.ascontiguousarray(layer.bias.data, dtype=np.float32) for layer in linears]
    python_pred = mnist.predict(model, x_test)
    c_pred = cmatrix.mlp_predict(np.ascontiguousarray(x_test, dtype=np.float32), weights, biases)
    assert len(c_pred) == 10_000
    differ = int((c_pred != python_pred).sum())
    assert differ == 0, f"{differ} of 10,000 predictions differ between C and NumPy"
    accuracy = float((c_pred == y_test).mean())
    assert accuracy > 0.85, f"{accuracy:.2%}: one epoch on 4,000 images should already pass 85 %"
