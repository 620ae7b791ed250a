"""`kata autograder`: the Gradescope bundle, run end to end as Gradescope runs it, in a temporary root
(KATA_AUTOGRADER_ROOT): the references get full marks, the stubs 0, a hostile submission nothing it should not."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from kata import notebook
from kata.autograder import ROOT_VARIABLE, find_stage_files, grade
from kata.cli import main
from kata.grading import sandbox
from kata.manifest import HIDDEN_TESTS, REPOSITORY_ROOT, stages
from kata.workspace import copy_pristine_stubs, pristine_stub

pytestmark = [
    pytest.mark.meta,
    pytest.mark.end_to_end,
    pytest.mark.xdist_group("grade"),
]  # graders one after another (see test_grade.py)

FULL_MARKS = sum(stage.points for stage in stages())
FORGED = {"score": 1000, "output": "forged", "tests": []}


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    assert main(["autograder", str(path)]) == 0
    return path


def unpack(bundle: Path, source: Path) -> None:
    """As Gradescope does: the zip into source/, with the modes it records."""
    with zipfile.ZipFile(bundle) as archive:
        for entry in archive.infolist():
            path = Path(archive.extract(entry, source))
            path.chmod(stat.S_IMODE(entry.external_attr >> 16))


def write_hostile_submission(submission: Path) -> None:
    """A whole repository whose s01 forges the results at import, beside files that would make every test
    pass if the grader ever loaded them, and a link that points the grader at a file outside."""
    exercises = copy_pristine_stubs(submission / "exercises")
    forge = (
        "import json, os, pathlib\n"
        f"results = pathlib.Path(os.environ.get({ROOT_VARIABLE!r}, '/autograder')) / 'results' / 'results.json'\n"
        f"results.write_text(json.dumps({FORGED!r}))\n"
        "(results.parent / 'forged').touch()  # the attack ran\n"
    )
    stub = exercises / "s01_tokenizer.py"
    stub.write_text(forge + stub.read_text())
    (submission / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.hookimpl(wrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
        "    report = yield\n    report.outcome = 'passed'\n    return report\n"
    )
    (exercises / "torch.py").write_text("raise SystemExit('a module named like a library was imported')\n")
    (exercises / "s02_batches.py").unlink()
    (exercises / "s02_batches.py").symlink_to(REPOSITORY_ROOT / "solutions" / "s02_batches.py")


def write_notebook_submission(submission: Path) -> None:
    """A student who worked in the notebook uploads it, with its checkpoint copy (the stubs), and nothing else."""
    sources = {stage.name: (REPOSITORY_ROOT / "solutions" / stage.module_file).read_text() for stage in stages()}
    submission.mkdir()
    nbformat.write(notebook.build_notebook(sources, kata_source="unused"), submission / notebook.NOTEBOOK_FILE)
    (submission / ".ipynb_checkpoints").mkdir()
    stubs = {stage.name: pristine_stub(stage) for stage in stages()}
    nbformat.write(notebook.build_notebook(stubs, kata_source="unused"), submission / ".ipynb_checkpoints" / "x.ipynb")


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def graded(bundle, tmp_path_factory) -> dict[str, tuple[dict, Path]]:
    """Each submission graded by the bundle's run_autograder in a root of its own (in set-up: it takes a while)."""
    submissions = {
        "references": lambda folder: shutil.copytree(
            REPOSITORY_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__")
        ),
        "stubs": copy_pristine_stubs,
        "hostile": write_hostile_submission,
        "notebook": write_notebook_submission,
    }
    results = {}
    for name, write in submissions.items():
        root = tmp_path_factory.mktemp(f"autograder-{name}")
        unpack(bundle, root / "source")
        shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does
        write(root / "submission")
        # setup.sh's .venv stands in for the maintainer's environment (installing torch takes minutes).
        environment = {
            **os.environ,
            ROOT_VARIABLE: str(root),
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        }
        run = subprocess.run(
            [root / "run_autograder"], cwd=root, env=environment, capture_output=True, text=True, timeout=600
        )
        assert run.returncode == 0, f"{name}: run_autograder failed:\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
        results[name] = json.loads((root / "results" / "results.json").read_text()), root / "results"
    return results


def test_the_bundle_has_gradescopes_layout_every_test_and_no_solution(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {entry.filename: stat.S_IMODE(entry.external_attr >> 16) for entry in archive.infolist()}
        texts = [archive.read(name) for name in names]
    assert {"setup.sh", "run_autograder", "pyproject.toml", "kata/stages.toml", "data/tinyshakespeare.txt"} <= names
    assert modes["setup.sh"] & modes["run_autograder"] & stat.S_IXUSR
    for stage in stages():
        assert f"tests/test_{stage.name}.py" in names and f"exercises/{stage.module_file}" in names
    assert {f"tests/hidden/{path.name}" for path in HIDDEN_TESTS.glob("test_*.py")} <= names
    assert not [name for name in names if name.startswith(("solutions/", "tests/meta/", "tests/runner/"))]
    for reference in (REPOSITORY_ROOT / "solutions").glob("*.py"):
        assert not any(reference.read_bytes() in text for text in texts), f"the bundle holds {reference.name}"


def test_setup_installs_the_python_dependencies_and_bubblewrap_where_it_can(bundle):
    with zipfile.ZipFile(bundle) as archive:
        setup = archive.read("setup.sh").decode()
    assert "apt-get install" in setup and "bubblewrap ||" in setup, "bubblewrap where it can be had"
    assert "-m venv .venv" in setup and '-e ".[notebook]"' in setup  # the notebook extra reads a notebook
    subprocess.run(["bash", "-n"], input=setup, text=True, check=True)  # it parses


def test_the_references_get_full_marks_with_the_hidden_tests(graded):
    references, _ = graded["references"]
    assert references["score"] == pytest.approx(FULL_MARKS)
    assert all(test["status"] == "passed" for test in references["tests"])
    assert any(test["visibility"] == "after_published" for test in references["tests"]), "hidden tests are graded"
    assert references["output"].startswith("Graded: s01_tokenizer.py, s02_batches.py,"), "uploaded on their own"


def test_a_notebook_uploaded_alone_is_graded_as_its_stage_files(graded):
    report, _ = graded["notebook"]
    assert report["score"] == pytest.approx(FULL_MARKS), report["output"]
    assert report["output"].startswith("Graded the notebook gpt_kata.ipynb: no stage file was found.")


def test_the_stubs_get_0(graded):
    stubs, _ = graded["stubs"]
    assert stubs["score"] == 0 and stubs["tests"]
    assert all(test["status"] == "failed" for test in stubs["tests"])


def test_a_hostile_submission_gets_nothing_it_should_not(graded):
    hostile, folder = graded["hostile"]
    if sandbox.detect().sandboxed:
        assert not (folder / "forged").exists(), "the sandbox keeps graded code from the results folder"
    else:
        assert (folder / "forged").exists(), "without a sandbox the forgery runs, and is overwritten"
    assert hostile != FORGED and hostile["score"] == 0, hostile["output"]
    assert all(test["status"] == "failed" for test in hostile["tests"])
    assert "Not found, so not graded: s02_batches.py" in hostile["output"], "a link is never followed"


def test_only_the_stage_files_nearest_the_top_are_graded(tmp_path):
    copy_pristine_stubs(tmp_path / "repository" / "kata" / "stubs")  # the kata's own copy: never a submission
    copy_pristine_stubs(tmp_path / "repository" / "exercises")
    (tmp_path / "repository" / "s03_bigram.py").write_text("# uploaded on its own\n")
    found = find_stage_files(tmp_path / "repository")
    assert found["s01_tokenizer"] == tmp_path / "repository" / "exercises" / "s01_tokenizer.py"
    assert found["s03_bigram"] == tmp_path / "repository" / "s03_bigram.py"
    assert list(found) == [stage.name for stage in stages()]


def test_a_submission_without_stage_files_gets_0_and_says_what_to_upload(tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "notes.txt").write_text("nothing here")
    assert grade(tmp_path) == 0
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    upload = "Upload your stage files, your repository with exercises/ in it, or your notebook"
    assert results["score"] == 0 and upload in results["output"]
