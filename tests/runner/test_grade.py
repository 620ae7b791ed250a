"""`kata grade` against the hostile catalog (tests/runner/hostile.py), graded beside a correct submission:
no attack earns a point, the correct submission keeps every point, nothing outside the sandboxes changes,
no process outlives the grader, and every file written is valid and bounded."""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from hostile import ATTACKS, CANARY, graded_code_processes, write_hostile_submissions

from kata.cli import main
from kata.grading.outputs import MAX_RESULTS_BYTES
from kata.manifest import HIDDEN_TESTS, REPOSITORY_ROOT, stage_named, stages

pytestmark = [
    pytest.mark.meta,
    pytest.mark.end_to_end,
    pytest.mark.xdist_group("grade"),
]  # one worker grades once for all
FULL_MARKS = sum(stage.points for stage in stages())


def tree_digest(*places: Path) -> str:
    digest = hashlib.sha256()
    for place in places:
        for path in sorted([place, *place.rglob("*")] if place.is_dir() else [place]):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path).encode() + path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def graded(tmp_path_factory):
    """The hostile folders graded with short test limits (time attacks cost time), while a second grader
    grades the correct submission at the same time into the same output folder with the default limits,
    which never fail correct code under load."""
    root = tmp_path_factory.mktemp("grading")
    Path(CANARY).unlink(missing_ok=True)
    shutil.copytree(REPOSITORY_ROOT / "solutions", root / "correct", ignore=shutil.ignore_patterns("__pycache__"))
    hostile = write_hostile_submissions(root)
    guarded = [REPOSITORY_ROOT / "tests" / "hidden", REPOSITORY_ROOT / "data", REPOSITORY_ROOT / "solutions"]
    guarded += [root / "correct", *(REPOSITORY_ROOT / "tests").glob("*.py")]
    before = tree_digest(*guarded)
    out = ["--out", str(root / "out")]
    (root / "elsewhere").mkdir()  # where the second grader starts: it must write nothing there
    beside = subprocess.Popen(
        [sys.executable, "-m", "kata", "grade", f"--impl={root / 'correct'}", *out, "--jobs", "1"],
        cwd=root / "elsewhere",
    )
    arguments = ["grade", *(f"--impl={folder}" for folder, _ in hostile), *out, "--junit", str(root / "junit.xml")]
    exit_code = main([*arguments, "--test-timeout", "3", "--jobs", "2"])
    assert beside.wait() == 0
    time.sleep(4)  # a detached writer would have written by now
    return root, exit_code, hostile, before == tree_digest(*guarded)


def results(root, name):
    return json.loads((root / "out" / name / "results.json").read_text())


def test_the_catalog_covers_every_class_of_attack():
    assert len(ATTACKS) >= 30
    kinds = {attack.kind for attack in ATTACKS}
    assert kinds >= {"copy", "judge", "trust", "writes", "processes", "memory", "time", "output", "environment"}
    assert len({attack.name for attack in ATTACKS}) == len(ATTACKS)


def test_the_correct_submission_gets_every_point(graded):
    root, exit_code, _, _ = graded
    assert exit_code == 0
    correct = results(root, "correct")
    assert correct["score"] == pytest.approx(FULL_MARKS)
    assert all(test["status"] == "passed" for test in correct["tests"])


def test_no_attack_earns_a_point(graded):
    root, _, hostile, _ = graded
    for folder, placed in hostile:
        report = results(root, folder.name)
        by_stage = report["extra_data"]["stages"]
        for stage_name, attack in placed.items():
            assert by_stage[stage_name]["score"] == 0, f"{attack.name} ({attack.what}) earned {by_stage[stage_name]}"
            if attack.reason:  # said of this stage: another stage's attack in the folder may say the same
                number = stage_named(stage_name).number
                lines = report["output"].splitlines()
                said = [line for line in lines if line.startswith(f"Stage {number} ·") or stage_name in line]
                said += [test["output"] for test in report["tests"] if stage_name in test["tags"]]
                assert attack.reason in "\n".join(said), f"{attack.name}: no result says {attack.reason!r}"


def test_no_hidden_test_reaches_a_visible_output(graded):
    """Graded code can read its tree; the public tests run in one without the hidden tests."""
    root, _, hostile, _ = graded
    sources = [path.read_text() for path in HIDDEN_TESTS.glob("*.py")]
    hidden_names = [name for source in sources for name in re.findall(r"^def (test_\w+)", source, re.MULTILINE)]
    assert hidden_names
    for folder, _ in hostile:
        for test in results(root, folder.name)["tests"]:
            if test["visibility"] == "visible":
                assert not any(name in test["output"] for name in hidden_names), f"{folder.name}: {test['name']}"


def test_no_output_shows_where_the_grader_installed_its_packages(graded):
    root, _, hostile, _ = graded
    for name in ["correct", *(folder.name for folder, _ in hostile)]:
        assert sysconfig.get_paths()["purelib"] not in (root / "out" / name / "results.json").read_text()


def test_nothing_outside_the_sandboxes_changed(graded):
    root, _, _, unchanged = graded
    assert unchanged, "a hostile submission changed the tests, the corpus, the references or another submission"
    assert not Path(CANARY).exists(), f"a hostile submission wrote {CANARY}"
    assert results(root, "correct")["score"] == pytest.approx(FULL_MARKS)
    written = [path.name for path in (root / "elsewhere").iterdir()]
    assert not written, f"a grade wrote {written} into the folder it was started from, outside --out"


@pytest.mark.skipif(os.geteuid() != 0, reason="graded code runs as users of its own only when the grader is root")
def test_no_process_outlives_the_grader(graded):
    assert not graded_code_processes()


def test_every_file_written_is_valid_and_bounded(graded):
    root, _, hostile, _ = graded
    for name in ["correct", *(folder.name for folder, _ in hostile)]:
        path = root / "out" / name / "results.json"
        assert path.stat().st_size <= MAX_RESULTS_BYTES
        report = json.loads(path.read_text())
        for test in report["tests"]:
            assert {"name", "score", "max_score", "output", "visibility", "status"} <= set(test)
        assert sum(test["max_score"] for test in report["tests"]) == pytest.approx(FULL_MARKS, abs=0.01)
        assert any(test["visibility"] == "after_published" for test in report["tests"]), "hidden tests are graded"
        assert str(root) not in path.read_text(), "no path of the grading machine reaches the student"
    suites = ElementTree.parse(root / "junit.xml").getroot().findall("testsuite")
    assert len(suites) == len(hostile) * len(stages())
    rows = list(csv.DictReader((root / "out" / "summary.csv").open()))
    assert sorted(row["submission"] for row in rows) == sorted(["correct", *(folder.name for folder, _ in hostile)])
