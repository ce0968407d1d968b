"""The L2 gradient of 0.5 * reg * |W|^2 written as 2 * reg * W.
The loss is right but the weights decay twice as fast as it says; a gradient check with reg > 0 shows it.
"""

from dlfs.components import load_topic

_ref = load_topic(6, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


class TwoLayerNet(_ref.TwoLayerNet):
    def loss(self, X, y=None):
        result = super().loss(X, y)
        if y is None:
            return result
        loss, grads = result
        grads["W1"] = grads["W1"] + self.reg * self.params["W1"]   # reg * W was there: now 2 * reg * W
        grads["W2"] = grads["W2"] + self.reg * self.params["W2"]
        return loss, grads
