"""pytest plugin used by utils/test_runner.py: writes one JSON line per test to --dlfs-report.

A line is written as soon as a test finishes, so a learner file that kills the interpreter
(os._exit, a segfault) still leaves the results of every test before it.
"""

from __future__ import annotations

import json

import pytest

from dlfs.testing import CATEGORIES


def pytest_addoption(parser):
    parser.addoption("--dlfs-report", default=None, help="write per-test JSON lines to this file")


def _short_message(report) -> str:
    longrepr = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):  # skips: (file, line, reason)
        return str(longrepr[-1])
    crash = getattr(getattr(longrepr, "reprcrash", None), "message", None)
    text = crash if crash else str(longrepr)
    return text.strip()[:600]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.excinfo is not None:
        report.dlfs_exception = call.excinfo.typename
        if call.excinfo.errisinstance(NotImplementedError):
            report.dlfs_not_implemented = True
        if "Timeout" in call.excinfo.typename or "Timeout" in str(call.excinfo.value)[:40]:
            report.dlfs_timeout = True


def pytest_runtest_logreport(report):
    path = getattr(pytest_runtest_logreport, "path", None)
    if path is None:
        return
    # one record per test: its call phase, or the setup/teardown phase that failed or skipped
    if report.when != "call" and not (report.failed or report.skipped):
        return
    item = pytest_runtest_logreport.items.get(report.nodeid)
    category = next((c for c in CATEGORIES if item is not None and item.get_closest_marker(c)), "other")
    hint_marker = item.get_closest_marker("hint") if item is not None else None
    task_marker = item.get_closest_marker("task") if item is not None else None
    props = dict(report.user_properties)
    record = {
        "nodeid": report.nodeid,
        "name": report.nodeid.split("::")[-1],
        "file": report.nodeid.split("::")[0].split("/")[-1],
        "category": category,
        "hint": hint_marker.args[0] if hint_marker and hint_marker.args else None,
        "task": task_marker.args[0] if task_marker and task_marker.args else None,
        "when": report.when,
        "outcome": report.outcome,
        "message": _short_message(report) if not report.passed else "",
        "exception": getattr(report, "dlfs_exception", None),
        "not_implemented": bool(getattr(report, "dlfs_not_implemented", False)),
        "timeout": bool(getattr(report, "dlfs_timeout", False)) or "Timeout" in _short_message(report)[:80],
        "duration": round(report.duration, 4),
        "speed_ratio": props.get("speed_ratio"),
        "speed_threshold": props.get("speed_threshold"),
        "speed_detail": props.get("speed_detail"),
    }
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def pytest_sessionfinish(session):
    """Last line: which file every reused topic came from (load_topic's record)."""
    path = getattr(pytest_runtest_logreport, "path", None)
    if path is None:
        return
    from dlfs.components import loaded_topics

    reused = {str(n): {"file": str(f), "how": how} for n, (f, how) in loaded_topics().items()}
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"reused": reused}) + "\n")


def pytest_collection_finish(session):
    pytest_runtest_logreport.items = {item.nodeid: item for item in session.items}


def pytest_configure(config):
    path = config.getoption("--dlfs-report")
    pytest_runtest_logreport.path = path
    pytest_runtest_logreport.items = {}
