"""The read-only trees graded code runs over, built once per `kata grade` in a private temporary folder.

- The test tree: the kata package, the stage tests (public and hidden) with their shared helpers, and
  the corpus; no solutions/, no maintainer tests, no instructor checkout.
- The probe tree: only the probe runner, the report protocol and the corpus with kata.load_corpus() (no test,
  no oracle).
- A submission copy: the submission's top-level Python files, regular files only (a link that leaves the
  submission is refused), each at most MAX_FILE_BYTES.
"""

import errno
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from kata.cell_origins import Origins, in_notebook_words
from kata.corpus import CORPUS_PATH
from kata.grading.sandbox import RUN
from kata.manifest import REPOSITORY_ROOT, stages
from kata.results import TestResult

MAX_FILE_BYTES = 1 << 20
MAX_FILES = 50
MAX_NOTEBOOK_BYTES = 8 << 20
SUBMISSION = "submission"  # the submission copy's folder inside a tree
TEST_HELPERS = ("conftest.py", "support.py", "feedback.py", "strategies.py", "hugging_face_gpt2.pt")
# The probe runner and its report protocol; and kata.load_corpus() (kata/__init__.py, corpus.py and what it reads),
# which a notebook's set-up cell calls and whose `text` a stage module built from the notebook may start from, as
# in the tests' tree: without it the check refuted every symbol of such a stage, and correct code scored 0.
PROBE_FILES = (
    "kata/__init__.py",
    "kata/results.py",
    "kata/torch_calls.py",
    "kata/corpus.py",
    "kata/manifest.py",
    "kata/stages.toml",
    "kata/grading/report.py",
    "kata/grading/probe_calls.py",
)


def make_workspace() -> Path:
    """A private folder for the trees; the sandboxed user can read it, nobody else can write it."""
    workspace = Path(tempfile.mkdtemp(prefix="kata-grade-"))
    workspace.chmod(0o755)
    return workspace


def build_test_tree(folder: Path, *, hidden: bool = True) -> Path:
    """The tree a stage's tests run in; without `hidden`, one without the hidden tests, for the public tests
    (graded code can read any file of its tree, and print it into a test's visible output)."""
    kata = REPOSITORY_ROOT / "kata"
    # Not the grader's own oracles: graded code has no business with them.
    ignored = shutil.ignore_patterns("__pycache__", "*.pyc", "oracles.py", "probes.py")
    shutil.copytree(kata, folder / "kata", ignore=ignored)
    (folder / "tests").mkdir()
    for helper in TEST_HELPERS:
        shutil.copy(REPOSITORY_ROOT / "tests" / helper, folder / "tests" / helper)
    for stage in stages():
        for test_file in stage.test_files(include_hidden=hidden):
            target = folder / test_file.relative_to(REPOSITORY_ROOT)
            target.parent.mkdir(exist_ok=True)
            shutil.copy(test_file, target)
    (folder / "data").mkdir()
    shutil.copy(CORPUS_PATH, folder / "data" / CORPUS_PATH.name)
    (folder / RUN).mkdir()  # where a submission's run folder is mounted
    return _readable(folder)


def build_probe_tree(folder: Path) -> Path:
    for relative in PROBE_FILES:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPOSITORY_ROOT / relative, folder / relative)
    (folder / "kata/grading/__init__.py").write_text("")  # the real one may import what is not here
    (folder / "data").mkdir()
    shutil.copy(CORPUS_PATH, folder / "data" / CORPUS_PATH.name)
    (folder / RUN).mkdir()
    return _readable(folder)


@dataclass
class SubmissionCopy:
    folder: Path
    refused: list[str] = field(default_factory=list)  # why files were left out, for the report
    notes: list[tuple[str, str]] = field(default_factory=list)  # a notebook's (stage, note): which cell gave a name
    origins: dict[str, Origins] = field(default_factory=dict)  # a notebook's stage -> where its module's lines are from

    def in_notebook_words(self, result: TestResult) -> TestResult:
        """The result as a notebook's student reads it: citing its cells where it cites a line of a module made
        from them, and running a stage's tests as a notebook does."""
        if not self.origins:
            return result
        files = {f"{stage}.py": origins for stage, origins in self.origins.items()}
        return replace(
            result, message=in_notebook_words(result.message, files), location=in_notebook_words(result.location, files)
        )

    def cites_cells(self, results: list[TestResult]) -> bool:
        """Whether these results, said in the notebook's words, cite one of its cells."""
        return bool(self.origins) and any(_CELL_CITED.search(result.message) for result in results)


_CELL_CITED = re.compile(r"\bcell \d+, line \d+")


# Jupyter shows no cell numbers (only [n], the order cells ran in): the report says how it counts them.
CELLS_COUNTED = "Cells are numbered from the top of the notebook, Markdown cells included: cell 1 is the first."


def copy_submission(source: Path, target: Path) -> SubmissionCopy:
    """The submission's own Python files, copied as plain files; a notebook's code cells, as stage modules."""
    target.mkdir(parents=True)
    copy = SubmissionCopy(target)
    if source.suffix == ".ipynb":
        _from_notebook(source, copy)
        _readable(target)
        return copy
    inside = source.resolve()
    folder = os.open(inside, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for path in sorted(source.glob("*.py"))[:MAX_FILES]:
            if path.name == "conftest.py":
                continue  # never loaded by the grader; not copied either
            try:
                resolved = path.resolve()
            except (OSError, RuntimeError):  # a link loop (pathlib's RuntimeError), or a link swapped as it is read
                copy.refused.append(f"{_named(path)} is a link that loops, or changed while it was copied: not graded")
                continue
            if not resolved.is_relative_to(inside):
                copy.refused.append(f"{_named(path)} is a link to a file outside the submission: it was not graded")
            elif problem := _copy_file(folder, resolved.relative_to(inside), target / path.name):
                copy.refused.append(f"{_named(path)} {problem}: it was not graded")
    finally:
        os.close(folder)
    _readable(target)
    return copy


def _copy_file(folder: int, relative: Path, target: Path) -> str:
    """Copy a file below the submission's folder (an open descriptor), opening each part of its path without
    following a link: a link swapped in after the check above (say, to the references, while the grader
    copies as root) is refused, not followed. Why it was not copied, or "" when it was."""
    try:
        source = _open_below(folder, relative)
    except OSError:
        return "is not a regular file, or changed while it was copied"
    with os.fdopen(source, "rb") as file:
        found = os.fstat(file.fileno())
        if not stat.S_ISREG(found.st_mode):
            return "is not a regular file"
        data = file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return f"is larger than {MAX_FILE_BYTES // 1024} KiB"
    target.write_bytes(data)
    return ""


def _open_below(folder: int, relative: Path) -> int:
    directory = os.dup(folder)
    try:
        for part in relative.parts[:-1]:
            below = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory)
            os.close(directory)
            directory = below
        return _open_regular(relative.parts[-1], dir_fd=directory)
    finally:
        os.close(directory)


def _open_regular(name: str | Path, *, dir_fd: int | None = None) -> int:
    """The regular file `name` opened for reading, and nothing else ever opened: opened by the grader, maybe
    root, a named pipe lets the writer waiting on it go on, and a device node does what opening it does (a
    red-team pass unblocked a writer that way). The name is opened as a path alone, checked, and that very file
    then opened through /proc. Raises OSError for anything else, a link included."""
    if not hasattr(os, "O_PATH") or not os.path.isdir("/proc/self/fd"):  # not Linux: opened, then checked
        return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)  # a pipe must not hold it
    path = os.open(name, os.O_PATH | os.O_NOFOLLOW, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(path).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(name))
        return os.open(f"/proc/self/fd/{path}", os.O_RDONLY)
    finally:
        os.close(path)


def _from_notebook(notebook: Path, copy: SubmissionCopy) -> None:
    """Stage modules from the notebook's code cells, into the copy's folder (parsed, never run, in a child of
    bounded memory and time: notebook_reader.py); why it could not be read, if so, and notes for the report."""
    from kata.grading.notebook_reader import read_notebook

    if (contents := _notebook_bytes(notebook)) is None:
        copy.refused.append(
            f"{_named(notebook)} is not a regular notebook file of at most {MAX_NOTEBOOK_BYTES >> 20} MiB: not graded"
        )
        return
    reading = read_notebook(notebook.name, contents, copy.folder)
    copy.notes += reading.notes
    copy.origins = reading.origins
    if reading.refused:
        copy.refused.append(f"{_named(notebook)}{reading.refused}: not graded")


def _notebook_bytes(notebook: Path) -> bytes | None:
    """The notebook's bytes, read once from the file checked to be a regular one (not a link: a link swapped in
    after the check, while the grader reads as root, is refused, not followed, as in _copy_file); None if not."""
    try:
        opened = _open_regular(notebook)
    except OSError:
        return None
    with os.fdopen(opened, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            return None
        contents = file.read(MAX_NOTEBOOK_BYTES + 1)
    return contents if len(contents) <= MAX_NOTEBOOK_BYTES else None


def _named(path: Path) -> str:
    """A file's name for the report: escaped where it holds a line break or another character that does not
    print, so that a name cannot write lines of its own into what the grader shows."""
    return path.name if path.name.isprintable() else ascii(path.name)


def _readable(folder: Path) -> Path:
    """Readable by the sandboxed user (the grader may run as root with a private umask)."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder
