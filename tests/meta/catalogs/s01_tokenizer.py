"""Stage 1 · Character tokenizer: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

MISTAKES = [
    # Source: the seventh precision pass (2026-12-06): the message had no hint for positions counted from 1.
    Mistake(
        "error-position-counted-from-one",
        "s01_tokenizer",
        "named the unknown character's position counting from 1",
        (("for position, char in enumerate(text):", "for position, char in enumerate(text, start=1):"),),
        "Positions count from 0",
    ),
    # Source: the seventh precision pass (2026-12-06): the grader's check drew a single id on 4% of draws, where
    # any separator is invisible.
    Mistake(
        "decode-joins-with-spaces",
        "s01_tokenizer",
        "joined the decoded characters with spaces",
        (('        return "".join(chars)', '        return " ".join(chars)'),),
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "decode-upper-bound-off-by-one",
        "s01_tokenizer",
        "let decode take the id vocab_size, one past the last",
        (("if not 0 <= token_id < self.vocab_size:", "if not 0 <= token_id <= self.vocab_size:"),),
    ),
    Mistake(
        "encode-returns-tensor",
        "s01_tokenizer",
        "returned a tensor from encode, not a list of ints",
        (("        return ids\n", "        import torch\n        return torch.tensor(ids)\n"),),
    ),
    Mistake(
        "sort-case-insensitive",
        "s01_tokenizer",
        "sorted the vocabulary without regard to case",
        (("return sorted(set(text))", "return sorted(set(text), key=str.lower)"),),
    ),
    Mistake(
        "encode-error-is-keyerror",
        "s01_tokenizer",
        "raised KeyError, not ValueError, for a character outside the vocabulary",
        (
            (
                '                raise ValueError(f"character {char!r} at',
                '                raise KeyError(f"character {char!r} at',
            ),
        ),
    ),
    Mistake(
        "vocabulary-in-order-of-appearance",
        "s01_tokenizer",
        "kept characters in the order they first appear",
        (("return sorted(set(text))", "return list(dict.fromkeys(text))"),),
        "first appear",
    ),
    Mistake(
        "vocabulary-with-repeats",
        "s01_tokenizer",
        "sorted the text without removing repeats",
        (("return sorted(set(text))", "return sorted(text)"),),
        "more than once",
    ),
    Mistake(
        "ids-count-from-one",
        "s01_tokenizer",
        "numbered the characters from 1",
        (
            ("enumerate(vocabulary)}", "enumerate(vocabulary, start=1)}"),
            ("chars.append(self.vocabulary[token_id])", "chars.append(self.vocabulary[token_id - 1])"),
            ("if not 0 <= token_id < self.vocab_size:", "if not 1 <= token_id <= self.vocab_size:"),
        ),
        "one too high",
    ),
    Mistake(
        "negative-ids-accepted",
        "s01_tokenizer",
        "checked only the upper bound of an id",
        (("if not 0 <= token_id < self.vocab_size:", "if token_id >= self.vocab_size:"),),
        "negative id",
    ),
    Mistake(
        "unknown-characters-skipped",
        "s01_tokenizer",
        "skipped characters outside the vocabulary",
        (('raise ValueError(f"character {char!r} at position {position} is not in the vocabulary")', "continue"),),
        "should raise ValueError: 'ö' is not in the vocabulary",
    ),
    Mistake(
        "error-without-position",
        "s01_tokenizer",
        "named the character but not its position",
        (('f"character {char!r} at position {position} is not in the vocabulary"', 'f"unknown character {char!r}"'),),
        "position 7",
    ),
    Mistake(
        "repeated-vocabulary-accepted",
        "s01_tokenizer",
        "did not check the vocabulary for repeats",
        (("        if repeated:\n", "        if False:\n"),),
        "appear twice",
    ),
    Mistake(
        "decode-looks-up-tensors-in-a-dict",
        "s01_tokenizer",
        "decoded through a dict, which a tensor id does not hit",
        (
            (
                "self.vocab_size = len(vocabulary)\n",
                "self.vocab_size = len(vocabulary)\n        self.id_to_string = dict(enumerate(vocabulary))\n",
            ),
            ("            token_id = int(token_id)\n", ""),
            ("chars.append(self.vocabulary[token_id])", "chars.append(self.id_to_string[token_id])"),
        ),
        "KeyError",
    ),
]

VARIANTS = [
    Variant(
        "vocabulary-from-a-dict",
        "s01_tokenizer",
        "distinct characters through dict keys",
        (("return sorted(set(text))", "return sorted({char: None for char in text})"),),
    ),
    Variant(
        "encode-with-list-index",
        "s01_tokenizer",
        "looks ids up with list.index instead of a dict",
        (
            ("            if char not in self.string_to_id:", "            if char not in self.vocabulary:"),
            ("ids.append(self.string_to_id[char])", "ids.append(self.vocabulary.index(char))"),
        ),
    ),
    Variant(
        "vocabulary-as-a-string",
        "s01_tokenizer",
        "keeps the vocabulary as a str and decodes a tensor via tolist",
        (
            ("        self.vocabulary = vocabulary\n", '        self.vocabulary = "".join(vocabulary)\n'),
            (
                "        chars = []\n",
                '        chars = []\n        ids = ids.tolist() if hasattr(ids, "tolist") else ids\n',
            ),
        ),
    ),
    # Source: the lecture's gpt.py, stoi and itos, wrapped in the kata's class, re-expressed in the kata's API
    # (the seventh precision pass, 2026-12-06).
    Variant(
        "stoi-and-itos-like-the-lecture",
        "s01_tokenizer",
        "keeps the lecture's stoi and itos dicts and looks each character up in them",
        (
            replaced(
                "s01_tokenizer",
                "CharTokenizer",
                """
class CharTokenizer:
    def __init__(self, vocabulary):
        chars = list(vocabulary)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("each vocabulary entry must be a single character")
        if len(set(chars)) != len(chars):
            raise ValueError("the vocabulary repeats a character")
        self.vocabulary = chars
        self.vocab_size = len(chars)
        self.stoi = {ch: i for i, ch in enumerate(chars)}
        self.itos = {i: ch for i, ch in enumerate(chars)}

    def encode(self, text):
        try:
            return [self.stoi[c] for c in text]
        except KeyError as missing:
            char = missing.args[0]
            raise ValueError(f"character {char!r} at position {text.index(char)} is not in the vocabulary") from None

    def decode(self, ids):
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        for i in ids:
            if i not in self.itos:
                raise ValueError(f"unknown id {i}")
        return "".join(self.itos[i] for i in ids)
""",
            ),
        ),
    ),
]
