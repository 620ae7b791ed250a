"""The `kata grade` command line: its options (cheap to import: every `kata` command builds them) and
what it prints."""

import contextlib
import os
import signal
import tempfile
from dataclasses import replace
from pathlib import Path

HYPOTHESIS_STORAGE = "HYPOTHESIS_STORAGE_DIRECTORY"


def add_arguments(grade) -> None:
    grade.add_argument(
        "--impl",
        action="append",
        dest="impls",
        default=None,
        metavar="PATH",
        help="a submission: a folder laid out like exercises/, or a notebook (.ipynb) (repeatable; default: exercises)",
    )
    grade.add_argument(
        "--out",
        default="grades",
        help="folder for results (default: grades/): NAME/results.json per submission, summary.csv",
    )
    grade.add_argument("--json", default=None, help="with one submission: write its results.json here instead")
    grade.add_argument("--junit", default=None, help="also write JUnit XML here")
    grade.add_argument(
        "--csv", default=None, help="the CSV summary, merged with rows already there (default: OUT/summary.csv)"
    )
    grade.add_argument(
        "--jobs",
        type=int,
        default=max(1, (os.cpu_count() or 2) // 2),
        help="submissions graded at once (default: half the cores)",
    )
    grade.add_argument(
        "--test-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="seconds any test may take (default: derived per test from the references' time)",
    )
    grade.add_argument(
        "--memory-mb", type=int, default=2048, help="memory one stage may use, all its processes (default 2048)"
    )
    grade.add_argument(
        "--stage",
        action="append",
        dest="stages",
        default=None,
        metavar="STAGE",
        help="grade only this stage (repeatable; name or number; default: every stage)",
    )
    confinement = grade.add_mutually_exclusive_group()
    confinement.add_argument(
        "--require-sandbox",
        action="store_true",
        help="refuse to grade where bubblewrap cannot run, instead of grading without a sandbox",
    )
    confinement.add_argument(
        "--without-sandbox",
        action="store_true",
        help="grade in plain child processes even where bubblewrap runs (to compare; said in every results.json)",
    )


def run(arguments) -> int:
    with _private_hypothesis_storage():
        return _grade(arguments)


@contextlib.contextmanager
def _private_hypothesis_storage():
    """Hypothesis, which the grader loads with the suite's plugin, keeps a cache of the constants in the modules it
    sees (the check's oracles among them) in .hypothesis/ of the current folder: keep it in a private one instead,
    deleted afterwards, so that grading writes nothing outside --out."""
    before = os.environ.get(HYPOTHESIS_STORAGE)
    with tempfile.TemporaryDirectory(prefix="kata-grade-hypothesis-") as private:
        os.environ[HYPOTHESIS_STORAGE] = private
        try:
            yield
        finally:
            if before is None:
                os.environ.pop(HYPOTHESIS_STORAGE, None)
            else:
                os.environ[HYPOTHESIS_STORAGE] = before


def _grade(arguments) -> int:
    from rich.text import Text

    from kata import display
    from kata.grading import outputs
    from kata.grading.batch import Batch, GradingRefused, check_before_grading, submissions
    from kata.grading.report import printable
    from kata.implementation import display_path
    from kata.limits import limits_from
    from kata.manifest import stage_named, stages

    out, console = Path(arguments.out), display.console()
    summary = Path(arguments.csv) if arguments.csv else out / "summary.csv"
    written = [summary, summary.with_suffix(".lock"), *(Path(p) for p in (arguments.json, arguments.junit) if p)]
    beside = frozenset(path.name for path in written if path.parent.resolve() == out.resolve())
    batch_list = submissions([Path(path) for path in (arguments.impls or ["exercises"])], reserved=beside)
    if arguments.json and len(batch_list) > 1:
        console.print("--json names one results file: use it with one submission, or --out for several.")
        return 2
    limits = replace(limits_from(arguments.test_timeout), memory_mb=arguments.memory_mb)
    try:
        check_before_grading(out)
        chosen = [stage_named(name) for name in arguments.stages] if arguments.stages else list(stages())
        jobs = max(1, arguments.jobs)
        sandboxing = "required" if arguments.require_sandbox else "off" if arguments.without_sandbox else "preferred"
        batch = Batch(limits=limits, jobs=jobs, stages=chosen, sandboxing=sandboxing)
    except (GradingRefused, RuntimeError) as error:
        console.print(Text(str(error), style="red"), soft_wrap=True)
        return 2
    statement = batch.confinement.statement
    if not batch.confinement.sandboxed:
        console.print(Text(statement, style="yellow"), soft_wrap=True)
    graded = {}

    def on_graded(submission, grade):
        path = Path(arguments.json) if arguments.json else out / submission.name / "results.json"
        outputs.write_results(grade, path, statement=statement)
        graded[submission.name] = (grade, path)
        console.print(
            f"{submission.name}: {grade.score:.1f} of {grade.max_score}  ({display_path(path)})", soft_wrap=True
        )
        for note in [*grade.notes, *(f"{s.stage.name}: {s.problem}" for s in grade.stages if s.problem)]:
            console.print(Text(printable(f"  {note}"), style="yellow"), soft_wrap=True)  # it may quote answers

    previous = signal.signal(signal.SIGTERM, _interrupt)  # a stopped grader cleans up as after Ctrl-C
    try:
        finished = batch.grade_all(batch_list, on_graded)
    finally:
        signal.signal(signal.SIGTERM, previous)
        batch.close()
    grades = [graded[s.name][0] for s in batch_list if s.name in graded]
    outputs.merge_csv(grades, summary)
    if arguments.junit:
        outputs.write_junit(grades, Path(arguments.junit))
    console.print(_table(grades))
    console.print(f"Summary: {display_path(summary)}")
    if not finished:
        console.print(
            Text(
                f"Interrupted (Ctrl-C): {len(grades)} of {len(batch_list)} submissions were graded and "
                "written; the others were not.",
                style="red",
            )
        )
        return 130
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _table(grades):
    from rich.table import Table

    graded = [stage_grade.stage for stage_grade in grades[0].stages] if grades else []
    table = Table("submission", *[stage.name.split("_")[0] for stage in graded], "total", title="kata grade")
    for grade in grades:
        cells = [f"{s.score:.1f}/{s.stage.points}" + (" !" if s.problem else "") for s in grade.stages]
        table.add_row(grade.name, *cells, f"{grade.score:.1f}/{grade.max_score}")
    return table
