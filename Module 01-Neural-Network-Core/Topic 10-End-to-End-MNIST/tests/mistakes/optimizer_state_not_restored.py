"""Checkpoint without the optimizer state. The weights are restored, but Adam restarts with zero moments and step 1, so a resumed run drifts away from the uninterrupted one."""


from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4


def load_checkpoint(path, model, optimizer=None):
    return _ref.load_checkpoint(path, model, None)  # the optimizer state in the file is ignored
