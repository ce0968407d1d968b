"""The registry: 34 topics in 5 modules, the fixed names of the specification, and the import path."""

import re
from pathlib import Path

import pytest

from dlfs import components
from dlfs.curriculum import LEVELS, MODULES, REPO_ROOT, TOPICS, topic, topic_of_path

SPEC_README = REPO_ROOT.parent / "shared" / "spec" / "README.md"


def test_34_topics_numbered_in_order_across_5_modules():
    assert [t.number for t in TOPICS] == list(range(1, 35))
    assert sorted({t.module for t in TOPICS}) == list(MODULES) == [0, 1, 2, 3, 4]
    assert [t.module for t in TOPICS] == sorted(t.module for t in TOPICS), "modules must be contiguous"
    assert [t.number for t in TOPICS if t.track == "Advanced/Optional"] == [31, 32, 33, 34]


def test_folder_names_follow_the_blueprint_pattern():
    for t in TOPICS:
        assert re.fullmatch(r"Module 0\d-[A-Za-z-]+", t.module_folder)
        assert re.fullmatch(r"Topic \d\d-[A-Za-z0-9-]+", t.folder_name)
        assert t.folder == REPO_ROOT / t.module_folder / t.folder_name


@pytest.mark.skipif(not SPEC_README.is_file(), reason="the maintainers' specification folder (spec/ in the folder beside this checkout) is not here")
def test_names_match_the_specification_table():
    text = SPEC_README.read_text(encoding="utf-8")
    for t in TOPICS:
        assert f"`{t.module_folder}`" in text, t.module_folder
        assert f"`{t.folder_name}`" in text, t.folder_name


def test_lookup_errors_are_clear():
    assert topic(2).slug == "Autograd-Engine"
    with pytest.raises(ValueError, match="topics are numbered 1 to 34"):
        topic(35)
    with pytest.raises(ValueError):
        topic(1).level_file(5)
    assert topic_of_path(topic(3).folder / "tests" / "x.py").number == 3
    assert topic_of_path(REPO_ROOT / "utils") is None
    assert set(LEVELS) == {1, 2, 3, 4}


class _FakeTopic:
    def __init__(self, folder: Path):
        self.folder = folder
        self.learner_file = folder / "solution.py"
        self.number = 7

    def level_file(self, level):
        return self.folder / f"level{level}.py"


def test_load_topic_prefers_the_learners_file_only_when_asked(tmp_path, monkeypatch):
    (tmp_path / "solution.py").write_text("WHO = 'mine'\n")
    (tmp_path / "level2.py").write_text("WHO = 'level2'\n")
    (tmp_path / "level3.py").write_text("WHO = 'level3'\n")
    monkeypatch.setattr(components, "_topic", lambda n: _FakeTopic(tmp_path))
    monkeypatch.delenv("DLFS_USE_MINE", raising=False)
    monkeypatch.delenv("DLFS_LEVEL", raising=False)
    assert components.load_topic(7).WHO == "level2"
    assert components.load_topic(7, level=3).WHO == "level3"
    monkeypatch.setenv("DLFS_USE_MINE", "3,07")
    assert components.load_topic(7).WHO == "mine"
    monkeypatch.setenv("DLFS_USE_MINE", "all")
    assert components.load_topic(5).WHO == "mine"
    monkeypatch.setenv("DLFS_USE_MINE", "4")
    monkeypatch.setenv("DLFS_LEVEL", "3")
    assert components.load_topic(7).WHO == "level3"


def test_an_explicit_level_always_wins_over_dlfs_use_mine(tmp_path, monkeypatch):
    (tmp_path / "solution.py").write_text("WHO = 'mine'\n")
    (tmp_path / "level2.py").write_text("WHO = 'level2'\n")
    monkeypatch.setattr(components, "_topic", lambda n: _FakeTopic(tmp_path))
    for wanted in ("7", "all"):
        monkeypatch.setenv("DLFS_USE_MINE", wanted)
        assert components.load_topic(7, level=2).WHO == "level2", "a reference must never resolve to learner code"


def test_dlfs_use_mine_without_a_solution_fails_loudly(tmp_path, monkeypatch):
    (tmp_path / "level2.py").write_text("WHO = 'level2'\n")
    monkeypatch.setattr(components, "_topic", lambda n: _FakeTopic(tmp_path))
    monkeypatch.setenv("DLFS_USE_MINE", "7")
    with pytest.raises(FileNotFoundError, match="DLFS_USE_MINE"):
        components.load_topic(7)
    monkeypatch.setenv("DLFS_USE_MINE", "three")
    with pytest.raises(ValueError, match="DLFS_USE_MINE"):
        components.load_topic(7)
    monkeypatch.delenv("DLFS_USE_MINE")
    monkeypatch.setenv("DLFS_LEVEL", "9")
    with pytest.raises(ValueError, match="DLFS_LEVEL"):
        components.load_topic(7)


def test_loaded_topics_says_where_each_topic_came_from(tmp_path, monkeypatch):
    (tmp_path / "solution.py").write_text("WHO = 'mine'\n")
    (tmp_path / "level2.py").write_text("WHO = 'level2'\n")
    monkeypatch.setattr(components, "_topic", lambda n: _FakeTopic(tmp_path))
    monkeypatch.setattr(components, "_LOADED", {})
    monkeypatch.setenv("DLFS_USE_MINE", "5")
    monkeypatch.delenv("DLFS_LEVEL", raising=False)
    components.load_topic(5)
    components.load_topic(6)
    loaded = components.loaded_topics()
    assert loaded[5] == ((tmp_path / "solution.py").resolve(), "your solution.py (DLFS_USE_MINE)")
    assert loaded[6] == ((tmp_path / "level2.py").resolve(), "reference level 2")


def test_load_module_reports_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        components.load_module(tmp_path / "nope.py")
