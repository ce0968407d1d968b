"""The gradient of a broadcast operand is not summed back to the operand's shape. A bias b of shape (4,) added to a (3, 4) batch gets a (3, 4) gradient, and the update b -= lr * b.grad silently becomes a (3, 4) matrix."""

import numpy as np

from dlfs.components import load_module, topic_file

# a private copy of the level-2 reference, so that patching it cannot leak into the real one
_ref = load_module(topic_file(2, level=2), name="dlfs_topic02_mistake_no_unbroadcast")
EXPECTED_HINT = 3


def unbroadcast(grad, shape):
    return np.asarray(grad)   # the mistake: the output's gradient is passed on as it is


_ref.unbroadcast = unbroadcast   # every Tensor operation of the copy now uses it
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
