"""Run the stage suites in this process against one implementation folder and collect per-test results.

Used by the meta tier (each catalogued mistake or variant is one run) and by the `kata` commands.
In-process runs share one torch import, which is most of a run's cost.
"""

import contextlib
import io
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kata.manifest import REPOSITORY_ROOT, Stage, stages


@dataclass
class TestResult:
    nodeid: str
    stage: str
    outcome: str  # "passed", "failed", "error" or "skipped"
    message: str  # the learner-facing failure text; empty when it passed


@dataclass
class SuiteRun:
    exit_code: int
    results: list[TestResult] = field(default_factory=list)
    collection_errors: list[str] = field(default_factory=list)
    output: str = ""

    def for_stage(self, name: str) -> list[TestResult]:
        return [result for result in self.results if result.stage == name]

    def failures(self) -> list[TestResult]:
        return [result for result in self.results if result.outcome in ("failed", "error")]


class _Collector:
    def __init__(self):
        self.results: list[TestResult] = []
        self.collection_errors: list[str] = []
        self.stage_of_file = {stage.test_file.name: stage.name for stage in stages()}

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.outcome != "passed" and not (report.when == "teardown" and report.skipped)):
            outcome = "error" if report.when != "call" and report.failed else report.outcome
            stage = self.stage_of_file.get(Path(report.nodeid.split("::")[0]).name, "")
            message = report.longreprtext if report.outcome != "passed" else ""
            self.results.append(TestResult(report.nodeid, stage, outcome, message))

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_errors.append(f"{report.nodeid}: {report.longreprtext}")


def run_suite(
    folder: Path, selected: list[Stage] | None = None, extra_args: tuple[str, ...] = (), profile: str = "kata"
) -> SuiteRun:
    """Run the tests of `selected` stages (default: all) against `folder` with a hypothesis
    profile of kata/pytest_plugin.py; nothing is printed."""
    files = [str(stage.test_file) for stage in (selected or stages())]
    args = [
        *files,
        f"--impl={folder}",
        f"--rootdir={REPOSITORY_ROOT}",
        "-p",
        "no:cacheprovider",
        f"--hypothesis-profile={profile}",
        *extra_args,
    ]
    collector = _Collector()
    output = io.StringIO()
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        exit_code = pytest.main(args, plugins=[collector])
    return SuiteRun(int(exit_code), collector.results, collector.collection_errors, output.getvalue())
