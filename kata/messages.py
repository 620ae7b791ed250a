"""Learner-facing messages: whole sentences joined by one helper, and the plain explanation of an
exception that ended a test, with the kind of failure it was."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import _pytest.outcomes

from kata.implementation import EarlierTestTookTooLong, StageUnavailable, TestTookTooLong, display_path
from kata.manifest import stage_of_test_file
from kata.results import FailureKind

_ENDINGS = (".", "!", "?", ":")
NO_RETURN = "A function that ends without a return statement returns None"

# torch's words where two tensors of different sizes meet; three of the mistakes below end there
_SIZES_DIFFER = r"The size of tensor a \(\d+\) must match the size of tensor b \(\d+\)"
# What torch says for a mistake learners often make, (in the error, in the line that raised it), and the mistake
# in words: torch's own text names the operation, not what to change.
_KNOWN_ERRORS = (
    (  # the (B, 1) draw squeezed to (B,), and to () where B is 1, before it is put back into (B, 1)
        r"Tensors must have same number of dimensions",
        r"torch\.cat.*squeeze",
        "With one row (B = 1), .squeeze() also removes the batch dimension: torch.multinomial(probs, num_samples=1) "
        "already returns (B, 1), so torch.cat((idx, idx_next), dim=1) needs no squeeze.",
    ),
    (  # a forward that returns the logits alone without targets, met where generate unpacks the pair
        r"(too many|not enough) values to unpack \(expected 2",
        r"=\s*(self|model)\(",
        "The model returned something other than the pair (logits, loss): without targets, forward returns "
        "(logits, None), as the lecture's does, and generate unpacks it.",
    ),
    (  # the input's shape unpacked into a fixed number of names, where a test passes another number of dims
        r"(?:not enough|too many) values to unpack \(expected (\d+)",
        r"=\s*\w+\.(shape|size\(\))\s*(#.*)?$",
        "The input's shape was unpacked into {0} names, but this input has another number of dims: work along the "
        "last one, dim=-1 and x.shape[-1], without naming the others.",
    ),
    (  # x.numpy() on an input of a dtype numpy does not have
        r"unsupported ScalarType (\w+)",
        r"\.numpy\(\)",
        "numpy has no {0}: compute with torch itself, which takes the input in whatever dtype it comes.",
    ),
    (  # decode's ids (or encode's text) checked with min() and max(), which raise where there are none
        r"(min|max)\(\) (arg is an empty sequence|iterable argument is empty)",
        r"\b(min|max)\((ids|tokens|text)\)",
        "{0}() of no values raises, and no ids (or an empty text) is a valid input: decode([]) is ''. Check each "
        "value instead, or only where there are any.",
    ),
    (  # BPE's pair picked with min() or max() once no pair is left: fewer than two ids, or nothing to merge
        r"(min|max)\(\) (arg is an empty sequence|iterable argument is empty)",
        r"\b(min|max)\(\s*(counts|stats|pairs)\b",
        "{0}() of no pairs raises: where fewer than two ids are left, or no pair is left to merge, there is no pair "
        "to pick. Stop the loop there first (while len(ids) >= 2, and stop training when the counts are empty).",
    ),
    (  # decode's text made from the ids themselves, as if each were one byte
        r"bytes must be in range\(0, 256\)",
        r"\bbytes\(\s*(ids|tokens)\s*\)",
        "bytes(ids) reads each id as one byte, and ids from 256 on are merged tokens of several bytes: join each "
        'id\'s bytes from the vocabulary, b"".join(self.vocab[i] for i in ids), then .decode("utf-8", '
        'errors="replace").',
    ),
    (  # a merged token's bytes made from the ids of its pair
        r"bytes must be in range\(0, 256\)",
        r"\bbytes\((?!\s*(ids|tokens)\s*\))",
        "bytes(...) takes values 0 to 255, and ids from 256 on are merged tokens: a token's bytes are its two "
        "parts' bytes joined, vocab[p0] + vocab[p1].",
    ),
    (  # generate's crop written without its minus sign: idx[:, block_size:] is empty until idx grows past it
        r"index -1 is out of bounds for dimension 1 with size 0",
        r"\[:, -1",
        "The logits have no positions: the model was given no tokens. A crop written idx[:, block_size:] keeps the "
        "tokens after the first block_size, none while the input is shorter; the last block_size tokens are "
        "idx[:, -block_size:].",
    ),
    (  # a sequence of exactly block_size tokens refused (T >= block_size), said in the learner's own words
        r"^\D*\b(\d+) (new )?tokens?\b\D*\bblock_size (\1)\b\D*$",
        "",
        "A sequence of exactly block_size tokens fits: the position table has block_size rows, positions 0 to "
        "block_size - 1. Refuse only more, T > block_size.",
    ),
    (  # the model's (logits, loss) pair used as the loss
        r"'tuple' object has no attribute '(backward|item)'",
        "",
        "The model returns the pair (logits, loss): unpack it, logits, loss = model(xb, yb), and use the loss.",
    ),
    (  # two dtypes meeting in one operation (matmul, mm, dot, the losses' backward)
        r"same dtype|expected scalar type \w+ but found \w+|Found dtype \w+ but expected \w+",
        "",
        "Two tensors of different dtypes met here (float32 and float64, say): make the tensors you create with the "
        "input's dtype, e.g. torch.ones(T, T, dtype=x.dtype), or convert them with .to(x).",
    ),
    (  # (B, T, V) logits, or only one of logits and targets flattened
        r"Expected target size \[|Expected input batch_size \(\d+\) to match target batch_size",
        "cross_entropy",
        "F.cross_entropy takes (N, C) logits, the classes along dimension 1, and (N,) targets: flatten both "
        "first, logits.view(B * T, V) and targets.view(B * T), as the lecture does.",
    ),
    (  # the block_size × block_size mask used whole on a shorter input
        _SIZES_DIFFER,
        r"self\.tril\b(?!\s*\[)",  # used whole: a mask already cropped, or made from T, is not this
        "The mask is block_size × block_size, but an input may have fewer positions (any T up to block_size): "
        "crop it to the input's length, self.tril[:T, :T].",
    ),
    (  # the mask cropped on its rows alone: (T, block_size) against (T, T) affinities
        _SIZES_DIFFER,
        r"self\.tril\s*\[[^\],]*\]",
        "The mask is cropped on its rows only: self.tril[:T] is T × block_size. Crop both dimensions, "
        "self.tril[:T, :T].",
    ),
    (  # a cropped mask smaller than the input: the buffer made from another size than block_size
        _SIZES_DIFFER,
        r"self\.tril\s*\[[^\]]*,",
        "The cropped mask is smaller than the T × T affinities: register the mask as large as the longest "
        "input, torch.tril(torch.ones(block_size, block_size)).",
    ),
    (  # a module-level mask of a fixed size (the lecture's T = 8) cut to a longer input's T
        _SIZES_DIFFER,
        r"^(?!.*self\.tril\b).*\w\[\s*:\s*T\s*,\s*:\s*T\s*\]",
        "A mask cut to [:T, :T] from a tensor of a fixed size is smaller than the T × T affinities of a longer "
        "input: make it from the input's own T, torch.tril(torch.ones(T, T)).",
    ),
    (  # a mask made from T that meets affinities of another shape: q and k multiplied the wrong way round
        _SIZES_DIFFER,
        r"^(?!.*(self\.tril\b|\[\s*:\s*T\s*,\s*:\s*T\s*\])).*masked_fill",
        "The mask and the affinities differ in size: the affinities of T positions are (B, T, T), q @ k.transpose(-2, "
        "-1), one row per query and one column per key, so the mask must be (T, T), made or cut from this input's T "
        "in every forward.",
    ),
    (  # q meets keys and values of another number of heads: a cache joined along dim=1
        _SIZES_DIFFER + r" at non-singleton dimension 1\b",
        r"scaled_dot_product_attention\(",
        "q and the keys and values it attends to differ in dim 1, the heads: each is (B, n_head, T, head_size), "
        "and only T may differ between them (a cache's keys and values grow along time, dim=2).",
    ),
    (  # a mean or variance over the last dim without keepdim=True: (B, T) against x's (B, T, C)
        _SIZES_DIFFER,
        r"(?=.*[-/]).*(mean|var|std)",
        "A mean or variance over the last dim without keepdim=True loses that dim, so it no longer lines up with "
        "x: keep it, x.mean(-1, keepdim=True) and x.var(-1, keepdim=True, unbiased=False).",
    ),
    (  # k.T on a 3-D tensor: every dim reversed (a weight's .T is a matrix's, and right); B = 1 or T = B differ
        _SIZES_DIFFER + r"|mat1 and mat2 shapes cannot be multiplied|Expected size for first two dimensions of batch2",
        r"(?<!weight)\.T\b",
        "On a tensor of more than two dims, .T reverses every dim, (B, T, hs) to (hs, T, B): transpose only the "
        "last two, k.transpose(-2, -1).",
    ),
    (  # the heads concatenated along time, dim=1, so proj meets rows of head_size features
        r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)",
        r"self\.proj\(",
        "proj meets rows of {1} features where it takes {2}: join the heads along the channels, "
        "torch.cat([head(x) for head in self.heads], dim=-1), so that each position holds n_head × head_size = "
        "n_embd features (dim=1 would join them along time).",
    ),
    (  # the averages as x @ wei: (B, T, C) @ (T, T)
        r"mat1 and mat2 shapes cannot be multiplied",
        r"\bx\s*@\s*wei\b",
        "The weights go first: wei @ x, (T, T) @ (B, T, C) -> (B, T, C), makes row t the weighted sum of the "
        "rows of x; x @ wei would mix the features instead.",
    ),
    (  # a tensor's element used as a dict key: a 0-d tensor is not found under the int
        r"^tensor\(-?\d+\)$",
        "",
        "Iterating over a tensor gives 0-d tensors, which a dict does not find under the ints it holds: convert "
        "each id, int(i), or iterate over ids.tolist().",
    ),
    (  # decode through the table from characters to ids
        r"^(-?\d+)$",
        r"stoi\s*\[",
        "An id ({0}) was looked up in stoi, which maps characters to ids: decode goes the other way, through itos.",
    ),
    (  # encode through the table from ids to characters
        r"^'(.+)'$",
        r"itos\s*\[",
        "A character ({0!r}) was looked up in itos, which maps ids to characters: encode goes the other way, "
        "through stoi.",
    ),
    (  # windows stacked where a start drawn too late gave one past the end of the data, shorter than the rest
        r"stack expects each tensor to be equal size",
        r"\[\s*\w+\s*(\+\s*1\s*)?:",
        "One window came out shorter than the others: it started too close to the end of the data. The last "
        "start with a whole window (and its target one token later) is len(data) - block_size - 1, so draw the "
        "starts with torch.randint(len(data) - block_size, (batch_size,)).",
    ),
    (  # n_embd / n_head: a float in Python 3, even where the division is exact
        r"must be tuple of ints, but found element of type float",
        "",
        "A size is a float: in Python 3, / gives a float even where it divides exactly (12 / 3 is 4.0). Sizes "
        "need whole numbers: head_size = n_embd // n_head.",
    ),
    (  # q, k or v viewed as (B, n_head, T, hs) straight from c_attn's split, whose last dim alone is contiguous
        r"view size is not compatible with input tensor's size and stride",
        r"\.view\(\s*\w+\s*,\s*(self\.)?n_head\b",
        "q, k and v are slices of c_attn's output, so .view can split only their last dim: view(B, T, n_head, "
        "head_size), then .transpose(1, 2) makes the heads a batch dimension. .reshape(B, n_head, T, head_size) "
        "would run, but it mixes positions into heads.",
    ),
    (  # heads merged back with .view after transpose(1, 2), which left them not contiguous
        r"view size is not compatible with input tensor's size and stride",
        r"\.view\((?!\s*\w+\s*,\s*(self\.)?n_head\b)",
        "After transpose(1, 2) the heads are no longer contiguous in memory, so .view cannot merge them: "
        "y.transpose(1, 2).contiguous().view(B, T, C). Check the order too: (B, n_head, T, hs) back to "
        "(B, T, n_head, hs) before merging the last two.",
    ),
    (  # bytes decoded strictly: a byte-level token may hold part of a character, and decode takes any ids
        r"codec can't decode byte",
        r"\.decode\(",
        "Not every sequence of ids is valid UTF-8 (a token may hold part of a character, and decode takes any "
        "ids): decode them with .decode('utf-8', errors='replace'), which puts '\\ufffd' where bytes do not make "
        "a character, as the docstring asks.",
    ),
    (  # the context cropped to one column: idx[:, -block_size] without the colon
        r"index -?\d+ is out of bounds for dimension 1",
        r"\[\s*:\s*,\s*-[\w.]*block_size\s*\]",
        "idx[:, -block_size] picks one column (and fails where idx is shorter): crop the context with a slice, "
        "idx[:, -block_size:], the last block_size tokens.",
    ),
    (  # the position table looked up with the token ids, which run past block_size
        r"index out of range in self",
        r"position_embedding_table\(\s*idx\b",
        "The position table was looked up with the token ids: it has one row per position, 0 to block_size - 1, "
        "where the ids run up to vocab_size - 1. Look it up with the positions, torch.arange(T, device=idx.device).",
    ),
    (  # any other embedding asked for a row it does not have
        r"index out of range in self",
        r"(?i)^(?!.*position_embedding_table\(\s*idx\b).*(embed|\bwte\b|\bwpe\b)",
        "An embedding table was asked for a row it does not have: the token table has one row per id, 0 to "
        "vocab_size - 1, and the position table one per position, 0 to block_size - 1. Check the sizes the tables "
        "are made with, and the values looked up in them.",
    ),
    (  # fewer logits per position than the vocabulary has ids
        r"Target (-?\d+) is out of bounds",
        r"cross_entropy",
        "Target id {0} has no logit: the logits need one column per id of the vocabulary, (B, T, vocab_size), "
        "where the targets are ids 0 to vocab_size - 1. Check the sizes the model's layers are made with.",
    ),
    (  # generate meets 2-D logits: forward flattened them without targets, or returned them alone
        r"too many indices for tensor of dimension 2",
        r"logits\s*\[\s*:\s*,\s*-1\s*,",
        "These logits are 2-D, where generate takes the last position of (B, T, vocab_size) logits: without "
        "targets, forward returns the pair (logits, None) with the logits unflattened, as the lecture's does (it "
        "views them as (B*T, C) only to compute the loss).",
    ),
    (  # a list of the new tokens joined where the loop drew none (max_new_tokens=0)
        r"expected a non-empty list of Tensors",
        r"torch\.cat\(",
        "torch.cat was given an empty list, which it cannot join: where a loop ran no times (max_new_tokens=0, "
        "say), there is nothing to join. Add each draw to idx as you go, or handle that case.",
    ),
    (  # a merged token (an id from 256 on) missing from a byte-level vocab: train recorded the merge alone
        r"^(25[6-9]|2[6-9]\d|[3-9]\d\d|\d{4,})$",
        r"vocab\s*\[",
        "Token {0} is not in the vocab: where train merges a pair into a new token, it adds that token's bytes to "
        "the vocab too, vocab[idx] = vocab[p0] + vocab[p1].",
    ),
    (  # the last element of a list that may be empty
        r"list index out of range",
        r"\[\s*-1\s*\]",
        "The list is empty here, and [-1] of an empty list raises: an empty input is valid, so handle it, or take "
        "the values in one loop that needs no last one.",
    ),
    (  # the cache joined along the heads: k and v are (B, n_head, T, head_size)
        r"Sizes of tensors must match except in dimension 1\b",
        r"torch\.cat\(\s*[(\[].*\b(keys|values|k|v)\b.*dim\s*=\s*1\b",
        "The cache grows along time: k and v are (B, n_head, T, head_size), so join them along dim=2 (or -2); "
        "dim=1 holds the heads.",
    ),
    (  # a weight's shape met transposed: (32, 96) against (96, 32), in parentheses or torch.Size's brackets
        r"weight.*[(\[](\d+), (?!\1[)\]])(\d+)[)\]].*[(\[]\2, \1[)\]]",
        "",
        "The two shapes are each other's transpose: Hugging Face's GPT-2 keeps the weights of its Conv1D layers "
        "(attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj) as (in, out). Copy those four transposed, tensor.t(), "
        "and every other tensor as it is.",
    ),
)


def sentences(*parts: str | None) -> str:
    """Join whole sentences with one space; empty parts are left out and each part ends with a full stop
    unless it already ends a sentence (a part ending in ':' introduces what follows)."""
    kept = [part.strip() for part in parts if part and part.strip()]
    return " ".join(part if part.endswith(_ENDINGS) else part + "." for part in kept)


@dataclass(frozen=True)
class Explanation:
    kind: FailureKind
    message: str | None = None  # None: pytest's own report says it (the suite's checks write their own)
    location: str = ""  # file:line in the graded code, where known


# What Python says when a call does not fit the function's parameters (raised where the test calls it).
_SIGNATURE_MISMATCH = re.compile(
    r"unexpected keyword argument|required (positional|keyword-only) argument|positional arguments? but"
)


def explain(error: BaseException, graded_folder: Path) -> Explanation:
    """What the exception that ended a test means for the learner whose code is in `graded_folder`."""
    if isinstance(error, BaseExceptionGroup):  # hypothesis found several distinct failures: the first speaks
        first = explain(error.exceptions[0], graded_folder)
        others = len(error.exceptions) - 1
        more = f"\n(and {others} other failure{'s' if others > 1 else ''} on other examples)"
        return Explanation(first.kind, (first.message or _pytest_text(error.exceptions[0])) + more, first.location)
    if isinstance(error, StageUnavailable):
        return Explanation(FailureKind.UNAVAILABLE, str(error), error.location or "")
    if isinstance(error, EarlierTestTookTooLong):
        return Explanation(FailureKind.TOO_LONG, str(error), error.location)
    frame = _deepest_frame(error.__traceback__, lambda file: file.parent == graded_folder)
    if isinstance(error, _pytest.outcomes.Failed) and frame is None:
        return Explanation(FailureKind.WRONG_ANSWER)
    if isinstance(error, TestTookTooLong):
        return _too_long(error, frame)
    if frame is None and isinstance(error, TypeError) and _SIGNATURE_MISMATCH.search(str(error)):
        message = sentences(
            f"Your code does not take the arguments the test passes: {error}",
            "Give it the parameters its stub lists, with the same names and defaults",
        )
        return Explanation(FailureKind.RAISED, message)
    if frame is None:
        return _raised_in_the_tests(error)
    code, line = frame
    file = Path(code.co_filename)
    location = f"{display_path(file)}:{line}"
    if isinstance(error, NotImplementedError):
        message = f"{file.stem}.{code.co_qualname} is not implemented yet ({display_path(file)})"
        return Explanation(FailureKind.NOT_IMPLEMENTED, message, location)
    source = _source_line(file, line)
    hints = "".join(f"\n{hint}" for hint in _known_mistakes(_KNOWN_ERRORS, str(error), source))
    message = (
        f"Your code raised {type(error).__name__}: {error}\n"
        f"  at {location}, in {code.co_qualname}\n      {source}{hints}{_examples(error)}"
    )
    return Explanation(FailureKind.RAISED, message, location)


def _known_mistakes(known: tuple, error: str, source: str) -> list[str]:
    """The hint of each entry of `known` whose patterns match the error and the line; {0}, ... in a hint are the
    error pattern's groups."""
    return [
        hint.format(*match.groups())
        for in_error, in_line, hint in known
        if (match := re.search(in_error, error)) and re.search(in_line, source)
    ]


# How hypothesis notes the example a test failed on: "Failing test case: test_name(\n    self=<...>,\n    B=2,\n)"
# ("Falsifying example: ..." in older releases), and "Failing explicit example: ..." for an @example.
_EXAMPLE_NOTE = re.compile(r"(?:Falsifying example|Failing explicit example|Failing test case): \w+\((.*)\)", re.DOTALL)


# How hypothesis notes other explicit examples that failed alike, in words that name its settings.
_OTHER_EXAMPLES_NOTE = re.compile(r"\(note: (\d+) other explicit examples? also failed with this error; .*\)")


def _examples(error: BaseException) -> str:
    """The notes on the exception, hypothesis's examples said as the test's inputs (without the test's own names)."""
    lines = []
    for note in getattr(error, "__notes__", ()):
        if example := _EXAMPLE_NOTE.fullmatch(note.strip()):
            arguments = [part.strip().rstrip(",") for part in example.group(1).splitlines()]
            shown = ", ".join(part for part in arguments if part and not part.startswith("self="))
            note = f"The test's inputs: {shown}." if shown else ""
        elif others := _OTHER_EXAMPLES_NOTE.fullmatch(note.strip()):
            count = int(others.group(1))
            note = f"({count} more of the test's own examples fail{'s' * (count == 1)} the same way.)"
        lines.append(note)
    return "".join(f"\n{line}" for line in lines if line)


# What torch raises in the tests' own calls (a module called, a loss's backward) for a mistake in graded code
# that torch only meets there, with the mistake in words: the learner's mistake, so the kind is RAISED.
_KNOWN_IN_THE_TESTS = (
    (
        r'Module \[(\w+)\] is missing the required "forward" function',
        "",
        "{0} has no method called forward: check its spelling, def forward(self, ...), and that it is indented "
        "inside the class.",
    ),
    (
        r"does not require grad and does not have a grad_fn",
        "",
        "The loss carries no gradient back to the weights: the forward ran under torch.no_grad(), or cut the "
        "graph with .detach(), .item() or .data. Only generate and estimate_loss run without gradients.",
    ),
)


def _raised_in_the_tests(error: BaseException) -> Explanation:
    """An exception in the tests' own code, said in words with the test's line rather than as pytest's whole
    traceback: a mistake torch met there, named; else what graded code returned did not fit (None from a
    function without return, one tensor where a pair is expected), of the suite's kind, which the maintainer's
    tier allows for no catalogued mistake. A stage test's own assertion, hypothesis's errors and whatever the
    maintainer's tests raise keep pytest's report."""
    own = isinstance(error, AssertionError) or type(error).__module__.startswith("hypothesis")
    frame = _deepest_frame(error.__traceback__, lambda file: stage_of_test_file(file) is not None)
    if own or frame is None or not isinstance(error, Exception):  # the maintainer's own tests: pytest's report
        return Explanation(FailureKind.SUITE)
    code, line = frame
    file = Path(code.co_filename)
    source = _source_line(file, line)
    where = f"\n  at {display_path(file)}:{line}, in the test\n      {source}"
    if hints := _known_mistakes(_KNOWN_IN_THE_TESTS, str(error), source):
        message = sentences(f"The test's call into your code raised {type(error).__name__}: {error}")
        return Explanation(FailureKind.RAISED, "\n".join([message, *hints]) + where)
    message = sentences(
        f"The test could not use what your code gave it: {type(error).__name__}: {error}",
        "Check what your function returns against its stub's docstring: its type, its shape, how many values",
        NO_RETURN if "NoneType" in str(error) else "",
    )
    return Explanation(FailureKind.SUITE, message + where)


def _too_long(error: TestTookTooLong, frame) -> Explanation:
    stopped = f"Stopped after {error.seconds:g} s: your code seems to run forever."
    if error.reference_seconds is not None:
        stopped = sentences(
            f"Stopped after {error.seconds:g} s, this test's time limit (the references took "
            f"{error.reference_seconds:.2g} s for it when measured)",
            "Your code either runs forever or is far slower than it needs to be",
        )
    if frame is None:
        return Explanation(FailureKind.TOO_LONG, stopped)
    code, line = frame
    file = Path(code.co_filename)
    location = f"{display_path(file)}:{line}"
    message = f"{stopped}\n  It was at {location}, in {code.co_qualname}\n      {_source_line(file, line)}"
    return Explanation(FailureKind.TOO_LONG, message, location)


def earlier_stage_first(stage_name: str, failing_stage: str) -> str:
    return sentences(f"{stage_name} builds on {failing_stage}, which fails here: finish {failing_stage} first")


def earlier_stage_fails_in_the_grade(stage_name: str, failing_stage: str, *, failed: int, tests: int) -> str:
    """For a grade, which runs each stage on its own: the stage this one builds on failed its own tests."""
    return sentences(
        f"{stage_name} builds on {failing_stage}, which fails {failed} of its {tests} tests in this grade: fix "
        f"{failing_stage} first, as this failure may well come from it"
    )


def raised_in_an_earlier_stage(raising_stage: str, *, passes: bool, call_site: str) -> str:
    """For an error raised in the code of a stage this one builds on, which did not fail in this run: it passed
    its own tests here, or they did not run (it may well pass: `kata` runs a stage once those before it pass)."""
    if not call_site:  # the test called it itself, on a part that the learner's code may have built
        built = (
            "look at how your code built what the test called: the arguments it was made with, their order and types"
        )
        return sentences(
            f"The error is raised in {raising_stage}'s code, which this test calls itself",
            f"{raising_stage} passes its own tests here, so {built}"
            if passes
            else f"If `pytest -m {raising_stage}` passes, {built}",
            "" if passes else f"If it fails, finish {raising_stage} first",
        )
    look = (
        f"look at that call: the arguments it passes, their order and their types, against what {raising_stage} takes"
    )
    return sentences(
        f"The error is raised in {raising_stage}'s code, called from {call_site}",
        f"{raising_stage} passes its own tests here, so {look}"
        if passes
        else f"If `pytest -m {raising_stage}` passes, {look}",
        "" if passes else f"If it fails, finish {raising_stage} first",
    )


def deepest_call_into(traceback, file: Path) -> str:
    """Where the code in `file` was called from: the path and line ("path:line") of the traceback's deepest frame
    in another file of its folder (another stage's file), or "" where none is (a test called it itself)."""
    file = file.resolve()
    frame = _deepest_frame(traceback, lambda path: path.resolve().parent == file.parent and path.resolve() != file)
    return f"{display_path(Path(frame[0].co_filename))}:{frame[1]}" if frame else ""


def _pytest_text(error: BaseException) -> str:
    return str(getattr(error, "msg", None) or error)


def _deepest_frame(traceback, in_place: Callable[[Path], bool]):
    """(code, line) of the traceback's deepest frame whose file is `in_place`, or None."""
    found = None
    while traceback is not None:
        code = traceback.tb_frame.f_code
        if in_place(Path(code.co_filename)):
            found = (code, traceback.tb_lineno)
        traceback = traceback.tb_next
    return found


def _source_line(path: Path, line: int) -> str:
    try:
        return path.read_text(encoding="utf-8").splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""
