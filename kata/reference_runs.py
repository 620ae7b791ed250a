"""What runs of the suite against the references recorded, kept in kata/reference_runs.json:

- seconds: each test function's slowest call, from which every time limit derives (kata/limits.py);
- symbols: the stage symbols each test exercises, so that `kata grade` confirms a passing test only
  when its own check of those symbols agrees (kata/grading/confirm.py).

Measure again after adding or changing tests:  python -m kata.reference_runs
(tests/meta/test_reference_runs.py says when the file no longer matches the suite).
"""

import json
from functools import cache
from pathlib import Path

REFERENCE_RUNS = Path(__file__).with_name("reference_runs.json")
FORMAT_VERSION = 1


@cache
def _recorded() -> dict:
    try:
        recorded = json.loads(REFERENCE_RUNS.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"seconds": {}, "symbols": {}}
    if recorded.get("version") != FORMAT_VERSION:
        raise ValueError(f"{REFERENCE_RUNS} is not version {FORMAT_VERSION}: run `python -m kata.reference_runs`")
    return recorded


def seconds() -> dict[str, float]:
    """Test function id (no parameters) -> the references' slowest call, in seconds."""
    return _recorded()["seconds"]


def symbols() -> dict[str, list[str]]:
    """Test id -> the stage symbols it exercises."""
    return _recorded()["symbols"]


def function_id(nodeid: str) -> str:
    """Times are kept per test function: parametrized cases share their function's slowest time (and
    pytest-xdist's `@group` suffix, under --dist loadgroup, is not part of the name)."""
    return nodeid.split("[", 1)[0].split("@", 1)[0]


class _Recorder:
    """A pytest plugin that keeps each test's call duration and the stage symbols it reached."""

    def __init__(self):
        self.durations: list[tuple[str, float]] = []
        self.symbols: dict[str, set[str]] = {}

    def pytest_runtest_setup(self, item):
        from kata import implementation

        implementation.symbols_used = self.symbols.setdefault(item.nodeid, set())

    def pytest_runtest_teardown(self, item):
        from kata import implementation

        implementation.symbols_used = None

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.durations.append((report.nodeid, report.duration))


def record(rounds: int) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Run every stage's tests (hidden ones included) against the references `rounds` times."""
    from kata.manifest import REPOSITORY_ROOT
    from kata.suite import run_suite

    recorder = _Recorder()
    for _ in range(rounds):
        no_limit = ("--test-timeout=0",)
        run = run_suite(REPOSITORY_ROOT / "solutions", include_hidden=True, extra_args=no_limit, plugins=[recorder])
        if run.failures() or run.collection_errors:
            raise RuntimeError(f"the references fail their own tests:\n{run.output[-3000:]}")
    slowest: dict[str, float] = {}
    for nodeid, duration in recorder.durations:
        slowest[function_id(nodeid)] = max(slowest.get(function_id(nodeid), 0.0), duration)
    times = {nodeid: round(duration, 3) for nodeid, duration in sorted(slowest.items())}
    return times, {nodeid: sorted(used) for nodeid, used in sorted(recorder.symbols.items())}


def main() -> None:
    import torch

    torch.set_num_threads(1)  # as every graded run does
    times, used = record(rounds=3)
    document = {"version": FORMAT_VERSION, "seconds": times, "symbols": used}
    REFERENCE_RUNS.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    print(f"{len(used)} tests; slowest {max(times.values()):.2f} s; wrote {REFERENCE_RUNS}")


if __name__ == "__main__":
    main()
