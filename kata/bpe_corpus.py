"""`kata train --tokenizer bpe`: the learner's stage-12 BPE tokenizer, trained on the start of the
training split, wrapped so that encoding the whole corpus costs less.

The corpus is encoded paragraph by paragraph (each ending in its blank line), and a paragraph that
recurs is encoded once. An encode that stops as soon as no pair of its text is a merge (minbpe's loop)
then does far less work: with 256 merges it took 51 s for the whole corpus, where one call on the
validation tenth alone took 15 s (minbpe's loop, on the loaded 2-core machine). An encode that replays
every merge (stage 12's reference) costs about the same either way. The one difference from a single
call on the whole text: no merge crosses the end of a paragraph.
"""

import re

VOCAB_SIZE = 512  # 256 merges
TRAINING_CHARACTERS = 100_000  # from the training split's start: enough for the frequent merges
TRAIN_FRACTION = 0.9  # the split every stage uses


def train_tokenizer(bpe_stage, corpus: str, *, vocab_size: int = VOCAB_SIZE, characters: int = TRAINING_CHARACTERS):
    """The learner's BPETokenizer, trained on text of the training split only."""
    tokenizer = bpe_stage.BPETokenizer()
    tokenizer.train(corpus[: min(characters, int(TRAIN_FRACTION * len(corpus)))], vocab_size)
    return ParagraphEncoder(tokenizer)


def restore_tokenizer(bpe_stage, merges: dict[tuple[int, int], int]):
    """The learner's BPETokenizer with the merges a run saved (its vocab follows from them)."""
    tokenizer = bpe_stage.BPETokenizer()
    for (left, right), new_id in sorted(merges.items(), key=lambda merge: merge[1]):
        tokenizer.merges[(left, right)] = new_id
        tokenizer.vocab[new_id] = tokenizer.vocab[left] + tokenizer.vocab[right]
    return ParagraphEncoder(tokenizer)


class ParagraphEncoder:
    """The interface `kata train` uses (encode, decode, vocab_size) over the learner's tokenizer."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.encoded: dict[str, list[int]] = {}

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size

    @property
    def merges(self) -> dict[tuple[int, int], int]:
        return self.tokenizer.merges

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for paragraph in re.split(r"(?<=\n\n)", text):
            if paragraph not in self.encoded:
                self.encoded[paragraph] = list(self.tokenizer.encode(paragraph))
            ids += self.encoded[paragraph]
        return ids

    def decode(self, ids) -> str:
        return self.tokenizer.decode([int(i) for i in ids])
