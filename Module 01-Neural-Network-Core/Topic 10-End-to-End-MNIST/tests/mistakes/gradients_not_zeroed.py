"""Gradients not zeroed before the backward pass. Layers ADD into p.grad, so every call returns the sum of all gradients computed so far."""


from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def loss_and_grads(model, x, y):
    logits = model.forward(x)  # missing: p.zero_grad() for every parameter
    loss, dlogits = layers.softmax_cross_entropy(logits, y)
    model.backward(dlogits)
    return loss, [p.grad.copy() for p in model.parameters()]
