"""The tanh derivative is computed as 1 - x^2 from the input x instead of 1 - t^2 from the output t = tanh(x). The gradient is wrong everywhere except at 0, and becomes negative for |x| > 1."""

import numpy as np

from dlfs.components import load_module, topic_file

# a private copy of the level-2 reference, so that patching its classes cannot leak into the real one
_ref = load_module(topic_file(2, level=2), name="dlfs_topic02_mistake_tanh_of_input")
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


def _value_tanh(self):
    out = _ref.Value(float(np.tanh(self.data)), (self,), "tanh")

    def _backward():
        self.grad += (1.0 - self.data ** 2) * out.grad   # the mistake: the input squared
    out._backward = _backward
    return out


def _tensor_tanh(self):
    out = self._make(np.tanh(self.data), (self,), "tanh")

    def _backward():
        self._accumulate(out.grad * (1.0 - self.data ** 2))   # the mistake: the input squared
    out._backward = _backward
    return out


_ref.Value.tanh, _ref.Tensor.tanh = _value_tanh, _tensor_tanh
