"""A stage's tests in two forked children side by side (kata/forked.py, kata/stage_status.py): each child
runs every other test, the results come back in the suite's order, and a child that hangs or dies
stops the run with its reason, never with the other child's results alone."""

import os
import signal
import time
from pathlib import Path

import pytest

from kata import forked
from kata.forked import run_forked_side_by_side
from kata.manifest import stage_named
from kata.results import Outcome, TestResult, results_in_order
from kata.suite import run_suite

pytestmark = pytest.mark.meta


def result(nodeid: str, outcome: Outcome = Outcome.PASSED) -> TestResult:
    return TestResult(nodeid, "s01_tokenizer", outcome)


def test_results_of_the_shares_come_back_in_the_suites_order():
    first = [result("t0"), result("t2"), result("t2", Outcome.ERROR), result("t4")]  # t2 also failed its teardown
    second = [result("t1"), result("t3")]
    ordered = results_in_order([first, second])
    assert [(r.nodeid, r.outcome) for r in ordered] == [
        ("t0", Outcome.PASSED),
        ("t1", Outcome.PASSED),
        ("t2", Outcome.PASSED),
        ("t2", Outcome.ERROR),
        ("t3", Outcome.PASSED),
        ("t4", Outcome.PASSED),
    ]


def test_two_shares_run_each_test_once(exercises_copy):
    stage = stage_named("s01_tokenizer")
    whole = [r.nodeid for r in run_suite(exercises_copy, [stage]).results]
    shares = [run_suite(exercises_copy, [stage], share=(k, 2)).results for k in range(2)]
    assert [r.nodeid for r in results_in_order(shares)] == whole
    assert len(shares[0]) == len(shares[1]) + len(whole) % 2


def _wait_for(path: Path) -> str:
    while not path.exists():
        time.sleep(0.01)
    return "it came"


def _create(path: Path) -> str:
    path.touch()
    return "made it"


def _exit_at_once() -> None:
    os._exit(3)


def test_children_run_at_the_same_time_and_report_in_the_order_of_the_calls(tmp_path):
    """The first waits for what the second makes: one after the other, the first would never finish."""
    signal = tmp_path / "made"
    outcomes = run_forked_side_by_side([(_wait_for, (signal,)), (_create, (signal,))], timeout=60)
    assert [outcome.value for outcome in outcomes] == ["it came", "made it"]


def test_a_child_that_hangs_or_dies_says_why(tmp_path):
    outcomes = run_forked_side_by_side([(_wait_for, (tmp_path / "never",)), (_exit_at_once, ())], timeout=1)
    assert outcomes[0].problem == "it ran for more than 1 s and was stopped"
    assert "exit status 3" in outcomes[1].problem


def _mark_later(path: Path) -> str:
    time.sleep(1.0)
    path.touch()
    return "marked"


def _interrupt(*_) -> None:
    raise KeyboardInterrupt


def test_an_interrupt_stops_the_children_too(tmp_path):
    """Ctrl-C, or a notebook's interrupt, during a check: the children must not run on (in a notebook they
    once finished, failed to report and went on as copies of the kernel)."""
    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, 0.3)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_forked_side_by_side([(_mark_later, (tmp_path / "a",)), (_mark_later, (tmp_path / "b",))], timeout=60)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    time.sleep(1.5)
    assert not list(tmp_path.iterdir())


def test_a_child_ends_even_where_nobody_listens(tmp_path):
    """A child whose caller stopped reading cannot report; it must still end, not return into its caller."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    pid = os.fork()
    if pid == 0:
        try:
            forked._run_child(lambda: "x" * 200_000, (), write_end, None)
        finally:
            (tmp_path / "went-on").touch()
            os._exit(7)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    assert not (tmp_path / "went-on").exists()
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


def test_a_flood_of_printing_keeps_its_last_whole_lines_and_says_what_was_left_out(exercises_copy):
    stub = exercises_copy / "s01_tokenizer.py"
    flooding = "def build_vocabulary(text):\n    for n in range(5000):\n        print('debug', n)\n    return []\n"
    stub.write_text(stub.read_text(encoding="utf-8") + "\n\n" + flooding, encoding="utf-8")
    failures = [r for r in run_suite(exercises_copy, [stage_named("s01_tokenizer")]).results if r.output]
    output = failures[0].output
    first, second = output.splitlines()[:2]
    assert first.startswith("[the first ") and first.endswith(" characters left out]")
    assert second.startswith("debug ") and output.rstrip().endswith("debug 4999")
