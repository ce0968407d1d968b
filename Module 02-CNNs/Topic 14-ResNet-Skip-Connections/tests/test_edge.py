"""Topic 14 edge tests: one value per channel, batch size 1, empty batches, degenerate and extreme values,
float32, non-contiguous inputs, bad shapes and arguments, checkpoints with the wrong keys."""

import numpy as np
import pytest

from dlfs.testing import as_array, assert_all_finite, assert_close

LOC = np.array([5.0, -3.0, 0.0, 100.0])[None, :, None, None]
SCALE = np.array([2.0, 0.5, 10.0, 3.0])[None, :, None, None]


def images(seed=0, N=3, C=4, H=4, W=4, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(LOC[:, :C], SCALE[:, :C], size=(N, C, H, W)).astype(dtype)


# ----------------------------------------------------------------------------------------------------
# How many values a channel has: PyTorch's rule
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_one_value_per_channel_in_train_mode_raises(impl):
    bn_param = {"mode": "train", "running_mean": np.zeros(4), "running_var": np.ones(4)}
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        impl.batchnorm2d_forward(images(N=1, H=1, W=1), np.ones(4), np.zeros(4), bn_param)
    assert np.all(bn_param["running_mean"] == 0) and np.all(bn_param["running_var"] == 1), \
        "the refused input must not touch the running statistics (check before updating them)"
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        impl.BatchNorm2d(4).forward(images(N=1, H=1, W=1, dtype=np.float32))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_batch_of_one_image_is_fine_when_it_has_several_pixels(impl):
    x = images(seed=1, N=1, H=3, W=2)   # N = 1 but 6 values per channel: PyTorch normalises over them
    out, _ = impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    mu, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    assert_close(out, (x - mu) / np.sqrt(var + 1e-5), rtol=1e-10,
                 what="train mode with N = 1 and 3x2 pixels (the statistics come from the 6 pixels of the image)")
    layer = impl.BatchNorm2d(4, dtype=np.float64).eval()
    assert_close(layer.forward(images(seed=2, N=1, H=1, W=1)), images(seed=2, N=1, H=1, W=1) / np.sqrt(1 + 1e-5),
                 rtol=1e-10, what="eval mode with a single 1x1 image (the running statistics are used: it works)")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_empty_batch_raises(impl):
    for mode in ("train", "test"):
        with pytest.raises(ValueError):
            impl.batchnorm2d_forward(np.zeros((0, 4, 3, 3)), np.ones(4), np.zeros(4), {"mode": mode})
    with pytest.raises(ValueError):
        impl.ResidualBlock(3, 3, rng=0).forward(np.zeros((0, 3, 4, 4), dtype=np.float32))


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_block_with_one_image(impl):
    rng = np.random.default_rng(3)
    block = impl.ResidualBlock(2, 3, stride=2, rng=0, dtype=np.float64)
    out = block.forward(rng.standard_normal((1, 2, 4, 4)))   # 2x2 after the stride: 4 values per channel
    assert as_array(out).shape == (1, 3, 2, 2)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        block.forward(rng.standard_normal((1, 2, 2, 2)))     # 1x1 after the stride: one value per channel
    block.eval()
    assert as_array(block.forward(rng.standard_normal((1, 2, 2, 2)))).shape == (1, 3, 1, 1), \
        "in eval mode a single 1x1 map is fine (BN uses its running statistics)"


# ----------------------------------------------------------------------------------------------------
# Degenerate and extreme values
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_constant_channel_gives_beta_and_finite_gradients(impl):
    x = images(seed=4)
    x[:, 2] = 7.0
    beta = np.array([0.0, 1.0, -2.5, 3.0])
    out, cache = impl.batchnorm2d_forward(x, np.ones(4), beta, {"mode": "train"})
    assert_all_finite(out, "output with a constant channel (is eps inside the square root?)")
    assert_close(as_array(out)[:, 2], np.full((3, 4, 4), -2.5), atol=1e-12, what="a constant channel gives beta")
    grads = impl.batchnorm2d_backward(np.random.default_rng(5).standard_normal(x.shape), cache)
    for name, g in zip(("dx", "dgamma", "dbeta"), grads):
        assert_all_finite(g, f"{name} with a constant channel")


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_nan_spoils_only_its_channel(impl):
    x = images(seed=6)
    x[1, 0, 2, 3] = np.nan
    bn_param = {"mode": "train"}
    with np.errstate(invalid="ignore"):
        out, _ = impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), bn_param)
    out = as_array(out)
    assert np.all(np.isnan(out[:, 0])), "a NaN in channel 0 makes its mean NaN: all of channel 0 must be NaN"
    clean, _ = impl.batchnorm2d_forward(x[:, 1:].copy(), np.ones(3), np.zeros(3), {"mode": "train"})
    assert_close(out[:, 1:], clean, rtol=1e-12, what="channels 1-3 must not be affected by a NaN in channel 0")
    assert np.isnan(bn_param["running_mean"][0]) and np.all(np.isfinite(bn_param["running_mean"][1:]))


@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_output_ignores_shift_and_scale_of_a_channel(impl):
    x = images(seed=7)
    big = x * 1e4 + 1e6          # extreme but valid: batch norm undoes any shift and (large) scale per channel
    out, _ = impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), {"mode": "train", "eps": 1e-12})
    out_big, _ = impl.batchnorm2d_forward(big, np.ones(4), np.zeros(4), {"mode": "train", "eps": 1e-12})
    assert_close(out_big, out, rtol=1e-6, atol=1e-6,
                 what="output for x * 1e4 + 1e6 vs x (subtract the mean before squaring: var = E[(x - mu)^2])")


# ----------------------------------------------------------------------------------------------------
# dtypes and memory layouts
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(2)
def test_float32_is_preserved_by_batch_norm(impl):
    x32 = images(seed=8, dtype=np.float32)
    dout = np.random.default_rng(9).standard_normal(x32.shape).astype(np.float32)
    for mode in ("train", "test"):
        bn_param = {"mode": mode}
        out, cache = impl.batchnorm2d_forward(x32, np.ones(4, np.float32), np.zeros(4, np.float32), bn_param)
        assert as_array(out).dtype == np.float32, f"{mode} mode: float32 input gave {as_array(out).dtype}"
        assert as_array(bn_param["running_mean"]).dtype == np.float32, "running statistics of float32 x are float32"
        grads = impl.batchnorm2d_backward(dout, cache)
        assert [as_array(g).dtype for g in grads] == [np.float32] * 3, f"{mode} mode: dx, dgamma, dbeta stay float32"
    layer = impl.BatchNorm2d(4)
    for training in (True, False):
        layer.train() if training else layer.eval()
        assert as_array(layer.forward(x32)).dtype == np.float32 and as_array(layer.backward(dout)).dtype == np.float32
        assert as_array(layer.gamma.grad).dtype == np.float32 and as_array(layer.running_var).dtype == np.float32


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_float32_is_preserved_by_the_blocks(impl):
    rng = np.random.default_rng(10)
    x32 = rng.standard_normal((2, 3, 6, 6)).astype(np.float32)
    for block in (impl.ResidualBlock(3, 4, stride=2, rng=0), impl.ResidualBlock(3, 3, rng=0),
                  impl.PlainBlock(3, 4, stride=2, rng=0), impl.ResidualBlock(3, 4, stride=2, rng=0, batchnorm=False)):
        for training in (True, False):
            block.train() if training else block.eval()
            out = as_array(block.forward(x32))
            dx = as_array(block.backward(np.ones(out.shape, np.float32)))
            assert out.dtype == np.float32 and dx.dtype == np.float32, \
                f"{block!r}, training={training}: float32 in gave out {out.dtype}, dx {dx.dtype}"
            assert all(as_array(p.grad).dtype == np.float32 for p in block.parameters()), \
                "parameter gradients of a float32 block must be float32"
    block64 = impl.ResidualBlock(3, 4, stride=2, rng=0, dtype=np.float64)
    assert as_array(block64.forward(x32.astype(np.float64))).dtype == np.float64, "float64 block, float64 output"
    assert_close(impl.ResidualBlock(3, 4, stride=2, rng=0).forward(x32), block64.forward(x32.astype(np.float64)),
                 rtol=1e-4, atol=1e-4, what="float32 block output vs the float64 block with the same seed")


@pytest.mark.edge
@pytest.mark.hint(3)
@pytest.mark.task(3)
def test_non_contiguous_inputs(impl):
    rng = np.random.default_rng(11)
    base = rng.standard_normal((6, 4, 3, 2))
    x = base.transpose(3, 1, 0, 2)                      # (2, 4, 6, 3), not C-contiguous
    assert not x.flags["C_CONTIGUOUS"]
    out, _ = impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    ref, _ = impl.batchnorm2d_forward(np.ascontiguousarray(x), np.ones(4), np.zeros(4), {"mode": "train"})
    assert_close(out, ref, rtol=1e-12, what="batch norm of a transposed (non-contiguous) view")
    wide = rng.standard_normal((2, 3, 10, 10))[:, :, ::2, ::2]   # strided view (2, 3, 5, 5)
    block = impl.ResidualBlock(3, 3, rng=0, dtype=np.float64)
    twin = impl.ResidualBlock(3, 3, rng=0, dtype=np.float64)
    assert_close(block.forward(wide), twin.forward(np.ascontiguousarray(wide)), rtol=1e-12,
                 what="residual block on a strided view vs on a contiguous copy")
    dout = rng.standard_normal((2, 3, 5, 10))[:, :, :, ::2]     # strided view (2, 3, 5, 5)
    assert_close(block.backward(dout), twin.backward(np.ascontiguousarray(dout)), rtol=1e-12,
                 what="block backward with a strided dout")


# ----------------------------------------------------------------------------------------------------
# Bad input: a clear ValueError, never a silent broadcast
# ----------------------------------------------------------------------------------------------------

@pytest.mark.edge
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_batchnorm2d_rejects_bad_shapes(impl):
    x = images()
    with pytest.raises(ValueError):
        impl.batchnorm2d_forward(x[0], np.ones(4), np.zeros(4), {"mode": "train"})                 # 3-D
    with pytest.raises(ValueError):
        impl.batchnorm2d_forward(x.reshape(3, 4, 16), np.ones(4), np.zeros(4), {"mode": "train"})  # 3-D
    with pytest.raises(ValueError):
        impl.batchnorm2d_forward(x, np.ones(1), np.zeros(1), {"mode": "train"})   # (1,) would broadcast silently
    with pytest.raises(ValueError):
        impl.batchnorm2d_forward(x, np.ones((1, 4)), np.zeros((1, 4)), {"mode": "train"})
    with pytest.raises(ValueError):
        impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), {"mode": "test", "running_mean": np.zeros(3),
                                                             "running_var": np.ones(3)})
    with pytest.raises(ValueError):
        impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), {"mode": "eval"})    # the modes are 'train' / 'test'
    _, cache = impl.batchnorm2d_forward(x, np.ones(4), np.zeros(4), {"mode": "train"})
    with pytest.raises(ValueError):
        impl.batchnorm2d_backward(np.ones((3, 4, 4, 1)), cache)                   # would broadcast
    layer = impl.BatchNorm2d(5, dtype=np.float64)
    with pytest.raises(ValueError):
        layer.forward(x)                                                          # 4 channels into BatchNorm2d(5)


@pytest.mark.edge
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_blocks_reject_bad_input(impl):
    rng = np.random.default_rng(12)
    for cls in (impl.ResidualBlock, impl.PlainBlock):
        block = cls(3, 4, stride=2, rng=0, dtype=np.float64)
        with pytest.raises(RuntimeError):
            block.backward(np.ones((2, 4, 3, 3)))                                 # backward before forward
        with pytest.raises(ValueError):
            block.forward(rng.standard_normal((2, 4, 6, 6)))                      # 4 channels into a 3-channel block
        with pytest.raises(ValueError):
            block.forward(rng.standard_normal((3, 6, 6)))                         # 3-D
        block.forward(rng.standard_normal((2, 3, 6, 6)))
        with pytest.raises(ValueError):
            block.backward(np.ones((2, 4, 1, 1)))                                 # would broadcast to (2, 4, 3, 3)
        for bad in ({"in_channels": 0}, {"out_channels": -1}, {"stride": 0}, {"stride": 1.5}):
            args = {"in_channels": 3, "out_channels": 4, "stride": 1, **bad}
            with pytest.raises(ValueError):
                cls(args["in_channels"], args["out_channels"], stride=args["stride"], rng=0)


@pytest.mark.edge
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_load_state_dict_rejects_wrong_keys_and_shapes(impl):
    layer = impl.BatchNorm2d(4)
    good = layer.state_dict()
    for broken in ({k: v for k, v in good.items() if k != "running_var"},      # missing
                   {**good, "weight": np.ones(4)},                             # extra
                   {**good, "running_mean": np.zeros(5)}):                     # wrong shape
        with pytest.raises(ValueError):
            layer.load_state_dict(broken)
    assert np.all(layer.running_mean == 0), "a rejected checkpoint must not change the layer"
    block = impl.ResidualBlock(3, 4, stride=2, rng=0)
    good = block.state_dict()
    before = {k: np.array(v, copy=True) for k, v in good.items()}
    zeroed = {**good, "conv1.weight": np.zeros_like(good["conv1.weight"])}   # would show a half-applied load
    for broken in ({k: v for k, v in zeroed.items() if k != "shortcut_bn.running_var"},       # missing
                   {**zeroed, "conv1.bias": np.zeros(4)},                                       # extra
                   {**zeroed, "conv2.weight": np.zeros((4, 4, 1, 1))},                          # wrong shape
                   {k: v for k, v in zeroed.items() if not k.startswith("shortcut")}):          # no projection
        with pytest.raises(ValueError):
            block.load_state_dict(broken)
    after = block.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in before), "a rejected checkpoint must not change the block"
    with pytest.raises(ValueError):
        impl.ResidualBlock(3, 3, rng=0).load_state_dict(good)       # a projection checkpoint into an identity block


@pytest.mark.edge
@pytest.mark.hint(5)
@pytest.mark.task(4)
def test_networks_reject_bad_depth(impl):
    for depth, widths in ((9, (4, 8)), (8, (4, 8)), (2, (4,)), (12, ())):
        with pytest.raises(ValueError):
            impl.make_resnet(depth, widths=widths, rng=0)
    with pytest.raises(ValueError):
        impl.make_plain_net(7, widths=(4,), rng=0)
    net = impl.make_resnet(6, in_channels=1, num_classes=3, widths=(2, 4), rng=0, dtype=np.float64)
    x = np.random.default_rng(13).standard_normal((2, 1, 4, 4))
    assert as_array(net.forward(x)).shape == (2, 3), "in_channels=1, num_classes=3"
    norms = impl.gradient_norms(net, x, np.array([0, 2]))
    assert len(norms) == 6
