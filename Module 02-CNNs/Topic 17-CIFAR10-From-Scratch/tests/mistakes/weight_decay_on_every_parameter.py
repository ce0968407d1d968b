"""Weight decay applied to every parameter, BatchNorm's gamma and beta and the biases included. It still trains, but it pulls gamma towards 0 (fighting the normalisation) and biases towards 0 for no reason: the parameter groups are not split."""


from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def make_optimizer(model, name="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4):
    return _ref.GroupedOptimizer([{"params": model.parameters(), "weight_decay": weight_decay}],
                                 name=name, lr=lr, momentum=momentum, nesterov=nesterov)
