"""Stage 5 · The averaging trick behind self-attention: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

SOFTMAX_WEIGHTS = (
    "def softmax_average_weights(T: int) -> torch.Tensor:\n"
    '    """Version 3\'s (T, T) weights: zero affinities, -inf for the future, softmax along each row."""\n'
)

MISTAKES = [
    # Source: the false-pass hunt of 2026-12-07: the lecture's tril buffer sized by gpt.py's block_size of 256,
    # which the hidden test, at T = 256, could not tell.
    Mistake(
        "mask-sized-for-the-lectures-block-size",
        "s05_averaging",
        "slices a (256, 256) tril made once, as gpt.py's block_size sizes its buffer",
        (
            (
                f"{SOFTMAX_WEIGHTS}    tril = torch.tril(torch.ones(T, T))\n",
                f"block_size = 256\ntril = torch.tril(torch.ones(block_size, block_size))\n\n\n{SOFTMAX_WEIGHTS}",
            ),
            (
                'wei = wei.masked_fill(tril == 0, float("-inf"))',
                'wei = wei.masked_fill(tril[:T, :T] == 0, float("-inf"))',
            ),
        ),
        "make it from the input's own T",
    ),
    # Source: a misleading-message hunt (2026-12-07): a mean with the wrong count got only "wrong values".
    Mistake(
        "loop-mean-divided-by-t",
        "s05_averaging",
        "divided each running sum by t instead of the t + 1 tokens it holds",
        (("            xbow[b, t] = torch.mean(xprev, 0)", "            xbow[b, t] = xprev.sum(0) / max(t, 1)"),),
        "is divided by t, not by the t + 1 tokens it holds",
    ),
    Mistake(
        "loop-mean-divided-by-the-length",
        "s05_averaging",
        "divided each running sum by T, the sequence's length",
        (("            xbow[b, t] = torch.mean(xprev, 0)", "            xbow[b, t] = xprev.sum(0) / T"),),
        "is divided by T, not by the t + 1 tokens it holds",
    ),
    # Source: a precision pass over stages 5 to 7 (2026-12-06): the first was shown an "expected" value computed
    # from the x it had overwritten, the second no hint, the third a hint about a softmax its function does not
    # take, the fourth the advice to fill -inf, which it did.
    Mistake(
        "loop-writes-into-its-input",
        "s05_averaging",
        "wrote the averages into x itself, xbow = x, overwriting tokens it still had to average",
        (("xbow = torch.zeros_like(x)", "xbow = x"),),
        "average_loops changed its input x",
    ),
    Mistake(
        "loop-mean-over-every-feature",
        "s05_averaging",
        "took torch.mean(xprev) without a dim, the mean of every feature together",
        (("torch.mean(xprev, 0)", "torch.mean(xprev)"),),
        "torch.mean(xprev) without a dim",
    ),
    Mistake(
        "tril-without-the-diagonal",
        "s05_averaging",
        "kept the triangle below the diagonal, torch.tril(..., diagonal=-1), so row 0 is 0/0",
        (
            (
                "wei = torch.tril(torch.ones(T, T))\n    return",
                "wei = torch.tril(torch.ones(T, T), diagonal=-1)\n    return",
            ),
        ),
        "Row 0 is NaN",
        misleading=("a softmax over a row that is all -inf",),
    ),
    Mistake(
        "softmax-mask-not-assigned",
        "s05_averaging",
        "called masked_fill without assigning its result",
        (('    wei = wei.masked_fill(tril == 0, float("-inf"))', '    wei.masked_fill(tril == 0, float("-inf"))'),),
        "masked_fill returns a new tensor",
    ),
    # Source: the seventh precision pass (2026-12-06): the lecture's broadcasting slip got the generic hint.
    Mistake(
        "row-sums-without-keepdim",
        "s05_averaging",
        "divided by wei.sum(1) without keepdim=True",
        (("    return wei / wei.sum(1, keepdim=True)", "    return wei / wei.sum(1)"),),
        "without keepdim=True has shape (T,)",
    ),
    # Source: the red team's pass 4 (a partial solution with forged verdicts scored full marks).
    Mistake(
        "loops-through-numpy",
        "s05_averaging",
        "averaged in numpy, which has no bfloat16",
        (
            (
                """    B, T, C = x.shape
    xbow = torch.zeros_like(x)
    for b in range(B):
        for t in range(T):
            xprev = x[b, : t + 1]  # (t+1, C)
            xbow[b, t] = torch.mean(xprev, 0)
    return xbow
""",
                """    a = x.numpy()
    out = a * 0
    for b in range(a.shape[0]):
        for t in range(a.shape[1]):
            out[b, t] = a[b, : t + 1].mean(0)
    return torch.from_numpy(out)
""",
            ),
        ),
        "numpy has no BFloat16: compute with torch itself",
    ),
    Mistake(
        "triu-for-tril",
        "s05_averaging",
        "kept the upper triangle",
        (("wei = torch.tril(torch.ones(T, T))\n    return", "wei = torch.triu(torch.ones(T, T))\n    return"),),
        "torch.tril, not torch.triu",
    ),
    Mistake(
        "columns-normalised",
        "s05_averaging",
        "divided by the column sums",
        (("wei.sum(1, keepdim=True)", "wei.sum(0, keepdim=True)"),),
        "columns sum to 1",
    ),
    Mistake(
        "softmax-over-columns",
        "s05_averaging",
        "took the softmax down each column",
        (("F.softmax(wei, dim=-1)", "F.softmax(wei, dim=0)"),),
        "along each row, dim=-1",
    ),
    Mistake(
        "mask-hides-the-past",
        "s05_averaging",
        "masked where tril == 1",
        (("masked_fill(tril == 0,", "masked_fill(tril == 1,"),),
        "all -inf",
        # average_softmax's tests once blamed it for the NaN its weights made (a graded notebook, 2026-12-06)
        misleading=("NaN is the mean of no values",),
    ),
    Mistake(
        "mask-filled-with-zero",
        "s05_averaging",
        "filled the masked affinities with 0, not -inf",
        (('masked_fill(tril == 0, float("-inf"))', "masked_fill(tril == 0, 0.0)"),),
        "future included",
    ),
    Mistake(
        "loop-excludes-current-token",
        "s05_averaging",
        "averaged x[b, :t]",
        (("xprev = x[b, : t + 1]", "xprev = x[b, :t]"),),
        "mean of no values",
        # its NaN at position 0, unequal to itself, once read as the future leaking in (a graded notebook, 2026-12-06)
        misleading=("(the future of position",),
    ),
    Mistake(
        "loop-sums",
        "s05_averaging",
        "summed instead of averaging",
        (("torch.mean(xprev, 0)", "torch.sum(xprev, 0)"),),
        "running sums",
    ),
    Mistake(
        "loop-buffer-is-float32",
        "s05_averaging",
        "wrote into torch.zeros((B, T, C)) as the lecture does",
        (("xbow = torch.zeros_like(x)", "xbow = torch.zeros((B, T, C))"),),
        "keep the input's dtype",
    ),
    Mistake(
        "weights-not-cast",
        "s05_averaging",
        "multiplied float32 weights into a float64 x",
        (("wei = tril_average_weights(x.shape[1]).to(x)", "wei = tril_average_weights(x.shape[1])"),),
        "Two tensors of different dtypes met here",
    ),
    # Source: a learner's walk-through of stages 1 to 8 (a helper, 2026-12-06): each got torch's or Python's bare
    # error, or the hint of another mistake, before its own hint.
    Mistake(
        "averages-as-x-at-wei",
        "s05_averaging",
        "multiplied x @ wei, the weights second",
        (
            (
                "    wei = tril_average_weights(x.shape[1]).to(x)\n    return wei @ x",
                "    wei = tril_average_weights(x.shape[1]).to(x)\n    return x @ wei",
            ),
        ),
        "The weights go first: wei @ x",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "softmax-average-with-the-lectures-tril",
        "s05_averaging",
        "kept the lecture's module-level tril of T = 8 and cut it to each input's T",
        (
            ("import torch\n", "import torch\n\nLECTURE_TRIL = torch.tril(torch.ones(8, 8))  # the lecture's T = 8\n"),
            (
                "    wei = softmax_average_weights(x.shape[1]).to(x)",
                "    T = x.shape[1]\n"
                '    wei = torch.zeros(T, T).masked_fill(LECTURE_TRIL[:T, :T] == 0, float("-inf"))\n'
                "    wei = F.softmax(wei, dim=-1).to(x)",
            ),
        ),
        "make it from the input's own T",
        misleading=("q @ k.transpose(-2, -1)",),
    ),
]

VARIANTS = [
    Variant(
        "softmax-weights-in-numpy-float64",
        "s05_averaging",
        "builds the masked affinities in numpy (float64), as the stub names no dtype",
        (
            (
                "    tril = torch.tril(torch.ones(T, T))\n    wei = torch.zeros((T, T))\n    wei = "
                'wei.masked_fill(tril == 0, float("-inf"))\n    return F.softmax(wei, dim=-1)',
                "    import numpy as np\n\n    wei = np.zeros((T, T))\n    wei[np.triu_indices(T, k=1)] = -np.inf\n"
                "    return torch.from_numpy(wei).softmax(dim=-1)",
            ),
        ),
    ),
    Variant(
        "tril-weights-in-float64",
        "s05_averaging",
        "builds version 2's weights in float64",
        (
            (
                "    wei = torch.tril(torch.ones(T, T))\n    return wei / wei.sum(1, keepdim=True)",
                "    wei = torch.tril(torch.ones(T, T, dtype=torch.float64))\n"
                "    return wei / wei.sum(1, keepdim=True)",
            ),
        ),
    ),
    Variant(
        "average-by-cumsum",
        "s05_averaging",
        "version 1 as running sums over counts",
        (
            (
                "    B, T, C = x.shape\n    xbow = torch.zeros_like(x)\n    for b in range(B):\n        for t in "
                "range(T):\n            xprev = x[b, : t + 1]  # (t+1, C)\n            xbow[b, t] = "
                "torch.mean(xprev, 0)\n    return xbow",
                "    counts = torch.arange(1, x.shape[1] + 1, dtype=x.dtype).view(1, -1, 1)\n    return "
                "x.cumsum(1) / counts",
            ),
        ),
    ),
    Variant(
        "loop-over-time-only",
        "s05_averaging",
        "one loop over t, vectorised over the batch",
        (
            (
                "    for b in range(B):\n        for t in range(T):\n            xprev = x[b, : t + 1]  # (t+1, "
                "C)\n            xbow[b, t] = torch.mean(xprev, 0)\n",
                "    for t in range(T):\n        xbow[:, t] = x[:, : t + 1].mean(1)\n",
            ),
        ),
    ),
    Variant(
        "weights-from-counts",
        "s05_averaging",
        "divides the triangle by 1..T",
        (
            (
                "    wei = torch.tril(torch.ones(T, T))\n    return wei / wei.sum(1, keepdim=True)",
                "    return torch.ones(T, T).tril() / torch.arange(1, T + 1).unsqueeze(1)",
            ),
        ),
    ),
    Variant(
        "matmul-by-einsum",
        "s05_averaging",
        "version 2 with einsum",
        (
            (
                "    wei = tril_average_weights(x.shape[1]).to(x)\n    return wei @ x",
                '    return torch.einsum("ts,bsc->btc", tril_average_weights(x.shape[1]).to(x), x)',
            ),
        ),
    ),
    Variant(
        "softmax-weights-from-triu",
        "s05_averaging",
        "version 3's mask as an upper triangle of -inf",
        (
            (
                "    tril = torch.tril(torch.ones(T, T))\n    wei = torch.zeros((T, T))\n    wei = "
                'wei.masked_fill(tril == 0, float("-inf"))\n',
                '    wei = torch.full((T, T), float("-inf")).triu(1)\n',
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "batched-product-of-expanded-weights",
        "s05_averaging",
        "expands the weights to (B, T, T) and multiplies with torch.bmm",
        (
            replaced(
                "s05_averaging",
                "average_matmul",
                """
def average_matmul(x):
    B, T, C = x.shape
    wei = tril_average_weights(T).to(dtype=x.dtype, device=x.device)
    return torch.bmm(wei.expand(B, T, T), x)
""",
            ),
        ),
    ),
]
