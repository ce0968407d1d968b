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
