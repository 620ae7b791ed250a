"""Stage 12 · A byte-level BPE tokenizer.

After the lecture: the lecture tokenizes characters and mentions that OpenAI uses tiktoken, a
byte-pair encoding (BPE). Karpathy's follow-up, "Let's build the GPT Tokenizer", builds one in his
minbpe repository; this stage is its BasicTokenizer.

A text becomes its UTF-8 bytes, ids 0..255, so any string can be encoded. Training then repeats:
count every pair of neighbouring ids, and replace the most frequent pair everywhere by a new id
(256, 257, ...), until the vocabulary has vocab_size ids. Encoding a new text replays the learned
merges in the order they were learned; decoding joins the bytes of each id.

Tie-break (so that every correct tokenizer learns the same merges): among pairs with the same count,
merge the smallest pair, comparing pairs as tuples: (97, 98) before (97, 99) before (98, 0).

The classic example: "aaabdaaabac" merges aa -> 256, then ab -> 257, then (256, 257) -> 258,
and encodes to [258, 100, 258, 97, 99].

Check it with `.venv/bin/kata check s12_bpe` (or `.venv/bin/pytest -m s12_bpe`) from the kata's
folder; `.venv/bin/kata hint s12_bpe` gives a hint.
"""


def pair_counts(ids: list[int]) -> dict[tuple[int, int], int]:
    """How often each pair of neighbouring ids occurs: [1, 2, 3, 1, 2] -> {(1, 2): 2, (2, 3): 1, (3, 1): 1}.
    Pairs overlap: [97, 97, 97] -> {(97, 97): 2}."""
    raise NotImplementedError("stage s12_bpe: pair_counts")


def merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """A new list where each occurrence of `pair`, found left to right, becomes new_id:
    merge_pair([5, 6, 6, 7, 9, 1], (6, 7), 99) -> [5, 6, 99, 9, 1]; merge_pair([1, 1, 1], (1, 1), 256) -> [256, 1].
    Leave `ids` itself unchanged."""
    raise NotImplementedError("stage s12_bpe: merge_pair")


class BPETokenizer:
    """Attributes: `merges`, {(left id, right id): new id} in the order learned; `vocab`, {id: bytes},
    which starts as {byte: bytes([byte]) for byte in range(256)}; `vocab_size`, len(vocab).

    encode and decode read `merges` and `vocab` as they are when called: the kata restores a saved
    tokenizer by filling them in, without train (and so do the tests)."""

    def __init__(self):
        raise NotImplementedError("stage s12_bpe: BPETokenizer.__init__")

    @property
    def vocab_size(self) -> int:
        raise NotImplementedError("stage s12_bpe: BPETokenizer.vocab_size")

    def train(self, text: str, vocab_size: int) -> None:
        """Learn vocab_size - 256 merges from text's UTF-8 bytes: each time, count the pairs, merge the
        most frequent (ties: the smallest pair) into the next id, and record it in merges and vocab
        (vocab[new_id] = vocab[left] + vocab[right]). Stop early when no pair is left. Raise ValueError
        when vocab_size < 256."""
        raise NotImplementedError("stage s12_bpe: BPETokenizer.train")

    def encode(self, text: str) -> list[int]:
        """text's UTF-8 bytes, then the merges replayed in the order they were learned (lowest merge id
        first), each one everywhere it occurs. (minbpe instead repeats: merge the pair present that was
        learned first. Same result.)"""
        raise NotImplementedError("stage s12_bpe: BPETokenizer.encode")

    def decode(self, ids: list[int]) -> str:
        """Join vocab[id] for each id and read the bytes as UTF-8; bytes that are not valid UTF-8 become
        '\\ufffd' (errors='replace')."""
        raise NotImplementedError("stage s12_bpe: BPETokenizer.decode")
