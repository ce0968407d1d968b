"""Checkpoint written straight to its final name. A crash (or a full disk) in the middle of np.savez leaves a truncated file where the last good checkpoint used to be."""

import numpy as np

from dlfs.components import load_topic

_ref = load_topic(10, level=2)
globals().update({k: v for k, v in vars(_ref).items() if not k.startswith("__")})

EXPECTED_HINT = 4

import json  # noqa: E402


def save_checkpoint(path, model, optimizer, epoch, history):
    arrays = {f"weight.{i}": w for i, w in enumerate(get_weights(model))}
    arrays.update({f"opt.{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    arrays["meta"] = np.array(json.dumps({"epoch": int(epoch), "history": history, "rng": []}))
    with open(path, "wb") as fh:  # truncates the previous checkpoint before the new one is complete
        np.savez(fh, **arrays)
    return path
