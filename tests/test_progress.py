"""The progress badge, the per-module table and ROADMAP ticking."""

import json

import pytest

from dlfs import progress


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLFS_HOME", str(tmp_path))
    return tmp_path


def state_with(done, failed=()):
    topics = {str(n): {"status": "passed", "hints_used": []} for n in done}
    topics.update({str(n): {"status": "failed", "hints_used": [1]} for n in failed})
    return {"topics": topics}


def test_badge_matches_the_blueprint_example():
    badge = progress.badge(state_with(range(1, 16)))
    assert badge == "[#########>            ] Module 2 Topic 15 (44%)"


def test_badge_empty_and_full():
    empty = progress.badge({"topics": {}})
    assert "Topic 00" not in empty and empty.endswith("nothing done yet: start with Topic 01 (dlfs start 1) (0%)")
    full = progress.badge(state_with(range(1, 35)))
    assert full.startswith("[" + "#" * progress.BADGE_WIDTH + "]") and full.endswith("Topic 34 (100%)")


def test_table_counts_per_module():
    table = progress.table(state_with([1, 2, 3, 4], failed=[5]))
    lines = table.splitlines()
    assert " 3/3 " in lines[1] and "✓01" in lines[1]
    assert " 1/7 " in lines[2] and "✗05" in lines[2]


def test_results_and_hints_are_recorded_atomically(home):
    progress.record_result(2, "failed", 3, 10, "solution.py")
    progress.record_hint(2, 2)
    progress.record_hint(2, 1)
    progress.record_hint(2, 2)
    progress.record_result(2, "passed", 10, 10, "solution.py")
    state = json.loads((home / "progress.json").read_text())
    entry = state["topics"]["2"]
    assert entry["status"] == "passed" and entry["hints_used"] == [1, 2] and "first_passed" in entry
    assert not list(home.glob(".progress-*")), "temporary files must not be left behind"


def test_corrupt_state_file_is_reported_not_fatal(home, capsys):
    (home / "progress.json").write_text("{not json")
    assert progress.load_state() == {"topics": {}}
    assert "unreadable" in capsys.readouterr().err


def test_tick_roadmap(tmp_path):
    roadmap = tmp_path / "ROADMAP.md"
    roadmap.write_text("# Roadmap\n- [ ] Topic 01 — Tensors\n- [x] Topic 02 — Autograd\n- [ ] Topic 03 — Optim\ntext\n")
    ticked = progress.tick_roadmap(state_with([1, 3]), roadmap)
    assert ticked == 2
    assert roadmap.read_text() == "# Roadmap\n- [x] Topic 01 — Tensors\n- [ ] Topic 02 — Autograd\n- [x] Topic 03 — Optim\ntext\n"


def test_repository_roadmap_lists_all_34_topics():
    text = (progress.REPO_ROOT / "ROADMAP.md").read_text(encoding="utf-8")
    numbers = [int(m.group(3)) for line in text.splitlines() if (m := progress.ROADMAP_LINE.match(line))]
    assert numbers == list(range(1, 35))
