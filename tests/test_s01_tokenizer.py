"""Stage 1 · Character tokenizer."""

import re

import pytest
import torch
from feedback import characters, expect_value_error, fail, show
from hypothesis import example, given
from strategies import texts, vocabularies, vocabulary_and_ids, vocabulary_and_text

from kata.implementation import StageModule

stage = StageModule("s01_tokenizer")

LECTURE_VOCABULARY = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# Tuples, handed to the learner's code as fresh lists: code that changes its argument cannot change them.
HELLO_THERE_IDS = (46, 43, 50, 50, 53, 53, 53, 53, 1, 58, 46, 43, 56, 43)


def vocabulary_diagnosis(text: str, got) -> str:
    """Name the mistake a wrong vocabulary looks like, where it can be told (two characters in the wrong order
    fit every wrong order: first appearances, backwards, a key that ignores case)."""
    got, distinct = list(got), set(text)
    if any(got == sorted(distinct, key=key) != sorted(distinct) for key in (str.lower, str.casefold)):
        return (
            "This is sorted without regard to case: sort the characters themselves, by code point, sorted(set(text)), "
            "as the lecture does (every capital before the small letters)."
        )
    if len(distinct) > 2 and got == list(dict.fromkeys(text)):
        return "This is the order in which the characters first appear: sort them."
    if len(distinct) > 2 and got == sorted(distinct, reverse=True):
        return "This is sorted backwards: use sorted(...) without reverse=True."
    if len(got) > len(set(got)):
        return "Some characters appear more than once: keep each distinct character once (set(...))."
    if sorted(got) == sorted(set(text)):
        return "The characters are right but not in sorted order."
    return ""


class TestBuildVocabulary:
    def test_corpus_gives_the_lectures_65_characters(self, corpus):
        got = stage.build_vocabulary(corpus)
        if list(got) != list(LECTURE_VOCABULARY):
            fail(
                f"Called build_vocabulary(<the corpus>): expected the lecture's 65 characters "
                f"{LECTURE_VOCABULARY!r}, got {characters(''.join(map(str, got)))}",
                vocabulary_diagnosis(corpus, got),
            )

    @given(texts(max_size=60))
    @example("hello")
    @example("banana")
    def test_any_text_gives_its_distinct_characters_sorted(self, text):
        got = stage.build_vocabulary(text)
        if list(got) != sorted(set(text)):
            fail(
                f"Called build_vocabulary({text!r}): expected {sorted(set(text))}, got {show(got)}",
                vocabulary_diagnosis(text, got),
            )


class TestCharTokenizer:
    def test_attributes(self):
        tokenizer = stage.CharTokenizer(["a", "b", "c"])
        if list(tokenizer.vocabulary) != ["a", "b", "c"] or tokenizer.vocab_size != 3:
            fail(
                "CharTokenizer(['a', 'b', 'c']): expected .vocabulary ['a', 'b', 'c'] and .vocab_size 3, "
                f"got {show(tokenizer.vocabulary)} and {tokenizer.vocab_size!r}"
            )

    def test_encode_matches_the_lecture(self, corpus_vocabulary):
        got = stage.CharTokenizer(list(corpus_vocabulary)).encode("helloooo there")
        if list(got) != list(HELLO_THERE_IDS):
            hint = ""
            if list(got) == [i + 1 for i in HELLO_THERE_IDS]:
                hint = "Every id is one too high: ids count from 0, the index in the vocabulary."
            fail(
                f"With the corpus vocabulary, encode('helloooo there'): expected {list(HELLO_THERE_IDS)}, "
                f"got {show(got)}",
                hint,
            )

    def test_decode_matches_the_lecture(self, corpus_vocabulary):
        got = stage.CharTokenizer(list(corpus_vocabulary)).decode(list(HELLO_THERE_IDS))
        if got != "helloooo there":
            fail(f"With the corpus vocabulary, decode({list(HELLO_THERE_IDS)}): expected 'helloooo there', got {got!r}")

    def test_decode_accepts_a_tensor(self, corpus_vocabulary):
        ids = torch.tensor(HELLO_THERE_IDS)
        got = stage.CharTokenizer(list(corpus_vocabulary)).decode(ids)
        if got != "helloooo there":
            fail(f"decode(torch.tensor({list(HELLO_THERE_IDS)})): expected 'helloooo there', got {got!r}")

    @given(vocabulary_and_text())
    @example((["h", "i"], "hi"))
    @example((["h", "i"], ""))
    @example((["\x00", "a"], "a\x00"))  # numpy's str arrays drop a trailing NUL: np.array(["\x00"], dtype=str)[0] == ""
    def test_decode_undoes_encode(self, case):
        vocabulary, text = case
        tokenizer = stage.CharTokenizer(vocabulary)
        ids = tokenizer.encode(text)
        if len(ids) != len(text) or not all(isinstance(i, int) for i in ids):
            fail(
                f"Vocabulary {vocabulary}: encode({text!r}) should give {len(text)} ints, one per character, got "
                f"{show(ids)}"
            )
        if tokenizer.decode(ids) != text:
            fail(
                f"Vocabulary {vocabulary}: decode(encode({text!r})) gave {tokenizer.decode(ids)!r} (encode gave "
                f"{show(ids)})"
            )

    @given(vocabulary_and_ids())
    @example((["h", "i"], [1, 0]))
    @example((["h", "i"], []))
    def test_encode_undoes_decode(self, case):
        vocabulary, ids = case
        tokenizer = stage.CharTokenizer(vocabulary)
        text = tokenizer.decode(ids)
        if len(text) != len(ids):
            fail(f"Vocabulary {vocabulary}: decode({ids}) should give {len(ids)} characters, got {text!r}")
        if list(tokenizer.encode(text)) != ids:
            fail(f"Vocabulary {vocabulary}: encode(decode({ids})) gave {show(tokenizer.encode(text))}")

    @given(vocabularies)
    @example(["b", "a", "c"])
    def test_ids_are_positions_in_the_vocabulary(self, vocabulary):
        got = stage.CharTokenizer(vocabulary).encode("".join(vocabulary))
        if list(got) != list(range(len(vocabulary))):
            fail(
                f"Vocabulary {vocabulary}: encoding its own characters in order should give "
                f"{list(range(len(vocabulary)))}, got {show(got)}. The id of a character is its index in the "
                "vocabulary, "
                "in the order given (the tokenizer does not sort it)."
            )


class TestCharTokenizerRejects:
    def test_a_character_outside_the_vocabulary_naming_it_and_its_position(self, corpus_vocabulary):
        tokenizer = stage.CharTokenizer(list(corpus_vocabulary))
        call, reason = "encode('hello wörld')", "'ö' is not in the vocabulary; name it and its position 7"
        message = str(expect_value_error(lambda: tokenizer.encode("hello wörld"), call, reason))
        if "ö" not in message or not re.search(r"\b7\b", message):
            counted_from_one = "Positions count from 0, as enumerate(text) and text.index give them."
            fail(
                "Called encode('hello wörld'): the ValueError should name the character 'ö' and its position 7, "
                f"but says {message!r}",
                counted_from_one if re.search(r"\b8\b", message) else "",
            )

    @pytest.mark.parametrize("bad_id", [3, 4, -1, -3])
    def test_an_id_out_of_range(self, bad_id):
        tokenizer = stage.CharTokenizer(["a", "b", "c"])
        negative = "A negative id indexes a Python list from the end: check 0 <= id." if bad_id < 0 else ""
        call = f"Vocabulary ['a', 'b', 'c']: decode([0, {bad_id}])"
        expect_value_error(lambda: tokenizer.decode([0, bad_id]), call, f"{bad_id} is not an id", hint=negative)

    @pytest.mark.parametrize(
        "vocabulary",
        [["a", "b", "a"], ["ab", "c"], ["", "x"], "abca", [b"a", b"b"]],
        ids=["repeated", "two-chars", "empty", "string", "bytes"],
    )
    def test_a_bad_vocabulary(self, vocabulary):
        hint = "'' has no character at all: check len(entry) != 1, not len(entry) > 1." if "" in vocabulary else ""
        if any(isinstance(entry, bytes) for entry in vocabulary):
            hint = "b'a' is a byte string, not a character: check isinstance(entry, str) as well as its length."
        expect_value_error(
            lambda: stage.CharTokenizer(vocabulary[:]),
            f"CharTokenizer({vocabulary!r})",
            "every entry must be one character, and no character may appear twice (it would get two ids)",
            hint=hint,
        )
