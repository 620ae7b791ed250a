"""What the kata remembers for a learner (which hints were shown), the original stubs it restores, and
how to type its command.

The learner's state and backups live in .kata/ beside the learner's folder (for exercises/: the kata's
root), never in git. The original stubs ship inside the package (kata/stubs/), so `kata reset` works in a
handout or a zip download as well as in a clone."""

import ast
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from kata.implementation import display_path
from kata.manifest import REPOSITORY_ROOT, Stage, stages
from kata.stage_status import RecordedVerdicts

PRISTINE_STUBS = Path(__file__).with_name("stubs")


def state_folder(folder: Path) -> Path:
    return folder.parent / ".kata"


@dataclass(frozen=True)
class ShownHint:
    number: int  # 1-based, in the manifest's order
    text: str
    more: bool  # whether a hint of the stage is still unshown
    helps_with: str = ""  # the failing test class it was chosen for ("" when taken in order)


def next_hint(stage: Stage, folder: Path) -> ShownHint:
    """The next hint of `stage` for the learner working in `folder`: the first unshown one that helps with
    the stage's last recorded failure (a hint for its test class, or for the whole stage), else the first
    unshown one; when all were shown, the last that helps, again."""
    state_file = state_folder(folder) / "state.json"
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    state = state if isinstance(state, dict) else {}
    shown_by_stage = state.get("hints_shown") if isinstance(state.get("hints_shown"), dict) else {}
    shown = _numbers_shown(shown_by_stage.get(stage.name), len(stage.hints))
    failing_class = _test_class(RecordedVerdicts(folder).last_failure(stage))
    helping = [n for n, hint in enumerate(stage.hints, 1) if not hint.tests or failing_class in hint.tests]
    unshown = [n for n in range(1, len(stage.hints) + 1) if n not in shown]
    if unshown:
        number = next((n for n in helping if n in unshown), unshown[0])
    else:
        number = helping[-1] if helping else len(stage.hints)
    shown.add(number)
    state["hints_shown"] = {**shown_by_stage, stage.name: sorted(shown)}
    state_file.parent.mkdir(exist_ok=True)
    state_file.write_text(json.dumps(state, indent=2), encoding="utf-8")
    hint = stage.hints[number - 1]
    helps_with = failing_class if failing_class in hint.tests else ""
    return ShownHint(number, hint.text, more=len(shown) < len(stage.hints), helps_with=helps_with)


def _numbers_shown(recorded, count: int) -> set[int]:
    """The hint numbers shown so far: a list of them, or (as the kata kept it before) how many were shown."""
    if isinstance(recorded, int) and not isinstance(recorded, bool):
        recorded = list(range(1, recorded + 1))
    return {n for n in recorded if n in range(1, count + 1)} if isinstance(recorded, list) else set()


def _test_class(nodeid: str) -> str:
    """The test class in a test id (TestGenerate in tests/test_s03_bigram.py::TestGenerate::test_x); "" if none."""
    parts = nodeid.split("::")
    return parts[1] if len(parts) > 2 else ""


def is_stub(source: str) -> bool:
    """True when every function and method in `source` does nothing but raise NotImplementedError
    (after its docstring, and a super().__init__() call in a constructor)."""
    functions = [node for node in ast.walk(ast.parse(source)) if isinstance(node, ast.FunctionDef)]
    return bool(functions) and all(_raises_not_implemented(function) for function in functions)


def _raises_not_implemented(function: ast.FunctionDef) -> bool:
    last = function.body[-1]
    return (
        isinstance(last, ast.Raise)
        and isinstance(last.exc, ast.Call)
        and getattr(last.exc.func, "id", None) == "NotImplementedError"
    )


def pristine_stub(stage: Stage) -> str:
    """The original stub of `stage`, as the kata ships it (kata/stubs/, package data): no git needed."""
    path = PRISTINE_STUBS / stage.module_file
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LookupError(f"The kata ships no stub for {stage.name} ({path} is missing): reinstall the kata.") from None


def copy_pristine_stubs(folder: Path) -> Path:
    """A fresh learner's folder: every stage's original stub, written into `folder` (made if needed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for stage in stages():
        (folder / stage.module_file).write_text(pristine_stub(stage), encoding="utf-8")
    return folder


def kata_command(arguments: str) -> str:
    """How to type `kata ARGUMENTS` here: the kata's own .venv/bin/kata where `make` set one up (a bare
    `kata` is "command not found" until the environment is activated), else the `kata` on PATH."""
    launcher = REPOSITORY_ROOT / ".venv" / "bin" / "kata"
    return f"{display_path(launcher) if launcher.exists() else 'kata'} {arguments}"


def reset_stage(stage: Stage, folder: Path) -> Path | None:
    """Restore the stub of `stage` in `folder`; the learner's file is kept in .kata/backups/
    (returned, or None when there was no file)."""
    stub = pristine_stub(stage)
    path = folder / stage.module_file
    backup = None
    if path.exists():
        backups = state_folder(folder) / "backups"
        backups.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        backup = backups / f"{stage.name}.{stamp}.py"
        copies = 1
        while backup.exists():
            copies += 1
            backup = backups / f"{stage.name}.{stamp}-{copies}.py"
        shutil.copy2(path, backup)
    path.write_text(stub, encoding="utf-8")
    return backup
