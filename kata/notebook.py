"""Work in a notebook, as the lecture does: the same stages and the same suite in Jupyter and Colab.

`kata notebook [DIR]` writes DIR/gpt_kata.ipynb (the whole path in the lecture's order) and DIR/exercises/
(the stubs). In the notebook, `kata.check("s03_bigram")` grades what the notebook defines with the stage's
own tests and `kata.hint("s03_bigram")` gives the next hint.

How a check sees the notebook. The suite grades stage *modules*: its messages locate a mistake by file and
line, and `kata list` and `kata grade` read stage files. So a check turns the cells the kernel ran
(IPython's input history, oldest first) into the stage's module: for each of the stage's names the newest
top-level statement that binds it, every statement those read (imports, helpers, constants), each placed
after what it needs when it runs, and `from s06_attention import Head` for another stage's names. That
module is written to the workspace (exercises/<stage>.py, the file `kata list` reads; a file the learner
wrote by hand is backed up first) and graded in a forked child of the kernel, exactly as a saved file is.
Grading fresh modules in a fresh child is also what avoids the trap the ipytest project documents (tests
that keep grading the definitions they first imported), and a learner's endless loop never hangs the kernel.
A submitted notebook (.ipynb) goes through the same extraction, its code cells taken in document order.
"""

import ast
import contextlib
import difflib
import functools
import re
import subprocess
import symtable
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Group
from rich.panel import Panel
from rich.text import Text

from kata import display
from kata.cell_origins import Origins, cell_line, header, in_notebook_words, written_from_cells
from kata.implementation import display_path
from kata.manifest import REPOSITORY_ROOT, Stage, stage_named, stage_names, stages
from kata.messages import sentences
from kata.results import TestResult
from kata.stage_status import RecordedVerdicts, StageState, StageStatus, check_stages
from kata.workspace import is_stub, next_hint, pristine_stub, state_folder

LECTURE_VIDEO = "https://www.youtube.com/watch?v=kCc8FmEb1nY"
NOTEBOOK_FILE = "gpt_kata.ipynb"
WRITTEN_FROM_CELLS = "the notebook's cells"
DEFAULT_FOLDER = "exercises"  # beside the notebook, as exercises/ lies beside tests/ in the kata
_COMPREHENSIONS = {"listcomp", "setcomp", "dictcomp", "genexpr"}  # scopes that run where they are written
# A submitted notebook is read outside the sandbox, in time that grows with its statements (about 30 µs
# each): more than this is no learner's notebook (the kata's own has about 2,000 lines of code).
MAX_SUBMITTED_STATEMENTS = 50_000
# IPython turns magics and shell lines (%time, !pip) into Python one at a time, reading the whole cell again
# for each: about 1.5 µs per character and line. This bounds the characters read so (a few seconds); a
# learner's notebook, a few such lines in short cells, needs a thousandth of it. Every escape IPython rewrites
# counts: % and ! (magics, the shell), ? and ?? (help), / (a call without parentheses), , and ; (quoted arguments).
MAX_MAGIC_WORK = 5_000_000
_MAGIC_LINE = re.compile(r"^\s*[%!?/,;]|\?\s*$|=\s*[%!]", re.MULTILINE)


class NotebookTooLarge(ValueError):
    """A submitted notebook whose code cells hold more statements than the grader reads."""


@dataclass(frozen=True)
class Definition:
    """One top-level statement of a notebook cell that binds a name, and the global names it reads."""

    cell: str  # how the learner finds the cell: "cell [12]" (its execution count) or "cell 7" (its position)
    first_line: int  # of the statement in its cell, decorators included
    source: str
    is_import: bool
    binds: frozenset[str]
    reads: frozenset[str]  # read at any time: while it runs or when its functions are called
    reads_when_run: frozenset[str]  # read while the statement itself runs: bases, decorators, defaults, values
    # names it binds from their own earlier value (X = f(X), X += 1): the binding before it is needed too
    rebinds: frozenset[str] = frozenset()


# Cell magics that run their cell as Python in the notebook's namespace, so that what it defines stays defined.
_RUN_IN_PLACE = ("time", "capture")


def as_python(source: str, transformer) -> str:
    """A cell as the Python it runs: IPython's transform (magics into calls), then, under %%time or %%capture,
    the cell itself, which the transform hides in a string (run_cell_magic('time', '', '<the cell>')). A blank
    line stands for the magic's, so that line numbers stay those of the cell."""
    python = transformer.transform_cell(source)
    if "run_cell_magic" not in python:
        return python
    try:
        body = ast.parse(python).body
    except SyntaxError:
        return python
    call = body[0].value if len(body) == 1 and isinstance(body[0], ast.Expr) else None
    if (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_cell_magic"
        and len(call.args) == 3
        and all(isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in call.args)
        and call.args[0].value in _RUN_IN_PLACE
    ):
        return "\n" + as_python(call.args[2].value, transformer)
    return python


def definitions_in(cells: list[tuple[str, str]]) -> list[Definition]:
    """The statements that bind names in `cells`, (label, Python source) pairs in the order they ran.
    A cell that does not compile is left out: running it defined nothing."""
    return [definition for label, source in cells for definition in _cell_definitions(label, source)]


@functools.lru_cache(maxsize=4096)  # a kernel's history only grows: each check reads the cells that earlier checks read
def _cell_definitions(label: str, source: str) -> tuple[Definition, ...]:
    try:
        body, lines = ast.parse(source).body, source.splitlines()
        # Top-level statements follow each other, so only a neighbour can share a line with one
        # (`a = 1; print(a)`). Looking only there keeps a cell of many statements linear (a submitted notebook
        # is read outside the sandbox).
        found = [
            _definition(label, node, lines, neighbours=body[max(0, i - 1) : i] + body[i + 1 : i + 2])
            for i, node in enumerate(body)
        ]
    except SyntaxError:
        return ()
    return tuple(definition for definition in found if definition and definition.binds)


def _definition(label: str, node: ast.stmt, lines: list[str], *, neighbours: list[ast.stmt]) -> Definition | None:
    if _imports_a_stage(node):
        # `from s06_attention import Head`, as a stage file has it: the module the check writes for the stage
        # that defines Head is that import's source, so it never stands for Head itself (the module would import
        # itself), and the check writes such imports for each stage that reads another's names.
        return None
    first = min([node.lineno, *(decorator.lineno for decorator in getattr(node, "decorator_list", ()))])
    shares_a_line = any(other.lineno <= node.end_lineno and other.end_lineno >= first for other in neighbours)
    # Whole lines keep the learner's comments; a line shared with another statement (`a = 1; print(a)`) cannot.
    # ast.unparse recurses once per level of an expression: a sum of 400 terms that Python runs exhausts it, and
    # such a statement, where it shares a line, is left out rather than the whole notebook refused.
    try:
        source = ast.unparse(node) if shares_a_line else "\n".join(lines[first - 1 : node.end_lineno])
        table = symtable.symtable(source, "<cell>", "exec")  # raises SyntaxError as compiling would
    except (RecursionError, MemoryError):
        return None
    binds = {symbol.get_name() for symbol in table.get_symbols() if symbol.is_assigned() or symbol.is_imported()}
    reads, reads_when_run = set(), set()

    def visit(scope: symtable.SymbolTable, running: bool) -> None:
        for symbol in scope.get_symbols():
            if symbol.is_referenced() and symbol.is_global():
                reads.add(symbol.get_name())
                if running:
                    reads_when_run.add(symbol.get_name())
        for child in scope.get_children():
            visit(child, running and (child.get_type() == "class" or child.get_name() in _COMPREHENSIONS))

    visit(table, True)
    early = _read_before_assigned_in_a_class(node)  # symtable calls them the class's own names
    reads |= early
    reads_when_run |= early
    is_import = isinstance(node, ast.Import | ast.ImportFrom)
    changed = _augmented(node)  # X += 1, X.forward = forward: X from its earlier value
    binds |= changed
    rebinds = binds & (reads_when_run | changed)
    reads -= binds
    return Definition(
        label,
        first,
        source,
        is_import,
        frozenset(binds),
        frozenset(reads),
        frozenset(reads_when_run - binds),
        frozenset(rebinds),
    )


@dataclass(frozen=True)
class ExtractedStage:
    """A stage's module made from notebook cells, and where each of its lines came from."""

    stage: Stage
    source: str
    origins: Origins  # line of the module -> (cell, line in that cell)
    missing: tuple[str, ...]  # names of the stage that no cell defines
    defined_in: dict[str, str]  # name of the stage -> the cell of its newest definition, the one graded

    def located(self, line: int) -> str | None:
        """'cell [12], line 5' for a line of the module, where it came from a cell."""
        return cell_line(self.origins, line)


def extract_stage(stage: Stage, definitions: list[Definition], *, written_from: str) -> ExtractedStage:
    """The module of `stage` that `definitions` (oldest first) make: see the module's docstring."""
    newest = {name: definition for definition in definitions for name in definition.binds}
    seen_then = _bound_when_run(definitions)
    other_stages = {symbol: other.name for other in stages() if other != stage for symbol in other.symbols}
    included: dict[Definition, None] = {}  # a dict: ordered, and quick to ask (a notebook may define many names)
    from_stages: dict[str, set[str]] = {}

    def include(definition: Definition) -> None:
        if definition in included:
            return
        included[definition] = None  # before its own reads, so that a cycle ends here
        for name in sorted(definition.reads):
            # A name read while the statement runs (X.generate = generate, a base class) is the binding it had
            # then; one read when a function is called, the newest.
            then = seen_then.get((definition, name))
            if name in other_stages and (then is None or then is newest.get(name)):
                from_stages.setdefault(other_stages[name], set()).add(name)
            elif then is not None:
                include(then)
            elif name in newest:
                include(newest[name])
        for name in sorted(definition.rebinds):  # X = f(X), X += 1: the X it starts from
            if (definition, name) in seen_then:
                include(seen_then[definition, name])

    for symbol in stage.symbols:
        if symbol in newest:
            include(newest[symbol])
    lines = [header(written_from), f'"""{stage.label}."""', ""]
    lines += [f"from {module} import {', '.join(sorted(names))}" for module, names in sorted(from_stages.items())]
    origins: Origins = {}
    previous_cell = None
    position: dict[Definition, int] = {}
    for index, definition in enumerate(definitions):
        position.setdefault(definition, index)
    for definition in _in_running_order(sorted(included, key=position.__getitem__)):
        if not definition.is_import:
            lines.append("")
        if definition.cell != previous_cell:
            lines.append(f"# {definition.cell}")
            previous_cell = definition.cell
        for offset, text in enumerate(definition.source.splitlines()):
            lines.append(text)
            origins[len(lines)] = (definition.cell, definition.first_line + offset)
    missing = tuple(symbol for symbol in stage.symbols if symbol not in newest)
    defined_in = {symbol: newest[symbol].cell for symbol in stage.symbols if symbol in newest}
    return ExtractedStage(stage, "\n".join(lines) + "\n", origins, missing, defined_in)


def _read_before_assigned_in_a_class(node: ast.stmt) -> set[str]:
    """Names a class body reads before it assigns them, as a dataclass field defaults to the global of its name
    (`vocab_size: int = vocab_size`, the lecture's constants): while the class body runs such a read finds the
    global, though symtable counts the name as the class's own. Classes that run with the statement only (none
    inside a function), and what their statements evaluate then (not the bodies of their methods)."""
    found, waiting = set(), [node]
    while waiting:
        here = waiting.pop()
        if isinstance(here, ast.ClassDef):
            assigned: set[str] = set()
            for statement in here.body:
                names = _names_evaluated(statement)
                found |= {n.id for n in names if isinstance(n.ctx, ast.Load) and n.id not in assigned}
                assigned |= {n.id for n in names if isinstance(n.ctx, ast.Store)}
                assigned |= {statement.name} if isinstance(statement, ast.FunctionDef | ast.ClassDef) else set()
        if not isinstance(here, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            waiting.extend(ast.iter_child_nodes(here))
    return found


def _names_evaluated(statement: ast.stmt) -> list[ast.Name]:
    """The names a statement evaluates when it runs: a def's decorators, defaults and annotations, not its body;
    a nested class's bases and decorators, not its body."""
    found, waiting = [], [statement]
    while waiting:
        here = waiting.pop()
        if isinstance(here, ast.Name):
            found.append(here)
        elif isinstance(here, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            arguments = here.args
            waiting += [*getattr(here, "decorator_list", []), *arguments.defaults]
            waiting += [default for default in arguments.kw_defaults if default is not None]
            every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs, arguments.vararg, arguments.kwarg]
            waiting += [a.annotation for a in every if a is not None and a.annotation is not None]
            waiting += [here.returns] if getattr(here, "returns", None) is not None else []
        elif isinstance(here, ast.ClassDef):
            waiting += [*here.decorator_list, *here.bases, *(keyword.value for keyword in here.keywords)]
        else:
            waiting.extend(ast.iter_child_nodes(here))
    return found


def _augmented(node: ast.stmt) -> set[str]:
    """The names a top-level statement changes in place, outside the functions and classes it defines: X += 1
    (which symtable does not count as read), and X's attributes set, X.forward = forward or setattr(X, ...), as
    a notebook adds a method to a class defined in an earlier cell (symtable counts X as read only)."""
    found, waiting = set(), [node]
    while waiting:
        here = waiting.pop()
        if isinstance(here, ast.AugAssign) and isinstance(here.target, ast.Name):
            found.add(here.target.id)
        targets = here.targets if isinstance(here, ast.Assign) else [getattr(here, "target", None)]
        found |= {t.value.id for t in targets if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name)}
        if isinstance(here, ast.Call) and getattr(here.func, "id", "") == "setattr" and here.args:
            found |= {here.args[0].id} if isinstance(here.args[0], ast.Name) else set()
        if here is node or not isinstance(here, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            waiting.extend(ast.iter_child_nodes(here))
    return found


def _bound_when_run(definitions: list[Definition]) -> dict[tuple[Definition, str], Definition]:
    """For each name a statement reads while it runs, or binds from its earlier value, the statement that had
    bound it by then (if one had)."""
    last: dict[str, Definition] = {}
    bound = {}
    for definition in definitions:
        for name in definition.reads_when_run | definition.rebinds:
            if name in last:
                bound[definition, name] = last[name]
        last.update(dict.fromkeys(definition.binds, definition))
    return bound


def _in_running_order(included: list[Definition]) -> list[Definition]:
    """Imports first, then the rest in the order they ran (as `included` lists them), each moved after what
    it reads while it runs (a base class or a decorator defined, or run again, in a later cell)."""
    binder = {name: definition for definition in included for name in definition.binds}
    ordered: dict[Definition, None] = {}

    def place(definition: Definition, waiting: set) -> None:
        if definition in ordered or definition in waiting:
            return
        waiting.add(definition)
        for name in sorted(definition.reads_when_run):
            if name in binder:
                place(binder[name], waiting)
        ordered[definition] = None

    for definition in sorted(included, key=lambda definition: not definition.is_import):
        place(definition, set())
    return list(ordered)


@dataclass
class NotebookModules:
    files: list[Path] = field(default_factory=list)  # one module per stage, in the stages' order
    # (stage, note): where a name of the stage is graded from a cell the learner may not expect
    notes: list[tuple[str, str]] = field(default_factory=list)
    origins: dict[str, Origins] = field(default_factory=dict)  # stage -> where its module's lines came from


def _execution_count(cell) -> int:
    """The number Jupyter showed beside the cell when the notebook was saved; 0 for none (never run)."""
    count = cell.get("execution_count")
    return count if isinstance(count, int) and not isinstance(count, bool) and 0 < count < 10**9 else 0


def stage_files_from_notebook(notebook_path: Path, folder: Path, *, text: str | None = None) -> NotebookModules:
    """Write one module per stage into `folder` from the code cells of a notebook (a submission), so that
    it is graded exactly as a folder; returns the files, and notes for the report. A stage the notebook does
    not define gets a module without its names, which the suite reports as such. `text`: the notebook's
    contents where the caller has read them (the grader, which opens the file only once), else read from the path."""
    import nbformat
    from IPython.core.inputtransformer2 import TransformerManager  # magics (%time, !pip) into plain Python

    notebook = nbformat.read(notebook_path, as_version=4) if text is None else nbformat.reads(text, as_version=4)
    transformer = TransformerManager()
    code = [
        (position, cell.source) for position, cell in enumerate(notebook.cells, start=1) if cell.cell_type == "code"
    ]
    # Each statement but a cell's last ends in a line break or a semicolon: a bound read before parsing.
    statements = sum(source.count("\n") + source.count(";") + 1 for _, source in code)
    if statements > MAX_SUBMITTED_STATEMENTS:
        raise NotebookTooLarge(
            f"its code cells hold up to {statements:,} statements, more than the {MAX_SUBMITTED_STATEMENTS:,} "
            "the grader reads"
        )
    if (work := sum(len(_MAGIC_LINE.findall(source)) * len(source) for _, source in code)) > MAX_MAGIC_WORK:
        raise NotebookTooLarge(
            f"its magics, shell lines and other escapes (%, !, ?) would take reading {work:,} characters to turn "
            f"into Python, more than the {MAX_MAGIC_WORK:,} the grader reads: keep such lines in short cells of "
            "their own"
        )
    definitions = definitions_in([(f"cell {position}", as_python(source, transformer)) for position, source in code])
    folder.mkdir(parents=True, exist_ok=True)
    modules = NotebookModules()
    for stage in stages():
        extracted = extract_stage(stage, definitions, written_from=Path(notebook_path).name)
        path = folder / stage.module_file
        path.write_text(extracted.source, encoding="utf-8")
        modules.files.append(path)
        modules.origins[stage.name] = extracted.origins
        modules.notes += [(stage.name, note) for note in _order_notes(extracted, definitions, notebook.cells)]
    return modules


def _order_notes(extracted: ExtractedStage, definitions: list[Definition], cells: list) -> list[str]:
    """Where a name is graded from a cell other than the learner may think: a notebook is graded in the order of
    its cells, as Run All runs them, so the last cell that binds a name gives it, though another ran after it
    when the notebook was saved, or though it is a cell of another stage."""
    by_label = {f"cell {position}": cell for position, cell in enumerate(cells, start=1)}
    notes = []
    for name, graded in extracted.defined_in.items():
        labels = list(dict.fromkeys(definition.cell for definition in definitions if name in definition.binds))
        counts = {label: _execution_count(by_label[label]) for label in labels}
        ran_last = max(labels, key=counts.__getitem__)
        if counts[ran_last] > counts[graded] and ran_last != graded:
            notes.append(
                f"{name} is graded from {graded}, the last of the cells that define it ({', '.join(labels)}), as "
                f"Run All runs them; {ran_last} ran after it when the notebook was saved ([{counts[ran_last]}] "
                f"against [{counts[graded] or ' '}])."
            )
        kata = by_label[graded].get("metadata", {}).get("kata")
        owner = kata.get("stage") if isinstance(kata, dict) else None
        if owner in stage_names() and owner != extracted.stage.name:
            notes.append(
                f"{name} is graded from {graded}, a cell of {stage_named(owner).label} that binds or changes it "
                f"after {extracted.stage.label}'s own cells, as Run All runs them."
            )
    return notes


# ---- writing the notebook -------------------------------------------------------------------------------

_SETUP = """\
# GPT kata in a notebook. Run this cell first: in Colab, or wherever the kata is not installed yet, it
# installs it from KATA_SOURCE (a git URL, or a folder holding a copy of the kata: offline, upload and
# unzip one), then loads torch, the tests and the tiny Shakespeare corpus.
KATA_SOURCE = {source!r}
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("kata") is None:
    if "://" not in KATA_SOURCE and not os.path.isdir(KATA_SOURCE):
        raise SystemExit(f"No kata in {{KATA_SOURCE}}: set KATA_SOURCE to its git URL or to the folder of a copy.")
    if "://" in KATA_SOURCE:
        subprocess.run(["git", "clone", "--quiet", "--depth", "1", KATA_SOURCE, "gpt-kata"], check=True)
        KATA_SOURCE = "gpt-kata"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "-e", KATA_SOURCE], check=True)
    sys.path.insert(0, os.path.abspath(KATA_SOURCE))  # this kernel does not see the new install otherwise
import kata

kata.start()  # the stages you check are written to exercises/ beside this notebook
text = kata.load_corpus()
print(f"length of dataset in characters: {{len(text):,}}")
"""

_INTRODUCTION = """\
# Let's build GPT, as a kata

Andrej Karpathy's lecture [Let's build GPT: from scratch, in code, spelled out]({video}), in {count} stages.
Each stage has its text, code cells to fill (replace each `raise NotImplementedError`), room to experiment,
and a check.

- `kata.check("s03_bigram")` grades what this notebook defines with the stage's tests (the same suite as
  `pytest -m s03_bigram`) and shows the first failure. After editing a cell, run it again, then the check:
  the check grades what the kernel ran last.
- `kata.hint("s03_bigram")` gives the stage's next hint: a nudge first, then a near-answer.
- A stage you check is written to `exercises/` beside this notebook: `kata list` there shows your progress.
"""


def build_notebook(stage_sources: dict[str, str], *, kata_source: str):
    """The path as one notebook in the lecture's order, made from each stage's module source (the stubs for
    a learner; the references in the tests). Its cells carry metadata {"kata": {"stage", "role"}}."""
    import nbformat

    cells = [
        nbformat.v4.new_code_cell(_SETUP.format(source=kata_source), metadata={"kata": {"role": "setup"}}),
        nbformat.v4.new_markdown_cell(_INTRODUCTION.format(video=LECTURE_VIDEO, count=len(stages()))),
    ]
    for stage in stages():
        cells += _stage_cells(stage, stage_sources[stage.name])
    metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    return nbformat.v4.new_notebook(cells=cells, metadata=metadata)


def _stage_cells(stage: Stage, source: str) -> list:
    import nbformat

    def cell(role: str, text: str, kind=nbformat.v4.new_code_cell):
        return kind(text, metadata={"kata": {"stage": stage.name, "role": role}})

    tree = ast.parse(source)
    lines = source.splitlines()
    docstring = ast.get_docstring(tree) or ""
    body = tree.body[1:] if docstring else tree.body
    imports = [node for node in body if isinstance(node, ast.Import | ast.ImportFrom)]
    cells = [cell("teach", _teaching_text(stage, docstring), nbformat.v4.new_markdown_cell)]
    # Another stage's names are already defined in this kernel; the check imports them from that stage.
    kept = [ast.get_source_segment(source, node) for node in imports if not _imports_a_stage(node)]
    if kept:
        cells.append(cell("imports", "\n".join(kept)))
    previous_end = tree.body[0].end_lineno if docstring else 0
    for node in body:
        if node in imports:  # in the imports cell above, wherever the module has it
            previous_end = node.end_lineno
            continue
        # From the end of the previous statement: the comments above a definition stay with it.
        cells.append(cell("fill", "\n".join(lines[previous_end : node.end_lineno]).strip("\n")))
        previous_end = node.end_lineno
    cells.append(cell("experiment", "# Room to experiment: call your code on small inputs and look at the tensors."))
    cells.append(cell("check", f'kata.check("{stage.name}")  # stuck? kata.hint("{stage.name}") gives the next hint'))
    return cells


def _imports_a_stage(node: ast.stmt) -> bool:
    """Whether the statement imports a stage's module (s06_attention, exercises.s06_attention, .s06_attention)."""
    if isinstance(node, ast.ImportFrom):
        modules = [node.module or ""]
    elif isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    else:
        return False
    return any(module.rpartition(".")[2] in stage_names() for module in modules)


def _teaching_text(stage: Stage, docstring: str) -> str:
    """The stub's docstring as markdown, under the stage's heading and its lecture section: without its first
    paragraph (the heading says it), its lecture line (the manifest's, linked, replaces it) and how to run
    pytest (the check cell does it)."""
    paragraphs = docstring.split("\n\n")[1:]
    kept = [text for text in paragraphs if not text.startswith("Lecture:") and "pytest -m" not in text]
    return "\n\n".join([f"## {stage.label}", f"Lecture: {_lecture_link(stage.lecture)}", *kept])


def _lecture_link(section: str) -> str:
    """The section as a markdown link to the video at its first timestamp."""
    url = _lecture_url(section)
    return f"[{section}]({url})" if url else section


def _lecture_url(section: str) -> str | None:
    """The video at the section's first timestamp, e.g. '(1:02:00)'; None where it has none."""
    timestamp = re.search(r"\((?:(\d+):)?(\d+):(\d+)\)", section)
    if timestamp is None:
        return None
    hours, minutes, seconds = (int(part or 0) for part in timestamp.groups())
    return f"{LECTURE_VIDEO}&t={hours * 3600 + minutes * 60 + seconds}s"


def write_workspace(folder: Path, *, kata_source: str | None = None, overwrite: bool = False) -> Path:
    """Write folder/gpt_kata.ipynb from the original stubs and folder/exercises/ with the stubs it lacks;
    returns the notebook's path. An existing notebook (the learner's work) is kept unless `overwrite`."""
    import nbformat

    path = folder / NOTEBOOK_FILE
    if path.exists() and not overwrite:
        raise FileExistsError(
            sentences(
                f"{display_path(path)} exists and may hold your work, so it was left as it is",
                "Pass --force to write a fresh notebook over it",
            )
        )
    stubs = {stage.name: pristine_stub(stage) for stage in stages()}
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(build_notebook(stubs, kata_source=kata_source or default_kata_source()), path)
    _add_missing_stubs(folder / DEFAULT_FOLDER)
    return path


def default_kata_source() -> str:
    """Where the set-up cell installs the kata from: this clone's git remote, else this clone itself."""
    try:
        remote = subprocess.run(
            ["git", "remote", "get-url", "origin"], cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True
        )
        return remote.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(REPOSITORY_ROOT)


def _add_missing_stubs(exercises: Path) -> None:
    exercises.mkdir(parents=True, exist_ok=True)
    for stage in stages():
        path = exercises / stage.module_file
        if not path.exists():
            path.write_text(pristine_stub(stage), encoding="utf-8")


# ---- in the kernel: kata.start, kata.check, kata.hint -----------------------------------------------------


@dataclass
class _Session:
    folder: Path  # the workspace's exercises/ folder
    last_stage: Stage | None = None
    # execution count -> the cell's line whose top-level statement raised, 0 where the cell did not compile
    raised: dict[int, int] = field(default_factory=dict)


_session: _Session | None = None


def start(folder: str | Path = DEFAULT_FOLDER) -> None:
    """Use `folder` (default: exercises/ in the notebook's folder, made with the stubs if missing) for the
    stages this notebook checks, and load torch and the tests once, so that every check is quick."""
    global _session
    import torch

    from kata.suite import warm_up

    exercises = Path(folder).resolve()
    _add_missing_stubs(exercises)
    threads = torch.get_num_threads()
    warm_up()
    torch.set_num_threads(threads)  # the kata's test runs use one thread; the learner's experiments keep them all
    _session = _Session(exercises)
    _record_the_cells_that_raise()
    display.console().print(
        f"Checked stages go to {display_path(exercises)}/ (`kata list` beside it shows them). Ready."
    )


def check(stage: str) -> None:
    """Grade the notebook's definitions of `stage` with its tests and show the verdict under the cell."""
    out = display.console()
    try:
        chosen = stage_named(stage)
        cells = _cells_this_kernel_ran()
    except (KeyError, RuntimeError) as error:
        out.print(Text(str(error.args[0]), style="red"))
        return
    definitions = definitions_in(cells)
    extracted = extract_stage(chosen, definitions, written_from=WRITTEN_FROM_CELLS)
    if extracted.missing:
        out.print(
            Text(
                sentences(
                    f"This kernel has not run a definition of {', '.join(extracted.missing)} yet",
                    *_near_misses(extracted.missing, definitions),
                    f"Run the cells of {chosen.label} above, then this check again",
                    "The check grades the functions and classes the stub names: code at the top level of a cell "
                    "(the lecture's chars = ..., encode = lambda s: ...) belongs inside them",
                ),
                style="yellow",
            )
        )
        return
    if _session is None:
        start()
    written, notes = _write_with_earlier_stages(extracted, definitions)
    notes = [
        *_near_misses(chosen.symbols, definitions),
        *_never_bound(extracted),
        *_never_ran(extracted, definitions),
        *notes,
    ]
    try:
        with _running_line(chosen):
            status = check_stages(_session.folder, [chosen])[chosen.name]
    except KeyboardInterrupt:  # the stop button: the children are gone (kata/forked.py); no traceback of ours
        out.print(Text("The check was interrupted: nothing was graded. Run this cell again to check.", style="yellow"))
        return
    _session.last_stage = chosen
    out.print(_report(status, written, notes))


@contextlib.contextmanager
def _running_line(stage: Stage):
    """'⟳ running the tests of Stage 3 …' under the cell while they run, then nothing: the verdict follows.
    (The terminal's line counts the seconds; rich's live display would need ipywidgets in a notebook.)"""
    from IPython.display import display

    line = display(Text(f"⟳ running the tests of {stage.label}…", style="cyan"), display_id=True)
    try:
        yield
    finally:
        if line is not None:
            line.update({"text/plain": ""}, raw=True)


def _near_misses(names, definitions: list[Definition]) -> list[str]:
    """For each of `names`, a definition the kernel ran after the name's own newest one (any, where it has
    none) that nearly spells it: 'Cell [5] defines build_vocabluary: is that build_vocabulary misspelt?'. A
    misspelt definition run after the right one leaves that one graded: the stub, or an older version."""
    symbols = {symbol for stage in stages() for symbol in stage.symbols}
    found = []
    for name in names:
        last = max((index for index, definition in enumerate(definitions) if name in definition.binds), default=-1)
        later = {
            near: definition.cell
            for definition in definitions[last + 1 :]
            if not definition.is_import
            for near in definition.binds - symbols
        }
        graded = f" after the {name} this check grades, from {definitions[last].cell}" if last >= 0 else ""
        for near in difflib.get_close_matches(name, list(later), n=1, cutoff=0.8):
            found.append(f"{later[near].capitalize()} defines {near}{graded}: is that {name} misspelt?")
    return found


def _write_with_earlier_stages(
    extracted: ExtractedStage, definitions: list[Definition]
) -> tuple[dict[str, ExtractedStage], list[str]]:
    """Write the stage's module and those of the stages it builds on (their files must hold what the kernel
    ran too), where the kernel ran them; returns the modules written and a note for each earlier stage that
    the kernel had not run, that changed since it passed, or whose last check failed."""
    written, notes, ran = {extracted.stage.name: extracted}, [], []
    verdicts = RecordedVerdicts(_session.folder)
    for earlier in _builds_on(extracted.stage):
        version = extract_stage(earlier, definitions, written_from=WRITTEN_FROM_CELLS)
        recorded = verdicts.lookup(earlier)  # for the files as they are, before this check writes the kernel's
        if not version.missing:
            written[earlier.name] = version
            ran.append((earlier, version, recorded))
            continue
        file = display_path(_session.folder / earlier.module_file)
        notes.append(f"{earlier.label} has not run in this kernel: the check uses its last written file, {file}.")
        if recorded and not recorded.done:
            notes.append(
                f"That file's last check did not pass ({recorded.summary()}): run {earlier.label}'s cells and "
                f'kata.check("{earlier.name}") first.'
            )
    carried = []
    for earlier, version, recorded in ran:
        path = _session.folder / earlier.module_file
        before = path.read_text(encoding="utf-8") if path.is_file() else ""
        if _write_stage_file(path, version.source) and not _same_code(before, version.source):
            if recorded and recorded.done:
                notes.append(
                    f"{earlier.label} has changed in this kernel since its check passed: check it again, "
                    f'kata.check("{earlier.name}") (this check uses it as the kernel has it now).'
                )
            continue
        carried += [earlier] if recorded else []  # the same code, perhaps from newer cells (imports run again)
        if recorded and not recorded.done:
            notes.append(
                f"{earlier.label} did not pass its last check ({recorded.summary()}), and this stage builds on "
                f'it: fix it first, kata.check("{earlier.name}").'
            )
    verdicts.carry_over(carried)
    _write_stage_file(_session.folder / extracted.stage.module_file, extracted.source)
    return written, notes


def hint(stage: str | None = None) -> None:
    """Show the next hint for `stage` (default: the stage checked last); `kata hint` shares the count."""
    out = display.console()
    try:
        chosen = stage_named(stage) if stage else (_session and _session.last_stage)
    except KeyError as error:
        out.print(Text(str(error.args[0]), style="red"))
        return
    if not chosen:
        out.print('Name the stage, e.g. kata.hint("s03_bigram").')
        return
    shown = next_hint(chosen, _session.folder if _session else Path(DEFAULT_FOLDER).resolve())
    out.print(display.hint_panel(chosen, shown, "run it again for the next one"))


def _cells_this_kernel_ran() -> list[tuple[str, str]]:
    """(label, source) of every cell this kernel ran, oldest first; IPython has turned magics into Python."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:  # IPython comes with every kernel; without it, this is no notebook
        shell = None
    if shell is None:
        raise RuntimeError(
            "kata.check grades the cells a notebook ran: call it in Jupyter or Colab. In a terminal, use `kata check`."
        )
    from IPython.core.inputtransformer2 import TransformerManager

    transformer = TransformerManager()
    return [
        (f"cell [{count}]", as_python(source, transformer) if "run_cell_magic" in source else source)
        for count, source in enumerate(shell.history_manager.input_hist_parsed)
    ]


def _record_the_cells_that_raise() -> None:
    """Keep, for each cell that raised while it ran, the line of the top-level statement that raised, and 0 for a
    cell that did not compile: what a later check says of the definitions such a cell holds but never ran."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        return
    if shell is None or getattr(shell, "_kata_records_errors", False):  # once, however often kata.start() runs
        return
    shell._kata_records_errors = True

    def record(result) -> None:
        count = result.execution_count
        if _session is None or count is None:
            return
        if result.error_before_exec is not None:
            _session.raised[count] = 0
        elif result.error_in_exec is not None:
            lines = [
                line
                for frame, line in traceback.walk_tb(result.error_in_exec.__traceback__)
                if frame.f_code.co_name == "<module>" and frame.f_globals is shell.user_ns
            ]
            _session.raised[count] = lines[0] if lines else 1

    shell.events.register("post_run_cell", record)


def _never_ran(extracted: ExtractedStage, definitions: list[Definition]) -> list[str]:
    """A note for each graded definition whose cell raised at an earlier line, so that the kernel still holds
    another one (_never_bound speaks of those it holds none of), and for each newer cell that did not compile
    and names it: the check grades the source it can read, which the kernel may not have run."""
    if _session is None:
        return []
    newest = {name: definition for definition in definitions for name in definition.binds}
    notes = []
    for name, cell in extracted.defined_in.items():
        count = int(cell.removeprefix("cell [").removesuffix("]")) if cell.startswith("cell [") else None
        line = _session.raised.get(count, None) if count is not None else None
        if line and line < newest[name].first_line and name in _kernel_names():  # else _never_bound says it
            notes.append(
                f"{cell.capitalize()} raised at line {line}, before its {name} (line {newest[name].first_line}) "
                f"ran, so this kernel still holds an earlier {name}: this check graded the one in {cell}. Fix "
                "that line and run the cell again"
            )
        newer = [later for later, raised in _session.raised.items() if raised == 0 and count and later > count]
        if any(re.search(rf"\b(def|class)\s+{re.escape(name)}\b", _source_of(later)) for later in newer):
            notes.append(
                f"A cell run after {cell} names {name} but does not compile, so this check graded the {name} of "
                f"{cell}, which the kernel holds: fix that cell's syntax and run it again"
            )
    return notes


def _kernel_names() -> dict:
    from IPython import get_ipython

    return get_ipython().user_ns


def _source_of(count: int) -> str:
    from IPython import get_ipython

    history = get_ipython().history_manager.input_hist_parsed
    return history[count] if count < len(history) else ""


def _never_bound(extracted: ExtractedStage) -> list[str]:
    """A note for each graded definition the kernel does not hold: its cell raised before binding it (after a
    restart, say, where it reads what earlier cells define). The check grades its source all the same."""
    try:
        from IPython import get_ipython

        names = get_ipython().user_ns
    except (ImportError, AttributeError):  # outside a kernel: nothing to compare with
        return []
    return [
        f"{cell.capitalize()} defines {name}, but when it ran it raised before {name} was defined: run the cells "
        "it needs, then it again."
        for name, cell in extracted.defined_in.items()
        if name not in names
    ]


def _builds_on(stage: Stage) -> list[Stage]:
    """The stages whose code `stage` imports, directly or through another."""
    found: list[Stage] = []
    for name in stage.prerequisites:
        for earlier in [*_builds_on(stage_named(name)), stage_named(name)]:
            if earlier not in found:
                found.append(earlier)
    return found


def _same_code(first: str, second: str) -> bool:
    """Whether two stage modules hold the same statements: the cells they came from (the `# cell [n]` lines) and
    the order in which they import may differ, as when the next stage's cell imports torch again."""

    def statements(source: str) -> tuple[set[str], list[str]]:
        body = ast.parse(source).body
        imports = {ast.dump(node) for node in body if isinstance(node, ast.Import | ast.ImportFrom)}
        return imports, sorted(ast.dump(node) for node in body if not isinstance(node, ast.Import | ast.ImportFrom))

    try:
        return statements(first) == statements(second)
    except SyntaxError:
        return first == second


def _write_stage_file(path: Path, source: str) -> bool:
    """Write a stage file, and say whether it changed; one the learner wrote by hand (neither a stub nor a
    notebook's) is backed up first."""
    if path.exists():
        current = path.read_text(encoding="utf-8")
        if current == source:
            return False  # unchanged: keeps its time stamp, so `kata watch` does not re-run it
        if not written_from_cells(current.partition("\n")[0]) and not _is_a_stub(current):
            backups = state_folder(path.parent) / "backups"
            backups.mkdir(parents=True, exist_ok=True)
            (backups / f"{path.stem}.{time.strftime('%Y%m%d-%H%M%S')}.py").write_text(current, encoding="utf-8")
    path.write_text(source, encoding="utf-8")
    return True


def _is_a_stub(source: str) -> bool:
    try:
        return is_stub(source)
    except SyntaxError:
        return False


def _report(status: StageStatus, written: dict[str, ExtractedStage], notes: list[str]) -> Group:
    """The stage's line of `kata list` and, until it passes, its first failure, located in the notebook's cells."""
    folder = _session.folder
    parts = [display.stage_table({status.stage.name: status}, folder), *(Text(note, style="yellow") for note in notes)]
    if status.done:
        file = display_path(folder / status.stage.module_file)
        parts.append(Text(f"Written to {file}: `kata list` counts this stage as done.", style="green"))
        return Group(*parts)
    body = []
    if status.state is StageState.STOPPED:
        body.append(Text(sentences(f"The tests of this stage could not finish: {status.problem}")))
    elif status.first_failure is not None:
        failure = status.first_failure
        message = _in_cells(failure.message.strip(), written, folder)
        body.append(Text(f"First failing test: {failure.name}", style="bold"))
        body.append(Text(message))
        where = _in_cells(failure.location, written, folder)
        if where == failure.location:  # no line of the cells raised: one the message names, else a definition
            where = found[0] if (found := re.findall(r"cell \[\d+\], line \d+", message)) else ""
        if where:
            body.append(Text(f"Edit {where}, run that cell, then this check again.", style="cyan"))
        else:
            body.append(Text(_graded_cells(status.stage, failure, written), style="cyan"))
        if failure.output.strip():  # after where to go: a long printout must not push that out of sight
            body.append(Text("Your code printed:\n" + failure.output.strip(), style="dim"))
        for other in status.other_failures:
            body.append(Text(f"Also failing: {other.name}", style="bold"))
            body.append(Text(_in_cells(other.message.strip(), written, folder)))
    url = _lecture_url(status.stage.lecture)
    body.append(Text(f"Lecture: {status.stage.lecture}", style=f"cyan link {url}" if url else "cyan"))
    parts.append(Panel(Group(*body), title=status.stage.label, title_align="left", border_style="yellow"))
    return Group(*parts)


def _graded_cells(stage: Stage, failure: TestResult, written: dict[str, ExtractedStage]) -> str:
    """Where a failure without a line in the cells (a wrong value, say) sends the learner: the cell of each
    definition the message names, else of the one its test class is named for (TestKVCache: KVCache), else of
    each the stage graded. It also shows which of two definitions ran."""
    cells = {name: cell for extracted in written.values() for name, cell in extracted.defined_in.items()}
    named = [name for name in cells if re.search(rf"\b{re.escape(name)}\b", failure.message)]
    tested = failure.name.split("::")[0].removeprefix("Test").lower()
    named = named or [name for name in written[stage.name].defined_in if name.replace("_", "").lower() == tested]
    if len(named) == 1:
        return f"Edit {named[0]} in {cells[named[0]]}, run that cell, then this check again."
    graded = named or list(written[stage.name].defined_in)
    return "This check graded " + ", ".join(f"{name} from {cells[name]}" for name in graded) + "."


def _in_cells(text: str, written: dict[str, ExtractedStage], folder: Path) -> str:
    """`text` in the notebook's words: each 'exercises/s03_bigram.py:25' of a written stage file replaced by
    'cell [7], line 5', a bare '(exercises/s07_transformer.py)' left out (its cell follows), and
    '`pytest -m s07_transformer`' said as the notebook runs a stage; a line of the kata's tests is quoted
    without their path, which a notebook does not show."""
    files = {display_path(folder / f"{name}.py"): extracted.origins for name, extracted in written.items()}
    for file in files:
        text = text.replace(f" ({file})", "")
    text = in_notebook_words(text, files)
    return re.sub(r"\n  at (\S*/)?tests/(hidden/)?test_\w+\.py:\d+, in the test\n", "\n  in the test's call:\n", text)
