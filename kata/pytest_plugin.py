"""The pytest side of the kata: --impl/--meta, stage markers, learner-facing failure reports,
the per-stage summary, and the hypothesis profiles."""

import os
import re
import signal
import threading
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, Phase, settings

from kata import implementation
from kata.grading import ResultCollector
from kata.implementation import StageUnavailable, TestTookTooLong, display_path
from kata.manifest import stage_names, stage_of_test_file, stages
from kata.progress import status_from_results

# No deadline: a slow laptop must never turn a correct answer red. `ci` replays the same examples
# every run; the default draws new ones, so a flaky check shows up instead of hiding.
# differing_executors is off because a run nested in another (the meta tier, `kata`) reuses the
# test modules but makes new instances of their test classes.
settings.register_profile(
    "kata", deadline=None, print_blob=False, suppress_health_check=[HealthCheck.differing_executors]
)
settings.register_profile("ci", settings.get_profile("kata"), derandomize=True, database=None)
# The meta tier runs the suite on many edited copies of the references: it needs to know whether
# each fails, not the smallest failing input, and their failing examples must not be stored.
# A fifth of the default examples keeps its 60-odd runs within the tier's time; every catalogued
# mistake is caught by explicit examples or deterministic checks, not by luck.
settings.register_profile(
    "meta", settings.get_profile("kata"), database=None, max_examples=20, phases=[p for p in Phase if p != Phase.shrink]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "kata"))

_previous_folder = pytest.StashKey()
_results = pytest.StashKey()


def pytest_addoption(parser):
    group = parser.getgroup("kata")
    group.addoption(
        "--impl",
        default=None,
        help="folder whose stage modules are graded: exercises (default), solutions, or any path; "
        "the environment variable KATA_IMPL does the same",
    )
    group.addoption(
        "--meta", action="store_true", help="also run the maintainer's tier: stubs, mistakes, variants, API parity"
    )
    group.addoption(
        "--test-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="stop a test that runs longer, with a message (default 60; 0: never)",
    )


def pytest_configure(config):
    for stage in stages():
        config.addinivalue_line("markers", f"{stage.marker}: {stage.label}")
    config.addinivalue_line("markers", "meta: the maintainer's tier, run with --meta")
    # pytest-xdist's marker (the maintainer's tier runs with -n 2), known here too so that the
    # suite collects under --strict-markers where xdist is not installed.
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one worker")
    # The suite's tensors are small: one thread is faster and steadier, with identical results,
    # and leaves the other core to a second worker instead of a spinning OpenMP thread.
    torch.set_num_threads(1)
    try:
        folder = implementation.resolve_implementation(config.getoption("impl"))
    except FileNotFoundError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[_previous_folder] = implementation.activate(folder)
    config.stash[_results] = ResultCollector()  # the same per-test results `kata` judges stages by
    config.pluginmanager.register(config.stash[_results], "kata-results")


def pytest_unconfigure(config):
    if _previous_folder in config.stash:
        implementation.activate(config.stash[_previous_folder])


def pytest_report_header(config):
    return f"kata: grading {display_path(implementation.active_folder())}"


def pytest_collection_modifyitems(config, items):
    deselected = []
    for item in items:
        stage = stage_of_test_file(item.path)
        if stage:
            item.add_marker(stage.marker)
        if item.get_closest_marker("meta") and not config.getoption("meta"):
            deselected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Stop a test that runs past --test-timeout (a learner's endless loop). The alarm repeats each
    second until the test ends, so a bare `except:` in the graded code cannot swallow it for good."""
    seconds = item.config.getoption("test_timeout")
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return (yield)

    def stop(signum, frame):
        raise TestTookTooLong(seconds)

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)
    try:
        return (yield)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed and call.excinfo is not None:
        message, location = learner_message(call.excinfo.value)
        if message:
            report.longrepr = _earlier_stage_first(item, location) + message
        if location:
            report.user_properties.append(("location", location))
    return report


def _earlier_stage_first(item, location: str | None) -> str:
    """Where a later stage fails inside an earlier stage's code, say which to fix first."""
    stage = stage_of_test_file(item.path)
    failing = Path(location.rsplit(":", 1)[0]).stem if location else ""
    if stage and failing != stage.name and failing in stage_names():
        return f"This stage builds on {failing}, which fails here: finish {failing} first.\n"
    return ""


def learner_message(error: BaseException) -> tuple[str | None, str | None]:
    """A plain explanation for an exception that came out of the graded code (else None), and
    the file:line in the graded code where it happened (else None)."""
    if isinstance(error, StageUnavailable):
        return str(error), error.location
    frame = _deepest_graded_frame(error.__traceback__)
    if frame is None:
        return None, None
    code, line = frame
    file = Path(code.co_filename)
    location = f"{display_path(file)}:{line}"
    if isinstance(error, NotImplementedError):
        return f"{file.stem}.{code.co_qualname} is not implemented yet ({display_path(file)})", location
    source = _source_line(file, line)
    if isinstance(error, TestTookTooLong):
        return (
            f"Stopped after {error.seconds:g} s: your code seems to run forever.\n"
            f"  It was at {location}, in {code.co_qualname}\n      {source}",
            location,
        )
    notes = "".join(f"\n{note}" for note in getattr(error, "__notes__", ()))
    notes = re.sub(r"\n    self=<[^>]*>,", "", notes)  # hypothesis names the test class instance: noise here
    return (
        f"Your code raised {type(error).__name__}: {error}\n"
        f"  at {location}, in {code.co_qualname}\n      {source}{notes}",
        location,
    )


def _deepest_graded_frame(traceback):
    folder = implementation.active_folder()
    found = None
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if Path(code.co_filename).parent == folder:
            found = (code, traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def _source_line(path: Path, line: int) -> str:
    try:
        return path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""


def pytest_terminal_summary(terminalreporter, config):
    """One line per stage, judged as `kata` judges it, and where to go next."""
    results = config.stash[_results].results
    statuses = [
        status_from_results(stage, [result for result in results if result.stage == stage.name])
        for stage in stages()
        if any(result.stage == stage.name for result in results)
    ]
    if not statuses:
        return
    terminalreporter.section("stages", sep="=")
    for status in statuses:
        started = "" if status.state != "not started" else " (not started)"
        mark = "✔" if status.done else "✘"
        terminalreporter.line(
            f"  {mark} {status.stage.label:<52} {status.passed:>3} of {status.total} tests pass{started}"
        )
    unfinished = next((status for status in statuses if not status.done), None)
    if unfinished:
        file = implementation.active_folder() / unfinished.stage.module_file
        terminalreporter.line(f"Next: open {display_path(file)} ({unfinished.stage.label}).")
