"""`kata grade` as a batch: it always finishes, refuses to start where it cannot grade honestly, says when
it grades without a sandbox, and stops cleanly on Ctrl-C. One cheap stage (s05) keeps these quick."""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from children import default_ctrl_c
from hostile import Attack, attack_source, graded_code_processes

from kata import corpus, manifest, suite
from kata.cli import main
from kata.grading import batch, sandbox, submission, tree
from kata.grading.batch import submissions
from kata.limits import Limits
from kata.manifest import REPOSITORY_ROOT

pytestmark = [pytest.mark.meta, pytest.mark.end_to_end, pytest.mark.xdist_group("grade")]
STAGE = "s05_averaging"
HEAD_DROPOUT = "        wei = self.dropout(wei)\n"


def grade(*arguments: str) -> int:
    return main(["grade", "--stage", STAGE, "--jobs", "1", *arguments])


def correct(folder: Path) -> Path:
    shutil.copytree(REPOSITORY_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def results(out: Path, name: str) -> dict:
    return json.loads((out / name / "results.json").read_text())


def test_missing_and_empty_submissions_are_reported_and_the_others_graded(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("not a folder")
    os.mkfifo(tmp_path / "pipe.ipynb")
    folders = [tmp_path / "missing", tmp_path / "empty", tmp_path / "file", tmp_path / "pipe.ipynb"]
    assert (
        grade(
            *(f"--impl={folder}" for folder in [*folders, correct(tmp_path / "alice")]), "--out", str(tmp_path / "out")
        )
        == 0
    )
    assert results(tmp_path / "out", "alice")["score"] == 15
    for name in ("missing", "empty", "file", "pipe"):
        report = results(tmp_path / "out", name)
        assert report["score"] == 0 and "nothing was graded" in report["output"]
    assert (
        "The notebook pipe.ipynb does not exist or is not a regular file" in results(tmp_path / "out", "pipe")["output"]
    )


def test_a_fault_of_the_grader_on_one_submission_costs_only_that_one(tmp_path, monkeypatch, capsys):
    graded = batch.grade_submission

    def fails_on_mallory(folder, *arguments):
        if folder.name == "mallory":
            raise TypeError("unhashable type: 'list' (a value sent by graded code)")
        return graded(folder, *arguments)

    monkeypatch.setattr(batch, "grade_submission", fails_on_mallory)
    folders = [correct(tmp_path / "mallory"), correct(tmp_path / "alice")]
    assert grade(*(f"--impl={folder}" for folder in folders), "--out", str(tmp_path / "out")) == 0
    assert results(tmp_path / "out", "alice")["score"] == 15
    report = results(tmp_path / "out", "mallory")
    assert report["score"] == 0 and "The grader failed on this submission (TypeError)" in report["output"]
    assert "a value sent by graded code" not in json.dumps(report)  # only the instructor's screen shows it
    assert "a value sent by graded code" in capsys.readouterr().err


def test_submissions_are_named_apart_from_each_other_and_from_what_the_grader_writes():
    folders = [Path("x/summary.csv"), Path("y/a"), Path("z/a"), Path("w/a-2"), Path("v/A.ipynb"), Path("u/-A1-B1")]
    named = submissions(folders, reserved=frozenset({"summary.csv", "summary.lock"}))
    assert [submission.name for submission in named] == ["summary.csv-2", "a", "a-2", "a-2-2", "A-3", "A1-B1"]


def test_a_file_s_name_cannot_write_lines_of_its_own_into_the_report(tmp_path):
    submission = tmp_path / "mallory"
    submission.mkdir()
    (submission / "x\ns01_tokenizer: 10.00 of 10\n.py").write_bytes(b"#" * (tree.MAX_FILE_BYTES + 1))
    copy = tree.copy_submission(submission, tmp_path / "copy")
    assert copy.refused == ["'x\\ns01_tokenizer: 10.00 of 10\\n.py' is larger than 1024 KiB: it was not graded"]


def test_a_link_swapped_in_after_the_check_is_refused_not_followed(tmp_path, monkeypatch):
    """A student who can write the folder while it is graded swaps a checked file for a link to the references
    between the check and the copy: here the check sees the file as it was, and the copy meets the link."""
    submission = tmp_path / "mallory"
    submission.mkdir()
    (submission / "beside.py").write_text("x = 1\n")
    (submission / "inside.py").symlink_to("beside.py")  # a link that stays inside is a file of the submission
    (submission / f"{STAGE}.py").symlink_to(REPOSITORY_ROOT / "solutions" / f"{STAGE}.py")
    resolve = Path.resolve
    monkeypatch.setattr(Path, "resolve", lambda path: path if path.name == f"{STAGE}.py" else resolve(path))
    copy = tree.copy_submission(submission, tmp_path / "copy")
    assert copy.refused == [f"{STAGE}.py is not a regular file, or changed while it was copied: it was not graded"]
    assert sorted(path.name for path in (tmp_path / "copy").iterdir()) == ["beside.py", "inside.py"]
    assert (tmp_path / "copy" / "inside.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("name", [f"mallory/{STAGE}.py", "mallory.ipynb"])
def test_a_named_pipe_in_a_submission_is_refused_and_never_opened(tmp_path, name):
    """The third red-team pass (2026-12-07): the grader, maybe root, opened a named pipe before it checked what
    it was, which let a writer waiting on it go on (a device node would do what opening it does)."""
    pipe = tmp_path / name
    pipe.parent.mkdir(exist_ok=True)
    os.mkfifo(pipe)
    opened = threading.Event()
    writer = threading.Thread(target=lambda: open(pipe, "wb").close() or opened.set(), daemon=True)
    writer.start()
    time.sleep(0.3)  # the writer waits in open() for a reader now
    copy = tree.copy_submission(tmp_path / name.split("/")[0], tmp_path / "copy")
    assert len(copy.refused) == 1 and "not a regular" in copy.refused[0]
    assert not opened.wait(0.5), "the grader opened the pipe"
    os.close(os.open(pipe, os.O_RDONLY | os.O_NONBLOCK))  # lets the writer go
    writer.join(5)


def test_a_link_that_loops_is_refused(tmp_path):
    submission = tmp_path / "mallory"
    submission.mkdir()
    (submission / f"{STAGE}.py").symlink_to(f"{STAGE}.py")
    copy = tree.copy_submission(submission, tmp_path / "copy")
    assert copy.refused == [f"{STAGE}.py is a link that loops, or changed while it was copied: not graded"]


def test_a_submission_named_like_the_summary_is_graded_beside_it(tmp_path):
    out = tmp_path / "out"
    assert grade(f"--impl={correct(tmp_path / 'summary.csv')}", "--out", str(out)) == 0
    assert results(out, "summary.csv-2")["score"] == 15
    assert (out / "summary.csv").read_text().splitlines()[1].startswith("summary.csv-2,")


def test_an_unusable_output_folder_stops_before_grading(tmp_path, capsys):
    (tmp_path / "out").write_text("a file where the folder should be")
    assert grade(f"--impl={correct(tmp_path / 'alice')}", "--out", str(tmp_path / "out")) == 2
    assert "cannot be written" in capsys.readouterr().out


@pytest.mark.parametrize("damage", ["missing", "altered"])
def test_a_missing_or_altered_corpus_stops_before_grading(tmp_path, monkeypatch, capsys, damage):
    fake = tmp_path / "tinyshakespeare.txt"
    if damage == "altered":
        fake.write_text(corpus.CORPUS_PATH.read_text(encoding="utf-8").replace("ROMEO", "ROMEA"), encoding="utf-8")
    monkeypatch.setattr(corpus, "CORPUS_PATH", fake)
    assert grade(f"--impl={correct(tmp_path / 'alice')}", "--out", str(tmp_path / "out")) == 2
    said = capsys.readouterr().out
    assert "Grading did not start" in said and damage in said
    assert not (tmp_path / "out" / "alice").exists()


@pytest.fixture
def unimportable_hidden_test(tmp_path, monkeypatch):
    """A hidden test module of stage 5 that cannot be imported (the only one: a copy of the others would clash with
    them in sys.modules in this process)."""
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "test_s05_averaging_broken.py").write_text("import a_module_that_is_nowhere\n")
    monkeypatch.setattr(manifest, "HIDDEN_TESTS", hidden)


def test_a_test_module_that_cannot_be_imported_is_a_failure_to_collect_not_no_tests(unimportable_hidden_test):
    """One test module that cannot be imported stops pytest collecting any: a grade taken while the checkout was
    being edited gave every stage no tests to run, and 0 of its points without a reason (a precision pass)."""
    with pytest.raises(suite.CollectionFailed, match="a_module_that_is_nowhere"):
        suite.collect_test_ids([manifest.stage_named("s05_averaging")], include_hidden=True)


def test_tests_that_cannot_be_collected_stop_grading_before_it_starts(tmp_path, capsys, unimportable_hidden_test):
    assert grade(f"--impl={correct(tmp_path / 'alice')}", "--out", str(tmp_path / "out"), "--stage", "5") == 2
    said = capsys.readouterr().out
    assert "Grading did not start: pytest could not collect the kata's tests" in said
    assert "a_module_that_is_nowhere" in said
    assert not (tmp_path / "out" / "alice").exists()


STOPS_THE_CHECK = """
import os, signal, sys, time
if sys.argv[0].endswith("probe_calls.py") and "--at-scale" not in sys.argv:
    runner = os.getppid()  # the check's runner, which forked this stage's child
    if os.fork() == 0:  # the runner stopped, the child goes on answering: nothing ever ends the run
        os.kill(runner, signal.SIGSTOP)
        time.sleep(100_000)
        os._exit(0)
"""


def test_a_check_run_that_never_ends_holds_the_grader_no_longer_than_its_answers_take(tmp_path):
    """The fourth red-team pass (2026-12-07): the check's runner, stopped with SIGSTOP once its child had sent every
    answer, held the grader for the check's whole budget (482 s for stage 1, whose check takes 4 s) and kept
    its points. (Stopped before a later stage's child answers, it costs that stage its points.)"""
    folder = correct(tmp_path / "mallory")
    (folder / f"{STAGE}.py").write_text((folder / f"{STAGE}.py").read_text() + STOPS_THE_CHECK)
    assert grade(f"--impl={folder}", "--out", str(tmp_path / "out")) == 0
    report = results(tmp_path / "out", "mallory")
    assert report["score"] == 15
    assert report["extra_data"]["check_seconds"] < submission.STARTUP_SECONDS  # the run's start alone may take that


def test_without_bubblewrap_it_says_so_and_still_grades(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    assert grade(f"--impl={correct(tmp_path / 'alice')}", "--out", str(tmp_path / "out")) == 0
    assert "NOT SANDBOXED" in capsys.readouterr().out
    report = results(tmp_path / "out", "alice")
    assert report["score"] == 15 and "NOT SANDBOXED" in report["output"]
    assert grade(f"--impl={tmp_path / 'alice'}", "--out", str(tmp_path / "out"), "--require-sandbox") == 2


def test_ctrl_c_kills_every_sandbox_and_writes_what_was_graded(tmp_path):
    looping = correct(tmp_path / "zed")
    attack = Attack(
        "loops",
        "time",
        "loops with the alarm ignored",
        "import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass\n",
    )
    (looping / f"{STAGE}.py").write_text(attack_source(attack, STAGE))
    command = [sys.executable, "-m", "kata", "grade", "--stage", STAGE, "--jobs", "1", "--out", str(tmp_path / "out")]
    command += [f"--impl={correct(tmp_path / 'alice')}", f"--impl={looping}"]
    grader = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=default_ctrl_c
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "out" / "alice" / "results.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(3)  # zed's sandbox is running its endless loop now
    grader.send_signal(signal.SIGINT)
    output, _ = grader.communicate(timeout=60)
    assert grader.returncode == 130, output
    assert "Interrupted" in output and "1 of 2 submissions" in output
    assert results(tmp_path / "out", "alice")["score"] == 15
    assert not (tmp_path / "out" / "zed").exists()
    if os.geteuid() == 0:
        assert not graded_code_processes()


def test_a_notebook_is_graded_as_its_stage_files(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    from kata import notebook

    sources = {path.stem: path.read_text() for path in (REPOSITORY_ROOT / "solutions").glob("s*.py")}
    nbformat.write(notebook.build_notebook(sources, kata_source="unused"), tmp_path / "alice.ipynb")
    # bob's stage raises: the report cites the cell and line, not the module written from the cells
    book = notebook.build_notebook(sources, kata_source="unused")
    cell = next(cell for cell in book.cells if cell.source.startswith("def average_loops"))
    cell.source = cell.source.replace("    B, T, C = x.shape\n", "    B, T, C = x.shape\n    1 / 0\n")
    nbformat.write(book, tmp_path / "bob.ipynb")
    # Started from a folder that holds a package named kata (a submission's, say): the notebook's reader, a child
    # of the grader, must import the kata's own, as the grader does, never that one.
    (tmp_path / "here" / "kata" / "grading").mkdir(parents=True)
    for module in ("kata/__init__.py", "kata/grading/__init__.py", "kata/grading/notebook_reader.py"):
        (tmp_path / "here" / module).write_text(f"open({str(tmp_path / 'ran')!r}, 'w').write('{module}')\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(tmp_path / "here")
        notebooks = [f"--impl={tmp_path / 'alice.ipynb'}", f"--impl={tmp_path / 'bob.ipynb'}"]
        assert grade(*notebooks, "--out", str(tmp_path / "out")) == 0
    assert not (tmp_path / "ran").exists(), "the grader ran a kata package found in its current folder"
    assert results(tmp_path / "out", "alice")["score"] == 15
    assert tree.CELLS_COUNTED not in results(tmp_path / "out", "alice")["output"]
    bob = results(tmp_path / "out", "bob")
    line = cell.source.splitlines().index("    1 / 0") + 1
    where = f"at cell {book.cells.index(cell) + 1}, line {line}, in average_loops"
    failures = [test["output"] for test in bob["tests"] if test["status"] == "failed"]
    assert failures and all(where in failure and ".py:" not in failure for failure in failures), failures
    assert tree.CELLS_COUNTED in bob["output"]


def test_a_stage_file_that_loads_the_corpus_as_a_notebook_s_set_up_does_is_graded(tmp_path):
    """A stage module built from a notebook may start from the set-up cell's `text = kata.load_corpus()`: the
    grader's check ran without the corpus, refuted every symbol, and a correct stage scored 0 (a walk-through
    with the lecture's code)."""
    source = (REPOSITORY_ROOT / "solutions" / "s01_tokenizer.py").read_text()
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "s01_tokenizer.py").write_text("import kata\ntext = kata.load_corpus()\n" + source)
    assert grade(f"--impl={tmp_path / 'alice'}", "--out", str(tmp_path / "out"), "--stage", "1") == 0
    assert results(tmp_path / "out", "alice")["score"] == 10


def test_a_later_stage_s_failures_name_the_earlier_stage_that_fails_in_the_grade(tmp_path):
    """A grade runs each stage on its own: stage 7's tests met stage 6's head that drops in eval mode and said
    "dropout must be off in eval mode" of stage 7's Block, whose code was right (a sweep of every catalogued
    mistake under the later stages' suites found 52 such runs with no word of the earlier stage)."""
    alice = correct(tmp_path / "alice")
    head = alice / "s06_attention.py"
    head.write_text(
        head.read_text().replace(HEAD_DROPOUT, "        wei = F.dropout(wei, self.dropout.p, training=True)\n")
    )
    assert grade(f"--impl={alice}", "--out", str(tmp_path / "out"), "--stage", "6", "--stage", "7") == 0
    failed = {
        test["name"]: test["output"]
        for test in results(tmp_path / "out", "alice")["tests"]
        if test["status"] != "passed"
    }
    stage_7 = [output for name, output in failed.items() if "Stage 7" in name]
    assert any("Stage 6" in name for name in failed) and stage_7, failed
    assert all("s07_transformer builds on s06_attention, which fails " in output for output in stage_7), stage_7


def test_each_run_shares_the_cpu_with_the_others_as_one():
    """A run that starts dozens of busy processes, each in a session of its own (the kernel's per-session
    sharing no longer holds them), took so much CPU that a correct submission graded beside it lost a test
    to its time limit (a red-team finding). With a cpu group of its own, a run counts once, however many
    processes it holds."""
    if sandbox._own_cgroup("cpu") is None:
        pytest.skip("this machine has no cgroup v1 cpu controller (under v2, the grader's group passes it on)")
    cgroup = sandbox.Cgroup.create(f"kata-{os.getpid()}-cpu-test", Limits())
    if cgroup is None:
        pytest.skip("the grader cannot make cgroups here")
    try:
        cpu_groups = [folder for folder in cgroup.folders if "/sys/fs/cgroup/cpu" in str(folder)]
        assert cpu_groups and (cpu_groups[0] / "cgroup.procs") in cgroup.procs_files
    finally:
        cgroup.remove()
