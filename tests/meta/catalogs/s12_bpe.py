"""Stage 12 · Byte-level BPE tokenizer: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

STAGE = "s12_bpe"
TIE_BREAK = "pair = min(counts, key=lambda pair: (-counts[pair], pair))"
ENCODE_ORDER = "sorted(self.merges.items(), key=lambda merge: merge[1])"
# Hints for other mistakes than a tie-break: counting pairs once only, encoding in the wrong order.
TRAINING_AND_ENCODING_HINTS = ("Count the pairs afresh", "lowest merge id first")

MISTAKES = [
    # Source: the seventh precision pass (2026-12-06): each got a hint that blamed code it left right.
    Mistake(
        "ties-by-the-second-id-then-the-first",
        "s12_bpe",
        "broke ties by the pair's second id, then its first",
        (("key=lambda pair: (-counts[pair], pair))", "key=lambda pair: (-counts[pair], pair[1], pair[0]))"),),
        "but not the smallest",
        misleading=("which occurs first among", "the largest of the pairs"),
    ),
    Mistake(
        "one-merge-too-many",
        "s12_bpe",
        "learned vocab_size - 255 merges, running new_id up to vocab_size itself",
        (("for new_id in range(256, vocab_size):", "for new_id in range(256, vocab_size + 1):"),),
        "The first merge is right, then it goes on",
        misleading=("Among the most frequent pairs, merge the smallest.",),
    ),
    Mistake(
        "merges-keyed-by-new-id",
        "s12_bpe",
        "stored each merge as new id -> pair, and read them that way",
        (
            ("            self.merges[pair] = new_id", "            self.merges[new_id] = pair"),
            (
                "sorted(self.merges.items(), key=lambda merge: merge[1])",
                "sorted(((pair, new_id) for new_id, pair in self.merges.items()), key=lambda merge: merge[1])",
            ),
        ),
        "yours maps the new id to its pair, the other way round",
        misleading=("Stop early when", "merge the smallest", "could not use what your code gave it"),
    ),
    Mistake(
        "vocab-of-the-left-part-twice",
        "s12_bpe",
        "recorded vocab[new_id] = vocab[left] + vocab[left]",
        (("self.vocab[pair[0]] + self.vocab[pair[1]]", "self.vocab[pair[0]] + self.vocab[pair[0]]"),),
        "Each merge must record vocab[new_id] = vocab[left] + vocab[right].",
        misleading=("Count the pairs afresh",),
    ),
    # Source: the seventh precision pass (2026-12-06): the grader's check missed each on some draws (half of them
    # for the first, where no merge built on an earlier one in its text; the second where the training text
    # held the character whose bytes it splits).
    Mistake(
        "encode-applies-only-the-pairs-the-text-held",
        "s12_bpe",
        "applied only the merges whose pair was in the text before encoding, never one built on an earlier merge",
        (
            (
                "        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge[1]):\n"
                "            ids = merge_pair(ids, pair, new_id)",
                "        present = pair_counts(ids)\n"
                "        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge[1]):\n"
                "            if pair in present:\n"
                "                ids = merge_pair(ids, pair, new_id)",
            ),
        ),
    ),
    Mistake(
        "decode-reads-each-token-alone",
        "s12_bpe",
        "decoded each token's bytes on its own, splitting a character whose bytes lie in two tokens",
        (
            (
                '        return b"".join(self.vocab[int(i)] for i in ids).decode("utf-8", errors="replace")',
                '        return "".join(self.vocab[int(i)].decode("utf-8", errors="replace") for i in ids)',
            ),
        ),
    ),
    # Source: the seventh precision pass (2026-12-06): a tokenizer that keeps its own list of merges, made in
    # train. The docstring now says encode reads `merges` when called, as the kata's restore needs.
    Mistake(
        "encode-replays-a-list-made-in-train",
        "s12_bpe",
        "replayed a list of merges kept since train, not the merges the tokenizer holds",
        (
            (
                "            self.merges[pair] = new_id\n",
                "            self.merges[pair] = new_id\n            self.merge_order.append((pair, new_id))\n",
            ),
            ("        self.merges: dict", "        self.merge_order = []\n        self.merges: dict"),
            ("sorted(self.merges.items(), key=lambda merge: merge[1])", "self.merge_order"),
        ),
        "encode must read self.merges when it is called",
    ),
    # Source: the second backing hunt of 2026-12-05: the suite accepted it.
    Mistake(
        "ties-by-the-first-id-alone",
        "s12_bpe",
        "broke ties by the pair's first id alone",
        (
            (
                "pair = min(counts, key=lambda pair: (-counts[pair], pair))",
                "pair = min(counts, key=lambda pair: (-counts[pair], pair[0]))",
            ),
        ),
    ),
    # Source: the second backing hunt of 2026-12-05.
    Mistake(
        "merge-misses-the-last-pair",
        "s12_bpe",
        "stopped looking for the pair one place early",
        (
            (
                "        if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:",
                "        if i < len(ids) - 2 and (ids[i], ids[i + 1]) == pair:",
            ),
        ),
    ),
    Mistake(
        "encode-stops-at-an-absent-merge",
        "s12_bpe",
        "stopped replaying merges at the first whose pair is not in the text",
        (
            (
                "        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge[1]):\n"
                "            ids = merge_pair(ids, pair, new_id)",
                "        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge[1]):\n"
                "            if pair not in pair_counts(ids):\n"
                "                break  # nothing more to merge\n"
                "            ids = merge_pair(ids, pair, new_id)",
            ),
        ),
        "not there",
    ),
    # Source: the backing hunt of 2026-12-05: the suite accepted it; 256 is the bytes alone, a valid size.
    Mistake(
        "vocab-size-256-rejected",
        "s12_bpe",
        "refused a vocab_size of 256, the bytes with no merge",
        (("vocab_size < 256", "vocab_size <= 256"),),
        "256 is the bytes alone",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "pair-counts-skips-last-pair",
        "s12_bpe",
        "counted pairs without the last one",
        (("for pair in zip(ids, ids[1:], strict=False):", "for pair in zip(ids[:-1], ids[1:-1], strict=False):"),),
    ),
    Mistake(
        "encode-minbpe-loop-without-length-guard",
        "s12_bpe",
        "merged without checking that two ids are left, as minbpe's loop does",
        (
            (
                "        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge["
                "1]):\n            ids = merge_pair(ids, pair, new_id)\n        return ids",
                "        while True:\n            counts = pair_counts(ids)\n            pair = min"
                '(counts, key=lambda p: self.merges.get(p, float("inf")))\n            if pair not'
                " in self.merges:\n                break\n            ids = merge_pair(ids, pair, s"
                "elf.merges[pair])\n        return ids",
            ),
        ),
    ),
    Mistake(
        "stop-when-best-count-is-1",
        "s12_bpe",
        "stopped merging when the best pair occurs only once",
        (
            (
                "            ids = merge_pair(ids, pair, new_id)\n            self.merges[pair] = new_id",
                "            if counts[pair] < 2:\n                break\n            ids = merge_p"
                "air(ids, pair, new_id)\n            self.merges[pair] = new_id",
            ),
        ),
    ),
    Mistake(
        "tie-break-by-bytes",
        "s12_bpe",
        "broke ties between pairs by their bytes, not by the smallest pair of ids",
        (
            (
                "pair = min(counts, key=lambda pair: (-counts[pair], pair))",
                "pair = min(counts, key=lambda pair: (-counts[pair], self.vocab[pair[0]] + self.vocab[pair[1]]))",
            ),
        ),
    ),
    Mistake(
        "merge-in-place",
        STAGE,
        "merged the pair inside the list it was given",
        (
            (
                "    merged = []\n    i = 0\n    while i < len(ids):\n"
                "        if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:\n"
                "            merged.append(new_id)\n            i += 2\n        else:\n"
                "            merged.append(ids[i])\n            i += 1\n    return merged\n",
                "    i = 0\n    while i < len(ids) - 1:\n        if (ids[i], ids[i + 1]) == pair:\n"
                "            ids[i : i + 2] = [new_id]\n        i += 1\n    return ids\n",
            ),
        ),
        "changed its input",
    ),
    Mistake(
        "vocab-without-the-256-bytes",
        STAGE,
        "kept only the merged tokens in vocab, looking the bytes up elsewhere",
        (
            (
                "        self.vocab: dict[int, bytes] = {byte: bytes([byte]) for byte in range(256)}",
                "        self.vocab: dict[int, bytes] = {}",
            ),
            ("        return len(self.vocab)", "        return 256 + len(self.merges)"),
            (
                "            self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]\n",
                "            self.vocab[new_id] = self._bytes(pair[0]) + self._bytes(pair[1])\n\n"
                "    def _bytes(self, i):\n        return bytes([i]) if i < 256 else self.vocab[i]\n",
            ),
            ('b"".join(self.vocab[int(i)] for i in ids)', 'b"".join(self._bytes(int(i)) for i in ids)'),
        ),
        "vocab should map each byte 0..255 to bytes([byte])",
    ),
    Mistake(
        "tie-break-first-occurrence",
        STAGE,
        "broke ties by the pair that occurs first, as max(counts, key=counts.get) does",
        ((TIE_BREAK, "pair = max(counts, key=counts.get)"),),
        "occurs first among the pairs",
        misleading=TRAINING_AND_ENCODING_HINTS,
    ),
    Mistake(
        "tie-break-largest",
        STAGE,
        "broke ties by the largest pair",
        ((TIE_BREAK, "pair = max(counts, key=lambda pair: (counts[pair], pair))"),),
        "the largest of the pairs",
        misleading=TRAINING_AND_ENCODING_HINTS,
    ),
    Mistake(
        "non-overlapping-counts",
        STAGE,
        "counted pairs two ids at a time",
        (("for pair in zip(ids, ids[1:], strict=False):", "for pair in zip(ids[::2], ids[1::2], strict=False):"),),
        "they overlap",
    ),
    Mistake(
        "merge-overlapping",
        STAGE,
        "moved one id on after a match",
        (
            (
                "            merged.append(new_id)\n            i += 2\n",
                "            merged.append(new_id)\n            i += 1\n",
            ),
        ),
        "jump past both ids",
    ),
    Mistake(
        "merge-drops-the-last-id",
        STAGE,
        "stopped before the last id",
        (("    while i < len(ids):\n        if i < len(ids) - 1", "    while i < len(ids) - 1:\n        if True"),),
        "expected [1]",
    ),
    Mistake(
        "vocab-not-extended",
        STAGE,
        "never gave the new ids their bytes",
        (("            self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]\n", ""),),
        "vocab[new_id] = vocab[left] + vocab[right]",
    ),
    Mistake(
        "no-early-stop",
        STAGE,
        "kept merging when no pair was left",
        (
            (
                "            if not counts:\n"
                "                break  # the text is down to one token: nothing left to merge\n",
                "",
            ),
        ),
        "raised ValueError",
    ),
    Mistake(
        "vocab-size-unchecked",
        STAGE,
        "accepted a vocab_size below 256",
        (("        if vocab_size < 256:\n", "        if vocab_size < 0:\n"),),
        "should raise ValueError",
    ),
    Mistake(
        "encode-merges-in-pair-order",
        STAGE,
        "replayed the merges sorted by pair instead of in the order learned",
        ((ENCODE_ORDER, "sorted(self.merges.items())"),),
        "lowest merge id",
    ),
    Mistake(
        "encode-merges-in-reverse",
        STAGE,
        "replayed the merges from the last learned",
        ((ENCODE_ORDER, "sorted(self.merges.items(), key=lambda merge: -merge[1])"),),
        "lowest merge id",
    ),
    Mistake(
        "decode-strict-utf8",
        STAGE,
        "decoded the bytes strictly",
        (('.decode("utf-8", errors="replace")', '.decode("utf-8")'),),
        "UnicodeDecodeError",
    ),
    Mistake(
        "encode-code-points",
        STAGE,
        "encoded code points instead of UTF-8 bytes",
        (
            (
                '        ids = list(text.encode("utf-8"))\n        # Replay',
                "        ids = [ord(char) for char in text]\n        # Replay",
            ),
        ),
        "Encode the UTF-8 bytes",
    ),
    # The notebook walkthrough of stages 7-12: loops that went wrong, shown without a word.
    Mistake(
        "train-learns-vocab-size-merges",
        "s12_bpe",
        "learned vocab_size merges instead of vocab_size - 256",
        (("        for new_id in range(256, vocab_size):", "        for new_id in range(256, 256 + vocab_size):"),),
        "vocab_size - 256 = 3 merges",
    ),
    Mistake(
        "train-never-keeps-the-merged-ids",
        "s12_bpe",
        "merged without keeping the merged ids",
        (
            (
                "            ids = merge_pair(ids, pair, new_id)\n            self.merges[pair] = new_id",
                "            merge_pair(ids, pair, new_id)\n            self.merges[pair] = new_id",
            ),
        ),
        "ids = merge_pair(ids, pair, new_id)",
    ),
]

VARIANTS = [
    Variant(
        "counts-with-counter",
        STAGE,
        "counts with collections.Counter",
        (
            (
                '(compared as tuples) is merged first.\n"""\n',
                '(compared as tuples) is merged first.\n"""\n\nfrom collections import Counter\n',
            ),
            (
                "    counts: dict[tuple[int, int], int] = {}\n"
                "    for pair in zip(ids, ids[1:], strict=False):\n"
                "        counts[pair] = counts.get(pair, 0) + 1\n"
                "    return counts\n",
                "    return Counter(zip(ids, ids[1:], strict=False))\n",
            ),
        ),
    ),
    Variant(
        "merge-with-a-skip-flag",
        STAGE,
        "merges with a for loop and a flag",
        (
            (
                "    merged = []\n"
                "    i = 0\n"
                "    while i < len(ids):\n"
                "        if i < len(ids) - 1 and (ids[i], ids[i + 1]) == pair:\n"
                "            merged.append(new_id)\n"
                "            i += 2\n"
                "        else:\n"
                "            merged.append(ids[i])\n"
                "            i += 1\n",
                "    merged, skip = [], False\n"
                "    for i, current in enumerate(ids):\n"
                "        if skip:\n"
                "            skip = False\n"
                "        elif i + 1 < len(ids) and (current, ids[i + 1]) == pair:\n"
                "            merged.append(new_id)\n"
                "            skip = True\n"
                "        else:\n"
                "            merged.append(current)\n",
            ),
        ),
    ),
    Variant(
        "tie-break-by-sorting",
        STAGE,
        "sorts the counts to pick the pair",
        ((TIE_BREAK, "pair = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[0][0]"),),
    ),
    Variant(
        "encode-lowest-merge-first-like-minbpe",
        STAGE,
        "encodes as minbpe does: while a known pair is present, merges the one learned first",
        (
            (
                "        # Replay the merges in the order they were learned: a later merge may join the ids an earlier"
                " made.\n"
                f"        for pair, new_id in {ENCODE_ORDER}:\n"
                "            ids = merge_pair(ids, pair, new_id)\n",
                "        while len(ids) >= 2:\n"
                '            pair = min(pair_counts(ids), key=lambda pair: self.merges.get(pair, float("inf")))\n'
                "            if pair not in self.merges:\n"
                "                break\n"
                "            ids = merge_pair(ids, pair, self.merges[pair])\n",
            ),
        ),
    ),
    Variant(
        "decode-through-a-bytearray",
        STAGE,
        "collects the bytes in a bytearray",
        (
            (
                '        return b"".join(self.vocab[int(i)] for i in ids).decode("utf-8", errors="replace")\n',
                "        data = bytearray()\n"
                "        for i in ids:\n"
                "            data += self.vocab[i]\n"
                '        return data.decode("utf-8", errors="replace")\n',
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "merge-by-skipping-an-iterator",
        "s12_bpe",
        "merges by advancing an index iterator past the pair's second id, and counts pairs in a plain dict",
        (
            replaced(
                "s12_bpe",
                "merge_pair",
                """
def merge_pair(ids, pair, new_id):
    out = []
    it = iter(range(len(ids)))
    for i in it:
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            next(it, None)
        else:
            out.append(ids[i])
    return out
""",
            ),
            replaced(
                "s12_bpe",
                "pair_counts",
                """
def pair_counts(ids):
    counts = {}
    for i in range(len(ids) - 1):
        key = (ids[i], ids[i + 1])
        if key in counts:
            counts[key] += 1
        else:
            counts[key] = 1
    return counts
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "encode-in-insertion-order",
        "s12_bpe",
        "replays the merges in the dict's insertion order, which is the order they were learned",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    ids = list(bytes(text, "utf-8"))
    for pair, new_id in self.merges.items():  # a dict keeps the order the merges were learned in
        if len(ids) < 2:
            break
        ids = merge_pair(ids, pair, new_id)
    return ids
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.decode",
                """
def decode(self, ids):
    return bytes(b for i in ids for b in self.vocab[i]).decode("utf-8", "replace")
""",
            ),
        ),
    ),
]
