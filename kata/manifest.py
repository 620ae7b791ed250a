"""The ordered stage registry and the training presets, read from stages.toml (the one manifest of
the kata) and validated when loaded: a mistake in the file is reported with how to fix it, never as
a KeyError deep inside a run."""

import difflib
import math
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

MANIFEST_PATH = Path(__file__).with_name("stages.toml")
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
HIDDEN_TESTS = REPOSITORY_ROOT / "tests" / "hidden"
FORMAT_VERSION = 1  # the `format = N` line of stages.toml this kata reads
MODEL_KINDS = ("bigram", "gpt")
GPT_FIELDS = ("n_embd", "n_head", "n_layer", "dropout")  # GPTConfig fields a preset sets (besides the vocabulary's)


class ManifestError(ValueError):
    """stages.toml is not what the kata can read; the message lists every problem and its fix."""


@dataclass(frozen=True)
class Hint:
    text: str
    tests: tuple[str, ...] = ()  # the test classes it helps with, e.g. ("TestGenerate",); none: the whole stage


@dataclass(frozen=True)
class Stage:
    number: int
    name: str
    title: str
    symbols: tuple[str, ...]
    points: int
    prerequisites: tuple[str, ...]
    lecture: str
    hints: tuple[Hint, ...]

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


@dataclass(frozen=True)
class Preset:
    """One `kata train` recipe: the model, the stages it trains with, and the schedule."""

    name: str
    description: str
    model: str  # one of MODEL_KINDS
    stages: tuple[str, ...]  # must pass before training
    batch_size: int
    block_size: int
    steps: int
    lr: float
    eval_interval: int
    eval_iters: int
    final_eval_iters: int  # a steadier figure at the end of the run
    optional_stages: tuple[str, ...] = ()  # used when they pass (stage 9's fast attention)
    min_lr: float | None = None  # cosine decay from lr to min_lr after the warm-up; None: constant lr
    warmup_steps: int = 0
    weight_decay: float = 0.01  # AdamW's
    beta2: float = 0.999  # AdamW's second-moment decay
    gpt: dict = field(default_factory=dict)  # GPTConfig fields (GPT_FIELDS)


@dataclass(frozen=True)
class Manifest:
    stages: tuple[Stage, ...]
    presets: dict[str, Preset]


# What each entry may hold: key -> (type check, what the value must be, required?)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _is_text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_texts(value) -> bool:
    return isinstance(value, list) and all(_is_text(item) for item in value)


def _is_hint(value) -> bool:
    if isinstance(value, dict):
        tests = value.get("tests")
        well_named = _is_texts(tests) and tests and all(re.fullmatch(r"Test\w+", test) for test in tests)
        return set(value) == {"text", "tests"} and _is_text(value["text"]) and well_named
    return _is_text(value)


def _is_positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_positive_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value > 0


def _is_fraction(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1


STAGE_KEYS = {
    "name": (lambda v: isinstance(v, str) and re.fullmatch(r"s\d\d_[a-z0-9_]+", v), "a module name like s03_bigram"),
    "title": (_is_text, "a short title"),
    "symbols": (lambda v: _is_texts(v) and v and all(_IDENTIFIER.match(s) for s in v), "a list of Python names"),
    "points": (_is_positive_int, "a whole number above 0"),
    "prerequisites": (_is_texts, 'a list of earlier stage names (or [] for none), e.g. ["s07_transformer"]'),
    "lecture": (_is_text, "the lecture section, e.g. 'training the bigram model (34:53)'"),
    "hints": (
        lambda v: isinstance(v, list) and v and all(map(_is_hint, v)),
        'a list of at least one hint: text, or { text = "...", tests = ["TestGenerate"] } for the tests it helps with',
    ),
}
PRESET_KEYS = {
    "name": (lambda v: isinstance(v, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", v), "a name like gpt-cpu"),
    "description": (_is_text, "one line on what the preset trains"),
    "model": (lambda v: v in MODEL_KINDS, " or ".join(f'"{kind}"' for kind in MODEL_KINDS)),
    "stages": (lambda v: _is_texts(v) and v, "a list of the stage names training needs"),
    "optional_stages": (_is_texts, "a list of stage names used when they pass"),
    "batch_size": (_is_positive_int, "a whole number above 0"),
    "block_size": (_is_positive_int, "a whole number above 0"),
    "steps": (_is_positive_int, "a whole number above 0"),
    "lr": (_is_positive_number, "a number above 0"),
    "min_lr": (_is_positive_number, "a number above 0, at most lr"),
    "warmup_steps": (_is_count, "a whole number, 0 or more, below steps"),
    "weight_decay": (lambda v: _is_fraction(v), "a number from 0 up to (not including) 1"),
    "beta2": (lambda v: _is_fraction(v) and v > 0, "a number between 0 and 1"),
    "eval_interval": (_is_positive_int, "a whole number above 0"),
    "eval_iters": (_is_positive_int, "a whole number above 0"),
    "final_eval_iters": (_is_positive_int, "a whole number above 0"),
    "gpt": (lambda v: isinstance(v, dict), f"a table of GPTConfig fields ({', '.join(GPT_FIELDS)})"),
}
PRESET_OPTIONAL = {"optional_stages", "min_lr", "warmup_steps", "weight_decay", "beta2", "gpt"}
TOP_LEVEL_KEYS = ("format", "preset", "stage")


def parse_manifest(text: str, source: str = "kata/stages.toml") -> Manifest:
    """The stages and presets in `text`; raises ManifestError listing every problem found."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ManifestError(f"{source} is not valid TOML: {error}. Fix that line and try again.") from None
    problems = _top_level_problems(document)
    entries, preset_entries = document.get("stage", []), document.get("preset", [])
    problems += [problem for number, entry in enumerate(entries, 1) for problem in _entry_problems(entry, number)]
    if isinstance(entries, list) and isinstance(preset_entries, list):
        problems += _stage_order_problems(entries)
        for number, entry in enumerate(preset_entries, start=1):
            problems += _preset_problems(entry, number, entries)
        problems += _duplicates("preset", preset_entries)
    if problems:
        raise ManifestError(
            f"{source} has {counted(len(problems), 'problem')}:\n" + "\n".join(f"  - {p}" for p in problems)
        )
    stages = tuple(_stage(number, entry) for number, entry in enumerate(entries, start=1))
    return Manifest(stages, {entry["name"]: _preset(entry) for entry in document.get("preset", [])})


def counted(number: int, noun: str) -> str:
    """ "1 step", "2,000 steps": the number and its noun, plural unless it is one."""
    return f"{number:,} {noun}" + ("" if number == 1 else "s")


def _top_level_problems(document: dict) -> list[str]:
    problems = [
        _unknown_key(key, TOP_LEVEL_KEYS, "the file's top level") for key in document if key not in TOP_LEVEL_KEYS
    ]
    version = document.get("format")
    if version is None:
        problems.append(f"The first line must say which format the file is in: add `format = {FORMAT_VERSION}`.")
    elif version != FORMAT_VERSION:
        problems.append(
            f"The file says `format = {version!r}`, but this kata reads format {FORMAT_VERSION}: update the kata "
            f"(git pull), or write the file in format {FORMAT_VERSION}."
        )
    for key in ("stage", "preset"):
        if key in document and not (
            isinstance(document[key], list) and all(isinstance(e, dict) for e in document[key])
        ):
            problems.append(f"`{key}` must be a list of [[{key}]] tables, one per {key}.")
    if not document.get("stage"):
        problems.append("The file defines no stage: add at least one [[stage]] table.")
    return problems


def _unknown_key(key: str, allowed, where: str) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    guess = f" Did you mean `{close[0]}`?" if close else ""
    return f"{where} has an unknown key `{key}`.{guess} The keys it may have are: {', '.join(allowed)}."


def _check_fields(entry: dict, kinds: dict, optional: set[str], where: str) -> list[str]:
    problems = [_unknown_key(key, list(kinds), where) for key in entry if key not in kinds]
    for key, (is_valid, wanted) in kinds.items():
        if key not in entry:
            if key not in optional:
                problems.append(f"{where} has no `{key}`: add it ({wanted}).")
        elif not is_valid(entry[key]):
            problems.append(f"{where} has `{key} = {entry[key]!r}`, but it must be {wanted}.")
    return problems


def _where(kind: str, number: int, entry: dict) -> str:
    name = entry.get("name")
    return f"[[{kind}]] number {number}" + (f" ({name})" if isinstance(name, str) else "")


def _entry_problems(entry, number: int) -> list[str]:
    return _check_fields(entry, STAGE_KEYS, set(), _where("stage", number, entry)) if isinstance(entry, dict) else []


def _stage_order_problems(entries: list) -> list[str]:
    problems = _duplicates("stage", entries)
    named = [entry for entry in entries if isinstance(entry, dict) and isinstance(entry.get("name"), str)]
    earlier: list[str] = []
    for number, entry in enumerate(entries, start=1):
        if entry not in named:
            continue
        prerequisites = entry.get("prerequisites")
        for prerequisite in prerequisites if _is_texts(prerequisites) else []:
            if prerequisite not in earlier:
                later = "a later stage" if any(e["name"] == prerequisite for e in named) else "no stage"
                above = f"one of {', '.join(earlier)}" if earlier else "none, since it comes first: use []"
                problems.append(
                    f"{_where('stage', number, entry)} lists the prerequisite `{prerequisite}`, which names {later}. "
                    f"A prerequisite must be a stage defined above it: {above}."
                )
        earlier.append(entry["name"])
    return problems


def _duplicates(kind: str, entries: list[dict]) -> list[str]:
    names = [entry.get("name") for entry in entries if isinstance(entry, dict)]
    repeated = sorted({name for name in names if isinstance(name, str) and names.count(name) > 1})
    return [f"Two [[{kind}]] tables are called `{name}`: give each its own name." for name in repeated]


def _preset_problems(entry, number: int, stage_entries: list[dict]) -> list[str]:
    if not isinstance(entry, dict):
        return []
    where = _where("preset", number, entry)
    problems = _check_fields(entry, PRESET_KEYS, PRESET_OPTIONAL, where)
    if problems:
        return problems
    known = [stage.get("name") for stage in stage_entries if isinstance(stage, dict)]
    for key in ("stages", "optional_stages"):
        for name in entry.get(key, []):
            if name not in known:
                problems.append(f"{where} lists `{name}` in `{key}`, but no stage has that name ({', '.join(known)}).")
    if entry.get("min_lr", 0) > entry["lr"]:
        problems.append(f"{where} has min_lr above lr: the cosine schedule decays from lr down to min_lr.")
    if entry.get("warmup_steps", 0) >= entry["steps"]:
        problems.append(
            f"{where} warms up for {entry['warmup_steps']} of its {entry['steps']} steps: warm up for fewer."
        )
    gpt = entry.get("gpt", {})
    if entry["model"] == "gpt":
        problems += [_unknown_key(key, GPT_FIELDS, f"{where}'s gpt table") for key in gpt if key not in GPT_FIELDS]
        absent = [f"`{key}`" for key in GPT_FIELDS if key not in gpt]
        if absent:
            problems.append(
                f"{where}'s gpt table has no {', '.join(absent)}: add {'it' if len(absent) == 1 else 'them'}."
            )
    elif gpt:
        problems.append(f"{where} trains a {entry['model']} model, which takes no gpt table: remove it.")
    return problems


def _stage(number: int, entry: dict) -> Stage:
    return Stage(
        number=number,
        name=entry["name"],
        title=entry["title"],
        symbols=tuple(entry["symbols"]),
        points=entry["points"],
        prerequisites=tuple(entry["prerequisites"]),
        lecture=entry["lecture"],
        hints=tuple(map(_hint, entry["hints"])),
    )


def _hint(entry: str | dict) -> Hint:
    return Hint(entry["text"], tuple(entry["tests"])) if isinstance(entry, dict) else Hint(entry)


def _preset(entry: dict) -> Preset:
    listed = {key: tuple(entry[key]) for key in ("stages", "optional_stages") if key in entry}
    return Preset(**{**entry, **listed})


@cache
def manifest() -> Manifest:
    return parse_manifest(MANIFEST_PATH.read_text(encoding="utf-8"))


def stages() -> tuple[Stage, ...]:
    return manifest().stages


def presets() -> dict[str, Preset]:
    return manifest().presets


def preset_named(name: str) -> Preset:
    try:
        return presets()[name]
    except KeyError:
        raise KeyError(f"no preset called {name!r}; the presets are {', '.join(presets())}") from None


def stage_named(name: str) -> Stage:
    """The stage called `name`; also accepts its number ("3") or its name without prefix ("bigram")."""
    for stage in stages():
        if name in (stage.name, str(stage.number), *stage.name.split("_", 1)):
            return stage
    known = ", ".join(stage.name for stage in stages())
    raise KeyError(f"no stage called {name!r}; the stages are {known}")


def builds_on(name: str) -> list[str]:
    """The stages `name` builds on, directly or through another, earliest first."""
    found: list[str] = []
    for prerequisite in stage_named(name).prerequisites:
        found += [earlier for earlier in builds_on(prerequisite) if earlier not in found]
        if prerequisite not in found:
            found.append(prerequisite)
    return found


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
