"""make_optimizer("sgd", momentum=0.9) builds optim.SGD(params, lr, weight_decay=...) and drops the momentum.
Training still converges (more slowly), so nothing looks broken: the argument is simply never used."""

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def make_optimizer(model, name="adam", lr=1e-3, weight_decay=0.0, momentum=0.9):
    if name == "sgd":
        return optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)   # momentum forgotten
    return _ref.make_optimizer(model, name, lr=lr, weight_decay=weight_decay, momentum=momentum)
