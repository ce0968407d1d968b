"""NeuralNetworkGPU: a 784-H-10 MNIST network trained on an NVIDIA GPU with the kernels of kernels.cu.

    make                                   # builds build/libdlfs_cuda.so (and build/check_kernels)
    python train_mnist.py                  # MNIST end to end on the GPU, a JSON line last

    net = NeuralNetworkGPU(hidden_size=256, seed=0)
    loss = net.train_batch(x, y, lr=0.1)   # x (B, 784) float32, y (B,) int labels; one SGD step
    accuracy = net.evaluate(x_test, y_test)

The parameters live on the device; `parameters()` copies them back. `numpy_train_step` is the same step
in NumPy: the tests hold the GPU to it.
"""

from __future__ import annotations

import ctypes
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_LIBRARY = HERE / "build" / "libdlfs_cuda.so"
_F32P = ctypes.POINTER(ctypes.c_float)


def init_parameters(input_size: int, hidden_size: int, output_size: int, seed: int = 0) -> dict:
    """He-normal weights (the layers are followed by ReLU), zero biases; float32."""
    rng = np.random.default_rng(seed)
    return {"W1": (rng.standard_normal((input_size, hidden_size)) * np.sqrt(2 / input_size)).astype(np.float32),
            "b1": np.zeros(hidden_size, np.float32),
            "W2": (rng.standard_normal((hidden_size, output_size)) * np.sqrt(2 / hidden_size)).astype(np.float32),
            "b2": np.zeros(output_size, np.float32)}


def numpy_train_step(params: dict, x: np.ndarray, y: np.ndarray, lr: float) -> float:
    """The GPU's training step in NumPy (updates params in place); returns the batch's mean cross-entropy."""
    z1 = x @ params["W1"] + params["b1"]
    a1 = np.maximum(z1, 0)
    logits = a1 @ params["W2"] + params["b2"]
    shifted = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    n = len(x)
    loss = float(-np.log(np.maximum(probs[np.arange(n), y], 1e-30)).mean())
    dlogits = probs.copy()
    dlogits[np.arange(n), y] -= 1
    dlogits /= n
    grads = {"W2": a1.T @ dlogits, "b2": dlogits.sum(axis=0)}
    dz1 = (dlogits @ params["W2"].T) * (z1 > 0)
    grads.update(W1=x.T @ dz1, b1=dz1.sum(axis=0))
    for name, g in grads.items():
        params[name] -= lr * g.astype(np.float32)
    return loss


def load_library(path: str | Path = DEFAULT_LIBRARY) -> ctypes.CDLL:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not built: run `make` in {HERE}")
    lib = ctypes.CDLL(str(path))
    lib.dlfs_cuda_device_count.restype = ctypes.c_int
    lib.net_create.restype = ctypes.c_void_p
    lib.net_create.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, _F32P]
    lib.net_free.argtypes = [ctypes.c_void_p]
    lib.net_get_params.argtypes = [ctypes.c_void_p, _F32P]
    lib.net_train_batch.argtypes = [ctypes.c_void_p, _F32P, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
                                    ctypes.c_float, _F32P]
    lib.net_predict.argtypes = [ctypes.c_void_p, _F32P, ctypes.c_int, ctypes.POINTER(ctypes.c_int64)]
    return lib


def _f32(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


class NeuralNetworkGPU:
    def __init__(self, input_size=784, hidden_size=256, output_size=10, batch_size=128, seed=0,
                 library: str | Path = DEFAULT_LIBRARY):
        self.sizes = (input_size, hidden_size, output_size)
        self.batch_size = batch_size
        self._lib = load_library(library)
        if self._lib.dlfs_cuda_device_count() < 1:
            raise RuntimeError("no CUDA device is visible: NeuralNetworkGPU needs an NVIDIA GPU")
        params = init_parameters(input_size, hidden_size, output_size, seed)
        flat = _f32(np.concatenate([params[k].ravel() for k in ("W1", "b1", "W2", "b2")]))
        self._net = self._lib.net_create(input_size, hidden_size, output_size, batch_size,
                                         flat.ctypes.data_as(_F32P))
        if not self._net:
            raise MemoryError("the network's device buffers could not be allocated")

    def train_batch(self, x, y, lr: float) -> float:
        """One SGD step on a batch of at most batch_size samples; returns the batch's mean loss."""
        x, y = _f32(x), np.ascontiguousarray(y, dtype=np.int32)
        if x.ndim != 2 or x.shape[1] != self.sizes[0] or y.shape != (len(x),):
            raise ValueError(f"x must be (B, {self.sizes[0]}) and y (B,), got {x.shape} and {y.shape}")
        if not 1 <= len(x) <= self.batch_size:
            raise ValueError(f"a batch holds 1 to {self.batch_size} samples, got {len(x)}")
        if y.min() < 0 or y.max() >= self.sizes[2]:
            raise ValueError(f"labels must be in [0, {self.sizes[2]})")
        loss = ctypes.c_float()
        status = self._lib.net_train_batch(self._net, x.ctypes.data_as(_F32P),
                                           y.ctypes.data_as(ctypes.POINTER(ctypes.c_int)), len(x), lr,
                                           ctypes.byref(loss))
        if status != 0:
            raise RuntimeError(f"net_train_batch failed (status {status}); the CUDA error is on stderr")
        return float(loss.value)

    def predict(self, x) -> np.ndarray:
        x = _f32(x)
        out = np.empty(len(x), np.int64)
        if self._lib.net_predict(self._net, x.ctypes.data_as(_F32P), len(x),
                                 out.ctypes.data_as(ctypes.POINTER(ctypes.c_int64))) != 0:
            raise RuntimeError("net_predict failed; the CUDA error is on stderr")
        return out

    def evaluate(self, x, y) -> float:
        """Accuracy over all samples."""
        return float((self.predict(x) == np.asarray(y)).mean())

    def parameters(self) -> dict:
        d_in, h, d_out = self.sizes
        flat = np.empty(d_in * h + h + h * d_out + d_out, np.float32)
        if self._lib.net_get_params(self._net, flat.ctypes.data_as(_F32P)) != 0:
            raise RuntimeError("net_get_params failed")
        shapes = {"W1": (d_in, h), "b1": (h,), "W2": (h, d_out), "b2": (d_out,)}
        out, offset = {}, 0
        for name, shape in shapes.items():
            size = int(np.prod(shape))
            out[name] = flat[offset:offset + size].reshape(shape)
            offset += size
        return out

    def close(self):
        if getattr(self, "_net", None):
            self._lib.net_free(self._net)
            self._net = None

    def __del__(self):
        self.close()
