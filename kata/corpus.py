"""The tiny Shakespeare corpus, vendored in data/ and verified by its checksum on every load."""

import hashlib
from functools import cache
from pathlib import Path

from kata.manifest import REPOSITORY_ROOT

CORPUS_PATH = REPOSITORY_ROOT / "data" / "tinyshakespeare.txt"
CORPUS_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
CORPUS_LENGTH = 1_115_394
# Stage 12's tests on the corpus train BPE on the first 20,000 characters of the training split with 32 merges and
# encode the first 5,000 of the validation split (ASCII both); the grader's check at scale stands for them with
# texts of these sizes. Encodes that merge one position at a time, as tiktoken's educational one does (correct,
# and quadratic on a text that is not split into words first), took 6.3 to 7.0 s of the test's 10 s on 20,000
# bytes: 5,000 keep them far from it on a busy machine.
BPE_TRAINING_CHARACTERS = 20_000
BPE_VOCAB_SIZE = 256 + 32
BPE_ENCODED_CHARACTERS = 5_000

RESTORE_ADVICE = (
    "Restore it with `git checkout -- data/tinyshakespeare.txt` (it ships with the kata; "
    "the original is char-rnn's tinyshakespeare/input.txt, 1,115,394 characters)."
)


class CorpusError(RuntimeError):
    """The corpus file is missing or is not the tiny Shakespeare the kata was written for."""


def load_corpus(path: Path | None = None) -> str:
    """The whole corpus (by default the vendored file) as one string, after checking that it is the expected file."""
    return _checked_corpus(path or CORPUS_PATH)


def splits() -> tuple[str, str]:
    """The corpus's training split (its first 90%, as the lecture takes it) and its validation split."""
    corpus = load_corpus()
    n = int(0.9 * len(corpus))
    return corpus[:n], corpus[n:]


@cache
def _checked_corpus(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CorpusError(f"The corpus {path} is missing. {RESTORE_ADVICE}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != CORPUS_SHA256:
        raise CorpusError(
            f"The corpus {path} has been altered: its sha256 is {digest}, expected {CORPUS_SHA256}. " + RESTORE_ADVICE
        )
    return raw.decode("utf-8")
