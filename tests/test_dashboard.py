"""The live training dashboard: its log, its server, and the page updating in headless Chromium while a
real (short) Topic 10 training runs with --dashboard."""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pytest

from dlfs.curriculum import topic
from dlfs.dashboard import Dashboard, TrainingLogger, follow_fit, read_records


def test_logger_writes_steps_with_throughput_and_eta(tmp_path):
    logger = TrainingLogger(tmp_path / "log.jsonl", total_steps=4)
    for step in range(2):
        logger.log(step=step, loss=1.0 / (step + 1), batch_size=32, epoch=0)
    logger.log_epoch(epoch=0, val_loss=0.5, val_acc=0.75)
    logger.close()
    records, offset = read_records(tmp_path / "log.jsonl")
    assert [r["kind"] for r in records] == ["step", "step", "epoch"]
    assert records[1]["loss"] == 0.5 and records[1]["eta_s"] >= 0 and records[1]["samples_per_s"] > 0
    assert records[1]["epoch"] == 0 and isinstance(records[1]["epoch"], int)
    assert records[2]["val_acc"] == 0.75 and offset == (tmp_path / "log.jsonl").stat().st_size


def test_a_line_still_being_written_is_left_for_the_next_read(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"kind": "step", "step": 0, "loss": 1.0}\n{"kind": "st')
    records, offset = read_records(path)
    assert len(records) == 1
    with open(path, "a") as f:
        f.write('ep", "step": 1, "loss": 0.9}\n')
    more, _ = read_records(path, offset)
    assert more == [{"kind": "step", "step": 1, "loss": 0.9}]


def test_server_serves_the_page_and_the_new_lines_on_localhost_only(tmp_path):
    logger = TrainingLogger(tmp_path / "log.jsonl")
    board = Dashboard(logger.path).start()
    try:
        assert board.url.startswith("http://127.0.0.1:")
        page = urllib.request.urlopen(board.url, timeout=5).read().decode()
        assert 'id="loss-chart"' in page and "/data?offset=" in page
        logger.log(step=0, loss=2.5, batch_size=8)
        data = json.loads(urllib.request.urlopen(board.url + "data?offset=0", timeout=5).read())
        assert data["records"][0]["loss"] == 2.5
        again = json.loads(urllib.request.urlopen(board.url + f"data?offset={data['offset']}", timeout=5).read())
        assert again["records"] == [], "only new lines come back"
    finally:
        board.stop()
        logger.close()


def test_follow_fit_logs_each_step_and_epoch_and_restores_the_module(tmp_path):
    class FakeTopic:
        @staticmethod
        def train_step(model, optimizer, xb, yb):
            return 0.5

        @staticmethod
        def evaluate(model, x, y):
            return 0.4, 0.9

        def fit(self):
            for _ in range(3):
                self.train_step(None, None, [1, 2], [0, 1])
            self.evaluate(None, [], [])

    module = FakeTopic()
    original = module.train_step
    logger = TrainingLogger(tmp_path / "log.jsonl", total_steps=3)
    with follow_fit(module, logger):
        module.fit()
    logger.close()
    records, _ = read_records(tmp_path / "log.jsonl")
    assert [r.get("step") for r in records if r["kind"] == "step"] == [0, 1, 2]
    assert records[-1] == {**records[-1], "kind": "epoch", "epoch": 0, "val_acc": 0.9}
    assert module.train_step is original


def test_follow_fit_passes_extra_arguments_through(tmp_path):
    """Topic 17's fit calls train_step(model, optimizer, xb, yb, smoothing=...): the wrapper must forward it."""
    seen = []

    class FakeTopic:
        @staticmethod
        def train_step(model, optimizer, xb, yb, smoothing=0.0):
            seen.append(smoothing)
            return 1.0 - smoothing

        @staticmethod
        def evaluate(model, x, y, batch_size=500, tta=False):
            return 0.4, (0.95 if tta else 0.9)

    module = FakeTopic()
    logger = TrainingLogger(tmp_path / "log.jsonl", total_steps=1)
    with follow_fit(module, logger):
        assert module.train_step(None, None, [1], [0], smoothing=0.25) == 0.75
        assert module.evaluate(None, [], [], tta=True) == (0.4, 0.95)
    logger.close()
    records, _ = read_records(tmp_path / "log.jsonl")
    assert seen == [0.25]
    assert [r["loss"] for r in records if r["kind"] == "step"] == [0.75]


@pytest.mark.data("mnist")
def test_the_page_updates_while_topic10_trains(driver, tmp_path):
    from selenium.webdriver.common.by import By

    t = topic(10)
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    env.pop("DLFS_USE_MINE", None)
    proc = subprocess.Popen([sys.executable, str(t.folder / "train.py"), "--subset", "10000", "--epochs", "3",
                             "--batch-size", "64", "--no-plots", "--quiet", "--dashboard", "--out", str(tmp_path)],
                            cwd=t.folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        url = None
        deadline = time.time() + 120
        while url is None and time.time() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            match = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", line)
            url = match.group(1) if match else None
        assert url, "train.py --dashboard did not print the dashboard's address"
        driver.get(url)
        seen_steps = set()
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            text = driver.find_element(By.ID, "step").text
            if text != "-":
                seen_steps.add(text)
            time.sleep(0.3)
        assert len(seen_steps) >= 2, f"the page showed steps {seen_steps}: it did not update while training"
        assert driver.find_element(By.ID, "loss").text not in ("", "-")
    finally:
        proc.wait(timeout=300)
    assert proc.returncode == 0
