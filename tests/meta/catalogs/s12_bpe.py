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
    # Source: the false-pass hunt of 2026-12-07: a tie key that packs a pair into one number, which ids from 256 on
    # overflow, passed every test with full marks.
    Mistake(
        "tie-broken-by-packed-pair",
        "s12_bpe",
        "breaks ties by the pair packed into one number, p0 * 256 + p1",
        (
            (
                "pair = min(counts, key=lambda pair: (-counts[pair], pair))",
                "pair = min(counts, key=lambda pair: (-counts[pair], pair[0] * 256 + pair[1]))",
            ),
        ),
        "packed into one number",
    ),
    # Source: the false-pass hunt of 2026-12-07: every test passed and the grade was 0 of 15.
    Mistake(
        "encode-merges-the-most-frequent-known-pair",
        "s12_bpe",
        "encodes by merging the most frequent pair it knows, first",
        (
            (
                "        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge[1]):\n"
                "            ids = merge_pair(ids, pair, new_id)\n",
                "        while True:\n"
                "            counts = pair_counts(ids)\n"
                "            known = [pair for pair in counts if pair in self.merges]\n"
                "            if not known:\n"
                "                break\n"
                "            pair = max(known, key=lambda p: (counts[p], -self.merges[p]))\n"
                "            ids = merge_pair(ids, pair, self.merges[pair])\n",
            ),
        ),
        "not by how often their pair occurs",
    ),
    # Source: my last note's list (2026-12-07): told to join a merge's two parts, which train does, not decode.
    Mistake(
        "decode-bytes-of-the-ids",
        "s12_bpe",
        "decodes with bytes(ids), as if every id were one byte",
        (
            (
                'return b"".join(self.vocab[int(i)] for i in ids).decode("utf-8", errors="replace")',
                'return bytes(ids).decode("utf-8", errors="replace")',
            ),
        ),
        "bytes(ids) reads each id as one byte",
        misleading=("vocab[p0] + vocab[p1]",),
    ),
    # Source: a message hunt (2026-12-07): one test told it to make its dicts in __init__, which it does.
    Mistake(
        "vocab-starts-with-255-bytes",
        "s12_bpe",
        "started the vocab with range(255), one byte short",
        (("for byte in range(256)}", "for byte in range(255)}"),),
        "where vocab[byte] should be bytes([byte])",
        misleading=("make them in __init__",),
    ),
    # Source: a misleading-message hunt (2026-12-07): it was told to read self.merges when encode is called, which it
    # does.
    Mistake(
        "encode-drops-what-merge-pair-returns",
        "s12_bpe",
        "called merge_pair in encode without keeping the list it returns",
        (
            (
                "            ids = merge_pair(ids, pair, new_id)\n        return ids",
                "            merge_pair(ids, pair, new_id)\n        return ids",
            ),
        ),
        "merge_pair returns a new list, which encode must keep",
        misleading=("not a copy made in train",),
    ),
    # A false-pass hunt of 2026-12-07: bytes(97) is 97 zero bytes, not b"a". Six of the seven failing tests blamed
    # the merges or decode, and their messages quoted the zero bytes whole (up to 14,710 characters).
    Mistake(
        "vocab-made-with-bytes-of-an-int",
        STAGE,
        "made the 256 first entries with bytes(byte), which is byte zero bytes, instead of bytes([byte])",
        (("{byte: bytes([byte]) for byte in range(256)}", "{byte: bytes(byte) for byte in range(256)}"),),
        "bytes([byte])",
        misleading=("Count the pairs afresh", "vocab[new_id] = vocab[left] + vocab[right]", "errors="),
    ),
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
        "min() of no pairs raises",
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
        "a vocab without the ids [0, 1, 2, 3, 4, 5, ... (256 items)]",
    ),
    # Source: a session's read of graded notebooks (2026-12-06): the message named neither a missing nor a wrong
    # byte, only "got vocab_size 256"; characters' UTF-8 for the 256 byte ids is two bytes from 128 on.
    Mistake(
        "vocab-of-characters-utf8",
        STAGE,
        "made the first 256 entries of vocab from the characters chr(0)..chr(255) in UTF-8, not from the bytes",
        (
            (
                "        self.vocab: dict[int, bytes] = {byte: bytes([byte]) for byte in range(256)}",
                "        self.vocab: dict[int, bytes] = {byte: chr(byte).encode('utf-8') for byte in range(256)}",
            ),
        ),
        "with vocab[128] = b'\\xc2\\x80' (128 of the 256 wrong)",
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
        "stop when no pair is left to merge",
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
        ".decode('utf-8', errors='replace'), which puts",  # the notebook walkthrough of 7-12 saw only Python's words
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
    # Source: the eleventh precision pass (2026-12-06): minbpe basic.py train begins with `assert vocab_size >=
    # 256`; the docstring asks for ValueError.
    # No hint before this pass: the message ended on an empty colon.
    Mistake(
        "assert-instead-of-valueerror",
        "s12_bpe",
        "checked vocab_size with an assert, as minbpe's train does, raising AssertionError instead of ValueError",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    assert vocab_size >= 256
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        counts = pair_counts(ids)
        if not counts:
            break
        pair = min(counts, key=lambda pair: (-counts[pair], pair))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
        "An assert is no ValueError",
    ),
    # Source: the eleventh precision pass (2026-12-06): Python gotcha: a list slice compared with a tuple pair is
    # never equal, so nothing is merged.
    # No hint before this pass: train's and encode's messages blamed right code.
    Mistake(
        "merge-compares-list-slice-with-tuple",
        "s12_bpe",
        "compared the slice ids[i:i + 2], a list, with the pair, a tuple, so merge_pair never merged",
        (
            replaced(
                "s12_bpe",
                "merge_pair",
                """
def merge_pair(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if ids[i:i + 2] == pair:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
""",
            ),
        ),
        "a slice ids[i:i + 2] is a list, never equal to the tuple pair",
        misleading=(
            "Only the last merge is kept",
            "Stop early when the text has no pair left to merge.",
            "not a copy made in train",
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): a first attempt: count the pairs once, then merge the top
    # pairs in turn (never recounting).
    Mistake(
        "counts-once-then-top-pairs",
        "s12_bpe",
        "counted the pairs once, then merged the most frequent pairs of that count in turn",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    counts = pair_counts(ids)
    ranked = sorted(counts, key=lambda p: (-counts[p], p))
    for new_id, pair in zip(range(256, vocab_size), ranked):
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
        "none a token an earlier merge made",
    ),
    # Source: the eleventh precision pass (2026-12-06): off by one the other way: range(256, vocab_size - 1).
    # No hint before this pass: the tie test blamed the tie-break.
    Mistake(
        "one-merge-too-few",
        "s12_bpe",
        "learned vocab_size - 257 merges, running new_id up to vocab_size - 1",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size - 1):
        counts = pair_counts(ids)
        if not counts:
            break
        pair = min(counts, key=lambda pair: (-counts[pair], pair))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
        "1 short: train(text, 257) learns vocab_size - 256 = 1 merge",
        misleading=("Among the most frequent pairs, merge the smallest.",),
    ),
    # Source: the eleventh precision pass (2026-12-06): vocab[new_id] = bytes(pair): right for two bytes, raises for
    # a pair holding a merged id (> 255).
    Mistake(
        "vocab-bytes-of-the-pair",
        "s12_bpe",
        "recorded vocab[new_id] = bytes(pair), which fails for a pair holding a merged id",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        counts = pair_counts(ids)
        if not counts:
            break
        pair = min(counts, key=lambda pair: (-counts[pair], pair))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = bytes(pair)
""",
            ),
        ),
        "a token's bytes are its two parts' bytes joined",
    ),
    # Source: the eleventh precision pass (2026-12-06): minbpe-style encode loop, but picking the smallest pair that
    # has a merge rather than the one learned first.
    Mistake(
        "encode-loop-smallest-known-pair",
        "s12_bpe",
        "encoded by merging the smallest known pair present, not the one learned first",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    ids = list(text.encode("utf-8"))
    while len(ids) >= 2:
        known = [p for p in pair_counts(ids) if p in self.merges]
        if not known:
            break
        pair = min(known)
        ids = merge_pair(ids, pair, self.merges[pair])
    return ids
""",
            ),
        ),
        "in the order they were learned, lowest merge id first",
    ),
    # Source: the eleventh precision pass (2026-12-06): vocab_size as a plain attribute counted in train (a
    # learner's __init__: self.vocab_size = 256): stale once the kata restores a tokenizer by filling in merges and
    # vocab.
    # No hint before this pass: the suite accepted it.
    Mistake(
        "vocab-size-plain-attribute",
        "s12_bpe",
        "kept vocab_size as a count made in train, stale once merges and vocab are filled in without train",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer",
                """
class BPETokenizer:
    def __init__(self):
        self.merges = {}
        self.vocab = {byte: bytes([byte]) for byte in range(256)}
        self.vocab_size = 256

    def train(self, text, vocab_size):
        if vocab_size < 256:
            raise ValueError("vocab_size must be >= 256")
        ids = list(text.encode("utf-8"))
        for new_id in range(256, vocab_size):
            counts = pair_counts(ids)
            if not counts:
                break
            pair = min(counts, key=lambda pair: (-counts[pair], pair))
            ids = merge_pair(ids, pair, new_id)
            self.merges[pair] = new_id
            self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
            self.vocab_size += 1

    def encode(self, text):
        ids = list(text.encode("utf-8"))
        for pair, new_id in sorted(self.merges.items(), key=lambda merge: merge[1]):
            ids = merge_pair(ids, pair, new_id)
        return ids

    def decode(self, ids):
        return b"".join(self.vocab[int(i)] for i in ids).decode("utf-8", errors="replace")
""",
            ),
        ),
        "Make vocab_size a property, return len(self.vocab)",
    ),
    # Source: the eleventh precision pass (2026-12-06): decode with errors="ignore" (a common first choice to
    # silence UnicodeDecodeError).
    Mistake(
        "decode-errors-ignore",
        "s12_bpe",
        'decoded with errors="ignore", dropping the bytes that are not UTF-8',
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.decode",
                """
def decode(self, ids):
    return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="ignore")
""",
            ),
        ),
        "read the bytes with .decode('utf-8', errors='replace')",
    ),
    # Source: the eleventh precision pass (2026-12-06): tie-break: smallest first id, then largest second id (max
    # with -p[0] only, then p[1]).
    Mistake(
        "tie-first-small-second-large",
        "s12_bpe",
        "broke ties by the smallest first id, then the largest second id",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        counts = pair_counts(ids)
        if not counts:
            break
        pair = max(counts, key=lambda p: (counts[p], -p[0], p[1]))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
        "but not the smallest: ties go to the smallest pair",
    ),
    # Source: the eleventh precision pass (2026-12-06): encode that merges each learned pair only at its first
    # occurrence (list.index style first attempt).
    Mistake(
        "encode-first-occurrence-only",
        "s12_bpe",
        "applied each merge only where its pair first occurs",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    ids = list(text.encode("utf-8"))
    for pair, new_id in sorted(self.merges.items(), key=lambda kv: kv[1]):
        for i in range(len(ids) - 1):
            if (ids[i], ids[i + 1]) == pair:
                ids[i:i + 2] = [new_id]
                break
    return ids
""",
            ),
        ),
        "Apply every learned merge wherever it occurs",
    ),
    # Source: the eleventh precision pass (2026-12-06): Python's mutable default argument: __init__(self, merges={})
    # shares one dict across tokenizers.
    # No hint before this pass: hints blamed the tie-break and the early stop.
    Mistake(
        "init-mutable-default-merges",
        "s12_bpe",
        "made merges and vocab default arguments of __init__, one pair of dicts shared by every tokenizer",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.__init__",
                """
def __init__(self, merges={}, vocab={}):
    self.merges = merges
    self.vocab = vocab
    for byte in range(256):
        self.vocab[byte] = bytes([byte])
""",
            ),
        ),
        "Each tokenizer needs dicts of its own",
        misleading=(
            "Among the most frequent pairs, merge the smallest.",
            "Stop early when the text has no pair left to merge.",
            "Each merge must record vocab[new_id] = vocab[left] + vocab[right].",
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): mutable class attributes (a learner writes the attributes in
    # the class body).
    # No hint before this pass: hints blamed the tie-break and the early stop.
    Mistake(
        "class-attribute-merges",
        "s12_bpe",
        "made merges and vocab class attributes, shared by every tokenizer",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.__init__",
                """
merges = {}
vocab = {byte: bytes([byte]) for byte in range(256)}

def __init__(self):
    pass
""",
            ),
        ),
        "Each tokenizer needs dicts of its own",
        misleading=(
            "Among the most frequent pairs, merge the smallest.",
            "Stop early when the text has no pair left to merge.",
            "Each merge must record vocab[new_id] = vocab[left] + vocab[right].",
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): a learner thinking in strings (minbpe's render_token shows
    # tokens as text): each new token's bytes are built from the decoded text of its two parts, re-encoded. Right
    # for whole characters, wrong where a merge splits a multi-byte character (the '\ufffd' it decodes to is re-
    # encoded as EF BF BD).
    # No hint before this pass: the suite accepted it.
    Mistake(
        "vocab-via-decoded-text",
        "s12_bpe",
        "built each new token's bytes from the decoded text of its two parts, wrong where a merge splits a character",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        counts = pair_counts(ids)
        if not counts:
            break
        pair = min(counts, key=lambda pair: (-counts[pair], pair))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = (self.decode([pair[0]]) + self.decode([pair[1]])).encode("utf-8")
""",
            ),
        ),
        "join the bytes themselves, vocab[left] + vocab[right]",
    ),
    # Source: the eleventh precision pass (2026-12-06): WordPiece-style greedy longest match mistaken for BPE
    # encoding.
    Mistake(
        "encode-greedy-longest-match",
        "s12_bpe",
        "encoded by greedy longest match over the vocab, as WordPiece does, not by replaying the merges",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    data = text.encode("utf-8")
    by_bytes = {b: i for i, b in self.vocab.items()}
    longest = max(len(b) for b in by_bytes)
    ids, i = [], 0
    while i < len(data):
        for n in range(min(longest, len(data) - i), 0, -1):
            if data[i:i + n] in by_bytes:
                ids.append(by_bytes[data[i:i + n]])
                i += n
                break
    return ids
""",
            ),
        ),
        "Replay the merges in the order they were learned",
    ),
    # Source: the eleventh precision pass (2026-12-06): a learner who counts only the occurrences a merge could take
    # ("aaa" holds one mergeable "aa"), skipping a pair that overlaps the same pair just counted.
    # No hint before this pass: no test failed; the check zeroed it.
    Mistake(
        "train-counts-non-overlapping-runs",
        "s12_bpe",
        "counted only the pairs that do not overlap the same pair just before, so 'aaa' holds one (a, a)",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        counts, last = {}, {}
        for i in range(len(ids) - 1):
            p = (ids[i], ids[i + 1])
            if last.get(p) == i - 1:
                continue  # overlaps the same pair: a merge cannot take both
            counts[p] = counts.get(p, 0) + 1
            last[p] = i
        if not counts:
            break
        pair = min(counts, key=lambda pair: (-counts[pair], pair))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
        "in 'aaa' the pairs overlap, aa and aa",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "train-stops-at-one-token",
        "s12_bpe",
        "stopped training when the text was down to one token, not when no pair was left (an empty text has none)",
        (("            if not counts:\n", "            if len(ids) == 1:\n"),),
        "The test's call: BPETokenizer().train('', 300). Training runs out of pairs on this text",
    ),
    Mistake(
        "merge-pair-by-zip-then-the-last-id",
        "s12_bpe",
        "merged over zip(ids, ids[1:]) and appended ids[-1] after, which raises for no ids",
        (
            replaced(
                "s12_bpe",
                "merge_pair",
                """
def merge_pair(ids, pair, new_id):
    merged, skip = [], False
    for a, b in zip(ids, ids[1:]):
        if skip:
            skip = False
            continue
        if (a, b) == tuple(pair):
            merged.append(new_id)
            skip = True
        else:
            merged.append(a)
    if not skip:
        merged.append(ids[-1])  # the last id, which no pair starts
    return merged
""",
            ),
        ),
        "[-1] of an empty list raises",
    ),
    # Source: a learner's walk-through of stages 9 to 12 (a helper, 2026-12-06): told only the merges it expected.
    Mistake(
        "pairs-counted-two-ids-apart",
        "s12_bpe",
        "counted the pairs two ids apart, zip(ids[::2], ids[1::2]), leaving out those in between",
        (
            (
                "    for pair in zip(ids, ids[1:], strict=False):",
                "    for pair in zip(ids[::2], ids[1::2], strict=False):",
            ),
        ),
        "These are the pairs two ids apart",
    ),
    Mistake(
        "trains-on-code-points",
        "s12_bpe",
        "trained on the characters' code points, [ord(c) for c in text], not the UTF-8 bytes",
        (
            (
                '            raise ValueError(f"vocab_size must be at least 256 (one id per byte), got {vocab_size}")\n'
                '        ids = list(text.encode("utf-8"))',
                '            raise ValueError(f"vocab_size must be at least 256 (one id per byte), got {vocab_size}")\n'
                "        ids = [ord(c) for c in text]",
            ),
        ),
        "learned from the characters' code points",
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
    # Source: the eleventh precision pass (2026-12-06): karpathy/minbpe minbpe/base.py (get_stats with counts=None,
    # merge) + basic.py (train verbose, encode while-loop with min over merges.get(p, inf)); the tie-break changed
    # to the kata's rule.
    Variant(
        "minbpe-basic-tokenizer-port",
        "s12_bpe",
        "ports minbpe's BasicTokenizer: get_stats, merge, a verbose train and encode's loop over the known pairs",
        (
            replaced(
                "s12_bpe",
                "pair_counts",
                """
def pair_counts(ids, counts=None):
    counts = {} if counts is None else counts
    for pair in zip(ids, ids[1:]):  # iterate consecutive elements
        counts[pair] = counts.get(pair, 0) + 1
    return counts
""",
            ),
            replaced(
                "s12_bpe",
                "merge_pair",
                """
def merge_pair(ids, pair, idx):
    newids = []
    i = 0
    while i < len(ids):
        # if not at the very last position AND the pair matches, replace it
        if ids[i] == pair[0] and i < len(ids) - 1 and ids[i+1] == pair[1]:
            newids.append(idx)
            i += 2
        else:
            newids.append(ids[i])
            i += 1
    return newids
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size, verbose=False):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    num_merges = vocab_size - 256
    text_bytes = text.encode("utf-8")
    ids = list(text_bytes)
    merges = {}
    vocab = {idx: bytes([idx]) for idx in range(256)}
    for i in range(num_merges):
        stats = pair_counts(ids)
        if not stats:
            break
        top = max(stats.values())
        pair = min(p for p in stats if stats[p] == top)
        idx = 256 + i
        ids = merge_pair(ids, pair, idx)
        merges[pair] = idx
        vocab[idx] = vocab[pair[0]] + vocab[pair[1]]
        if verbose:
            print(f"merge {i+1}/{num_merges}: {pair} -> {idx} ({vocab[idx]}) had {stats[pair]} occurrences")
    self.merges = merges
    self.vocab = vocab
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    text_bytes = text.encode("utf-8")
    ids = list(text_bytes)
    while len(ids) >= 2:
        stats = pair_counts(ids)
        pair = min(stats, key=lambda p: self.merges.get(p, float("inf")))
        if pair not in self.merges:
            break
        idx = self.merges[pair]
        ids = merge_pair(ids, pair, idx)
    return ids
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.decode",
                """
def decode(self, ids):
    text_bytes = b"".join(self.vocab[idx] for idx in ids)
    text = text_bytes.decode("utf-8", errors="replace")
    return text
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): tiktoken/_educational.py bpe_encode (parts list, merge the
    # lowest-ranked adjacent pair one position at a time), re-expressed on ids with merges as ranks.
    Variant(
        "tiktoken-educational-one-position-at-a-time",
        "s12_bpe",
        "encodes as tiktoken's _educational bpe_encode does, merging the lowest-ranked pair one position at a time",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    parts = list(text.encode("utf-8"))
    while True:
        min_idx = None
        min_rank = None
        for i, pair in enumerate(zip(parts[:-1], parts[1:])):
            rank = self.merges.get(pair)
            if rank is not None and (min_rank is None or rank < min_rank):
                min_idx = i
                min_rank = rank
        if min_rank is None:
            break
        parts = parts[:min_idx] + [min_rank] + parts[min_idx + 2:]
    return parts
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): a learner's "fast" encode: map ids to characters and let
    # str.replace (left to right, no overlap) merge (seen in several BPE-in-pure-Python blog posts).
    Variant(
        "encode-with-str-replace",
        "s12_bpe",
        "encodes by mapping the ids to characters and merging with str.replace, in id order",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    s = "".join(map(chr, text.encode("utf-8")))
    for (a, b), new_id in sorted(self.merges.items(), key=lambda kv: kv[1]):
        s = s.replace(chr(a) + chr(b), chr(new_id))
    return [ord(c) for c in s]
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): heap / priority-queue encode (as in HF tokenizers' word
    # merge loop: a heap of (rank, position)), merging one position at a time and skipping stale heap entries.
    Variant(
        "encode-with-a-heap",
        "s12_bpe",
        "encodes with a heap of (rank, position), merging one position at a time",
        (
            (
                '(compared as tuples) is merged first.\n"""\n',
                '(compared as tuples) is merged first.\n"""\n\nimport heapq\n',
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    ids = list(text.encode("utf-8"))
    while len(ids) >= 2:
        heap = [(self.merges[p], i) for i, p in enumerate(zip(ids, ids[1:])) if p in self.merges]
        if not heap:
            break
        heapq.heapify(heap)
        rank, i = heapq.heappop(heap)
        ids[i:i + 2] = [rank]
    return ids
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): collections.Counter most_common with the tie-break
    # (learner's port of rasbt LLMs-from-scratch ch02/05_bpe-from-scratch find_freq_pair), new ids from
    # len(self.vocab), while loop on vocab size.
    Variant(
        "counter-most-common-len-vocab",
        "s12_bpe",
        "picks the smallest of Counter.most_common's tied pairs and numbers new ids len(self.vocab) until it is full",
        (
            (
                '(compared as tuples) is merged first.\n"""\n',
                '(compared as tuples) is merged first.\n"""\n\nfrom collections import Counter\n',
            ),
            replaced(
                "s12_bpe",
                "pair_counts",
                """
def pair_counts(ids):
    return dict(Counter(zip(ids, ids[1:])))
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size < 256")
    ids = list(text.encode("utf-8"))
    while len(self.vocab) < vocab_size:
        counts = Counter(zip(ids, ids[1:]))
        if not counts:
            break
        best = counts.most_common(1)[0][1]
        pair = min(p for p, c in counts.items() if c == best)
        new_id = len(self.vocab)
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): tie-break by stable sort with reverse=True (sort the pairs,
    # then by count descending; Python's sort keeps equal counts in the order given), and max with negated ids.
    Variant(
        "tie-break-stable-sort-reverse",
        "s12_bpe",
        "breaks ties with a stable sort: the pairs sorted, then sorted by count with reverse=True",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be at least 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        counts = pair_counts(ids)
        if len(counts) == 0:
            return
        pair = sorted(sorted(counts), key=counts.get, reverse=True)[0]
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
    ),
    Variant(
        "tie-break-max-negated-ids",
        "s12_bpe",
        "breaks ties with max over (count, -first id, -second id)",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError(vocab_size)
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        if len(ids) < 2:
            break
        counts = pair_counts(ids)
        pair = max(counts, key=lambda p: (counts[p], -p[0], -p[1]))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): defaultdict counts and a try/except IndexError merge (first
    # attempts on forums).
    Variant(
        "defaultdict-and-slice-merge",
        "s12_bpe",
        "counts with a defaultdict and merges where tuple(ids[i:i + 2]) equals the pair",
        (
            (
                '(compared as tuples) is merged first.\n"""\n',
                '(compared as tuples) is merged first.\n"""\n\nfrom collections import defaultdict\n',
            ),
            replaced(
                "s12_bpe",
                "pair_counts",
                """
def pair_counts(ids):
    counts = defaultdict(int)
    for i in range(len(ids) - 1):
        counts[ids[i], ids[i + 1]] += 1
    return counts
""",
            ),
            replaced(
                "s12_bpe",
                "merge_pair",
                """
def merge_pair(ids, pair, new_id):
    out = []
    i = 0
    n = len(ids)
    while i < n:
        if tuple(ids[i:i + 2]) == tuple(pair):
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): incremental pair counts (the "faster BPE" learners write
    # after minbpe's exercise: update the counts of the neighbours of each merged occurrence instead of recounting),
    # done carefully by recounting per merge locally.
    Variant(
        "train-with-incremental-counts",
        "s12_bpe",
        "updates the counts after each merge, subtracting the old pairs and adding the new ones",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    counts = pair_counts(ids)
    for new_id in range(256, vocab_size):
        counts = {p: c for p, c in counts.items() if c > 0}
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        new_ids = merge_pair(ids, pair, new_id)
        # subtract the old pairs, add the new ones (the whole list: simple and exact)
        for p, c in pair_counts(ids).items():
            counts[p] = counts.get(p, 0) - c
        for p, c in pair_counts(new_ids).items():
            counts[p] = counts.get(p, 0) + c
        ids = new_ids
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): decode via bytes(list of ints) - a learner flattening the
    # vocab values; encode iterates merges already in id order by range (merges looked up through an inverse dict).
    Variant(
        "encode-by-id-range-inverse",
        "s12_bpe",
        "replays the merges through an inverse dict sorted by id, and decodes through bytes(list)",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.encode",
                """
def encode(self, text):
    ids = list(text.encode("utf-8"))
    by_id = {new_id: pair for pair, new_id in self.merges.items()}
    for new_id in sorted(by_id):
        ids = merge_pair(ids, by_id[new_id], new_id)
    return ids
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.decode",
                """
def decode(self, ids):
    raw = []
    for i in ids:
        raw.extend(self.vocab[i])
    return bytes(raw).decode("utf-8", errors="replace")
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): minbpe base.py builds vocab from merges (_build_vocab); a
    # learner makes vocab a property built lazily from merges each time it is read ("vocab built lazily").
    Variant(
        "vocab-property-built-from-merges",
        "s12_bpe",
        "builds vocab from merges each time it is read, a property, with vocab_size 256 + len(merges)",
        (
            replaced(
                "s12_bpe",
                "BPETokenizer.__init__",
                """
def __init__(self):
    self.merges = {}
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.vocab_size",
                """
@property
def vocab_size(self):
    return 256 + len(self.merges)

@property
def vocab(self):
    vocab = {idx: bytes([idx]) for idx in range(256)}
    for (p0, p1), idx in sorted(self.merges.items(), key=lambda kv: kv[1]):
        vocab[idx] = vocab[p0] + vocab[p1]
    return vocab
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be at least 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        counts = pair_counts(ids)
        if not counts:
            break
        pair = min(counts, key=lambda p: (-counts[p], p))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): copy, then merge in place with slice assignment
    # (StackOverflow "replace pair in list" answers).
    Variant(
        "merge-copy-then-slice-assign",
        "s12_bpe",
        "copies the ids, then merges in place with slice assignment",
        (
            replaced(
                "s12_bpe",
                "merge_pair",
                """
def merge_pair(ids, pair, new_id):
    ids = list(ids)
    i = 0
    while i < len(ids) - 1:
        if ids[i] == pair[0] and ids[i + 1] == pair[1]:
            ids[i:i + 2] = [new_id]
        i += 1
    return ids
""",
            ),
        ),
    ),
    # Source: the eleventh precision pass (2026-12-06): Counter.most_common() list re-sorted with the tie-break;
    # train resets its state first; OrderedDict merges.
    Variant(
        "most-common-resorted-ordereddict",
        "s12_bpe",
        "keeps merges in an OrderedDict, resets itself in train and re-sorts most_common() by the tie-break",
        (
            (
                '(compared as tuples) is merged first.\n"""\n',
                '(compared as tuples) is merged first.\n"""\n\nfrom collections import Counter, OrderedDict\n',
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.__init__",
                """
def __init__(self):
    self.merges = OrderedDict()
    self.vocab = {i: bytes([i]) for i in range(256)}
""",
            ),
            replaced(
                "s12_bpe",
                "BPETokenizer.train",
                """
def train(self, text, vocab_size, verbose=False):
    if vocab_size < 256:
        raise ValueError(f"vocab_size {vocab_size} < 256")
    self.__init__()
    ids = list(text.encode("utf-8"))
    for i in range(vocab_size - 256):
        ranked = Counter(zip(ids, ids[1:])).most_common()
        if not ranked:
            break
        ranked.sort(key=lambda kv: (-kv[1], kv[0]))
        pair, count = ranked[0]
        idx = 256 + i
        ids = merge_pair(ids, pair, idx)
        self.merges[pair] = idx
        self.vocab[idx] = self.vocab[pair[0]] + self.vocab[pair[1]]
        if verbose:
            print(f"merge {i + 1}: {pair} -> {idx} ({count})")
""",
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-07, a port of minbpe's BasicTokenizer.train (verbose flag, merges
    # gathered in a local dict, the vocabulary built at the end).
    Variant(
        "train-like-minbpe-building-the-vocabulary-last",
        STAGE,
        "trains as minbpe's BasicTokenizer does and builds its vocabulary from the merges at the end",
        (
            replaced(
                STAGE,
                "BPETokenizer.train",
                """
def train(self, text, vocab_size, verbose=False):
    assert isinstance(text, str)
    if vocab_size < 256:
        raise ValueError(f"vocab_size {vocab_size} < 256")
    num_merges = vocab_size - 256
    ids = list(text.encode("utf-8"))
    merges = {}
    for i in range(num_merges):
        stats = pair_counts(ids)
        if not stats:
            break
        pair = min(stats, key=lambda p: (-stats[p], p))
        idx = 256 + i
        ids = merge_pair(ids, pair, idx)
        merges[pair] = idx
        if verbose:
            print(f"merge {i + 1}/{num_merges}: {pair} -> {idx} had {stats[pair]} occurrences")
    self.merges = merges
    self.vocab = self._build_vocab()

def _build_vocab(self):
    vocab = {idx: bytes([idx]) for idx in range(256)}
    for (p0, p1), idx in self.merges.items():
        vocab[idx] = vocab[p0] + vocab[p1]
    return vocab
""",
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-07: pairs counted by numpy, the tie broken by unique's sorted order.
    Variant(
        "pairs-counted-by-numpy-unique",
        STAGE,
        "counts the pairs with np.unique(..., return_counts=True) and takes the first of the most frequent",
        (
            ("def pair_counts(", "import numpy as np\n\n\ndef pair_counts("),
            replaced(
                STAGE,
                "BPETokenizer.train",
                """
def train(self, text, vocab_size):
    if vocab_size < 256:
        raise ValueError("vocab_size must be >= 256")
    ids = list(text.encode("utf-8"))
    for new_id in range(256, vocab_size):
        arr = np.asarray(ids, dtype=np.int64)
        if arr.size < 2:
            break
        pairs, counts = np.unique(np.stack([arr[:-1], arr[1:]], axis=1), axis=0, return_counts=True)
        best = pairs[int(np.argmax(counts))]  # unique sorts the pairs; argmax takes the first of equal counts
        pair = (int(best[0]), int(best[1]))
        ids = merge_pair(ids, pair, new_id)
        self.merges[pair] = new_id
        self.vocab[new_id] = self.vocab[pair[0]] + self.vocab[pair[1]]
""",
            ),
        ),
    ),
    # Source: a red-team pass (2026-12-07): the tests read the counts as dict(counts), the check as counts.items(),
    # and scored this honest stage 0 as forged.
    Variant(
        "pair-counts-as-a-list-most-frequent-first",
        "s12_bpe",
        "returns the pair counts as a list of (pair, count), most frequent first, which dict() reads",
        (
            (
                "    return counts\n",
                "    return sorted(counts.items(), key=lambda item: -item[1])  # most frequent first\n",
            ),
            ("            counts = pair_counts(ids)", "            counts = dict(pair_counts(ids))"),
        ),
    ),
]
