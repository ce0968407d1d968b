"""Topic 14 stress tests: larger inputs, running statistics over many steps, seeds and bit-identical reruns, speed."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_close


def state_arrays(block):
    return {k: np.array(v, copy=True) for k, v in block.state_dict().items()}


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_large_input(impl):
    rng = np.random.default_rng(0)
    loc, scale = np.linspace(-50, 50, 16)[None, :, None, None], np.linspace(0.5, 20, 16)[None, :, None, None]
    x = rng.normal(loc, scale, size=(32, 16, 12, 12))
    bn_param = {"mode": "train"}
    out, _ = impl.batchnorm2d_forward(x, np.ones(16), np.zeros(16), bn_param)
    out = as_array(out)
    assert np.abs(out.mean(axis=(0, 2, 3))).max() < 1e-8 and np.abs(out.var(axis=(0, 2, 3)) - 1).max() < 1e-3, \
        "large input: every channel of the output must have mean 0 and variance ~1"
    M = 32 * 12 * 12
    assert_close(bn_param["running_var"], 0.9 + 0.1 * x.var(axis=(0, 2, 3)) * M / (M - 1), rtol=1e-10,
                 what="running_var after one large batch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_running_statistics_converge(impl):
    true_mean, true_std = np.array([4.0, -1.0, 20.0]), np.array([1.0, 3.0, 0.2])
    rng = np.random.default_rng(1)
    layer = impl.BatchNorm2d(3, dtype=np.float64)
    c = (slice(None), None, None)
    for _ in range(100):
        layer.forward(rng.normal(true_mean[c], true_std[c], size=(4, 3, 4, 4)))
    mean_err = np.abs(as_array(layer.running_mean) - true_mean) / true_std
    var_err = np.abs(as_array(layer.running_var) / true_std ** 2 - 1)
    assert mean_err.max() < 0.1, f"running_mean is {mean_err.max():.2f} standard deviations from the true mean"
    assert var_err.max() < 0.1, f"running_var is off by {100 * var_err.max():.0f}% from the true variance"
    out = as_array(layer.eval().forward(rng.normal(true_mean[c], true_std[c], size=(64, 3, 4, 4))))
    assert np.abs(out.mean(axis=(0, 2, 3))).max() < 0.15 and np.abs(out.std(axis=(0, 2, 3)) - 1).max() < 0.15, \
        "after convergence, eval-mode outputs on fresh data have mean ~0 and std ~1 per channel"


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_deep_stack_of_identity_blocks_keeps_the_signal(impl):
    # 8 identity blocks whose residual branch is switched off (bn2.gamma = 0): the stack is relu(x), exactly
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 4, 6, 6))
    blocks = [impl.ResidualBlock(4, 4, rng=k, dtype=np.float64) for k in range(8)]
    for b in blocks:
        b.bn2.gamma.data[...] = 0.0
    h = x
    for b in blocks:
        h = b.forward(h)
    assert_close(h, np.maximum(x, 0), rtol=1e-12, atol=1e-12,
                 what="8 identity blocks with F(x) = 0 (each one must return relu(x + 0))")
    d = np.ones_like(x)
    for b in reversed(blocks):
        d = b.backward(d)
    assert_close(d, (x > 0).astype(float), rtol=1e-12, atol=1e-12,
                 what="gradient through 8 identity blocks with F(x) = 0: the shortcuts carry it back untouched")


# ----------------------------------------------------------------------------------------------------
# Seeds and determinism
# ----------------------------------------------------------------------------------------------------

@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_initialisation_depends_on_the_seed_only(impl):
    for cls in (impl.ResidualBlock, impl.PlainBlock):
        a, b = state_arrays(cls(3, 4, stride=2, rng=5)), state_arrays(cls(3, 4, stride=2, rng=5))
        assert all(np.array_equal(a[k], b[k]) for k in a), f"{cls.__name__}(rng=5) twice gave different weights"
        c = state_arrays(cls(3, 4, stride=2, rng=6))
        assert not np.array_equal(a["conv1.weight"], c["conv1.weight"]), "seeds 5 and 6 gave the same conv1 weights"
        assert not np.array_equal(a["conv1.weight"][:, :, 0, 0], a["conv2.weight"][:, :3, 0, 0]), \
            "conv1 and conv2 must get different draws from the generator"
        assert as_array(a["conv1.weight"]).dtype == np.float32, "the default dtype is float32"
    block = impl.ResidualBlock(3, 4, stride=2, rng=5)
    w = as_array(block.conv1.weight.data)
    bound = 1 / np.sqrt(3 * 9)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound, (
        f"conv1 weights in [-{np.abs(w).max():.3g}, {np.abs(w).max():.3g}]: PyTorch's default init draws "
        f"U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bound {bound:.3g} for fan_in = 3 * 3 * 3")
    gen = np.random.default_rng(7)
    first, second = state_arrays(impl.ResidualBlock(3, 3, rng=gen)), state_arrays(impl.ResidualBlock(3, 3, rng=gen))
    assert not np.array_equal(first["conv1.weight"], second["conv1.weight"]), \
        "two blocks drawn from the same Generator must differ (the generator advances)"


@pytest.mark.determinism
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_block_reruns_are_bit_identical_and_inputs_untouched(impl):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((4, 3, 6, 6)).astype(np.float32)
    dout = rng.standard_normal((4, 5, 3, 3)).astype(np.float32)
    x_copy, dout_copy = x.copy(), dout.copy()
    results = []
    for _ in range(2):
        block = impl.ResidualBlock(3, 5, stride=2, rng=9)
        out = as_array(block.forward(x)).copy()
        dx = as_array(block.backward(dout)).copy()
        results.append([out, dx] + [as_array(p.grad).copy() for p in block.parameters()]
                       + [as_array(block.bn1.running_mean).copy()])
    for a, b in zip(*results):
        assert np.array_equal(a, b), "two identical runs (same seed, same data) gave different results"
    assert np.array_equal(x, x_copy) and np.array_equal(dout, dout_copy), \
        "the block modified its input x or the upstream gradient dout (in-place work must use its own arrays)"
    other = as_array(impl.ResidualBlock(3, 5, stride=2, rng=9).forward(rng.standard_normal(x.shape).astype(np.float32)))
    assert not np.array_equal(other, results[0][0]), "another batch (data seed) must give another output"


@pytest.mark.determinism
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_gradient_norms_are_reproducible(impl):
    rng = np.random.default_rng(10)
    x, y = rng.standard_normal((4, 3, 6, 6)), rng.integers(0, 10, 4)
    a = impl.gradient_norms(impl.make_resnet(6, widths=(4, 8), rng=11, dtype=np.float64), x, y)
    b = impl.gradient_norms(impl.make_resnet(6, widths=(4, 8), rng=11, dtype=np.float64), x, y)
    assert list(a) == list(b) and all(a[k] == b[k] for k in a), "same init seed and data: bit-identical norms"
    c = impl.gradient_norms(impl.make_resnet(6, widths=(4, 8), rng=12, dtype=np.float64), x, y)
    assert list(c.values()) != list(a.values()), "another init seed must give other gradient norms"


# ----------------------------------------------------------------------------------------------------
# Speed (a ratio against level 2, shown as a warning; never a failure)
# ----------------------------------------------------------------------------------------------------

@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_batchnorm2d_layer_step_speed(impl, reference, compare_speed):
    x = np.random.default_rng(13).standard_normal((16, 16, 16, 16)).astype(np.float32)
    dout = np.random.default_rng(14).standard_normal(x.shape).astype(np.float32)
    layer, ref_layer = impl.BatchNorm2d(16), reference.BatchNorm2d(16)

    def step(bn):
        return bn.forward(x), bn.backward(dout)

    compare_speed(lambda: step(layer), lambda: step(ref_layer), threshold=3.0)


@pytest.mark.performance
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_residual_block_step_speed(impl, reference, compare_speed):
    x = np.random.default_rng(15).standard_normal((4, 8, 12, 12)).astype(np.float32)
    dout = np.random.default_rng(16).standard_normal((4, 16, 6, 6)).astype(np.float32)
    block, ref_block = impl.ResidualBlock(8, 16, stride=2, rng=0), reference.ResidualBlock(8, 16, stride=2, rng=0)

    def step(b):
        return b.forward(x), b.backward(dout)

    compare_speed(lambda: step(block), lambda: step(ref_block), threshold=3.0)
