"""dlfs.mutation: the maintainers' measure of judge power (mutmut 2.5.1, from the maintainer extra)."""

import hashlib
import textwrap

import pytest

mutation = pytest.importorskip("dlfs.mutation")
pytest.importorskip("mutmut", reason="mutation testing needs the maintainer extra: pip install -e '.[maintainer]'")

from dlfs.curriculum import REPO_ROOT, topic  # noqa: E402

SOURCE = textwrap.dedent('''\
    def area(w, h):
        if w < 0:
            raise ValueError("width must not be negative")
        return w * h


    if __name__ == "__main__":
        print(area(2, 3))
''')


def test_mutants_are_classified_and_their_ids_are_stable(tmp_path):
    path = tmp_path / "level02-vectorized.py"
    path.write_text(SOURCE)
    mutants = mutation.list_mutants(7, path)
    kinds = {m.kind for m in mutants}
    assert kinds == {"run", "message-only", "script-only"}, kinds
    by_line = {m.line_number: m.kind for m in mutants}
    assert by_line[3] == "message-only" and by_line[8] == "script-only" and by_line[4] == "run"
    assert all(m.id.startswith("t07-") and len(m.id) == 12 for m in mutants)
    assert len({m.id for m in mutants}) == len(mutants), "two mutants share an id"
    # an edit elsewhere in the file (a new first line) keeps every id
    path.write_text("# a comment\n" + SOURCE)
    assert {m.id for m in mutation.list_mutants(7, path)} == {m.id for m in mutants}
    times = [m for m in mutants if m.original == "return w * h"]
    assert times and all(m.mutated != m.original for m in times)


def test_equivalent_ids_are_read_from_their_section_only(tmp_path):
    doc = tmp_path / "judge-power.md"
    doc.write_text("# Judge power\n`t01-aaaaaaaa` is only an example\n\n## Equivalent mutants\n"
                   "- `t02-0123abcd`: the default is clamped away\n- `t02-89abcdef`: dead code\n")
    assert mutation.read_equivalents(doc) == {"t02-0123abcd", "t02-89abcdef"}
    assert mutation.read_equivalents(tmp_path / "missing.md") == set()


def test_markdown_row_has_one_cell_per_column():
    summary = {"topic": 4, "folder": topic(4).folder_name, "date": "2026-12-04", "tests": 120,
               "generated": 300, "message_only": 40, "script_only": 20, "run": 240, "killed": 230, "timeout": 2,
               "survived_equivalent": 3, "survived_other": 5, "score": 232 / 237, "sampled": False,
               "subset": False, "wall_s": 600}
    row = mutation.markdown_row(summary)
    assert row.count("|") == mutation.TABLE_HEADER.count("|")
    assert f"| 04 {topic(4).folder_name.split('-', 1)[1]} |" in row and "97.9%" in row and "full, 10 min" in row


@pytest.mark.slow
def test_a_lost_value_is_killed_and_the_checkout_is_never_modified():
    """One real mutant of Topic 01 (contiguous_strides forgets its shape) against its tests, in a copy of the checkout."""
    target = topic(1).level_file(2)
    before = hashlib.sha256(target.read_bytes()).hexdigest()
    mutants = mutation.list_mutants(1, target)
    lost = next(m for m in mutants if m.kind == "run" and m.original.startswith("shape = tuple(")
                and m.mutated == "shape = None")
    summary = mutation.run(1, only={lost.id}, root=REPO_ROOT, progress=lambda *_: None)
    assert summary["run"] == 1 and summary["killed"] == 1, summary["mutants"]
    record = next(m for m in summary["mutants"] if m["id"] == lost.id)
    assert record["status"] == "killed" and record["killed_by"], "a killed mutant names the test that killed it"
    assert hashlib.sha256(target.read_bytes()).hexdigest() == before, "the checkout's file was modified"
