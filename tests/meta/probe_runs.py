"""The grader's own check run on a folder of stage files, as `kata grade` runs it but in a forked child, for
the maintainer's tests (tests/meta/test_probes.py, tests/meta/test_catalogs.py)."""

import functools
import json
import os
import sys
import zlib
from collections.abc import Callable

from kata import corpus, implementation
from kata.grading import at_scale, probe_calls, probes, report
from kata.manifest import REPOSITORY_ROOT, stage_named, stages


def refutations(folder, symbols: list[str], seed: int) -> dict[str, dict[str, str]]:
    """What the grader's check finds wrong in `folder`, as `kata grade` gathers it: by symbol, then aspect,
    from answers computed in a forked child (its stage modules never reach this process) and read back
    through the protocol, as the grader reads them."""
    return refutations_on_draws(folder, symbols, [seed])[seed]


def refutations_on_draws(folder, symbols: list[str], seeds: list[int]) -> dict[int, dict[str, dict[str, str]]]:
    """refutations() on each draw, by seed, every draw answered in the same child: several draws suit only
    code that keeps no state between calls (the references), where a child per draw, as `kata grade`
    forks, would only cost time."""
    draws = {seed: probes.choose_inputs(symbols, seed) for seed in seeds}

    def answer(write_end: int) -> None:
        for inputs in draws.values():
            for symbol in symbols:
                report.send(probe_calls.answer(symbol, inputs[symbol]), write_end)

    lines = _in_a_child(folder, answer).splitlines()
    found = {}
    count = len(symbols)  # one line per symbol and draw, in order: a child that died leaves the last ones out
    for number, (seed, inputs) in enumerate(draws.items()):
        answers = [
            report.parse_probe_answer(line, set(symbols)) for line in lines[number * count : (number + 1) * count]
        ]
        found[seed] = _refuted(symbols, inputs, {answer.symbol: answer for answer in answers})
    return found


def refutations_at_scale(folder, seed: int, stage: str = "") -> dict[str, dict[str, str]]:
    """What the check at scale finds wrong in `folder`'s answers (of `stage`'s symbols, or all), by symbol,
    untimed and on a text of 25,000 characters, stage 12's slices whole: whether correct code answers it right
    (its timing at the tests' sizes is proven by grading slow code, tests/runner/test_at_scale.py)."""
    made = probe_calls.scale_inputs(seed, corpus.BPE_TRAINING_CHARACTERS + corpus.BPE_ENCODED_CHARACTERS)
    symbols = [symbol for symbol in at_scale.EXPECTED if symbol.startswith(f"{stage}.") or not stage]

    def answer(write_end: int) -> None:
        for symbol in symbols:
            report.send(probe_calls.answer_at_scale(symbol, made), write_end)

    lines = _in_a_child(folder, answer).splitlines()
    answers = {
        answer.symbol: answer for answer in (report.parse_probe_answer(line, set(at_scale.EXPECTED)) for line in lines)
    }
    found = {
        symbol: at_scale.verdict(symbol, made, answers.get(symbol), limit=0, missing="none came back")
        for symbol in symbols
    }
    return {symbol: wrong for symbol, wrong in found.items() if wrong}


def _refuted(symbols: list[str], inputs: dict, answers: dict[str, report.ProbeAnswer]) -> dict[str, dict[str, str]]:
    found = {}
    for symbol in symbols:
        answer = answers.get(symbol)
        if answer is None or answer.error:
            found[symbol] = {"": "no answer" if answer is None else answer.error}
        elif wrong := probes.verdict(symbol, inputs[symbol], answer.value):
            found[symbol] = wrong
    return found


def draws_for(name: str) -> tuple[int, ...]:
    """The draws of the check's inputs a catalog entry is tried on: the first, and one of a thousand named by
    the entry, so that the catalog as a whole meets hundreds of draws (the grader draws afresh for each
    submission: a mistake must be found, and a correct variant pass, on every draw). KATA_META_DRAWS=N
    tries every entry on the first N draws instead, for a deeper look (`KATA_META_DRAWS=12 make test`)."""
    if count := int(os.environ.get("KATA_META_DRAWS", "0")):
        return tuple(range(count))
    return 0, 1 + zlib.crc32(name.encode()) % 1000


@functools.cache
def stage_files_read_by(stage_name: str) -> frozenset[str]:
    """The stage files (by stage name) that the check's calls for this stage's symbols load, its own and those
    it or the calls import, measured on the references. `kata grade` answers each stage in a child of its
    own, so an edit to any other file cannot change this stage's answers."""
    symbols = [f"{stage_name}.{symbol}" for symbol in stage_named(stage_name).symbols]
    inputs = probes.choose_inputs(symbols, 0)

    def loaded(write_end: int) -> None:
        for symbol in symbols:
            probe_calls.answer(symbol, inputs[symbol])
        os.write(write_end, json.dumps([stage.name for stage in stages() if stage.name in sys.modules]).encode())

    return frozenset(json.loads(_in_a_child(REPOSITORY_ROOT / "solutions", loaded)))


def _in_a_child(folder, work: Callable[[int], None]) -> bytes:
    """What work(write_end) writes, run in a forked child that imports stage modules from `folder` alone,
    with the grader's dropout, as the probe sandbox does."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        implementation.activate(None)  # the stage modules come from `folder` alone, as in the probe sandbox
        sys.path.insert(0, str(folder))
        probe_calls.install_dropout_the_grader_can_compute()
        work(write_end)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        written = pipe.read()
    os.waitpid(pid, 0)
    return written
