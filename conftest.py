"""pytest wiring for the whole repository.

Topic tests take the implementation they check from the `impl` fixture:
- `pytest --dlfs-impl PATH ...` (what utils/test_runner.py does) tests that one file;
- plain `pytest` tests every reference level of the topic (levels 1 to 4), so the references are
  held to exactly the tests a learner's file must pass.

Every topic test carries one category marker (shape, value, gradient, edge, determinism, performance),
a hint marker (`@pytest.mark.hint(2)` = hints/hint-2-*.md) and a task marker (`@pytest.mark.task(3)` = the
"## Task 3" of questions.md, on the test or on each of its parametrize cases); a test without them is a
collection error.
"""

from __future__ import annotations

import gc
import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent

from dlfs.components import load_module, load_topic
from dlfs.curriculum import LEVELS, topic_of_path
from dlfs.testing import CATEGORIES, require_dataset
from dlfs.timer import speed_ratio

TORCH_MISSING = importlib.util.find_spec("torch") is None
TASK_MARKERS_FROM = 1  # topics from this number on must label every test with its task (1: every topic)


def pytest_addoption(parser):
    group = parser.getgroup("dl-from-scratch")
    group.addoption("--dlfs-impl", default=os.environ.get("DLFS_IMPL"),
                    help="test this implementation file instead of the reference levels")
    group.addoption("--dlfs-levels", default=os.environ.get("DLFS_LEVELS", "1,2,3,4"),
                    help="reference levels to test when no --dlfs-impl is given (default 1,2,3,4)")
    group.addoption("--dlfs-task", type=int, default=None, metavar="N",
                    help="only the tests marked @pytest.mark.task(N)")


def pytest_configure(config):
    if not config.getoption("--dlfs-impl"):
        # the references are tested: every topic they reuse must be a reference too, never learner code
        os.environ.pop("DLFS_USE_MINE", None)
    for name in CATEGORIES:
        config.addinivalue_line("markers", f"{name}: {name} test (a category of the test runner)")
    config.addinivalue_line("markers", "hint(n): the hint (hints/hint-n-*.md) to read when this test fails")
    config.addinivalue_line("markers", "task(n): the task of questions.md (## Task n) this test checks")
    config.addinivalue_line("markers", "slow: a long-running end-to-end test")
    config.addinivalue_line("markers", "data(name): needs dataset `name` (mnist, cifar10, tinyshakespeare, fra-eng); "
                                       "skipped with one clear reason when it is not on this machine")


def pytest_collection_modifyitems(config, items):
    problems = []
    for item in items:
        if topic_of_path(item.path) is None:
            continue
        cats = [c for c in CATEGORIES if item.get_closest_marker(c)]
        if len(cats) != 1:
            problems.append(f"{item.nodeid}: needs exactly one category marker of {CATEGORIES}, has {cats}")
        if item.get_closest_marker("hint") is None:
            problems.append(f"{item.nodeid}: needs a @pytest.mark.hint(n) marker")
        if item.get_closest_marker("task") is None and topic_of_path(item.path).number >= TASK_MARKERS_FROM:
            problems.append(f"{item.nodeid}: needs a @pytest.mark.task(n) marker (## Task n of questions.md)")
    if problems:
        raise pytest.UsageError("topic tests must be labelled:\n  " + "\n  ".join(problems))
    task = config.getoption("--dlfs-task")
    if task is not None:
        keep = [i for i in items if (m := i.get_closest_marker("task")) is not None and m.args and m.args[0] == task]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def pytest_terminal_summary(terminalreporter):
    """Skip reasons grouped and counted (one line each), just above pytest's final summary line."""
    reasons = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        reasons[reason] = reasons.get(reason, 0) + 1
    if reasons:
        terminalreporter.section("skipped, by reason", sep="-")
        for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
            terminalreporter.line(f"{count:5d} × {reason}")


def pytest_runtest_setup(item):
    for marker in item.iter_markers("data"):
        for name in marker.args:
            require_dataset(name)


def pytest_generate_tests(metafunc):
    if "impl" not in metafunc.fixturenames:
        return
    t = topic_of_path(metafunc.definition.path)
    if t is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: the impl fixture only works inside a topic folder")
    explicit = metafunc.config.getoption("--dlfs-impl")
    if explicit:
        metafunc.parametrize("impl", [str(Path(explicit).resolve())], ids=["impl"], indirect=True)
        return
    levels = [int(x) for x in metafunc.config.getoption("--dlfs-levels").split(",") if x.strip()]
    paths = [str(t.level_file(level)) for level in levels if level in LEVELS]
    metafunc.parametrize("impl", paths, ids=[f"level{lv}" for lv in levels], indirect=True)


@pytest.fixture
def impl(request):
    """The module under test (a learner's file or a reference level)."""
    path = Path(request.param)
    if path.name == LEVELS[4] and TORCH_MISSING:
        pytest.skip("level 4 needs PyTorch, which is not installed (pip install -r requirements-dev.txt)")
    if not path.is_file():
        pytest.fail(f"implementation file not found: {path}", pytrace=False)
    try:
        return load_module(path)
    except NotImplementedError:
        raise
    except Exception as exc:  # the learner's file does not even import: say so plainly
        pytest.fail(f"could not import {path.name}: {type(exc).__name__}: {exc}", pytrace=False)


@pytest.fixture
def reference(request):
    """Topic's level-2 reference module (for speed comparisons and cross-checks)."""
    t = topic_of_path(request.node.path)
    return load_topic(t.number, level=2)


@pytest.fixture
def golden(request):
    """golden(name) -> dict of arrays stored by level 4 in the topic's tests/golden/<name>.npz."""
    t = topic_of_path(request.node.path)

    def load(name: str) -> dict:
        path = t.tests_dir / "golden" / f"{name}.npz"
        if not path.is_file():
            pytest.fail(f"golden file missing: {path} (run the level-4 reference with --make-golden)", pytrace=False)
        with __import__("numpy").load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}

    return load


@pytest.fixture
def compare_speed(request):
    """compare_speed(candidate, reference, *args, threshold=3.0) -> ratio (candidate time / reference time).

    The ratio is recorded for the runner, which shows a warning above the threshold; it never fails a test.
    """

    def compare(candidate, reference_fn, *args, threshold: float = 3.0, repeats: int = 3, **kwargs) -> float:
        gc.collect()
        gc.disable()  # a collection pause inside one side's timing would skew the ratio
        try:
            ratio, cand, ref = speed_ratio(candidate, reference_fn, *args, repeats=repeats, **kwargs)
        finally:
            gc.enable()
        request.node.user_properties.append(("speed_ratio", ratio))
        request.node.user_properties.append(("speed_threshold", threshold))
        request.node.user_properties.append(("speed_detail", f"{cand.median:.4g}s vs reference {ref.median:.4g}s"))
        return ratio

    return compare
