"""The grader's own check run on a folder of stage files, as `kata grade` runs it but in a forked child, for
the maintainer's tests (tests/meta/test_probes.py, tests/meta/test_catalogs.py)."""

import os
import sys

from kata import implementation
from kata.grading import probe_calls, probes, report


def answers_in_a_child(folder, symbols: list[str], inputs: dict) -> dict[str, report.ProbeAnswer]:
    """probe_calls' answers for `folder`, computed in a forked child (its stage modules never reach this
    process) and read back through the protocol, as the grader reads them."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        implementation.activate(None)  # the stage modules come from `folder` alone, as in the probe sandbox
        sys.path.insert(0, str(folder))
        probe_calls.install_dropout_the_grader_can_compute()
        for symbol in symbols:
            report.send(probe_calls.answer(symbol, inputs[symbol]), write_end)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        lines = pipe.read().splitlines()
    os.waitpid(pid, 0)
    return {answer.symbol: answer for answer in (report.parse_probe_answer(line, set(symbols)) for line in lines)}


def refutations(folder, symbols: list[str], seed: int) -> dict[str, dict[str, str]]:
    """What the grader's check finds wrong in `folder`, as `kata grade` gathers it: by symbol, then aspect."""
    inputs = probes.choose_inputs(symbols, seed)
    answers = answers_in_a_child(folder, symbols, inputs)
    found = {}
    for symbol in symbols:
        answer = answers.get(symbol)
        if answer is None or answer.error:
            found[symbol] = {"": "no answer" if answer is None else answer.error}
        elif wrong := probes.verdict(symbol, inputs[symbol], answer.value):
            found[symbol] = wrong
    return found
