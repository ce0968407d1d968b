"""Images and labels shuffled with two different permutations when splitting off the validation set.
Every array still has the right shape and every class, but image i no longer carries its own label: the
model learns noise and validation accuracy stays at chance."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    x_train, y_train, x_test, y_test = load_mnist(data_dir=data_dir)
    rng = np.random.default_rng(seed)
    x_order = rng.permutation(len(x_train))
    y_order = rng.permutation(len(y_train))          # a second permutation: labels part from their images
    if subset is not None:
        x_order, y_order = x_order[:subset + val_size], y_order[:subset + val_size]
        x_test, y_test = x_test[:subset], y_test[:subset]
    x_tr, mean, std = normalize_images(x_train[x_order[val_size:]], dtype=dtype)
    x_val, _, _ = normalize_images(x_train[x_order[:val_size]], mean, std, dtype=dtype)
    x_te, _, _ = normalize_images(x_test, mean, std, dtype=dtype)
    labels = lambda y: np.asarray(y, dtype=np.int64)  # noqa: E731
    return {"train": (x_tr, labels(y_train[y_order[val_size:]])), "val": (x_val, labels(y_train[y_order[:val_size]])),
            "test": (x_te, labels(y_test)), "mean": mean, "std": std}
