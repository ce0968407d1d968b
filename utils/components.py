"""The one import path for reusing earlier topics.

Later topics never copy code from earlier ones: they load it from here.

    from dlfs.components import load_topic
    optim = load_topic(3)            # Topic 03's optimizers
    adam = optim.Adam(params, lr=1e-3)

Which file `load_topic(n, level=None)` imports:
1. `level=L` given: reference level L of topic n, always (a reference never runs on learner code);
2. else, if n is listed in the environment variable DLFS_USE_MINE (`DLFS_USE_MINE=3,5,6`, or `all`): your own
   `solution.py` in topic n's folder. If that file does not exist, it is an error, never a silent fallback;
3. else the level in DLFS_LEVEL, else level 2.

So you can run topic 10 on top of your own optimizers, layers and batch norm:
    DLFS_USE_MINE=3,6,9 python "Module 01-Neural-Network-Core/Topic 10-End-to-End-MNIST/train.py"
and the test runner's header lists which file each reused topic came from (`loaded_topics()`).

Solution files live in folders whose names have spaces, so they are loaded by path (importlib), once,
and cached under a stable module name.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from dlfs.curriculum import LEVEL_NAMES
from dlfs.curriculum import topic as _topic

DEFAULT_LEVEL = 2
_LOADED: dict[int, tuple[Path, str]] = {}  # topic number -> (file, how it was chosen), in load order


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


def mine() -> set[int] | str:
    """The topics DLFS_USE_MINE names: a set of numbers, or "all"."""
    wanted = os.environ.get("DLFS_USE_MINE", "").replace(" ", "")
    if wanted.lower() == "all":
        return "all"
    numbers = set()
    for item in filter(None, wanted.split(",")):
        try:
            numbers.add(int(item))
        except ValueError:
            raise ValueError(f"DLFS_USE_MINE={wanted!r}: use topic numbers separated by commas, or 'all'") from None
    return numbers


def uses_mine(number: int) -> bool:
    """True when DLFS_USE_MINE asks for the learner's own solution.py of this topic."""
    wanted = mine()
    return wanted == "all" or int(number) in wanted


def default_level() -> int:
    raw = os.environ.get("DLFS_LEVEL", "")
    if not raw:
        return DEFAULT_LEVEL
    if raw not in {str(k) for k in LEVEL_NAMES}:
        raise ValueError(f"DLFS_LEVEL={raw!r}: use one of {sorted(LEVEL_NAMES)}")
    return int(raw)


def topic_source(number: int, level: int | None = None) -> tuple[Path, str]:
    """(file, how it was chosen) that load_topic(number, level) imports."""
    t = _topic(number)
    if level is not None:
        return t.level_file(level), f"reference level {level}"
    if uses_mine(number):
        if not t.learner_file.is_file():
            raise FileNotFoundError(
                f"DLFS_USE_MINE asks for your Topic {t.number:02d} solution, but {t.learner_file} does not exist: "
                f"write it (cp starter.py solution.py) or remove {t.number} from DLFS_USE_MINE")
        return t.learner_file, "your solution.py (DLFS_USE_MINE)"
    level = default_level()
    return t.level_file(level), f"reference level {level}"


def topic_file(number: int, level: int | None = None) -> Path:
    """The file that load_topic(number, level) imports."""
    return topic_source(number, level)[0]


def load_topic(number: int, level: int | None = None) -> ModuleType:
    """Import topic `number`'s implementation (see the module docstring for which file)."""
    path, how = topic_source(number, level)
    module = load_module(path)
    _LOADED.setdefault(int(number), (path, how))
    return module


def loaded_topics() -> dict[int, tuple[Path, str]]:
    """{topic number: (file, how it was chosen)} for every topic load_topic imported in this process."""
    return dict(_LOADED)
