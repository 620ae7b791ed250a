"""The learner's release of the kata (`kata handout DIR`) and its GitHub Classroom workflow (`kata classroom DIR`).

A handout holds what a learner needs and nothing that gives the answers away: the original stubs, the
public tests and the helpers they import, the kata package, the corpus, a learner's README and its
set-up; never solutions/, tests/hidden/, the maintainer's tests or the catalog of edits to the references.
The Gradescope bundle (kata/autograder.py) is built from the same files plus the hidden tests.
"""

import importlib.metadata
import json
import shutil
import string
from pathlib import Path

from kata.manifest import HIDDEN_TESTS, REPOSITORY_ROOT, stage_table_markdown, stages
from kata.workspace import pristine_stub

TEMPLATES = Path(__file__).with_name("templates")
# tests/catalog.py edits copies of the references for the maintainer's tier: of no use without them.
MAINTAINER_ONLY_TEST_HELPERS = {"catalog.py"}
# The grader's own computation of every stage's answers (`kata grade`'s check): a solution in all but name.
GRADER_ONLY = {"kata/grading/oracles.py", "kata/grading/probes.py"}
CLASSROOM_WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
# Minutes one stage's check may take in GitHub Classroom (a stage takes seconds; set-up is a step of its own).
CLASSROOM_TIMEOUT_MINUTES = 10


class ReleaseError(Exception):
    """A handout or a bundle cannot be written; the message says why and what to do."""


class _Template(string.Template):
    delimiter = "@@"  # the templates are shell, make and YAML files, all full of $


def render(template: str, **values: str) -> str:
    """The template kata/templates/`template` with its @@names replaced by `values`."""
    return _Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(values)


def torch_requirement() -> str:
    """The torch a release installs: the one this kata runs on now, which its time limits were measured with."""
    return "torch==" + importlib.metadata.version("torch").split("+")[0]


def release_files(*, hidden_tests: bool) -> dict[str, Path | str]:
    """What every release of the kata holds, by path in the release: a file to copy, or the text to write."""
    files: dict[str, Path | str] = {
        "pyproject.toml": REPOSITORY_ROOT / "pyproject.toml",
        "data/tinyshakespeare.txt": REPOSITORY_ROOT / "data" / "tinyshakespeare.txt",
    }
    package = REPOSITORY_ROOT / "kata"
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(REPOSITORY_ROOT).as_posix()
        if path.is_file() and "__pycache__" not in path.parts and (hidden_tests or relative not in GRADER_ONLY):
            files[relative] = path
    if not hidden_tests:
        files["kata/reference_runs.json"] = _without_hidden_tests(REPOSITORY_ROOT / "kata" / "reference_runs.json")
    for path in sorted((REPOSITORY_ROOT / "tests").glob("*.*")):  # the tests, their helpers and data
        if path.is_file() and path.name not in MAINTAINER_ONLY_TEST_HELPERS:
            files[f"tests/{path.name}"] = path
    if hidden_tests:
        for path in sorted(HIDDEN_TESTS.glob("*.py")):
            files[f"tests/hidden/{path.name}"] = path
    for stage in stages():
        files[f"exercises/{stage.module_file}"] = pristine_stub(stage)
    return files


def _without_hidden_tests(path: Path) -> str:
    """The references' recorded runs, less the hidden tests (even their names stay with the instructor)."""
    recorded = json.loads(path.read_text(encoding="utf-8"))
    for key in ("seconds", "symbols"):
        recorded[key] = {nodeid: value for nodeid, value in recorded[key].items() if "/hidden/" not in nodeid}
    return json.dumps(recorded, indent=1) + "\n"


def content_bytes(content: Path | str) -> bytes:
    return content.read_bytes() if isinstance(content, Path) else content.encode("utf-8")


def write_handout(destination: Path) -> Path:
    """Write the learner's release into `destination`, a new or empty folder."""
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise ReleaseError(f"{destination} is not an empty folder: a handout goes into a new or empty one.")
    files = release_files(hidden_tests=False) | {
        "README.md": render("handout/README.md", stage_table=stage_table_markdown()),
        "Makefile": render("handout/Makefile", torch=torch_requirement()),
        ".gitignore": render("handout/gitignore"),
    }
    for relative, content in files.items():
        path = destination / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, path)
        else:
            path.write_text(content, encoding="utf-8")
    return destination


def is_handout(folder: Path) -> bool:
    return (folder / "kata" / "stages.toml").is_file() and not (folder / "solutions").exists()


def classroom_workflow() -> str:
    """GitHub Classroom's workflow: one command grader per stage, worth the manifest's points, and the reporter."""
    steps, environment = [], []
    for stage in stages():
        label = json.dumps(stage.label, ensure_ascii=False)  # a JSON string is a valid YAML one
        steps += [
            f"      - name: {label}",
            f"        id: {stage.name}",
            "        uses: classroom-resources/autograding-command-grader@v1",
            "        with:",
            f"          test-name: {label}",
            f"          command: .venv/bin/kata check {stage.name}",
            f"          timeout: {CLASSROOM_TIMEOUT_MINUTES}",
            f"          max-score: {stage.points}",
        ]
        environment.append(f'          {stage.name.upper()}_RESULTS: "${{{{ steps.{stage.name}.outputs.result }}}}"')
    return render(
        "classroom.yml",
        grading_steps="\n".join(steps),
        reporter_environment="\n".join(environment),
        runners=",".join(stage.name for stage in stages()),
    )


def write_classroom(folder: Path) -> Path:
    """Add the GitHub Classroom workflow to the handout in `folder` (made first when the folder is new or
    empty); returns the workflow's path."""
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        write_handout(folder)
    elif not is_handout(folder):
        raise ReleaseError(
            f"{folder} holds no handout: name a new folder, or one that `kata handout` wrote (it has kata/ and "
            "no solutions/)."
        )
    path = folder / CLASSROOM_WORKFLOW
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(classroom_workflow(), encoding="utf-8")
    return path
