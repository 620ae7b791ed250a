"""A stage's status, always computed by running its tests (never from a flag a learner sets)."""

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from kata.forked import run_forked
from kata.limits import Limits, limits_from
from kata.manifest import Stage, stages
from kata.results import FailureKind, TestResult
from kata.suite import SuiteRun, run_suite


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
    problem: str = ""  # why the run gave no results (STOPPED)

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
        return f"{self.passed} of {self.total} tests pass"


def status_from_results(stage: Stage, results: list[TestResult]) -> StageStatus:
    passed = sum(result.passed for result in results)
    failures = [result for result in results if result.outcome.is_failure]
    if not results:
        return StageStatus(stage, StageState.STOPPED, problem="no tests ran")
    if not failures:
        return StageStatus(stage, StageState.DONE, passed, len(results))
    untouched = passed == 0 and all(result.kind is FailureKind.NOT_IMPLEMENTED for result in failures)
    state = StageState.NOT_STARTED if untouched else StageState.PARTIAL
    return StageStatus(stage, state, passed, len(results), first_failure=failures[0])


def _run_in_child(folder: Path, selected: list[Stage], limits: Limits) -> SuiteRun:
    return run_suite(folder, selected, extra_args=limits.as_pytest_args())


def check_stages(
    folder: Path, selected: list[Stage] | None = None, *, limits: Limits | None = None
) -> dict[str, StageStatus]:
    """Run the selected stages' public tests (default: all) against `folder` in a child process."""
    selected = list(selected or stages())
    limits = limits or limits_from()
    timeout = limits.for_run([stage.name for stage in selected])
    outcome = run_forked(_run_in_child, folder, selected, limits, timeout=timeout)
    if outcome.problem:
        return {stage.name: StageStatus(stage, StageState.STOPPED, problem=outcome.problem) for stage in selected}
    run: SuiteRun = outcome.value
    return {stage.name: status_from_results(stage, run.for_stage(stage.name)) for stage in selected}


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
