"""Run the stage suites in this process against one implementation folder and collect per-test results.

Used by the meta tier (each catalogued mistake or variant is one run) and by the `kata` commands
(inside a forked child, see forked.py). In-process runs share one torch import, most of a run's cost.
"""

import contextlib
import gc
import io
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest

from kata.manifest import REPOSITORY_ROOT, Stage, stage_of_test_file, stages
from kata.results import FailureKind, Outcome, TestResult

OUTPUT_LIMIT = 2000  # characters of a test's captured output kept for display


@dataclass
class SuiteRun:
    exit_code: int
    results: list[TestResult] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    output: str = ""

    def for_stage(self, name: str) -> list[TestResult]:
        return [result for result in self.results if result.stage == name]

    def failures(self) -> list[TestResult]:
        return [result for result in self.results if result.outcome.is_failure]


class ResultCollector:
    """A pytest plugin that keeps one TestResult per test."""

    def __init__(self):
        self.results: list[TestResult] = []
        self.collection_errors: list[str] = []
        self.collected: list[str] = []

    def pytest_collection_finish(self, session):
        self.collected = [item.nodeid for item in session.items]

    def pytest_runtest_logreport(self, report):
        counted = report.when == "call" or (report.failed or (report.skipped and report.when == "setup"))
        if not counted:
            return
        stage = stage_of_test_file(report.nodeid.split("::")[0])
        outcome = Outcome.ERROR if report.failed and report.when != "call" else Outcome(report.outcome)
        properties = dict(report.user_properties)
        kind = FailureKind(properties.get("kind", FailureKind.SUITE)) if outcome.is_failure else FailureKind.NONE
        self.results.append(
            TestResult(
                report.nodeid,
                stage.name if stage else "",
                outcome,
                kind,
                message="" if report.passed else report.longreprtext,
                location=properties.get("location", ""),
                output=_last_of(report.capstdout + report.capstderr),
            )
        )

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext}")


def _last_of(output: str) -> str:
    """The last OUTPUT_LIMIT characters of a test's output, from a line's start, saying what was left out."""
    if len(output) <= OUTPUT_LIMIT:
        return output
    kept = output[-OUTPUT_LIMIT:]
    kept = kept[kept.find("\n") + 1 :] if "\n" in kept[:-1] else kept
    return f"[the first {len(output) - len(kept):,} characters left out]\n{kept}"


class EveryNthTest:
    """A pytest plugin that keeps every n-th test from the k-th (counting from 0), in order."""

    def __init__(self, k: int, n: int):
        self.k, self.n = k, n

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        kept = items[self.k :: self.n]
        config.hook.pytest_deselected(items=[item for index, item in enumerate(items) if index % self.n != self.k])
        items[:] = kept


def run_suite(
    folder: Path,
    selected: list[Stage] | None = None,
    *,
    extra_args: tuple[str, ...] = (),
    profile: str = "kata",
    include_hidden: bool = False,
    collector: ResultCollector | None = None,
    plugins: tuple[object, ...] = (),
    share: tuple[int, int] = (0, 1),
) -> SuiteRun:
    """Run the tests of `selected` stages (default: all) against `folder` with a hypothesis
    profile of kata/hypothesis_profiles.py; nothing is printed. With share=(k, n), only every n-th test
    from the k-th (counting from 0) runs, so that n runs side by side run them all."""
    files = [str(path) for stage in (selected or stages()) for path in stage.test_files(include_hidden)]
    args = [
        *files,
        f"--impl={folder}",
        f"--rootdir={REPOSITORY_ROOT}",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:unraisableexception",  # its full garbage collection at the end costs 0.2 s a run
        "-p",
        "no:logging",  # see pyproject.toml's addopts
        "--tb=native",  # learner-facing failures get their own message; this keeps the rest cheap
        f"--hypothesis-profile={profile}",
        *NAMED_PLUGINS,
        *extra_args,
    ]
    collector = collector or ResultCollector()
    output = io.StringIO()
    _forget_modules_imported_under_another_profile(files, profile)
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output), _plugins_named_only():
        exit_code = pytest.main(args, plugins=[collector, *plugins, *([EveryNthTest(*share)] if share[1] > 1 else [])])
    _IMPORTED_UNDER.update({module: profile for module in _test_modules(files) if module in sys.modules})
    return SuiteRun(int(exit_code), collector.results, collector.collection_errors, output.getvalue())


# The plugins a run loads, and no other: pytest would otherwise read every installed distribution's entry points
# and file lists on each run (about 4 ms of each of the maintainer tier's thousand runs: 88 ms against 84 ms a
# run of four small stages), and a plugin the learner installed (pytest-randomly reseeding, say) would change what
# the tests see. The grading sandbox sets the same variable for its whole process.
NAMED_PLUGINS = ("-p", "kata.pytest_plugin", "-p", "_hypothesis_pytestplugin")


def _plugins_named_only():
    """The variable, which pytest 8.0 knows, not 8.4's --disable-plugin-autoload: set for the run, then as it was
    (a new patch each call, so that a run inside another restores what that one set)."""
    return mock.patch.dict(os.environ, {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})


# The hypothesis profile each test module of this process was imported under, by module name. A @given test
# takes its settings from the profile active when its module is imported, and a run in this process reuses
# the modules an earlier one imported: the meta tier's runs would otherwise run each property with the
# outer session's 100 examples, shrinking and example database, where the meta profile asks for 10 and none.
_IMPORTED_UNDER: dict[str, str] = {}


def _test_modules(files: list[str]) -> list[str]:
    return [Path(file).stem for file in files]  # tests/ holds no package: pytest names them by their stem


def _forget_modules_imported_under_another_profile(files: list[str], profile: str) -> None:
    for module in _test_modules(files):
        if module in sys.modules and _IMPORTED_UNDER.get(module) != profile:
            del sys.modules[module]


def warm_up() -> None:
    """Import, once in this process, what every run needs: the test modules (collecting them runs
    no graded code) and the optimizer machinery. Forked runs then start with all of it loaded and frozen."""
    import_optimizer_machinery()
    with contextlib.suppress(CollectionFailed):  # a test file broken in the learner's copy: its runs name it
        collect_test_ids(include_hidden=True)
    freeze_what_is_loaded()


def import_optimizer_machinery() -> None:
    """What torch's first optimizer pulls in (torch._dynamo): about 1 s idle, over 10 s on a busy machine,
    so never inside a test's time limit (tests/conftest.py's optimizer_machinery fixture calls this too)."""
    import torch

    first_time = "torch._dynamo" not in sys.modules
    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])
    if first_time:
        freeze_what_is_loaded()


# Whether this process (or the one it was forked from) has frozen what it loaded. Kept here because
# gc.get_freeze_count() counts the frozen objects one by one: 27 ms for the 315,000 after warm_up(), which
# every run asking it would pay.
_frozen = False


def freeze_what_is_loaded() -> None:
    """Move every object alive now (torch, sympy, the test modules: some 300,000) out of the cyclic garbage
    collector's sight, so that its full collections stop walking them all again. In a forked child such a
    collection also copies every page they lie on: 0.25 s each. Call it once per thing loaded, never once
    per run: garbage frozen along with them is never collected."""
    global _frozen
    gc.freeze()
    _frozen = True


def anything_frozen() -> bool:
    return _frozen


class CollectionFailed(RuntimeError):
    """The kata's own tests could not be collected: its checkout or installation is broken, never the graded code."""


def collect_test_ids(selected: list[Stage] | None = None, *, include_hidden: bool = False) -> list[str]:
    """The ids of the tests a run would execute, found without importing any graded code. One test module that
    cannot be imported stops pytest collecting any: that raises CollectionFailed, where an empty list would
    grade every stage as having no tests (a grade of 0 that said nothing, met while the checkout was edited)."""
    collector = ResultCollector()
    folder = REPOSITORY_ROOT  # any folder: collecting never imports the graded code
    run = run_suite(
        folder, selected, extra_args=("--collect-only",), include_hidden=include_hidden, collector=collector
    )
    if run.exit_code != pytest.ExitCode.OK or run.collection_errors:
        said = (run.collection_errors[0] if run.collection_errors else run.output)[-2000:]
        raise CollectionFailed(f"pytest could not collect the kata's tests (exit status {run.exit_code}): {said}")
    return collector.collected
