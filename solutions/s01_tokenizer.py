"""Stage 1 · Character tokenizer (reference).

Lecture: "tokenization, train/val split" (09:28). The model reads integers, not text; the simplest
tokenizer gives every distinct character of the corpus its own integer.
"""

from collections.abc import Iterable, Sequence


def build_vocabulary(text: str) -> list[str]:
    """The distinct characters of `text`, sorted: the index of a character is its token id."""
    return sorted(set(text))


class CharTokenizer:
    """Maps text to token ids and back, one id per character of `vocabulary`."""

    def __init__(self, vocabulary: Sequence[str]):
        vocabulary = list(vocabulary)
        for position, entry in enumerate(vocabulary):
            if not isinstance(entry, str) or len(entry) != 1:
                raise ValueError(f"vocabulary entry {entry!r} at position {position} is not a single character")
        repeated = sorted({char for char in vocabulary if vocabulary.count(char) > 1})
        if repeated:
            raise ValueError(f"the vocabulary lists {repeated} more than once; each character needs one id")
        self.vocabulary = vocabulary
        self.vocab_size = len(vocabulary)
        self.string_to_id = {char: index for index, char in enumerate(vocabulary)}

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, one per character."""
        ids = []
        for position, char in enumerate(text):
            if char not in self.string_to_id:
                raise ValueError(f"character {char!r} at position {position} is not in the vocabulary")
            ids.append(self.string_to_id[char])
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text whose token ids are `ids` (a list of ints or a 1-D tensor)."""
        chars = []
        for position, token_id in enumerate(ids):
            token_id = int(token_id)
            if not 0 <= token_id < self.vocab_size:
                raise ValueError(
                    f"id {token_id} at position {position} is outside the vocabulary (0 to {self.vocab_size - 1})"
                )
            chars.append(self.vocabulary[token_id])
        return "".join(chars)
