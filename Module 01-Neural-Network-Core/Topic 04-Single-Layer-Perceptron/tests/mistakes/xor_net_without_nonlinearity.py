"""TwoLayerXOR without the tanh between its layers: h = X @ W1 + b1.
Two linear layers compose into one linear map: the net is still one straight line and never gets more than 3 of the 4 XOR points.
"""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(4, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


class TwoLayerXOR(_ref.TwoLayerXOR):
    def _hidden_and_logits(self, X):
        p = self.params
        h = X @ p["W1"] + p["b1"]            # no nonlinearity: still linear in X
        return h, (h @ p["W2"] + p["b2"])[:, 0]

    def _loss_and_grads(self, X, t):
        p, n = self.params, X.shape[0]
        h, z = self._hidden_and_logits(X)
        loss = float(np.mean(np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - t * z))
        dz = ((sigmoid(z) - t) / n)[:, None]
        dh = dz @ p["W2"].T                  # consistent gradients of the linear net
        grads = {"W1": X.T @ dh, "b1": dh.sum(axis=0), "W2": h.T @ dz, "b2": dz.sum(axis=0)}
        return loss, grads
