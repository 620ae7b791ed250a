"""Which implementation folder is graded, and how its stage modules are imported.

A stage module is imported by its plain name (`import s03_bigram`), so a later stage can build on
an earlier one of the same folder. A finder on sys.meta_path maps those names to the graded folder;
switching folders drops the old modules. Sources are compiled fresh on every import (no .pyc), so
a file saved twice within a second is never served stale.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

from kata.cell_origins import written_from_cells
from kata.manifest import REPOSITORY_ROOT, stage_names

DEFAULT_IMPLEMENTATION = "exercises"


class StageUnavailable(Exception):
    """A stage module (or a name in it) could not be loaded; the message says where and why."""

    def __init__(self, message: str, location: str | None = None):
        super().__init__(message)
        self.location = location


class TestTookTooLong(BaseException):
    """Raised into a test that runs past its time limit. A BaseException, like KeyboardInterrupt,
    so that hypothesis stops at once instead of trying more examples that would loop too."""

    __test__ = False  # not a test class, in a test module that imports it

    def __init__(self, seconds: float, reference_seconds: float | None = None):
        super().__init__(f"the test ran for more than {seconds:g} s")
        self.seconds = seconds
        self.reference_seconds = reference_seconds  # what the references took for it, where measured


NOT_RUN = "Not run: "  # how the message of a test failed unrun begins


class EarlierTestTookTooLong(Exception):
    """Raised, in the learner loop, into a test whose stage already had a test stopped at its time limit."""

    __test__ = False

    def __init__(self, test: str, location: str):
        where = f" at {location}" if location else ""
        super().__init__(
            f"{NOT_RUN}an earlier test of this stage, {test}, was stopped at its time limit with your code still "
            f"running{where}. Fix that, and this test runs again."
        )
        self.location = location


def display_path(path: Path) -> str:
    """`path` as a learner would type it: relative to the working folder when it lies below it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def resolve_implementation(value: str | None = None) -> Path:
    """The folder named by --impl, else by KATA_IMPL, else exercises/; relative names are looked up
    in the working folder first, then in the kata's own root (so `--impl solutions` works anywhere)."""
    value = value or os.environ.get("KATA_IMPL") or DEFAULT_IMPLEMENTATION
    path = Path(value).expanduser()
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, REPOSITORY_ROOT / path]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate.resolve()
    raise FileNotFoundError(f"No implementation folder {value!r}: expected a folder holding s01_tokenizer.py, ...")


class _SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    def path_stats(self, path):
        raise OSError("stage modules are always compiled from source")


class _StageFinder(importlib.abc.MetaPathFinder):
    def __init__(self, folder: Path):
        self.folder = folder

    def find_spec(self, name, path=None, target=None):
        file = self.folder / f"{name}.py"
        if name not in stage_names() or not file.is_file():
            return None
        return importlib.util.spec_from_file_location(name, file, loader=_SourceOnlyLoader(name, str(file)))


_active_finder: _StageFinder | None = None
# A module that failed to import fails every later test the same way, without running again:
# a top-level endless loop then costs one timeout, not one per test.
_import_failures: dict[str, StageUnavailable] = {}


def activate(folder: Path | None) -> Path | None:
    """Grade `folder` from now on (None: no folder); returns the folder graded before."""
    global _active_finder
    previous = _active_finder.folder if _active_finder else None
    if _active_finder in sys.meta_path:
        sys.meta_path.remove(_active_finder)
    for name in stage_names():
        sys.modules.pop(name, None)
    _import_failures.clear()
    _active_finder = _StageFinder(folder) if folder else None
    if _active_finder:
        sys.meta_path.insert(0, _active_finder)
    return previous


def active_folder() -> Path:
    if _active_finder is None:
        raise RuntimeError("no implementation is being graded")
    return _active_finder.folder


def load_stage(name: str):
    """Import stage module `name` from the graded folder, explaining any failure in a learner's words."""
    file = active_folder() / f"{name}.py"
    if not file.is_file():
        raise StageUnavailable(f"{display_path(file)} is missing. Restore the stub with `kata reset {name}`.")
    if name in _import_failures:
        raise _import_failures[name].with_traceback(None)  # else each raise would lengthen its traceback
    try:
        return importlib.import_module(name)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # SystemExit and pytest-timeout's Failed too
        _import_failures[name] = _import_failure(file, error)
        raise _import_failures[name] from None


def _import_failure(file: Path, error: BaseException) -> StageUnavailable:
    if isinstance(error, SyntaxError):
        code = (error.text or "").strip()
        return StageUnavailable(
            f"{display_path(file)} does not compile: {error.msg} (line {error.lineno})\n    {code}",
            f"{display_path(file)}:{error.lineno}",
        )
    line = _deepest_line_in(error.__traceback__, file)
    where = f" (line {line})" if line else ""
    if isinstance(error, TestTookTooLong):
        message = (
            f"Importing {display_path(file)} never finished: is there an endless loop at the top level of "
            f"the file?{where}"
        )
    else:
        message = f"Importing {display_path(file)} raised {type(error).__name__}: {error}{where}"
        if _imports_a_stage_as_a_package(error):
            message += (
                "\nStages import each other by file name, as modules side by side: from s06_attention import Head."
            )
    return StageUnavailable(message, f"{display_path(file)}:{line or 1}")


def _imports_a_stage_as_a_package(error: BaseException) -> bool:
    """Whether `error` is what `from exercises.s06_attention import ...` or `from .s06_attention import ...` raise."""
    if isinstance(error, ModuleNotFoundError):
        return (error.name or "").split(".")[0] in ("exercises", "solutions")
    return isinstance(error, ImportError) and "attempted relative import" in str(error)


def _deepest_line_in(traceback, file: Path) -> int | None:
    line = None
    while traceback is not None:
        if Path(traceback.tb_frame.f_code.co_filename) == file:
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


# While not None, every stage symbol a test reaches through a StageModule ("s03_bigram.BigramLanguageModel"):
# kata/reference_runs.py records which symbols each test exercises, so that a grade can be confirmed per test.
symbols_used: set[str] | None = None


def _not_defined(file: Path, attribute: str, stage_name: str) -> str:
    try:
        with open(file, encoding="utf-8", errors="replace") as module:
            first_line = module.readline(200)
    except OSError:  # gone since it was imported
        first_line = ""
    if written_from_cells(first_line):  # the learner wrote cells, never this file
        return (
            f"No code cell of the notebook defines {attribute}, which the tests call: define it at the top level of "
            "a cell, as the stage's stub does."
        )
    return (
        f"{display_path(file)} does not define {attribute}, which the tests call. "
        f"`kata reset {stage_name}` shows the original stub (your file is kept as a backup)."
    )


class StageModule:
    """Stands for one stage module of the graded implementation in a test file.

    The module is imported on first attribute access, inside a test, so a learner's broken file
    fails each test with a located message instead of breaking collection of the whole suite.
    """

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):
            # pytest and others probe objects for private and dunder names while collecting;
            # answering those must never import (run) the graded code.
            raise AttributeError(attribute)
        if symbols_used is not None:
            symbols_used.add(f"{self._name}.{attribute}")
        module = load_stage(self._name)
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise StageUnavailable(_not_defined(Path(module.__file__), attribute, self._name)) from None
