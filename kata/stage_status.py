"""A stage's status, computed by running its tests.

Each run's verdicts are also recorded in .kata/verdicts.json, keyed by a fingerprint of everything the
verdict depends on (the stage's file and those it builds on, its tests, the kata itself, torch's
version). `kata train` reuses a verdict whose fingerprint still matches instead of running the suites
again (tens of seconds before its first step otherwise); the learner's views and grading always run them.
"""

import hashlib
import importlib.metadata
import json
import os
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path

from kata.forked import run_forked_side_by_side
from kata.implementation import NOT_RUN
from kata.limits import Limits, limits_from
from kata.manifest import REPOSITORY_ROOT, Stage, builds_on, stages
from kata.messages import sentences
from kata.results import FailureKind, TestResult, results_in_order

# A stage's tests run in this many children side by side: on 2 cores a passing stage's verdict comes
# in about half the time (benchmarks/watch_latency.py). Two at most, as only 2 cores were measured.
SHARES = min(2, os.cpu_count() or 1)


class StageState(StrEnum):
    DONE = "done"
    PARTIAL = "partial"
    NOT_STARTED = "not started"
    LOCKED = "locked"
    STOPPED = "stopped"  # the run gave no results


@dataclass
class StageStatus:
    stage: Stage
    state: StageState
    passed: int = 0
    total: int = 0
    first_failure: TestResult | None = None
    # the next failures whose messages say something else: a later test may name the mistake the first one does not
    other_failures: list[TestResult] = field(default_factory=list)
    problem: str = ""  # why the run gave no results (STOPPED)
    not_run: int = 0  # failed unrun: an earlier test of the stage ran out of time (the learner loop's rule)

    @property
    def done(self) -> bool:
        return self.state is StageState.DONE

    def summary(self) -> str:
        match self.state:
            case StageState.DONE:
                return "done: all public tests pass"  # the learner's runs leave tests/hidden/ out
            case StageState.LOCKED:
                return "locked: finish " + ", ".join(self.stage.prerequisites) + " first"
            case StageState.STOPPED:
                return f"stopped: {self.problem}"
            case StageState.NOT_STARTED:
                return "not started"
        not_run = f", {self.not_run} not run after one ran out of time" if self.not_run else ""
        return f"{self.passed} of {self.total} tests pass{not_run}"


def status_from_results(stage: Stage, results: list[TestResult], *, unloaded: str = "") -> StageStatus:
    """The stage's status from its tests' results; `unloaded`, where pytest could not load a test file, says
    why (the kata's tests import no graded code while they load, so it is a test file edited by hand)."""
    passed = sum(result.passed for result in results)
    failures = [result for result in results if result.outcome.is_failure]
    if not results and unloaded:
        return StageStatus(stage, StageState.STOPPED, problem=_unloaded(unloaded))
    if not results:
        return StageStatus(stage, StageState.STOPPED, problem="no tests ran")
    if not failures:
        return StageStatus(stage, StageState.DONE, passed, len(results))
    untouched = passed == 0 and all(result.kind is FailureKind.NOT_IMPLEMENTED for result in failures)
    state = StageState.NOT_STARTED if untouched else StageState.PARTIAL
    not_run = sum(result.message.startswith(NOT_RUN) for result in failures)
    others = other_failures(failures)
    return StageStatus(
        stage, state, passed, len(results), first_failure=failures[0], other_failures=others, not_run=not_run
    )


def _unloaded(error: str) -> str:
    """A collection error ("tests/test_x.py: <traceback>") as what the learner can do about it."""
    where, _, traceback = error.partition(": ")
    lines = [line.strip().removeprefix("E ").strip() for line in traceback.splitlines()]  # pytest's "E   " marks
    last = next((line for line in reversed(lines) if line and line != "E"), "")
    return sentences(
        f"pytest could not load {where} ({last})",
        f"The kata's tests are not yours to edit: restore it, `git checkout -- {where}` in a clone of the kata",
    )


OTHER_FAILURES_SHOWN = 2  # beside the first: enough to see a second diagnosis, few enough to keep the screen


def other_failures(failures: list[TestResult]) -> list[TestResult]:
    """The failures after the first whose messages end otherwise than every one before them (the last sentence
    is where a message names the mistake), up to OTHER_FAILURES_SHOWN; a stub's "not implemented yet" and tests
    left unrun say nothing new."""
    said, others = {_last_sentence(failures[0].message)}, []
    for failure in failures[1:]:
        says_nothing_new = _last_sentence(failure.message) in said or failure.message.startswith(NOT_RUN)
        if not (says_nothing_new or failure.kind is FailureKind.NOT_IMPLEMENTED):
            said.add(_last_sentence(failure.message))
            others.append(failure)
    return others[:OTHER_FAILURES_SHOWN]


def _last_sentence(message: str) -> str:
    """The message's last sentence, leaving out the indented lines that locate an error (`at FILE:LINE`, the
    line's code), which differ from test to test where the same mistake raised."""
    said = "\n".join(line for line in message.strip().splitlines() if not line.startswith(" "))
    return said.strip().rsplit(". ", 1)[-1]


def _run_in_child(folder: Path, selected: list[Stage], limits: Limits, share: tuple[int, int]):
    from kata.suite import run_suite  # pytest's import costs `kata train` 0.3 s when the verdicts are recorded

    run = run_suite(folder, selected, extra_args=limits.as_pytest_args(), share=share)
    return run.results, run.collection_errors


def check_stages(
    folder: Path, selected: list[Stage] | None = None, *, limits: Limits | None = None, reuse_verdicts: bool = False
) -> dict[str, StageStatus]:
    """Run the selected stages' public tests (default: all) against `folder` in a child process.
    With reuse_verdicts, a stage whose recorded verdict still matches its files is not run again."""
    selected = list(selected or stages())
    verdicts = RecordedVerdicts(folder)
    statuses = {stage.name: verdicts.lookup(stage) for stage in selected} if reuse_verdicts else {}
    to_run = [stage for stage in selected if statuses.get(stage.name) is None]
    if to_run:
        statuses.update(_run_stages(folder, to_run, limits or limits_from(stop_stage_after_timeout=True)))
        verdicts.record([statuses[stage.name] for stage in to_run])
    return {stage.name: statuses[stage.name] for stage in selected}


def _run_stages(folder: Path, selected: list[Stage], limits: Limits) -> dict[str, StageStatus]:
    """The tests run in SHARES children side by side, each taking every SHARES-th test."""
    timeout = limits.for_run([stage.name for stage in selected])
    calls = [(_run_in_child, (folder, selected, limits, (k, SHARES))) for k in range(SHARES)]
    outcomes = run_forked_side_by_side(calls, timeout=timeout)
    problem = next((outcome.problem for outcome in outcomes if outcome.problem), "")
    if problem:
        return {stage.name: StageStatus(stage, StageState.STOPPED, problem=problem) for stage in selected}
    results = results_in_order([outcome.value[0] for outcome in outcomes])
    unloaded = next((error for outcome in outcomes for error in outcome.value[1]), "")
    return {
        stage.name: status_from_results(stage, [r for r in results if r.stage == stage.name], unloaded=unloaded)
        for stage in selected
    }


class RecordedVerdicts:
    """The latest verdict of each stage of one implementation folder, in .kata/verdicts.json beside it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder.parent / ".kata" / "verdicts.json"

    def lookup(self, stage: Stage) -> StageStatus | None:
        """The recorded verdict of `stage`, if it was recorded for the files as they are now."""
        entry = self._load().get(stage.name)
        if not entry or entry.get("fingerprint") != self.fingerprint(stage):
            return None
        return StageStatus(stage, StageState(entry["state"]), entry["passed"], entry["total"])

    def last_failure(self, stage: Stage) -> str:
        """The test id of the stage's first failure when it last ran, even if its files changed since
        ("" if none was recorded): what the learner is most likely still working on."""
        entry = self._load().get(stage.name)
        failure = entry.get("first_failure") if isinstance(entry, dict) else ""
        return failure if isinstance(failure, str) else ""

    def record(self, statuses: list[StageStatus]) -> None:
        # A stopped run (a time limit hit on a busy machine, say) says nothing lasting about the code.
        kept = [status for status in statuses if status.state is not StageState.STOPPED]
        if not kept:
            return
        entries = self._load()
        for status in kept:
            entries[status.stage.name] = dict(
                fingerprint=self.fingerprint(status.stage),
                state=status.state.value,
                passed=status.passed,
                total=status.total,
                first_failure=status.first_failure.nodeid if status.first_failure else "",
            )
        self._save(entries)

    def _save(self, entries: dict) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(entries, indent=1), encoding="utf-8")
            partial.replace(self.path)  # another kata process reading at the same time sees the old or the new file
        except OSError:
            pass  # a read-only folder: the verdicts are simply not reused

    def carry_over(self, stages: list[Stage]) -> None:
        """Keep the recorded verdicts of `stages` for their files as they are now: the caller knows that what
        changed in those files (which notebook cells they came from, say) does not change the verdicts."""
        if not stages:
            return
        entries = self._load()
        for stage in stages:
            if isinstance(entries.get(stage.name), dict):
                entries[stage.name]["fingerprint"] = self.fingerprint(stage)
        self._save(entries)

    def fingerprint(self, stage: Stage) -> str:
        """What the verdict depends on: the stage's module and those it builds on, in this folder, its
        test files, and the kata's own code and test helpers."""
        digest = hashlib.sha256(_kata_fingerprint().encode())
        for name in sorted({stage.name, *builds_on(stage.name)}):
            digest.update(name.encode() + b"\0" + _file_bytes(self.folder / f"{name}.py") + b"\0")
        for path in stage.test_files():
            digest.update(_file_bytes(path))
        return digest.hexdigest()

    def _load(self) -> dict:
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}


def _version_of(package: str) -> str:
    try:
        return importlib.metadata.version(package)  # without importing it (torch takes seconds)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _file_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b"<missing>"


@cache
def _kata_fingerprint() -> str:
    """The kata's machinery, the manifest and the shared test helpers, with Python's and torch's versions."""
    digest = hashlib.sha256(f"{sys.version} torch {_version_of('torch')}".encode())
    kata = Path(__file__).parent
    tests = REPOSITORY_ROOT / "tests"
    files = [
        *kata.glob("*.py"),
        kata / "stages.toml",
        *(p for p in tests.glob("*.py") if not p.name.startswith("test_")),
    ]
    for path in sorted(files):
        digest.update(path.name.encode() + b"\0" + _file_bytes(path))
    return digest.hexdigest()


def apply_locks(statuses: dict[str, StageStatus]) -> dict[str, StageStatus]:
    """Mark a stage locked while any stage it builds on is not done."""
    for stage in stages():
        status = statuses.get(stage.name)
        waiting = [name for name in stage.prerequisites if not (statuses.get(name) and statuses[name].done)]
        if status and waiting and not status.done:
            statuses[stage.name] = StageStatus(stage, StageState.LOCKED)
    return statuses


def first_unfinished(statuses: dict[str, StageStatus]) -> StageStatus | None:
    return next((statuses[s.name] for s in stages() if s.name in statuses and not statuses[s.name].done), None)
