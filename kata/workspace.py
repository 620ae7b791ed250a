"""What the kata remembers for a learner (which hints were shown) and the files it restores.

Both live in .kata/ beside the learner's folder (for exercises/: the kata's root), never in git."""

import ast
import json
import shutil
import subprocess
import time
from pathlib import Path

from kata.manifest import REPOSITORY_ROOT, Stage


def state_folder(folder: Path) -> Path:
    return folder.parent / ".kata"


def next_hint(stage: Stage, folder: Path) -> tuple[int, str]:
    """The next hint of `stage` (1-based number, text) for the learner working in `folder`;
    after the last one, the last again."""
    state_file = state_folder(folder) / "state.json"
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    shown = state.setdefault("hints_shown", {}).get(stage.name, 0)
    number = min(shown + 1, len(stage.hints))
    state["hints_shown"][stage.name] = number
    state_file.parent.mkdir(exist_ok=True)
    state_file.write_text(json.dumps(state, indent=2), encoding="utf-8")
    return number, stage.hints[number - 1]


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
    """The original stub of `stage`: exercises/<stage>.py in the newest commit where it was still a stub."""
    relative = Path("exercises") / stage.module_file
    commits = _git("log", "--format=%H", "--", str(relative)).split()
    for commit in commits:
        source = _git("show", f"{commit}:{relative.as_posix()}")
        if is_stub(source):
            return source
    raise LookupError(f"no commit holds the original stub of {relative}; is this a git clone of the kata?")


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise LookupError(f"git could not read the kata's history ({error}); the original stubs come from it") from None


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
