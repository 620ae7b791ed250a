"""The grader's check at scale: the calls some tests make on the whole corpus (build_vocabulary of it, stage 1's
hidden round trip, stage 2's encode_text of it) or on slices of it (stage 12's training and encoding), timed from
outside the sandbox.

A test that only slow code fails, fails by its time limit, and the check's calls on short inputs (probes.py)
never see slowness: a forged pass of such a test would count. So the same calls also run on inputs of the
sizes the tests use, drawn afresh for each submission and sent to the run only once its imports are done (nothing
can be computed before the clock starts), and each answer must come back, right, within twice the time limit of
the tests it backs and the run's own work: honest code that passes those tests is nowhere near it. A wrong answer
here takes the points of those tests alone (the aspect below), never the stage's: the short inputs judge values.
"""

from collections.abc import Iterable

from kata import corpus
from kata.grading import probe_calls

ASPECT = "at_scale"  # the aspect a late or wrong answer here refutes; probes.PROBES says which tests it backs
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
    "s12_bpe.BPETokenizer": lambda vocabulary, text, ids: _bpe(*probe_calls.bpe_texts(vocabulary, ids)),
}
# What each call is given, as the tests' own calls are, for the verdict to say.
CALLED_ON = {
    "s12_bpe.BPETokenizer": (
        f"trained on {corpus.BPE_TRAINING_CHARACTERS:,} characters with {corpus.BPE_VOCAB_SIZE} ids and "
        f"encoding {corpus.BPE_ENCODED_CHARACTERS:,} more, as the tests' corpus slices"
    )
}


def _bpe(training: str, other: str) -> dict[str, str]:
    from kata.grading import oracles

    merges = oracles.bpe_train(training, corpus.BPE_VOCAB_SIZE)
    encoded = oracles.bpe_encode(other, merges)
    return {
        "merges": probe_calls.merges_digest(merges),
        "encoded": probe_calls.ids_digest(encoded),
        "decoded": probe_calls.text_digest(other),
    }


def text_length(stage: str) -> int:
    """The characters drawn for `stage`'s calls: the corpus's, or only what stage 12's slices take."""
    if stage == "s12_bpe":
        return corpus.BPE_TRAINING_CHARACTERS + corpus.BPE_ENCODED_CHARACTERS
    return corpus.CORPUS_LENGTH


def symbols_by_stage(probed_stages: Iterable[str]) -> dict[str, list[str]]:
    """The symbols checked at scale, by stage, of the stages the check probes."""
    found: dict[str, list[str]] = {}
    for symbol in EXPECTED:
        if (stage := symbol.split(".")[0]) in probed_stages:
            found.setdefault(stage, []).append(symbol)
    return found


def verdict(symbol: str, made: tuple, answer, *, limit: float, missing: str) -> dict[str, str]:
    """What is wrong with one answer to the inputs `made` (a report.ProbeAnswer, None where none came back in time,
    `missing` saying why), by aspect; {} when it is right. No answer in time refutes the aspect at scale, which
    backs every test of the size; a wrong value only the aspect of that value (value_aspects), which backs the
    tests that judge it: a tokenizer whose merges break ties otherwise still passes the round trip."""
    size = CALLED_ON.get(symbol, f"on a text of {corpus.CORPUS_LENGTH:,} characters, as the tests' corpus")
    if answer is None:
        return {ASPECT: f"{size}, it gave no answer within {limit:g} s ({missing})"}
    if answer.error:
        return {ASPECT: f"{size}, calling it raised {answer.error}"}
    expected = EXPECTED[symbol](*made)
    if not isinstance(expected, dict):
        return (
            {} if answer.value == expected else {f"{ASPECT}_values": f"{size}, it gave other values than the grader's"}
        )
    got = answer.value if isinstance(answer.value, dict) else {}
    return {
        f"{ASPECT}_{part}": f"{size}, its {part} differed from the grader's"
        for part, value in expected.items()
        if got.get(part) != value
    }


def value_aspects(symbol: str) -> list[str]:
    """The aspects a wrong value of `symbol`'s answer at scale refutes (verdict)."""
    expected = EXPECTED[symbol](*probe_calls.scale_inputs(0, 100))  # its parts, whatever the length
    return [f"{ASPECT}_{part}" for part in expected] if isinstance(expected, dict) else [f"{ASPECT}_values"]
