"""Your progress through the 34 topics, computed from what the test runner recorded.

    python utils/progress.py                  # badge + per-module table
    python utils/progress.py --tick-roadmap   # also tick the finished topics in ROADMAP.md

    [###########>          ] Module 2 Topic 15 (44%)

A topic counts as done when the last run of `python utils/test_runner.py --day N` on your own
solution.py passed every test. Results live in .dlfs/progress.json (or $DLFS_HOME/progress.json);
that file is yours and is never committed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

from dlfs.curriculum import MODULES, REPO_ROOT, TOPICS

BADGE_WIDTH = 22


def state_file() -> Path:
    home = os.environ.get("DLFS_HOME")
    return (Path(home) if home else REPO_ROOT / ".dlfs") / "progress.json"


def load_state() -> dict:
    path = state_file()
    if not path.is_file():
        return {"topics": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, OSError):
        print(f"warning: {path} is unreadable; starting a fresh record", file=sys.stderr)
        return {"topics": {}}


def save_state(state: dict) -> None:
    """Write atomically: a crash mid-write never leaves a half file."""
    path = state_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".progress-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2, sort_keys=True)
    os.replace(tmp, path)


def _entry(state: dict, number: int) -> dict:
    return state["topics"].setdefault(str(number), {"status": "not started", "hints_used": []})


def record_result(number: int, status: str, passed: int, total: int, file: str) -> None:
    state = load_state()
    entry = _entry(state, number)
    entry.update(status=status, passed=passed, total=total, file=file,
                 last_run=time.strftime("%Y-%m-%d %H:%M:%S"))
    if status == "passed":
        entry.setdefault("first_passed", entry["last_run"])
    save_state(state)


def record_hint(number: int, k: int) -> None:
    state = load_state()
    entry = _entry(state, number)
    if k not in entry["hints_used"]:
        entry["hints_used"] = sorted(entry["hints_used"] + [k])
    save_state(state)


def done_topics(state: dict) -> list[int]:
    return sorted(int(n) for n, e in state["topics"].items() if e.get("status") == "passed")


def badge(state: dict) -> str:
    """[###########>          ] Module 2 Topic 15 (44%): share of the 34 topics done, and the furthest one."""
    done = done_topics(state)
    share = len(done) / len(TOPICS)
    filled = int(round(BADGE_WIDTH * share))
    head = ">" if 0 < filled < BADGE_WIDTH else ""
    bar = "#" * (filled - len(head)) + head + " " * (BADGE_WIDTH - filled)
    if done:
        last = next(t for t in TOPICS if t.number == done[-1])
        where = f"Module {last.module} Topic {last.number:02d}"
    else:
        first = TOPICS[0]
        where = f"nothing done yet: start with Topic {first.number:02d} (dlfs start {first.number})"
    return f"[{bar}] {where} ({share:.0%})"


def table(state: dict) -> str:
    lines = [f"{'module':<36} {'done':>6}  topics"]
    for m, name in MODULES.items():
        topics = [t for t in TOPICS if t.module == m]
        marks = []
        for t in topics:
            status = state["topics"].get(str(t.number), {}).get("status", "not started")
            marks.append({"passed": "✓", "failed": "✗", "not started": "·"}.get(status, "·") + f"{t.number:02d}")
        done = sum(state["topics"].get(str(t.number), {}).get("status") == "passed" for t in topics)
        lines.append(f"{name:<36} {done:>2}/{len(topics):<3}  " + " ".join(marks))
    lines.append("✓ passed   ✗ tests failing   · not started")
    return "\n".join(lines)


ROADMAP_LINE = re.compile(r"^(\s*- \[)[ xX](\] Topic (\d{2})\b.*)$")


def tick_roadmap(state: dict, roadmap: Path = REPO_ROOT / "ROADMAP.md") -> int:
    """Tick `- [ ] Topic NN ...` lines of ROADMAP.md for done topics; returns how many are ticked."""
    done = set(done_topics(state))
    out, ticked = [], 0
    for line in roadmap.read_text(encoding="utf-8").splitlines():
        m = ROADMAP_LINE.match(line)
        if m:
            mark = "x" if int(m.group(3)) in done else " "
            ticked += mark == "x"
            line = f"{m.group(1)}{mark}{m.group(2)}"
        out.append(line)
    roadmap.write_text("\n".join(out) + "\n", encoding="utf-8")
    return ticked


def main(argv=None) -> int:
    try:
        sys.stdout.reconfigure(errors="replace")
    except AttributeError:
        pass
    parser = argparse.ArgumentParser(description="Show your progress through dl-from-scratch.")
    parser.add_argument("--tick-roadmap", action="store_true", help="tick finished topics in ROADMAP.md")
    parser.add_argument("--badge", action="store_true", help="print only the badge line")
    args = parser.parse_args(argv)
    state = load_state()
    print(badge(state))
    if not args.badge:
        print()
        print(table(state))
        hints = {n: e["hints_used"] for n, e in state["topics"].items() if e.get("hints_used")}
        if hints:
            print("\nHints used: " + ", ".join(f"topic {int(n):02d}: {v}" for n, v in sorted(hints.items())))
    if args.tick_roadmap:
        print(f"\nROADMAP.md: {tick_roadmap(state)} topic(s) ticked.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
