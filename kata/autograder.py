"""Gradescope's autograder bundle (`kata autograder FILE.zip`) and what it runs for each submission.

Gradescope unpacks the zip into /autograder/source and runs its setup.sh once, when it builds the image.
For each submission it copies run_autograder to /autograder/ and runs it, which runs
`python -m kata.autograder`: the student's files are in /autograder/submission and the grade goes to
/autograder/results/results.json. The environment variable KATA_AUTOGRADER_ROOT moves /autograder, so
the bundle can be tried anywhere. The grading itself is `kata grade`'s, called by its command line.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from kata.grading.tree import MAX_NOTEBOOK_BYTES
from kata.handout import ReleaseError, content_bytes, release_files, render, torch_requirement
from kata.manifest import HIDDEN_TESTS, stages
from kata.messages import sentences
from kata.notebook import NOTEBOOK_FILE

ROOT_VARIABLE = "KATA_AUTOGRADER_ROOT"
DEFAULT_ROOT = "/autograder"
EXECUTABLES = {"setup.sh", "run_autograder"}
# Folders of a submitted repository that hold no work of the student's: kata/ holds the original stubs.
NOT_SEARCHED = {".git", ".venv", "kata", "tests", "__pycache__", "node_modules"}


def build_autograder(zip_path: Path) -> Path:
    """Write the bundle: setup.sh and run_autograder at the root, the kata, every test (hidden ones
    included), the corpus and the original stubs; no solutions."""
    if not any(HIDDEN_TESTS.glob("test_*.py")):
        raise ReleaseError(
            f"The bundle grades with the hidden tests too, and {HIDDEN_TESTS} holds none: run `kata autograder` "
            "in the kata's repository, not in a handout."
        )
    files = release_files(hidden_tests=True) | {
        "setup.sh": render("autograder/setup.sh", torch=torch_requirement()),
        "run_autograder": render("autograder/run_autograder"),
        "README.md": render("autograder/README.md"),
    }
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for relative, content in files.items():
            entry = zipfile.ZipInfo(relative)  # dated 1980-01-01: the same kata gives the same zip
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = (0o100755 if relative in EXECUTABLES else 0o100644) << 16
            bundle.writestr(entry, content_bytes(content))
    return zip_path


def find_stage_files(submission: Path) -> dict[str, Path]:
    """Each stage's file in the submission, by stage name: the one nearest the submission's top, whether it
    was uploaded on its own (s01_tokenizer.py) or inside a repository (exercises/s01_tokenizer.py). Links are
    never followed, so a submission cannot point the grader at files outside it."""
    wanted = {stage.module_file: stage.name for stage in stages()}
    candidates: dict[str, list[Path]] = {}
    for folder, subfolders, files in os.walk(submission):
        subfolders[:] = [name for name in subfolders if name not in NOT_SEARCHED]
        for name in files:
            path = Path(folder) / name
            if name in wanted and not path.is_symlink():
                candidates.setdefault(wanted[name], []).append(path)
    return {
        stage.name: min(candidates[stage.name], key=lambda path: (len(path.relative_to(submission).parts), str(path)))
        for stage in stages()
        if stage.name in candidates
    }


def find_notebook(submission: Path) -> Path | None:
    """The notebook nearest the submission's top (gpt_kata.ipynb first among those as near), for a student who
    worked in the notebook and uploaded it; never a link, a checkpoint copy, or one larger than kata grade reads."""
    found = []
    for folder, subfolders, files in os.walk(submission):
        subfolders[:] = [name for name in subfolders if name not in NOT_SEARCHED | {".ipynb_checkpoints"}]
        for name in files:
            path = Path(folder) / name
            if name.endswith(".ipynb") and not path.is_symlink() and path.stat().st_size <= MAX_NOTEBOOK_BYTES:
                found.append(path)

    def nearness(path: Path) -> tuple:
        return len(path.relative_to(submission).parts), path.name != NOTEBOOK_FILE, str(path)

    return min(found, key=nearness, default=None)


def grade(root: Path) -> int:
    """Grade root/submission into root/results/results.json; 1 when the grader itself failed (the results then
    say so, with a score of 0)."""
    submission, results = root / "submission", root / "results" / "results.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.unlink(missing_ok=True)  # only what this run writes counts
    found = find_stage_files(submission)
    notebook = None if found else find_notebook(submission)  # stage files first: a notebook's checks write them
    summary = _found_summary(submission, found, notebook)
    print(summary, flush=True)
    if not found and notebook is None:  # a grade of 0 the student can act on, not an error of the autograder
        _write_failure(
            results, summary, "Upload your stage files, your repository with exercises/ in it, or your notebook"
        )
        return 0
    with tempfile.TemporaryDirectory(prefix="kata-autograder-") as work:
        # Only the stage files, or the notebook, are copied: nothing else the student sent (a conftest.py, a
        # module named like a library) lies beside them to be imported.
        graded = Path(work) / ("submission.ipynb" if notebook else "submission")
        if notebook:
            shutil.copyfile(notebook, graded)
        else:
            graded.mkdir()
            for stage, path in found.items():
                shutil.copyfile(path, graded / f"{stage}.py")
        command = [sys.executable, "-m", "kata", "grade", "--impl", str(graded), "--json", str(results)]
        exit_code = subprocess.run(command, cwd=work).returncode
    if exit_code != 0 or not results.is_file():
        _write_failure(results, summary, f"The grader stopped with exit status {exit_code}: tell your instructor")
        return 1
    report = json.loads(results.read_text(encoding="utf-8"))
    report["output"] = f"{summary}\n\n{report.get('output', '')}".strip()
    results.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


def _found_summary(submission: Path, found: dict[str, Path], notebook: Path | None) -> str:
    if notebook is not None:
        return sentences(f"Graded the notebook {notebook.relative_to(submission).as_posix()}: no stage file was found")
    graded = ", ".join(path.relative_to(submission).as_posix() for path in found.values())
    missing = ", ".join(stage.module_file for stage in stages() if stage.name not in found)
    return sentences(
        f"Graded: {graded}" if graded else "No stage file was found in the submission",
        f"Not found, so not graded: {missing}" if missing else None,
    )


def _write_failure(results: Path, *parts: str) -> None:
    """A results.json Gradescope can show when nothing was graded: score 0, and why."""
    report = {"score": 0, "output": sentences(*parts), "tests": []}
    results.write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(grade(Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get(ROOT_VARIABLE, DEFAULT_ROOT))))
