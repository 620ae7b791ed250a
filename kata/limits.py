"""Every time and memory limit of the kata, in one place: one `Limits` object that plain pytest,
`kata`'s learner loop and `kata grade` all read.

A test's time limit is never a tight constant: it is a generous multiple of the time the references
took for that test (kata/reference_runs.json), and never less than a floor, so that correct code on a
slow, busy laptop is never stopped.
"""

import os
from dataclasses import dataclass

from kata import reference_runs
from kata.manifest import stage_of_test_file

UNMEASURED_SECONDS = 1.0  # a test with no measured time (a new one) counts as this slow


@dataclass(frozen=True)
class Limits:
    # A fixed limit for every test, in seconds (0: none); None derives each test's from the references.
    test_seconds: float | None = None
    factor: float = 20.0  # a test may take this many times what the references took...
    floor_seconds: float = 10.0  # ...and never less than this
    memory_mb: int = 2048  # one graded stage, all its processes together
    processes: int = 64  # one graded stage, all its processes together
    # The learner loop's: once a test of a stage ran out of time, the stage's later tests are not run. The first
    # says where the code loops; the others would most likely each wait their whole limit to say the same.
    # (`kata grade` runs them: an endless loop in one function must not cost the tests of the others.)
    stop_stage_after_timeout: bool = False

    def for_test(self, nodeid: str) -> float:
        """Seconds the test may run (0: no limit)."""
        if self.test_seconds is not None:
            return self.test_seconds
        measured = self.reference_seconds(nodeid)
        return max(self.floor_seconds, self.factor * (UNMEASURED_SECONDS if measured is None else measured))

    @staticmethod
    def reference_seconds(nodeid: str) -> float | None:
        """What the references took for the test, where it was measured."""
        return reference_runs.seconds().get(reference_runs.function_id(nodeid))

    def for_run(self, stage_names: list[str]) -> float:
        """Seconds a whole run of these stages may take: a last resort behind the per-test limits,
        which stop any single test long before (twice their sum, for parametrized cases)."""
        nodeids = [
            nodeid
            for nodeid in reference_runs.seconds()
            if getattr(stage_of_test_file(nodeid), "name", "") in stage_names
        ]
        return 30.0 + 2 * sum(self.for_test(nodeid) or self.floor_seconds for nodeid in nodeids)

    def for_checking_a_stage(self) -> float:
        """Seconds the grader's own check of one stage may take (its calls take well under a second, idle)."""
        return 3 * (self.test_seconds or self.floor_seconds)

    def as_pytest_args(self) -> tuple[str, ...]:
        """The options that give a nested pytest run these limits."""
        timeout = () if self.test_seconds is None else (f"--test-timeout={self.test_seconds:g}",)
        return (*timeout, *(("--stop-stage-after-timeout",) if self.stop_stage_after_timeout else ()))


def limits_from(
    option: float | None = None, ini: str | None = None, environ=os.environ, *, stop_stage_after_timeout: bool = False
) -> Limits:
    """Limits from the first source that sets the per-test time: the command line (--test-timeout),
    the environment (KATA_TEST_TIMEOUT), the ini file (kata_test_timeout); else derived per test."""
    for value in (option, environ.get("KATA_TEST_TIMEOUT"), ini):
        if value not in (None, ""):
            return Limits(test_seconds=float(value), stop_stage_after_timeout=stop_stage_after_timeout)
    return Limits(stop_stage_after_timeout=stop_stage_after_timeout)
