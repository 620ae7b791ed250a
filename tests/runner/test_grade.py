"""`kata grade` on a correct and a hostile submission: graded stage by stage, the grader never stops."""

import csv
import json
import shutil
import xml.etree.ElementTree as ElementTree

import pytest
from hostile import write_hostile_submission

from kata.cli import main
from kata.manifest import REPOSITORY_ROOT, stages

pytestmark = [pytest.mark.meta, pytest.mark.xdist_group("grade")]  # one worker grades once for all


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    shutil.copytree(REPOSITORY_ROOT / "solutions", root / "correct", ignore=shutil.ignore_patterns("__pycache__"))
    write_hostile_submission(root / "hostile")
    arguments = ["grade", "--impl", str(root / "correct"), "--impl", str(root / "hostile"), "--out", str(root / "out")]
    exit_code = main([*arguments, "--junit", str(root / "junit.xml"), "--timeout", "15", "--test-timeout", "2"])
    return root, exit_code


def results(root, name):
    return json.loads((root / "out" / name / "results.json").read_text())


def test_the_correct_submission_gets_every_point(graded):
    root, exit_code = graded
    assert exit_code == 0
    correct = results(root, "correct")
    assert correct["score"] == pytest.approx(sum(stage.points for stage in stages()))
    assert all(test["status"] == "passed" for test in correct["tests"])


def test_each_attack_costs_only_its_own_stage(graded):
    hostile = results(graded[0], "hostile")["extra_data"]["stages"]
    assert hostile["s01_tokenizer"]["score"] == 0 and "RuntimeError" in json.dumps(
        results(graded[0], "hostile")["tests"][0]
    )
    assert hostile["s02_batches"]["score"] == 0
    assert hostile["s03_bigram"]["score"] == 0 and "ended the process" in hostile["s03_bigram"]["problem"]
    assert 0 < hostile["s04_training"]["score"] < 15
    assert (
        hostile["s05_averaging"]["score"] == 0
        and "replaced parts of the test machinery" in hostile["s05_averaging"]["problem"]
    )


def test_the_results_are_in_gradescopes_format(graded):
    report = results(graded[0], "hostile")
    assert set(report) >= {"score", "output", "tests"}
    for test in report["tests"]:
        assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(test)
    assert sum(test["max_score"] for test in report["tests"]) == pytest.approx(
        sum(stage.points for stage in stages()), abs=0.01
    )
    assert any(test["visibility"] == "after_published" for test in report["tests"]), "hidden tests are graded"


def test_a_csv_summary_and_junit_xml_are_written(graded):
    root, _ = graded
    rows = list(csv.DictReader((root / "out" / "summary.csv").open()))
    assert [row["submission"] for row in rows] == ["correct", "hostile"]
    suites = ElementTree.parse(root / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == 2 * len(stages())
