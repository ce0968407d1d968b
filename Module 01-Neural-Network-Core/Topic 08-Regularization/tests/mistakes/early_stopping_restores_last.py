"""Early stopping that stores REFERENCES to p.data instead of copies.
The optimizer updates p.data in place, so the "best" snapshot follows the weights: restore gives the last epoch.
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
                self.best_weights = [_array_of(p) for p in params]  # references, not copies
        else:
            self.num_bad_epochs += 1
        self.epoch += 1
        stop = self.num_bad_epochs >= self.patience
        if stop:
            self.stopped = True
            if self.restore_best and params is not None and self.best_weights is not None:
                self.restore(params)
        return stop
