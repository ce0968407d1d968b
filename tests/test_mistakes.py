"""Every classic mistake stored in a topic's tests/mistakes/ must be caught by that topic's tests,
and the failing tests must point the learner to the hint the mistake file names (EXPECTED_HINT)."""

import ast

import pytest

from dlfs.curriculum import available_topics
from dlfs.test_runner import run_topic

MISTAKES = [(t, path) for t in available_topics() for path in sorted((t.tests_dir / "mistakes").glob("*.py"))]


def expected_hint(path):
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "EXPECTED_HINT" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{path} does not set EXPECTED_HINT")


def test_every_topic_has_mistake_files():
    missing = [t.folder_name for t in available_topics() if not list((t.tests_dir / "mistakes").glob("*.py"))]
    assert not missing, f"topics without tests/mistakes/*.py: {missing}"


@pytest.mark.parametrize("topic,path", MISTAKES, ids=[f"topic{t.number:02d}-{p.stem}" for t, p in MISTAKES])
def test_mistake_is_caught_with_the_right_hint(topic, path):
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert doc, f"{path.name} must say in its docstring which mistake it makes"
    hint = expected_hint(path)
    assert any(p.stem.split("-")[1] == str(hint) for p in topic.hint_files()), f"hint {hint} does not exist"
    res = run_topic(topic, path, test_timeout=120)
    if res.data_skips and not res.counted:
        pytest.skip("; ".join(res.data_skips))  # the topic's every test needs a dataset this machine lacks
    assert not res.crashed and not res.hung, f"the test process crashed or hung:\n{res.output_tail}"
    assert res.failed > 0, f"no test of topic {topic.number:02d} catches the mistake in {path.name}: {doc}"
    assert not res.not_started, "a mistake file must run, not raise NotImplementedError"
    failing_hints = {r["hint"] for r in res.records if r["outcome"] == "failed"}
    assert hint in failing_hints, (
        f"{path.name} is caught, but the failing tests point to hints {sorted(failing_hints)}, not hint {hint}")
