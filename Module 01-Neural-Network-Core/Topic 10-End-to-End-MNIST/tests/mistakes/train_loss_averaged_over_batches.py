"""The epoch's train_loss averaged over steps instead of samples: the mean of the batch losses. The last,
smaller batch of the epoch then counts as much as a full one, and the curve moves when only the batch size
changes."""

import time

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 2


def fit(model, optimizer, train, val=None, epochs=1, batch_size=128, seed=0, lr_schedule=None,
        early_stopping=None, checkpoint_path=None, start_epoch=0, history=None, progress=True):
    x, y = np.asarray(train[0]), np.asarray(train[1])
    if len(x) == 0:
        raise ValueError("the training set is empty")
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} samples but y has {len(y)}")
    history = history if history is not None else {"train_loss": [], "val_loss": [], "val_acc": [],
                                                   "lr": [], "epoch_seconds": []}
    batches = BatchIterator(x, y, batch_size=batch_size, seed=seed)
    steps = len(batches)
    for epoch in range(start_epoch, epochs):
        model.train()
        start = time.perf_counter()
        batches.set_epoch(epoch)
        losses = []
        for i, (xb, yb) in enumerate(batches):
            if lr_schedule is not None:
                optimizer.lr = lr_schedule(epoch * steps + i)
            losses.append(train_step(model, optimizer, xb, yb))
        history["train_loss"].append(float(np.mean(losses)))   # each step weighs the same, whatever its size
        history["lr"].append(float(optimizer.lr))
        if val is not None:
            val_loss, val_acc = evaluate(model, *val)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
        history["epoch_seconds"].append(time.perf_counter() - start)
        if checkpoint_path is not None:
            save_checkpoint(checkpoint_path, model, optimizer, epoch + 1, history)
        if early_stopping is not None and val is not None:
            if early_stopping.step(history["val_loss"][-1], model.parameters()):
                break
    return history
