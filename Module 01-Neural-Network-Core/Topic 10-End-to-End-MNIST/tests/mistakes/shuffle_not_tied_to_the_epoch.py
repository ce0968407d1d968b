"""Shuffling from one generator created at the start of fit. The order of epoch 3 then depends on how many epochs ran before in the same call, so resuming from a checkpoint replays different batches."""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(next(p for p in Path(__file__).resolve().parents if (p / "utils" / "curriculum.py").is_file())))
from utils.components import load_topic  # noqa: E402

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4

_fit = _ref.fit


def fit(model, optimizer, train, val=None, epochs=1, batch_size=128, seed=0, **kwargs):
    rng = np.random.default_rng(seed)  # one stream for the whole call
    _ref.epoch_order = lambda n, seed, epoch: rng.permutation(n)
    try:
        return _fit(model, optimizer, train, val, epochs=epochs, batch_size=batch_size, seed=seed, **kwargs)
    finally:
        _ref.epoch_order = epoch_order
