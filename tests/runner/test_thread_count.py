"""The thread count `kata train` and `kata sample` choose: two while the other programs leave a core
idle, one otherwise, and whatever --threads says."""

import pytest
import torch

from kata import thread_count
from kata.thread_count import RECHECK_SECONDS, AutomaticThreads

pytestmark = pytest.mark.meta


class Machine:
    """A 2-core machine whose clock and CPU counters the test moves by hand."""

    def __init__(self, monkeypatch):
        self.now, self.all_busy, self.ours = 100.0, 5000.0, 10.0
        monkeypatch.setattr(thread_count, "monotonic", lambda: self.now)
        monkeypatch.setattr(thread_count, "_cpu_seconds", lambda: (self.all_busy, self.ours))
        monkeypatch.setattr(thread_count, "_cores", lambda: 2)

    def run(self, seconds: float, *, ours: float, others: float) -> None:
        """`seconds` pass, this process using `ours` cores and the other programs `others`."""
        self.now += seconds
        self.ours += ours * seconds
        self.all_busy += (ours + others) * seconds


@pytest.fixture(autouse=True)
def threads_kept():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def machine(monkeypatch):
    return Machine(monkeypatch)


def test_starts_on_one_thread_and_takes_two_when_the_other_core_was_idle(machine):
    threads = AutomaticThreads()
    assert (threads.threads, torch.get_num_threads()) == (1, 1)
    machine.run(3.0, ours=1.0, others=0.1)
    assert threads.revisit() == 2
    assert torch.get_num_threads() == 2


def test_stays_on_one_thread_beside_a_busy_program(machine):
    threads = AutomaticThreads()
    machine.run(3.0, ours=1.0, others=1.0)
    assert threads.revisit() == 1


def test_goes_back_to_one_thread_when_another_program_starts(machine):
    threads = AutomaticThreads()
    machine.run(3.0, ours=1.0, others=0.0)
    assert threads.revisit() == 2
    machine.run(3.0, ours=1.3, others=0.7)  # two threads sharing the cores with one busy process
    assert threads.revisit() == 1
    assert torch.get_num_threads() == 1


def test_looks_again_only_every_few_seconds(machine):
    threads = AutomaticThreads()
    machine.run(RECHECK_SECONDS / 2, ours=1.0, others=0.0)
    assert threads.revisit() == 1  # too soon to look
    assert threads.revisit(now=True) == 2  # asked to look now: the counters ran long enough


def test_a_look_right_after_the_start_changes_nothing(machine):
    threads = AutomaticThreads()
    machine.run(0.05, ours=1.0, others=0.0)  # five clock ticks: too few to tell
    assert threads.revisit(now=True) == 1


def test_threads_fixes_the_count(machine):
    threads = AutomaticThreads(3)
    assert torch.get_num_threads() == 3
    machine.run(3.0, ours=1.0, others=1.0)
    assert threads.revisit() == 3
    assert threads.description() == "3 threads"


def test_without_the_kernels_counters_one_thread(monkeypatch):
    monkeypatch.setattr(thread_count, "_cpu_seconds", lambda: None)
    threads = AutomaticThreads()
    assert threads.revisit(now=True) == 1
    assert threads.description() == "1 thread"


def test_reads_this_machines_counters():
    counters = thread_count._cpu_seconds()
    if counters is None:
        pytest.skip("no /proc/stat here")
    all_busy, ours = counters
    assert all_busy >= ours > 0
