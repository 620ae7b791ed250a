"""Run a function in a forked child process, so that graded code can loop forever, exhaust
memory, call os._exit, print megabytes or patch the test machinery without harming the caller.

Forking after torch is imported makes each run cheap: the child starts with everything loaded.
Where fork is missing (Windows), the function runs in this process instead, without those guards.
"""

import os
import pickle
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class Outcome:
    value: Any = None
    problem: str = ""  # why no value came back, in plain words; empty when it did


def run_forked(function: Callable, *args, timeout: float, memory_bytes: int | None = None) -> Outcome:
    """function(*args) in a child; its return value must pickle."""
    return run_forked_side_by_side([(function, args)], timeout=timeout, memory_bytes=memory_bytes)[0]


def run_forked_side_by_side(
    calls: list[tuple[Callable, tuple]], *, timeout: float, memory_bytes: int | None = None
) -> list[Outcome]:
    """Each function(*args) of `calls` in a child of its own, all running at once, within one timeout."""
    if not hasattr(os, "fork"):
        return [Outcome(function(*args)) for function, args in calls]
    children: list[tuple[int, int]] = []
    try:
        for function, args in calls:
            children.append(_start_child(function, args, memory_bytes, [read_end for _, read_end in children]))
        payloads = _read_until([read_end for _, read_end in children], time.monotonic() + timeout)
    except BaseException:  # Ctrl-C or a notebook's interrupt: stop the children too, never leave them running
        for pid, _ in children:
            _kill_group(pid)
            os.waitpid(pid, 0)
        raise
    outcomes = []
    for (pid, _), payload in zip(children, payloads, strict=True):
        if payload is None:
            _kill_group(pid)
        _, status = os.waitpid(pid, 0)
        outcomes.append(_outcome(payload, status, timeout))
    return outcomes


def _start_child(function: Callable, args: tuple, memory_bytes: int | None, others: list[int]) -> tuple[int, int]:
    """The child's pid and the end of the pipe its result comes through (`others`: the earlier children's)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        for end in (read_end, *others):
            os.close(end)
        _run_child(function, args, write_end, memory_bytes)
    os.close(write_end)
    return pid, read_end


def _outcome(payload: bytes | None, status: int, timeout: float) -> Outcome:
    if payload is None:
        return Outcome(problem=f"it ran for more than {timeout:g} s and was stopped")
    if not payload:
        return Outcome(problem=_describe_exit(status))
    kind, value = pickle.loads(payload)
    return Outcome(value) if kind == "value" else Outcome(problem=value)


def _run_child(function, args, write_end, memory_bytes):
    """Never returns: whatever happens, the child ends here, so it can never go on as a copy of its caller
    (in a notebook, a second kernel on the same sockets)."""
    try:
        _report(function, args, write_end, memory_bytes)
    finally:
        os._exit(0)


def _report(function, args, write_end, memory_bytes):
    os.setsid()  # its own process group, so a timeout also stops whatever it started
    if "torch" in sys.modules:
        # A forked child must not enter the OpenMP thread pool its parent may have started: it
        # would wait forever for threads that were not copied. One thread is also faster here.
        sys.modules["torch"].set_num_threads(1)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if memory_bytes and os.path.exists("/proc/self/statm"):
            import resource  # POSIX only, like fork

            limit = _address_space_in_use(resource.getpagesize()) + memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        payload = pickle.dumps(("value", function(*args)))
    except BaseException as error:  # the child must always report, whatever happened
        payload = pickle.dumps(("problem", f"the grading process failed: {type(error).__name__}: {error}"))
    with os.fdopen(write_end, "wb") as pipe:
        pipe.write(payload)  # BrokenPipeError where the caller stopped listening: _run_child still exits


def _read_until(read_ends: list[int], deadline: float) -> list[bytes | None]:
    """All each pipe brings until it closes; None for those still open at the deadline."""
    pipes = [os.fdopen(read_end, "rb", buffering=0) for read_end in read_ends]
    chunks: dict = {pipe: [] for pipe in pipes}
    payloads: dict = {}
    try:
        while len(payloads) < len(pipes) and (remaining := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([pipe for pipe in pipes if pipe not in payloads], [], [], remaining)
            for pipe in ready:
                chunk = pipe.read(1 << 20)
                if chunk:
                    chunks[pipe].append(chunk)
                else:
                    payloads[pipe] = b"".join(chunks[pipe])
    finally:
        for pipe in pipes:
            pipe.close()
    return [payloads.get(pipe) for pipe in pipes]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _address_space_in_use(page_size: int) -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * page_size


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"the process was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return (
        f"the code ended the process itself (exit status {os.WEXITSTATUS(status)}, e.g. os._exit or sys.exit "
        "outside a test)"
    )
