"""Patience off by one: stop only when num_bad_epochs EXCEEDS patience.
patience=3 then waits 4 epochs without improvement: one wasted epoch per stop, and the tests' scripted curve runs on.
"""

from dlfs.components import load_topic

_ref = load_topic(8, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})
EXPECTED_HINT = 2


class EarlyStopping(_ref.EarlyStopping):
    def step(self, metric, params=None):
        metric = float(metric)
        if self.is_improvement(metric):
            self.best, self.best_epoch, self.num_bad_epochs = metric, self.epoch, 0
            if params is not None:
                self.best_weights = [_array_of(p).copy() for p in params]
        else:
            self.num_bad_epochs += 1
        self.epoch += 1
        stop = self.num_bad_epochs > self.patience  # should be >=
        if stop:
            self.stopped = True
            if self.restore_best and params is not None and self.best_weights is not None:
                self.restore(params)
        return stop
