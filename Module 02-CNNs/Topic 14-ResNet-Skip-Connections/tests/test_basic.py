"""Topic 14 basic tests: spatial batch norm, the BatchNorm2d layer, residual and plain blocks, deep networks."""

import numpy as np
import pytest

from dlfs.finite_difference_checker import numerical_gradient
from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape, rel_error

LOC = np.array([5.0, -3.0, 0.0, 100.0])[None, :, None, None]    # channels far from mean 0 ...
SCALE = np.array([2.0, 0.5, 10.0, 3.0])[None, :, None, None]    # ... and far from variance 1
SUBLAYERS = ("conv1", "bn1", "conv2", "bn2", "shortcut_conv", "shortcut_bn")


def images(seed=0, N=4, C=4, H=5, W=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(LOC[:, :C], SCALE[:, :C], size=(N, C, H, W)).astype(dtype)


def named_parameters(block):
    """[(name, Parameter)] of a block, named like its state_dict: conv1.weight, bn1.gamma, ..."""
    named = []
    for layer_name in SUBLAYERS:
        layer = getattr(block, layer_name, None)
        if layer is None:
            continue
        for attr in ("weight", "bias", "gamma", "beta"):
            p = getattr(layer, attr, None)
            if p is not None:
                named.append((f"{layer_name}.{attr}", p))
    return named


def parameter(block, key):
    layer, attr = key.rsplit(".", 1)
    return getattr(getattr(block, layer), attr)


def zero_grads(module):
    for p in module.parameters():
        p.grad[...] = 0


def load_golden_weights(block, g):
    for key, value in g.items():
        if key.startswith("param."):
            parameter(block, key[len("param."):]).data[...] = value


def make_block(impl, kind, cin, cout, stride, seed=0, dtype=np.float64):
    """kind: 'residual', 'plain' or 'residual_no_bn'."""
    if kind == "plain":
        return impl.PlainBlock(cin, cout, stride=stride, rng=seed, dtype=dtype)
    if kind == "residual_no_bn":
        return impl.ResidualBlock(cin, cout, stride=stride, rng=seed, dtype=dtype, batchnorm=False)
    return impl.ResidualBlock(cin, cout, stride=stride, rng=seed, dtype=dtype)


# ====================================================================================================
# Task 1: batchnorm2d_forward / batchnorm2d_backward
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_batchnorm2d_shapes_and_dtype(impl):
    x = images(N=3, C=4, H=5, W=6)
    bn_param = {"mode": "train"}
    out, cache = impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), bn_param)
    assert_shape(out, (3, 4, 5, 6), "batchnorm2d_forward output")
    assert as_array(out).dtype == np.float64, f"output dtype {as_array(out).dtype}, expected float64 like x"
    assert_shape(bn_param["running_mean"], (4,), "bn_param['running_mean'] (one value per CHANNEL)")
    assert_shape(bn_param["running_var"], (4,), "bn_param['running_var'] (one value per CHANNEL)")
    grads = impl.batchnorm2d_backward(np.ones((3, 4, 5, 6)), cache)
    assert len(grads) == 3, f"batchnorm2d_backward must return (dx, dgamma, dbeta), got {len(grads)} values"
    assert_shape(grads[0], (3, 4, 5, 6), "dx")
    assert_shape(grads[1], (4,), "dgamma (summed over the batch and every pixel)")
    assert_shape(grads[2], (4,), "dbeta (summed over the batch and every pixel)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_batchnorm2d_normalises_each_channel_over_batch_and_pixels(impl):
    x = images(N=6, C=4, H=5, W=5)
    out, _ = impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    out = as_array(out)
    means, variances = out.mean(axis=(0, 2, 3)), out.var(axis=(0, 2, 3))
    assert np.abs(means).max() < 1e-8 and np.abs(variances - 1).max() < 1e-3, (
        f"per-channel mean {np.round(means, 4)} and variance {np.round(variances, 4)} of the output, expected 0 and "
        f"1: a channel's statistics are taken over axes (0, 2, 3), the batch AND every pixel")
    per_image = out.mean(axis=(2, 3))
    assert np.abs(per_image).max() > 1e-3, (
        "every image's channel has mean exactly 0: you normalised each (sample, channel) over its own pixels "
        "(that is InstanceNorm, Topic 16); batch norm shares one mean per channel across the whole batch")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_batchnorm2d_by_hand(impl):
    # channel 0 holds 1, 3 (image 0) and 5, 7 (image 1): mean 4, biased variance 5
    x = np.zeros((2, 2, 1, 2))
    x[:, 0, 0, :] = [[1.0, 3.0], [5.0, 7.0]]
    x[:, 1, 0, :] = [[2.0, 2.0], [2.0, 6.0]]     # mean 3, variance 3
    gamma, beta = np.array([2.0, 1.0]), np.array([1.0, -1.0])
    bn_param = {"mode": "train"}
    out, _ = impl.batchnorm2d_forward(x, gamma, beta, bn_param)
    expected = np.zeros_like(x)
    expected[:, 0, 0, :] = 2.0 * (np.array([[1.0, 3.0], [5.0, 7.0]]) - 4.0) / np.sqrt(5.0 + 1e-5) + 1.0
    expected[:, 1, 0, :] = (np.array([[2.0, 2.0], [2.0, 6.0]]) - 3.0) / np.sqrt(3.0 + 1e-5) - 1.0
    assert_close(out, expected, rtol=1e-10, atol=1e-12,
                 what="batch norm of a 2x2x1x2 input by hand (channel 0: mean 4, var 5; channel 1: mean 3, var 3)")
    assert_close(bn_param["running_mean"], [0.4, 0.3], rtol=1e-12, what="running_mean after one step (0.1 * mean)")
    assert_close(bn_param["running_var"], [0.9 + 0.1 * 20 / 3, 0.9 + 0.1 * 4.0], rtol=1e-12,
                 what="running_var after one step: 0.9 + 0.1 * UNBIASED variance over the 4 values of the channel")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_running_var_is_unbiased_over_all_values_of_a_channel(impl):
    x = images(seed=3, N=2, C=4, H=3, W=2)  # M = N * H * W = 12 values per channel
    bn_param = {"mode": "train", "momentum": 0.1}
    impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), bn_param)
    biased = x.var(axis=(0, 2, 3))
    got = as_array(bn_param["running_var"])
    if np.allclose(got, 0.9 + 0.1 * biased):
        pytest.fail("running_var was updated with the BIASED variance (divide by M = N*H*W); PyTorch stores the "
                    "unbiased one, var * M / (M - 1), while it normalises with the biased one")
    if np.allclose(got, 0.9 + 0.1 * biased * 2 / 1):
        pytest.fail("running_var used the correction N / (N - 1) with N = 2 images: the number of values of a "
                    "channel is M = N * H * W = 12, so the correction is 12 / 11")
    assert_close(got, 0.9 + 0.1 * biased * 12 / 11, rtol=1e-12,
                 what="running_var after one step (0.9 + 0.1 * var * M / (M - 1), M = N * H * W)")
    assert_close(bn_param["running_mean"], 0.1 * x.mean(axis=(0, 2, 3)), rtol=1e-12,
                 what="running_mean after one step (momentum = 0.1 is the weight of the NEW batch)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_test_mode_uses_the_running_statistics(impl):
    x = images(seed=4, N=2, C=4, H=3, W=3)
    mean, var = np.array([4.0, -2.0, 1.0, 99.0]), np.array([3.0, 0.3, 80.0, 10.0])
    gamma, beta = np.array([0.5, 1.0, 2.0, 1.5]), np.array([0.1, -0.2, 0.3, 0.0])
    bn_param = {"mode": "test", "running_mean": mean.copy(), "running_var": var.copy(), "eps": 1e-3}
    out, _ = impl.batchnorm2d_forward(x, gamma, beta, bn_param)
    c = (slice(None), None, None)
    expected = gamma[c] * (x - mean[c]) / np.sqrt(var[c] + 1e-3) + beta[c]
    assert_close(out, expected, rtol=1e-10, what="test-mode output (running statistics, eps=1e-3 inside the root)")
    assert np.array_equal(bn_param["running_mean"], mean) and np.array_equal(bn_param["running_var"], var), \
        "test mode changed the running statistics: only train mode updates them"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_batchnorm2d_matches_pytorch(impl, golden):
    g = golden("bn2d_train")
    bn_param = {"mode": "train", "eps": 1e-5, "momentum": 0.1}
    out, _ = impl.batchnorm2d_forward(g["x"].copy(), g["gamma"], g["beta"], bn_param)
    assert_close(out, g["out"], rtol=1e-7, atol=1e-9, what="train-mode output vs torch.nn.functional.batch_norm "
                 "(channel 3 has variance 1e-4: is eps inside the square root?)")
    assert_close(bn_param["running_mean"], g["running_mean"], rtol=1e-9, what="running_mean after one step")
    assert_close(bn_param["running_var"], g["running_var"], rtol=1e-9, what="running_var after one step")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_batchnorm2d_backward_matches_pytorch(impl, golden):
    g = golden("bn2d_train")
    _, cache = impl.batchnorm2d_forward(g["x"].copy(), g["gamma"], g["beta"], {"mode": "train"})
    dx, dgamma, dbeta = impl.batchnorm2d_backward(g["dout"], cache)
    assert_close(dbeta, g["dbeta"], rtol=1e-8, atol=1e-10, what="dbeta (dout summed over axes 0, 2, 3)")
    assert_close(dgamma, g["dgamma"], rtol=1e-8, atol=1e-10, what="dgamma (dout * xhat summed over axes 0, 2, 3)")
    assert_close(dx, g["dx"], rtol=1e-7, atol=1e-9, what="dx vs PyTorch autograd")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(1)
@pytest.mark.parametrize("mode", ["train", "test"])
def test_batchnorm2d_gradient_check(impl, mode):
    rng = np.random.default_rng(5)
    x = rng.normal(LOC[:, :3], SCALE[:, :3], size=(2, 3, 3, 2))
    gamma, beta = rng.uniform(0.5, 2.0, 3), rng.normal(size=3)
    stats = {"running_mean": np.array([4.0, -2.0, 1.0]), "running_var": np.array([3.0, 0.3, 80.0])}

    def forward(x, gamma, beta):
        bn_param = {"mode": mode, **{k: v.copy() for k, v in stats.items()}}
        return impl.batchnorm2d_forward(x, gamma, beta, bn_param)

    report = check_layer(forward, impl.batchnorm2d_backward, x, gamma, beta)
    assert report.passed, (f"{mode} mode: relative errors vs finite differences {dict(report)} (input0 = dx, "
                           f"input1 = dgamma, input2 = dbeta), must be < 1e-5")


# ====================================================================================================
# Task 2: the layer BatchNorm2d
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_batchnorm2d_layer_at_init(impl):
    layer = impl.BatchNorm2d(5)
    params = layer.parameters()
    assert len(params) == 2 and params[0] is layer.gamma and params[1] is layer.beta, \
        "parameters() must return [gamma, beta], the Parameter objects themselves"
    for name, arr, value in (("gamma.data", layer.gamma.data, 1.0), ("beta.data", layer.beta.data, 0.0),
                             ("gamma.grad", layer.gamma.grad, 0.0), ("running_mean", layer.running_mean, 0.0),
                             ("running_var", layer.running_var, 1.0)):
        arr = as_array(arr)
        assert arr.shape == (5,) and np.all(arr == value), f"{name} must start as {value} of shape (5,)"
        assert arr.dtype == np.float32, f"{name} is {arr.dtype}: the default dtype of Module 02 layers is float32"
    assert layer.training is True and layer.eps == 1e-5 and layer.momentum == 0.1, \
        "a new layer is in train mode, with PyTorch's defaults eps=1e-5 and momentum=0.1"
    assert layer.num_batches_tracked == 0, "num_batches_tracked starts at 0"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_batchnorm2d_layer_matches_pytorch_through_train_and_eval(impl, golden):
    g = golden("bn2d_running")
    layer = impl.BatchNorm2d(4, dtype=np.float64)
    layer.gamma.data[...] = g["gamma"]
    layer.beta.data[...] = g["beta"]
    for k, batch in enumerate(g["batches"]):
        layer.forward(batch)
        assert_close(layer.running_mean, g["running_means"][k], rtol=1e-9, atol=1e-12,
                     what=f"running_mean after step {k + 1} (vs torch.nn.BatchNorm2d)")
        assert_close(layer.running_var, g["running_vars"][k], rtol=1e-9, atol=1e-12,
                     what=f"running_var after step {k + 1} (vs torch.nn.BatchNorm2d: unbiased, M = N*H*W)")
    assert layer.num_batches_tracked == int(g["num_batches_tracked"]), \
        f"num_batches_tracked is {layer.num_batches_tracked} after 5 train steps, expected 5"
    assert layer.eval() is layer and layer.training is False, "eval() sets training = False and returns the layer"
    out = layer.forward(g["x_eval"])
    assert_close(out, g["out_eval"], rtol=1e-9, atol=1e-12, what="eval-mode output (running statistics)")
    dx = layer.backward(g["dout_eval"])
    assert_close(dx, g["dx_eval"], rtol=1e-9, atol=1e-12, what="eval-mode dx (the statistics are constants)")
    assert_close(layer.gamma.grad, g["dgamma_eval"], rtol=1e-9, atol=1e-12, what="eval-mode gamma.grad")
    assert_close(layer.beta.grad, g["dbeta_eval"], rtol=1e-9, atol=1e-12, what="eval-mode beta.grad")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_batchnorm2d_layer_train_eval_train(impl):
    layer = impl.BatchNorm2d(4, dtype=np.float64)
    x1, x2, x3 = images(seed=6), images(seed=7), images(seed=8)
    layer.forward(x1)
    after_one = (as_array(layer.running_mean).copy(), as_array(layer.running_var).copy())
    out_eval = as_array(layer.eval().forward(x2)).copy()
    assert np.array_equal(layer.running_mean, after_one[0]) and np.array_equal(layer.running_var, after_one[1]), \
        "a forward in eval mode changed the running statistics (validation must not change the model)"
    assert layer.num_batches_tracked == 1, "num_batches_tracked counts train-mode batches only"
    c = (slice(None), None, None)
    expected = (x2 - after_one[0][c]) / np.sqrt(after_one[1][c] + 1e-5)
    assert_close(out_eval, expected, rtol=1e-10, what="eval-mode output between two train steps")
    out_train = as_array(layer.train().forward(x3))
    assert np.abs(out_train.mean(axis=(0, 2, 3))).max() < 1e-8, "back in train mode the BATCH statistics are used"
    assert_close(layer.running_mean, 0.9 * after_one[0] + 0.1 * x3.mean(axis=(0, 2, 3)), rtol=1e-12,
                 what="running_mean after train, eval, train (the eval step must not count)")
    assert layer.num_batches_tracked == 2


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_batchnorm2d_momentum_and_eps_arguments(impl):
    x = images(seed=9, N=2, C=4, H=3, W=3)
    layer = impl.BatchNorm2d(4, eps=0.5, momentum=0.3, dtype=np.float64)
    out = as_array(layer.forward(x))
    c = (slice(None), None, None)
    mu, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
    assert_close(out, (x - mu[c]) / np.sqrt(var[c] + 0.5), rtol=1e-10,
                 what="output with eps=0.5 (the layer's eps must reach the normalisation)")
    assert_close(layer.running_mean, 0.3 * mu, rtol=1e-12, what="running_mean with momentum=0.3")
    assert_close(layer.running_var, 0.7 + 0.3 * var * 18 / 17, rtol=1e-12, what="running_var with momentum=0.3")


@pytest.mark.gradient
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_batchnorm2d_layer_backward_accumulates(impl, golden):
    g = golden("bn2d_train")
    layer = impl.BatchNorm2d(4, dtype=np.float64)
    layer.gamma.data[...] = g["gamma"]
    layer.beta.data[...] = g["beta"]
    layer.forward(g["x"])
    dx = layer.backward(g["dout"])
    assert_close(dx, g["dx"], rtol=1e-7, atol=1e-9, what="BatchNorm2d.backward dx vs PyTorch")
    assert_close(layer.gamma.grad, g["dgamma"], rtol=1e-8, what="gamma.grad after one backward")
    layer.backward(g["dout"])
    assert_close(layer.gamma.grad, 2 * g["dgamma"], rtol=1e-8,
                 what="gamma.grad after two backward calls (must ADD: p.grad += dgamma)")
    assert_close(layer.beta.grad, 2 * g["dbeta"], rtol=1e-8, what="beta.grad after two backward calls (must ADD)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_batchnorm2d_state_dict_round_trip(impl, tmp_path):
    rng = np.random.default_rng(10)
    layer = impl.BatchNorm2d(4)
    for _ in range(3):
        layer.forward(images(seed=int(rng.integers(1000)), dtype=np.float32))
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, 4)
    state = layer.state_dict()
    assert set(state) == {"gamma", "beta", "running_mean", "running_var", "num_batches_tracked"}, \
        f"state_dict keys {sorted(state)}"
    assert int(state["num_batches_tracked"]) == 3, "num_batches_tracked must be in the checkpoint"
    saved_mean = np.array(state["running_mean"], copy=True)
    layer.forward(images(seed=11, dtype=np.float32))
    layer.gamma.data[...] = 7.0
    assert np.array_equal(state["running_mean"], saved_mean) and not np.any(as_array(state["gamma"]) == 7.0), \
        "state_dict() must hold COPIES: the checkpoint changed when the layer kept training"
    np.savez(tmp_path / "bn.npz", **state)
    with np.load(tmp_path / "bn.npz") as data:
        loaded = {k: data[k] for k in data.files}
    restored = impl.BatchNorm2d(4)
    gamma_array, mean_array = restored.gamma.data, restored.running_mean
    restored.load_state_dict(loaded)
    assert restored.gamma.data is gamma_array and restored.running_mean is mean_array, \
        "load_state_dict must copy INTO the existing arrays (optimizers hold references to gamma.data)"
    assert restored.num_batches_tracked == 3, "num_batches_tracked restored"
    for key in ("gamma", "beta", "running_mean", "running_var"):
        assert np.array_equal(restored.state_dict()[key], state[key]), f"{key} not restored exactly"
    x = images(seed=12, dtype=np.float32)
    reference = impl.BatchNorm2d(4)
    reference.load_state_dict(state)
    assert np.array_equal(as_array(restored.eval().forward(x)), as_array(reference.eval().forward(x))), \
        "two layers loaded from the same checkpoint must give bit-identical eval outputs"


# ====================================================================================================
# Task 3: ResidualBlock and PlainBlock
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("cin,cout,stride,size,expected_hw,projection", [
    (3, 3, 1, 5, 5, False),   # identity shortcut
    (3, 5, 2, 7, 4, True),    # fewer pixels and more channels: projection
    (3, 5, 1, 5, 5, True),    # more channels only: projection
    (4, 4, 2, 6, 3, True),    # fewer pixels only: projection
])
def test_block_shapes_and_shortcut_kind(impl, cin, cout, stride, size, expected_hw, projection):
    x = np.random.default_rng(13).standard_normal((2, cin, size, size))
    block = impl.ResidualBlock(cin, cout, stride=stride, rng=0, dtype=np.float64)
    out = block.forward(x)
    assert_shape(out, (2, cout, expected_hw, expected_hw), f"ResidualBlock({cin}, {cout}, stride={stride}) output")
    assert_shape(block.backward(np.ones(as_array(out).shape)), x.shape, "ResidualBlock dx")
    if projection:
        assert block.shortcut_conv is not None and block.shortcut_bn is not None, (
            f"ResidualBlock({cin}, {cout}, stride={stride}): x cannot be added to F(x) as it is: the shortcut "
            f"must be a projection, shortcut_conv (1x1, stride {stride}) followed by shortcut_bn")
        assert_shape(block.shortcut_conv.weight.data, (cout, cin, 1, 1), "shortcut_conv.weight (a 1x1 convolution)")
    else:
        assert block.shortcut_conv is None and block.shortcut_bn is None, \
            "when stride == 1 and in_channels == out_channels the shortcut is the identity (no parameters)"
    plain = impl.PlainBlock(cin, cout, stride=stride, rng=0, dtype=np.float64)
    assert_shape(plain.forward(x), (2, cout, expected_hw, expected_hw), "PlainBlock output")
    assert plain.shortcut_conv is None and plain.shortcut_bn is None, "a PlainBlock has no shortcut"


@pytest.mark.shape
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_block_parameters(impl):
    block = impl.ResidualBlock(3, 5, stride=2, rng=0)
    shapes = [tuple(as_array(p.data).shape) for p in block.parameters()]
    assert shapes == [(5, 3, 3, 3), (5,), (5,), (5, 5, 3, 3), (5,), (5,), (5, 3, 1, 1), (5,), (5,)], (
        f"parameters() shapes {shapes}: expected conv1.weight, bn1.gamma, bn1.beta, conv2.weight, bn2.gamma, "
        f"bn2.beta, shortcut_conv.weight, shortcut_bn.gamma, shortcut_bn.beta (no conv bias before a BN)")
    assert block.conv1.bias is None and block.conv2.bias is None, "a convolution followed by BN has no bias"
    assert len(impl.ResidualBlock(4, 4, rng=0).parameters()) == 6, "an identity block has 6 parameters"
    assert len(impl.PlainBlock(3, 5, stride=2, rng=0).parameters()) == 6, "a plain block has 6 parameters"
    no_bn = impl.ResidualBlock(3, 5, stride=2, rng=0, batchnorm=False)
    shapes = [tuple(as_array(p.data).shape) for p in no_bn.parameters()]
    assert shapes == [(5, 3, 3, 3), (5,), (5, 5, 3, 3), (5,), (5, 3, 1, 1), (5,)], (
        f"batchnorm=False: parameters() shapes {shapes}, expected the three convolutions, each with its bias")
    assert no_bn.bn1 is None and no_bn.bn2 is None and no_bn.shortcut_bn is None, "batchnorm=False: no BN layer"


GOLDEN_BLOCKS = [("block_identity", "residual", 3, 3, 1), ("block_projection", "residual", 3, 5, 2),
                 ("block_plain", "plain", 3, 4, 2), ("block_no_bn", "residual_no_bn", 3, 4, 2)]


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("name,kind,cin,cout,stride", GOLDEN_BLOCKS, ids=[b[0] for b in GOLDEN_BLOCKS])
def test_block_matches_pytorch(impl, golden, name, kind, cin, cout, stride):
    g = golden(name)
    block = make_block(impl, kind, cin, cout, stride)
    load_golden_weights(block, g)
    out = block.forward(g["x"])
    assert_close(out, g["out"], rtol=1e-7, atol=1e-9, what=f"{name}: train-mode output vs the same block in PyTorch "
                 f"(the ReLU comes after the addition; the projection is a strided 1x1 conv followed by BN)")
    dx = block.backward(g["dout"])
    for key, p in named_parameters(block):
        assert_close(p.grad, g[f"grad.{key}"], rtol=1e-7, atol=1e-9, what=f"{name}: {key}.grad vs PyTorch")
    assert_close(dx, g["dx"], rtol=1e-7, atol=1e-9,
                 what=f"{name}: dx vs PyTorch (the shortcut's gradient ADDS to the main path's at the input)")
    for key, value in g.items():
        if key.startswith("after."):
            assert_close(parameter(block, key[len("after."):]), value, rtol=1e-9, atol=1e-12,
                         what=f"{name}: {key[len('after.'):]} after the training step")
    zero_grads(block)
    block.eval()
    assert_close(block.forward(g["x_eval"]), g["out_eval"], rtol=1e-7, atol=1e-9,
                 what=f"{name}: eval-mode output (every BN with its running statistics)")
    dx_eval = block.backward(g["dout_eval"])
    assert_close(dx_eval, g["dx_eval"], rtol=1e-7, atol=1e-9, what=f"{name}: eval-mode dx")
    for key, p in named_parameters(block):
        assert_close(p.grad, g[f"grad_eval.{key}"], rtol=1e-7, atol=1e-9, what=f"{name}: eval-mode {key}.grad")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_identity_block_with_zero_residual_is_relu_of_x(impl):
    x = np.random.default_rng(14).standard_normal((2, 3, 4, 4))
    block = impl.ResidualBlock(3, 3, rng=1, dtype=np.float64)
    block.bn2.gamma.data[...] = 0.0   # bn2 outputs beta = 0: the residual F(x) is 0
    out = as_array(block.forward(x))
    if np.allclose(out, x):
        pytest.fail("with F(x) = 0 the block returned x itself, negatives included: the final ReLU must come "
                    "AFTER the addition, out = relu(F(x) + x)")
    assert_close(out, np.maximum(x, 0), rtol=1e-12, atol=1e-12,
                 what="identity block with bn2.gamma = 0 (F(x) = 0, so out = relu(0 + x))")


@pytest.mark.value
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_projection_shortcut_by_hand(impl):
    rng = np.random.default_rng(15)
    x = rng.normal(2.0, 3.0, size=(2, 3, 5, 5))
    block = impl.ResidualBlock(3, 4, stride=2, rng=2, dtype=np.float64)
    block.bn2.gamma.data[...] = 0.0          # F(x) = 0: only the shortcut is left
    w = rng.standard_normal((4, 3))
    block.shortcut_conv.weight.data[...] = w[:, :, None, None]
    out = as_array(block.forward(x))
    s = np.einsum("oc,nchw->nohw", w, x[:, :, ::2, ::2])      # 1x1 convolution with stride 2: pixels 0, 2, 4
    mu, var = s.mean(axis=(0, 2, 3), keepdims=True), s.var(axis=(0, 2, 3), keepdims=True)
    expected = np.maximum((s - mu) / np.sqrt(var + 1e-5), 0)
    assert out.shape == expected.shape, f"projection block output shape {out.shape}, expected {expected.shape}"
    if np.allclose(out, np.maximum(s, 0)):
        pytest.fail("the projection shortcut has no batch norm: it must be shortcut_bn(shortcut_conv(x)), like the "
                    "main path, so that both branches are on the same scale")
    assert_close(out, expected, rtol=1e-9, atol=1e-12,
                 what="relu(BN(1x1 conv of x[:, :, ::2, ::2])) when F(x) = 0 (the projection: conv, stride 2, BN)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_shortcut_gradient_reaches_the_input(impl):
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 3, 4, 4))
    dout = rng.standard_normal((2, 3, 4, 4))
    block = impl.ResidualBlock(3, 3, rng=3, dtype=np.float64)
    block.bn2.gamma.data[...] = 0.0   # the main path passes no gradient back: only the identity does
    block.forward(x)
    dx = as_array(block.backward(dout))
    expected = dout * (x > 0)          # relu(0 + x): the gradient goes straight through the shortcut
    if np.allclose(dx, 0):
        pytest.fail("dx is 0 although the identity shortcut carries dout straight back to x: the shortcut's "
                    "gradient must be ADDED to the main path's at the block input (dx = dx_main + dsum)")
    assert_close(dx, expected, rtol=1e-10, atol=1e-12, what="dx of an identity block whose residual is 0")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("kind,cin,cout,stride,size", [("residual", 2, 2, 1, 3), ("residual", 1, 2, 2, 4),
                                                       ("plain", 1, 2, 2, 4), ("residual_no_bn", 1, 2, 2, 4)],
                         ids=["identity", "projection", "plain", "no_bn"])
def test_block_gradient_check(impl, kind, cin, cout, stride, size):
    rng = np.random.default_rng(17)
    x = rng.standard_normal((2, cin, size, size))
    block = make_block(impl, kind, cin, cout, stride, seed=4)
    for key, p in named_parameters(block):
        if key.endswith(("gamma", "beta")):
            p.data[...] = rng.uniform(0.5, 1.5, p.data.shape) if key.endswith("gamma") else rng.normal(0, .3, cout)
    out = as_array(block.forward(x))
    dout = rng.standard_normal(out.shape)
    zero_grads(block)
    block.forward(x)
    dx = block.backward(dout)

    def loss():
        return float(np.sum(as_array(block.forward(x)) * dout))

    errors = {"x": rel_error(dx, numerical_gradient(loss, x))}
    for key, p in named_parameters(block):
        analytic = np.array(p.grad, copy=True)
        errors[key] = rel_error(analytic, numerical_gradient(loss, p.data))
    bad = {k: f"{v:.3g}" for k, v in errors.items() if not v < 1e-5}
    assert not bad, (f"{kind} block: relative error vs finite differences {bad} (must be < 1e-5). dx wrong and the "
                     f"parameters right? the shortcut's gradient adds to the main path's at the input")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_block_gradient_check_in_eval_mode(impl):
    rng = np.random.default_rng(18)
    block = impl.ResidualBlock(1, 2, stride=2, rng=5, dtype=np.float64)
    for _ in range(3):
        block.forward(rng.normal(1.0, 2.0, size=(4, 1, 4, 4)))   # running statistics away from 0 and 1
    block.eval()
    x = rng.standard_normal((2, 1, 4, 4))
    dout = rng.standard_normal((2, 2, 2, 2))
    zero_grads(block)
    block.forward(x)
    dx = block.backward(dout)

    def loss():
        return float(np.sum(as_array(block.forward(x)) * dout))

    errors = {"x": rel_error(dx, numerical_gradient(loss, x))}
    errors.update({key: rel_error(np.array(p.grad, copy=True), numerical_gradient(loss, p.data))
                   for key, p in named_parameters(block)})
    bad = {k: f"{v:.3g}" for k, v in errors.items() if not v < 1e-5}
    assert not bad, f"eval mode: relative errors {bad}: in eval mode every BN is a fixed affine map per channel"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_block_train_eval_train(impl):
    rng = np.random.default_rng(19)
    block = impl.ResidualBlock(3, 4, stride=2, rng=6, dtype=np.float64)
    bns = [block.bn1, block.bn2, block.shortcut_bn]
    block.forward(rng.normal(1.0, 2.0, size=(4, 3, 6, 6)))
    stats = [(np.array(b.running_mean, copy=True), np.array(b.running_var, copy=True)) for b in bns]
    assert block.eval() is block and block.training is False, "eval() returns the block and sets training = False"
    assert all(b.training is False for b in bns), "eval() must put every BN of the block in eval mode"
    x = rng.normal(1.0, 2.0, size=(2, 3, 6, 6))
    first = as_array(block.forward(x)).copy()
    block.forward(rng.normal(size=(3, 3, 6, 6)))
    assert np.array_equal(as_array(block.forward(x)), first), \
        "eval mode must give the same output for the same input, whatever else went through the block"
    for b, (m, v) in zip(bns, stats):
        assert np.array_equal(b.running_mean, m) and np.array_equal(b.running_var, v), \
            "a forward in eval mode changed the running statistics of a BN inside the block"
    assert block.train() is block and all(b.training for b in bns), "train() must reach every BN of the block"
    block.forward(x)
    assert not np.array_equal(block.bn1.running_mean, stats[0][0]), "train mode must update the running statistics"
    assert all(b.num_batches_tracked == 2 for b in bns), "each BN counted the two train-mode batches only"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_block_state_dict_round_trip(impl, tmp_path):
    rng = np.random.default_rng(20)
    block = impl.ResidualBlock(3, 4, stride=2, rng=7)
    for _ in range(2):
        block.forward(rng.standard_normal((4, 3, 6, 6)).astype(np.float32))
    state = block.state_dict()
    bn_keys = ("gamma", "beta", "running_mean", "running_var", "num_batches_tracked")
    expected = {"conv1.weight", "conv2.weight", "shortcut_conv.weight"} | {
        f"{bn}.{k}" for bn in ("bn1", "bn2", "shortcut_bn") for k in bn_keys}
    assert set(state) == expected, f"state_dict keys {sorted(state)}, expected {sorted(expected)}"
    saved = {k: np.array(v, copy=True) for k, v in state.items()}
    block.conv1.weight.data[...] += 1.0
    block.forward(rng.standard_normal((4, 3, 6, 6)).astype(np.float32))
    assert all(np.array_equal(state[k], saved[k]) for k in state), \
        "state_dict() must hold COPIES: the checkpoint changed when the block kept training"
    np.savez(tmp_path / "block.npz", **state)
    with np.load(tmp_path / "block.npz") as data:
        loaded = {k: data[k] for k in data.files}
    restored = impl.ResidualBlock(3, 4, stride=2, rng=99)
    weight_array = restored.conv1.weight.data
    restored.load_state_dict(loaded)
    assert restored.conv1.weight.data is weight_array, "load_state_dict must copy INTO the existing arrays"
    again = restored.state_dict()
    for k in expected:
        assert np.array_equal(again[k], saved[k]), f"{k} was not restored exactly"
        assert as_array(again[k]).dtype == as_array(saved[k]).dtype, f"{k} changed dtype in the round trip"
    reference = impl.ResidualBlock(3, 4, stride=2, rng=98)
    reference.load_state_dict(saved)
    x = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    assert np.array_equal(as_array(restored.eval().forward(x)), as_array(reference.eval().forward(x))), \
        "two blocks restored from the same checkpoint must give bit-identical eval outputs"
    assert np.array_equal(as_array(restored.train().forward(x)), as_array(reference.train().forward(x))), \
        "... and bit-identical train outputs"
    plain = impl.PlainBlock(3, 4, stride=2, rng=0, batchnorm=False)
    assert set(plain.state_dict()) == {"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias"}, \
        f"PlainBlock(batchnorm=False) state_dict keys {sorted(plain.state_dict())}"


# ====================================================================================================
# Task 4: deep networks and the vanishing / exploding gradient
# ====================================================================================================

def tiny_batch(seed=21, N=8, size=8):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((N, 3, size, size)), rng.integers(0, 10, N)


@pytest.mark.shape
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_networks_structure(impl):
    x, y = tiny_batch()
    for maker, block_cls in ((impl.make_plain_net, impl.PlainBlock), (impl.make_resnet, impl.ResidualBlock)):
        net = maker(10, widths=(4, 8), rng=0, dtype=np.float64)
        blocks = [layer for layer in net.layers if isinstance(layer, block_cls)]
        assert len(blocks) == 4, f"{maker.__name__}(10, widths=(4, 8)): {len(blocks)} blocks, expected (10 - 2) / 2 = 4"
        assert [b.stride for b in blocks] == [1, 1, 2, 1], \
            f"block strides {[b.stride for b in blocks]}: the first block of every stage after the first has stride 2"
        assert [b.out_channels for b in blocks] == [4, 4, 8, 8], "stage widths 4 then 8"
        assert_shape(net.forward(x), (8, 10), f"{maker.__name__} logits")
        norms = impl.gradient_norms(net, x, y)
        assert len(norms) == 10, f"gradient_norms returned {len(norms)} layers, expected depth = 10 weight layers"
        assert all(np.isfinite(v) and v >= 0 for v in norms.values()), "gradient norms must be finite and >= 0"


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_gradient_norms_are_the_weight_gradient_norms(impl):
    x, y = tiny_batch(seed=22)
    net = impl.make_resnet(6, widths=(4, 8), rng=1, dtype=np.float64)
    first = impl.gradient_norms(net, x, y)
    second = impl.gradient_norms(net, x, y)
    assert_close(list(second.values()), list(first.values()), rtol=1e-6,
                 what="gradient_norms called twice (the gradients must be zeroed first, not accumulated)")
    weights = [net.layers[0].weight]
    for layer in net.layers:
        if isinstance(layer, impl.ResidualBlock):
            weights += [layer.conv1.weight, layer.conv2.weight]
    weights.append(net.layers[-1].weight)
    expected = [np.linalg.norm(as_array(w.grad).ravel()) for w in weights]
    assert_close(list(second.values()), expected, rtol=1e-9,
                 what="gradient_norms values: the L2 norm of each main-path weight's .grad, stem conv first, "
                      "Linear classifier last")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_plain_net_gradient_vanishes_without_batchnorm(impl):
    x, y = tiny_batch(seed=23)
    ratios = {}
    for maker in (impl.make_plain_net, impl.make_resnet):
        norms = list(impl.gradient_norms(maker(14, widths=(8,), rng=3, dtype=np.float64, batchnorm=False), x, y)
                     .values())
        ratios[maker.__name__] = norms[0] / norms[-1]
    plain, res = ratios["make_plain_net"], ratios["make_resnet"]
    assert plain < 1e-2, (f"plain net without BN: |dW| first / last layer = {plain:.3g}; 14 layers of conv + ReLU "
                          f"should shrink the gradient by orders of magnitude on its way back")
    assert res > 100 * plain, (f"without BN the residual net's first/last gradient ratio ({res:.3g}) must be far "
                               f"larger than the plain net's ({plain:.3g}): the identity shortcuts carry the "
                               f"gradient back unchanged")


@pytest.mark.value
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_plain_net_gradient_explodes_with_batchnorm(impl):
    x, y = tiny_batch(seed=24)
    ratios = {}
    for maker in (impl.make_plain_net, impl.make_resnet):
        norms = list(impl.gradient_norms(maker(14, widths=(8,), rng=4, dtype=np.float64), x, y).values())
        ratios[maker.__name__] = norms[0] / norms[-1]
    plain, res = ratios["make_plain_net"], ratios["make_resnet"]
    assert plain > 3, (f"plain net with BN: |dW| first / last layer = {plain:.3g}; with batch norm the gradient of a "
                       f"deep plain net GROWS on its way back (every BN backward removes two directions and "
                       f"rescales by 1/std)")
    assert res < plain / 2, (f"with BN the residual net's first/last gradient ratio ({res:.3g}) must stay closer to 1 "
                             f"than the plain net's ({plain:.3g})")
