"""The daily test runner: tells you the truth about your own code.

    python utils/test_runner.py --day 5                # test YOUR Topic 05 solution.py
    python utils/test_runner.py --day 5 --level 2      # test reference level 2 instead
    python utils/test_runner.py --day 5 --impl my.py   # test any file
    python utils/test_runner.py --all                  # every topic (your files; --level L for references)
    python utils/test_runner.py --day 5 --hint 1       # print hint 1 (and remember you used it)
    python utils/test_runner.py --verify-setup         # check Python, NumPy, matplotlib, data, ...

Each topic's tests run in a fresh pytest process with a time limit per test, so a file that crashes,
hangs or prints pages of output is reported and the run carries on. Results are shown by category
(shape, value, gradient, edge, determinism, performance); each failing category names the hint to read.
Performance is a ratio against the reference measured in the same process: a warning, never a failure.
The exit status is non-zero when any test fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from dlfs import progress
from dlfs.curriculum import LEVEL_NAMES, LEVELS, REPO_ROOT, Topic, available_topics, topic
from dlfs.testing import CATEGORIES

ICONS = {"info": "ℹ️ ", "pass": "✅", "fail": "❌", "warn": "⚠️ ", "skip": "⏭️ ", "todo": "⏸️ ", "crash": "💥", "time": "⏱️ "}
CATEGORY_TITLES = {
    "shape": "Shape tests", "value": "Value tests", "gradient": "Gradient tests", "edge": "Edge tests",
    "determinism": "Determinism tests", "performance": "Performance", "other": "Other tests",
}
DEFAULT_TEST_TIMEOUT = 120  # seconds per test
DEFAULT_TOPIC_TIMEOUT = 1800  # seconds for a whole topic, the last line of defence


@dataclass
class TopicResult:
    topic: Topic
    file: Path
    records: list = field(default_factory=list)
    returncode: int = 0
    crashed: bool = False
    hung: bool = False
    output_tail: str = ""
    seconds: float = 0.0

    reused: dict = field(default_factory=dict)

    @property
    def counted(self):
        return [r for r in self.records if r["outcome"] != "skipped" and not _is_unmeasured_speed(r)]

    @property
    def passed(self) -> int:
        return sum(r["outcome"] == "passed" for r in self.records)

    @property
    def failed(self) -> int:
        return sum(r["outcome"] == "failed" for r in self.counted)

    @property
    def real_failures(self) -> list:
        """Failures of code that runs (not NotImplementedError), in the order the tests ran."""
        return [r for r in self.counted if r["outcome"] == "failed" and not r["not_implemented"]]

    @property
    def unstarted_tasks(self) -> list:
        """Tasks (of questions.md) whose every counted test stopped at NotImplementedError."""
        by_task = defaultdict(list)
        for r in self.counted:
            by_task[r.get("task")].append(r)
        return sorted(k for k, recs in by_task.items() if k is not None and all(r["not_implemented"] for r in recs))

    @property
    def data_skips(self) -> dict:
        """{reason: count} of tests skipped because a dataset is not on this machine."""
        reasons = defaultdict(int)
        for r in self.records:
            message = _skip_reason(r)
            if r["outcome"] == "skipped" and message.startswith(DATA_SKIP_PREFIX):
                reasons[message[len(DATA_SKIP_PREFIX):].strip()] += 1
        return dict(reasons)

    @property
    def skipped(self) -> int:
        return sum(r["outcome"] == "skipped" for r in self.records)

    @property
    def not_started(self) -> bool:
        counted = self.counted
        return bool(counted) and all(r["not_implemented"] for r in counted)

    @property
    def ok(self) -> bool:
        return not self.crashed and not self.hung and self.failed == 0 and self.passed > 0

    @property
    def status(self) -> str:
        if self.not_started:
            return "not started"
        if not self.counted and self.data_skips and not (self.crashed or self.hung):
            return "no data"
        return "passed" if self.ok else "failed"


DATA_SKIP_PREFIX = "needs data:"


def _skip_reason(r: dict) -> str:
    return r["message"].removeprefix("Skipped: ")


def _is_unmeasured_speed(r: dict) -> bool:
    """A performance test that raised: reported as 'not measured', never counted as a failure."""
    return r["category"] == "performance" and r["outcome"] == "failed" and not r["not_implemented"]


def _num(x) -> str:
    return f"{x:.6g}"


def _rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def run_topic(t: Topic, impl: Path, test_timeout: int = DEFAULT_TEST_TIMEOUT,
              topic_timeout: int = DEFAULT_TOPIC_TIMEOUT, select: str | None = None,
              task: int | None = None) -> TopicResult:
    """Run topic t's tests against `impl` in a child pytest process and collect per-test records."""
    result = TopicResult(topic=t, file=impl)
    with tempfile.TemporaryDirectory(prefix="dlfs-run-") as tmp:
        report = Path(tmp) / "report.jsonl"
        log = Path(tmp) / "pytest.log"
        cmd = [sys.executable, "-m", "pytest", str(t.tests_dir), "-p", "dlfs.runner_report",
               "--dlfs-report", str(report), "--dlfs-impl", str(impl), "-q", "--no-header",
               "-p", "no:cacheprovider", "-p", "no:randomly", f"--rootdir={REPO_ROOT}", "-o", "addopts="]
        if _has_pytest_timeout():
            cmd += ["--timeout", str(test_timeout)]
        if select:
            cmd += ["-k", select]
        if task is not None:
            cmd += ["--dlfs-task", str(task)]
        env = dict(os.environ, MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        if Path(impl).resolve().parent.name == "solutions":
            env.pop("DLFS_USE_MINE", None)  # a reference is tested on references only, never on learner code
        start = time.perf_counter()
        with open(log, "w", encoding="utf-8", errors="replace") as out:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
                                    stdin=subprocess.DEVNULL)
            try:
                result.returncode = proc.wait(timeout=topic_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                result.hung = True
                result.returncode = -9
        result.seconds = time.perf_counter() - start
        if report.exists():
            for line in report.read_text(encoding="utf-8").splitlines():
                entry = json.loads(line) if line else None
                if entry and "reused" in entry:
                    result.reused = {int(n): v for n, v in entry["reused"].items()}
                elif entry:
                    result.records.append(entry)
        text = log.read_text(encoding="utf-8", errors="replace")
        result.output_tail = "\n".join(text.strip().splitlines()[-15:])
        # pytest exit codes: 0 all passed, 1 some failed, 5 none collected; anything else is a crash
        result.crashed = result.returncode not in (0, 1) and not result.hung
    return result


def _has_pytest_timeout() -> bool:
    import importlib.util

    return importlib.util.find_spec("pytest_timeout") is not None


def _hint_name(t: Topic, number) -> str:
    if number is None:
        return ""
    for path in t.hint_files():
        if path.stem.split("-")[1] == str(number):
            return f"hints/{path.name}"
    return f"hint {number}"


def _bar(done: int, total: int, width: int = 30) -> str:
    if total <= 0:
        return "[" + " " * width + "]"
    filled = int(width * done / total)
    head = ">" if filled < width else ""
    return "[" + "#" * filled + head + " " * (width - filled - len(head)) + "]"


def _first_line(r: dict) -> str:
    if r["timeout"]:
        return "timed out (an infinite loop?)"
    return r["message"].strip().splitlines()[0] if r["message"].strip() else r["outcome"]


def _hint_line(t: Topic, h) -> str:
    return f"→ read {_hint_name(t, h)}  (python utils/test_runner.py --day {t.number} --hint {h})"


def _tasks_text(tasks) -> str:
    return ("task " if len(tasks) == 1 else "tasks ") + ", ".join(str(k) for k in tasks)


def report_topic(res: TopicResult, label: str, verbose: bool = False) -> None:
    """Print one topic's result: real failures first, then tasks not started, then the per-category table."""
    t = res.topic
    print(f"\nTopic {t.number:02d} · {t.title}")
    print(f"Testing: {_rel(res.file)}  ({label})")
    reused = {n: v for n, v in sorted(res.reused.items()) if n != t.number}
    if reused:
        print("Reused topics: " + "; ".join(f"{n:02d} ← {_rel(Path(v['file']))} ({v['how']})" for n, v in reused.items()))
    for reason, count in res.data_skips.items():
        print(f"{ICONS['skip']} {reason} ({count} test(s) skipped: not a problem with your code)")
    if res.not_started:
        print(f"{ICONS['todo']} Not started: all {len(res.counted)} tests stopped at NotImplementedError "
              f"(the untouched starter).")
        print(f"   Open {_rel(t.folder / 'questions.md')} and implement the first task; "
              f"stuck? python utils/test_runner.py --day {t.number} --hint 1")
        return

    failures = res.real_failures
    if failures:
        shown = failures if verbose else failures[:5]
        print(f"{ICONS['fail']} {len(failures)} failing test(s), in the order they ran:")
        for r in shown:
            task = f"task {r['task']} · " if r.get("task") is not None else ""
            print(f"   {task}{r['name']}: {_first_line(r)}")
            if r["hint"] is not None:
                print(f"     {_hint_line(t, r['hint'])}")
        if len(failures) > len(shown):
            print(f"   ... and {len(failures) - len(shown)} more (-v lists them all)")
    unstarted = res.unstarted_tasks
    if unstarted:
        print(f"{ICONS['todo']} Not started: {_tasks_text(unstarted)} (their tests stop at NotImplementedError)")

    by_cat = defaultdict(list)
    for r in res.records:
        by_cat[r["category"]].append(r)
    for cat in list(CATEGORIES) + ["other"]:
        recs = [r for r in by_cat.get(cat, []) if r["outcome"] != "skipped"]
        if not recs:
            continue
        title = CATEGORY_TITLES[cat]
        if cat == "performance":
            _report_performance(t, title, recs)
            continue
        passed = [r for r in recs if r["outcome"] == "passed"]
        todo = [r for r in recs if r["outcome"] != "passed" and r["not_implemented"]]
        icon = ICONS["pass"] if len(passed) == len(recs) else ICONS["todo"] if len(passed) + len(todo) == len(
            recs) else ICONS["fail"]
        extra = f", {len(todo)} not started" if todo else ""
        print(f"{icon} {title}: {len(passed)}/{len(recs)} passed{extra}")
    other_skips = [r for r in res.records if r["outcome"] == "skipped"
                   and not _skip_reason(r).startswith(DATA_SKIP_PREFIX)]
    if other_skips:
        reasons = defaultdict(int)
        for r in other_skips:
            reasons[_skip_reason(r)] += 1
        print(f"{ICONS['skip']} Skipped: " + "; ".join(f"{n} × {why}" for why, n in reasons.items()))
    if res.hung:
        print(f"{ICONS['time']} The test process was stopped after {res.seconds:.0f} s (a hang?). "
              f"Results above cover the tests that finished.")
    elif res.crashed:
        print(f"{ICONS['crash']} The test process ended abnormally (exit code {res.returncode}) "
              f"after {len(res.records)} test(s). Last lines of its output:")
        print("     " + res.output_tail.replace("\n", "\n     "))
    elif not res.records:
        print(f"{ICONS['crash']} No test ran. Output of pytest:\n     " + res.output_tail.replace("\n", "\n     "))
    total = res.passed + res.failed
    print(f"{_bar(res.passed, total)} {res.passed}/{total} tests passed in {res.seconds:.1f} s")


def _report_performance(t: Topic, title: str, recs: list) -> None:
    """Speed is reported, never failed: a ratio above its threshold is a warning."""
    unmeasured = [r for r in recs if _is_unmeasured_speed(r)]
    todo = [r for r in recs if r["outcome"] == "failed" and r["not_implemented"]]
    measured = [r for r in recs if r.get("speed_ratio")]
    slow = [r for r in measured if r["speed_ratio"] > (r.get("speed_threshold") or 3.0)]
    if slow:
        worst = max(slow, key=lambda r: r["speed_ratio"])
        print(f"{ICONS['warn']} {title}: {_num(worst['speed_ratio'])}x the reference time "
              f"(threshold {_num(worst['speed_threshold'])}x) in {worst['name']} - consider optimization "
              f"({_hint_name(t, worst['hint'])})")
    elif measured:
        print(f"{ICONS['pass']} {title}: {len(measured)} measured, worst "
              f"{_num(max(r['speed_ratio'] for r in measured))}x the reference time")
    if todo:
        print(f"{ICONS['todo']} {title}: {len(todo)} not started")
    for r in unmeasured:
        print(f"{ICONS['warn']} {title}: {r['name']} not measured, it raised: {_first_line(r)} "
              f"(see the failing tests above)")


def _file_for(t: Topic, level, impl):
    """(file, label) to test for topic t, or (None, message) when there is none."""
    if impl:
        return Path(impl).resolve(), "the file you named"
    if level:
        return t.level_file(level), f"reference level {level}: {LEVEL_NAMES[level]}"
    if t.learner_file.is_file():
        return t.learner_file, "your solution"
    return None, (f"No solution.py yet for Topic {t.number:02d}. Start from the starter:\n"
                  f'   cp "{_rel(t.starter_file)}" "{_rel(t.learner_file)}"\n'
                  f"   then run: python utils/test_runner.py --day {t.number}")


def print_hint(t: Topic, k: int) -> int:
    files = t.hint_files()
    match = [p for p in files if p.stem.split("-")[1] == str(k)]
    if not match:
        print(f"Topic {t.number:02d} has hints 1 to {len(files)}; there is no hint {k}.")
        return 2
    progress.record_hint(t.number, k)  # first: a closed pipe (| head) must not lose the record
    print(match[0].read_text(encoding="utf-8"))
    return 0


def verify_setup() -> int:
    """Check the environment a learner needs; print what to fix. Exit 0 when everything required is there."""
    ok = True

    def line(good: bool, text: str, required: bool = True):
        nonlocal ok
        icon = ICONS["pass"] if good else (ICONS["fail"] if required else ICONS["warn"])
        print(f"{icon} {text}")
        if required and not good:
            ok = False

    v = sys.version_info
    line(v >= (3, 10), f"Python {v.major}.{v.minor}.{v.micro} (3.10 or newer needed)")
    try:
        import numpy as np

        blas = "unknown BLAS"
        try:
            cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
            blas = f"{cfg.get('name')} {cfg.get('version', '')}".strip()
        except Exception:
            pass
        a = np.random.default_rng(0).standard_normal((256, 256))
        start = time.perf_counter()
        for _ in range(10):
            a @ a
        gflops = 10 * 2 * 256 ** 3 / (time.perf_counter() - start) / 1e9
        line(True, f"NumPy {np.__version__} with {blas} ({gflops:.1f} GFLOP/s on a 256x256 matmul)")
    except ImportError:
        line(False, "NumPy is missing: pip install -r requirements.txt")
    try:
        import matplotlib

        matplotlib.use("Agg")
        line(True, f"matplotlib {matplotlib.__version__}")
    except ImportError:
        line(False, "matplotlib is missing: pip install -r requirements.txt")
    try:
        import pytest

        line(True, f"pytest {pytest.__version__}")
    except ImportError:
        line(False, "pytest is missing: pip install -r requirements.txt")
    line(_has_pytest_timeout(), "pytest-timeout (stops a test that hangs)", required=False)
    try:
        import torch

        line(True, f"PyTorch {torch.__version__} (optional: level-4 references and benchmarks)", required=False)
    except ImportError:
        line(False, "PyTorch not installed (optional: only level 4 and the benchmarks need it)", required=False)
    try:
        from dlfs import datasets

        where = datasets.data_dir()
        for name, folder in datasets.DATASET_NAMES.items():
            reason = datasets.missing_reason(name)
            title = datasets.TITLES[folder]
            # optional on day 1: Topic 10 is the first to need data, and the loaders fetch it on first use
            if reason is None:
                line(True, f"dataset {title}: found (in {where} or the user cache)")
            else:
                print(f"{ICONS['info']} dataset {title}: not here yet, fetched on first use "
                      f"(or now: python -m dlfs.datasets --download {name})")
    except Exception as exc:  # the data layer must never stop the setup check
        line(False, f"data directory check failed: {exc}", required=False)
    print("Smoke test: Topic 01 reference level 2 ...")
    res = run_topic(topic(1), topic(1).level_file(2), test_timeout=60, topic_timeout=300)
    line(res.ok, f"smoke test: {res.passed}/{res.passed + res.failed} tests passed in {res.seconds:.1f} s")
    print("\nSetup OK: start with Topic 01." if ok else "\nSetup incomplete: fix the ❌ lines above.")
    return 0 if ok else 1


def main(argv=None) -> int:
    try:
        sys.stdout.reconfigure(errors="replace")
    except AttributeError:
        pass
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--day", "--topic", type=int, metavar="N", help="topic number (1-34)")
    which.add_argument("--all", action="store_true", help="every topic of this checkout")
    which.add_argument("--verify-setup", action="store_true", help="check the environment and run a smoke test")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--level", metavar="L", help="test reference level L (1-4, or 'all') instead of solution.py")
    source.add_argument("--impl", metavar="PATH", help="test this file")
    parser.add_argument("--hint", type=int, metavar="K", help="print hint K of the topic")
    parser.add_argument("-k", dest="select", metavar="EXPR", help="only tests matching this pytest -k expression")
    parser.add_argument("--task", type=int, metavar="N", help="only the tests of task N of questions.md")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TEST_TIMEOUT, help="seconds allowed per test")
    parser.add_argument("-v", "--verbose", action="store_true", help="list every failing test")
    args = parser.parse_args(argv)

    if args.verify_setup:
        return verify_setup()
    if args.day is None and not args.all:
        parser.print_help()
        return 2
    try:
        topics = [topic(args.day)] if args.day is not None else available_topics()
    except ValueError as exc:
        print(exc)
        return 2
    if args.hint is not None:
        if args.day is None:
            print("--hint needs --day N")
            return 2
        return print_hint(topics[0], args.hint)
    if args.impl and args.all:
        print("--impl tests one file: use it with --day N")
        return 2

    if args.level in (None, ""):
        levels = [None]
    elif args.level == "all":
        levels = sorted(LEVELS)
    else:
        try:
            levels = [int(args.level)]
            LEVELS[levels[0]]
        except (ValueError, KeyError):
            print(f"--level must be 1, 2, 3, 4 or all (got {args.level!r})")
            return 2

    total_passed = total_failed = 0
    any_problem = False
    for t in topics:
        if not t.exists:
            print(f"\nTopic {t.number:02d} · {t.title}: this topic is not in the curriculum yet (see ROADMAP.md).")
            any_problem = True
            continue
        for level in levels:
            file, label = _file_for(t, level, args.impl)
            if file is None:
                print(f"\nTopic {t.number:02d} · {t.title}\n{ICONS['todo']} {label}")
                if args.day is not None:
                    return 2
                any_problem = True  # a topic not started is not a pass
                continue
            if not file.is_file():
                print(f"\nTopic {t.number:02d}: file not found: {file}")
                any_problem = True
                continue
            res = run_topic(t, file, test_timeout=args.timeout, select=args.select, task=args.task)
            report_topic(res, label, verbose=args.verbose)
            total_passed += res.passed
            total_failed += res.failed
            any_problem |= not res.ok
            if file == t.learner_file and not args.select and args.task is None and res.status != "no data":
                progress.record_result(t.number, res.status, res.passed, res.passed + res.failed, _rel(file))
    print()
    print(f"{total_passed} passed, {total_failed} failed")
    return 1 if any_problem else 0


if __name__ == "__main__":
    sys.exit(main())
