"""An untouched starter.py fails every test of its topic, and the runner reports it as "not started"."""

import ast

import pytest

from dlfs.curriculum import available_topics
from dlfs.test_runner import run_topic

TOPICS = available_topics()


def public_names(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and not n.name.startswith("_")}


@pytest.mark.parametrize("topic", TOPICS, ids=[f"topic{t.number:02d}" for t in TOPICS])
def test_untouched_starter_is_not_started(topic):
    res = run_topic(topic, topic.starter_file, test_timeout=60)
    if res.data_skips and not res.counted:
        pytest.skip("; ".join(res.data_skips))  # the topic's every test needs a dataset this machine lacks
    assert res.records, f"no test ran on the starter:\n{res.output_tail}"
    assert res.passed == 0, "tests that pass on the untouched starter: " + ", ".join(
        r["name"] for r in res.records if r["outcome"] == "passed")
    assert res.not_started, "tests that fail on the starter for another reason than NotImplementedError: " + ", ".join(
        f'{r["name"]} ({r["exception"]})' for r in res.counted if not r["not_implemented"])


@pytest.mark.parametrize("topic", TOPICS, ids=[f"topic{t.number:02d}" for t in TOPICS])
def test_starter_and_levels_define_the_same_interface(topic):
    starter = public_names(topic.starter_file)
    assert starter, "the starter defines no function or class"
    for level in (1, 2, 3, 4):
        missing = starter - public_names(topic.level_file(level))
        assert not missing, f"level {level} lacks {sorted(missing)} that the starter asks for"
