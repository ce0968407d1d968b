"""The layer's dx taken from the query projection only: dx = dq Wq, forgetting dk Wk + dv Wv.

In self-attention x feeds q, k AND v; each path sends its own gradient back and they add up. The weight
gradients are all right, so training the top layer still works: only a layer below it learns wrongly."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(25, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 5


class SelfAttention(_ref.SelfAttention):
    def backward(self, dout):
        x, _, attn_cache = self._cache
        super().backward(dout)
        dq, _, _ = _ref.attention_backward(np.asarray(dout).astype(x.dtype) @ self.Wo.data, attn_cache)
        return dq @ self.Wq.data                             # the k and v paths forgotten
