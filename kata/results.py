"""What a test run yields, as types: the outcome of a test, the kind of its failure, and its result."""

from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # in set-up or tear-down, not in the test itself
    SKIPPED = "skipped"

    @property
    def is_failure(self) -> bool:
        return self in (Outcome.FAILED, Outcome.ERROR)


class FailureKind(StrEnum):
    """Why a test failed, recorded from the type of the exception that ended it."""

    NONE = "none"  # it did not fail
    NOT_IMPLEMENTED = "not-implemented"  # the graded code raised NotImplementedError: a stub
    UNAVAILABLE = "unavailable"  # the stage module is missing, does not compile or raised at import
    TOO_LONG = "too-long"  # stopped at its time limit
    OVER_LIMIT = "over-limit"  # stopped for using more memory or processes than a graded stage may
    WRONG_ANSWER = "wrong-answer"  # the suite's own check failed (feedback.fail)
    RAISED = "raised"  # the graded code raised some other exception
    SUITE = "suite"  # an exception outside the graded code: a problem of the suite or of the machine


@dataclass
class TestResult:
    nodeid: str
    stage: str
    outcome: Outcome
    kind: FailureKind = FailureKind.NONE
    message: str = ""  # the learner-facing failure text; empty when it passed
    location: str = ""  # file:line in the graded code the failure points to, where known
    output: str = ""  # what the graded code printed during the test

    __test__ = False  # a data class, not a pytest test class

    @property
    def name(self) -> str:
        return self.nodeid.split("::", 1)[-1]

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


def results_in_order(shares: list[list[TestResult]]) -> list[TestResult]:
    """The results of n runs that each ran one share of the tests (run_suite's share=(k, n), k = 0..n-1),
    in the order one whole run gives them: the i-th test of share k is the (i * n + k)-th of the whole."""
    n, ordered = len(shares), []
    for k, results in enumerate(shares):
        tests = list(dict.fromkeys(result.nodeid for result in results))  # a test may report twice (call, teardown)
        index = {nodeid: i * n + k for i, nodeid in enumerate(tests)}
        ordered += [(index[result.nodeid], order, result) for order, result in enumerate(results)]
    return [result for *_, result in sorted(ordered, key=lambda entry: entry[:2])]
