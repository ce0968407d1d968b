"""Topic 16 basic tests: shapes, the statistics of each set, hand-worked cases, golden values, gradients,
the relations between the normalisations (and with Topic 09's BatchNorm), the three layers."""

import numpy as np
import pytest

from dlfs.components import load_topic
from dlfs.gradient_check import check_layer
from dlfs.testing import as_array, assert_close, assert_shape

EPS = 1e-5


def images(seed=0, N=2, C=6, H=3, W=3, dtype=np.float64):
    """(N, C, H, W) whose channels and samples have very different means and scales."""
    rng = np.random.default_rng(seed)
    loc = rng.uniform(-20, 20, size=(N, C, 1, 1))
    scale = rng.uniform(0.5, 5.0, size=(N, C, 1, 1))
    return (loc + scale * rng.standard_normal((N, C, H, W))).astype(dtype)


def tokens(seed=0, N=3, T=4, D=8, dtype=np.float64):
    """(N, T, D): every token with its own offset and scale, like the activations of a transformer."""
    rng = np.random.default_rng(seed)
    loc = rng.uniform(-10, 10, size=(N, T, 1))
    scale = rng.uniform(0.5, 5.0, size=(N, T, 1))
    return (loc + scale * rng.standard_normal((N, T, D))).astype(dtype)


def params(shape, seed=1):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 2.0, size=shape), rng.normal(size=shape)


def biased_stats(a, axes):
    return a.mean(axis=axes), a.var(axis=axes)


# ====================================================================================================
# Task 1: layernorm_forward / layernorm_backward
# ====================================================================================================

LN_CASES = [((5, 8), 8), ((3, 4, 8), (8,)), ((2, 3, 4, 4), (3, 4, 4)), ((3, 4, 8), (4, 8))]


@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("shape,ns", LN_CASES, ids=["N,D", "N,T,D", "N,C,H,W", "N,T,D over (T,D)"])
def test_layernorm_output_and_gradient_shapes(impl, shape, ns):
    x = np.random.default_rng(0).normal(size=shape)
    ns_tuple = (ns,) if isinstance(ns, int) else ns
    gamma, beta = params(ns_tuple)
    out, cache = impl.layernorm_forward(x, gamma, beta, ns)
    assert_shape(out, shape, f"layernorm_forward output for x {shape}, normalized_shape {ns}")
    assert as_array(out).dtype == np.float64, f"output dtype {as_array(out).dtype}, expected float64 like x"
    grads = impl.layernorm_backward(np.ones(shape), cache)
    assert len(grads) == 3, f"layernorm_backward must return (dx, dgamma, dbeta), got {len(grads)} values"
    assert_shape(grads[0], shape, "dx")
    assert_shape(grads[1], ns_tuple, "dgamma (one value per element of normalized_shape, summed over the leading dims)")
    assert_shape(grads[2], ns_tuple, "dbeta (summed over the leading dims)")


@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_layernorm_backward_returns_none_for_missing_parameters(impl):
    x = tokens()
    _, cache = impl.layernorm_forward(x, None, None, 8)
    dx, dgamma, dbeta = impl.layernorm_backward(np.ones(x.shape), cache)
    assert_shape(dx, x.shape, "dx without gamma and beta")
    assert dgamma is None and dbeta is None, "without gamma and beta, dgamma and dbeta must be None"
    _, cache = impl.layernorm_forward(x, np.ones(8), None, 8)
    _, dgamma, dbeta = impl.layernorm_backward(np.ones(x.shape), cache)
    assert_shape(dgamma, (8,), "dgamma with gamma only")
    assert dbeta is None, "with gamma but no beta, dbeta must be None"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("shape,ns", LN_CASES[1:3], ids=["N,T,D", "N,C,H,W"])
def test_layernorm_each_sample_has_mean_0_and_variance_1(impl, shape, ns):
    x = tokens() if len(shape) == 3 else images(C=3, H=4, W=4)
    out = as_array(impl.layernorm_forward(x, None, None, ns)[0])
    axes = tuple(range(x.ndim - (1 if isinstance(ns, int) or len(ns) == 1 else len(ns)), x.ndim))
    means, variances = biased_stats(out, axes)
    assert np.abs(means).max() < 1e-8, (
        f"the output of each sample (each token) over its normalized dims has means up to {np.abs(means).max():.6g}, "
        f"expected 0: LayerNorm averages over the TRAILING normalized_shape dims of one sample, never over the batch")
    assert np.abs(variances - 1).max() < 1e-3, (
        f"per-sample output variances range from {variances.min():.6g} to {variances.max():.6g}, expected ~1: "
        f"normalise with the BIASED variance (divide by the number of elements, not by that number - 1)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_small_case_by_hand(impl):
    # row 0: [1, 3, 5, 7], mean 4, biased var 5; row 1: [0, 0, 0, 4], mean 1, var 3 (eps = 0 keeps it exact)
    x = np.array([[1.0, 3.0, 5.0, 7.0], [0.0, 0.0, 0.0, 4.0]])
    gamma, beta = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 0.0, -0.5, 1.0])
    out, cache = impl.layernorm_forward(x, gamma, beta, 4, eps=0.0)
    xhat = np.array([[-3.0, -1.0, 1.0, 3.0]]) / np.sqrt(5.0), np.array([[-1.0, -1.0, -1.0, 3.0]]) / np.sqrt(3.0)
    assert_close(out, gamma * np.vstack(xhat) + beta, rtol=1e-12, atol=1e-12,
                 what="LayerNorm of [[1, 3, 5, 7], [0, 0, 0, 4]] (mean 4 and 1, biased variance 5 and 3)")
    dout = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    dx, dgamma, dbeta = impl.layernorm_backward(dout, cache)
    # math-refresh.md, section 4: dx = s/M (M g - sum g - xhat sum(g xhat)), g = dout * gamma = [1, 0, 0, 0]
    assert_close(dx, np.array([[1.2, -1.6, -0.4, 0.8], [0, 0, 0, 0]]) / (4 * np.sqrt(5.0)), rtol=1e-10, atol=1e-12,
                 what="dx of the hand-worked case (the mean and the variance depend on every x of the row)")
    assert_close(dgamma, [-3 / np.sqrt(5.0), 0, 0, 0], rtol=1e-12, atol=1e-12, what="dgamma = sum over rows of dout*xhat")
    assert_close(dbeta, [1.0, 0, 0, 0], atol=1e-12, what="dbeta = sum over rows of dout")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
@pytest.mark.parametrize("eps", [1e-5, 1e-3])
def test_layernorm_eps_is_inside_the_square_root(impl, eps):
    x = np.array([[0.0, 0.002, 0.004, 0.006], [10.0, 10.001, 10.003, 10.0]])   # variances ~1e-6: eps matters
    out = as_array(impl.layernorm_forward(x, None, None, 4, eps=eps)[0])
    mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + eps)
    if np.allclose(out, (x - mean) / (np.sqrt(var) + eps), rtol=1e-6):
        pytest.fail(f"eps={eps:g} is added OUTSIDE the square root: (x - mean) / (sqrt(var) + eps). "
                    "PyTorch adds it to the variance: (x - mean) / sqrt(var + eps)")
    assert_close(out, expected, rtol=1e-9, atol=1e-12,
                 what=f"LayerNorm of rows with variance ~1e-6 and eps={eps:g} ((x - mean) / sqrt(var + eps))")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_layernorm_matches_pytorch(impl, golden):
    g = golden("layernorm")
    for prefix, ns, eps in (("nd", 5, EPS), ("ntd", (4,), EPS), ("nchw", (3, 2, 2), EPS), ("eps", 5, 1e-2)):
        out, _ = impl.layernorm_forward(g[f"{prefix}_x"], g[f"{prefix}_gamma"], g[f"{prefix}_beta"], ns, eps=eps)
        assert_close(out, g[f"{prefix}_out"], rtol=1e-7, atol=1e-9,
                     what=f"{prefix}: output vs torch.nn.functional.layer_norm (normalized_shape {ns}, eps {eps:g}; "
                          f"the first sample has variance ~1e-4)")
    out, _ = impl.layernorm_forward(g["noaffine_x"], None, None, (3, 4))
    assert_close(out, g["noaffine_out"], rtol=1e-7, atol=1e-9, what="output without gamma and beta, normalized_shape (3, 4)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(1)
def test_layernorm_backward_matches_pytorch(impl, golden):
    g = golden("layernorm")
    for prefix, ns, eps in (("nd", 5, EPS), ("ntd", (4,), EPS), ("nchw", (3, 2, 2), EPS), ("eps", 5, 1e-2)):
        _, cache = impl.layernorm_forward(g[f"{prefix}_x"], g[f"{prefix}_gamma"], g[f"{prefix}_beta"], ns, eps=eps)
        dx, dgamma, dbeta = impl.layernorm_backward(g[f"{prefix}_dout"], cache)
        assert_close(dbeta, g[f"{prefix}_dbeta"], rtol=1e-8, atol=1e-10, what=f"{prefix}: dbeta vs PyTorch")
        assert_close(dgamma, g[f"{prefix}_dgamma"], rtol=1e-8, atol=1e-10, what=f"{prefix}: dgamma vs PyTorch")
        assert_close(dx, g[f"{prefix}_dx"], rtol=1e-7, atol=1e-9,
                     what=f"{prefix}: dx vs PyTorch autograd (gamma sits INSIDE the sums: g = dout * gamma)")
    _, cache = impl.layernorm_forward(g["noaffine_x"], None, None, (3, 4))
    assert_close(impl.layernorm_backward(g["noaffine_dout"], cache)[0], g["noaffine_dx"], rtol=1e-7, atol=1e-9,
                 what="dx without gamma and beta")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_normalized_shape_int_or_tuple(impl):
    x = tokens(seed=2)
    gamma, beta = params((8,))
    reference = as_array(impl.layernorm_forward(x, gamma, beta, 8)[0])
    for ns in ((8,), [8], np.int64(8)):
        assert_close(impl.layernorm_forward(x, gamma, beta, ns)[0], reference, rtol=1e-12,
                     what=f"normalized_shape={ns!r} (the same as 8)")
    # over the two trailing dims (T, D) = the same as over one flattened dim of T * D
    g2, b2 = params((4, 8), seed=3)
    out = as_array(impl.layernorm_forward(x, g2, b2, (4, 8))[0])
    flat = as_array(impl.layernorm_forward(x.reshape(3, 32), g2.reshape(32), b2.reshape(32), 32)[0])
    assert_close(out, flat.reshape(3, 4, 8), rtol=1e-10, atol=1e-12,
                 what="normalized_shape (4, 8): every sample normalised over its 32 trailing elements together")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(1)
def test_layernorm_with_gamma_only_or_beta_only(impl):
    x = tokens(seed=4)
    gamma, beta = params((8,), seed=5)
    xhat = as_array(impl.layernorm_forward(x, None, None, 8)[0])
    mean, var = x.mean(axis=-1, keepdims=True), x.var(axis=-1, keepdims=True)
    assert_close(xhat, (x - mean) / np.sqrt(var + EPS), rtol=1e-10, what="layernorm without gamma and beta (xhat)")
    assert_close(impl.layernorm_forward(x, gamma, None, 8)[0], gamma * xhat, rtol=1e-10,
                 what="layernorm with gamma only (gamma * xhat)")
    assert_close(impl.layernorm_forward(x, None, beta, 8)[0], xhat + beta, rtol=1e-10, atol=1e-12,
                 what="layernorm with beta only (xhat + beta)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(1)
@pytest.mark.parametrize("shape,ns", [((3, 5), 5), ((2, 3, 4), (4,)), ((2, 3, 2, 2), (3, 2, 2)), ((2, 3, 4), (3, 4))],
                         ids=["N,D", "N,T,D", "N,C,H,W", "N,T,D over (T,D)"])
def test_layernorm_gradient_check(impl, shape, ns):
    rng = np.random.default_rng(6)
    x = rng.normal(1.0, 2.0, size=shape)
    gamma, beta = params((ns,) if isinstance(ns, int) else ns, seed=7)
    report = check_layer(lambda x, g, b: impl.layernorm_forward(x, g, b, ns), impl.layernorm_backward, x, gamma, beta)
    assert report.passed, (f"layernorm_backward vs finite differences, x {shape}, normalized_shape {ns}:\n{report}\n"
                           "(input0 = dx, input1 = dgamma, input2 = dbeta; hint 4 derives dx)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(1)
def test_layernorm_gradient_check_without_affine_and_other_eps(impl):
    x = np.random.default_rng(8).normal(size=(3, 2, 5))
    report = check_layer(lambda x: impl.layernorm_forward(x, None, None, 5, eps=0.1),
                         lambda d, c: impl.layernorm_backward(d, c)[0], x)
    assert report.passed, f"dx of layernorm without gamma and beta, eps=0.1, vs finite differences:\n{report}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_is_batchnorm_of_the_transpose(impl):
    bn = load_topic(9)  # Topic 09: batchnorm_forward normalises every COLUMN over the rows
    rng = np.random.default_rng(9)
    x = rng.normal(3.0, 2.0, size=(5, 8))
    dout = rng.standard_normal((5, 8))
    out, cache = impl.layernorm_forward(x, None, None, 8)
    bn_out, bn_cache = bn.batchnorm_forward(x.T.copy(), np.ones(5), np.zeros(5), {"mode": "train"})
    assert_close(out, as_array(bn_out).T, rtol=1e-10, atol=1e-12,
                 what="LayerNorm of x (N, D) vs Topic 09's train-mode BatchNorm of x.T (the same formula, other axis)")
    bn_dx = bn.batchnorm_backward_alt(dout.T.copy(), bn_cache)[0]
    assert_close(impl.layernorm_backward(dout, cache)[0], as_array(bn_dx).T, rtol=1e-9, atol=1e-12,
                 what="LayerNorm dx vs BatchNorm dx of the transpose")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(1)
def test_layernorm_sample_does_not_depend_on_the_batch_but_batchnorm_does(impl):
    x = tokens(seed=10, N=5)
    gamma, beta = params((8,), seed=11)
    full = as_array(impl.layernorm_forward(x, gamma, beta, 8)[0])
    for n in range(5):
        alone = as_array(impl.layernorm_forward(x[n:n + 1], gamma, beta, 8)[0])   # batch size 1 works
        assert_close(full[n:n + 1], alone, rtol=1e-12, atol=1e-12,
                     what=f"sample {n} normalised inside the batch vs alone (LayerNorm must not look at other samples)")
    other = x.copy()
    other[1:] = 1e3 * np.random.default_rng(12).standard_normal(other[1:].shape)
    assert_close(as_array(impl.layernorm_forward(other, gamma, beta, 8)[0])[0], full[0], rtol=1e-12, atol=1e-12,
                 what="sample 0 when the other samples of the batch are replaced")
    bn = load_topic(9)
    flat, flat_other = x.reshape(5 * 4, 8), other.reshape(5 * 4, 8)
    bn_a = as_array(bn.batchnorm_forward(flat, gamma, beta, {"mode": "train"})[0])
    bn_b = as_array(bn.batchnorm_forward(flat_other, gamma, beta, {"mode": "train"})[0])
    assert np.abs(bn_a[:4] - bn_b[:4]).max() > 1e-2, "BatchNorm (Topic 09) depends on the batch: it should differ"


# ====================================================================================================
# Task 2: groupnorm_forward / groupnorm_backward
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("shape,G", [((2, 6, 3, 3), 3), ((4, 6), 2), ((2, 4, 5), 4)], ids=["N,C,H,W", "N,C", "N,C,L"])
def test_groupnorm_output_and_gradient_shapes(impl, shape, G):
    x = np.random.default_rng(0).normal(size=shape)
    gamma, beta = params((shape[1],))
    out, cache = impl.groupnorm_forward(x, gamma, beta, G)
    assert_shape(out, shape, f"groupnorm_forward output for x {shape}")
    dx, dgamma, dbeta = impl.groupnorm_backward(np.ones(shape), cache)
    assert_shape(dx, shape, "dx")
    assert_shape(dgamma, (shape[1],), "dgamma (one per CHANNEL, summed over samples and positions)")
    assert_shape(dbeta, (shape[1],), "dbeta (one per channel)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
@pytest.mark.parametrize("G", [2, 3])
def test_groupnorm_each_group_has_mean_0_and_variance_1(impl, G):
    x = images(seed=1, N=2, C=6)
    out = as_array(impl.groupnorm_forward(x, None, None, G)[0])
    per = 6 // G
    for n in range(2):
        for g in range(G):
            group = out[n, g * per:(g + 1) * per]          # channels g*C/G .. (g+1)*C/G - 1: CONTIGUOUS
            assert abs(group.mean()) < 1e-8 and abs(group.var() - 1) < 1e-3, (
                f"sample {n}, group {g} (channels {g * per}..{(g + 1) * per - 1}) has mean {group.mean():.6g} and "
                f"variance {group.var():.6g}, expected 0 and 1: group g holds the CONTIGUOUS channels "
                f"g*C/G .. (g+1)*C/G - 1, normalised with the biased variance of the group")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_groupnorm_groups_are_contiguous_channels_by_hand(impl):
    # channels 0, 1 = [1, 3], [5, 7] (group 0: mean 4, var 5); channels 2, 3 = [10, 10], [20, 20] (mean 15, var 25)
    x = np.array([[[[1.0, 3.0]], [[5.0, 7.0]], [[10.0, 10.0]], [[20.0, 20.0]]]])   # (1, 4, 1, 2)
    gamma, beta = np.array([1.0, 2.0, 1.0, 0.5]), np.array([0.0, 0.0, 1.0, -1.0])
    out, cache = impl.groupnorm_forward(x, gamma, beta, 2)
    s0, s1 = 1 / np.sqrt(5 + EPS), 1 / np.sqrt(25 + EPS)
    xhat = np.array([[[[-3, -1]], [[1, 3]], [[-5, -5]], [[5, 5]]]]) * np.array([s0, s0, s1, s1])[None, :, None, None]
    expected = xhat * gamma[None, :, None, None] + beta[None, :, None, None]
    assert_close(out, expected, rtol=1e-10, atol=1e-12,
                 what="GroupNorm(2 groups) of 4 channels: group 0 = channels (0, 1), group 1 = channels (2, 3) "
                      "(not the strided pairs (0, 2), (1, 3))")
    _, dgamma, dbeta = impl.groupnorm_backward(np.ones(x.shape), cache)
    assert_close(dgamma, as_array(xhat).sum(axis=(0, 2, 3)), atol=1e-10, what="dgamma of the hand-worked case")
    assert_close(dbeta, [2.0, 2.0, 2.0, 2.0], atol=1e-12, what="dbeta (each channel has 2 positions)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(2)
def test_groupnorm_matches_pytorch(impl, golden):
    g = golden("groupnorm")
    for G in (1, 2, 3, 6):
        out, _ = impl.groupnorm_forward(g["x"], g["gamma"], g["beta"], G)
        assert_close(out, g[f"g{G}_out"], rtol=1e-7, atol=1e-9,
                     what=f"GroupNorm with {G} groups of 6 channels vs torch.nn.functional.group_norm")
    out, _ = impl.groupnorm_forward(g["x"], None, None, 3)
    assert_close(out, g["noaffine_out"], rtol=1e-7, atol=1e-9, what="GroupNorm(3) without gamma and beta")
    out, _ = impl.groupnorm_forward(g["x"], g["gamma"], g["beta"], 2, eps=0.05)
    assert_close(out, g["eps_out"], rtol=1e-7, atol=1e-9, what="GroupNorm(2) with eps=0.05")
    for prefix in ("nc", "ncl"):
        out, _ = impl.groupnorm_forward(g[f"{prefix}_x"], g[f"{prefix}_gamma"], g[f"{prefix}_beta"], 2)
        assert_close(out, g[f"{prefix}_out"], rtol=1e-7, atol=1e-9, what=f"GroupNorm(2) on x {g[f'{prefix}_x'].shape}")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_groupnorm_backward_matches_pytorch(impl, golden):
    g = golden("groupnorm")
    cases = [(f"g{G}", g["x"], g["gamma"], g["beta"], g["dout"], G, EPS) for G in (1, 2, 3, 6)]
    cases += [("eps", g["x"], g["gamma"], g["beta"], g["dout"], 2, 0.05)]
    cases += [(p, g[f"{p}_x"], g[f"{p}_gamma"], g[f"{p}_beta"], g[f"{p}_dout"], 2, EPS) for p in ("nc", "ncl")]
    for prefix, x, gamma, beta, dout, G, eps in cases:
        _, cache = impl.groupnorm_forward(x, gamma, beta, G, eps=eps)
        dx, dgamma, dbeta = impl.groupnorm_backward(dout, cache)
        assert_close(dbeta, g[f"{prefix}_dbeta"], rtol=1e-8, atol=1e-10, what=f"{prefix}: dbeta vs PyTorch")
        assert_close(dgamma, g[f"{prefix}_dgamma"], rtol=1e-8, atol=1e-10, what=f"{prefix}: dgamma vs PyTorch")
        assert_close(dx, g[f"{prefix}_dx"], rtol=1e-7, atol=1e-9, what=f"{prefix}: dx vs PyTorch autograd")
    _, cache = impl.groupnorm_forward(g["x"], None, None, 3)
    assert_close(impl.groupnorm_backward(g["dout"], cache)[0], g["noaffine_dx"], rtol=1e-7, atol=1e-9,
                 what="dx of GroupNorm(3) without gamma and beta")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
@pytest.mark.parametrize("shape,G", [((2, 4, 2, 3), 2), ((2, 6, 2, 2), 3), ((2, 4, 2, 2), 1), ((3, 6), 2), ((2, 4, 3), 4)],
                         ids=["G=2", "G=3", "G=1", "N,C", "N,C,L G=C"])
def test_groupnorm_gradient_check(impl, shape, G):
    rng = np.random.default_rng(13)
    x = rng.normal(1.0, 2.0, size=shape)
    gamma, beta = params((shape[1],), seed=14)
    report = check_layer(lambda x, g, b: impl.groupnorm_forward(x, g, b, G), impl.groupnorm_backward, x, gamma, beta)
    assert report.passed, (f"groupnorm_backward vs finite differences, x {shape}, {G} groups:\n{report}\n"
                           "(input0 = dx, input1 = dgamma, input2 = dbeta)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(2)
def test_groupnorm_gradient_check_without_affine_and_other_eps(impl):
    x = np.random.default_rng(15).normal(size=(2, 4, 2, 2))
    report = check_layer(lambda x: impl.groupnorm_forward(x, None, None, 2, eps=0.1),
                         lambda d, c: impl.groupnorm_backward(d, c)[0], x)
    assert report.passed, f"dx of groupnorm without gamma and beta, eps=0.1, vs finite differences:\n{report}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_groupnorm_with_one_group_is_layernorm_over_chw(impl):
    x = images(seed=16, N=2, C=4, H=2, W=3)
    gamma, beta = params((4,), seed=17)
    dout = np.random.default_rng(18).standard_normal(x.shape)
    gn_out, gn_cache = impl.groupnorm_forward(x, gamma, beta, 1)
    g_full = np.broadcast_to(gamma[:, None, None], (4, 2, 3)).copy()   # LayerNorm's gamma: one per element
    b_full = np.broadcast_to(beta[:, None, None], (4, 2, 3)).copy()
    ln_out, ln_cache = impl.layernorm_forward(x, g_full, b_full, (4, 2, 3))
    assert_close(gn_out, ln_out, rtol=1e-10, atol=1e-12, what="GroupNorm(1 group) vs LayerNorm over (C, H, W)")
    dx_gn, dgamma_gn, dbeta_gn = impl.groupnorm_backward(dout, gn_cache)
    dx_ln, dgamma_ln, dbeta_ln = impl.layernorm_backward(dout, ln_cache)
    assert_close(dx_gn, dx_ln, rtol=1e-9, atol=1e-12, what="dx of GroupNorm(1) vs LayerNorm over (C, H, W)")
    assert_close(dgamma_gn, as_array(dgamma_ln).sum(axis=(1, 2)), rtol=1e-9, atol=1e-12,
                 what="GroupNorm's dgamma = LayerNorm's dgamma summed over (H, W) (gamma shared by a channel)")
    assert_close(dbeta_gn, as_array(dbeta_ln).sum(axis=(1, 2)), rtol=1e-9, atol=1e-12, what="dbeta likewise")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_groupnorm_with_one_channel_per_group_is_instancenorm(impl):
    x = images(seed=19, N=2, C=4, H=3, W=2)
    gamma, beta = params((4,), seed=20)
    dout = np.random.default_rng(21).standard_normal(x.shape)
    gn_out, gn_cache = impl.groupnorm_forward(x, gamma, beta, 4)
    in_out, in_cache = impl.instancenorm_forward(x, gamma, beta)
    assert_close(gn_out, in_out, rtol=1e-10, atol=1e-12, what="GroupNorm(C groups) vs InstanceNorm")
    for name, a, b in zip(("dx", "dgamma", "dbeta"), impl.groupnorm_backward(dout, gn_cache),
                          impl.instancenorm_backward(dout, in_cache)):
        assert_close(a, b, rtol=1e-9, atol=1e-12, what=f"{name} of GroupNorm(C groups) vs InstanceNorm")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(2)
def test_groupnorm_sample_does_not_depend_on_the_batch_but_batchnorm_does(impl):
    x = images(seed=22, N=4, C=4)
    gamma, beta = params((4,), seed=23)
    full = as_array(impl.groupnorm_forward(x, gamma, beta, 2)[0])
    for n in range(4):
        alone = as_array(impl.groupnorm_forward(x[n:n + 1], gamma, beta, 2)[0])
        assert_close(full[n:n + 1], alone, rtol=1e-12, atol=1e-12,
                     what=f"sample {n} inside the batch vs alone (GroupNorm must not look at other samples)")
    bn = load_topic(9)   # BatchNorm2d = Topic 09 on (N*H*W, C): statistics over the batch
    flat = x.transpose(0, 2, 3, 1).reshape(-1, 4)
    bn_full = as_array(bn.batchnorm_forward(flat, gamma, beta, {"mode": "train"})[0])[:9]
    bn_half = as_array(bn.batchnorm_forward(flat[:18], gamma, beta, {"mode": "train"})[0])[:9]
    assert np.abs(bn_full - bn_half).max() > 1e-2, "BatchNorm's output of sample 0 should change with the batch"


# ====================================================================================================
# Task 3: instancenorm_forward / instancenorm_backward
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(1)
@pytest.mark.task(3)
@pytest.mark.parametrize("shape", [(2, 3, 4, 4), (2, 3, 5)], ids=["N,C,H,W", "N,C,L"])
def test_instancenorm_output_and_gradient_shapes(impl, shape):
    x = np.random.default_rng(0).normal(size=shape)
    gamma, beta = params((3,))
    out, cache = impl.instancenorm_forward(x, gamma, beta)
    assert_shape(out, shape, "instancenorm_forward output")
    dx, dgamma, dbeta = impl.instancenorm_backward(np.ones(shape), cache)
    assert_shape(dx, shape, "dx")
    assert_shape(dgamma, (3,), "dgamma (one per channel)")
    assert_shape(dbeta, (3,), "dbeta (one per channel)")
    _, cache = impl.instancenorm_forward(x, None, None)
    _, dgamma, dbeta = impl.instancenorm_backward(np.ones(shape), cache)
    assert dgamma is None and dbeta is None, "without gamma and beta (InstanceNorm's default), dgamma and dbeta are None"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_instancenorm_each_channel_of_each_sample_has_mean_0_and_variance_1(impl):
    x = images(seed=24, N=3, C=4)
    out = as_array(impl.instancenorm_forward(x, None, None)[0])
    means, variances = biased_stats(out, (2, 3))
    assert np.abs(means).max() < 1e-8, (
        f"per-(sample, channel) means of the output reach {np.abs(means).max():.6g}, expected 0: InstanceNorm "
        f"averages over the H*W positions of ONE channel of ONE sample")
    assert np.abs(variances - 1).max() < 1e-3, (
        f"per-(sample, channel) variances range from {variances.min():.6g} to {variances.max():.6g}, expected ~1: "
        f"normalise with the BIASED variance (the unbiased one is for running_var only)")


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_instancenorm_small_case_by_hand(impl):
    # channel 0: [[0, 2], [4, 6]] mean 3, var 5; channel 1: [[1, 1], [1, 5]] mean 2, var 3
    x = np.array([[[[0.0, 2.0], [4.0, 6.0]], [[1.0, 1.0], [1.0, 5.0]]]])
    gamma, beta = np.array([2.0, -1.0]), np.array([0.5, 1.0])
    out = as_array(impl.instancenorm_forward(x, gamma, beta)[0])
    xhat0 = np.array([[-3.0, -1.0], [1.0, 3.0]]) / np.sqrt(5 + EPS)
    xhat1 = np.array([[-1.0, -1.0], [-1.0, 3.0]]) / np.sqrt(3 + EPS)
    assert_close(out[0, 0], 2.0 * xhat0 + 0.5, rtol=1e-10, what="channel 0 (mean 3, biased variance 5, gamma 2, beta 0.5)")
    assert_close(out[0, 1], -1.0 * xhat1 + 1.0, rtol=1e-10, what="channel 1 (mean 2, biased variance 3, gamma -1, beta 1)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_instancenorm_matches_pytorch(impl, golden):
    g = golden("instancenorm")
    out, _ = impl.instancenorm_forward(g["affine_x"], g["affine_gamma"], g["affine_beta"])
    assert_close(out, g["affine_out"], rtol=1e-7, atol=1e-9, what="InstanceNorm with gamma, beta vs F.instance_norm")
    out, _ = impl.instancenorm_forward(g["noaffine_x"], None, None)
    assert_close(out, g["noaffine_out"], rtol=1e-7, atol=1e-9, what="InstanceNorm without gamma and beta")
    out, _ = impl.instancenorm_forward(g["ncl_x"], g["ncl_gamma"], g["ncl_beta"], eps=1e-3)
    assert_close(out, g["ncl_out"], rtol=1e-7, atol=1e-9, what="InstanceNorm of (N, C, L) with eps=1e-3")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
def test_instancenorm_backward_matches_pytorch(impl, golden):
    g = golden("instancenorm")
    for prefix, eps in (("affine", EPS), ("ncl", 1e-3)):
        _, cache = impl.instancenorm_forward(g[f"{prefix}_x"], g[f"{prefix}_gamma"], g[f"{prefix}_beta"], eps=eps)
        dx, dgamma, dbeta = impl.instancenorm_backward(g[f"{prefix}_dout"], cache)
        assert_close(dbeta, g[f"{prefix}_dbeta"], rtol=1e-8, atol=1e-10, what=f"{prefix}: dbeta vs PyTorch")
        assert_close(dgamma, g[f"{prefix}_dgamma"], rtol=1e-8, atol=1e-10, what=f"{prefix}: dgamma vs PyTorch")
        assert_close(dx, g[f"{prefix}_dx"], rtol=1e-7, atol=1e-9, what=f"{prefix}: dx vs PyTorch autograd")
    _, cache = impl.instancenorm_forward(g["noaffine_x"], None, None)
    assert_close(impl.instancenorm_backward(g["noaffine_dout"], cache)[0], g["noaffine_dx"], rtol=1e-7, atol=1e-9,
                 what="dx without gamma and beta")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_instancenorm_updates_running_stats_in_place_like_pytorch(impl, golden):
    g = golden("instancenorm")
    rm, rv = g["running_mean0"].copy(), g["running_var0"].copy()
    rm_id, rv_id = id(rm), id(rv)
    out, _ = impl.instancenorm_forward(g["affine_x"], g["affine_gamma"], g["affine_beta"], running_mean=rm,
                                       running_var=rv, momentum=0.2)
    assert_close(out, g["affine_out"], rtol=1e-7, atol=1e-9,
                 what="output with use_input_stats=True and running statistics given (they must NOT be used to normalise)")
    assert id(rm) == rm_id and id(rv) == rv_id
    assert_close(rm, g["running_mean1"], rtol=1e-9, atol=1e-12,
                 what="running_mean after one step, momentum 0.2 (updated IN PLACE: the caller's array must change)")
    assert_close(rv, g["running_var1"], rtol=1e-9, atol=1e-12,
                 what="running_var after one step (batch average of the UNBIASED per-instance variances)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_instancenorm_running_stats_are_the_batch_average_of_unbiased_statistics(impl):
    x = images(seed=25, N=3, C=2, H=2, W=3)   # 6 positions: unbiased = 6/5 of biased
    rm, rv = np.zeros(2), np.ones(2)
    impl.instancenorm_forward(x, None, None, running_mean=rm, running_var=rv, momentum=1.0)
    if np.allclose(rv, x.var(axis=(2, 3)).mean(axis=0)):
        pytest.fail("running_var holds the BIASED variance: PyTorch stores the unbiased one, var * S / (S - 1)")
    assert_close(rm, x.mean(axis=(2, 3)).mean(axis=0), rtol=1e-12,
                 what="momentum=1: running_mean = the mean over the batch of the per-(sample, channel) means")
    assert_close(rv, x.var(axis=(2, 3), ddof=1).mean(axis=0), rtol=1e-12,
                 what="momentum=1: running_var = the mean over the batch of the UNBIASED per-instance variances")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(3)
def test_instancenorm_with_running_stats_as_constants(impl, golden):
    g = golden("instancenorm")
    rm, rv = g["running_mean0"].copy(), g["running_var0"].copy()
    out, cache = impl.instancenorm_forward(g["eval_x"], g["eval_gamma"], g["eval_beta"], running_mean=rm,
                                           running_var=rv, use_input_stats=False)
    assert_close(out, g["eval_out"], rtol=1e-7, atol=1e-9, what="use_input_stats=False output vs F.instance_norm")
    manual = (g["eval_x"] - rm[:, None, None]) / np.sqrt(rv[:, None, None] + EPS)
    assert_close(out, manual * g["eval_gamma"][:, None, None] + g["eval_beta"][:, None, None], rtol=1e-10,
                 what="use_input_stats=False: gamma * (x - running_mean) / sqrt(running_var + eps) + beta")
    assert np.array_equal(rm, g["running_mean0"]) and np.array_equal(rv, g["running_var0"]), \
        "use_input_stats=False must not change the running statistics"
    dx, dgamma, dbeta = impl.instancenorm_backward(g["eval_dout"], cache)
    assert_close(dx, g["eval_dx"], rtol=1e-7, atol=1e-9, what="dx with constant statistics (dout * gamma * inv_std)")
    assert_close(dgamma, g["eval_dgamma"], rtol=1e-8, atol=1e-10, what="dgamma with constant statistics")
    assert_close(dbeta, g["eval_dbeta"], rtol=1e-8, atol=1e-10, what="dbeta with constant statistics")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(3)
@pytest.mark.parametrize("use_input_stats", [True, False])
def test_instancenorm_gradient_check(impl, use_input_stats):
    rng = np.random.default_rng(26)
    x = rng.normal(1.0, 2.0, size=(2, 3, 2, 3))
    gamma, beta = params((3,), seed=27)
    rm, rv = rng.normal(size=3), rng.uniform(0.5, 2.0, 3)

    def forward(x, g, b):
        return impl.instancenorm_forward(x, g, b, running_mean=rm.copy(), running_var=rv.copy(),
                                         use_input_stats=use_input_stats)

    report = check_layer(forward, impl.instancenorm_backward, x, gamma, beta)
    assert report.passed, (f"instancenorm_backward (use_input_stats={use_input_stats}) vs finite differences:\n"
                           f"{report}\n(with the running statistics, they are constants: dx = dout*gamma*inv_std)")
    report = check_layer(lambda x: impl.instancenorm_forward(x, None, None, eps=0.1),
                         lambda d, c: impl.instancenorm_backward(d, c)[0], x)
    assert report.passed, f"dx of instancenorm without gamma and beta, eps=0.1:\n{report}"


@pytest.mark.value
@pytest.mark.hint(1)
@pytest.mark.task(3)
def test_instancenorm_is_batchnorm_of_every_single_channel(impl):
    bn = load_topic(9)
    x = images(seed=28, N=2, C=3, H=2, W=3)
    dout = np.random.default_rng(29).standard_normal(x.shape)
    out, cache = impl.instancenorm_forward(x, None, None)
    columns = x.reshape(6, 6).T.copy()      # one column per (sample, channel), one row per position
    bn_out, bn_cache = bn.batchnorm_forward(columns, np.ones(6), np.zeros(6), {"mode": "train"})
    assert_close(out, as_array(bn_out).T.reshape(x.shape), rtol=1e-10, atol=1e-12,
                 what="InstanceNorm vs Topic 09 BatchNorm with the H*W positions of each (sample, channel) as its batch")
    bn_dx = bn.batchnorm_backward_alt(dout.reshape(6, 6).T.copy(), bn_cache)[0]
    assert_close(impl.instancenorm_backward(dout, cache)[0], as_array(bn_dx).T.reshape(x.shape), rtol=1e-9,
                 atol=1e-12, what="InstanceNorm dx vs that BatchNorm's dx")


# ====================================================================================================
# Task 4: the LayerNorm layer
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layernorm_layer_attributes(impl):
    layer = impl.LayerNorm(8)
    assert layer.normalized_shape == (8,), f"normalized_shape is stored as a tuple, got {layer.normalized_shape!r}"
    assert layer.eps == 1e-5 and layer.training is True, "defaults: eps=1e-5, training=True"
    params_ = layer.parameters()
    assert len(params_) == 2 and params_[0] is layer.gamma and params_[1] is layer.beta, \
        "parameters() must return [gamma, beta], the Parameter objects themselves"
    for name, p, value in (("gamma", layer.gamma, 1.0), ("beta", layer.beta, 0.0)):
        assert_shape(p.data, (8,), f"{name}.data")
        assert as_array(p.data).dtype == np.float32, f"{name} must be float32 by default (Module 02's dtype)"
        assert np.all(as_array(p.data) == value) and np.all(as_array(p.grad) == 0), f"{name} starts at {value}, grad 0"
    assert_shape(impl.LayerNorm((3, 4), dtype=np.float64).gamma.data, (3, 4), "gamma of LayerNorm((3, 4))")
    assert as_array(impl.LayerNorm(4, dtype=np.float64).gamma.data).dtype == np.float64
    plain = impl.LayerNorm(8, elementwise_affine=False)
    assert plain.parameters() == [] and plain.gamma is None and plain.beta is None, \
        "elementwise_affine=False: no gamma, no beta, parameters() == []"
    no_bias = impl.LayerNorm(8, bias=False)
    assert no_bias.parameters() == [no_bias.gamma] and no_bias.beta is None, "bias=False: gamma only"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layernorm_layer_matches_torch_nn_layernorm(impl, golden):
    g = golden("layers")
    layer = impl.LayerNorm(6, dtype=np.float64)
    layer.gamma.data[...] = g["layernorm_gamma"]
    layer.beta.data[...] = g["layernorm_beta"]
    assert_close(layer.forward(g["layernorm_x"]), g["layernorm_out"], rtol=1e-7, atol=1e-9,
                 what="LayerNorm(6) on (N, T, D) vs torch.nn.LayerNorm")
    assert_close(layer.backward(g["layernorm_dout"]), g["layernorm_dx"], rtol=1e-7, atol=1e-9, what="dx vs torch")
    assert_close(layer.gamma.grad, g["layernorm_dgamma"], rtol=1e-8, atol=1e-10, what="gamma.grad vs torch")
    assert_close(layer.beta.grad, g["layernorm_dbeta"], rtol=1e-8, atol=1e-10, what="beta.grad vs torch")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
@pytest.mark.parametrize("shape,ns", [((5, 6), 6), ((2, 3, 6), 6), ((2, 2, 3, 6), 6), ((2, 3, 2, 2), (3, 2, 2))],
                         ids=["N,D", "N,T,D", "N,A,B,D", "N,C,H,W"])
def test_layernorm_layer_on_any_leading_dims(impl, shape, ns):
    rng = np.random.default_rng(30)
    x, dout = rng.normal(2.0, 3.0, size=shape), rng.standard_normal(shape)
    layer = impl.LayerNorm(ns, dtype=np.float64)
    layer.gamma.data[...], layer.beta.data[...] = params(layer.gamma.data.shape, seed=31)
    out, cache = impl.layernorm_forward(x, layer.gamma.data.copy(), layer.beta.data.copy(), ns)
    assert_close(layer.forward(x), out, rtol=1e-12, atol=1e-12, what=f"LayerNorm({ns}) on x {shape} vs layernorm_forward")
    dx, dgamma, _ = impl.layernorm_backward(dout, cache)
    assert_close(layer.backward(dout), dx, rtol=1e-12, atol=1e-12, what="LayerNorm.backward dx vs layernorm_backward")
    assert_close(layer.gamma.grad, dgamma, rtol=1e-12, atol=1e-12, what="gamma.grad after one backward")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(4)
def test_layernorm_layer_backward_accumulates_into_grad(impl):
    rng = np.random.default_rng(32)
    x, dout = rng.normal(size=(3, 4, 5)), rng.standard_normal((3, 4, 5))
    layer = impl.LayerNorm(5, dtype=np.float64)
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, 5)
    layer.forward(x)
    layer.backward(dout)
    once = (as_array(layer.gamma.grad).copy(), as_array(layer.beta.grad).copy())
    layer.backward(dout)
    assert_close(layer.gamma.grad, 2 * once[0], rtol=1e-12, what="gamma.grad after two backward calls (must ADD)")
    assert_close(layer.beta.grad, 2 * once[1], rtol=1e-12, what="beta.grad after two backward calls (must ADD)")
    with pytest.raises(RuntimeError):
        impl.LayerNorm(5).backward(dout)   # backward before any forward


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layernorm_layer_is_the_same_in_train_and_eval(impl):
    layer = impl.LayerNorm(8, dtype=np.float64)
    x = tokens(seed=33)
    train_out = as_array(layer.forward(x)).copy()
    assert layer.eval() is layer and layer.training is False, "eval() sets training = False and returns the layer"
    assert np.array_equal(as_array(layer.forward(x)), train_out), "LayerNorm has no batch statistics: eval == train"
    assert layer.train() is layer and layer.training is True, "train() sets training = True and returns the layer"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layernorm_layer_state_dict_round_trip(impl, tmp_path):
    rng = np.random.default_rng(34)
    layer = impl.LayerNorm((2, 3), dtype=np.float64)
    layer.gamma.data[...], layer.beta.data[...] = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    state = layer.state_dict()
    assert set(state) == {"gamma", "beta"}, f"state_dict() keys {sorted(state)}, expected ['beta', 'gamma']"
    saved = np.array(state["gamma"], copy=True)
    layer.gamma.data += 1.0
    assert np.array_equal(state["gamma"], saved), "state_dict() must hold COPIES, not the live arrays"
    np.savez(tmp_path / "ln.npz", **state)
    with np.load(tmp_path / "ln.npz") as data:
        loaded = {k: data[k] for k in data.files}
    restored = impl.LayerNorm((2, 3), dtype=np.float64)
    gamma_array = restored.gamma.data
    restored.load_state_dict(loaded)
    assert restored.gamma.data is gamma_array, "load_state_dict must copy INTO the existing arrays"
    assert_close(restored.gamma.data, saved, rtol=0, atol=0, what="restored gamma")
    for bad in ({"gamma": saved}, {**loaded, "running_mean": np.zeros(3)}):
        with pytest.raises(ValueError):
            restored.load_state_dict(bad)    # a missing or an unknown key
    plain = impl.LayerNorm(4, elementwise_affine=False)
    assert plain.state_dict() == {}, "a LayerNorm without parameters has an empty state_dict"
    plain.load_state_dict({})
    with pytest.raises(ValueError):
        plain.load_state_dict({"gamma": np.ones(4)})


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layernorm_layer_with_eps_bias_false_and_no_affine(impl):
    rng = np.random.default_rng(41)
    x, dout = rng.normal(1.0, 0.05, size=(3, 2, 6)), rng.standard_normal((3, 2, 6))   # small variance: eps matters
    layer = impl.LayerNorm(6, eps=0.1, bias=False, dtype=np.float64)
    layer.gamma.data[...] = rng.uniform(0.5, 2.0, 6)
    out, cache = impl.layernorm_forward(x, layer.gamma.data.copy(), None, 6, eps=0.1)
    assert_close(layer.forward(x), out, rtol=1e-12, atol=1e-12,
                 what="LayerNorm(6, eps=0.1, bias=False) vs layernorm_forward(x, gamma, None, 6, eps=0.1)")
    dx, dgamma, _ = impl.layernorm_backward(dout, cache)
    assert_close(layer.backward(dout), dx, rtol=1e-12, atol=1e-12, what="dx with bias=False")
    assert_close(layer.gamma.grad, dgamma, rtol=1e-12, atol=1e-12, what="gamma.grad with bias=False")
    plain = impl.LayerNorm((2, 6), eps=1e-3, elementwise_affine=False, dtype=np.float64)
    out, cache = impl.layernorm_forward(x, None, None, (2, 6), eps=1e-3)
    assert_close(plain.forward(x), out, rtol=1e-12, atol=1e-12,
                 what="LayerNorm((2, 6), eps=1e-3, elementwise_affine=False) vs layernorm_forward without gamma, beta")
    assert_close(plain.backward(dout), impl.layernorm_backward(dout, cache)[0], rtol=1e-12, atol=1e-12,
                 what="dx of LayerNorm without parameters")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(4)
def test_layernorm_layer_trains_with_topic03_sgd(impl):
    optim = load_topic(3)
    rng = np.random.default_rng(35)
    layer = impl.LayerNorm(4, dtype=np.float64)
    opt = optim.SGD(layer.parameters(), lr=0.5)
    target_gamma, target_beta = np.array([2.0, 0.5, -1.0, 1.5]), np.array([1.0, -2.0, 0.3, 0.0])
    for _ in range(100):
        x = rng.normal(size=(8, 3, 4)) * rng.uniform(0.5, 3.0, size=(8, 3, 1))
        xhat = (x - x.mean(axis=-1, keepdims=True)) / np.sqrt(x.var(axis=-1, keepdims=True) + EPS)
        opt.zero_grad()
        out = as_array(layer.forward(x))
        layer.backward((out - (target_gamma * xhat + target_beta)) / 24)   # gradient of 0.5 * mean squared error
        opt.step()
    assert_close(layer.gamma.data, target_gamma, atol=1e-3, what="gamma learnt by SGD (grads summed over N and T?)")
    assert_close(layer.beta.data, target_beta, atol=1e-3, what="beta learnt by SGD")


# ====================================================================================================
# Task 5: the GroupNorm layer
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_groupnorm_layer_attributes(impl):
    layer = impl.GroupNorm(2, 6)
    assert (layer.num_groups, layer.num_channels, layer.eps, layer.affine) == (2, 6, 1e-5, True)
    assert layer.parameters() == [layer.gamma, layer.beta], "parameters() must return [gamma, beta]"
    assert_shape(layer.gamma.data, (6,), "gamma (one per channel)")
    assert as_array(layer.gamma.data).dtype == np.float32 and np.all(as_array(layer.gamma.data) == 1)
    assert np.all(as_array(layer.beta.data) == 0)
    plain = impl.GroupNorm(3, 6, affine=False)
    assert plain.parameters() == [] and plain.state_dict() == {}, "affine=False: no parameters, empty state_dict"
    with pytest.raises(ValueError, match="divisible"):
        impl.GroupNorm(4, 6)    # as PyTorch: num_channels must be divisible by num_groups


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_groupnorm_layer_matches_torch_nn_groupnorm(impl, golden):
    g = golden("layers")
    layer = impl.GroupNorm(2, 4, dtype=np.float64)
    layer.gamma.data[...] = g["groupnorm_gamma"]
    layer.beta.data[...] = g["groupnorm_beta"]
    assert_close(layer.forward(g["groupnorm_x"]), g["groupnorm_out"], rtol=1e-7, atol=1e-9,
                 what="GroupNorm(2, 4) vs torch.nn.GroupNorm")
    assert_close(layer.backward(g["groupnorm_dout"]), g["groupnorm_dx"], rtol=1e-7, atol=1e-9, what="dx vs torch")
    assert_close(layer.gamma.grad, g["groupnorm_dgamma"], rtol=1e-8, atol=1e-10, what="gamma.grad vs torch")
    assert_close(layer.beta.grad, g["groupnorm_dbeta"], rtol=1e-8, atol=1e-10, what="beta.grad vs torch")
    layer.backward(g["groupnorm_dout"])
    assert_close(layer.beta.grad, 2 * g["groupnorm_dbeta"], rtol=1e-8, atol=1e-10,
                 what="beta.grad after two backward calls (must ADD)")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_groupnorm_layer_with_eps(impl, golden):
    g = golden("groupnorm")
    layer = impl.GroupNorm(2, 6, eps=0.05, dtype=np.float64)
    assert layer.eps == 0.05
    layer.gamma.data[...], layer.beta.data[...] = g["gamma"], g["beta"]
    assert_close(layer.forward(g["x"]), g["eps_out"], rtol=1e-7, atol=1e-9, what="GroupNorm(2, 6, eps=0.05) vs PyTorch")
    assert_close(layer.backward(g["dout"]), g["eps_dx"], rtol=1e-7, atol=1e-9, what="dx of GroupNorm(2, 6, eps=0.05)")
    assert_close(layer.gamma.grad, g["eps_dgamma"], rtol=1e-8, atol=1e-10, what="gamma.grad with eps=0.05")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(5)
def test_groupnorm_layer_without_affine_and_state_dict(impl):
    x = images(seed=36, N=2, C=6)
    plain = impl.GroupNorm(3, 6, affine=False, dtype=np.float64)
    assert_close(plain.forward(x), impl.groupnorm_forward(x, None, None, 3)[0], rtol=1e-12, atol=1e-12,
                 what="GroupNorm(3, 6, affine=False) vs groupnorm_forward without gamma and beta")
    assert plain.eval().forward(x).shape == x.shape and plain.training is False
    layer = impl.GroupNorm(3, 6, dtype=np.float64)
    layer.beta.data[...] = np.arange(6.0)
    state = layer.state_dict()
    assert set(state) == {"gamma", "beta"}
    other = impl.GroupNorm(3, 6, dtype=np.float64)
    beta_array = other.beta.data
    other.load_state_dict(state)
    assert other.beta.data is beta_array and np.array_equal(other.beta.data, np.arange(6.0)), \
        "load_state_dict copies the values INTO the existing arrays"
    with pytest.raises(ValueError):
        other.load_state_dict({"gamma": state["gamma"], "bias": state["beta"]})


# ====================================================================================================
# Task 6: the InstanceNorm2d layer
# ====================================================================================================

@pytest.mark.shape
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_defaults_and_attributes(impl):
    layer = impl.InstanceNorm2d(3)
    assert (layer.eps, layer.momentum, layer.affine, layer.track_running_stats) == (1e-5, 0.1, False, False), \
        "defaults (as PyTorch): eps=1e-5, momentum=0.1, affine=False, track_running_stats=False"
    assert layer.parameters() == [] and layer.running_mean is None and layer.running_var is None
    assert layer.state_dict() == {}, "no parameters and no buffers by default: empty state_dict"
    full = impl.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert full.parameters() == [full.gamma, full.beta]
    assert_shape(full.gamma.data, (3,), "gamma (one per channel)")
    assert np.all(as_array(full.running_mean) == 0) and np.all(as_array(full.running_var) == 1), \
        "running_mean starts at zeros, running_var at ones"
    assert as_array(full.running_mean).dtype == np.float32
    assert set(full.state_dict()) == {"gamma", "beta", "running_mean", "running_var"}


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_tracks_running_stats_like_pytorch(impl, golden):
    g = golden("layers")
    layer = impl.InstanceNorm2d(3, momentum=0.2, affine=True, track_running_stats=True, dtype=np.float64)
    layer.gamma.data[...] = g["instancenorm_gamma"]
    layer.beta.data[...] = g["instancenorm_beta"]
    for k, batch in enumerate(g["instancenorm_batches"]):
        layer.forward(batch)
        assert_close(layer.running_mean, g["instancenorm_running_means"][k], rtol=1e-9, atol=1e-12,
                     what=f"running_mean after train step {k + 1} (vs torch.nn.InstanceNorm2d, momentum 0.2)")
        assert_close(layer.running_var, g["instancenorm_running_vars"][k], rtol=1e-9, atol=1e-12,
                     what=f"running_var after train step {k + 1} (batch mean of the UNBIASED instance variances)")
    layer.eval()
    out = layer.forward(g["instancenorm_x_eval"])
    assert_close(out, g["instancenorm_out_eval"], rtol=1e-7, atol=1e-9,
                 what="eval-mode output (normalised with the running statistics)")
    assert_close(layer.backward(g["instancenorm_dout_eval"]), g["instancenorm_dx_eval"], rtol=1e-7, atol=1e-9,
                 what="eval-mode dx (the running statistics are constants)")
    assert_close(layer.gamma.grad, g["instancenorm_dgamma_eval"], rtol=1e-8, atol=1e-10, what="eval-mode gamma.grad")
    assert_close(layer.beta.grad, g["instancenorm_dbeta_eval"], rtol=1e-8, atol=1e-10, what="eval-mode beta.grad")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_eval_forward_between_train_steps(impl):
    rng = np.random.default_rng(37)
    layer = impl.InstanceNorm2d(2, track_running_stats=True, dtype=np.float64)
    a, b, probe = (rng.normal(3.0, 2.0, size=(2, 2, 3, 3)) for _ in range(3))
    train_out = as_array(layer.forward(a)).copy()
    assert_close(train_out, impl.instancenorm_forward(a, None, None)[0], rtol=1e-12, atol=1e-12,
                 what="train mode normalises with the statistics of each instance, not the running ones")
    stats = (as_array(layer.running_mean).copy(), as_array(layer.running_var).copy())
    layer.eval()
    eval_out = as_array(layer.forward(probe))
    expected = (probe - stats[0][:, None, None]) / np.sqrt(stats[1][:, None, None] + EPS)
    assert_close(eval_out, expected, rtol=1e-10, what="eval mode: (x - running_mean) / sqrt(running_var + eps)")
    assert np.array_equal(layer.running_mean, stats[0]) and np.array_equal(layer.running_var, stats[1]), \
        "a forward in eval mode changed the running statistics (only train mode updates them)"
    layer.train().forward(b)
    m = 0.1
    assert_close(layer.running_mean, (1 - m) * stats[0] + m * b.mean(axis=(2, 3)).mean(axis=0), rtol=1e-12,
                 what="running_mean after train, eval, train (the eval step must not count)")
    untracked = impl.InstanceNorm2d(2, dtype=np.float64).eval()
    assert_close(untracked.forward(probe), impl.instancenorm_forward(probe, None, None)[0], rtol=1e-12, atol=1e-12,
                 what="track_running_stats=False: eval mode still uses the statistics of each instance (as PyTorch)")


@pytest.mark.gradient
@pytest.mark.hint(4)
@pytest.mark.task(6)
def test_instancenorm2d_train_then_eval_then_backward(impl):
    rng = np.random.default_rng(38)
    layer = impl.InstanceNorm2d(2, momentum=0.5, affine=True, track_running_stats=True, dtype=np.float64)
    layer.gamma.data[...] = [1.5, -0.5]
    layer.forward(rng.normal(2.0, 3.0, size=(3, 2, 3, 3)))
    layer.eval()
    x, dout = rng.normal(size=(2, 2, 3, 3)), rng.standard_normal((2, 2, 3, 3))
    layer.forward(x)
    dx = layer.backward(dout)
    inv_std = 1 / np.sqrt(as_array(layer.running_var) + EPS)
    assert_close(dx, dout * (np.array([1.5, -0.5]) * inv_std)[:, None, None], rtol=1e-10,
                 what="backward after an eval forward: dx = dout * gamma / sqrt(running_var + eps)")
    layer.train()
    layer.gamma.grad[...] = 0
    layer.forward(x)
    dx_train = as_array(layer.backward(dout))
    assert np.abs(dx_train.sum(axis=(2, 3))).max() < 1e-10, \
        "backward after a TRAIN forward goes through the instance statistics: dx sums to 0 per (sample, channel)"


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_state_dict_round_trip(impl, tmp_path):
    rng = np.random.default_rng(39)
    layer = impl.InstanceNorm2d(3, affine=True, track_running_stats=True, dtype=np.float64)
    for _ in range(3):
        layer.forward(rng.normal(2.0, 3.0, size=(2, 3, 4, 4)))
    state = layer.state_dict()
    saved = np.array(state["running_mean"], copy=True)
    layer.forward(rng.normal(size=(2, 3, 4, 4)))
    assert np.array_equal(state["running_mean"], saved), "state_dict() must hold COPIES of the running statistics"
    np.savez(tmp_path / "in.npz", **state)
    with np.load(tmp_path / "in.npz") as data:
        loaded = {k: data[k] for k in data.files}
    restored = impl.InstanceNorm2d(3, affine=True, track_running_stats=True, dtype=np.float64)
    mean_array = restored.running_mean
    restored.load_state_dict(loaded)
    assert restored.running_mean is mean_array, "load_state_dict must copy INTO the existing running_mean"
    x = rng.normal(size=(1, 3, 4, 4))
    reference = impl.InstanceNorm2d(3, affine=True, track_running_stats=True, dtype=np.float64)
    reference.load_state_dict(state)
    assert_close(restored.eval().forward(x), reference.eval().forward(x), rtol=1e-12,
                 what="eval output of a layer restored from an .npz checkpoint")
    with pytest.raises(ValueError):
        restored.load_state_dict({k: v for k, v in loaded.items() if k != "running_var"})
    with pytest.raises(ValueError):
        impl.InstanceNorm2d(3, affine=True).load_state_dict(state)   # it has no running statistics


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_affine_without_running_stats(impl, golden):
    g = golden("instancenorm")
    layer = impl.InstanceNorm2d(3, affine=True, dtype=np.float64)
    assert layer.running_mean is None and set(layer.state_dict()) == {"gamma", "beta"}
    layer.gamma.data[...], layer.beta.data[...] = g["affine_gamma"], g["affine_beta"]
    for mode in ("train", "eval"):       # without running statistics both modes use each instance's own
        getattr(layer, mode)()
        assert_close(layer.forward(g["affine_x"]), g["affine_out"], rtol=1e-7, atol=1e-9,
                     what=f"InstanceNorm2d(3, affine=True) in {mode} mode vs F.instance_norm")
    assert_close(layer.backward(g["affine_dout"]), g["affine_dx"], rtol=1e-7, atol=1e-9, what="dx, affine=True")
    assert_close(layer.beta.grad, g["affine_dbeta"], rtol=1e-8, atol=1e-10, what="beta.grad, affine=True")


@pytest.mark.value
@pytest.mark.hint(2)
@pytest.mark.task(6)
def test_instancenorm2d_momentum_and_eps(impl):
    rng = np.random.default_rng(40)
    x = rng.normal(1.0, 0.01, size=(2, 2, 3, 3))     # variance ~1e-4: eps=1e-2 changes the output a lot
    layer = impl.InstanceNorm2d(2, eps=1e-2, momentum=0.5, track_running_stats=True, dtype=np.float64)
    out = as_array(layer.forward(x))
    mean, var = x.mean(axis=(2, 3), keepdims=True), x.var(axis=(2, 3), keepdims=True)
    assert_close(out, (x - mean) / np.sqrt(var + 1e-2), rtol=1e-10, what="InstanceNorm2d(eps=1e-2) output")
    assert_close(layer.running_mean, 0.5 * x.mean(axis=(2, 3)).mean(axis=0), rtol=1e-12,
                 what="running_mean after one step with momentum=0.5 (0.5 * 0 + 0.5 * batch mean)")
