"""Stage 7 · Multi-head attention, feed-forward, residuals, layer norm: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant

MISTAKES = [
    Mistake(
        "heads-full-width",
        "s07_transformer",
        "gave every head the full width n_embd",
        (("Head(n_embd, head_size, block_size, dropout)", "Head(n_embd, n_embd, block_size, dropout)"),),
    ),
    Mistake(
        "no-divisibility-check",
        "s07_transformer",
        "did not check that n_head divides n_embd",
        (
            (
                '        if n_embd % n_head != 0:\n            raise ValueError(f"n_embd ({n_embd}) must be '
                'divisible by n_head ({n_head})")\n',
                "",
            ),
        ),
        "should raise ValueError",
    ),
    Mistake(
        "feed-forward-not-widened",
        "s07_transformer",
        "kept the hidden layer n_embd wide",
        (
            ("nn.Linear(n_embd, 4 * n_embd),", "nn.Linear(n_embd, n_embd),"),
            ("nn.Linear(4 * n_embd, n_embd),", "nn.Linear(n_embd, n_embd),"),
        ),
        "Linear(6, 24)",
    ),
    Mistake(
        "feed-forward-without-relu",
        "s07_transformer",
        "left out the non-linearity",
        (("            nn.ReLU(),\n", ""),),
        "ReLU",
    ),
    Mistake(
        "layernorm-unbiased-variance",
        "s07_transformer",
        "used the unbiased variance",
        (("unbiased=False", "unbiased=True"),),
        "biased variance",
    ),
    Mistake(
        "layernorm-over-the-batch",
        "s07_transformer",
        "took the mean over the first dimension",
        (("mean = x.mean(-1, keepdim=True)", "mean = x.mean(0, keepdim=True)"),),
    ),
    Mistake(
        "layernorm-eps-outside-sqrt",
        "s07_transformer",
        "added eps after the square root",
        (("torch.sqrt(var + self.eps)", "(torch.sqrt(var) + self.eps)"),),
        "torch.sqrt(var + eps)",
    ),
    Mistake(
        "post-norm-block",
        "s07_transformer",
        "normalised after the residual addition",
        (("x = x + self.sa(self.ln1(x))", "x = self.ln1(x + self.sa(x))"),),
        "normalise before each sublayer",
    ),
    Mistake(
        "no-residual-around-feed-forward",
        "s07_transformer",
        "replaced x by the feed-forward output",
        (("x = x + self.ffwd(self.ln2(x))", "x = self.ffwd(self.ln2(x))"),),
    ),
]

VARIANTS = [
    Variant(
        "layernorm-with-var-mean",
        "s07_transformer",
        "normalises with torch.var_mean and rsqrt",
        (
            (
                "        mean = x.mean(-1, keepdim=True)\n        var = x.var(-1, keepdim=True, unbiased=False)\n  "
                "      return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias",
                "        var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)\n        return "
                "self.weight * (x - mean) * torch.rsqrt(var + self.eps) + self.bias",
            ),
        ),
    ),
    Variant(
        "heads-concatenated-on-dim-2",
        "s07_transformer",
        "concatenates on dim 2 and keeps layers in a list",
        (
            (
                "out = torch.cat([head(x) for head in self.heads], dim=-1)",
                "out = torch.cat(list(map(lambda head: head(x), self.heads)), dim=2)",
            ),
        ),
    ),
]
