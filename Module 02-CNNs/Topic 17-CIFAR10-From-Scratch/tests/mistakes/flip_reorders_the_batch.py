"""Flipping by concatenation: the mirrored images are stacked first and the others after them. Every image is a correct crop or flip, but the batch is reordered while the labels are not, so images and labels no longer match."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def random_flip(x, rng, p=0.5):
    x = np.asarray(x)
    flip = np.random.default_rng(rng).random(len(x)) < p
    return np.concatenate([x[flip][:, :, :, ::-1], x[~flip]])  # the flipped ones end up first


class RandomCropFlip(_ref.RandomCropFlip):
    def __call__(self, x):
        out = _ref.random_crop(x, self.padding, self.rng)
        return random_flip(out, self.rng) if self.flip else out
