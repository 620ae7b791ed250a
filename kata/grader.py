"""`kata grade`: grade submissions stage by stage, each stage in its own child process with time
and memory limits, and write Gradescope's results.json, JUnit XML and a CSV summary."""

import csv
import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path

import _pytest.outcomes
import _pytest.reports
import _pytest.runner
import pytest

from kata import suite
from kata.forked import run_forked
from kata.manifest import Stage, stages
from kata.suite import ResultCollector, TestResult, run_suite, warm_up


@dataclass
class StageGrade:
    stage: Stage
    results: list[TestResult]
    problem: str = ""

    @property
    def passed(self) -> int:
        return sum(result.outcome == "passed" for result in self.results)

    @property
    def score(self) -> float:
        return self.stage.points * self.passed / len(self.results) if self.results else 0.0


@dataclass
class SubmissionGrade:
    name: str
    folder: Path
    stages: list[StageGrade] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(stage.score for stage in self.stages)

    @property
    def max_score(self) -> int:
        return sum(stage.stage.points for stage in self.stages)


def _guarded_functions() -> dict[str, object]:
    """The pieces of pytest (and of the kata) a submission could patch to fake a pass."""
    return {
        "pytest.fail": pytest.fail,
        "_pytest.outcomes.fail": _pytest.outcomes.fail,
        "_pytest.runner.call_and_report": _pytest.runner.call_and_report,
        "TestReport.from_item_and_call": _pytest.reports.TestReport.__dict__["from_item_and_call"],
        "ResultCollector.pytest_runtest_logreport": ResultCollector.__dict__["pytest_runtest_logreport"],
        "run_suite": suite.run_suite,
    }


def _grade_stage_in_child(folder: Path, stage: Stage, test_timeout: float) -> tuple[list[TestResult], str]:
    before = _guarded_functions()
    run = run_suite(folder, [stage], extra_args=("--test-timeout", str(test_timeout)), include_hidden=True)
    tampered = [name for name, function in _guarded_functions().items() if before[name] is not function]
    if tampered:
        return [], "the submission replaced parts of the test machinery (" + ", ".join(
            tampered
        ) + "): no points for this stage"
    return run.results, ""


def grade_submission(
    folder: Path, name: str, expected_ids: dict[str, list[str]], timeout: float, test_timeout: float, memory_bytes: int
) -> SubmissionGrade:
    grade = SubmissionGrade(name, folder)
    for stage in stages():
        outcome = run_forked(
            _grade_stage_in_child, folder, stage, test_timeout, timeout=timeout, memory_bytes=memory_bytes
        )
        results, problem = outcome.value if not outcome.problem else ([], outcome.problem)
        grade.stages.append(StageGrade(stage, _complete(results, expected_ids[stage.name], stage, problem), problem))
    return grade


def _complete(results: list[TestResult], expected: list[str], stage: Stage, problem: str) -> list[TestResult]:
    """Exactly one result per expected test: a test with no result (the run was cut short) fails."""
    by_id = {result.nodeid: result for result in results}
    reason = problem or "no result came back for this test: the run ended before it"
    return [by_id.get(nodeid) or TestResult(nodeid, stage.name, "failed", reason) for nodeid in expected]


def expected_test_ids() -> dict[str, list[str]]:
    ids = warm_up()
    return {stage.name: [nodeid for nodeid in ids if stage.owns_test_file(nodeid.split("::")[0])] for stage in stages()}


def gradescope_results(grade: SubmissionGrade) -> dict:
    tests = []
    for stage_grade in grade.stages:
        share = stage_grade.stage.points / len(stage_grade.results) if stage_grade.results else 0
        for number, result in enumerate(stage_grade.results, start=1):
            passed = result.outcome == "passed"
            tests.append(
                {
                    "name": f"{stage_grade.stage.label}: {result.name}",
                    "number": f"{stage_grade.stage.number}.{number}",
                    "score": round(share if passed else 0.0, 4),
                    "max_score": round(share, 4),
                    "status": "passed" if passed else "failed",
                    "output": result.message,
                    "visibility": "after_published" if "/hidden/" in result.nodeid else "visible",
                    "tags": [stage_grade.stage.name],
                }
            )
    return {
        "score": round(grade.score, 4),
        "output": "\n".join(
            f"{s.stage.label}: {s.score:.2f} of {s.stage.points}" + (f" ({s.problem})" if s.problem else "")
            for s in grade.stages
        ),
        "tests": tests,
        "extra_data": {
            "stages": {
                s.stage.name: {
                    "score": round(s.score, 4),
                    "max_score": s.stage.points,
                    "passed": s.passed,
                    "tests": len(s.results),
                    "problem": s.problem,
                }
                for s in grade.stages
            }
        },
    }


def write_junit(grades: list[SubmissionGrade], path: Path) -> None:
    root = ElementTree.Element("testsuites")
    for grade in grades:
        for stage_grade in grade.stages:
            failures = [r for r in stage_grade.results if r.outcome != "passed"]
            suite = ElementTree.SubElement(
                root,
                "testsuite",
                name=f"{grade.name}.{stage_grade.stage.name}",
                tests=str(len(stage_grade.results)),
                failures=str(len(failures)),
            )
            for result in stage_grade.results:
                case = ElementTree.SubElement(
                    suite, "testcase", classname=f"{grade.name}.{stage_grade.stage.name}", name=result.name
                )
                if result.outcome != "passed":
                    ElementTree.SubElement(
                        case, "failure", message=result.message.splitlines()[0] if result.message else result.outcome
                    ).text = result.message
    ElementTree.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def write_csv(grades: list[SubmissionGrade], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["submission", *[stage.name for stage in stages()], "total", "max"])
        for grade in grades:
            writer.writerow(
                [grade.name, *[f"{s.score:.2f}" for s in grade.stages], f"{grade.score:.2f}", grade.max_score]
            )


def submission_names(folders: list[Path]) -> list[str]:
    names, seen = [], {}
    for folder in folders:
        base = folder.name or "submission"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def write_results(grade: SubmissionGrade, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gradescope_results(grade), indent=2), encoding="utf-8")
