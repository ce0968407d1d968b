"""Adam without bias correction: m and v are used as they are, although both start at zero.
Adam's first step becomes lr * 0.1 / sqrt(0.001) = 3.2 lr instead of lr, and no trajectory matches torch.optim.Adam."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(3, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


class Adam(_ref.Adam):
    def update(self, data, grad, state):
        beta1, beta2 = self.betas
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(data)
            state["exp_avg_sq"] = np.zeros_like(data)
        state["step"] += 1
        g = grad
        if self.weight_decay and self.decoupled_weight_decay:
            data *= 1 - self.lr * self.weight_decay
        elif self.weight_decay:
            g = grad + self.weight_decay * data
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m *= beta1
        m += (1 - beta1) * g
        v *= beta2
        v += (1 - beta2) * g * g
        data -= self.lr * m / (np.sqrt(v) + self.eps)  # missing: m / (1 - beta1^t), v / (1 - beta2^t)


class AdamW(Adam):
    decoupled_weight_decay = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
