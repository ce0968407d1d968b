"""Gradients are assigned (grad = ...) instead of accumulated (grad += ...). A node used twice (a + a, x * x) keeps only its last contribution, and a second backward() does not add to the first."""

import numpy as np

from dlfs.components import load_module, topic_file

# a private copy of the level-2 reference, so that patching its classes cannot leak into the real one
_ref = load_module(topic_file(2, level=2), name="dlfs_topic02_mistake_overwrite_grad")
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 1


def _add(self, other):
    other = self._lift(other)
    if other is None:
        return NotImplemented
    out = _ref.Value(self.data + other.data, (self, other), "+")

    def _backward():
        self.grad = out.grad      # the mistake: = instead of +=
        other.grad = out.grad
    out._backward = _backward
    return out


def _mul(self, other):
    other = self._lift(other)
    if other is None:
        return NotImplemented
    out = _ref.Value(self.data * other.data, (self, other), "*")

    def _backward():
        self.grad = other.data * out.grad      # the mistake: = instead of +=
        other.grad = self.data * out.grad
    out._backward = _backward
    return out


def _accumulate(self, grad):
    self.grad = np.array(grad, dtype=self.data.dtype)   # the mistake: overwrite what is already there


_ref.Value.__add__, _ref.Value.__mul__, _ref.Tensor._accumulate = _add, _mul, _accumulate
