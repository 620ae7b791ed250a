"""`kata handout` and `kata classroom`: the learner's release holds no answer, the commands its README and the
stubs name work in it as written, and GitHub Classroom's workflow grades each stage for its points."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kata.cli import main
from kata.handout import CLASSROOM_WORKFLOW, ReleaseError, write_handout
from kata.manifest import HIDDEN_TESTS, REPOSITORY_ROOT, stages
from kata.workspace import PRISTINE_STUBS

pytestmark = [
    pytest.mark.meta,
    pytest.mark.end_to_end,
    pytest.mark.xdist_group("handout"),
]  # one handout for the module

# A command a learner types, as the README or a stub writes it: what a bare `kata` or `pytest` would be
# "command not found" without an activated environment.
COMMAND = re.compile(r"`((?:\.venv/bin/)?(?:kata|pytest)(?: [^`]*)?)`")


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def handout(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("release") / "gpt-kata"
    assert main(["handout", str(folder)]) == 0
    return folder


def release_files(folder: Path) -> dict[str, Path]:
    return {path.relative_to(folder).as_posix(): path for path in folder.rglob("*") if path.is_file()}


def test_the_handout_holds_no_solution_and_no_hidden_or_maintainer_test(handout):
    files = release_files(handout)
    assert not [
        name for name in files if name.startswith(("solutions/", "tests/hidden/", "tests/meta/", "tests/runner/"))
    ]
    assert "tests/catalog.py" not in files
    texts = [path.read_bytes() for path in files.values()]
    answers = [*(REPOSITORY_ROOT / "solutions").glob("*.py"), *HIDDEN_TESTS.glob("*.py")]
    for answer in answers:
        assert not any(answer.read_bytes() in text for text in texts), f"the handout holds {answer.name}"
    assert not {"kata/grading/oracles.py", "kata/grading/probes.py"} & set(files), "the grader's own answers"
    hidden = [path.stem for path in HIDDEN_TESTS.glob("*.py")]
    assert not any(name.encode() in text for name in hidden for text in texts), "not even the hidden tests' names"


def test_the_handout_starts_from_the_original_stubs_with_the_public_tests_and_the_corpus(handout):
    files = release_files(handout)
    for stage in stages():
        assert (handout / "exercises" / stage.module_file).read_text() == (
            PRISTINE_STUBS / stage.module_file
        ).read_text()
        assert f"tests/test_{stage.name}.py" in files
    assert (handout / "data" / "tinyshakespeare.txt").read_bytes() == (
        REPOSITORY_ROOT / "data" / "tinyshakespeare.txt"
    ).read_bytes()
    assert {"README.md", "Makefile", "pyproject.toml", ".gitignore", "kata/stages.toml"} <= set(files)


def test_a_handout_goes_into_a_new_or_empty_folder_only(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not an empty folder"):
        write_handout(tmp_path)


def commands_named_in(text: str) -> set[str]:
    """The commands in `text`'s inline code and in its bash blocks (without their comments)."""
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.DOTALL)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    return set(COMMAND.findall(text)) | {line for line in lines if COMMAND.fullmatch(f"`{line}`")}


def test_the_readme_and_the_stubs_name_only_commands_that_exist_without_activating_anything(handout):
    texts = {"the handout's README.md": (handout / "README.md").read_text()}
    texts |= {f"kata/stubs/{path.name}": path.read_text() for path in sorted(PRISTINE_STUBS.glob("*.py"))}
    for name, text in texts.items():
        bare = sorted(command for command in commands_named_in(text) if not command.startswith(".venv/bin/"))
        assert not bare, f"{name} names {bare}: without an activated environment that is 'command not found'"
        assert commands_named_in(text), f"{name} names no command to check the work with"


def run_in(folder: Path, command: str, answer: str = "") -> subprocess.CompletedProcess:
    """`command` typed in `folder` as the README writes it, with the handout's own kata on the path."""
    environment = {**os.environ, "PYTHONPATH": str(folder), "COLUMNS": "200"}
    return subprocess.run(
        command, shell=True, cwd=folder, env=environment, input=answer, capture_output=True, text=True, timeout=300
    )


# The learner's loop, in the order a learner meets it, with the exit status and a phrase of the output.
LOOP = {
    ".venv/bin/kata check s01_tokenizer": (1, "s01_tokenizer.build_vocabulary is not implemented yet"),
    ".venv/bin/pytest -m s01_tokenizer": (1, "is not implemented yet (exercises/s01_tokenizer.py)"),
    ".venv/bin/kata hint s01_tokenizer": (0, "Hint 1 of"),
    ".venv/bin/kata solution s01_tokenizer": (1, "holds no reference solutions"),
}


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def learner(handout) -> dict[str, subprocess.CompletedProcess]:
    """What a learner sees typing the README's commands in the handout (run here, in set-up: they take a while)."""
    # `make learn` makes .venv/ with the kata installed from this folder; here the maintainer's environment
    # stands in for it (the set-up itself takes minutes), while PYTHONPATH makes the handout's kata the one run.
    (handout / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    runs = {command: run_in(handout, command) for command in LOOP}
    shutil.copy(REPOSITORY_ROOT / "solutions" / "s01_tokenizer.py", handout / "exercises")
    runs["solved: .venv/bin/kata check s01_tokenizer"] = run_in(handout, ".venv/bin/kata check s01_tokenizer")
    runs["reset"] = run_in(handout, ".venv/bin/kata reset s01_tokenizer", answer="y\n")
    others = commands_named_in((handout / "README.md").read_text()) - set(LOOP)
    for command in sorted(others):  # each exists as written: its --help answers
        runs[command] = run_in(handout, " ".join([*command.split()[:2], "--help"]))
    runs["make -n learn"] = run_in(handout, "make -n learn")
    return runs


@pytest.mark.parametrize("command", LOOP)
def test_the_readmes_commands_work_in_a_fresh_handout(handout, learner, command):
    assert f"`{command}`" in (handout / "README.md").read_text(), f"the README no longer shows {command}"
    exit_code, phrase = LOOP[command]
    run = learner[command]
    assert (run.returncode, phrase in run.stdout) == (exit_code, True), f"{command}:\n{run.stdout}{run.stderr}"


def test_a_solved_stage_passes_and_resets_to_the_packaged_stub_without_git(handout, learner):
    assert learner["solved: .venv/bin/kata check s01_tokenizer"].returncode == 0
    reset = learner["reset"]
    assert reset.returncode == 0 and "kept as .kata/backups/s01_tokenizer." in reset.stdout, reset.stdout + reset.stderr
    assert not (handout / ".git").exists()
    assert (handout / "exercises" / "s01_tokenizer.py").read_text() == (PRISTINE_STUBS / "s01_tokenizer.py").read_text()


def test_every_other_command_of_the_readme_exists_as_written(learner):
    others = {
        command: run for command, run in learner.items() if command.startswith(".venv/bin/") and command not in LOOP
    }
    assert len(others) >= 4, sorted(others)
    for command, run in others.items():
        assert run.returncode == 0, f"{command}:\n{run.stdout}{run.stderr}"
    dry_run = learner["make -n learn"]
    assert dry_run.returncode == 0 and ".venv/bin/kata" in dry_run.stdout, dry_run.stdout + dry_run.stderr


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def classroom(tmp_path_factory) -> dict:
    yaml = pytest.importorskip("yaml")  # a dev dependency: pip install -e ".[dev]"
    folder = tmp_path_factory.mktemp("classroom") / "assignment"
    assert main(["classroom", str(folder)]) == 0
    assert (folder / "exercises").is_dir() and not (folder / "solutions").exists(), "a new folder gets a handout"
    return yaml.safe_load((folder / CLASSROOM_WORKFLOW).read_text())


def test_the_classroom_workflow_runs_on_every_push(classroom):
    assert "push" in classroom["on"]  # quoted in the file: YAML 1.1 reads a bare `on` as true
    assert {"checks", "actions", "contents"} <= set(classroom["permissions"])
    (job,) = classroom["jobs"].values()
    assert job["runs-on"] == "ubuntu-latest"
    assert any(step.get("run") == "make .venv/installed" for step in job["steps"]), "the kata is set up once"


def test_the_classroom_workflow_grades_each_stage_for_the_manifests_points(classroom):
    (job,) = classroom["jobs"].values()
    graders = [step for step in job["steps"] if "autograding-command-grader" in step.get("uses", "")]
    assert [step["id"] for step in graders] == [stage.name for stage in stages()]
    for step, stage in zip(graders, stages(), strict=True):
        assert step["uses"] == "classroom-resources/autograding-command-grader@v1"
        assert set(step["with"]) == {"test-name", "command", "timeout", "max-score"}
        assert step["with"]["max-score"] == stage.points
        assert step["with"]["command"] == f".venv/bin/kata check {stage.name}"
        assert step["with"]["test-name"] == stage.label and 0 < step["with"]["timeout"] <= 60
    (reporter,) = [step for step in job["steps"] if "autograding-grading-reporter" in step.get("uses", "")]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"].split(",") == [stage.name for stage in stages()]
    # The reporter reads each grader's result from the variable <ID>_RESULTS.
    assert reporter["env"] == {
        f"{stage.name.upper()}_RESULTS": f"${{{{ steps.{stage.name}.outputs.result }}}}" for stage in stages()
    }
    assert job["steps"].index(reporter) == len(job["steps"]) - 1


def test_classroom_adds_to_a_handout_and_refuses_other_folders(handout, tmp_path):
    assert main(["classroom", str(handout)]) == 0
    assert (handout / CLASSROOM_WORKFLOW).is_file()
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["classroom", str(tmp_path)]) == 2
    assert not (tmp_path / CLASSROOM_WORKFLOW).exists()
