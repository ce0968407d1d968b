"""Crop offsets drawn with rng.integers(0, 2 * padding): the upper bound of integers() is exclusive, so the window never reaches the bottom or right edge of the padded image (an off-by-one: offsets 0..2p-1 instead of 0..2p)."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 1


def random_crop(x, padding, rng):
    x = np.asarray(x)
    rng = np.random.default_rng(rng)
    N, C, H, W = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dy, dx = rng.integers(0, max(2 * padding, 1), size=(2, N))  # should be 2 * padding + 1
    out = np.empty_like(x)
    for n in range(N):
        out[n] = padded[n, :, dy[n]:dy[n] + H, dx[n]:dx[n] + W]
    return out


class RandomCropFlip(_ref.RandomCropFlip):
    def __call__(self, x):
        out = random_crop(x, self.padding, self.rng)
        return _ref.random_flip(out, self.rng) if self.flip else out
