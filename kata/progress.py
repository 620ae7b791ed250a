"""A stage's status, always computed by running its tests (never from a flag a learner sets)."""

from dataclasses import dataclass
from pathlib import Path

from kata.grading import SuiteRun, TestResult, run_suite
from kata.manifest import Stage, stages
from kata.sandbox import run_isolated

TEST_TIMEOUT_S = 10  # a learner's infinite loop is stopped after this long, with a message
RUN_TIMEOUT_S = 120  # a whole run, as a last resort


@dataclass
class StageStatus:
    stage: Stage
    state: str  # "done", "partial", "not started", "locked" or "stopped"
    passed: int = 0
    total: int = 0
    first_failure: TestResult | None = None
    problem: str = ""  # why the run gave no results ("stopped")

    @property
    def done(self) -> bool:
        return self.state == "done"

    def summary(self) -> str:
        if self.state == "done":
            return "done: all public tests pass"  # the learner's runs leave tests/hidden/ out
        if self.state == "locked":
            return "locked: finish " + ", ".join(self.stage.prerequisites) + " first"
        if self.state == "stopped":
            return f"stopped: {self.problem}"
        if self.state == "not started":
            return "not started"
        return f"{self.passed} of {self.total} tests pass"


def status_from_results(stage: Stage, results: list[TestResult]) -> StageStatus:
    passed = sum(result.outcome == "passed" for result in results)
    failures = [result for result in results if result.outcome in ("failed", "error")]
    if not results:
        return StageStatus(stage, "stopped", problem="no tests ran")
    if not failures:
        return StageStatus(stage, "done", passed, len(results))
    state = "not started" if passed == 0 and all(result.not_implemented for result in failures) else "partial"
    return StageStatus(stage, state, passed, len(results), first_failure=failures[0])


def _run_in_child(folder: Path, selected: list[Stage], test_timeout: float) -> SuiteRun:
    return run_suite(folder, selected, ("--test-timeout", str(test_timeout)))


def check_stages(
    folder: Path, selected: list[Stage] | None = None, test_timeout: float = TEST_TIMEOUT_S
) -> dict[str, StageStatus]:
    """Run the selected stages' public tests (default: all) against `folder` in a child process."""
    selected = list(selected or stages())
    outcome = run_isolated(_run_in_child, folder, selected, test_timeout, timeout=RUN_TIMEOUT_S)
    if outcome.problem:
        return {stage.name: StageStatus(stage, "stopped", problem=outcome.problem) for stage in selected}
    run: SuiteRun = outcome.value
    return {stage.name: status_from_results(stage, run.for_stage(stage.name)) for stage in selected}


def apply_locks(statuses: dict[str, StageStatus]) -> dict[str, StageStatus]:
    """Mark a stage locked while any stage it builds on is not done."""
    for stage in stages():
        status = statuses.get(stage.name)
        waiting = [name for name in stage.prerequisites if not (statuses.get(name) and statuses[name].done)]
        if status and waiting and not status.done:
            statuses[stage.name] = StageStatus(stage, "locked")
    return statuses


def first_unfinished(statuses: dict[str, StageStatus]) -> StageStatus | None:
    return next((statuses[s.name] for s in stages() if s.name in statuses and not statuses[s.name].done), None)
