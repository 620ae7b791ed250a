"""The learner's side of `kata`: statuses from real test runs, located failures, hints, reset, solution."""

import json
import re

import pytest
from rich.console import Console
from support import solve

from kata import display, stage_status
from kata.cli import main
from kata.implementation import NOT_RUN
from kata.limits import Limits
from kata.manifest import REPOSITORY_ROOT, stage_named, stages
from kata.results import FailureKind, Outcome, TestResult
from kata.stage_status import check_stages, status_from_results
from kata.workspace import is_stub, next_hint, pristine_stub, reset_stage

pytestmark = pytest.mark.meta


def test_check_exits_0_only_when_everything_passes(capsys, exercises_copy):
    assert main(["check", "s07_transformer", "--impl", "solutions"]) == 0  # one stage: the watch test runs all
    assert main(["check", "s01_tokenizer", "--impl", str(exercises_copy)]) == 1
    assert "is not implemented yet" in capsys.readouterr().out


def test_statuses_come_from_running_the_tests(exercises_copy):
    solve(exercises_copy, "s01_tokenizer")
    source = (REPOSITORY_ROOT / "solutions" / "s02_batches.py").read_text()
    (exercises_copy / "s02_batches.py").write_text(
        source.replace("return data[:n], data[n:]", "return data[:n], data[n + 1 :]")
    )
    statuses = check_stages(exercises_copy, [stage_named("1"), stage_named("2"), stage_named("3")])
    assert [statuses[name].state for name in ("s01_tokenizer", "s02_batches", "s03_bigram")] == [
        "done",
        "partial",
        "not started",
    ]
    assert 0 < statuses["s02_batches"].passed < statuses["s02_batches"].total
    assert "train_val_split" in statuses["s02_batches"].first_failure.message


def test_a_syntax_error_is_a_located_message_not_a_crash(exercises_copy):
    (exercises_copy / "s01_tokenizer.py").write_text("def build_vocabulary(text:\n    return sorted(set(text))\n")
    status = check_stages(exercises_copy, [stage_named("s01_tokenizer")])["s01_tokenizer"]
    assert status.passed == 0 and "does not compile" in status.first_failure.message
    assert status.first_failure.location.endswith("s01_tokenizer.py:1")


def test_an_endless_loop_is_stopped_with_a_message(exercises_copy):
    solve(exercises_copy, "s01_tokenizer")
    path = exercises_copy / "s01_tokenizer.py"
    path.write_text(path.read_text().replace("    return sorted(set(text))", "    while True:\n        pass"))
    status = check_stages(exercises_copy, [stage_named("s01_tokenizer")], limits=Limits(test_seconds=1))[
        "s01_tokenizer"
    ]
    assert status.state == "partial" and status.passed > 0
    message = status.first_failure.message
    assert "Stopped after 1 s, this test's time limit (the references took" in message  # the test was measured
    assert "either runs forever or is far slower than it needs to be" in message
    assert "s01_tokenizer.py" in status.first_failure.location


def test_the_learner_loop_runs_no_more_of_a_stage_once_one_of_its_tests_was_stopped(exercises_copy, monkeypatch):
    def run_stages(folder, selected, limits):  # the limits `kata check`, watch and the notebook run with
        raise LookupError(limits)

    monkeypatch.setattr(stage_status, "_run_stages", run_stages)
    with pytest.raises(LookupError) as raised:
        check_stages(exercises_copy, [stage_named("s01_tokenizer")])
    limits = raised.value.args[0]
    assert limits.stop_stage_after_timeout and "--stop-stage-after-timeout" in limits.as_pytest_args()


def test_a_stage_says_how_many_tests_were_not_run_after_one_ran_out_of_time():
    stage = stage_named("s03_bigram")
    stopped = TestResult("t::a", stage.name, Outcome.FAILED, FailureKind.TOO_LONG, "Stopped after 10 s")
    unrun = [
        TestResult(f"t::{name}", stage.name, Outcome.FAILED, FailureKind.TOO_LONG, f"{NOT_RUN}an earlier test")
        for name in "bc"
    ]
    status = status_from_results(stage, [TestResult("t::z", stage.name, Outcome.PASSED), stopped, *unrun])
    assert status.summary() == "1 of 4 tests pass, 2 not run after one ran out of time"
    assert status.first_failure is stopped


def test_the_next_step_shows_later_failures_that_say_something_else():
    """A later test may name the mistake the first failing one cannot (two walk-throughs as a learner found a
    diagnosis only `pytest -m` showed): the panel shows the next failures whose messages differ, up to two."""
    stage = stage_named("s10_generation")

    def failing(name: str, message: str, kind=FailureKind.WRONG_ANSWER) -> TestResult:
        return TestResult(f"t::{name}", stage.name, Outcome.FAILED, kind, message)

    results = [
        failing("a", "wrong values."),
        failing("b", "wrong values."),  # said already
        failing("b2", "Your code raised KeyError: 'forward'.\n  at tests/x.py:9, in the test\n      model(x)"),
        failing(
            "b3", "Your code raised KeyError: 'forward'.\n  at tests/x.py:30, in the test\n      ln(y)"
        ),  # the same
        failing("c", "x is not implemented yet", FailureKind.NOT_IMPLEMENTED),
        failing("d", "wrong values. The temperature came after the softmax."),
        failing("e", "wrong shape."),
        failing("f", "wrong dtype."),  # one more than is shown
    ]
    status = status_from_results(stage, results)
    assert [failure.name for failure in status.other_failures] == ["b2", "d"]
    console = Console(width=120, highlight=False)
    with console.capture() as captured:
        console.print(display.next_step({stage.name: status}, REPOSITORY_ROOT / "exercises"))
    shown = captured.get()
    assert "First failing test: a" in shown and "Also failing: d" in shown and "The temperature came after" in shown
    assert "Also failing: b\n" not in shown and "Also failing: b3" not in shown and "Also failing: e" not in shown


def test_the_list_wraps_the_stages_titles_and_never_a_files_path():
    statuses = {stage.name: status_from_results(stage, []) for stage in stages()}
    narrow = Console(width=80, highlight=False)
    with narrow.capture() as captured:
        narrow.print(display.stage_table(statuses, REPOSITORY_ROOT / "exercises", with_files=True))
    shown = captured.get()
    assert max(map(len, shown.splitlines())) <= 80
    assert all(f"exercises/{stage.module_file}" in shown.split() for stage in stages()), shown


def test_hints_come_one_after_another_and_are_remembered(exercises_copy):
    stage = stage_named("s03_bigram")
    numbers = [next_hint(stage, exercises_copy).number for _ in range(len(stage.hints) + 1)]
    assert numbers == [*range(1, len(stage.hints) + 1), len(stage.hints)]
    state = json.loads((exercises_copy.parent / ".kata" / "state.json").read_text())
    assert state["hints_shown"]["s03_bigram"] == list(range(1, len(stage.hints) + 1))


def test_kata_hint_first_shows_the_hint_for_the_test_that_fails(exercises_copy, capsys):
    """A learner whose generate fails gets the hint about generate first, not the nudge about the embedding."""
    source = (REPOSITORY_ROOT / "solutions" / "s03_bigram.py").read_text(encoding="utf-8")
    loop = "        for _ in range(max_new_tokens):\n"
    assert source.count(loop) == 1  # generate's loop
    broken = source.replace(loop, "        raise NotImplementedError\n" + loop)
    (exercises_copy / "s03_bigram.py").write_text(broken, encoding="utf-8")
    stage = stage_named("s03_bigram")
    assert main(["check", "s03_bigram", "--impl", str(exercises_copy)]) == 1
    assert "::TestGenerate::" in stage_status.RecordedVerdicts(exercises_copy).last_failure(stage)
    capsys.readouterr()
    assert main(["hint", "s03_bigram", "--impl", str(exercises_copy)]) == 0
    shown = capsys.readouterr().out
    assert "Hint 3 of 3" in shown and "For TestGenerate, where the stage's first failing test is:" in shown
    assert [next_hint(stage, exercises_copy).number for _ in range(3)] == [1, 2, 3]  # then the others, in order


def test_a_hint_for_the_whole_stage_comes_before_one_for_another_test(exercises_copy):
    stage = stage_named("s04_training")
    assert not stage.hints[0].tests and "TestTrain" in stage.hints[2].tests and "TestTrain" not in stage.hints[1].tests
    failure = TestResult("tests/test_s04_training.py::TestTrain::test_x", stage.name, Outcome.FAILED, message="Wrong.")
    stage_status.RecordedVerdicts(exercises_copy).record([status_from_results(stage, [failure])])
    shown = [next_hint(stage, exercises_copy) for _ in range(4)]
    assert [(hint.number, hint.helps_with, hint.more) for hint in shown] == [
        (1, "", True),
        (3, "TestTrain", True),
        (2, "", False),
        (3, "TestTrain", False),
    ]


def test_hints_counted_by_an_older_kata_stay_shown(exercises_copy):
    state_file = exercises_copy.parent / ".kata" / "state.json"
    state_file.parent.mkdir(exist_ok=True)
    state_file.write_text(json.dumps({"hints_shown": {"s03_bigram": 2}}), encoding="utf-8")
    assert next_hint(stage_named("s03_bigram"), exercises_copy).number == 3


def test_every_stage_has_a_nudge_and_a_near_answer():
    for stage in stages():
        assert len(stage.hints) >= 2, f"{stage.name} needs at least two hints"


def test_reset_restores_the_packaged_stub_and_keeps_the_learners_file(exercises_copy):
    stage = stage_named("s02_batches")
    solve(exercises_copy, stage.name)
    mine = (exercises_copy / stage.module_file).read_text()
    backup = reset_stage(stage, exercises_copy)
    restored = (exercises_copy / stage.module_file).read_text()
    assert is_stub(restored) and restored == pristine_stub(stage)
    assert backup.read_text() == mine


def test_reset_asks_first_and_changes_nothing_without_yes(exercises_copy, monkeypatch):
    solve(exercises_copy, "s01_tokenizer")
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    assert main(["reset", "s01_tokenizer", "--impl", str(exercises_copy)]) == 1
    assert not is_stub((exercises_copy / "s01_tokenizer.py").read_text())


def test_the_solution_is_shown_only_once_the_stage_passes_and_piped_it_is_the_file_itself(exercises_copy, capsys):
    assert main(["solution", "s01_tokenizer", "--impl", str(exercises_copy)]) == 1
    assert "does not pass yet" in capsys.readouterr().out
    solve(exercises_copy, "s01_tokenizer")
    assert main(["solution", "s01_tokenizer", "--impl", str(exercises_copy)]) == 0
    assert capsys.readouterr().out == (REPOSITORY_ROOT / "solutions" / "s01_tokenizer.py").read_text()


def test_at_a_terminal_the_solution_wraps_at_its_width_and_loses_nothing(exercises_copy, capsys, monkeypatch):
    width = 50
    terminal = Console(width=width, force_terminal=True, highlight=False)
    monkeypatch.setattr(display, "console", lambda: terminal)
    solve(exercises_copy, "s01_tokenizer")
    assert main(["solution", "s01_tokenizer", "--impl", str(exercises_copy)]) == 0
    # Here the pager is pydoc's plain one (the test's output is no terminal), which prints the styled text.
    lines = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out).splitlines()
    reference = (REPOSITORY_ROOT / "solutions" / "s01_tokenizer.py").read_text()
    assert max(len(line) for line in lines) <= width
    assert any(len(line) > width for line in reference.splitlines()), "the test needs a line wider than the terminal"
    gutter = len(f"{len(reference.splitlines()):>4} ")  # the line numbers
    shown = "".join(line[gutter:] for line in lines)
    assert re.sub(r"\s", "", shown) == re.sub(r"\s", "", reference), "characters of the reference were cut off"


def test_a_test_file_that_cannot_load_is_named_with_how_to_restore_it():
    """Collecting imports no graded code, so a test file pytest cannot load was edited by hand: every stage had said
    only "no tests ran"."""
    error = (
        "tests/test_s01_tokenizer.py: /usr/lib/python3.11/ast.py:50: in parse\n"
        "    return compile(source, filename, mode, flags,\n"
        'E     File "/kata/tests/test_s01_tokenizer.py", line 169\n'
        "E       syntax error here(\n"
        "E                        ^\n"
        "E   SyntaxError: '(' was never closed"
    )
    status = status_from_results(stage_named("s02_batches"), [], unloaded=error)
    assert status.problem == (
        "pytest could not load tests/test_s01_tokenizer.py (SyntaxError: '(' was never closed). The kata's tests are "
        "not yours to edit: restore it, `git checkout -- tests/test_s01_tokenizer.py` in a clone of the kata."
    )
