"""What `kata grade` writes: Gradescope's results.json per submission, a CSV summary of the class and
JUnit XML, each bounded and well-formed whatever the graded code printed."""

import contextlib
import csv
import fcntl
import io
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from kata.grading.report import clip
from kata.grading.submission import StageGrade, SubmissionGrade
from kata.manifest import stages

MAX_TEST_OUTPUT = 8 * 1024  # characters of one test's output in results.json
MAX_RESULTS_BYTES = 1 << 20  # one results.json


def gradescope_results(grade: SubmissionGrade, *, statement: str = "") -> dict:
    """Gradescope's results format: per test score, max_score, output and visibility; stage totals in extra_data."""
    limit = MAX_TEST_OUTPUT
    while True:
        results = _results(grade, statement, limit)
        if len(json.dumps(results)) <= MAX_RESULTS_BYTES or limit < 64:
            return results
        limit //= 2  # a class of long messages: shorter ones for every test, never a file that is too big


def _results(grade: SubmissionGrade, statement: str, limit: int) -> dict:
    tests = []
    for stage_grade in grade.stages:
        share = stage_grade.stage.points / len(stage_grade.results) if stage_grade.results else 0
        for number, result in enumerate(stage_grade.results, start=1):
            passed = result.passed and not stage_grade.problem
            output = "\n".join(filter(None, [stage_grade.problem, result.message]))
            tests.append(
                {
                    "name": f"{stage_grade.stage.label}: {result.name}",
                    "number": f"{stage_grade.stage.number}.{number}",
                    "score": round(share if passed else 0.0, 4),
                    "max_score": round(share, 4),
                    "status": "passed" if passed else "failed",
                    "output": clip(output, limit),
                    "visibility": "after_published" if "/hidden/" in result.nodeid else "visible",
                    "tags": [stage_grade.stage.name],
                }
            )
    lines = (
        [_stage_line(stage_grade) for stage_grade in grade.stages] + grade.notes + ([statement] if statement else [])
    )
    return {
        "score": round(grade.score, 4),
        "output": clip("\n".join(lines), 4 * limit),
        "tests": tests,
        "extra_data": {
            "stages": {s.stage.name: _stage_summary(s) for s in grade.stages},
            "check_seconds": round(grade.probe_seconds, 1),
        },
    }


def _stage_line(stage_grade: StageGrade) -> str:
    line = f"{stage_grade.stage.label}: {stage_grade.score:.2f} of {stage_grade.stage.points}"
    return line + (f" ({stage_grade.problem})" if stage_grade.problem else "")


def _stage_summary(stage_grade: StageGrade) -> dict:
    return {
        "score": round(stage_grade.score, 4),
        "max_score": stage_grade.stage.points,
        "passed": stage_grade.passed,
        "tests": len(stage_grade.results),
        "problem": clip(stage_grade.problem, MAX_TEST_OUTPUT),
        "seconds": round(stage_grade.seconds, 1),
    }


def write_results(grade: SubmissionGrade, path: Path, *, statement: str = "") -> None:
    _write_atomically(path, json.dumps(gradescope_results(grade, statement=statement), indent=1))


def merge_csv(grades: list[SubmissionGrade], path: Path) -> None:
    """Add these grades to the summary: rows of other submissions stay, a submission graded again replaces
    its row. A lock keeps two `kata grade` runs into one folder from losing each other's rows."""
    header = ["submission", *[stage.name for stage in stages()], "total", "max"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        rows = {}
        with contextlib.suppress(FileNotFoundError):
            for row in csv.DictReader(path.open(newline="", encoding="utf-8")):
                rows[row.get("submission", "")] = row
        for grade in grades:
            row = {"submission": grade.name, "total": f"{grade.score:.2f}", "max": grade.max_score}
            row.update({s.stage.name: f"{s.score:.2f}" for s in grade.stages})
            rows[grade.name] = row
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=header, extrasaction="ignore", restval="")
        writer.writeheader()
        writer.writerows(rows[name] for name in sorted(rows))
        _write_atomically(path, text.getvalue())


def write_junit(grades: list[SubmissionGrade], path: Path) -> None:
    root = ElementTree.Element("testsuites")
    for grade in grades:
        for stage_grade in grade.stages:
            name = f"{grade.name}.{stage_grade.stage.name}"
            failed = [r for r in stage_grade.results if not r.passed or stage_grade.problem]
            suite = ElementTree.SubElement(
                root, "testsuite", name=name, tests=str(len(stage_grade.results)), failures=str(len(failed))
            )
            for result in stage_grade.results:
                case = ElementTree.SubElement(suite, "testcase", classname=name, name=_xml_text(result.name))
                if result in failed:
                    text = _xml_text(
                        clip("\n".join(filter(None, [stage_grade.problem, result.message])), MAX_TEST_OUTPUT)
                    )
                    failure = ElementTree.SubElement(
                        case, "failure", message=(text.splitlines() or ["failed"])[0][:200]
                    )
                    failure.text = text
    buffer = io.BytesIO()
    ElementTree.ElementTree(root).write(buffer, encoding="utf-8", xml_declaration=True)
    _write_atomically(path, buffer.getvalue().decode())


def _xml_text(text: str) -> str:
    """Only characters XML 1.0 allows (clip keeps newlines and tabs, and drops other control characters)."""
    return re.sub("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]", "", text)


def _write_atomically(path: Path, text: str) -> None:
    """Readers (and a concurrent run) see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as file:
        file.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)
