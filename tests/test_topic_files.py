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


# ----------------------------------------------------------------------------------------------------------
# questions.md "Checked by:" lists against the @pytest.mark.task(n) markers of the topic's tests
# ----------------------------------------------------------------------------------------------------------
TASK_HEADING = re.compile(r"^## Task (\d+)\b")
LISTED_TEST = re.compile(r"`(test_\w+)")


def _task_numbers(expr):
    """Task numbers of every `pytest.mark.task(n)` in an expression (a decorator, a list of marks, ...).

    n is an int literal, or None when it is computed (the caller then reads the imported module)."""
    import ast

    found = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("pytest.mark.task", "mark.task"):
            arg = node.args[0] if node.args else None
            found.append(arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, int) else None)
    return found


def _case_tasks(decorators, constants):
    """Task numbers that parametrize cases carry (pytest.param(..., marks=pytest.mark.task(n))).

    `constants` maps the module's top-level names to their value or function definition: the cases may
    come from a list (POOLS = [pytest.param(...), ...]) or from a helper that builds them."""
    import ast

    found = []
    for dec in decorators:
        if not (isinstance(dec, ast.Call) and ast.unparse(dec.func).endswith("mark.parametrize")):
            continue
        exprs = list(dec.args[1:2]) + [k.value for k in dec.keywords if k.arg == "argvalues"]
        names = {n.id for e in exprs for n in ast.walk(e) if isinstance(n, ast.Name)}
        exprs += [constants[n] for n in sorted(names) if n in constants]
        for expr in exprs:
            for node in ast.walk(expr):
                if isinstance(node, ast.Call) and ast.unparse(node.func) == "pytest.param":
                    for kw in node.keywords:
                        if kw.arg == "marks":
                            found += _task_numbers(kw.value)
    return found


def _imported_case_tasks(path, qualname):
    """The tasks of a test's parametrize cases, read from the imported module (for computed task numbers)."""
    import importlib.util

    from _pytest.mark.structures import ParameterSet

    spec = importlib.util.spec_from_file_location(f"_checked_by_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part)
    tasks = set()
    for mark in getattr(obj, "pytestmark", []):
        if mark.name == "parametrize":
            values = mark.args[1] if len(mark.args) > 1 else mark.kwargs.get("argvalues", [])
            for value in values:
                if isinstance(value, ParameterSet):
                    tasks |= {m.args[0] for m in value.marks if m.name == "task" and m.args}
    return tasks


def topic_test_tasks(topic) -> dict:
    """{test function name: (file name, set of task numbers)} for every test function in tests/test_*.py.

    A function's own @pytest.mark.task(n) wins; else the tasks of its parametrize cases; else the
    class-level, then the module-level `pytestmark`."""
    import ast

    tests = {}
    for path in sorted(topic.tests_dir.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = {t.id: n.value for n in tree.body if isinstance(n, ast.Assign)
                     for t in n.targets if isinstance(t, ast.Name)}
        constants.update({n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)})
        module_tasks = {n for n in _task_numbers(constants["pytestmark"]) if n is not None} \
            if "pytestmark" in constants else set()
        scopes = [(None, tree.body, module_tasks)]
        for node in tree.body:
            if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                own = [n.value for n in node.body if isinstance(n, ast.Assign)
                       and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in n.targets)]
                own_tasks = {t for v in own for t in _task_numbers(v) if t is not None}
                own_tasks |= {t for d in node.decorator_list for t in _task_numbers(d) if t is not None}
                scopes.append((node.name, node.body, own_tasks or module_tasks))
        for cls, body, inherited in scopes:
            for fn in body:
                if not (isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) and fn.name.startswith("test")):
                    continue
                own = [t for d in fn.decorator_list
                       if not ast.unparse(d).startswith(("pytest.mark.parametrize", "mark.parametrize"))
                       for t in _task_numbers(d)]
                cases = _case_tasks(fn.decorator_list, constants)
                if own:
                    tasks = set(own)
                elif cases:
                    tasks = set(cases) if None not in cases else _imported_case_tasks(
                        path, f"{cls}.{fn.name}" if cls else fn.name)
                else:
                    tasks = set(inherited)
                tests[fn.name] = (path.name, tasks)
    return tests


def checked_by_lists(questions: str) -> dict:
    """{task number: (names listed in its "Checked by" paragraph, the paragraph or None)} of questions.md."""
    sections, current, in_code = {}, None, False
    for line in questions.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        heading = None if in_code else TASK_HEADING.match(line)
        if heading:
            current = int(heading.group(1))
            sections[current] = []
        elif not in_code and line.startswith(("## ", "# ")):
            current = None
        elif current is not None:
            sections[current].append(line)
    lists = {}
    for task, lines in sections.items():
        paragraphs = "\n".join(lines).split("\n\n")
        checked = [p.strip() for p in paragraphs if p.strip().startswith("Checked by")]
        text = "\n".join(checked) if checked else None
        lists[task] = (LISTED_TEST.findall(text) if text else [], text)
    return lists


@pytest.mark.parametrize("topic", TOPICS, ids=IDS)
def test_checked_by_lists_match_the_task_markers(topic):
    """Each "## Task n" of questions.md ends with "Checked by: `test_a`, `test_b` (test_basic.py); ...": every
    listed name is a test function of the topic marked task(n), and every test function is listed under its task."""
    tests = topic_test_tasks(topic)
    lists = checked_by_lists((topic.folder / "questions.md").read_text(encoding="utf-8"))
    problems = []
    if not lists:
        problems.append('questions.md has no "## Task n" section')
    for task, (names, text) in sorted(lists.items()):
        if text is None:
            problems.append(f'Task {task}: no "Checked by:" paragraph')
            continue
        for name in dict.fromkeys(names):
            if name not in tests:
                problems.append(f"Task {task}: `{name}` is no test function of tests/test_*.py (unknown)")
            elif task not in tests[name][1]:
                marked = ", ".join(f"task({t})" for t in sorted(tests[name][1])) or "no task marker"
                problems.append(f"Task {task}: `{name}` ({tests[name][0]}) carries {marked} (under the wrong task)")
            elif tests[name][0] not in text:
                problems.append(f"Task {task}: `{name}` is listed without its file ({tests[name][0]})")
    for name, (file, tasks) in sorted(tests.items(), key=lambda kv: (kv[1][0], kv[0])):
        if not tasks:
            problems.append(f"`{name}` ({file}) has no @pytest.mark.task(n)")
        for task in sorted(tasks):
            if task not in lists:
                problems.append(f"`{name}` ({file}) carries task({task}), but questions.md has no ## Task {task}")
            elif name not in lists[task][0]:
                problems.append(f"Task {task}: `{name}` ({file}) is missing from its Checked by list")
    assert not problems, f"{topic.folder.name}/questions.md against the task markers:\n  " + "\n  ".join(problems)
