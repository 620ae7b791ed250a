"""Stage 1, hidden from learners (kept out of handouts; `kata grade` runs it, `kata` does not)."""

from feedback import fail

from kata.implementation import StageModule

stage = StageModule("s01_tokenizer")


def test_the_whole_corpus_survives_a_round_trip(corpus):
    tokenizer = stage.CharTokenizer(stage.build_vocabulary(corpus))
    if tokenizer.decode(tokenizer.encode(corpus)) != corpus:
        fail("decode(encode(<the whole corpus>)) did not give the corpus back")
