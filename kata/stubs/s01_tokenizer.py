"""Stage 1 · Character tokenizer.

Lecture: "tokenization, train/val split" (09:28).

A neural network reads numbers, not text. The simplest tokenizer gives every distinct character of
the corpus its own integer, its position in the sorted vocabulary. On tiny Shakespeare that is 65
characters: "\\n !$&',-.3:;?ABC...XYZabc...xyz".

Check it with `.venv/bin/kata check s01_tokenizer` (or `.venv/bin/pytest -m s01_tokenizer`) from the kata's
folder; `.venv/bin/kata hint s01_tokenizer` gives a hint.
"""

from collections.abc import Iterable, Sequence


def build_vocabulary(text: str) -> list[str]:
    """Return the distinct characters of `text`, sorted.

    build_vocabulary("hello") == ["e", "h", "l", "o"]
    """
    raise NotImplementedError("stage s01_tokenizer: build_vocabulary")


class CharTokenizer:
    """Maps text to token ids and back: the id of a character is its index in `vocabulary`.

    Attributes: `vocabulary` (the characters, in order) and `vocab_size` (how many).
    Raise ValueError for a vocabulary with a repeated entry or an entry that is not one character.

    With the corpus vocabulary:
        encode("helloooo there") == [46, 43, 50, 50, 53, 53, 53, 53, 1, 58, 46, 43, 56, 43]
        decode(encode(text)) == text
    """

    def __init__(self, vocabulary: Sequence[str]):
        raise NotImplementedError("stage s01_tokenizer: CharTokenizer.__init__")

    def encode(self, text: str) -> list[int]:
        """Return one id per character of `text`.

        A character outside the vocabulary raises ValueError naming the character and its
        position, e.g. encode("hé") -> ValueError("character 'é' at position 1 is not in the vocabulary").
        """
        raise NotImplementedError("stage s01_tokenizer: CharTokenizer.encode")

    def decode(self, ids: Iterable[int]) -> str:
        """Return the text for `ids`: a list of ints or a 1-D tensor of ids.

        An id outside 0 .. vocab_size - 1 (negative ones too) raises ValueError.
        """
        raise NotImplementedError("stage s01_tokenizer: CharTokenizer.decode")
