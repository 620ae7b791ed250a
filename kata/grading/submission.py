"""Grading one submission: its probe run, then each stage's tests in a sandbox of their own, then the
confirmation of every pass (confirm.py). The grade is plain data; outputs.py writes it."""

import contextlib
import json
import secrets
import sys
import sysconfig
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from kata import reference_runs
from kata.grading import at_scale, probe_calls, probes, report
from kata.grading.confirm import confirm
from kata.grading.report import ReportError, RunEnded, TestFinished, TestStarted
from kata.grading.sandbox import INSIDE_TREE, RUN, ConfinedRun, Confinement, RunStopped
from kata.grading.tree import CELLS_COUNTED, SUBMISSION, SubmissionCopy, copy_submission
from kata.limits import Limits
from kata.manifest import Stage, builds_on, stages
from kata.messages import earlier_stage_fails_in_the_grade, sentences
from kata.results import FailureKind, Outcome, TestResult

STARTUP_SECONDS = 120.0  # Python, torch and the test modules loading, on a busy machine
# From each test's result to the next one's start, in all, for a stage: pytest's own bookkeeping, milliseconds a
# test. A run that waited there held its job slot 60 s a test and kept its points (a red-team pass: 383 s for
# stage 1, whose tests take 2.7 s).
BETWEEN_TESTS_SECONDS = 30.0
LIMITS_PER_STAGE = 3  # tests of one stage that may run out of time or past a limit before the rest is not run


def grace(limit: float) -> float:
    """How long past its own limit (where the test stops itself, with a message) a test runs before the
    grader kills it from outside: the in-process alarm was ignored, or the code is stuck in one C call."""
    return 2.0 + 0.2 * limit


@dataclass
class StageGrade:
    stage: Stage
    results: list[TestResult]  # one per test the grader expects, hidden ones included
    problem: str = ""  # why the stage as a whole scored nothing ("" when it did not)
    seconds: float = 0.0  # wall time of the stage's test runs

    @property
    def passed(self) -> int:
        return sum(result.passed for result in self.results)

    @property
    def score(self) -> float:
        if self.problem or not self.results:
            return 0.0
        return self.stage.points * self.passed / len(self.results)


@dataclass
class SubmissionGrade:
    name: str
    stages: list[StageGrade] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the grader left out of the submission, and why
    probe_seconds: float = 0.0  # wall time of the grader's own check

    @property
    def score(self) -> float:
        return sum(stage.score for stage in self.stages)

    @property
    def max_score(self) -> int:
        return sum(stage_grade.stage.points for stage_grade in self.stages)


@dataclass
class Setting:
    """What every submission of a batch is graded with."""

    confinement: Confinement
    limits: Limits
    test_tree: Path
    public_test_tree: Path  # the test tree without the hidden tests: the public tests run there
    probe_tree: Path
    expected: dict[str, list[str]]  # the stages graded, by name -> their test ids, hidden ones included
    stop_requested: object  # a threading.Event: Ctrl-C

    @property
    def stages(self) -> list[Stage]:
        return [stage for stage in stages() if stage.name in self.expected]

    @property
    def probed_stages(self) -> set[str]:
        """The graded stages and those their tests reach into (stage 9's tests build stage 7's attention)."""
        return {symbol.split(".")[0] for stage in self.stages for symbol in symbols_reached(stage)}

    def inside(self, path: Path, run_folder: Path) -> str:
        """`path`, in a submission's run folder, as the graded code sees it."""
        if not self.confinement.sandboxed:
            return str(path)
        return str(INSIDE_TREE / RUN / path.relative_to(run_folder))


def symbols_reached(stage: Stage) -> set[str]:
    """The symbols the stage's tests exercise, its own and those of the stages it builds on."""
    owned = [used for nodeid, used in reference_runs.symbols().items() if stage.owns_test_file(nodeid.split("::")[0])]
    return {symbol for used in owned for symbol in used} | {f"{stage.name}.{symbol}" for symbol in stage.symbols}


def ungraded(name: str, setting: Setting, problem: str) -> SubmissionGrade:
    """A submission that scores nothing, every stage saying why."""
    return SubmissionGrade(name, [_failed_stage(stage, setting, problem) for stage in setting.stages], [problem])


def grade_submission(folder: Path, name: str, run_folder: Path, setting: Setting, slot: int) -> SubmissionGrade:
    if problem := _unusable(folder):
        return ungraded(name, setting, problem)
    grade = SubmissionGrade(name)
    copy = copy_submission(folder, run_folder / SUBMISSION)
    graded = {stage.name for stage in setting.stages}
    grade.notes += copy.refused + [note for stage, note in copy.notes if stage in graded]
    started = time.monotonic()
    refuted = _probe(copy, run_folder, setting, slot)
    for symbol, wrong in _probe_at_scale(copy, run_folder, setting, slot).items():
        refuted[symbol] = {**refuted.get(symbol, {}), **wrong}
    grade.probe_seconds = time.monotonic() - started
    for stage in setting.stages:
        if setting.stop_requested.is_set():
            break
        started = time.monotonic()
        results, problem = _run_tests(stage, run_folder, setting, slot)
        results = [copy.in_notebook_words(result) for result in results]
        seconds = time.monotonic() - started
        if problem:
            grade.stages.append(StageGrade(stage, results, problem, seconds))
            continue
        confirmation = confirm(stage, results, refuted)
        results = _sent_to_a_failing_earlier_stage(stage, confirmation.results, grade.stages)
        grade.stages.append(StageGrade(stage, results, confirmation.problem, seconds))
    cited = copy.cites_cells([result for stage_grade in grade.stages for result in stage_grade.results])
    if cited or any(stage in graded for stage, _ in copy.notes):
        grade.notes.append(CELLS_COUNTED)
    return grade


def _sent_to_a_failing_earlier_stage(stage: Stage, results: list[TestResult], graded: list) -> list[TestResult]:
    """Each stage runs on its own here, so a later stage's test meets an earlier stage's mistake without the
    plugin knowing that stage fails (`kata` runs it only once the earlier ones pass): where a stage it builds
    on failed tests of its own in this grade, each failing test says so first, naming the earliest."""
    failing = {done.stage.name: done for done in graded if done.passed < len(done.results)}
    earlier = next((failing[name] for name in builds_on(stage.name) if name in failing), None)
    if earlier is None:
        return results
    failed = len(earlier.results) - earlier.passed
    note = earlier_stage_fails_in_the_grade(stage.name, earlier.stage.name, failed=failed, tests=len(earlier.results))
    return [
        replace(result, message=f"{note}\n{result.message}") if result.outcome.is_failure else result
        for result in results
    ]


def _unusable(folder: Path) -> str:
    if folder.suffix == ".ipynb" and not folder.is_dir():
        if folder.is_file():
            return ""  # a notebook: its code cells become the stage modules (tree.copy_submission)
        return f"The notebook {folder.name} does not exist or is not a regular file: nothing was graded"
    if not folder.is_dir():
        return f"The submission folder {folder.name} does not exist or is not a folder: nothing was graded"
    if not any(folder.glob("s[0-9][0-9]_*.py")):
        return f"The submission folder {folder.name} holds no stage file (s01_tokenizer.py, ...): nothing was graded"
    return ""


def _failed_stage(stage: Stage, setting: Setting, reason: str) -> StageGrade:
    results = [
        TestResult(nodeid, stage.name, Outcome.FAILED, FailureKind.SUITE, reason)
        for nodeid in setting.expected[stage.name]
    ]
    return StageGrade(stage, results, reason)


# ---- the probe run ---------------------------------------------------------------------------------


def _probe(copy: SubmissionCopy, run_folder: Path, setting: Setting, slot: int) -> dict[str, str]:
    """The symbols the grader's own check finds wrong, each with what it found."""
    symbols = [symbol for symbol in probes.PROBES if symbol.split(".")[0] in setting.probed_stages]
    inputs = probes.choose_inputs(symbols, secrets.randbits(31))
    inputs_file = run_folder / "probe_inputs.json"
    inputs_file.write_bytes(report.encode_inputs(inputs))
    inputs_file.chmod(0o644)
    argv = [sys.executable, "-m", "kata.grading.probe_calls"]
    argv += [setting.inside(inputs_file, run_folder), setting.inside(copy.folder, run_folder)]
    argv += [str(setting.limits.for_checking_a_stage())]
    answers, ended = {}, "its check ended early"
    budget = STARTUP_SECONDS + setting.limits.for_checking_a_stage() * len(setting.probed_stages)
    with ConfinedRun(
        argv,
        confinement=setting.confinement,
        tree=setting.probe_tree,
        run_folder=run_folder,
        limits=setting.limits,
        slot=slot,
    ) as run:
        deadline = time.monotonic() + budget
        try:
            # Its end is not waited for once every answer is in: a run stopped with SIGSTOP held the grader for the
            # check's whole budget and kept its points (a red-team pass: 482 s for stage 1, whose check takes 4 s).
            while (
                len(answers) < len(symbols)
                and (line := run.read_line(max(deadline - time.monotonic(), 0.01))) is not None
            ):
                answer = report.parse_probe_answer(line, set(symbols) - set(answers))
                answers[answer.symbol] = answer
        except TimeoutError:
            ended = "its check ran out of time"
        except (ReportError, ValueError, RunStopped) as error:
            ended = f"its check's report was refused ({error})"
    refuted: dict[str, dict[str, str]] = {}
    for symbol in symbols:
        answer = answers.get(symbol)
        if answer is None:
            refuted[symbol] = {"": f"no answer came back ({ended})"}
        elif answer.error:
            refuted[symbol] = {"": f"calling it raised {answer.error}"}
        elif found := probes.verdict(symbol, inputs[symbol], answer.value):
            refuted[symbol] = found
    return refuted


def _probe_at_scale(copy: SubmissionCopy, run_folder: Path, setting: Setting, slot: int) -> dict[str, dict[str, str]]:
    """What the check at scale (at_scale.py) finds wrong, by symbol: a run per stage, timed once its imports
    are done, each answer due within twice the limit of the graded tests it backs, and its own work."""
    refuted: dict[str, dict[str, str]] = {}
    graded = [nodeid for nodeids in setting.expected.values() for nodeid in nodeids]
    for symbols in at_scale.symbols_by_stage(setting.probed_stages).values():
        backed = [n for n in graded if any(probes.backs_the_test(s, at_scale.ASPECT, n) for s in symbols)]
        if not backed:
            continue
        limit = 2 * max(setting.limits.for_test(nodeid) for nodeid in backed) + at_scale.OWN_WORK_SECONDS
        refuted |= _one_run_at_scale(copy, run_folder, setting, slot, symbols=symbols, limit=limit)
    return refuted


def _one_run_at_scale(
    copy: SubmissionCopy, run_folder: Path, setting: Setting, slot: int, *, symbols: list[str], limit: float
) -> dict[str, dict[str, str]]:
    """The check at scale of one stage's `symbols`, in a run of its own, so that its clock is the stage's alone."""
    argv = [sys.executable, "-m", "kata.grading.probe_calls", "--at-scale"]
    argv += [setting.inside(copy.folder, run_folder), symbols[0].split(".")[0]]
    confinement = dict(confinement=setting.confinement, tree=setting.probe_tree, run_folder=run_folder)
    seed = secrets.randbits(31)
    length = at_scale.text_length(symbols[0].split(".")[0])
    with ConfinedRun(argv, **confinement, limits=setting.limits, slot=slot, fed=True) as run:
        answers, missing = _answers_at_scale(run, symbols, {"seed": seed, "length": length}, limit)
    made = probe_calls.scale_inputs(seed, length)
    verdicts = {s: at_scale.verdict(s, made, answers.get(s), limit=limit, missing=missing) for s in symbols}
    return {symbol: wrong for symbol, wrong in verdicts.items() if wrong}


def _answers_at_scale(run: ConfinedRun, symbols: list[str], request: dict, limit: float) -> tuple[dict, str]:
    """The answers that came back within `limit` s of the request (the seed and length of the inputs to make)
    being sent, and why any other did not."""
    answers: dict[str, report.ProbeAnswer] = {}
    try:
        _start_at_scale(run, request)
        deadline = time.monotonic() + limit
        while len(answers) < len(symbols):
            if (line := run.read_line(max(deadline - time.monotonic(), 0.01))) is None:
                return answers, "its run ended early"
            answer = report.parse_probe_answer(line, set(symbols) - set(answers))
            if time.monotonic() > deadline:  # it came, but late
                raise TimeoutError
            answers[answer.symbol] = answer
    except TimeoutError:
        return answers, "it ran out of that time"
    except RunStopped as error:
        return answers, str(error)
    except (ReportError, ValueError) as error:
        return answers, f"its report was refused ({error})"
    return answers, ""


def _start_at_scale(run: ConfinedRun, request: dict) -> None:
    """Wait for the run to say its imports are done, then send it its inputs: the clock starts now."""
    try:
        line = run.read_line(STARTUP_SECONDS)
    except TimeoutError:
        raise RunStopped(f"its imports were not done after {STARTUP_SECONDS:g} s") from None
    if line is None:
        raise ReportError("a run of the check at scale that ended before it was ready")
    report.parse_ready(line)
    run.feed(json.dumps(request).encode())


# ---- the test runs ---------------------------------------------------------------------------------


def _run_tests(stage: Stage, run_folder: Path, setting: Setting, slot: int) -> tuple[list[TestResult], str]:
    """One result per expected test of `stage`, and a problem that voids the stage ("" if none). A test
    that runs past its limit is stopped and the run restarted after it: results already in are kept."""
    expected = setting.expected[stage.name]
    results: dict[str, TestResult] = {}
    time_left = StageTime(time.monotonic() + setting.limits.for_run([stage.name]) + STARTUP_SECONDS)
    ended = ""
    while len(results) < len(expected) and not ended and time.monotonic() < time_left.end:
        if setting.stop_requested.is_set():
            ended = "grading was interrupted (Ctrl-C) before this test"
            break
        try:
            ended = _one_run(stage, run_folder, setting, slot, results, time_left)
        except ReportError as error:
            return _complete(stage, results, expected, "the run broke the report protocol"), sentences(
                f"The stage's test run sent a report the grader refuses ({error})", "No points for this stage"
            )
    reason = ended or "the stage ran out of its time before this test"
    return _complete(stage, results, expected, reason), ""


@dataclass
class StageTime:
    """When a stage's time ends, and what is left of its time between tests, over all of its runs."""

    end: float
    between_tests: float = BETWEEN_TESTS_SECONDS


def _one_run(stage: Stage, run_folder: Path, setting: Setting, slot: int, results: dict, time_left: StageTime) -> str:
    """Run the tests not yet in `results`, adding theirs; returns why no further run can help ("" if one can)."""
    expected = set(setting.expected[stage.name])
    submission = setting.inside(run_folder / SUBMISSION, run_folder)
    argv = [sys.executable, "-m", "kata.grading.stage_run", stage.name, submission, *results]
    limits = setting.limits
    public_done = all("/hidden/" in nodeid or nodeid in results for nodeid in expected)
    tree = setting.test_tree if public_done else setting.public_test_tree  # hidden tests unseen until then
    confinement = dict(confinement=setting.confinement, tree=tree, run_folder=run_folder)
    with (
        _refusals_said(of_the_hidden_run=public_done),
        ConfinedRun(argv, **confinement, limits=limits, slot=slot) as run,
    ):
        current, finished, deadline = None, None, time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                line = run.read_line(max(min(deadline, time_left.end) - time.monotonic(), 0.01))
            except TimeoutError:
                if current is None and finished is not None:
                    return f"the run waited between its tests longer than the {BETWEEN_TESTS_SECONDS:g} s a stage has"
                if current is None:
                    return "the stage's tests never started (its time ran out)"
                results[current] = _stopped(current, stage, limits.for_test(current))
                return _out_of_limits(results)
            except RunStopped as error:
                if current is None:
                    return str(error)
                results[current] = _failed(current, stage, str(error), FailureKind.OVER_LIMIT)
                return _out_of_limits(results)
            except ValueError as error:
                raise ReportError(str(error)) from None
            if line is None:
                break
            event = report.parse_test_event(line, expected - set(results))
            if isinstance(event, TestStarted):
                if current is not None:  # pytest reports each test's result before it starts the next
                    raise ReportError("a test's start before the test that was running had ended")
                if finished is not None:
                    time_left.between_tests -= time.monotonic() - finished
                limit = limits.for_test(event.test)
                current, deadline = event.test, time.monotonic() + limit + grace(limit)
            elif isinstance(event, TestFinished):
                if event.test != current:  # pytest reports a test's result after its start, before the next
                    raise ReportError("a test's result where another test was running, or none")
                results[event.test] = _result(event, stage, [submission + "/", f"{run.tree_root}/", *PACKAGE_FOLDERS])
                current, finished = None, time.monotonic()
                deadline = finished + time_left.between_tests
                if _out_of_limits(results):
                    return _out_of_limits(results)
            elif isinstance(event, RunEnded):
                return ""
        end = run.finish(timeout=10)
    why = end.problem or _describe_exit(end.exit_status)
    if current is not None:
        results[current] = _failed(current, stage, why, FailureKind.RAISED)
        return ""
    return why


# What the results say of a report refused from the run that holds the hidden tests: that run can read them, and
# which of the grader's refusals it earns is a choice of its own, shown in every test's output (a red-team pass
# read 3.6 bits of the hidden tests a grade that way, at the cost of the stage's points).
HIDDEN_RUN_REFUSED = "what was wrong with it is not said: that run could read the hidden tests"


@contextlib.contextmanager
def _refusals_said(*, of_the_hidden_run: bool):
    try:
        yield
    except ReportError:
        if not of_the_hidden_run:
            raise
        raise ReportError(HIDDEN_RUN_REFUSED) from None


# Where the installed packages lie (the instructor's virtual environment, say): left out of what students see.
PACKAGE_FOLDERS = sorted({f"{sysconfig.get_paths()[kind]}/" for kind in ("purelib", "platlib")})


def _out_of_limits(results: dict) -> str:
    """Why the rest of the stage is not run: an endless loop or a fork bomb costs its own stage, not the
    class's evening."""
    stopped = sum(result.kind in (FailureKind.TOO_LONG, FailureKind.OVER_LIMIT) for result in results.values())
    if stopped < LIMITS_PER_STAGE:
        return ""
    return f"not run: {stopped} tests of this stage ran out of time or past a limit, so the rest was not run"


def _result(event: TestFinished, stage: Stage, prefixes: list[str]) -> TestResult:
    """The event as a result; students see paths as in their own folder (s03_bigram.py:12, tests/...)."""
    texts = [event.message, event.location, event.output]
    for prefix in prefixes:
        texts = [text.replace(prefix, "") for text in texts]
    return TestResult(event.test, stage.name, event.outcome, event.kind, *texts)


def _stopped(nodeid: str, stage: Stage, seconds: float) -> TestResult:
    message = f"Stopped after {seconds:g} s: your code seems to run forever (the grader ended the test from outside)."
    return TestResult(nodeid, stage.name, Outcome.FAILED, FailureKind.TOO_LONG, message)


def _failed(nodeid: str, stage: Stage, why: str, kind: FailureKind) -> TestResult:
    return TestResult(nodeid, stage.name, Outcome.FAILED, kind, sentences(f"The test did not finish: {why}"))


def _complete(stage: Stage, results: dict, expected: list[str], reason: str) -> list[TestResult]:
    """Exactly one result per expected test, in order: a test with none failed, saying why."""
    return [results.get(nodeid) or _failed(nodeid, stage, reason, FailureKind.SUITE) for nodeid in expected]


def _describe_exit(status: int | None) -> str:
    if status is None:
        return "the grader stopped the run"
    if status < 0:
        return f"the run was killed by signal {-status}"
    return f"the code ended the process itself (exit status {status}, e.g. os._exit or sys.exit outside a test)"
