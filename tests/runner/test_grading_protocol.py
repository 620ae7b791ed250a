"""The only bytes that cross from a sandbox to the grader (kata/grading/report.py): what the grader accepts
and what it refuses, and what it writes from them (kata/grading/outputs.py)."""

import json
import pickle
import xml.etree.ElementTree as ElementTree

import pytest
import torch

from kata.grading import outputs, report
from kata.grading.report import ReportError, RunEnded, TestFinished, TestStarted
from kata.grading.submission import StageGrade, SubmissionGrade, _sent_to_a_failing_earlier_stage
from kata.manifest import stage_named
from kata.results import FailureKind, Outcome, TestResult

pytestmark = pytest.mark.meta
TEST = "tests/test_s01_tokenizer.py::TestX::test_y"


def result(message="", outcome=Outcome.FAILED, output=""):
    return TestResult(TEST, "s01_tokenizer", outcome, FailureKind.WRONG_ANSWER, message, "s01_tokenizer.py:3", output)


def test_events_round_trip():
    assert report.parse_test_event(report.started_line(TEST).strip(), {TEST}) == TestStarted(TEST)
    finished = report.parse_test_event(report.finished_line(result("wrong")).strip(), {TEST})
    assert finished == TestFinished(TEST, Outcome.FAILED, FailureKind.WRONG_ANSWER, "wrong", "s01_tokenizer.py:3", "")
    assert report.parse_test_event(report.ended_line().strip(), set()) == RunEnded()


@pytest.mark.parametrize(
    "line",
    [
        pickle.dumps(("value", [1, 2])),
        b"\xff\xfe not json",
        b"[1, 2, 3]",
        json.dumps({"kata": 2, "event": "end"}).encode(),
        json.dumps({"event": "end"}).encode(),
        json.dumps({"kata": 1, "event": "start", "test": "tests/test_s99.py::test_everything"}).encode(),
        json.dumps({"kata": 1, "event": "start", "test": TEST, "extra": 1}).encode(),
        json.dumps({"kata": 1, "event": "result", "test": TEST, "outcome": "won", "kind": "none", "message": "",
                    "location": "", "output": ""}).encode(),
        json.dumps({"kata": 1, "event": "result", "test": TEST, "outcome": "passed", "kind": "none",
                    "message": "x" * 20_000, "location": "", "output": ""}).encode(),
        json.dumps({"kata": 1, "event": "result", "test": TEST, "outcome": "passed", "kind": "none",
                    "message": 12, "location": "", "output": ""}).encode(),
        b"{" * 100_000,
        json.dumps({"kata": 1, "event": "answer", "symbol": "s01_tokenizer.build_vocabulary", "value": 1}).encode(),
        json.dumps({"kata": 1, "event": "start", "test": []}).encode(),
        json.dumps({"kata": 1, "event": "result", "test": TEST, "outcome": ["passed"], "kind": {}, "message": "",
                    "location": "", "output": ""}).encode(),
        json.dumps({"kata": 1, "event": ["end"]}).encode(),
    ],
    ids=["pickle", "bytes", "list", "version", "no-version", "unknown-test", "extra-field", "outcome", "too-long",
         "not-text", "too-big", "wrong-event", "unhashable-test", "unhashable-outcome", "unhashable-event"],
)  # fmt: skip
def test_anything_outside_the_schema_is_refused(line):
    with pytest.raises(ReportError):
        report.parse_test_event(line, {TEST})


SECRET = "def test_hidden(): assert the_answer == 42"  # what a run that read the hidden tests might send


@pytest.mark.parametrize(
    ("fields", "parse"),
    [
        ({"event": "end", SECRET: 0}, report.parse_test_event),
        ({"event": SECRET}, report.parse_test_event),
        ({"event": "start", "test": SECRET}, report.parse_test_event),
        ({"event": "result", "test": TEST, "outcome": SECRET, "kind": "none", "message": "", "location": "",
          "output": ""}, report.parse_test_event),
        ({"event": "result", "test": TEST, "outcome": "passed", "kind": SECRET, "message": "", "location": "",
          "output": ""}, report.parse_test_event),
        ({"event": "answer", "symbol": SECRET, "value": {"plain": 1}}, report.parse_probe_answer),
        ({"event": "answer", "symbol": TEST, "value": {SECRET: 1}}, report.parse_probe_answer),
        ({"event": "answer", "symbol": TEST, "value": {"tensor": {"dtype": SECRET, "shape": [1], "data": ""}}},
         report.parse_probe_answer),
    ],
)  # fmt: skip
def test_a_refusal_quotes_nothing_the_sandbox_sent(fields, parse):
    """The refusal reaches every output students see, and the run that sent it may have read the hidden tests."""
    with pytest.raises(ReportError) as refused:
        parse(json.dumps({"kata": 1, **fields}).encode(), {TEST})
    assert "the_answer" not in str(refused.value) and "hidden" not in str(refused.value)


# Numbers a run that read the hidden tests might encode them in: a tensor's shape (each size allowed, their
# product not) and a line's length past the limit.
SIZES = (31_415, 92_653)
PADDING = report.MAX_LINE_BYTES + 5_897


@pytest.mark.parametrize(
    "line",
    [
        json.dumps({"kata": 1, "event": "answer", "symbol": TEST,
                    "value": {"tensor": {"dtype": "float32", "shape": list(SIZES), "data": ""}}}).encode(),
        json.dumps({"kata": 1, "event": "end", "padding": " " * PADDING}).encode(),
    ],
    ids=["tensor-size", "line-length"],
)  # fmt: skip
def test_a_refusal_quotes_no_number_the_sandbox_chose(line):
    with pytest.raises(ReportError) as refused:
        report.parse_probe_answer(line, {TEST}) if b"answer" in line else report.parse_test_event(line, {TEST})
    chosen = [str(SIZES[0] * SIZES[1]), str(len(line))]
    assert not any(number in str(refused.value) for number in chosen), str(refused.value)


def test_texts_lose_their_control_characters_on_the_grader_s_side_and_values_keep_theirs():
    """Graded code can replace the clipping in its sandbox: an escape sequence in a message would reach the
    instructor's terminal. A value is data the check compares, so it arrives as it was sent."""
    escape = "\x1b]0;title\x07\x1b[2Kforged"
    fields = {**json.loads(report.finished_line(result())), "message": escape, "location": escape, "output": escape}
    finished = report.parse_test_event(json.dumps(fields).encode(), {TEST})
    assert "\x1b" not in finished.message + finished.location + finished.output
    error = json.dumps({"kata": 1, "event": "answer", "symbol": TEST, "error": escape}).encode()
    assert "\x1b" not in report.parse_probe_answer(error, {TEST}).error
    value = json.dumps({"kata": 1, "event": "answer", "symbol": TEST, "value": {"plain": escape}}).encode()
    assert report.parse_probe_answer(value, {TEST}).value == escape


def test_the_check_at_scale_must_say_it_is_ready_before_anything_else():
    report.parse_ready(report.ready_line().strip())
    for line in (report.answer_line(TEST, 1), json.dumps({"kata": 1, "event": "ready", "seed": 1}).encode()):
        with pytest.raises(ReportError):
            report.parse_ready(line.strip())


def test_a_test_reported_twice_is_refused_by_the_grader_s_expected_set():
    line = report.finished_line(result()).strip()
    report.parse_test_event(line, {TEST})
    with pytest.raises(ReportError):
        report.parse_test_event(line, set())  # the grader removes a test from what it expects once it has its result


def test_probe_values_round_trip_as_data():
    value = {"t": torch.arange(6.0).view(2, 3), "ids": torch.tensor([3, 1]), "xs": [1, 2.5, "a", None, True],
             "nan": float("nan"), "mask": torch.tensor([True, False])}  # fmt: skip
    answer = report.parse_probe_answer(
        report.answer_line("s05_averaging.average_loops", value).strip(), {"s05_averaging.average_loops"}
    )
    assert torch.equal(answer.value["t"], value["t"]) and answer.value["t"].dtype == torch.float32
    assert torch.equal(answer.value["ids"], value["ids"]) and torch.equal(answer.value["mask"], value["mask"])
    assert answer.value["xs"] == [1, 2.5, "a", None, True] and answer.value["nan"] != answer.value["nan"]


@pytest.mark.parametrize(
    "value",
    [
        {"tensor": {"dtype": "float32", "shape": [2, 2], "data": "AAAA"}},
        {"tensor": {"dtype": "object", "shape": [1], "data": "AAAAAA=="}},
        {"tensor": {"dtype": "float32", "shape": [10**6], "data": ""}},
        {"tensor": {"dtype": "float32", "shape": [-1], "data": ""}},
        {"pickle": "gASV"},
        {"list": [{"list": [{"list": [{"list": [{"list": [{"list": [{"list": [{"plain": 1}]}]}]}]}]}]}]},
        {"tensor": {"dtype": "float32", "shape": [0, 2**63], "data": ""}},
        {"tensor": {"dtype": ["float32"], "shape": [1], "data": "AAAAAA=="}},
    ],
    ids=["short-data", "dtype", "too-many", "negative", "unknown-kind", "too-deep", "overflowing-shape",
         "unhashable-dtype"],
)  # fmt: skip
def test_probe_answers_outside_the_schema_are_refused(value):
    line = json.dumps({"kata": 1, "event": "answer", "symbol": "s01_tokenizer.build_vocabulary", "value": value})
    with pytest.raises(ReportError):
        report.parse_probe_answer(line.encode(), {"s01_tokenizer.build_vocabulary"})


def test_an_answer_for_an_unhashable_symbol_is_refused():
    line = json.dumps({"kata": 1, "event": "answer", "symbol": {"a": 1}, "value": {"plain": 1}})
    with pytest.raises(ReportError):
        report.parse_probe_answer(line.encode(), {"s01_tokenizer.build_vocabulary"})


def test_texts_are_clipped_and_stripped_of_control_characters():
    assert report.clip("a\x1b[31mb\x00c\nd\te", 100) == "a[31mbc\nd\te"
    clipped = report.clip("x" * 10_000, 1000)
    assert len(clipped) <= 1000 and "characters cut" in clipped


def a_grade(message: str) -> SubmissionGrade:
    stage = stage_named("s01_tokenizer")
    results = [result(message, output=message) for _ in range(300)]
    return SubmissionGrade("alice", [StageGrade(stage, results)])


def test_results_json_stays_under_its_cap_and_junit_stays_well_formed(tmp_path):
    grade = a_grade(report.clip("\x1b\x00 ]]> </failure> &amp; " + "y" * 100_000, report.MAX_TEXT))
    outputs.write_results(grade, tmp_path / "results.json")
    assert (tmp_path / "results.json").stat().st_size <= outputs.MAX_RESULTS_BYTES
    json.loads((tmp_path / "results.json").read_text())
    outputs.write_junit([grade], tmp_path / "junit.xml")
    ElementTree.parse(tmp_path / "junit.xml")


def test_two_runs_into_one_summary_keep_every_row(tmp_path):
    summary = tmp_path / "summary.csv"
    outputs.merge_csv([SubmissionGrade("alice"), SubmissionGrade("bob")], summary)
    outputs.merge_csv([SubmissionGrade("carol"), SubmissionGrade("alice")], summary)
    names = [line.split(",")[0] for line in summary.read_text().splitlines()[1:]]
    assert names == ["alice", "bob", "carol"]


def test_a_later_stage_s_failures_are_sent_to_an_earlier_stage_that_fails_in_the_grade():
    six, seven = stage_named("s06_attention"), stage_named("s07_transformer")
    graded = [
        StageGrade(
            six, [TestResult("a", six.name, Outcome.FAILED, message="m"), TestResult("b", six.name, Outcome.PASSED)]
        )
    ]
    results = [
        TestResult("c", seven.name, Outcome.FAILED, message="Block ..."),
        TestResult("d", seven.name, Outcome.PASSED),
    ]
    sent = _sent_to_a_failing_earlier_stage(seven, results, graded)
    assert sent[0].message.startswith(
        "s07_transformer builds on s06_attention, which fails 1 of its 2 tests in this grade"
    )
    assert sent[0].message.endswith("\nBlock ...") and sent[1] == results[1]
    assert _sent_to_a_failing_earlier_stage(seven, results, []) == results
