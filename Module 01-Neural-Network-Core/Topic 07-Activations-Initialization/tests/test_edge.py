"""Topic 07 edge tests: huge inputs without overflow warnings, empty and 0-d arrays, NaN and infinities,
integer input, float32 layers, inputs never modified, and clear errors for bad arguments."""

import warnings

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close, assert_shape

# every elementwise function of the topic, with its keyword arguments
FUNCTIONS = [("relu", {}), ("relu_grad", {}), ("leaky_relu", {"negative_slope": 0.2}),
             ("leaky_relu_grad", {"negative_slope": 0.2}), ("elu", {"alpha": 1.3}), ("elu_grad", {"alpha": 1.3}),
             ("silu", {}), ("silu_grad", {}), ("swish", {"beta": 1.5}), ("swish_grad", {"beta": 1.5}),
             ("gelu", {}), ("gelu_grad", {}), ("gelu", {"approximate": "tanh"}),
             ("gelu_grad", {"approximate": "tanh"}), ("erf", {})]
IDS = [name + "".join(f"-{v}" for v in kwargs.values()) for name, kwargs in FUNCTIONS]
TASK_OF = {"relu": 1, "leaky_relu": 2, "elu": 3, "silu": 4, "swish": 4, "gelu": 5, "erf": 5}  # its ## Task n
# FUNCTIONS as parametrize cases, each marked with the task of its function (a derivative: that of its function)
FUNCTION_CASES = [pytest.param(name, kwargs, id=label, marks=pytest.mark.task(TASK_OF[name.removesuffix("_grad")]))
                  for (name, kwargs), label in zip(FUNCTIONS, IDS)]


def layers(impl):
    return [impl.LeakyReLU(0.2), impl.ELU(1.3), impl.SiLU(), impl.GELU(), impl.GELU("tanh")]


# ----------------------------------------------------------------------------------------------------------
# Huge inputs: finite results, no overflow / invalid warnings (underflow to 0 is the right answer, allowed)
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
def test_large_inputs_finite_without_warnings(impl, dtype):
    x = np.array([-1000.0, -100.0, -50.0, 50.0, 100.0, 1000.0], dtype=dtype)
    results = {}
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")        # an overflow RuntimeWarning (or FloatingPointError) fails the test
        for (name, kwargs), label in zip(FUNCTIONS, IDS):
            results[label] = as_array(getattr(impl, name)(x, **kwargs))
        for layer in layers(impl):
            out = as_array(layer.forward(x)).copy()
            dx = as_array(layer.backward(np.ones_like(x)))
            assert_all_finite(out, f"{layer!r}.forward at +-1000")
            assert_all_finite(dx, f"{layer!r}.backward at +-1000")
    for label, out in results.items():
        assert out.dtype == dtype, f"{label} of {np.dtype(dtype).name} input returned {out.dtype}"
        assert_all_finite(out, f"{label} at x = +-50, +-100, +-1000 ({np.dtype(dtype).name}): exp(1000) overflows; "
                               f"only ever exponentiate -|x| (stable sigmoid) or min(x, 0)")
    for label in ("silu", "swish-1.5", "gelu", "gelu-tanh"):
        assert_close(results[label], [0, 0, 0, 50, 100, 1000], atol=1e-6, rtol=1e-6,
                     what=f"{label} at large |x|: ~0 on the left, x on the right")
    for label in ("silu_grad", "swish_grad-1.5", "gelu_grad", "gelu_grad-tanh", "elu_grad-1.3"):
        assert_close(results[label], [0, 0, 0, 1, 1, 1], atol=1e-6, what=f"{label} at large |x|: 0 on the left, 1 on the right")
    assert_close(results["elu-1.3"], [-1.3, -1.3, -1.3, 50, 100, 1000], rtol=1e-6, what="elu(alpha=1.3) saturates at -alpha")
    assert_close(results["erf"], [-1, -1, -1, 1, 1, 1], rtol=1e-7, what="erf at large |x|")


# ----------------------------------------------------------------------------------------------------------
# Empty, 0-d and integer input
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("name,kwargs", FUNCTION_CASES)
def test_empty_arrays(impl, name, kwargs):
    for shape in ((0,), (0, 5)):
        out = as_array(getattr(impl, name)(np.zeros(shape), **kwargs))
        assert_shape(out, shape, f"{name} of an empty {shape} array")
        assert out.dtype == np.float64, f"{name} of an empty float64 array returned {out.dtype}"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_empty_batch_through_layers(impl):
    for layer in layers(impl):
        assert_shape(layer.forward(np.zeros((0, 5))), (0, 5), f"{layer!r}.forward of an empty batch")
        assert_shape(layer.backward(np.zeros((0, 5))), (0, 5), f"{layer!r}.backward of an empty batch")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("name,kwargs", FUNCTION_CASES)
def test_scalars_and_0d_arrays(impl, name, kwargs):
    fn = getattr(impl, name)
    for value in (-1.5, 0.7):
        from_scalar = as_array(fn(value, **kwargs))
        assert from_scalar.shape == (), f"{name}({value}) must be a scalar (shape ()), got shape {from_scalar.shape}"
        assert_close(from_scalar, as_array(fn(np.array([value]), **kwargs))[0], rtol=1e-12,
                     what=f"{name}({value}) vs {name}([{value}])[0]")
    out32 = np.asarray(fn(np.float32(0.7), **kwargs))     # a NumPy scalar keeps its dtype here
    assert out32.shape == () and out32.dtype == np.float32, f"{name}(np.float32(0.7)) gave {out32.dtype} {out32.shape}"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.parametrize("name,kwargs", FUNCTION_CASES)
def test_integer_input_gives_float_output(impl, name, kwargs):
    ints = np.array([-3, -1, 0, 2, 5])
    out = as_array(getattr(impl, name)(ints, **kwargs))
    assert out.dtype.kind == "f", f"{name} of integer input returned {out.dtype}: activations are real-valued"
    assert_close(out, as_array(getattr(impl, name)(ints.astype(np.float64), **kwargs)), rtol=1e-12,
                 what=f"{name} of int vs float64 input")


# ----------------------------------------------------------------------------------------------------------
# NaN and infinities
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.parametrize("name,kwargs", FUNCTION_CASES)
def test_nan_stays_where_it_is(impl, name, kwargs):
    x = np.array([1.0, np.nan, -1.0, 0.5])
    out = as_array(getattr(impl, name)(x, **kwargs))
    assert np.isfinite(out[[0, 2, 3]]).all(), f"{name}: a NaN in one element leaked into the others: {out}"
    if not name.endswith("_grad"):       # the derivative at NaN is not specified (PyTorch: relu'(NaN) = 1)
        assert np.isnan(out[1]), f"{name}(NaN) must be NaN, got {out[1]} (a hidden NaN is a bug you never find)"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_nan_propagates_through_layers(impl):
    x = np.array([[1.0, np.nan, -1.0]])
    for layer in layers(impl):
        out = as_array(layer.forward(x))
        assert np.isnan(out[0, 1]) and np.isfinite(out[0, [0, 2]]).all(), f"{layer!r}.forward of [1, NaN, -1]: {out}"


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_infinities(impl):
    x = np.array([-np.inf, np.inf])
    assert_close(impl.relu(x), [0.0, np.inf], what="relu(+-inf)")
    assert_close(impl.relu_grad(x), [0.0, 1.0], what="relu_grad(+-inf)")
    assert_close(impl.leaky_relu(x, 0.2), [-np.inf, np.inf], what="leaky_relu(+-inf)")
    assert_close(impl.leaky_relu_grad(x, 0.2), [0.2, 1.0], what="leaky_relu_grad(+-inf)")
    assert_close(impl.elu(x, 1.3), [-1.3, np.inf], what="elu(+-inf, alpha=1.3)")
    assert_close(impl.elu_grad(x, 1.3), [0.0, 1.0], what="elu_grad(+-inf, alpha=1.3)")
    assert_close(impl.erf(x), [-1.0, 1.0], what="erf(+-inf)")
    for name in ("silu", "gelu"):
        assert as_array(getattr(impl, name)(np.array([np.inf])))[0] == np.inf, f"{name}(+inf) = +inf"


# ----------------------------------------------------------------------------------------------------------
# dtypes, inputs not modified, errors
# ----------------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_layers_keep_float32(impl):
    x = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    for layer in layers(impl):
        out = as_array(layer.forward(x))
        dx = as_array(layer.backward(np.ones_like(x)))
        assert out.dtype == np.float32 and dx.dtype == np.float32, (
            f"{layer!r}: float32 in gave {out.dtype} out and {dx.dtype} dx (Topic 10 trains in float32)")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(6)
def test_inputs_not_modified(impl):
    x = np.random.default_rng(1).standard_normal((4, 6)) * 3
    for dtype in (np.float64, np.float32):
        xd = x.astype(dtype)
        before = xd.copy()
        for name, kwargs in FUNCTIONS:
            getattr(impl, name)(xd, **kwargs)
            assert np.array_equal(xd, before), f"{name} modified its input in place: work in an array you allocated"
        for layer in layers(impl):
            layer.forward(xd)
            dout = np.ones_like(xd)
            layer.backward(dout)
            assert np.array_equal(xd, before), f"{layer!r} modified its input x in forward or backward"
            assert np.array_equal(dout, np.ones_like(xd)), f"{layer!r}.backward modified dout in place"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_layer_errors_are_clear(impl):
    for layer in layers(impl):
        with pytest.raises(RuntimeError):
            layer.backward(np.ones((2, 3)))          # no forward yet: nothing cached
        layer.forward(np.ones((2, 3)))
        with pytest.raises(ValueError):
            layer.backward(np.ones((3, 2)))          # dout must have the shape of x, never broadcast


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(6)
def test_gelu_rejects_unknown_approximate(impl):
    with pytest.raises(ValueError):
        impl.gelu(np.ones(3), approximate="tahn")
    with pytest.raises(ValueError):
        impl.gelu_grad(np.ones(3), approximate="fast")
    with pytest.raises(ValueError):
        impl.GELU(approximate="erf")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(7)
def test_dead_neuron_input_checks_and_nan(impl):
    for bad in (np.zeros(5), np.zeros((2, 3, 4)), np.zeros((0, 4))):
        with pytest.raises(ValueError):
            impl.find_dead_neurons(bad)              # (N, H) with N >= 1 only
        with pytest.raises(ValueError):
            impl.dead_neuron_fraction(bad)
    a = np.array([[0.0, 0.0], [np.nan, 0.0], [0.0, 0.0]])
    assert as_array(impl.find_dead_neurons(a)).tolist() == [False, True], (
        "NaN is not <= 0: a unit that produced a NaN is broken, not dead")
    one = np.array([[0.0, 1.0, -2.0]])
    assert as_array(impl.find_dead_neurons(one)).tolist() == [True, False, True], "a batch of one sample"


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(8)
def test_statistics_reject_bad_configurations(impl):
    x = np.ones((4, 6))
    for args in (([6, 5], "softplus", "kaiming"), ([6, 5], "relu", "orthogonal"), ([6, 5], "relu", -1.0),
                 ([7, 5], "relu", "kaiming"), ([6], "relu", "kaiming")):
        with pytest.raises(ValueError):
            impl.forward_activations(*args, x)
    with pytest.raises(ValueError):
        impl.activation_statistics([6, 5], "relu", "kaiming", np.ones((0, 6)))   # statistics of nothing
    hs = impl.forward_activations([6, 5], "relu", "kaiming", np.ones((0, 6)))
    assert_shape(hs[0], (0, 5), "forward_activations of an empty batch")
