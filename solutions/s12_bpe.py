"""Stage 12 · A byte-level BPE tokenizer (reference).

After the lecture: Karpathy's "Let's build the GPT Tokenizer" and minbpe's BasicTokenizer.
Text becomes UTF-8 bytes (ids 0..255); training repeatedly merges the most frequent pair of
neighbouring ids into a new id (256, 257, ...); encoding replays the merges in the order they were
learned; decoding joins the bytes of each id and reads them as UTF-8.

Tie-break: among pairs with the same count, the smallest pair (compared as tuples) is merged first.
"""


def pair_counts(ids: list[int]) -> dict[tuple[int, int], int]:
    counts: dict[tuple[int, int], int] = {}
    for pair in zip(ids, ids[1:], strict=False):
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    merged = []
    i = 0
    while i < len(ids):
        if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:
            merged.append(new_id)
            i += 2
        else:
            merged.append(ids[i])
            i += 1
    return merged


class BPETokenizer:
    def __init__(self):
        self.merges: dict[tuple[int, int], int] = {}  # in the order they were learned
        self.vocab: dict[int, bytes] = {byte: bytes([byte]) for byte in range(256)}

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def train(self, text: str, vocab_size: int) -> None:
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be at least 256 (one id per byte), got {vocab_size}")
        ids = list(text.encode("utf-8"))
        for new_id in range(256, vocab_size):
            counts = pair_counts(ids)
            if not counts:
                break  # the text is down to one token: nothing left to merge
            pair = min(counts, key=lambda pair: (-counts[pair], pair))  # most frequent, then smallest
            ids = merge_pair(ids, pair, new_id)
            self.merges[pair] = new_id
            self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]

    def encode(self, text: str) -> list[int]:
        ids = list(text.encode("utf-8"))
        # Replay the merges in the order they were learned: a later merge may join the ids an earlier made.
        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge[1]):
            ids = merge_pair(ids, pair, new_id)
        return ids

    def decode(self, ids: list[int]) -> str:
        return b"".join(self.vocab[int(i)] for i in ids).decode("utf-8", errors="replace")
