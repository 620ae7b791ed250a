"""Runs inside a stage's sandbox: the stage's tests (hidden ones included) against the submission, each
result sent as a line of the report protocol the moment its test ends.

    python -m kata.grading.stage_run STAGE SUBMISSION_FOLDER [TEST_ID_TO_SKIP ...]

The grader restarts it with the tests already reported (and one that ran out of time) to skip, so a
test that finished keeps its result whatever a later test does.
"""

import sys

from kata.grading import report


class StreamingReport:
    """A pytest plugin: a start line as each test begins, its result line as it ends."""

    def __init__(self, collector):
        self.collector = collector

    def pytest_runtest_logstart(self, nodeid, location):
        report.send(report.started_line(nodeid))

    def pytest_runtest_logfinish(self, nodeid, location):
        results = [result for result in self.collector.results if result.nodeid == nodeid]
        failed = [result for result in results if result.outcome.is_failure]
        if results:
            report.send(report.finished_line((failed or results)[0]))


def main(stage_name: str, submission: str, skipped: list[str]) -> None:
    from kata.manifest import stage_named
    from kata.suite import ResultCollector, run_suite

    collector = ResultCollector()
    deselect = tuple(f"--deselect={nodeid}" for nodeid in skipped)
    run_suite(
        submission,
        [stage_named(stage_name)],
        include_hidden=True,
        collector=collector,
        extra_args=deselect,
        plugins=(StreamingReport(collector),),
    )
    report.send(report.ended_line())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
