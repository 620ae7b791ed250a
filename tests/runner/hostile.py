"""Submissions that attack the grader, one way per stage; `kata grade` must grade them stage by stage and go on."""

from pathlib import Path

from catalog import Edited, edited_copy


def top(number: int) -> str:
    """The opening of reference number's docstring: the attack goes in front of it."""
    return f'"""Stage {number} ·'


HOSTILE = [
    Edited(
        "raises-at-import",
        "s01_tokenizer",
        "raises as it is imported",
        ((top(1), 'raise RuntimeError("boom")\n' + top(1)),),
    ),
    Edited(
        "loops-at-import", "s02_batches", "never finishes importing", ((top(2), "while True:\n    pass\n" + top(2)),)
    ),
    Edited(
        "exits-at-import",
        "s03_bigram",
        "ends the process with os._exit",
        ((top(3), "import os\nos._exit(3)\n" + top(3)),),
    ),
    Edited(
        "floods-and-eats-memory",
        "s04_training",
        "prints 40 MB, then allocates 8 GiB in every step",
        (
            (top(4), 'print("spam" * 10_000_000)\n' + top(4)),
            ("    optimizer.step()\n", "    hog = bytearray(8 * 2**30)\n    optimizer.step()\n"),
        ),
    ),
    Edited(
        "patches-pytest",
        "s05_averaging",
        "disables pytest.fail and returns its input",
        (
            (
                top(5),
                "import _pytest.outcomes, pytest\npytest.fail = _pytest.outcomes.fail = lambda *args, **kwargs: None\n"
                + top(5),
            ),
            ("    return xbow\n", "    return x\n"),
        ),
    ),
]


def write_hostile_submission(folder: Path) -> Path:
    """One folder in which every stage attacks the grader its own way."""
    return edited_copy(folder, HOSTILE)
