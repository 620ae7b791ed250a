"""Confirming a sandboxed test run with the grader's own check of each symbol.

Code that runs in the same process as the tests can always forge their verdicts, so a pass counts only
when the probes (probes.py) agree that every symbol the test exercises (recorded from the references,
kata/reference_runs.json) computes what it should. When a symbol's tests all report passing but the
grader's own check of it disagrees, the stage as a whole scores nothing: that is what forged verdicts
look like.
"""

from dataclasses import dataclass, replace

from kata import reference_runs
from kata.manifest import Stage
from kata.messages import sentences
from kata.results import FailureKind, Outcome, TestResult


@dataclass(frozen=True)
class Confirmation:
    results: list[TestResult]  # the test results, passes the probes do not confirm turned into failures
    problem: str = ""  # why the whole stage scores nothing ("" when it does not)


def symbols_of(nodeid: str, stage: Stage) -> list[str]:
    """The symbols a test exercises; a test the references never ran counts as exercising all of its stage's."""
    return reference_runs.symbols().get(nodeid) or [f"{stage.name}.{symbol}" for symbol in stage.symbols]


def confirm(stage: Stage, results: list[TestResult], refuted: dict[str, str]) -> Confirmation:
    """`refuted` maps each symbol the grader's own check found wrong to what it found."""
    confirmed = []
    for result in results:
        wrong = [symbol for symbol in symbols_of(result.nodeid, stage) if symbol in refuted]
        confirmed.append(_unconfirmed(result, wrong, refuted) if result.passed and wrong else result)
    disagreements = [symbol for symbol in refuted if _all_reported_passing(symbol, stage, results)]
    if not disagreements:
        return Confirmation(confirmed)
    symbol = disagreements[0]
    problem = sentences(
        f"The sandboxed tests reported {symbol} correct, but the grader's own check of it on fresh inputs found: "
        f"{refuted[symbol]}",
        "The two disagree, so this stage scores nothing",
    )
    return Confirmation(confirmed, problem)


def _all_reported_passing(symbol: str, stage: Stage, results: list[TestResult]) -> bool:
    touching = [result for result in results if symbol in symbols_of(result.nodeid, stage)]
    return bool(touching) and all(result.passed for result in touching)


def _unconfirmed(result: TestResult, wrong: list[str], refuted: dict[str, str]) -> TestResult:
    message = sentences(
        f"This test passed, but the grader's own check of {wrong[0]} on fresh inputs found: {refuted[wrong[0]]}",
        "A test counts only when what it checks is right on the grader's inputs too",
    )
    return replace(result, outcome=Outcome.FAILED, kind=FailureKind.WRONG_ANSWER, message=message)
