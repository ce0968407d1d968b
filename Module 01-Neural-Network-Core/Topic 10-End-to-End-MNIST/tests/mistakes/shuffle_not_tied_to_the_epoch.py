"""The batch iterator is never told the epoch. A fresh iterator starts from epoch 0's order, so a run resumed at epoch 2 trains on epoch 0's batches again and drifts away from the uninterrupted run."""


from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4

_BatchIterator = _ref.BatchIterator


class _NoEpochBatchIterator(_BatchIterator):
    def set_epoch(self, epoch):
        pass  # the mistake: the epoch is ignored, each new iterator begins at epoch 0


def fit(*args, **kwargs):
    _ref.BatchIterator = _NoEpochBatchIterator
    try:
        return _ref.fit(*args, **kwargs)
    finally:
        _ref.BatchIterator = _BatchIterator
