"""The one import path for reusing earlier topics.

Later topics never copy code from earlier ones: they load it from here.

    from dlfs.components import load_topic
    optim = load_topic(3)            # Topic 03's optimizers
    adam = optim.Adam(params, lr=1e-3)

Which file is loaded for topic N:
1. your own `solution.py` in topic N's folder, if N is listed in the environment variable
   DLFS_USE_MINE (e.g. `DLFS_USE_MINE=3,5,6`, or `DLFS_USE_MINE=all`) and the file exists;
2. otherwise the reference level asked for by the caller (`level=`), else DLFS_LEVEL, else level 2.

So you can run topic 10 on top of your own optimizers, layers and batch norm:
    DLFS_USE_MINE=3,6,9 python "Module 01-Neural-Network-Core/Topic 10-End-to-End-MNIST/train.py"

Solution files live in folders whose names have spaces, so they are loaded by path (importlib), once,
and cached under a stable module name.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from dlfs.curriculum import topic as _topic

DEFAULT_LEVEL = 2


def load_module(path: str | Path, name: str | None = None) -> ModuleType:
    """Import a Python file by path (cached by resolved path)."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    name = name or "dlfs_" + "".join(ch if ch.isalnum() else "_" for ch in str(path.relative_to(path.anchor)))
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def uses_mine(number: int) -> bool:
    """True when DLFS_USE_MINE asks for the learner's own solution.py of this topic."""
    wanted = os.environ.get("DLFS_USE_MINE", "").replace(" ", "")
    if not wanted:
        return False
    if wanted.lower() == "all":
        return True
    return str(int(number)) in {w.lstrip("0") or "0" for w in wanted.split(",")}


def topic_file(number: int, level: int | None = None) -> Path:
    """The file that load_topic(number, level) would import."""
    t = _topic(number)
    if uses_mine(number) and t.learner_file.is_file():
        return t.learner_file
    if level is None:
        level = int(os.environ.get("DLFS_LEVEL", DEFAULT_LEVEL))
    return t.level_file(level)


def load_topic(number: int, level: int | None = None) -> ModuleType:
    """Import topic `number`'s implementation (see the module docstring for which file)."""
    return load_module(topic_file(number, level))
