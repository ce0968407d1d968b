"""Every topic folder that exists has the blueprint's files, with real content."""

import os
import re
import subprocess
import sys

import pytest

from dlfs.curriculum import REPO_ROOT, available_topics

TOPICS = available_topics()
IDS = [f"topic{t.number:02d}" for t in TOPICS]
REQUIRED = ["README.md", "questions.md", "intuition.md", "math-refresh.md", "visualization.py", "starter.py",
            "solutions/level01-naive.py", "solutions/level02-vectorized.py", "solutions/level03-memory-efficient.py",
            "solutions/level04-pytorch-reference.py", "tests/test_basic.py", "tests/test_edge.py", "tests/test_stress.py"]
NEEDS_DATA_EXIT = 3  # visualization.py's exit code when the dataset it draws from is absent (docs/topic-anatomy.md)
PLACEHOLDER = re.compile(r"\bTODO\b|\bTBD\b|FIXME|coming soon|lorem ipsum", re.IGNORECASE)
README_SECTIONS = ["Learning Objectives", "Problem Statement", "Constraints", "Prerequisites", "Success Criteria",
                   "Escape Hatches", "Next Topic"]
INTUITION_SECTIONS = ["The Problem", "The Insight", "Analogy", "Math Reminder", "Common Pitfalls", "In Production"]


def test_module_00_and_01_are_complete():
    assert [t.number for t in TOPICS][:10] == list(range(1, 11)), "topics 01-10 must all be present"


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_blueprint_files_present_and_not_empty(topic):
    missing = [f for f in REQUIRED if not (topic.folder / f).is_file() or (topic.folder / f).stat().st_size < 200]
    assert not missing, f"missing or nearly empty: {missing}"
    hints = topic.hint_files()
    assert len(hints) >= 3, f"{len(hints)} hints, 3 or more expected"
    assert [int(h.stem.split("-")[1]) for h in hints] == list(range(1, len(hints) + 1)), "hints must be numbered 1..n"
    assets = [p for p in (topic.folder / "assets").glob("*") if p.is_file() and p.stat().st_size > 0]
    assert assets, "assets/ is empty"


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_no_placeholders(topic):
    hits = []
    for path in topic.folder.rglob("*"):
        if path.is_file() and path.suffix in {".md", ".py", ".html"} and path.name != "starter.py":
            for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
                if PLACEHOLDER.search(line):
                    hits.append(f"{path.relative_to(topic.folder)}:{n}: {line.strip()}")
    assert not hits, "placeholders:\n" + "\n".join(hits)


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_readme_and_intuition_follow_the_template(topic):
    readme = (topic.folder / "README.md").read_text(encoding="utf-8")
    assert readme.startswith(f"# Topic {topic.number:02d}"), "README must start with '# Topic NN: Title'"
    assert f"--day {topic.number}" in readme, "README must give the runner command for this topic"
    missing = [s for s in README_SECTIONS if s.lower() not in readme.lower()]
    assert not missing, f"README lacks sections {missing}"
    intuition = (topic.folder / "intuition.md").read_text(encoding="utf-8")
    missing = [s for s in INTUITION_SECTIONS if s.lower() not in intuition.lower()]
    assert not missing, f"intuition.md lacks sections {missing}"


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_visualization_writes_a_real_png(topic, tmp_path):
    proc = subprocess.run([sys.executable, str(topic.folder / "visualization.py"), "--out", str(tmp_path)],
                          cwd=topic.folder, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1"))
    if proc.returncode == NEEDS_DATA_EXIT:  # the figure is drawn from a dataset this machine does not have
        if os.environ.get("CI") and os.environ.get("DLFS_DATA"):
            pytest.fail(f"CI gave DLFS_DATA but visualization.py found no data: {proc.stdout[-500:]}")
        pytest.skip(f"needs data: {proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else 'a dataset'}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    pngs = list(tmp_path.glob("**/*.png"))
    assert pngs, f"visualization.py wrote no PNG into --out; stdout: {proc.stdout[-500:]}"
    for png in pngs:
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000, f"{png.name} is not a real plot"


def test_no_python_file_hard_codes_curriculum_folders():
    """Folder names live in utils/curriculum.py only; code asks the registry (docstrings may mention paths)."""
    import ast

    pattern = re.compile(r"(Module \d\d-|Topic \d\d-)")
    offenders = []
    for path in REPO_ROOT.rglob("*.py"):
        rel = path.relative_to(REPO_ROOT)
        if rel.parts[0] in {".venv", "venv", ".git"} or rel.as_posix() == "utils/curriculum.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                if pattern.search(node.value):
                    offenders.append(f"{rel}:{node.lineno}: {node.value[:60]!r}")
    assert not offenders, "ask dlfs.curriculum for folder names instead of:\n" + "\n".join(offenders)


def test_no_file_manipulates_sys_path():
    """The project is installed (pip install -r requirements.txt): imports never depend on where a file lies."""
    tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "*.py"], cwd=REPO_ROOT,
                             capture_output=True, text=True).stdout.splitlines()
    offenders = [f for f in tracked if re.search(r"sys\.path\.(insert|append)|sys\.path\s*=|sys\.path\s*\+=",
                                                 (REPO_ROOT / f).read_text(encoding="utf-8", errors="replace"))]
    offenders = [f for f in offenders if f != "tests/test_topic_files.py"]
    assert not offenders, f"files that change sys.path (import from dlfs instead): {offenders}"


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_performance_tests_only_time(topic):
    """A performance test reports a speed ratio and never fails: no assert of its own, and it uses compare_speed."""
    import ast

    offenders = []
    for path in sorted(topic.tests_dir.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
                continue
            if not any("performance" in ast.unparse(d) for d in node.decorator_list):
                continue
            asserts = [n for n in ast.walk(node) if isinstance(n, ast.Assert)
                       or isinstance(n, ast.Call) and ast.unparse(n.func).split(".")[-1].startswith("assert")]
            if asserts or "compare_speed" not in [a.arg for a in node.args.args]:
                offenders.append(f"{path.name}::{node.name}")
    assert not offenders, ("performance tests must only call compare_speed (correctness belongs in the other "
                           "categories): " + ", ".join(offenders))
