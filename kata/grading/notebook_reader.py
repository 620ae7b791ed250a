"""A submitted notebook read into stage modules in a child process of bounded memory and time.

The notebook is the student's: IPython's transformer and Python's parser can take hundreds of times its size
in memory, and minutes where it is built to, so the grader never parses one itself. The child runs only
the kata's own code (kata.notebook.stage_files_from_notebook, which never runs the notebook's code) and
answers with its exit status and short lines (why it refused the notebook, or notes for the report and
which cell each line of the modules came from, so that the report cites cells, not files the student never
saw); the modules it writes are graded in the sandbox like any submission's files.

    python -m kata.grading.notebook_reader NAME FOLDER < NOTEBOOK

The child reads the notebook's bytes from its standard input, as the grader read them from the file it checked,
never the path: a student who can write the notebook's folder could swap the file for a link to another
notebook (the references, a classmate's) once it is checked, and the child, the grader's user, would follow it.
"""

import re
import resource
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from kata.cell_origins import Origins
from kata.manifest import stage_names

# The kata's own notebook with every reference pasted in takes about 0.25 s and 43 MiB to read here: these
# leave any learner's notebook a wide margin on a busy machine, and a notebook built to exhaust the grader none.
MEMORY_BYTES = 1 << 30
SECONDS = 60  # of the child's CPU time: the kernel ends it there
# The child only computes (its notebook comes whole on its standard input), so only a busy machine keeps it
# waiting longer than its CPU time: two busy processes per core leave it a third of one.
WAIT_SECONDS = 5 * SECONDS
TOO_LARGE, UNREADABLE = 3, 4  # the child's exit statuses beside 0
MAX_ANSWER_BYTES = 256_000  # a line of origins per run of a module's lines from one cell: 1.7 KB for the above
MAX_NOTES = 12
MAX_ORIGIN_LINES = 500_000  # of all the modules together: the reference notebook's make 593
# A run of a module's lines that came from one cell: stage, first line in the module, cell, line in it, length
_ORIGINS = re.compile(r"(\w+)\t([1-9]\d{0,6})\t(cell [1-9]\d{0,6})\t([1-9]\d{0,6})\t([1-9]\d{0,6})")


@dataclass(frozen=True)
class Reading:
    refused: str = ""  # why the notebook was not read, following its name in the report ("" once read)
    notes: tuple[tuple[str, str], ...] = ()  # (stage, note): which cell a name is graded from, where unclear
    origins: dict[str, Origins] = field(default_factory=dict)  # stage -> where its module's lines came from


def read_notebook(name: str, contents: bytes, folder: Path) -> Reading:
    """Write the stage modules of the notebook `name`, whose bytes are `contents`, into `folder`, in a child of
    bounded memory and time."""
    try:
        done = subprocess.run(
            # -P: not the current folder first on sys.path, as -m puts it, where a `kata/` there would run instead
            [sys.executable, "-P", "-m", __name__, name, str(folder)],
            input=contents,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            timeout=WAIT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Reading(f" could not be read within the {WAIT_SECONDS} s the grader waits for it")
    said = done.stdout[:MAX_ANSWER_BYTES].decode("utf-8", errors="replace").strip()
    if done.returncode == 0:
        lines = said.splitlines()[: -1 if len(done.stdout) > MAX_ANSWER_BYTES else None]  # never a cut line
        notes = [line.split("\t", 1) for line in lines if line.count("\t") == 1]
        kept = [(stage, note) for stage, note in notes if stage in stage_names() and note.isprintable()]
        return Reading(notes=tuple(kept[:MAX_NOTES]), origins=_origins(lines))
    if done.returncode == TOO_LARGE and said:
        return Reading(f": {said}")
    if done.returncode == UNREADABLE and said.isidentifier() and said != "MemoryError":
        return Reading(f" could not be read as a notebook ({said})")
    return Reading(f" could not be read within the grader's {MEMORY_BYTES >> 20} MiB and {SECONDS} s of CPU time")


def _origins(lines: list[str]) -> dict[str, Origins]:
    origins: dict[str, Origins] = {}
    room = MAX_ORIGIN_LINES
    for match in filter(None, map(_ORIGINS.fullmatch, lines)):
        stage, first, cell, line, length = match[1], int(match[2]), match[3], int(match[4]), int(match[5])
        if stage in stage_names() and length <= room:
            origins.setdefault(stage, {}).update({first + i: (cell, line + i) for i in range(length)})
            room -= length
    return origins


def _runs(origins: Origins) -> list[tuple[int, str, int, int]]:
    """The module's lines from cells as runs: (first line, cell, its line there, how many lines)."""
    runs: list[list] = []
    for line, (cell, line_in_cell) in sorted(origins.items()):
        last = runs[-1] if runs else None
        if last and (last[0] + last[3], last[1], last[2] + last[3]) == (line, cell, line_in_cell):
            last[3] += 1
        else:
            runs.append([line, cell, line_in_cell, 1])
    return [tuple(run) for run in runs]


def main(name: str, folder: str) -> int:
    from kata.notebook import NotebookTooLarge, stage_files_from_notebook

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (SECONDS, SECONDS))  # the limit, and its end should the grader be killed
    try:
        text = sys.stdin.buffer.read().decode("utf-8")  # as nbformat reads a file; not UTF-8: UnicodeDecodeError
        modules = stage_files_from_notebook(Path(name), Path(folder), text=text)
    except NotebookTooLarge as error:
        print(error)
        return TOO_LARGE
    except Exception as error:  # a notebook that does not parse is the student's, never the grader's, failure
        print(type(error).__name__)
        return UNREADABLE
    print("\n".join(f"{stage}\t{note}" for stage, note in modules.notes))
    for stage, origins in modules.origins.items():
        print("\n".join("\t".join(map(str, (stage, *run))) for run in _runs(origins)))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
