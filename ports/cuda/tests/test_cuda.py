"""The CUDA port: every .cu file compiles with nvcc; on a machine with a GPU the kernel checks and the
network's training step run too. Without a GPU those are skipped, and the reason says so.

Under CI nvcc is required (a build error must fail CI); the GPU is not (CI machines have none).
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent.parent


def _load_nn_gpu():
    import importlib.util

    spec = importlib.util.spec_from_file_location("nn_gpu", HERE / "nn_gpu.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def build(tmp_path_factory):
    if shutil.which(os.environ.get("NVCC", "nvcc")) is None:
        if os.environ.get("CI"):
            pytest.fail("CI must compile the CUDA sources, but nvcc is not on PATH", pytrace=False)
        pytest.skip("nvcc is not installed: the CUDA sources cannot be compiled here")
    out = tmp_path_factory.mktemp("cuda-build")
    proc = subprocess.run(["make", f"BUILD={out}", "all"], cwd=HERE, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, f"nvcc failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return out


def test_every_cu_file_is_compiled_by_the_build(build):
    sources = {p.name for p in HERE.glob("*.cu")}
    makefile = (HERE / "Makefile").read_text()
    assert sources == {"kernels.cu", "check_kernels.cu", "network.cu"}, f"new .cu files must join the Makefile: {sources}"
    assert all(name in makefile for name in sources)
    assert (build / "check_kernels").is_file() and (build / "libdlfs_cuda.so").is_file()


def test_kernel_checks_on_the_gpu(build):
    proc = subprocess.run([str(build / "check_kernels")], capture_output=True, text=True, timeout=300)
    if proc.returncode == 77:
        pytest.skip("no CUDA device on this machine: the kernels were compiled, not run")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all kernels match their CPU references" in proc.stdout


def test_the_numpy_reference_step_has_the_right_gradients():
    nn = _load_nn_gpu()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((6, 5)), rng.integers(0, 3, 6)
    params = {k: v.astype(np.float64) for k, v in nn.init_parameters(5, 4, 3, seed=1).items()}
    params["b1"] += 0.1  # keep every ReLU input away from the kink at 0

    def loss_at(p):
        q = {k: v.copy() for k, v in p.items()}
        return nn.numpy_train_step(q, x, y, lr=0.0)

    before = {k: v.copy() for k, v in params.items()}
    nn.numpy_train_step(params, x, y, lr=1.0)  # with lr = 1 the update is minus the gradient
    for name in before:
        numeric = np.zeros_like(before[name])
        for i in np.ndindex(numeric.shape):
            plus, minus = ({k: v.copy() for k, v in before.items()} for _ in range(2))
            plus[name][i] += 1e-6
            minus[name][i] -= 1e-6
            numeric[i] = (loss_at(plus) - loss_at(minus)) / 2e-6
        np.testing.assert_allclose(before[name] - params[name], numeric, rtol=1e-4, atol=1e-7, err_msg=name)


def test_gpu_training_step_matches_numpy(build):
    nn = _load_nn_gpu()
    lib = nn.load_library(build / "libdlfs_cuda.so")
    if lib.dlfs_cuda_device_count() < 1:
        pytest.skip("no CUDA device on this machine: the network was compiled, not run")
    rng = np.random.default_rng(2)
    x, y = rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)
    net = nn.NeuralNetworkGPU(hidden_size=32, batch_size=64, seed=3, library=build / "libdlfs_cuda.so")
    reference = nn.init_parameters(784, 32, 10, seed=3)
    for _ in range(3):
        loss = net.train_batch(x, y, lr=0.1)
        ref_loss = nn.numpy_train_step(reference, x, y, lr=0.1)
        assert abs(loss - ref_loss) < 1e-4 * max(1.0, ref_loss)
    for name, value in net.parameters().items():
        np.testing.assert_allclose(value, reference[name], rtol=1e-4, atol=1e-5, err_msg=name)
    assert np.array_equal(net.predict(x[:5]), np.argmax(np.maximum(x[:5] @ reference["W1"] + reference["b1"], 0)
                                                       @ reference["W2"] + reference["b2"], axis=1))
    with pytest.raises(ValueError, match="batch holds"):
        net.train_batch(np.zeros((65, 784), np.float32), np.zeros(65, int), lr=0.1)
