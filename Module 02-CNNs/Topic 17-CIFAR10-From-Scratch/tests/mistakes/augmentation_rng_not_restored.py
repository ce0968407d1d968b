"""A checkpoint restored without the augmentation generator: weights, BatchNorm statistics and momentum buffers come back, but the crops and flips of the resumed epochs start from the fresh augmenter's seed, so the run drifts away from the uninterrupted one."""


from dlfs.components import load_topic

_ref = load_topic(17, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def load_checkpoint(path, model, optimizer=None, augment=None):
    return _ref.load_checkpoint(path, model, optimizer, None)  # the RNG state in the file is ignored
