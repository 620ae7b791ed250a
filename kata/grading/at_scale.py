"""The grader's check at scale: the calls some tests make on the whole corpus (build_vocabulary of it, stage 1's
hidden round trip, stage 2's encode_text of it), timed from outside the sandbox.

A test that only slow code fails, fails by its time limit, and the check's calls on short inputs (probes.py)
never see slowness: a forged pass of such a test would count. So the same calls also run on inputs of the
corpus's size, drawn afresh for each submission and sent to the run only once its imports are done (nothing
can be computed before the clock starts), and each answer must come back, right, within twice the time limit of
the tests it backs and the run's own work: honest code that passes those tests is nowhere near it. A wrong answer
here takes the points of those tests alone (the aspect below), never the stage's: the short inputs judge values.
"""

from collections.abc import Iterable

from kata.grading import probe_calls

ASPECT = "at_scale"  # the aspect a late or wrong answer here refutes; probes.PROBES says which tests it backs
CORPUS_LENGTH = 1_115_394  # the characters of the tests' corpus, whose calls these stand for
# Beside the learner's calls, the run draws the text and hashes the answers (about a second idle, a few under
# load): a tight --test-timeout must not make correct code late.
OWN_WORK_SECONDS = 10.0


def _encoded(vocabulary: list[str], text: str) -> list[int]:
    lookup = {char: index for index, char in enumerate(vocabulary)}
    return [lookup[char] for char in text]


# What each call's answer should be, from the inputs probe_calls.scale_inputs makes (the digests it sends).
EXPECTED = {
    "s01_tokenizer.build_vocabulary": lambda vocabulary, text, ids: probe_calls.vocabulary_digest(sorted(set(text))),
    "s01_tokenizer.CharTokenizer": lambda vocabulary, text, ids: {
        "encoded": probe_calls.ids_digest(_encoded(vocabulary, text)),
        "decoded": probe_calls.text_digest("".join(vocabulary[i] for i in ids)),
    },
    "s02_batches.encode_text": lambda vocabulary, text, ids: probe_calls.ids_digest(_encoded(vocabulary, text)),
}


def symbols_by_stage(probed_stages: Iterable[str]) -> dict[str, list[str]]:
    """The symbols checked at scale, by stage, of the stages the check probes."""
    found: dict[str, list[str]] = {}
    for symbol in EXPECTED:
        if (stage := symbol.split(".")[0]) in probed_stages:
            found.setdefault(stage, []).append(symbol)
    return found


def verdict(symbol: str, made: tuple, answer, *, limit: float, missing: str) -> dict[str, str]:
    """What is wrong with one answer to the inputs `made` (a report.ProbeAnswer, None where none came back in time,
    `missing` saying why), under the aspect at scale; {} when it is right."""
    size = f"on a text of {CORPUS_LENGTH:,} characters, as the tests' corpus"
    if answer is None:
        return {ASPECT: f"{size}, it gave no answer within {limit:g} s ({missing})"}
    if answer.error:
        return {ASPECT: f"{size}, calling it raised {answer.error}"}
    if answer.value != EXPECTED[symbol](*made):
        return {ASPECT: f"{size}, it gave other values than the grader's"}
    return {}
