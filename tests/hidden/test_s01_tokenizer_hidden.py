"""Stage 1, hidden from learners (kept out of handouts; `kata grade` runs it, `kata` does not)."""

from feedback import fail

from kata.implementation import StageModule

stage = StageModule("s01_tokenizer")


def test_the_whole_corpus_survives_a_round_trip(corpus):
    vocabulary = stage.build_vocabulary(corpus)
    if len(vocabulary) != len(set(vocabulary)):  # a CharTokenizer checks its entries: a million of them take long
        fail(
            f"build_vocabulary(<the whole corpus>) gave {len(vocabulary):,} entries, {len(set(vocabulary))} of them "
            "distinct: keep each distinct character once (set(...))"
        )
    tokenizer = stage.CharTokenizer(vocabulary)
    if tokenizer.decode(tokenizer.encode(corpus)) != corpus:
        fail("decode(encode(<the whole corpus>)) did not give the corpus back")
