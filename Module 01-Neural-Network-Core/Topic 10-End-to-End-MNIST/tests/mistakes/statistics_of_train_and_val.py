"""Normalisation statistics computed on all training images, validation split included, before the split.
The validation images then took part in "training" (their pixels moved the mean and std), so the validation
score is no longer a fair estimate: a small leak, invisible in the shapes and in the accuracy."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def load_data(subset=None, val_size=5000, seed=0, data_dir=None, dtype=np.float32):
    x_train, y_train, x_test, y_test = load_mnist(data_dir=data_dir)
    order = np.random.default_rng(seed).permutation(len(x_train))
    if subset is not None:
        order = order[:subset + val_size]
        x_test, y_test = x_test[:subset], y_test[:subset]
    _, mean, std = normalize_images(x_train[order], dtype=dtype)   # statistics of train AND validation
    val_idx, train_idx = order[:val_size], order[val_size:]
    x_tr, _, _ = normalize_images(x_train[train_idx], mean, std, dtype=dtype)
    x_val, _, _ = normalize_images(x_train[val_idx], mean, std, dtype=dtype)
    x_te, _, _ = normalize_images(x_test, mean, std, dtype=dtype)
    labels = lambda y: np.asarray(y, dtype=np.int64)  # noqa: E731
    return {"train": (x_tr, labels(y_train[train_idx])), "val": (x_val, labels(y_train[val_idx])),
            "test": (x_te, labels(y_test)), "mean": mean, "std": std}
