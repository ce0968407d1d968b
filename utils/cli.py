"""`dlfs`: the console command of dl-from-scratch (installed by `pip install -r requirements.txt`).

    dlfs start 9          copy Topic 09's starter.py to solution.py (never over your work)
    dlfs test 9           python utils/test_runner.py --day 9   (any runner option may follow)
    dlfs test 9 --task 2  only the tests of task 2
    dlfs hint 9 2         print hint 2 of Topic 09
    dlfs progress         your badge and the per-module table
    dlfs verify           python utils/test_runner.py --verify-setup

Every subcommand calls the same code as the scripts in utils/, so both ways give the same answers.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from dlfs import progress, test_runner
from dlfs.curriculum import topic


def start(number: int, force: bool = False) -> int:
    """Copy the topic's starter.py to solution.py; refuse to overwrite a solution.py that exists."""
    try:
        t = topic(number)
    except ValueError as exc:
        print(exc)
        return 2
    if not t.exists:
        print(f"Topic {t.number:02d} · {t.title} is not in the curriculum yet (see ROADMAP.md).")
        return 2
    if t.learner_file.exists() and not force:
        print(f"{t.learner_file} already exists: your work is kept (use --force to start over).")
        return 1
    shutil.copyfile(t.starter_file, t.learner_file)
    print(f"Created {t.learner_file}\nRead {t.folder / 'questions.md'}, then run: dlfs test {t.number}")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="dlfs", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="{start,test,hint,progress,verify}")
    p_start = sub.add_parser("start", help="copy a topic's starter.py to solution.py")
    p_start.add_argument("topic", type=int)
    p_start.add_argument("--force", action="store_true", help="overwrite an existing solution.py")
    p_test = sub.add_parser("test", help="test your solution.py (runner options may follow)", add_help=False)
    p_test.add_argument("topic", type=int)
    p_hint = sub.add_parser("hint", help="print a hint")
    p_hint.add_argument("topic", type=int)
    p_hint.add_argument("k", type=int)
    sub.add_parser("progress", help="your progress through the 34 topics")
    sub.add_parser("verify", help="check the installation and run a smoke test")
    args, rest = parser.parse_known_args(argv)
    if args.command == "start":
        return start(args.topic, force=args.force)
    if args.command == "test":
        return test_runner.main(["--day", str(args.topic), *rest])
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "hint":
        return test_runner.main(["--day", str(args.topic), "--hint", str(args.k)])
    if args.command == "progress":
        return progress.main([])
    if args.command == "verify":
        return test_runner.main(["--verify-setup"])
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
