"""Stage 1 · Character tokenizer: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

TABLES = "        self.string_to_id = {char: index for index, char in enumerate(vocabulary)}"

MISTAKES = [
    # A false-pass hunt of 2026-12-07: only the length checked, so a vocabulary of bytes b"a" passed as characters.
    Mistake(
        "vocabulary-entries-checked-by-length-alone",
        "s01_tokenizer",
        "checked each entry's length but not that it is a str",
        (("            if not isinstance(entry, str) or len(entry) != 1:", "            if len(entry) != 1:"),),
        "is a byte string, not a character",
    ),
    # The precision pass of 2026-12-07: numpy's fixed-width str dtype strips a trailing NUL, so the character
    # "\x00" decodes to nothing (dtype=object keeps it, and passes).
    Mistake(
        "decode-through-a-numpy-str-array",
        "s01_tokenizer",
        "decoded through np.array(vocabulary, dtype=str), which loses the NUL character",
        (
            (
                "from collections.abc import Iterable, Sequence\n",
                "from collections.abc import Iterable, Sequence\n\nimport numpy as np\n",
            ),
            (
                "        self.string_to_id = {char: index for index, char in enumerate(vocabulary)}\n",
                "        self.string_to_id = {char: index for index, char in enumerate(vocabulary)}\n"
                "        self._chars = np.array(vocabulary, dtype=str)\n",
            ),
            replaced(
                "s01_tokenizer",
                "CharTokenizer.decode",
                """
def decode(self, ids):
    arr = np.asarray(ids, dtype=np.int64).reshape(-1)
    bad = (arr < 0) | (arr >= self.vocab_size)
    if bad.any():
        raise ValueError(f"id {int(arr[bad][0])} is outside 0..{self.vocab_size - 1}")
    return "".join(self._chars[arr].tolist())
""",
            ),
        ),
        "decode(encode('a\\x00')) gave 'a'",
    ),
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
        "sorted without regard to case",
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
    # Source: the tenth precision pass (2026-12-06): common learner bug: checks only multi-character entries (len >
    # 1), so the empty string slips through.
    # No hint before this pass: the message said only the rule, not that '' has length 0.
    Mistake(
        "empty-entry-accepted",
        "s01_tokenizer",
        "rejected only vocabulary entries longer than one character, so the empty string passed",
        (
            replaced(
                "s01_tokenizer",
                "CharTokenizer.__init__",
                """
def __init__(self, vocabulary):
    vocabulary = list(vocabulary)
    for position, entry in enumerate(vocabulary):
        if len(entry) > 1:
            raise ValueError(f"vocabulary entry {entry!r} at position {position} is not a single character")
    if len(set(vocabulary)) != len(vocabulary):
        raise ValueError("the vocabulary repeats a character")
    self.vocabulary = vocabulary
    self.vocab_size = len(vocabulary)
    self.string_to_id = {char: index for index, char in enumerate(vocabulary)}
""",
            ),
        ),
        "'' has no character at all",
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: decode bound check with > instead of >= (the
    # catalog has <=, the same bug spelt otherwise); combined with a dict lookup so vocab_size raises KeyError, not
    # ValueError.
    Mistake(
        "decode-bound-gt-keyerror",
        "s01_tokenizer",
        "checked decode's ids against vocab_size with > and looked them up in a dict, so vocab_size raised KeyError",
        (
            replaced(
                "s01_tokenizer",
                "CharTokenizer.decode",
                """
def decode(self, ids):
    itos = dict(enumerate(self.vocabulary))
    out = []
    for token_id in ids:
        token_id = int(token_id)
        if token_id < 0 or token_id > self.vocab_size:
            raise ValueError(f"id {token_id} is outside the vocabulary")
        out.append(itos[token_id])
    return "".join(out)
""",
            ),
        ),
        "3 is not an id. It raised KeyError instead",
    ),
    # Source: a learner's walk-through of stages 1 to 8 (a helper, 2026-12-06): each got torch's or Python's bare
    # error, or the hint of another mistake, before its own hint.
    Mistake(
        "decode-looks-tensor-ids-up-in-a-dict",
        "s01_tokenizer",
        "looked each id up in an itos dict as it came, a 0-d tensor when decode is given a tensor",
        (
            ("            token_id = int(token_id)\n", ""),
            (TABLES, TABLES + "\n        self.itos = dict(enumerate(vocabulary))"),
            ("chars.append(self.vocabulary[token_id])", "chars.append(self.itos[token_id])"),
        ),
        "Iterating over a tensor gives 0-d tensors",
    ),
    Mistake(
        "decode-through-stoi",
        "s01_tokenizer",
        "looked the ids up in the table from characters to ids",
        (
            (TABLES, TABLES + "\n        self.stoi = self.string_to_id"),
            ("chars.append(self.vocabulary[token_id])", "chars.append(self.stoi[token_id])"),
        ),
        "was looked up in stoi, which maps characters to ids",
    ),
    Mistake(
        "encode-through-itos",
        "s01_tokenizer",
        "looked the characters up in the table from ids to characters",
        (
            (TABLES, TABLES + "\n        self.itos = dict(enumerate(vocabulary))"),
            ("ids.append(self.string_to_id[char])", "ids.append(self.itos[char])"),
        ),
        "was looked up in itos, which maps ids to characters",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "decode-bounds-by-min-and-max",
        "s01_tokenizer",
        "checked decode's ids with min() and max(), which raise for no ids at all",
        (
            replaced(
                "s01_tokenizer",
                "CharTokenizer.decode",
                """
def decode(self, ids):
    ids = [int(i) for i in ids]
    if min(ids) < 0 or max(ids) >= self.vocab_size:
        raise ValueError(f"ids must lie in 0..{self.vocab_size - 1}, got {ids}")
    return "".join(self.vocabulary[i] for i in ids)
""",
            ),
        ),
        "min() of no values raises, and no ids (or an empty text) is a valid input",
    ),
]

VARIANTS = [
    # A red-team pass (2026-12-07): the tests take any sequence of ints, the grader's check took only a list and
    # scored the stage 0, as forged.
    Variant(
        "encode-returns-a-tuple",
        "s01_tokenizer",
        "returns encode's ids as a tuple",
        (("        return ids\n", "        return tuple(ids)\n"),),
    ),
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
    # Source: the tenth precision pass (2026-12-06): karpathy/ng-video-lecture gpt.py (chars =
    # sorted(list(set(text))); stoi/itos; encode/decode lambdas), wrapped in the kata's class; decode converts tensor
    # elements with int().
    Variant(
        "lecture-lambdas-in-a-class",
        "s01_tokenizer",
        "keeps the lecture's sorted(list(set(text))) and its stoi and itos dicts, converting decode's ids with int()",
        (
            replaced(
                "s01_tokenizer",
                "build_vocabulary",
                """
def build_vocabulary(text):
    chars = sorted(list(set(text)))
    return chars
""",
            ),
            replaced(
                "s01_tokenizer",
                "CharTokenizer",
                """
class CharTokenizer:
    def __init__(self, vocabulary):
        chars = list(vocabulary)
        for ch in chars:
            if not isinstance(ch, str) or len(ch) != 1:
                raise ValueError(f"vocabulary entry {ch!r} is not a single character")
        if len(chars) != len(set(chars)):
            raise ValueError("duplicate characters in the vocabulary")
        self.vocabulary = chars
        self.vocab_size = len(chars)
        self.stoi = {ch: i for i, ch in enumerate(chars)}
        self.itos = {i: ch for i, ch in enumerate(chars)}

    def encode(self, s):
        for i, c in enumerate(s):
            if c not in self.stoi:
                raise ValueError(f"character {c!r} at position {i} is not in the vocabulary")
        return [self.stoi[c] for c in s]

    def decode(self, l):
        out = []
        for i in l:
            i = int(i)
            if i not in self.itos:
                raise ValueError(f"id {i} is not in the vocabulary")
            out.append(self.itos[i])
        return ''.join(out)
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): rasbt/LLMs-from-scratch ch02 SimpleTokenizerV1 (str_to_int /
    # int_to_str attributes), adapted to characters; vocabulary kept as a tuple, decode of a tensor via .tolist().
    Variant(
        "simple-tokenizer-like-llms-from-scratch",
        "s01_tokenizer",
        "keeps LLMs-from-scratch's str_to_int and int_to_str dicts and the vocabulary as a tuple",
        (
            replaced(
                "s01_tokenizer",
                "CharTokenizer",
                """
class CharTokenizer:
    def __init__(self, vocabulary):
        vocab = tuple(vocabulary)
        if any(not isinstance(v, str) or len(v) != 1 for v in vocab):
            raise ValueError("each vocabulary entry must be a single character")
        if len(set(vocab)) < len(vocab):
            raise ValueError("repeated entry in the vocabulary")
        self.vocabulary = vocab
        self.vocab_size = len(vocab)
        self.str_to_int = {s: i for i, s in enumerate(vocab)}
        self.int_to_str = {i: s for s, i in self.str_to_int.items()}

    def encode(self, text):
        ids = []
        for pos, ch in enumerate(text):
            try:
                ids.append(self.str_to_int[ch])
            except KeyError:
                raise ValueError(f"character {ch!r} at position {pos} is not in the vocabulary") from None
        return ids

    def decode(self, ids):
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        for i in ids:
            if i < 0 or i >= self.vocab_size:
                raise ValueError(f"id {i} out of range")
        return "".join([self.int_to_str[i] for i in ids])
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): learner style (collections.Counter for duplicates; str.join over
    # a generator; tensor elements index lists).
    Variant(
        "counter-duplicates-and-tensor-index",
        "s01_tokenizer",
        "finds repeats with collections.Counter and indexes the vocabulary with the ids as given",
        (
            (
                "from collections.abc import Iterable, Sequence\n",
                "from collections import Counter\nfrom collections.abc import Iterable, Sequence\n",
            ),
            replaced(
                "s01_tokenizer",
                "CharTokenizer.__init__",
                """
def __init__(self, vocabulary):
    vocabulary = list(vocabulary)
    if not all(isinstance(c, str) and len(c) == 1 for c in vocabulary):
        raise ValueError("every vocabulary entry must be exactly one character")
    dupes = [c for c, n in Counter(vocabulary).items() if n > 1]
    if dupes:
        raise ValueError(f"repeated vocabulary entries: {dupes}")
    self.vocabulary = vocabulary
    self.vocab_size = len(vocabulary)
    self.string_to_id = {c: i for i, c in enumerate(vocabulary)}
""",
            ),
            replaced(
                "s01_tokenizer",
                "CharTokenizer.decode",
                """
def decode(self, ids):
    ids = list(ids)
    bad = [i for i in ids if not 0 <= i < self.vocab_size]
    if bad:
        raise ValueError(f"ids {[int(b) for b in bad]} are outside 0..{self.vocab_size - 1}")
    return "".join(self.vocabulary[i] for i in ids)
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: vocabulary via dict.fromkeys(sorted(text)) and a
    # pre-scan for the first unknown character.
    Variant(
        "prescan-with-next",
        "s01_tokenizer",
        "builds the vocabulary with dict.fromkeys(sorted(text)) and finds the first unknown character with next()",
        (
            replaced(
                "s01_tokenizer",
                "build_vocabulary",
                """
def build_vocabulary(text):
    return list(dict.fromkeys(sorted(text)))
""",
            ),
            replaced(
                "s01_tokenizer",
                "CharTokenizer.encode",
                """
def encode(self, text):
    unknown = next(((i, c) for i, c in enumerate(text) if c not in self.string_to_id), None)
    if unknown is not None:
        pos, ch = unknown
        raise ValueError(f"character {ch!r} at position {pos} is not in the vocabulary")
    return list(map(self.string_to_id.__getitem__, text))
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: encode stops at the first unknown character; the
    # ids collected so far count its position.
    Variant(
        "position-from-len-ids",
        "s01_tokenizer",
        "counts the unknown character's position as the number of ids collected before it",
        (
            replaced(
                "s01_tokenizer",
                "CharTokenizer.encode",
                """
def encode(self, text):
    ids = []
    for ch in text:
        if ch not in self.string_to_id:
            raise ValueError(f"character {ch!r} at position {len(ids)} is not in the vocabulary")
        ids.append(self.string_to_id[ch])
    return ids
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): learner style: decode normalises any input with
    # torch.as_tensor(ids).tolist() (nanoGPT's sample.py decodes y[0].tolist()).
    Variant(
        "decode-via-as-tensor-tolist",
        "s01_tokenizer",
        "converts decode's ids with torch.as_tensor(ids).tolist()",
        (
            (
                "from collections.abc import Iterable, Sequence\n",
                "from collections.abc import Iterable, Sequence\n\nimport torch\n",
            ),
            replaced(
                "s01_tokenizer",
                "CharTokenizer.decode",
                """
def decode(self, ids):
    ids = torch.as_tensor(ids, dtype=torch.long).tolist()
    if any(i < 0 or i >= self.vocab_size for i in ids):
        raise ValueError(f"ids must lie in 0..{self.vocab_size - 1}")
    return "".join(self.vocabulary[i] for i in ids)
""",
            ),
        ),
    ),
]
