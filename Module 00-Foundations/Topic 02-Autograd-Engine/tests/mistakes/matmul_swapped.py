"""The matmul gradients multiply the transposed factor on the wrong side: dA = B^T dC and dB = dC A^T instead of dA = dC B^T and dB = A^T dC. It runs for square matrices only, with wrong numbers; other shapes fail inside backward()."""

import numpy as np

from dlfs.components import load_module, topic_file

# a private copy of the level-2 reference, so that patching its classes cannot leak into the real one
_ref = load_module(topic_file(2, level=2), name="dlfs_topic02_mistake_matmul_swapped")
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 3
_correct_matmul = _ref.Tensor.__matmul__


def _matmul(self, other):
    other = self._lift(other)
    if self.ndim < 2 or other.ndim < 2:   # 1-D operands are reshaped to 2-D and come back here
        return _correct_matmul(self, other)
    out = self._make(self.data @ other.data, (self, other), "@")

    def _backward():
        if self.requires_grad:      # the mistake: B^T dC instead of dC B^T
            self._accumulate(_ref.unbroadcast(np.swapaxes(other.data, -1, -2) @ out.grad, self.shape))
        if other.requires_grad:     # the mistake: dC A^T instead of A^T dC
            other._accumulate(_ref.unbroadcast(out.grad @ np.swapaxes(self.data, -1, -2), other.shape))
    out._backward = _backward
    return out


_ref.Tensor.__matmul__ = _matmul
