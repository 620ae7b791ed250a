"""Every time and memory limit of the kata, in one place: one `Limits` object that plain pytest,
`kata`'s learner loop and `kata grade` all read.

A test's time limit is never a tight constant: it is a generous multiple of the time the references
took for that test (kata/reference_times.json, measured with `python -m kata.limits --measure`), and
never less than a floor, so that correct code on a slow, busy laptop is never stopped.
"""

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from kata.manifest import stage_of_test_file

REFERENCE_TIMES = Path(__file__).with_name("reference_times.json")
UNMEASURED_SECONDS = 1.0  # a test with no measured time (a new one) counts as this slow


@cache
def reference_seconds() -> dict[str, float]:
    """The references' measured time per test id (call phase, seconds)."""
    try:
        return json.loads(REFERENCE_TIMES.read_text(encoding="utf-8"))["seconds"]
    except FileNotFoundError:
        return {}


@dataclass(frozen=True)
class Limits:
    # A fixed limit for every test, in seconds (0: none); None derives each test's from the references.
    test_seconds: float | None = None
    factor: float = 20.0  # a test may take this many times what the references took...
    floor_seconds: float = 10.0  # ...and never less than this
    memory_mb: int = 2048  # one graded stage, all its processes together
    processes: int = 64  # one graded stage, all its processes together

    def for_test(self, nodeid: str) -> float:
        """Seconds the test may run (0: no limit)."""
        if self.test_seconds is not None:
            return self.test_seconds
        measured = reference_seconds().get(_without_parameters(nodeid), UNMEASURED_SECONDS)
        return max(self.floor_seconds, self.factor * measured)

    def for_run(self, stage_names: list[str]) -> float:
        """Seconds a whole run of these stages may take: a last resort behind the per-test limits,
        which stop any single test long before (twice their sum, for parametrized cases)."""
        nodeids = [
            nodeid for nodeid in reference_seconds() if getattr(stage_of_test_file(nodeid), "name", "") in stage_names
        ]
        return 30.0 + 2 * sum(self.for_test(nodeid) or self.floor_seconds for nodeid in nodeids)

    def as_pytest_args(self) -> tuple[str, ...]:
        """The options that give a nested pytest run these limits."""
        return () if self.test_seconds is None else (f"--test-timeout={self.test_seconds:g}",)


def _without_parameters(nodeid: str) -> str:
    """Times are kept per test function; parametrized cases share their function's slowest time."""
    return nodeid.split("[", 1)[0]


def limits_from(option: float | None = None, ini: str | None = None, environ=os.environ) -> Limits:
    """Limits from the first source that sets the per-test time: the command line (--test-timeout),
    the environment (KATA_TEST_TIMEOUT), the ini file (kata_test_timeout); else derived per test."""
    for value in (option, environ.get("KATA_TEST_TIMEOUT"), ini):
        if value not in (None, ""):
            return Limits(test_seconds=float(value))
    return Limits()


def measure_reference_times(rounds: int = 3) -> dict[str, float]:
    """Run every stage's tests (hidden ones included) against the references `rounds` times and keep
    each test function's slowest call, in seconds."""
    from kata.manifest import REPOSITORY_ROOT
    from kata.suite import DurationRecorder, run_suite

    recorder = DurationRecorder()
    for _ in range(rounds):
        run_suite(
            REPOSITORY_ROOT / "solutions", include_hidden=True, extra_args=("--test-timeout=0",), plugins=[recorder]
        )
    slowest: dict[str, float] = {}
    for nodeid, seconds in recorder.durations:
        key = _without_parameters(nodeid)
        slowest[key] = max(slowest.get(key, 0.0), seconds)
    return {nodeid: round(seconds, 3) for nodeid, seconds in sorted(slowest.items())}


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="The references' time per test, from which time limits derive.")
    parser.add_argument("--measure", action="store_true", help=f"measure and write {REFERENCE_TIMES.name}")
    if parser.parse_args().measure:
        import torch

        torch.set_num_threads(1)  # as every graded run does
        times = {"version": 1, "seconds": measure_reference_times()}
        REFERENCE_TIMES.write_text(json.dumps(times, indent=1) + "\n", encoding="utf-8")
        print(f"{len(times['seconds'])} tests; slowest {max(times['seconds'].values()):.2f} s; wrote {REFERENCE_TIMES}")
