"""Edits to the references: realistic learner mistakes (the suite must reject each), different
correct implementations (the suite must accept each) and hostile submissions (`kata grade` must
survive each). Each edit is (old, new) on solutions/<stage>.py; `old` must occur exactly once, so
the catalog cannot silently go stale when a reference changes."""

import ast
import shutil
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

from kata.manifest import REPOSITORY_ROOT

SOLUTIONS = REPOSITORY_ROOT / "solutions"


@dataclass(frozen=True)
class Edited:
    name: str
    stage: str
    what: str
    edits: tuple[tuple[str, str], ...]
    # For a mistake: a phrase its failure message must contain, where the suite can tell the mistake.
    diagnosis: str = ""
    # The stage whose suite runs, where not the edited one: a later stage run on its own (plain
    # `pytest -m s09_fast_attention`) must blame a mistake in an earlier stage on that stage.
    graded_stage: str = ""
    # For a mistake: phrases of hints that would blame code it leaves correct; no failure message may
    # contain one (a later test's fixed hint must not send the learner to the wrong place).
    misleading: tuple[str, ...] = ()

    @property
    def graded(self) -> str:
        return self.graded_stage or self.stage

    def write_to(self, folder: Path) -> Path:
        """A copy of the references in `folder`, with this entry's edits applied."""
        return edited_copy(folder, [self])

    def apply_in(self, folder: Path) -> None:
        path = folder / f"{self.stage}.py"
        source = path.read_text(encoding="utf-8")
        for old, new in self.edits:
            count = source.count(old)
            if count != 1:
                raise AssertionError(
                    f"{self.name}: {old!r} occurs {count} times in solutions/{self.stage}.py, expected once"
                )
            source = source.replace(old, new)
        path.write_text(source, encoding="utf-8")


def knock_on(
    mistake: Edited, graded_stage: str, diagnosis: str, misleading: tuple[str, ...] = (), *, name: str = ""
) -> Edited:
    """An earlier stage's catalogued mistake run under a later stage's suite on its own, which must send the learner
    back to the earlier stage (the diagnosis) rather than blame the later stage's code (the misleading phrases).
    It is called knock-on-<the mistake's name> unless `name` says otherwise (the same mistake under two stages)."""
    what = f"{mistake.what} ({mistake.stage}), then ran {graded_stage} alone"
    name = name or f"knock-on-{mistake.name}"
    return replace(mistake, name=name, what=what, diagnosis=diagnosis, graded_stage=graded_stage, misleading=misleading)


def named(entries: list[Edited], name: str) -> Edited:
    """The catalog entry called `name`."""
    return next(entry for entry in entries if entry.name == name)


def edited_copy(folder: Path, entries: list[Edited]) -> Path:
    """A copy of the references in `folder`, with the edits of every entry applied."""
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    for entry in entries:
        entry.apply_in(folder)
    return folder


def replaced(stage: str, qualname: str, new: str) -> tuple[str, str]:
    """The edit that swaps the definition `qualname` ("generate", "KVCache.update") in solutions/<stage>.py,
    decorators and docstring included, for `new`, written from column 0: for a variant that rewrites a whole
    function or class, whose reference text would be long to quote. It fails where the name is not defined."""
    source = (SOLUTIONS / f"{stage}.py").read_text(encoding="utf-8")
    body, node = ast.parse(source).body, None
    for name in qualname.split("."):
        node = next(n for n in body if isinstance(n, ast.FunctionDef | ast.ClassDef) and n.name == name)
        body = node.body
    lines = source.splitlines(keepends=True)
    start = min([node.lineno, *(decorator.lineno for decorator in node.decorator_list)]) - 1
    return "".join(lines[start : node.end_lineno]), textwrap.indent(
        textwrap.dedent(new).strip("\n") + "\n", " " * node.col_offset
    )
