"""Plumbing shared by the level-4 PyTorch references: writing golden files, and torch on one thread.

Every topic's `solutions/level04-pytorch-reference.py` defines `make_golden() -> {file name: {array name: array}}`
and, run with `--make-golden`, writes those arrays to the topic's `tests/golden/*.npz` through write_golden.
The value tests read them back (the `golden` fixture) and tests/test_golden.py checks that level 4 still
reproduces them.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np


def golden_dir(level4_file) -> Path:
    """tests/golden/ of the topic that `level4_file` (a solutions/level04-*.py path) belongs to."""
    return Path(level4_file).resolve().parent.parent / "tests" / "golden"


def write_golden(golden: dict, level4_file) -> list[Path]:
    """Write {name: {key: array}} as golden_dir(level4_file)/name.npz (compressed, no pickle); return the paths."""
    folder = golden_dir(level4_file)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, arrays in golden.items():
        path = folder / f"{name}.npz"
        np.savez_compressed(path, **{key: np.asarray(value) for key, value in arrays.items()})
        print(f"wrote {path} ({path.stat().st_size} bytes): {', '.join(arrays)}")
        written.append(path)
    return written


@contextmanager
def one_torch_thread():
    """Run torch on one thread inside the block, then restore the previous setting.

    The references work on tiny tensors: on a busy CPU, synchronising torch's thread pool can cost a
    hundred times the arithmetic (a train-mode batch norm of a small batch: tens of milliseconds
    instead of tens of microseconds). Also usable as a decorator.
    """
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
