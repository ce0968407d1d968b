"""fit shuffles with a fixed seed (BatchIterator(..., seed=0)) instead of its seed argument. Runs with
different fit seeds are then identical, and the only randomness left is the initialisation: the test that
uses one seed for both the model and fit cannot tell."""

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def fit(model, optimizer, train, val=None, epochs=1, batch_size=128, seed=0, **kwargs):
    return _ref.fit(model, optimizer, train, val, epochs=epochs, batch_size=batch_size, seed=0, **kwargs)
