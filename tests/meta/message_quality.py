"""What every failure the suite reports must be: words to the learner. Not an exception raised inside
tests/ (FailureKind.SUITE: the suite's own code broke on an input it did not expect, an IndexError in a
check, say), not hypothesis's exception group (several failures with their tracebacks in one report) nor
its note of the failing example as it writes it, and not "expected X, got X" with the same X twice (a
difference shown with too few digits)."""

import re

from kata.results import FailureKind
from kata.suite import SuiteRun

# Text that only reaches a report when an exception escaped unexplained, or hypothesis's note of the failing
# example was not said as the test's inputs (newer releases write "Failing test case", older "Falsifying example").
UNEXPLAINED = (
    "Exception Group Traceback",
    "ExceptionGroup",
    "Traceback (most recent call last)",
    "Failing test case",
    "Falsifying example",
    "example: test_",
    " object at 0x",
)
SAME_TWICE = re.compile(r"expected (?P<shown>[^,\s]+), got (?P=shown)(?![\deE]|\.\d)")


def unspoken_failures(run: SuiteRun) -> list[str]:
    """The failures of `run` that do not speak to the learner, each with its test and message."""
    return [
        f"{failure.nodeid} ({failure.kind}):\n{failure.message}"
        for failure in run.failures()
        if failure.kind is FailureKind.SUITE
        or any(text in failure.message for text in UNEXPLAINED)
        or SAME_TWICE.search(failure.message)
    ]
