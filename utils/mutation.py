"""Mutation testing of a topic's tests (maintainers): how many wrong programs do the tests let through?

    python -m dlfs.mutation --topic 4                  # every mutant of Topic 04's level-2 reference
    python -m dlfs.mutation --topic 4 --max-mutants 60 # a random sample of 60 (quick look, not for publishing)
    python -m dlfs.mutation --topic 4 --mutants t04-1a2b3c4d,t04-5e6f7a8b   # re-check chosen mutants
    python -m dlfs.mutation --topic 4 --list           # list the mutants (id, line, change), run nothing

The mutants come from mutmut 2.5.1 (its mutation operators: `+` -> `-`, `<` -> `<=`, `True` -> `False`,
a number n -> n + 1, `x = f()` -> `x = None`, `and` -> `or`, a call or subscript -> None, ...), applied one
at a time to the reference file of one level (level 2 by default, the one later topics import).

Nothing in the checkout is ever modified: the tracked files plus the working changes (`git ls-files -co
--exclude-standard`) are copied into a temporary folder, the `dlfs` package is pointed at that copy, and
each mutant is written there, one after the other. For each mutant the topic's own tests run against that
level only (`pytest <topic> --dlfs-levels L -x -q -p no:randomly -p no:xdist`), with a time limit of
`--timeout-base + --timeout-factor * baseline` seconds. Outcome of a mutant:
- killed: a test failed (pytest exit status other than 0);
- timeout: the tests ran past the limit (an endless loop: the learner would notice);
- survived: every test passed. A survivor is either *equivalent* (it behaves exactly like the original for
  every input a learner's code can receive, e.g. a changed default that is clamped away) or a hole in the
  tests. Equivalent mutants are listed, with one line of reason each, in docs/judge-power.md by their id
  (`t04-1a2b3c4d`: topic, then a hash of the file name, the line's text and the mutation's index on the
  line, so ids survive edits elsewhere in the file);
- not run, counted apart: *message-only* mutants, which change only the text of an exception or warning
  message (inside `raise ...` or `warnings.warn(...)`): the tests check the type of an error, not its
  wording; and *script-only* mutants, inside the file's `if __name__ == "__main__":` demo, which no test
  imports.

Results: a JSON summary (`--out`, default .dlfs/mutation/topicNN-levelL.json, which git ignores) with the
counts, every mutant's outcome and the diff of each survivor, and on stdout the surviving diffs and one
markdown row for the tables of docs/judge-power.md. `--jobs J` runs J copies side by side (default 1: the
machines this project is built on are shared).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import difflib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from dlfs.curriculum import LEVELS, REPO_ROOT, topic as _topic

TOOL = "mutmut 2.5.1"
EQUIVALENTS_DOC = Path("docs") / "judge-power.md"
ID_PATTERN = re.compile(r"`(t\d\d-[0-9a-f]{8})`")
SHIM = ".dlfs-mutation-path"  # folder in the copy holding `dlfs` -> the copy's utils/
ENV_DROP = ("DLFS_IMPL", "DLFS_LEVELS", "DLFS_LEVEL", "DLFS_USE_MINE", "PYTEST_ADDOPTS", "PYTHONPATH")
FAILED_LINE = re.compile(r"^(FAILED|ERROR) (\S+)")


@dataclass
class Mutant:
    id: str
    line_number: int  # 1-based, in the file as it is now
    original: str  # the line before / after the mutation (stripped)
    mutated: str
    kind: str = "run"  # "run" or "message-only"
    status: str = "not run"  # killed / timeout / survived / survived-equivalent / message-only / not run
    seconds: float = 0.0
    returncode: int | None = None
    killed_by: str | None = None
    diff: str | None = None
    _source: str = field(default="", repr=False)


# --------------------------------------------------------------------------------------------- mutants

def _mutmut():
    """mutmut's engine, imported late (importing mutmut puts the working directory on sys.path)."""
    try:
        import mutmut
    except ImportError:
        raise SystemExit("mutation testing needs mutmut 2.5.1: pip install -e '.[maintainer]'") from None
    if not mutmut.__version__.startswith("2."):
        raise SystemExit(f"mutmut {mutmut.__version__} is installed; this command is built on mutmut 2.5.1 "
                         "(mutmut 3 cannot mutate files in folders with spaces): pip install mutmut==2.5.1")
    return mutmut


def _message_lines(source: str) -> set[int]:
    """1-based line numbers of `raise ...` statements and `warnings.warn(...)` calls (their messages)."""
    import ast

    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        is_warn = (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "warn"
                   and isinstance(node.func.value, ast.Name) and node.func.value.id == "warnings")
        if isinstance(node, ast.Raise) or is_warn:
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _main_block_lines(source: str) -> set[int]:
    """1-based line numbers of the top-level `if __name__ == "__main__":` block (a demo no test imports)."""
    import ast

    lines: set[int] = set()
    for node in ast.parse(source).body:
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def _is_message_mutant(original: str, mutated: str, line_number: int, message_lines: set[int]) -> bool:
    """True when the mutation only inserts mutmut's 'XX' markers into a string on a message line."""
    if line_number not in message_lines:
        return False
    return mutated.replace("XX", "") == original.replace("XX", "") and mutated != original


def mutant_id(topic_number: int, file_name: str, line: str, occurrence: int, index: int) -> str:
    key = f"{file_name}\0{line.strip()}\0{occurrence}\0{index}".encode()
    return f"t{topic_number:02d}-{hashlib.sha1(key).hexdigest()[:8]}"


def list_mutants(topic_number: int, path: Path) -> list[Mutant]:
    """Every mutant mutmut makes of `path`, with its stable id and its mutated source."""
    mm = _mutmut()
    source = path.read_text(encoding="utf-8")
    lines = source.split("\n")
    occurrence_of_line, seen = {}, {}
    for i, text in enumerate(lines):
        seen[text.strip()] = seen.get(text.strip(), 0) + 1
        occurrence_of_line[i] = seen[text.strip()]
    message_lines, main_lines = _message_lines(source), _main_block_lines(source)
    ids = mm.list_mutations(mm.Context(source=source, filename=str(path)))
    mutants = []
    for rel in ids:
        ctx = mm.Context(source=source, filename=str(path), mutation_id=rel)
        mutated_source, count = mm.mutate(ctx)
        if count != 1 or mutated_source == source:
            continue
        new_lines = mutated_source.split("\n")
        ln = rel.line_number
        original = lines[ln].strip()
        mutated = new_lines[ln].strip() if len(new_lines) == len(lines) else "(several lines)"
        m = Mutant(id=mutant_id(topic_number, path.name, rel.line, occurrence_of_line[ln], rel.index),
                   line_number=ln + 1, original=original, mutated=mutated, _source=mutated_source)
        if ln + 1 in main_lines:
            m.kind, m.status = "script-only", "script-only"
        elif _is_message_mutant(original, mutated, ln + 1, message_lines):
            m.kind, m.status = "message-only", "message-only"
        m.diff = "".join(difflib.unified_diff(source.splitlines(True), mutated_source.splitlines(True),
                                              f"a/{path.name}", f"b/{path.name}", n=1))
        mutants.append(m)
    return mutants


def read_equivalents(doc: Path) -> set[str]:
    """Ids of the mutants that docs/judge-power.md lists as equivalent."""
    if not doc.is_file():
        return set()
    text = doc.read_text(encoding="utf-8")
    start = text.find("## Equivalent mutants")
    return set(ID_PATTERN.findall(text[start:])) if start >= 0 else set()


# ------------------------------------------------------------------------------------------ the copy

def tracked_files(root: Path) -> list[str]:
    """The checkout's tracked files and its untracked, non-ignored ones (relative paths)."""
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-co", "--exclude-standard", "-z"],
                             check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit(f"{root} must be a git checkout (git ls-files failed: {exc})") from None
    return sorted({p for p in out.decode().split("\0") if p})


def make_copy(root: Path, dest: Path) -> Path:
    """Copy the working tree's files into dest (never touching root) and point `dlfs` at the copy."""
    for rel in tracked_files(root):
        src = root / rel
        if src.is_symlink() or not src.is_file():
            continue  # deleted in the working tree, or a link: not part of what the tests read
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target)
    shim = dest / SHIM
    shim.mkdir()
    (shim / "dlfs").symlink_to(dest / "utils", target_is_directory=True)
    return dest


def test_env(copy: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ENV_DROP}
    env.update(PYTHONPATH=str(copy / SHIM), PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg",
               OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def test_command(copy: Path, topic_number: int, level: int) -> list[str]:
    folder = copy / _topic(topic_number).folder.relative_to(REPO_ROOT)
    return [sys.executable, "-m", "pytest", str(folder), "--dlfs-levels", str(level), "-x", "-q",
            "-p", "no:randomly", "-p", "no:xdist"]


def run_tests(copy: Path, cmd: list[str], timeout: float) -> tuple[int | None, float, str]:
    """(exit status or None on timeout, seconds, output) of one test run in the copy."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=copy, env=test_env(copy), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, time.perf_counter() - start, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the test process and anything it started
        out, _ = proc.communicate()
        return None, time.perf_counter() - start, out or ""


def check_copy(copy: Path) -> None:
    """The copy's tests must import the copy's dlfs (else they would test the checkout)."""
    probe = subprocess.run([sys.executable, "-c", "import dlfs.curriculum as c; print(c.REPO_ROOT)"],
                           cwd=copy, env=test_env(copy), capture_output=True, text=True)
    got = probe.stdout.strip()
    if probe.returncode != 0 or Path(got).resolve() != copy.resolve():
        raise SystemExit(f"the copy imports dlfs from {got or probe.stderr[-500:]!r}, not from {copy}: "
                         "refusing to run (mutants would not be what the tests see)")


# ---------------------------------------------------------------------------------------------- run

def run(topic_number: int, level: int = 2, max_mutants: int | None = None, seed: int = 0,
        only: set[str] | None = None, timeout_factor: float = 3.0, timeout_base: float = 10.0, jobs: int = 1,
        root: Path = REPO_ROOT, equivalents_doc: Path | None = None, progress=print) -> dict:
    """Mutation-test one topic's tests on one reference level; returns the summary (see the module docstring)."""
    t = _topic(topic_number)
    if level not in LEVELS:
        raise SystemExit(f"--level must be one of {sorted(LEVELS)}")
    target = t.level_file(level)
    rel_target = target.relative_to(REPO_ROOT)
    mutants = list_mutants(t.number, root / rel_target)
    generated = len(mutants)
    runnable = [m for m in mutants if m.kind == "run"]
    if only:
        unknown = only - {m.id for m in mutants}
        if unknown:
            raise SystemExit(f"no such mutant(s) of {rel_target}: {sorted(unknown)}")
        runnable = [m for m in runnable if m.id in only]
    sampled = max_mutants is not None and max_mutants < len(runnable)
    if sampled:
        runnable = sorted(random.Random(seed).sample(runnable, max_mutants), key=lambda m: m.line_number)
    equivalents = read_equivalents(equivalents_doc or root / EQUIVALENTS_DOC)

    started = time.perf_counter()
    workdirs = [Path(tempfile.mkdtemp(prefix=f"dlfs-mutation-t{t.number:02d}-")) for _ in range(max(1, jobs))]
    try:
        copies = [make_copy(root, d / "repo") for d in workdirs]
        check_copy(copies[0])
        cmd0 = test_command(copies[0], t.number, level)
        rc, baseline, out = run_tests(copies[0], cmd0, timeout=1800)
        if rc != 0:
            raise SystemExit(f"the unmutated level {level} does not pass its tests (exit {rc}); fix that first:\n"
                             + out[-3000:])
        limit = timeout_base + timeout_factor * baseline
        progress(f"{t.folder_name} level {level}: {generated} mutants, {len(runnable)} to run"
                 f"{' (sampled)' if sampled else ''}; baseline {baseline:.1f}s, limit {limit:.0f}s per mutant")
        original = (root / rel_target).read_text(encoding="utf-8")
        free = list(copies)
        lock = threading.Lock()
        done = [0]

        def test_one(m: Mutant) -> None:
            with lock:
                copy = free.pop()
            try:
                path = copy / rel_target
                path.write_text(m._source, encoding="utf-8")
                try:
                    rc, secs, out = run_tests(copy, test_command(copy, t.number, level), timeout=limit)
                finally:
                    path.write_text(original, encoding="utf-8")
            finally:
                with lock:
                    free.append(copy)
            m.seconds, m.returncode = round(secs, 2), rc
            if rc is None:
                m.status = "timeout"
            elif rc == 0:
                m.status = "survived-equivalent" if m.id in equivalents else "survived"
            else:
                m.status = "killed"
                hits = [FAILED_LINE.match(line) for line in out.splitlines()]
                names = [h.group(2) for h in hits if h]
                m.killed_by = names[0].split("::", 1)[-1] if names else f"pytest exit {rc}"
            with lock:
                done[0] += 1
                progress(f"[{done[0]}/{len(runnable)}] {m.status:<19} {m.id} line {m.line_number}: "
                         f"{m.original[:60]}  ->  {m.mutated[:60]}")

        with ThreadPoolExecutor(max_workers=len(copies)) as pool:
            list(pool.map(test_one, runnable))
    finally:
        for d in workdirs:
            shutil.rmtree(d, ignore_errors=True)

    counts = {s: sum(m.status == s for m in runnable)
              for s in ("killed", "timeout", "survived-equivalent", "survived")}
    run_n = len(runnable)
    ran = {m.id for m in runnable}
    alive = run_n - counts["survived-equivalent"]
    summary = {
        "topic": t.number, "folder": t.folder_name, "level": level, "file": str(rel_target), "tool": TOOL,
        "date": _dt.date.today().isoformat(), "commit": _git_head(root),
        "generated": generated, "message_only": sum(m.kind == "message-only" for m in mutants),
        "script_only": sum(m.kind == "script-only" for m in mutants),
        "run": run_n, "sampled": sampled, "seed": seed if sampled else None, "subset": bool(only),
        "killed": counts["killed"], "timeout": counts["timeout"],
        "survived_equivalent": counts["survived-equivalent"], "survived_other": counts["survived"],
        "score": round((counts["killed"] + counts["timeout"]) / alive, 4) if alive else 1.0,
        "baseline_s": round(baseline, 2), "limit_s": round(limit, 1),
        "wall_s": round(time.perf_counter() - started, 1), "tests": _count_tests(out),
        "command": " ".join(["pytest", str(t.folder.relative_to(REPO_ROOT)), *cmd0[4:]]),
        "equivalents_listed_not_generated": sorted(i for i in equivalents
                                                   if i.startswith(f"t{t.number:02d}-")
                                                   and i not in {m.id for m in mutants}),
        "mutants": [{k: v for k, v in asdict(m).items() if not k.startswith("_")
                     and (k != "diff" or m.status in ("survived", "survived-equivalent", "timeout"))}
                    for m in mutants if m.id in ran or m.kind != "run"],
    }
    return summary


def _git_head(root: Path) -> str | None:
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _count_tests(output: str) -> int | None:
    m = re.search(r"(\d+) passed", output)
    return int(m.group(1)) if m else None


def markdown_row(s: dict, label: str = "") -> str:
    """One row of docs/judge-power.md's table."""
    how = "full" if not (s["sampled"] or s["subset"]) else (f"sample of {s['run']}" if s["sampled"] else "subset")
    name = f"{s['topic']:02d} {s['folder'].split('-', 1)[1]}"
    return (f"| {name} | {label or s['date']} | {s['tests']} | {s['generated']} | "
            f"{s['message_only']} / {s['script_only']} | "
            f"{s['run']} | {s['killed']} | {s['timeout']} | {s['survived_equivalent']} | {s['survived_other']} | "
            f"{100 * s['score']:.1f}% | {how}, {s['wall_s'] / 60:.0f} min |")


TABLE_HEADER = ("| Topic | When | Tests (level 2) | Mutants | Not run: message / `__main__` | Run | Killed | Timeout | "
                "Survived, equivalent | Survived, other | Score | Run |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlfs.mutation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--topic", type=int, required=True, help="topic number (1-34)")
    parser.add_argument("--level", type=int, default=2, choices=sorted(LEVELS), help="reference level to mutate")
    parser.add_argument("--max-mutants", type=int, default=None,
                        help="run a random sample of this many mutants (seeded by --seed); default: all")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --max-mutants sample")
    parser.add_argument("--mutants", default="", help="comma-separated mutant ids: run only these")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    parser.add_argument("--timeout-factor", type=float, default=3.0,
                        help="per-mutant time limit = base + factor * the unmutated run's time (default 3)")
    parser.add_argument("--timeout-base", type=float, default=10.0, help="seconds (default 10)")
    parser.add_argument("--jobs", type=int, default=1, help="copies tested side by side (default 1)")
    parser.add_argument("--label", default="", help="text of the table row's second column (default: the date)")
    parser.add_argument("--out", default=None, help="JSON summary path (default .dlfs/mutation/topicNN-levelL.json)")
    parser.add_argument("--root", default=None,
                        help="the git checkout to measure (default: the one dlfs is installed from)")
    parser.add_argument("--quiet", action="store_true", help="no per-mutant progress lines")
    args = parser.parse_args(argv)

    t = _topic(args.topic)
    root = Path(args.root).resolve() if args.root else REPO_ROOT
    if args.list:
        for m in list_mutants(t.number, root / t.level_file(args.level).relative_to(REPO_ROOT)):
            print(f"{m.id}  line {m.line_number:4d}  {m.kind:<12}  {m.original}  ->  {m.mutated}")
        return 0
    only = {x.strip() for x in args.mutants.split(",") if x.strip()} or None
    say = (lambda *_: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr, flush=True))
    summary = run(t.number, level=args.level, max_mutants=args.max_mutants, seed=args.seed, only=only,
                  timeout_factor=args.timeout_factor, timeout_base=args.timeout_base, jobs=args.jobs, root=root,
                  progress=say)
    out = Path(args.out) if args.out else REPO_ROOT / ".dlfs" / "mutation" / f"topic{t.number:02d}-level{args.level}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")

    for m in summary["mutants"]:
        if m["status"] == "survived":
            print(f"\n### survived {m['id']} (line {m['line_number']})\n{m['diff']}")
    print(f"\nsummary: {out}")
    print(TABLE_HEADER)
    print("|" + "---|" * TABLE_HEADER.count(" | ") + "---|")
    print(markdown_row(summary, args.label))
    return 0 if summary["survived_other"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
