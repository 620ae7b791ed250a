"""The check at scale (kata/grading/at_scale.py) under `kata grade`: a test that only slow code fails, by its time
limit, can no longer be forged to pass. Found by a red-team pass: a stage 1 whose decode is quadratic, with a
forger that reports every test passed and ends the hidden round trip at once, scored 10 of 10; a stage 12 whose
training counts each pair with list.count, forged alike, scored 15 of 15."""

import json
import shutil

import pytest

from kata.cli import main
from kata.manifest import REPOSITORY_ROOT, stage_named

pytestmark = [pytest.mark.meta, pytest.mark.end_to_end, pytest.mark.xdist_group("grade")]

# decode with a queue whose pop(0) is O(n): right on every input, some minutes on the corpus
LOOP = "        for position, token_id in enumerate(ids):\n"
QUADRATIC = (
    "        pending, position = list(ids), -1\n"
    "        while pending:\n"
    "            position += 1\n"
    "            token_id = pending.pop(0)\n"
)
# in the test runs, every result reported passed, and the hidden run (where the round trip is) ended at once
FORGER = """
import glob as _glob, sys as _sys
if getattr(_sys.modules["__main__"].__spec__, "name", "") == "kata.grading.stage_run":
    from kata.grading import report as _report
    _report.finished_line = lambda result: _report._line({"event": "result", "test": result.nodeid,
        "outcome": "passed", "kind": "none", "message": "", "location": "", "output": ""})
    if _glob.glob("/grading/tests/hidden/*.py"):
        raise RuntimeError("ended at once")
"""


def slow_stage_1(folder, *, forged: bool):
    shutil.copytree(REPOSITORY_ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / "s01_tokenizer.py"
    source = path.read_text().replace(LOOP, QUADRATIC)
    path.write_text(source + (FORGER if forged else ""))
    return folder


def graded_side_by_side(name: str, slow_stage, tmp_path) -> tuple[list[str], dict, dict]:
    """The names of the tests the honest copy failed, its stage's grade and the forged copy's, graded together."""
    honest, forged = slow_stage(tmp_path / "honest", forged=False), slow_stage(tmp_path / "forged", forged=True)
    out, number = tmp_path / "out", str(stage_named(name).number)
    assert main(["grade", f"--stage={number}", "--jobs=2", f"--impl={honest}", f"--impl={forged}", f"--out={out}"]) == 0
    graded = {copy: json.loads((out / copy / "results.json").read_text()) for copy in ("honest", "forged")}
    failed = [test["name"].rsplit("::", 1)[-1] for test in graded["honest"]["tests"] if test["status"] != "passed"]
    return failed, graded["honest"]["extra_data"]["stages"][name], graded["forged"]["extra_data"]["stages"][name]


def test_a_forged_pass_of_a_test_only_slow_code_fails_earns_nothing(tmp_path):
    failed, honest, forged = graded_side_by_side("s01_tokenizer", slow_stage_1, tmp_path)
    assert len(failed) == 1 and "test_the_whole_corpus_survives_a_round_trip" in failed[0], failed
    assert honest["problem"] == ""
    assert forged["score"] == 0 and "1,115,394 characters" in forged["problem"], forged


# train counting each pair with list.count over all pairs: right on every input, minutes on the tests' corpus slice
COUNT_IN_ONE_PASS = "            counts = pair_counts(ids)\n"
COUNT_EACH_PAIR_AGAIN = (
    "            pairs = list(zip(ids, ids[1:]))\n            counts = {pair: pairs.count(pair) for pair in pairs}\n"
)
# in the test runs, every result reported passed, and train returned at once
BPE_FORGER = """
import sys as _sys
if getattr(_sys.modules["__main__"].__spec__, "name", "") == "kata.grading.stage_run":
    from kata.grading import report as _report
    _report.finished_line = lambda result: _report._line({"event": "result", "test": result.nodeid,
        "outcome": "passed", "kind": "none", "message": "", "location": "", "output": ""})
    BPETokenizer.train = lambda self, text, vocab_size: None
"""

# the tests that train on the corpus's slice: one runs out of time, the next two say so
CORPUS_TESTS = (
    "test_learns_the_references_merges_on_the_corpus",
    "test_decode_undoes_encode_for_any_text",
    "test_compresses_the_validation_split_as_the_reference_does",
)


def slow_stage_12(folder, *, forged: bool):
    folder.mkdir()
    source = (REPOSITORY_ROOT / "solutions" / "s12_bpe.py").read_text()
    source = source.replace(COUNT_IN_ONE_PASS, COUNT_EACH_PAIR_AGAIN)
    (folder / "s12_bpe.py").write_text(source + (BPE_FORGER if forged else ""))
    return folder


def test_a_forged_pass_of_bpe_training_on_the_corpus_earns_nothing(tmp_path):
    failed, honest, forged = graded_side_by_side("s12_bpe", slow_stage_12, tmp_path)
    assert sorted(failed) == sorted(CORPUS_TESTS), failed
    assert honest["problem"] == ""
    assert forged["score"] == 0 and "20,000 characters" in forged["problem"], forged
