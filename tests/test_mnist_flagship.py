"""The flagship: Topic 10's train.py trains an MLP on the full MNIST set to >= 98% test accuracy.

Runs the real script, on the real data (DLFS_DATA, e.g. ../shared/data in CI), exactly as a learner would,
and reads the JSON line it prints last. Its wall time is reported, not asserted: speed is measured by
benchmark.py in one process against PyTorch, never by a timed unit test.
"""

import json
import os
import subprocess
import sys

import pytest

from dlfs.curriculum import topic

TOPIC = topic(10)
pytestmark = pytest.mark.data("mnist")


def run_train(*args, timeout=900):
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("DLFS_USE_MINE", None)
    proc = subprocess.run([sys.executable, str(TOPIC.folder / "train.py"), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=TOPIC.folder)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout


@pytest.mark.slow
def test_full_mnist_run_reaches_98_percent(tmp_path):
    result, stdout = run_train("--quiet", "--out", str(tmp_path))
    print(stdout)
    assert {"test_accuracy", "wall_seconds"} <= set(result), f"the last line must be JSON with the results: {result}"
    assert result["train_samples"] == 55000
    assert result["test_accuracy"] >= 0.98, f"test accuracy {result['test_accuracy']:.2%} (98% expected)"
    figures = sorted(p.name for p in tmp_path.glob("*.png"))
    assert figures == ["confusion_matrix.png", "learning_curves.png", "misclassified.png"]


def test_subset_run_resumes_from_a_checkpoint(tmp_path):
    ckpt = tmp_path / "run.npz"
    common = ["--subset", "1000", "--val-size", "500", "--hidden", "64", "--no-plots", "--quiet",
              "--checkpoint", str(ckpt)]
    straight, _ = run_train(*common[:-2], "--epochs", "3")
    run_train(*common, "--epochs", "3", "--stop-after-epoch", "2")
    resumed, stdout = run_train(*common, "--epochs", "3", "--resume")
    assert "resumed from" in stdout
    assert resumed["test_accuracy"] == straight["test_accuracy"]
    assert resumed["test_loss"] == straight["test_loss"]
