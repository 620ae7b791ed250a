"""How many torch threads `kata train` and `kata sample` use when the learner does not say: two while
the other programs leave a second core idle, one otherwise, looked at again every few seconds.

Why not a fixed number: a second thread trains the gpt-cpu model 1.3-1.7x faster on an idle 2-core machine,
but beside busy programs torch's threads wait for each other at every operation, and when the scheduler
has paused one of them the others wait a whole time slice (0.01 of the idle speed beside two busy
processes per core, where one thread keeps all of it: benchmarks/busy_machine.py, README).

The other programs' share is read from the kernel's CPU counters (/proc/stat) less this process's own
CPU time and its children's; where there are no such counters (not Linux), it stays at one thread.
Written here rather than taken from a library: psutil would add a dependency for two counters.
"""

import os
from pathlib import Path
from time import monotonic

import torch

from kata.manifest import counted

MOST_THREADS = 2  # more were never measured: the 2-core machine is all the benchmarks ran on
RECHECK_SECONDS = 2.0  # between two looks at the CPU: long enough to average, short enough to react
SHORTEST_LOOK = 0.25  # seconds the counters must have run for a first look
SPARE_CORE = 0.7  # of a core left idle by the other programs, to run a second thread on
_STAT = Path("/proc/stat")


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _cpu_seconds() -> tuple[float, float] | None:
    """(CPU seconds all programs have spent busy since boot, CPU seconds this process and its waited-for
    children have spent), or None where the kernel does not count them in /proc/stat."""
    try:
        fields = _STAT.read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    if len(fields) < 9 or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[1:9])
    ours = os.times()
    return (
        (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK"),
        ours.user + ours.system + ours.children_user + ours.children_system,
    )


class AutomaticThreads:
    """The thread count for this process: `fixed` when given, else chosen from the CPU the other programs
    used since the last look. Call `revisit()` between steps: it looks again at most every RECHECK_SECONDS."""

    def __init__(self, fixed: int | None = None):
        self.fixed = fixed
        self.threads = fixed or 1
        self._last, self._looked_at = _cpu_seconds(), monotonic()
        torch.set_num_threads(self.threads)

    @property
    def automatic(self) -> bool:
        return self.fixed is None and self._last is not None and _cores() > 1

    def description(self) -> str:
        if not self.automatic:
            return counted(self.threads, "thread")
        return f"1 to {MOST_THREADS} threads ({MOST_THREADS} while the other programs leave a core idle)"

    def revisit(self, *, now: bool = False) -> int:
        """The thread count to use from here on, set in torch; `now` looks even if the last look is recent
        (but not more than a few clock ticks ago: the counters tick every 10 ms)."""
        waited = monotonic() - self._looked_at
        if not self.automatic or waited < (SHORTEST_LOOK if now else RECHECK_SECONDS):
            return self.threads
        current = _cpu_seconds()
        if current is None:
            return self.threads
        others = max(0.0, (current[0] - self._last[0]) - (current[1] - self._last[1])) / waited
        self._last, self._looked_at = current, monotonic()
        idle_beside_us = _cores() - others
        wanted = MOST_THREADS if idle_beside_us >= 1 + SPARE_CORE else 1
        if wanted != self.threads:
            self.threads = wanted
            torch.set_num_threads(wanted)
        return self.threads
