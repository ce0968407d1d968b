"""Momentum with lr folded into the buffer (buf = momentum * buf + lr * g; p -= buf), the "velocity" form.
It equals torch's SGD while lr is constant, but after a schedule changes lr the velocity still carries the old lr."""

from dlfs.components import load_topic

_ref = load_topic(3, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


class SGD(_ref.SGD):
    def update(self, data, grad, state):
        g = grad + self.weight_decay * data if self.weight_decay else grad
        if not self.momentum:
            data -= self.lr * g
            return
        velocity = state.get("momentum_buffer")
        if velocity is None:
            velocity = state["momentum_buffer"] = self.lr * g
        else:
            velocity *= self.momentum
            velocity += self.lr * g  # lr applied when g enters the buffer, not when the step is taken
        data -= self.momentum * velocity + self.lr * g if self.nesterov else velocity
