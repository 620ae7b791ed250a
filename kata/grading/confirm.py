"""Confirming a sandboxed test run with the grader's own check of each symbol.

Code that runs in the same process as the tests can always forge their verdicts, so a pass counts only
when the probes (probes.py) agree that every symbol the test exercises (recorded from the references,
kata/reference_runs.json) computes what it should, in the aspects the test rests on. When every test that
rests on something the probes found wrong reports passing, the stage as a whole scores nothing: that is
what forged verdicts look like (honest code fails at least one of them). Not so for what a wrong symbol of an
earlier stage explains, which the stage's own tests need not see.
"""

from dataclasses import dataclass, replace

from kata import reference_runs
from kata.grading import probes
from kata.manifest import Stage, builds_on
from kata.messages import sentences
from kata.results import FailureKind, Outcome, TestResult


@dataclass(frozen=True)
class Confirmation:
    results: list[TestResult]  # the test results, passes the probes do not confirm turned into failures
    problem: str = ""  # why the whole stage scores nothing ("" when it does not)


def symbols_of(nodeid: str, stage: Stage) -> list[str]:
    """The symbols a test exercises; a test the references never ran counts as exercising all of its stage's."""
    return reference_runs.symbols().get(nodeid) or [f"{stage.name}.{symbol}" for symbol in stage.symbols]


def confirm(stage: Stage, results: list[TestResult], refuted: dict[str, dict[str, str]]) -> Confirmation:
    """`refuted` maps each symbol the grader's own check found wrong to what it found, by aspect ("" for
    the symbol's core: every test of the symbol rests on it; an aspect backs some tests, probes.PROBES)."""
    wrongs = [(symbol, aspect, why) for symbol, found in refuted.items() for aspect, why in found.items()]
    # Only a stage this one builds on can explain its wrongs: a stub of stage 12 (its core refuted) explained every
    # forged stage before it, and a wrong at scale of stage 2 stage 1's (a red-team pass).
    builds_on_names = set(builds_on(stage.name))
    earlier = [aspect for symbol, aspect, _ in wrongs if symbol.split(".")[0] in builds_on_names]
    confirmed, touching = [], []
    for result in results:
        wrong = [found for found in wrongs if rests_on(result.nodeid, *found[:2], stage)]
        symbol, _, why = wrong[0] if wrong else ("", "", "")
        confirmed.append(_unconfirmed(result, symbol, why) if result.passed and wrong else result)
        if wrong and all(_of_stage(symbol, stage) for symbol, _, _ in wrong):
            unexplained = [w for w in wrong if w[1] not in probes.MASK_ASPECTS and not _explained(w, earlier)]
            touching += [(result, unexplained[0])] if unexplained else []
    # Forged verdicts pass every test; honest code that is wrong somewhere fails at least one test resting on
    # what is wrong (the maintainer's tier proves it of every catalogued mistake), though some tests resting
    # on it may pass: a test of Block, say, that does not see a head without dropout. Not so where a symbol of
    # an earlier stage is wrong: the check builds this stage on the learner's earlier stages, the tests build
    # theirs from the same parts (a MultiHeadAttention of the learner's misscaled heads passes them all), so
    # the tests resting on it, or on what it explains in this stage's symbols, lose their points but are left
    # out of the verdict. Only those: an earlier slip that explains nothing here (a validation of stage 9's)
    # would otherwise let a forger pass every test of the stage without risking the stage.
    if touching and all(result.passed for result, _ in touching):
        symbol, _, why = touching[0][1]
        problem = sentences(
            f"The sandboxed tests reported {symbol} correct, but the grader's own check of it on fresh inputs "
            f"found: {why}",
            "The two disagree, so this stage scores nothing",
        )
        return Confirmation(confirmed, problem)
    return Confirmation(confirmed)


def _explained(wrong: tuple[str, str, str], earlier: list[str]) -> bool:
    """Whether a wrong aspect of this stage may come from the wrong `earlier` aspects of the stages it builds on.
    An earlier symbol wrong in its values never explains a validation (a ValueError raised, or not, before any
    value is computed): a red-team pass made stage 7's FeedForward wrong in the check alone, and stage 8's forged
    block_size validation was shielded (13.3 of 15 where the honest code earns 14.2)."""
    _, aspect, _ = wrong
    validation = aspect.startswith("rejects")
    return any(probes.explained_by(aspect, cause) and not (validation and cause == "") for cause in earlier)


def _of_stage(symbol: str, stage: Stage) -> bool:
    return symbol.split(".")[0] == stage.name


def rests_on(nodeid: str, symbol: str, aspect: str, stage: Stage) -> bool:
    """Whether a wrong `aspect` of `symbol` ("" its core) takes the points of the test `nodeid`."""
    exercised = symbol in symbols_of(nodeid, stage) and probes.backs_the_test(symbol, aspect, nodeid)
    return exercised or probes.reaches_the_test(symbol, aspect, nodeid)


def _unconfirmed(result: TestResult, symbol: str, why: str) -> TestResult:
    message = sentences(
        f"This test passed, but the grader's own check of {symbol} on fresh inputs found: {why}",
        "A test counts only when what it checks is right on the grader's inputs too",
    )
    return replace(result, outcome=Outcome.FAILED, kind=FailureKind.WRONG_ANSWER, message=message)
