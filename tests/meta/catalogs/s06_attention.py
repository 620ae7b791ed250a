"""Stage 6 · Self-attention: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant

MISTAKES = [
    Mistake(
        "unscaled-affinities",
        "s06_attention",
        "forgot the 1/sqrt(head_size) scaling",
        (("wei = q @ k.transpose(-2, -1) * head_size**-0.5", "wei = q @ k.transpose(-2, -1)"),),
        "not scaled",
    ),
    Mistake(
        "scaled-by-head-size",
        "s06_attention",
        "divided by head_size instead of its square root",
        (("wei = q @ k.transpose(-2, -1) * head_size**-0.5", "wei = q @ k.transpose(-2, -1) / head_size"),),
        "divided by head_size",
    ),
    Mistake(
        "mask-inverted",
        "s06_attention",
        "masked the past instead of the future",
        (('wei = wei.masked_fill(~tril, float("-inf"))', 'wei = wei.masked_fill(tril, float("-inf"))'),),
    ),
    Mistake(
        "softmax-over-queries",
        "s06_attention",
        "took the softmax down the columns",
        (("    return F.softmax(wei, dim=-1)", "    return F.softmax(wei, dim=-2)"),),
    ),
    Mistake(
        "head-projections-with-bias",
        "s06_attention",
        "left the bias on the key projection",
        (("self.key = nn.Linear(n_embd, head_size, bias=False)", "self.key = nn.Linear(n_embd, head_size)"),),
        "bias=False",
    ),
    Mistake(
        "mask-as-parameter",
        "s06_attention",
        "made the mask a parameter instead of a buffer",
        (
            (
                'self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))',
                "self.tril = nn.Parameter(torch.tril(torch.ones(block_size, block_size)), requires_grad=False)",
            ),
        ),
        "register_buffer",
    ),
    Mistake(
        "mask-not-sliced",
        "s06_attention",
        "used the whole block_size mask for shorter sequences",
        (("self.tril[:T, :T] == 0", "self.tril == 0"),),
    ),
]

VARIANTS = [
    Variant(
        "queries-scaled-first",
        "s06_attention",
        "scales q before the product and masks with triu",
        (
            (
                "    wei = q @ k.transpose(-2, -1) * head_size**-0.5\n    tril = torch.tril(torch.ones(T, T, "
                'dtype=torch.bool, device=q.device))\n    wei = wei.masked_fill(~tril, float("-inf"))\n    return '
                "F.softmax(wei, dim=-1)",
                "    wei = (q / head_size**0.5) @ k.transpose(-2, -1)\n    future = torch.ones(T, T, "
                'dtype=torch.bool).triu(1)\n    return torch.softmax(wei.masked_fill(future, float("-inf")), '
                "dim=-1)",
            ),
        ),
    ),
]
