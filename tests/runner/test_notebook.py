"""Notebooks: `kata notebook`, kata.check and kata.hint in a real Jupyter kernel (nbclient and ipykernel),
and a submitted notebook graded as its stage files."""

import contextlib
import io
import re
import resource
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest
from support import solve

from kata import notebook
from kata.cli import main
from kata.grading import tree
from kata.implementation import display_path
from kata.manifest import REPOSITORY_ROOT, stage_named, stages
from kata.results import FailureKind, Outcome, TestResult
from kata.stage_status import RecordedVerdicts, check_stages
from kata.workspace import copy_pristine_stubs, is_stub, next_hint

nbclient = pytest.importorskip("nbclient")  # the notebook extra, part of dev: pip install -e ".[dev]"
nbformat = pytest.importorskip("nbformat")
TransformerManager = pytest.importorskip("IPython.core.inputtransformer2").TransformerManager

pytestmark = [pytest.mark.meta, pytest.mark.end_to_end, pytest.mark.xdist_group("notebook-kernel")]

ESCAPES = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\")  # the colours and links of rich's text output
# One catalogued mistake of several stages, one of them in a stage that builds on another.
MISTAKES_SHOWN = [
    "vocabulary-in-order-of-appearance",
    "last-window-never-drawn",
    "loss-summed",
    "triu-for-tril",
    "feed-forward-without-relu",
]


def shown(cell) -> str:
    """What a cell's output says, as text on one line (rich wraps it in a panel's borders)."""
    texts = [output.get("text") or output.get("data", {}).get("text/plain", "") for output in cell.outputs]
    return " ".join(ESCAPES.sub("", "".join(texts)).replace("│", " ").split())


def cells_of(book, stage_name: str, role: str) -> list:
    return [cell for cell in book.cells if cell.metadata.get("kata") == {"stage": stage_name, "role": role}]


def mistake_named(name: str):
    """A catalogued mistake (tests/meta/catalogs/), also where this module runs without tests/meta's, which
    put that folder on sys.path for the catalogs' own imports of one another."""
    if (meta := str(REPOSITORY_ROOT / "tests" / "meta")) not in sys.path:
        sys.path.append(meta)
    from catalogs import MISTAKES

    return next(mistake for mistake in MISTAKES if mistake.name == name)


def reference_sources() -> dict[str, str]:
    return {stage.name: (REPOSITORY_ROOT / "solutions" / stage.module_file).read_text() for stage in stages()}


class Kernel:
    """A notebook and the live kernel that runs it, in the notebook's workspace."""

    def __init__(self, client, book, workspace):
        self.client, self.book, self.workspace = client, book, workspace
        self.stub_checks: dict[str, str] = {}  # what each check cell showed with the untouched stubs
        self.reference_checks: dict[str, str] = {}  # and with the references pasted in
        self.listed, self.list_exit_status = "", None  # what `kata list` in the workspace printed then

    def run(self, cell):
        self.client.execute_cell(cell, self.book.cells.index(cell))
        assert not [output for output in cell.outputs if output.get("name") == "stderr"], shown(cell)
        return shown(cell)

    def run_new(self, source: str) -> str:
        cell = nbformat.v4.new_code_cell(source)
        self.book.cells.append(cell)
        return self.run(cell)

    def check(self, stage_name: str) -> str:
        return self.run(cells_of(self.book, stage_name, "check")[0])


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def kernel(tmp_path_factory):
    """The notebook `kata notebook` writes, run top to bottom in a real kernel (the untouched stubs), then
    each stage's references pasted over its cells, as a learner would (imports over its imports, the code
    over its first cell to fill, the others emptied), and run again. Yields the kernel with each phase's
    check outputs."""
    workspace = tmp_path_factory.mktemp("workspace")
    assert main(["notebook", str(workspace)]) == 0
    book = nbformat.read(workspace / notebook.NOTEBOOK_FILE, as_version=4)
    client = nbclient.NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workspace)}}
    )
    with client.setup_kernel():
        running = Kernel(client, book, workspace)
        for cell in book.cells:
            if cell.cell_type == "code":
                running.run(cell)  # nbclient raises if a cell raises
        running.stub_checks = {stage.name: shown(cells_of(book, stage.name, "check")[0]) for stage in stages()}
        references = notebook.build_notebook(reference_sources(), kata_source="unused")
        for stage in stages():
            for imports, wanted in zip(
                cells_of(book, stage.name, "imports"), cells_of(references, stage.name, "imports"), strict=True
            ):  # none where the stage imports nothing
                imports.source = wanted.source
                running.run(imports)
            first, *others = cells_of(book, stage.name, "fill")
            first.source = "\n\n".join(cell.source for cell in cells_of(references, stage.name, "fill"))
            for other in others:
                other.source = ""
            running.run(first)
        running.reference_checks = {stage.name: running.check(stage.name) for stage in stages()}
        # Then the learner runs `kata list` in the workspace (here: it runs every stage's tests, longer than one
        # test may take under the kata's own time limit).
        with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()) as listed:
            patch.chdir(workspace)
            running.list_exit_status = main(["list"])
        running.listed = listed.getvalue()
        yield running


def test_kata_notebook_writes_the_path_as_one_notebook_and_the_stubs(tmp_path, capsys):
    assert main(["notebook", str(tmp_path)]) == 0
    path = tmp_path / notebook.NOTEBOOK_FILE
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    setup = book.cells[0]
    assert setup.cell_type == "code" and "pip" in setup.source and "kata.load_corpus()" in setup.source
    for stage in stages():
        roles = [
            cell.metadata["kata"]["role"]
            for cell in book.cells
            if cell.metadata.get("kata", {}).get("stage") == stage.name
        ]
        assert roles[0] == "teach" and roles[-2:] == ["experiment", "check"] and "fill" in roles, roles
        teaching = cells_of(book, stage.name, "teach")[0].source
        assert teaching.startswith(f"## {stage.label}") and "pytest -m" not in teaching
        fill = "\n".join(cell.source for cell in cells_of(book, stage.name, "fill"))
        assert "raise NotImplementedError" in fill
        assert "from s0" not in fill  # earlier stages' names are already defined in the kernel
        assert is_stub((tmp_path / "exercises" / stage.module_file).read_text())
    assert "youtube.com/watch?v=kCc8FmEb1nY&t=1331s" in cells_of(book, "s03_bigram", "teach")[0].source
    capsys.readouterr()
    path.write_text(path.read_text() + " ")
    assert main(["notebook", str(tmp_path)]) == 1
    assert "may hold your work" in capsys.readouterr().out and path.read_text().endswith(" ")
    assert main(["notebook", str(tmp_path), "--force"]) == 0 and not path.read_text().endswith(" ")


def test_a_module_holds_the_newest_definitions_and_what_they_read():
    cells = [
        ("cell [1]", "import torch\nimport torch.nn as nn\nfrom torch.nn import functional as F\nimport math"),
        ("cell [2]", "class BigramLanguageModel(nn.Module):\n    pass"),
        (
            "cell [3]",
            'SCALE = 2.0\nmodel = BigramLanguageModel()\nprint(model)\nget_ipython().run_line_magic("time", "model")',
        ),
        (
            "cell [4]",
            "# the newest version\nclass BigramLanguageModel(Base):\n    def forward(self, x):\n"
            "        return softened(x)\n\ndef softened(x):\n    return F.softmax(x / SCALE, -1)",
        ),
        ("cell [5]", "class Base(nn.Module):\n    pass\nHead = None"),
        ("cell [6]", "def broken(:\n    pass"),
    ]
    extracted = notebook.extract_stage(stage_named("s03_bigram"), notebook.definitions_in(cells), written_from="a test")
    source = extracted.source
    compile(source, "s03_bigram.py", "exec")
    assert not extracted.missing
    assert "pass" not in source.split("class Base")[0]  # only the newest BigramLanguageModel
    for kept in ("import torch.nn as nn", "from torch.nn import functional as F", "SCALE = 2.0", "def softened"):
        assert kept in source
    for left_out in ("import math", "import torch\n", "model =", "print", "broken"):
        assert left_out not in source
    assert source.index("class Base") < source.index("class BigramLanguageModel")  # a base class runs first
    line = source.splitlines().index("def softened(x):") + 1
    assert extracted.located(line) == "cell [4], line 6"
    stage_7 = notebook.extract_stage(
        stage_named("s07_transformer"),
        notebook.definitions_in([("cell [1]", "class Head:\n    pass\nclass MultiHeadAttention:\n    h = Head")]),
        written_from="a test",
    )
    assert "from s06_attention import Head" in stage_7.source and "class Head" not in stage_7.source
    assert stage_7.missing == ("FeedForward", "LayerNorm", "Block")


def test_a_name_built_from_its_own_earlier_value_keeps_that_value():
    """A learner in a notebook wrote EXTRA = list(...) then EXTRA = set(EXTRA), correct, which the module took only
    the second of: its import failed, and every test of the stage with it. The lecture's wei = wei / wei.sum(...)
    and count += 1 build a name the same way."""
    cells = [
        ("cell [1]", "import string\nEXTRA = list(string.ascii_letters)\nEXTRA = set(EXTRA)"),
        ("cell [2]", "wei = torch.ones(3, 3)\nwei = wei / wei.sum(1, keepdim=True)\ncount = 0\ncount += 1"),
        ("cell [3]", "import torch\ndef build_vocabulary(text):\n    return sorted(set(text) | EXTRA)"),
        ("cell [4]", "def average_matmul(x):\n    return wei @ x * count"),
    ]
    definitions = notebook.definitions_in(cells)
    for stage_name, kept in (
        ("s01_tokenizer", ["import string", "EXTRA = list(", "EXTRA = set(EXTRA)"]),
        ("s05_averaging", ["import torch", "wei = torch.ones(3, 3)", "wei = wei / wei.sum", "count = 0", "count += 1"]),
    ):
        source = notebook.extract_stage(stage_named(stage_name), definitions, written_from="a test").source
        positions = [source.index(line) for line in kept]
        assert positions == sorted(positions), source


def test_statements_that_share_a_line_are_kept_apart():
    cells = [("cell 1", "A = 1; B = A  # B reads A\nC = B  # C reads B\nD = C; print(D)")]
    sources = {next(iter(d.binds)): d.source for d in notebook.definitions_in(cells)}
    assert sources == {"A": "A = 1", "B": "B = A", "C": "C = B  # C reads B", "D": "D = C"}


def test_a_statement_deeper_than_unparsing_reaches_costs_the_notebook_nothing(tmp_path):
    """A red-team pass found a notebook refused whole ("could not be read (RecursionError)", 0 points for correct
    code) for one cell holding a sum of 400 terms, which Python runs but ast.unparse cannot write back."""
    total = " + ".join(["1"] * 400)
    function = "def build_vocabulary(text):\n    assert WEIGHTS == 400 * a\n    return sorted(set(text))"
    cells = [f"WEIGHTS = {total}", f"a = 1; b = {total}", function]
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    nbformat.write(book, tmp_path / "deep.ipynb")
    written = notebook.stage_files_from_notebook(tmp_path / "deep.ipynb", tmp_path / "deep").files[0].read_text()
    assert f"WEIGHTS = {total}" in written and "a = 1" in written and function in written
    assert "b = " not in written  # where it shares a line, such a statement is left out


def test_a_submitted_notebook_is_read_in_time_that_grows_with_its_statements(tmp_path):
    """It is read outside the sandbox: 20,000 statements, all read by one stage function, took 13 times the CPU
    time of 2,000 here (0.67 and 0.05 s), where it took 100 times as long (a minute) when each statement was
    compared with every other. CPU time, and a ratio, so that a busy machine changes neither."""

    def cpu_seconds_to_read(count: int, *, read: int = 0) -> float:
        names = [f"a{i}" for i in range(count)]
        code = (  # a cell never read before: the definitions of one read again are remembered
            f"# read {read}\n"
            + "".join(f"{name} = 1\n" for name in names)
            + f"def build_vocabulary(text):\n    return [{', '.join(names)}]\n"
        )
        path = tmp_path / f"{count}-{read}.ipynb"
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)
        started = time.process_time()
        files = notebook.stage_files_from_notebook(path, tmp_path / path.stem).files
        assert f"a{count - 1} = 1" in files[0].read_text()
        return time.process_time() - started

    fewer = min(cpu_seconds_to_read(2_000, read=read) for read in range(3))
    assert cpu_seconds_to_read(20_000) < 40 * fewer


def test_a_notebook_swapped_for_a_link_once_checked_is_graded_as_it_was_read(tmp_path, monkeypatch):
    """A red-team pass (2026-12-07): a student who could write the notebook's folder swapped the notebook for a link
    to another one (the references, which only the grader's user could read) as the grader's reader started, and
    the reader, which opened the path again, graded that one: 15 of 15 for a notebook without stage 5."""
    from kata.grading import notebook_reader

    book = notebook.build_notebook(reference_sources(), kata_source="unused")
    nbformat.write(book, tmp_path / "references.ipynb")
    book.cells = [cell for cell in book.cells if cell.metadata.get("kata", {}).get("stage") != "s05_averaging"]
    nbformat.write(book, tmp_path / "mallory.ipynb")
    read = notebook_reader.read_notebook

    def swapped_first(*arguments):
        (tmp_path / "link.ipynb").symlink_to(tmp_path / "references.ipynb")
        (tmp_path / "link.ipynb").rename(tmp_path / "mallory.ipynb")
        return read(*arguments)

    monkeypatch.setattr(notebook_reader, "read_notebook", swapped_first)
    copy = tree.copy_submission(tmp_path / "mallory.ipynb", tmp_path / "copy")
    assert not copy.refused, copy.refused
    assert "def train(" in (copy.folder / "s04_training.py").read_text()
    assert "def average_loops(" not in (copy.folder / "s05_averaging.py").read_text()


def test_a_line_break_in_a_notebook_s_name_stays_in_the_modules_first_line(tmp_path):
    """A red-team pass (2026-12-07): a notebook named "x\\nname.ipynb" ended the header comment of every module
    written from it, and the rest of its name became code."""
    text = nbformat.writes(notebook.build_notebook(reference_sources(), kata_source="unused"))
    files = notebook.stage_files_from_notebook(Path("x\nraise SystemExit.ipynb"), tmp_path / "x", text=text).files
    first, second = files[0].read_text().splitlines()[:2]
    assert first.endswith("'x\\nraise SystemExit.ipynb': edit the notebook, not this file.") and second.startswith(
        '"""'
    )


@pytest.fixture(scope="module")
def seconds_to_grade_a_notebook(tmp_path_factory) -> float:
    """The wall time the grader takes to read the kata's own notebook, every reference pasted in (0.25 s here):
    the measure, on whatever else this machine is doing, of a notebook it refuses unread."""
    folder = tmp_path_factory.mktemp("measured")
    nbformat.write(notebook.build_notebook(reference_sources(), kata_source="unused"), folder / "references.ipynb")
    started = time.perf_counter()
    assert not tree.copy_submission(folder / "references.ipynb", folder / "copy").refused
    return time.perf_counter() - started


def test_a_submitted_notebook_of_more_statements_than_the_grader_reads_is_refused_unread(
    tmp_path, seconds_to_grade_a_notebook
):
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("a = 1\n" * 100_000 + "b = 2;" * 100_000)])
    nbformat.write(book, tmp_path / "huge.ipynb")
    started = time.perf_counter()
    copy = tree.copy_submission(tmp_path / "huge.ipynb", tmp_path / "copy")
    assert time.perf_counter() - started < 20 * seconds_to_grade_a_notebook  # parsing it: a minute
    assert copy.refused == [
        "huge.ipynb: its code cells hold up to 200,001 statements, more than the 50,000 the grader reads: not graded"
    ]


def test_a_submitted_notebook_of_many_magics_in_a_long_cell_is_refused_unread(tmp_path, seconds_to_grade_a_notebook):
    """IPython reads a cell again for each magic it rewrites: 60 shell lines in a cell of 1 MB took the
    grader 3 minutes (a red-team finding); 499 would take hours."""
    code = "!echo x\n" * 60 + "s = [" + "a, " * 330_000 + "]\n"
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbformat.write(book, tmp_path / "slow.ipynb")
    started = time.perf_counter()
    copy = tree.copy_submission(tmp_path / "slow.ipynb", tmp_path / "copy")
    assert time.perf_counter() - started < 20 * seconds_to_grade_a_notebook  # reading it: minutes
    assert len(copy.refused) == 1 and "its magics, shell lines and other escapes" in copy.refused[0]


@pytest.mark.parametrize("escape", ["/print 1", "?print", ",print a", ";print a"])
def test_every_escape_ipython_rewrites_counts_against_the_bound(tmp_path, escape, seconds_to_grade_a_notebook):
    """Lines IPython rewrites besides magics and the shell (a red-team pass: 60 of them with a 1 MB line held
    the grader for minutes) count too."""
    code = f"{escape}\n" * 60 + "s = [" + "a, " * 330_000 + "]\n"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), tmp_path / "slow.ipynb")
    started = time.perf_counter()
    copy = tree.copy_submission(tmp_path / "slow.ipynb", tmp_path / "copy")
    assert time.perf_counter() - started < 20 * seconds_to_grade_a_notebook  # reading it: minutes
    assert len(copy.refused) == 1 and "other escapes (%, !, ?) would take reading" in copy.refused[0]


def test_a_notebook_built_to_exhaust_the_grader_s_memory_is_refused_in_its_reader(tmp_path):
    """Parsing takes hundreds of times a statement's size in memory: one 7 MB list took the grader 4 GB (a
    red-team finding). The notebook is read in a child of bounded memory, which refuses it: in 10 s of its CPU
    time here, which the grader waits for however busy the machine (it once cut a busy child off at 60 s)."""
    code = "x = [" + "1," * 3_500_000 + "]\n"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), tmp_path / "big.ipynb")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    copy = tree.copy_submission(tmp_path / "big.ipynb", tmp_path / "copy")
    assert copy.refused == ["big.ipynb could not be read within the grader's 1024 MiB and 60 s of CPU time: not graded"]
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: not in this process


def test_a_cell_under_time_or_capture_defines_what_it_holds(tmp_path):
    """%%time and %%capture run their cell in the notebook's namespace; IPython's transform hides the cell in a
    string (run_cell_magic), where a check once found no definition the kernel had."""
    cell = "%%time\n%%capture printed\ndef build_vocabulary(text):\n    return sorted(set(text))\n"
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    nbformat.write(book, tmp_path / "timed.ipynb")
    files = notebook.stage_files_from_notebook(tmp_path / "timed.ipynb", tmp_path / "timed").files
    assert "def build_vocabulary(text):\n    return sorted(set(text))" in files[0].read_text()
    [definition] = notebook.definitions_in([("cell [3]", notebook.as_python(cell, TransformerManager()))])
    assert definition.binds == {"build_vocabulary"} and definition.first_line == 3  # the line in the cell as written


def test_a_submitted_notebook_is_graded_as_its_stage_files(tmp_path):
    book = notebook.build_notebook(reference_sources(), kata_source="unused")
    book.cells.insert(2, nbformat.v4.new_code_cell("%matplotlib inline\n!echo experiments are left out"))
    book.cells.append(nbformat.v4.new_code_cell("raise SystemExit('an experiment that is never graded')"))
    book.cells = [cell for cell in book.cells if cell.metadata.get("kata", {}).get("stage") != "s05_averaging"]
    nbformat.write(book, tmp_path / "alice.ipynb")
    files = notebook.stage_files_from_notebook(tmp_path / "alice.ipynb", tmp_path / "alice").files
    assert [path.name for path in files] == [stage.module_file for stage in stages()]
    assert "Written by kata from alice.ipynb" in files[0].read_text()
    selected = [stage_named(name) for name in ("s02_batches", "s05_averaging", "s07_transformer")]
    statuses = check_stages(tmp_path / "alice", selected)
    assert statuses["s02_batches"].done and statuses["s07_transformer"].done  # a helper; a stage built on another
    # said in the notebook's words: neither the module written from its cells nor `kata reset` is the student's
    assert statuses["s05_averaging"].first_failure.message.startswith("No code cell of the notebook defines ")


def test_imports_of_a_stage_s_module_in_a_notebook_stand_for_no_definition(tmp_path):
    """A red-team pass: stage 7's file pasted whole into its cell (`from s06_attention import Head` included),
    and `from s04_training import train` in stage 8's experiments, made those stages' modules import
    themselves, and a correct notebook lost six stages."""
    book = notebook.build_notebook(reference_sources(), kata_source="unused")
    first, *others = cells_of(book, "s07_transformer", "fill")
    first.source = reference_sources()["s07_transformer"]
    for other in others:
        other.source = ""
    cells_of(book, "s08_gpt", "experiment")[
        0
    ].source = "from s04_training import estimate_loss, train\nimport s06_attention"
    nbformat.write(book, tmp_path / "pasted.ipynb")
    files = notebook.stage_files_from_notebook(tmp_path / "pasted.ipynb", tmp_path / "pasted").files
    assert (
        "from s06_attention import" not in files[5].read_text() and "import s06_attention" not in files[5].read_text()
    )
    assert "from s04_training import" not in files[3].read_text()
    selected = [stage_named(name) for name in ("s04_training", "s06_attention", "s07_transformer")]
    statuses = check_stages(tmp_path / "pasted", selected)
    assert all(status.done for status in statuses.values()), statuses


def test_a_method_added_to_a_class_in_a_later_cell_is_graded_with_it(tmp_path):
    """A red-team pass: `BigramLanguageModel.generate = generate` in the cell after the class was left out, so a
    notebook whose kernel had the method scored 0 where the same code in a file scored 15."""
    source = reference_sources()["s03_bigram"]
    head, method = source.split("    def generate(", 1)
    function = textwrap.dedent("    def generate(" + method)
    cells = [head, function + "\n\nBigramLanguageModel.generate = generate", "setattr(BigramLanguageModel, 'x', 1)"]
    # A second pass: the method attached is the `generate` bound when that line ran, not a later one of the
    # name (stage 10's, or an experiment's helper), as Run All leaves it.
    cells.append("def generate(model, idx):\n    return idx  # an experiment's helper, of the same name")
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    nbformat.write(book, tmp_path / "split.ipynb")
    written = notebook.stage_files_from_notebook(tmp_path / "split.ipynb", tmp_path / "split").files[2].read_text()
    assert "BigramLanguageModel.generate = generate" in written and "setattr(BigramLanguageModel" in written
    assert "an experiment's helper" not in written
    assert check_stages(tmp_path / "split", [stage_named("s03_bigram")])["s03_bigram"].done
    # with stage 10's generate in the notebook too, the attached one is still the cell's own
    book.cells.insert(3, nbformat.v4.new_code_cell(reference_sources()["s10_generation"]))
    nbformat.write(book, tmp_path / "split.ipynb")
    written = notebook.stage_files_from_notebook(tmp_path / "split.ipynb", tmp_path / "split").files[2].read_text()
    assert "from s10_generation import" not in written, written


def test_a_grade_names_the_cell_a_name_came_from_where_another_ran_last_or_another_stage_bound_it(tmp_path):
    """A notebook is graded in the order of its cells, as Run All runs them. A red-team pass: a fix written
    above the wrong definition and run last, and stage 8's `train, val = ...` after stage 4's train, lost
    points with no word on which cell was graded."""
    book = notebook.build_notebook(reference_sources(), kata_source="unused")
    for count, cell in enumerate(cell for cell in book.cells if cell.cell_type == "code"):
        cell.execution_count = count + 1
    first = cells_of(book, "s05_averaging", "fill")[0]
    fix = nbformat.v4.new_code_cell("def average_matmul(x):\n    return x", execution_count=999)
    book.cells.insert(book.cells.index(first), fix)
    cells_of(book, "s08_gpt", "experiment")[0].source = "train, val = 1, 2"
    nbformat.write(book, tmp_path / "order.ipynb")
    copy = tree.copy_submission(tmp_path / "order.ipynb", tmp_path / "copy")
    assert not copy.refused
    assert any(
        note.startswith("average_matmul is graded from cell ")
        and "the last of the cells that define it" in note
        and f"cell {book.cells.index(fix) + 1} ran after it when the notebook was saved ([999] against [" in note
        for stage, note in copy.notes
    ), copy.notes
    again = "a cell of Stage 8 · The full GPT that binds or changes it after Stage 4 · Training loop's own cells"
    assert any(
        stage == "s04_training" and note.startswith("train is graded from cell") and again in note
        for stage, note in copy.notes
    ), copy.notes
    assert len(copy.notes) == 2, copy.notes


def test_a_statement_between_imports_gets_a_cell_of_its_own():
    """build_notebook took every line up to the last import as imports: a constant between two imports was lost."""
    source = "import torch\n\nTRIL = torch.tril(torch.ones(8, 8))\nimport math\n\n\ndef f():\n    return TRIL\n"
    cells = [cell.source for cell in notebook._stage_cells(stage_named("s05_averaging"), source)]
    assert cells[1:4] == ["import torch\nimport math", source.splitlines()[2], "def f():\n    return TRIL"]


def test_a_grade_cites_the_cell_and_line_a_failure_points_to_not_the_module_written_from_them(tmp_path):
    """A graded notebook's failures said `at s04_training.py:20, in train_step`, a file its student never saw."""
    book = notebook.build_notebook(reference_sources(), kata_source="unused")
    cell = next(cell for cell in cells_of(book, "s05_averaging", "fill") if "def average_loops" in cell.source)
    cell.source = cell.source.replace("    B, T, C = x.shape\n", "    B, T, C = x.shape\n    1 / 0\n")
    nbformat.write(book, tmp_path / "raises.ipynb")
    copy = tree.copy_submission(tmp_path / "raises.ipynb", tmp_path / "copy")
    module = (tmp_path / "copy" / "s05_averaging.py").read_text().splitlines()
    line = module.index("    1 / 0") + 1
    where = f"cell {book.cells.index(cell) + 1}, line {cell.source.splitlines().index('    1 / 0') + 1}"
    raised = f"Your code raised ZeroDivisionError: division by zero\n  at s05_averaging.py:{line}, in average_loops"
    result = TestResult("t", "s05_averaging", Outcome.FAILED, FailureKind.RAISED, raised, f"s05_averaging.py:{line}")
    cited = copy.in_notebook_words(result)
    assert cited.message == raised.replace(f"s05_averaging.py:{line}", where) and cited.location == where
    assert copy.cites_cells([cited]) and not copy.cites_cells([result])
    # a line the module wrote itself (its header), a stage file's path, and a test's line are left as they are
    other = f"at s05_averaging.py:1, in <module>; exercises/s05_averaging.py:{line}; test_s05_averaging.py:{line}"
    assert copy.in_notebook_words(replace(result, message=other, location="")).message == other
    importing = f"Importing s05_averaging.py raised NameError: name 'x' is not defined (line {line})"
    said = copy.in_notebook_words(replace(result, message=importing)).message
    assert said == importing.replace(f"line {line}", where)
    said = copy.in_notebook_words(replace(result, message="Make `pytest -m s04_training` pass first.")).message
    assert said == 'Make `kata.check("s04_training")` pass first.'


def test_a_class_body_that_reads_the_global_of_a_field_s_name_is_graded_with_that_global(tmp_path):
    """The lecture's constants as a dataclass's defaults, `block_size: int = block_size`: symtable counts the name
    as the class's own, and a walk-through found the module written without the constants (a NameError)."""
    cells = [
        "vocab_size = 65\nblock_size = 256",
        "from dataclasses import dataclass\n\n@dataclass\nclass GPTConfig:\n    vocab_size: int = vocab_size\n"
        "    block_size: int = block_size\n\n    def size(self) -> int:\n        return helper(self.block_size)",
        "block_size = 8  # a later experiment\ndef helper(n):\n    return n",
    ]
    book = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    nbformat.write(book, tmp_path / "config.ipynb")
    written = notebook.stage_files_from_notebook(tmp_path / "config.ipynb", tmp_path / "config").files[7].read_text()
    namespace = {}
    exec(compile(written, "s08_gpt.py", "exec"), namespace)  # noqa: S102 (the module the check would import)
    assert namespace["GPTConfig"]().block_size == 256 and namespace["GPTConfig"]().size() == 256  # as Run All


def test_the_untouched_stubs_report_not_implemented_yet_and_raise_nothing(kernel):
    for stage in stages():
        output = kernel.stub_checks[stage.name]
        assert "not started" in output and "is not implemented yet" in output, output
        assert f"({stage.module_file})" not in output and f"/{stage.module_file}" not in output, output  # cells
        assert re.search(r"Edit cell \[\d+\], line \d+, run that cell", output), output
        assert "Traceback" not in output and "kata/" not in output


def test_the_references_pasted_into_the_cells_pass_every_check(kernel):
    for stage in stages():
        assert "done: all public tests pass" in kernel.reference_checks[stage.name], kernel.reference_checks[stage.name]


def test_kata_list_counts_the_stages_passed_in_the_notebook(kernel):
    assert kernel.list_exit_status == 0
    assert f"{len(stages())} of {len(stages())} stages done" in kernel.listed, kernel.listed


@pytest.mark.parametrize("name", MISTAKES_SHOWN)
def test_a_catalogued_mistake_shows_its_diagnosis_in_the_check_cell(kernel, name):
    mistake = mistake_named(name)
    cell = cells_of(kernel.book, mistake.stage, "fill")[0]
    reference = cell.source
    for old, new in mistake.edits:
        assert cell.source.count(old) == 1, old
        cell.source = cell.source.replace(old, new)
    try:
        kernel.run(cell)
        output = kernel.check(mistake.stage)
    finally:
        cell.source = reference
        kernel.run(cell)
    assert mistake.diagnosis in output and "First failing test" in output and "Traceback" not in output, output
    assert re.search(r"(Edit .*|This check graded .*) cell \[\d+\]", output), output


def test_a_definition_its_cell_never_ran_is_said(kernel):
    """A learner's cell raised at its first line, so its build_vocabulary never ran and the kernel kept an earlier
    one, and another cell did not compile: the check graded the source it could read and said neither."""
    cell = cells_of(kernel.book, "s01_tokenizer", "fill")[0]
    reference = cell.source
    raising = "print(undefined_name)\n\n" + reference
    try:
        for source in (raising, "def build_vocabulary(text:\n    return sorted(set(text))"):
            cell.source = source
            cell.metadata["tags"] = ["raises-exception"]  # nbclient goes on past it, as Jupyter does
            kernel.client.execute_cell(cell, kernel.book.cells.index(cell))
        said = kernel.check("s01_tokenizer")
    finally:
        cell.source = reference
        cell.metadata.pop("tags")
        kernel.run(cell)
    lines = reference.splitlines()
    line = 3 + lines.index(next(text for text in lines if text.startswith("def build_vocabulary")))  # 2 lines added
    assert f"raised at line 1, before its build_vocabulary (line {line}) ran" in said, said
    assert "names build_vocabulary but does not compile" in said, said
    assert "names build_vocabulary" not in kernel.check("s01_tokenizer")  # the reference run again, after both


def test_a_check_grades_the_definitions_run_last_not_those_it_saw_first(kernel):
    """The ipytest trap: after a cell is edited and run again, the check must grade the new definition."""
    mistake = mistake_named("loss-summed")
    cell = cells_of(kernel.book, "s03_bigram", "fill")[0]
    reference = cell.source
    assert "done: all public tests pass" in kernel.check("s03_bigram")
    ((old, new),) = mistake.edits
    cell.source = reference.replace(old, new)
    kernel.run(cell)
    after_the_edit = kernel.check("s03_bigram")
    assert "done:" not in after_the_edit and mistake.diagnosis in after_the_edit, after_the_edit
    # A wrong value has no line to point to: the check names the cell it graded the class from.
    assert re.search(rf"BigramLanguageModel (from|in) cell \[{cell.execution_count}\]", after_the_edit), after_the_edit
    kernel.run_new(reference)  # the same class defined again in a new cell below: the newest wins
    assert "done: all public tests pass" in kernel.check("s03_bigram")
    cell.source = reference
    kernel.run(cell)


def test_a_check_shows_a_running_line_that_its_verdict_replaces(kernel):
    cell = cells_of(kernel.book, "s01_tokenizer", "check")[0]
    kernel.run(cell)
    displayed = [output["data"] for output in cell.outputs if output.get("output_type") == "display_data"]
    assert displayed[0] == {"text/plain": ""}, cell.outputs  # the running line, emptied as the verdict came
    assert "running the tests" not in shown(cell) and "done: all public tests pass" in shown(cell)


def test_a_later_check_says_when_an_earlier_stage_changed_since_it_passed(kernel):
    """Stage 8's check writes stage 7 as the kernel has it: a stage 7 broken since it passed is said, not hidden."""
    assert "done: all public tests pass" in kernel.check("s07_transformer")
    cell = cells_of(kernel.book, "s07_transformer", "fill")[0]
    reference = cell.source
    for old, new in mistake_named("feed-forward-without-relu").edits:
        cell.source = cell.source.replace(old, new)
    try:
        kernel.run(cell)
        output = kernel.check("s08_gpt")
    finally:
        cell.source = reference
        kernel.run(cell)
        assert "done: all public tests pass" in kernel.check("s07_transformer")
    changed = 'has changed in this kernel since its check passed: check it again, kata.check("s07_transformer")'
    assert changed in output, output
    assert changed not in kernel.check("s08_gpt")  # stage 7 as it passed


def test_a_later_stage_s_imports_run_again_change_no_earlier_stage(kernel):
    """Stage 7's cell of imports, run again, made a newer cell the source of stage 6's imports (F, which stage 6
    reads only when its functions are called, still comes from the newest): the same code as passed, so nothing
    to check again, and `kata list` still counts stage 6 done."""
    assert "done: all public tests pass" in kernel.check("s06_attention")
    imports = cells_of(kernel.book, "s07_transformer", "imports")[0]
    kernel.run(imports)
    again = kernel.book.cells[-1] if kernel.run_new("from torch.nn import functional as F") == "" else None
    output = kernel.check("s07_transformer")
    assert "done: all public tests pass" in output and "has changed" not in output, output
    written = (kernel.workspace / "exercises" / "s06_attention.py").read_text()
    assert f"# cell [{again.execution_count}]\nfrom torch.nn import functional as F" in written, written
    recorded = RecordedVerdicts(kernel.workspace / "exercises").lookup(stage_named("s06_attention"))
    assert recorded is not None and recorded.done


def test_an_earlier_stage_s_class_redefined_in_a_later_stage_s_cell_is_noticed(kernel):
    """A post-norm Block pasted into the GPT's cell, after stage 7's imports ran again (stage 6's file is then
    written from newer cells): stage 8's check says stage 7 changed, and after stage 7's check failed, each
    stage-8 check says that it did."""
    assert "done: all public tests pass" in kernel.check("s07_transformer")
    kernel.run(cells_of(kernel.book, "s07_transformer", "imports")[0])
    block = (REPOSITORY_ROOT / "solutions" / "s07_transformer.py").read_text().split("\nclass Block", 1)[1]
    ((old, new),) = mistake_named("post-norm-for-both-sublayers").edits
    gpt = cells_of(kernel.book, "s08_gpt", "fill")[0]
    reference = gpt.source
    gpt.source = "class Block" + block.replace(old, new) + "\n\n" + reference
    try:
        kernel.run(gpt)
        changed = 'has changed in this kernel since its check passed: check it again, kata.check("s07_transformer")'
        assert changed in kernel.check("s08_gpt")
        assert "That is post-norm" in kernel.check("s07_transformer")
        assert "did not pass its last check (" in kernel.check("s08_gpt")
    finally:
        gpt.source = reference
        kernel.run(gpt)
        kernel.run(cells_of(kernel.book, "s07_transformer", "fill")[0])  # the right Block, newest again
        assert "done: all public tests pass" in kernel.check("s07_transformer")


def test_hints_in_a_cell_come_one_after_another_and_kata_hint_shares_the_count(kernel):
    stage = stage_named("s04_training")
    assert f"Hint 1 of {len(stage.hints)}" in kernel.run_new('kata.hint("s04_training")')
    assert f"Hint 2 of {len(stage.hints)}" in kernel.run_new('kata.hint("s04_training")')
    assert next_hint(stage, kernel.workspace / "exercises").number == 3


def test_a_check_says_what_is_wrong_without_a_traceback(kernel, capsys, monkeypatch):
    assert "no stage called 's99'" in kernel.run_new('kata.check("s99")')
    notebook.check("s03_bigram")  # in this test process, outside a kernel
    assert "call it in Jupyter or Colab" in " ".join(capsys.readouterr().out.split())
    monkeypatch.setattr(notebook, "_cells_this_kernel_ran", lambda: [("cell [1]", "def train_step(): pass")])
    notebook.check("s04_training")
    said = " ".join(capsys.readouterr().out.split())
    assert "This kernel has not run a definition of estimate_loss, train yet" in said
    assert "code at the top level of a cell (the lecture's chars = ..., encode = lambda s: ...)" in said
    misspelt = [("cell [1]", "def train_step(): pass\ndef estimate_los(): pass\ndef train(): pass")]
    monkeypatch.setattr(notebook, "_cells_this_kernel_ran", lambda: misspelt)
    notebook.check("s04_training")
    assert "Cell [1] defines estimate_los: is that estimate_loss misspelt?" in " ".join(capsys.readouterr().out.split())


def test_a_misspelt_definition_run_after_the_right_one_is_named_with_the_one_graded():
    definitions = notebook.definitions_in(
        [("cell [3]", "class Block:\n    pass"), ("cell [9]", "class Blokc:\n    pass\nclass Head:\n    pass")]
    )
    assert notebook._near_misses(["Block"], definitions) == [
        "Cell [9] defines Blokc after the Block this check grades, from cell [3]: is that Block misspelt?"
    ]
    assert notebook._near_misses(["Head"], definitions) == []  # another stage's name is no misspelling


def test_a_definition_whose_cell_raised_before_binding_it_is_said(monkeypatch):
    """After a restart a stage's cells may raise NameError (an annotation names an earlier stage's class): the
    source is graded, and the note says the kernel holds no such definition."""
    IPython = pytest.importorskip("IPython")
    extracted = notebook.ExtractedStage(stage_named("s09_fast_attention"), "", {}, (), {"fast_gpt": "cell [4]"})
    monkeypatch.setattr(IPython, "get_ipython", lambda: type("Shell", (), {"user_ns": {}})())
    assert notebook._never_bound(extracted) == [
        "Cell [4] defines fast_gpt, but when it ran it raised before fast_gpt was defined: run the cells it needs, "
        "then it again."
    ]
    monkeypatch.setattr(IPython, "get_ipython", lambda: type("Shell", (), {"user_ns": {"fast_gpt": None}})())
    assert notebook._never_bound(extracted) == []


def test_the_stop_button_during_a_check_says_so_without_a_traceback(tmp_path, capsys, monkeypatch):
    reference = (REPOSITORY_ROOT / "solutions" / "s01_tokenizer.py").read_text()
    monkeypatch.setattr(notebook, "_cells_this_kernel_ran", lambda: [("cell [1]", reference)])
    monkeypatch.setattr(notebook, "_session", notebook._Session(copy_pristine_stubs(tmp_path / "exercises")))

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(notebook, "check_stages", interrupted)
    notebook.check("s01_tokenizer")
    assert "The check was interrupted: nothing was graded" in " ".join(capsys.readouterr().out.split())


def test_messages_speak_of_cells_and_kata_check_in_the_notebook(tmp_path):
    stage = stage_named("s07_transformer")
    extracted = notebook.ExtractedStage(stage, "", {12: ("cell [5]", 3)}, (), {"Block": "cell [5]"})
    file = display_path(tmp_path / "s07_transformer.py")
    text = f"Block.forward is not implemented yet ({file}) at {file}:12. Make `pytest -m s07_transformer` pass first."
    assert notebook._in_cells(text, {stage.name: extracted}, tmp_path) == (
        'Block.forward is not implemented yet at cell [5], line 3. Make `kata.check("s07_transformer")` pass first.'
    )


def test_a_file_written_by_hand_is_backed_up_before_a_check_replaces_it(exercises_copy):
    solve(exercises_copy, "s01_tokenizer")
    path = exercises_copy / "s01_tokenizer.py"
    mine = path.read_text()
    notebook._write_stage_file(path, "# Written by kata from the notebook's cells\n")
    (backup,) = (exercises_copy.parent / ".kata" / "backups").iterdir()
    assert backup.read_text() == mine
    notebook._write_stage_file(path, "# Written by kata from the notebook's cells, again\n")
    assert len(list((exercises_copy.parent / ".kata" / "backups").iterdir())) == 1  # its own files are not kept


def test_a_line_of_the_kata_s_tests_is_quoted_without_their_path(tmp_path):
    """A notebook shows no tests/ folder: the test's line is quoted as its call."""
    for path in ("/work/kata/tests/test_s07_transformer.py", "tests/hidden/test_s07_transformer_hidden.py"):
        message = f"The test's call into your code raised KeyError: 'x'.\n  at {path}:190, in the test\n      ln(given)"
        said = notebook._in_cells(message, {}, tmp_path)
        assert said == "The test's call into your code raised KeyError: 'x'.\n  in the test's call:\n      ln(given)"
