"""The kata's pytest plugin, registered through the `pytest11` entry point: --impl and --meta, stage
markers, the per-test time limit, learner-facing failure reports and the per-stage summary.

It acts only in a kata run: one that names the graded folder (--impl or KATA_IMPL) or runs in the
kata's own folder; elsewhere in the same environment it stays out of the way, except that other
libraries' asserts are left unrewritten (kata/unrewritten_libraries.py). The explanations live
in kata/messages.py, the limits in kata/limits.py, the hypothesis profiles in kata/hypothesis_profiles.py.
"""

import gc
import os
import signal
import threading
from pathlib import Path

import pytest

from kata import unrewritten_libraries  # noqa: F401  (before hypothesis is imported: see the module)

# isort: split
from kata import (
    hypothesis_profiles,  # noqa: F401  (registers and loads the profiles)
    implementation,
)
from kata.implementation import EarlierTestTookTooLong, TestTookTooLong, display_path
from kata.limits import Limits, limits_from
from kata.manifest import REPOSITORY_ROOT, builds_on, stage_of_test_file, stages
from kata.messages import deepest_call_into, earlier_stage_first, explain, raised_in_an_earlier_stage
from kata.stage_status import StageState, status_from_results
from kata.suite import ResultCollector, anything_frozen, freeze_what_is_loaded

_active = pytest.StashKey[bool]()
_previous_folder = pytest.StashKey()
_results = pytest.StashKey[ResultCollector]()
_limits = pytest.StashKey[Limits]()
_stopped_first = pytest.StashKey[dict[str, tuple[str, str]]]()  # stage: (test, location) stopped at its time limit


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
        "--end-to-end",
        action="store_true",
        help="with --meta, also the end-to-end tests: whole classes graded in sandboxes (the hostile catalog), "
        "the Gradescope bundle, a fresh handout, notebooks in a real kernel",
    )
    group.addoption(
        "--test-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop a test that runs longer, with a message (0: never). Default: a generous multiple of the "
        "references' time for that test (kata/limits.py); KATA_TEST_TIMEOUT or the ini option kata_test_timeout "
        "set it too",
    )
    group.addoption(
        "--stop-stage-after-timeout",
        action="store_true",
        help="once a test of a stage is stopped at its time limit, fail the stage's later tests without running "
        "them (what `kata` does: an endless loop is said once, not waited for in every test)",
    )
    parser.addini("kata_test_timeout", "seconds a test may run (see --test-timeout)", default="")


def pytest_load_initial_conftests(early_config, parser, args):
    """`pytest --impl PATH` from any folder runs the kata's tests (never tests found beside PATH)."""
    namespace = early_config.known_args_namespace
    named = namespace.impl or os.environ.get("KATA_IMPL")
    if named and not namespace.file_or_dir and Path.cwd().resolve() != REPOSITORY_ROOT:
        args.extend([str(REPOSITORY_ROOT / "tests"), f"--rootdir={REPOSITORY_ROOT}"])


def _is_kata_run(config) -> bool:
    return bool(config.getoption("impl") or os.environ.get("KATA_IMPL")) or config.rootpath == REPOSITORY_ROOT


def pytest_configure(config):
    config.stash[_active] = _is_kata_run(config)
    if not config.stash[_active]:
        return
    for stage in stages():
        config.addinivalue_line("markers", f"{stage.marker}: {stage.label}")
    config.addinivalue_line("markers", "meta: the maintainer's tier, run with --meta")
    config.addinivalue_line(
        "markers", "end_to_end: slow end-to-end tests of the maintainer's tier, run with --end-to-end"
    )
    # pytest-xdist's marker (the maintainer's tier runs with -n 2), known here too so that the
    # suite collects under --strict-markers where xdist is not installed.
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one worker")
    # Importing torch and collecting make objects to keep, not garbage: no collections until the tests
    # start (pytest_runtestloop), where they are frozen instead.
    gc.disable()
    import torch

    # The suite's tensors are small: one thread is faster and steadier, with identical results,
    # and leaves the other core to a second worker instead of a spinning OpenMP thread.
    torch.set_num_threads(1)
    try:
        folder = implementation.resolve_implementation(config.getoption("impl"))
    except FileNotFoundError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[_limits] = limits_from(
        config.getoption("test_timeout"),
        config.getini("kata_test_timeout"),
        stop_stage_after_timeout=config.getoption("stop_stage_after_timeout"),
    )
    config.stash[_stopped_first] = {}
    config.stash[_previous_folder] = implementation.activate(folder)
    config.stash[_results] = ResultCollector()  # the same per-test results `kata` judges stages by
    config.pluginmanager.register(config.stash[_results], "kata-results")


def pytest_unconfigure(config):
    gc.enable()  # where the collection never finished
    if _previous_folder in config.stash:
        implementation.activate(config.stash[_previous_folder])


def pytest_report_header(config):
    if config.stash.get(_active, False):
        return f"kata: grading {display_path(implementation.active_folder())}"


# The maintainer's tier: every module in these folders is marked meta (tests/meta/test_markers.py checks), so a run
# without --meta does not import them only to deselect their tests (a quarter of a second of the grading tier).
MAINTAINER_FOLDERS = (REPOSITORY_ROOT / "tests" / "meta", REPOSITORY_ROOT / "tests" / "runner")


def pytest_ignore_collect(collection_path, config):
    """Never collect (nor load a conftest.py) from inside the folder being graded, nor the maintainer's
    folders without --meta."""
    if not config.stash.get(_active, False):
        return None
    if collection_path.is_relative_to(implementation.active_folder()):
        return True
    if collection_path in MAINTAINER_FOLDERS and not config.getoption("meta"):
        return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session):
    """Torch and the tests are loaded: the first run in a process freezes them; collections resume.
    (Here rather than at the end of collection, which pytest-xdist's controller process never reaches.)"""
    if not session.config.stash.get(_active, False):
        return
    if not anything_frozen():
        freeze_what_is_loaded()
    gc.enable()


def pytest_collection_modifyitems(config, items):
    if not config.stash.get(_active, False):
        return
    deselected = []
    for item in items:
        stage = stage_of_test_file(item.path)
        if stage:
            item.add_marker(stage.marker)
        if item.get_closest_marker("meta") and not config.getoption("meta"):
            deselected.append(item)
        elif item.get_closest_marker("end_to_end") and not config.getoption("end_to_end"):
            deselected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Stop a test that runs past its limit (a learner's endless loop). The alarm repeats each second
    until the test ends, so a bare `except:` in the graded code cannot swallow it for good."""
    limits = item.config.stash.get(_limits, None)
    stage = stage_of_test_file(item.path)  # None: the maintainer's own tests, which run graded code in children
    seconds = limits.for_test(item.nodeid) if limits and stage else 0
    if not seconds or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        return (yield)
    if limits.stop_stage_after_timeout and (first := item.config.stash[_stopped_first].get(stage.name)):
        raise EarlierTestTookTooLong(*first)

    def stop(signum, frame):
        raise TestTookTooLong(seconds, limits.reference_seconds(item.nodeid))

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
    if not item.config.stash.get(_active, False) or not report.failed or call.excinfo is None:
        return report
    explanation = explain(call.excinfo.value, implementation.active_folder())
    if isinstance(call.excinfo.value, TestTookTooLong) and (stage := stage_of_test_file(item.path)):
        item.config.stash[_stopped_first].setdefault(stage.name, (item.name, explanation.location))
    first = _earlier_stage_to_finish(item, explanation.location, call.excinfo.tb)
    if explanation.message or first:
        report.longrepr = "\n".join(filter(None, [first, explanation.message or report.longreprtext]))
    report.user_properties.append(("kind", explanation.kind.value))
    if explanation.location:
        report.user_properties.append(("location", explanation.location))
    return report


def _earlier_stage_to_finish(item, location: str, traceback) -> str:
    """After an earlier stage this one builds on failed in this run, say to finish it first; where the error
    is raised in such a stage's code that did not fail here, say so, and where it was called from."""
    stage = stage_of_test_file(item.path)
    if stage is None:
        return ""
    earlier = builds_on(stage.name)
    results = item.config.stash[_results].results
    failed = [name for name in earlier if any(r.stage == name and r.outcome.is_failure for r in results)]
    raising = Path(location.rsplit(":", 1)[0]).stem if location else ""
    if failed:
        return earlier_stage_first(stage.name, raising if raising in failed else failed[0])
    if raising != stage.name and raising in earlier:
        passes = any(r.stage == raising for r in results)  # its tests ran here, and none failed
        call_site = deepest_call_into(traceback, implementation.active_folder() / f"{raising}.py")
        return raised_in_an_earlier_stage(raising, passes=passes, call_site=call_site)
    return ""


def pytest_terminal_summary(terminalreporter, config):
    """One line per stage, judged as `kata` judges it, and where to go next."""
    if not config.stash.get(_active, False):
        return
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
        started = " (not started)" if status.state is StageState.NOT_STARTED else ""
        mark = "✔" if status.done else "✘"
        terminalreporter.line(
            f"  {mark} {status.stage.label:<52} {status.passed:>3} of {status.total} tests pass{started}"
        )
    unfinished = next((status for status in statuses if not status.done), None)
    if unfinished:
        file = implementation.active_folder() / unfinished.stage.module_file
        terminalreporter.line(f"Next: open {display_path(file)} ({unfinished.stage.label}).")
