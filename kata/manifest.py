"""The ordered stage registry, read from stages.toml (the one manifest of the kata)."""

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("stages.toml")
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
HIDDEN_TESTS = REPOSITORY_ROOT / "tests" / "hidden"


@dataclass(frozen=True)
class Stage:
    number: int
    name: str
    title: str
    symbols: tuple[str, ...]
    points: int
    prerequisites: tuple[str, ...]
    lecture: str
    hints: tuple[str, ...]

    @property
    def module_file(self) -> str:
        """The file a learner edits, relative to an implementation folder."""
        return f"{self.name}.py"

    @property
    def test_file(self) -> Path:
        return REPOSITORY_ROOT / "tests" / f"test_{self.name}.py"

    def test_files(self, include_hidden: bool = False) -> list[Path]:
        """The stage's public test file and, for grading, its hidden ones (tests/hidden/test_<name>*.py)."""
        hidden = sorted(HIDDEN_TESTS.glob(f"test_{self.name}*.py")) if include_hidden else []
        return [self.test_file, *hidden]

    def owns_test_file(self, path: str | Path) -> bool:
        return Path(path).name.startswith(f"test_{self.name}")

    @property
    def marker(self) -> str:
        return self.name

    @property
    def label(self) -> str:
        return f"Stage {self.number} · {self.title}"


@cache
def stages() -> tuple[Stage, ...]:
    entries = tomllib.loads(MANIFEST_PATH.read_text(encoding="utf-8"))["stage"]
    return tuple(
        Stage(
            number=number,
            name=entry["name"],
            title=entry["title"],
            symbols=tuple(entry["symbols"]),
            points=entry["points"],
            prerequisites=tuple(entry["prerequisites"]),
            lecture=entry["lecture"],
            hints=tuple(entry["hints"]),
        )
        for number, entry in enumerate(entries, start=1)
    )


def stage_named(name: str) -> Stage:
    """The stage called `name`; also accepts its number ("3") or its name without prefix ("bigram")."""
    for stage in stages():
        if name in (stage.name, str(stage.number), *stage.name.split("_", 1)):
            return stage
    known = ", ".join(stage.name for stage in stages())
    raise KeyError(f"no stage called {name!r}; the stages are {known}")


def stage_of_test_file(path: str | Path) -> Stage | None:
    return next((stage for stage in stages() if stage.owns_test_file(path)), None)


def stage_names() -> tuple[str, ...]:
    return tuple(stage.name for stage in stages())


def stage_table_markdown() -> str:
    """The README's stage table, generated from the manifest."""
    rows = ["| # | stage | you build | lecture section | points |", "|---|---|---|---|---|"]
    for stage in stages():
        rows.append(f"| {stage.number} | `{stage.name}` | {stage.title} | {stage.lecture} | {stage.points} |")
    return "\n".join(rows)
