"""The runner itself: categories, exit codes, "not started", crashes, hangs, --impl, --hint, progress records.

These run the real runner as a learner would, on Topic 01, with files that misbehave on purpose.
"""

import json
import os
import subprocess
import sys

import pytest

from dlfs.curriculum import REPO_ROOT, topic

RUNNER = [sys.executable, str(REPO_ROOT / "utils" / "test_runner.py")]
T1 = topic(1)


def run(*args, home, timeout=600):
    env = dict(os.environ, DLFS_HOME=str(home))
    env.pop("DLFS_IMPL", None)
    return subprocess.run(RUNNER + list(args), cwd=REPO_ROOT, capture_output=True, text=True, env=env,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(body)
    return path


def test_reference_level_passes_and_names_the_file(home):
    proc = run("--day", "1", "--level", "2", home=home)
    assert proc.returncode == 0, proc.stdout
    assert "Testing: " in proc.stdout and "level02-vectorized.py" in proc.stdout
    assert "✅ Shape tests:" in proc.stdout and "✅ Value tests:" in proc.stdout
    assert "0 failed" in proc.stdout.splitlines()[-1]
    assert not (home / "progress.json").exists(), "reference runs are not the learner's progress"


def test_untouched_starter_is_reported_not_started(home):
    proc = run("--day", "1", "--impl", str(T1.starter_file), home=home)
    assert proc.returncode == 1
    assert "Not started" in proc.stdout and "starter.py" in proc.stdout


def test_wrong_implementation_fails_with_categories_and_hints(tmp_path, home):
    wrong = write(tmp_path, "wrong.py", "import numpy as np\n"
                  "def __getattr__(name):\n    return lambda *a, **k: np.zeros((1,))\n")
    proc = run("--day", "1", "--impl", str(wrong), home=home)
    assert proc.returncode == 1
    assert "❌" in proc.stdout and "→ read hints/hint-" in proc.stdout
    assert "--hint" in proc.stdout


def test_hanging_implementation_is_stopped_and_reported(tmp_path, home):
    hang = write(tmp_path, "hang.py", "def __getattr__(name):\n    while True:\n        pass\n")
    proc = run("--day", "1", "--impl", str(hang), "--timeout", "1", "-k", "shape", home=home)
    assert proc.returncode == 1
    assert "timed out" in proc.stdout


def test_crashing_implementation_is_reported_and_the_run_goes_on(tmp_path, home):
    crash = write(tmp_path, "crash.py", "import os\nprint('noise ' * 10000)\n"
                  "def __getattr__(name):\n    os._exit(3)\n")
    proc = run("--day", "1", "--impl", str(crash), home=home)
    assert proc.returncode == 1
    assert "ended abnormally (exit code 3)" in proc.stdout
    assert proc.stdout.count("noise") < 50, "a learner's print flood must not reach the report"


def test_file_that_does_not_import_is_reported(tmp_path, home):
    broken = write(tmp_path, "broken.py", "raise ImportError('missing piece')\n")
    proc = run("--day", "1", "--impl", str(broken), home=home)
    assert proc.returncode == 1
    assert "could not import broken.py: ImportError: missing piece" in proc.stdout


def test_learner_run_is_recorded_and_hint_is_remembered(home):
    if T1.learner_file.exists():
        pytest.skip("a solution.py exists in Topic 01 of this checkout; this test needs a pristine folder")
    proc = run("--day", "1", home=home)
    assert proc.returncode == 2 and "cp " in proc.stdout and "starter.py" in proc.stdout
    proc = run("--day", "1", "--hint", "1", home=home)
    assert proc.returncode == 0 and proc.stdout.strip()
    state = json.loads((home / "progress.json").read_text())
    assert state["topics"]["1"]["hints_used"] == [1]


def test_bad_arguments_give_a_clear_message(home):
    proc = run("--day", "99", home=home)
    assert proc.returncode == 2 and "topics are numbered 1 to 34" in proc.stdout
    proc = run("--day", "1", "--level", "7", home=home)
    assert proc.returncode == 2 and "--level must be" in proc.stdout
    proc = run("--day", "1", "--hint", "42", home=home)
    assert proc.returncode == 2 and "there is no hint 42" in proc.stdout


def test_progress_records_a_passing_learner_file(tmp_path, home, monkeypatch):
    """record_result is what the runner calls after a learner run; the badge reflects it."""
    monkeypatch.setenv("DLFS_HOME", str(home))
    from dlfs import progress

    progress.record_result(1, "passed", 10, 10, "solution.py")
    assert progress.badge(progress.load_state()).endswith("Module 0 Topic 01 (3%)")


def _record(name, outcome="passed", category="value", task=1, hint=1, not_implemented=False, message=""):
    return {"nodeid": f"tests/test_basic.py::{name}", "name": name, "file": "test_basic.py", "category": category,
            "hint": hint, "task": task, "when": "call", "outcome": outcome, "message": message,
            "exception": None, "not_implemented": not_implemented, "timeout": False, "duration": 0.01,
            "speed_ratio": None, "speed_threshold": None, "speed_detail": None}


def test_work_in_progress_shows_real_failures_first_and_unstarted_tasks_on_one_line(capsys):
    from dlfs.test_runner import TopicResult, report_topic

    todo = dict(outcome="failed", not_implemented=True, message="NotImplementedError: Task 5")
    res = TopicResult(topic=topic(9), file=topic(9).learner_file, records=[
        _record("test_task1_shape", category="shape"),
        _record("test_task5_value", task=5, hint=2, **todo),
        _record("test_task2_value", task=2, hint=4, outcome="failed", message="dgamma differs: got 2, expected 1"),
        _record("test_task6_edge", category="edge", task=6, hint=3, **todo),
        _record("test_task2_speed", category="performance", task=2, hint=3, outcome="failed",
                message="ValueError: shapes do not chain"),
    ])
    report_topic(res, "your solution")
    out = capsys.readouterr().out
    assert "1 failing test(s)" in out, "a NotImplementedError is not a real failure, nor is a speed test"
    assert out.index("task 2 · test_task2_value: dgamma differs") < out.index("Not started: tasks 5, 6")
    assert "hints/hint-4-" in out.split("Not started")[0], "the real failure points to its own hint"
    assert "Value tests: 0/2 passed, 1 not started" in out
    assert "test_task2_speed not measured, it raised: ValueError" in out
    assert res.failed == 3 and res.passed == 1 and res.status == "failed"
    assert "1/4 tests passed" in out.splitlines()[-1]


def test_a_topic_without_its_dataset_says_so_in_one_line(capsys):
    from dlfs.test_runner import TopicResult, report_topic

    why = "Skipped: needs data: MNIST is not on this machine (looked in /x/mnist): run `python -m dlfs.datasets --download mnist`"
    res = TopicResult(topic=topic(10), file=topic(10).learner_file,
                      records=[_record(f"test_{i}", outcome="skipped", message=why) for i in range(7)])
    report_topic(res, "your solution")
    out = capsys.readouterr().out
    assert out.count("MNIST is not on this machine") == 1 and "7 test(s) skipped: not a problem with your code" in out
    assert "❌" not in out and "→ read" not in out, "missing data must not blame the learner's code"
    assert res.status == "no data"


def test_a_solution_outside_the_repository_gets_the_same_result_as_in_place(tmp_path, home):
    t = topic(9)
    copy = tmp_path / "elsewhere" / "solution.py"
    copy.parent.mkdir()
    copy.write_text(t.level_file(2).read_text())
    here = run("--day", "9", "--level", "2", home=home)
    there = run("--day", "9", "--impl", str(copy), home=home)
    assert there.returncode == 0, there.stdout + there.stderr
    assert f"Testing: {copy}" in there.stdout, "the runner names the file it tested"
    assert here.stdout.splitlines()[-1] == there.stdout.splitlines()[-1]


def test_a_reference_level_never_runs_on_the_learners_earlier_topics(tmp_path, home):
    if topic(3).learner_file.exists():
        pytest.skip("a solution.py exists in Topic 03 of this checkout; this test needs a pristine folder")
    env_home = dict(home=home)
    os.environ["DLFS_USE_MINE"] = "3"
    try:
        proc = run("--day", "9", "--level", "2", **env_home)
    finally:
        del os.environ["DLFS_USE_MINE"]
    assert proc.returncode == 0, proc.stdout
    assert f"03 ← {topic(3).level_file(2).relative_to(REPO_ROOT)}" in proc.stdout


def test_dlfs_use_mine_on_a_learner_run_lists_the_learners_file(tmp_path, home):
    if topic(3).learner_file.exists():
        pytest.skip("a solution.py exists in Topic 03 of this checkout; this test needs a pristine folder")
    copy = tmp_path / "solution.py"
    copy.write_text(topic(9).level_file(2).read_text())
    os.environ["DLFS_USE_MINE"] = "3"
    try:
        proc = run("--day", "9", "--impl", str(copy), home=home)
    finally:
        del os.environ["DLFS_USE_MINE"]
    assert proc.returncode == 1
    assert "DLFS_USE_MINE asks for your Topic 03 solution" in proc.stdout, "a missing solution.py is an error"


def test_dlfs_console_command_calls_the_same_runner(tmp_path, home):
    env = dict(os.environ, DLFS_HOME=str(home))
    cli = [sys.executable, "-m", "dlfs.cli"]
    proc = subprocess.run(cli + ["hint", "1", "1"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("# Hint 1")
    proc = subprocess.run(cli + ["test", "1", "--level", "2", "-k", "shape"], capture_output=True, text=True,
                          env=env, cwd=tmp_path)
    assert proc.returncode == 0 and "level02-vectorized.py" in proc.stdout, proc.stdout + proc.stderr
    proc = subprocess.run(cli + ["progress"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0


def test_dlfs_start_copies_the_starter_and_never_overwrites_work(tmp_path, monkeypatch, capsys):
    from dlfs import cli

    class FakeTopic:
        number, title, exists = 4, "Fake", True
        folder = tmp_path
        starter_file, learner_file = tmp_path / "starter.py", tmp_path / "solution.py"

    FakeTopic.starter_file.write_text("STARTER = True\n")
    monkeypatch.setattr(cli, "topic", lambda n: FakeTopic)
    assert cli.main(["start", "4"]) == 0
    assert FakeTopic.learner_file.read_text() == "STARTER = True\n"
    FakeTopic.learner_file.write_text("MY WORK\n")
    assert cli.main(["start", "4"]) == 1 and FakeTopic.learner_file.read_text() == "MY WORK\n"
    assert "your work is kept" in capsys.readouterr().out
    assert cli.main(["start", "4", "--force"]) == 0 and FakeTopic.learner_file.read_text() == "STARTER = True\n"
