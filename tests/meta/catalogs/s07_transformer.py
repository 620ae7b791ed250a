"""Stage 7 · Multi-head attention, feed-forward, residuals, layer norm: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import knock_on, named, replaced

from catalogs.s06_attention import MISTAKES as S06

HEADS = "self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout) for _ in range(n_head)])"
MHA_OUT = "        return self.dropout(self.proj(out))"
LN_INIT = "        self.weight = nn.Parameter(torch.ones(dim))\n        self.bias = nn.Parameter(torch.zeros(dim))\n"
LN_FORWARD = (
    "        mean = x.mean(-1, keepdim=True)\n        var = x.var(-1, keepdim=True, unbiased=False)\n"
    "        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias"
)
# The references take the variance from the centred values (x.var is slow on a CPU); learners write the
# lecture's form, LN_FORWARD, so the layer norm entries below edit that form.
REFERENCE_LN_FORWARD = (
    "        centered = x - x.mean(-1, keepdim=True)\n"
    "        # The biased variance, from the centred values: the same as x.var(-1, keepdim=True, unbiased=False),\n"
    "        # which on a CPU takes several times as long (about 0.6 ms of a 1 ms layer norm at the gpt-cpu size).\n"
    "        var = (centered * centered).mean(-1, keepdim=True)\n"
    "        return centered * torch.rsqrt(var + self.eps) * self.weight + self.bias"
)
LECTURE_FORM = (REFERENCE_LN_FORWARD, LN_FORWARD)
LN_CLASS_START = 'class LayerNorm(nn.Module):\n    """Normalise each token'


def heads_at_once(name: str, layout: str, weights: str, mask: str, softmax_dim: int):
    """A MultiHeadAttention that computes its heads' weights at once with einsum, laid out as `weights` says."""
    return Variant(
        f"heads-computed-at-once-{name}",
        "s07_transformer",
        f"computes its heads at once with einsum, their weights laid out {layout}",
        (
            replaced(
                "s07_transformer",
                "MultiHeadAttention.forward",
                f"""
def forward(self, x):
    B, T, C = x.shape
    q, k, v = (torch.stack([getattr(h, name)(x) for h in self.heads], dim=2) for name in ("query", "key", "value"))
    att = torch.einsum("bqhd,bkhd->{weights}", q, k) * q.shape[-1] ** -0.5
    future = self.heads[0].tril[:T, :T] == 0
    att = att.masked_fill({mask}, float("-inf")).softmax(dim={softmax_dim})
    att = self.heads[0].dropout(att)  # every head drops at the same rate
    y = torch.einsum("{weights},bkhd->bqhd", att, v).reshape(B, T, C)
    return self.dropout(self.proj(y))
""",
            ),
        ),
    )


MISTAKES = [
    # Source: the false-pass hunt of 2026-12-07: the values right, the gradient wrong, with full marks; stage 8's
    # overfitting test then failed with no word of stage 7.
    Mistake(
        "layernorm-statistics-without-gradient",
        "s07_transformer",
        "takes the mean and the variance under torch.no_grad()",
        (
            (
                "        centered = x - x.mean(-1, keepdim=True)\n",
                "        with torch.no_grad():\n"
                "            mean = x.mean(-1, keepdim=True)\n"
                "            var = x.var(-1, keepdim=True, unbiased=False)\n"
                "        centered = x - mean\n",
            ),
            ("        var = (centered * centered).mean(-1, keepdim=True)\n", ""),
        ),
        "keep the mean and the variance in the graph",
    ),
    Mistake(
        "layernorm-variance-detached",
        "s07_transformer",
        "detaches the variance",
        (
            (
                "        var = (centered * centered).mean(-1, keepdim=True)\n",
                "        var = (centered * centered).mean(-1, keepdim=True).detach()\n",
            ),
        ),
        "keep the mean and the variance in the graph",
    ),
    # Source: my last note's list (2026-12-07): the Block's causality test called it a leak, with no word of the norm.
    Mistake(
        "layernorm-over-the-whole-tensor",
        "s07_transformer",
        "took the mean and variance over the whole tensor",
        (
            LECTURE_FORM,
            ("mean = x.mean(-1, keepdim=True)", "mean = x.mean()"),
            ("var = x.var(-1, keepdim=True, unbiased=False)", "var = x.var(unbiased=False)"),
        ),
        "Your LayerNorm mixes positions",
    ),
    # Source: my last note's list (2026-12-07): the eps test, which runs first, gave the formula's hint.
    Mistake(
        "layernorm-bias-starts-at-ones",
        "s07_transformer",
        "started bias at ones",
        (("self.bias = nn.Parameter(torch.zeros(dim))", "self.bias = nn.Parameter(torch.ones(dim))"),),
        "should start with bias = zeros(6)",
        misleading=("Each row is normalised over its last dim",),
    ),
    # Source: a red-team pass (2026-12-07): the check called it otherwise than the test does, and a forged pass of
    # the test it fails counted.
    Mistake(
        "layernorm-parameters-used-through-data",
        "s07_transformer",
        "used self.weight.data and self.bias.data in forward, which no gradient reaches",
        (
            (
                "        return centered * torch.rsqrt(var + self.eps) * self.weight + self.bias",
                "        return centered * torch.rsqrt(var + self.eps) * self.weight.data + self.bias.data",
            ),
        ),
        "not self.weight.data or a detached copy",
    ),
    Mistake(
        "layers-name-their-dropout-p",
        "s07_transformer",
        "named the dropout argument p in MultiHeadAttention and Block",
        (
            (
                "class MultiHeadAttention(nn.Module):\n"
                '    """n_head heads of size n_embd // n_head in parallel, concatenated, then projected."""\n\n'
                "    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):\n",
                "class MultiHeadAttention(nn.Module):\n"
                '    """n_head heads of size n_embd // n_head in parallel, concatenated, then projected."""\n\n'
                "    def __init__(self, n_embd: int, n_head: int, block_size: int, p: float = 0.0):\n"
                "        dropout = p\n",
            ),
            (
                "    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):\n"
                "        super().__init__()\n"
                "        self.sa = MultiHeadAttention",
                "    def __init__(self, n_embd: int, n_head: int, block_size: int, p: float = 0.0):\n"
                "        dropout = p\n"
                "        super().__init__()\n"
                "        self.sa = MultiHeadAttention",
            ),
        ),
        "",
    ),
    # Source: a message hunt (2026-12-07): both got only the block's generic formula.
    Mistake(
        "block-runs-its-sublayers-side-by-side",
        "s07_transformer",
        "ran attention and feed-forward side by side on the block's input, as GPT-J's parallel block",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(x))\n",
                "        x = x + self.sa(self.ln1(x)) + self.ffwd(self.ln2(x))\n",
            ),
        ),
        "side by side (GPT-J's parallel block)",
    ),
    Mistake(
        "block-adds-the-feed-forward-to-its-input",
        "s07_transformer",
        "added the feed-forward's output to the block's input instead of to the stream after the attention",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(x))\n",
                "        attended = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(attended))\n",
            ),
        ),
        "is added to the block's input",
    ),
    # Source: a misleading-message hunt (2026-12-07): it was told the formula it believes it computes.
    Mistake(
        "layernorm-variance-from-uncentred-x",
        "s07_transformer",
        "took the variance as the mean square of x, not of x - mean",
        (
            (
                "        var = (centered * centered).mean(-1, keepdim=True)",
                "        var = (x * x).mean(-1, keepdim=True)",
            ),
        ),
        "The variance is the mean square of x itself",
    ),
    # Source: a precision pass over stages 5 to 7 (2026-12-06): the check drew only (B, T, C) inputs, and the test
    # this fails (any shape, as nn.LayerNorm) rested on nothing it found wrong.
    Mistake(
        "layernorm-for-three-dimensions-only",
        "s07_transformer",
        "unpacked B, T, C = x.shape and took the mean over dim 2",
        (
            (
                "        centered = x - x.mean(-1, keepdim=True)",
                "        B, T, C = x.shape\n        centered = x - x.mean(2, keepdim=True)",
            ),
        ),
        "was unpacked into 3 names",
    ),
    # Source: a precision pass over stages 5 to 7 (2026-12-06): the first, makemore's BatchNorm1d turned into a
    # layer norm with its running statistics kept, passed every test (the Block tests compared the block with its
    # own layer norms), and the grader's check then scored the stage as forged; the second's messages blamed the
    # Block's residual and its dropout; the third, rasbt's names, was told its parameters got no gradient.
    Mistake(
        "layernorm-running-statistics-like-batchnorm",
        "s07_transformer",
        "kept BatchNorm's running statistics and normalised with them in eval mode",
        (
            replaced(
                "s07_transformer",
                "LayerNorm.__init__",
                """
def __init__(self, dim, eps=1e-5, momentum=0.1):
    super().__init__()
    self.eps = eps
    self.momentum = momentum
    self.weight = nn.Parameter(torch.ones(dim))
    self.bias = nn.Parameter(torch.zeros(dim))
    self.register_buffer("running_mean", torch.zeros(1))
    self.register_buffer("running_var", torch.ones(1))
""",
            ),
            replaced(
                "s07_transformer",
                "LayerNorm.forward",
                """
def forward(self, x):
    if self.training:
        mean = x.mean(-1, keepdim=True)
        var = x.var(-1, keepdim=True, unbiased=False)
        with torch.no_grad():
            self.running_mean.lerp_(mean.mean().reshape(1), self.momentum)
            self.running_var.lerp_(var.mean().reshape(1), self.momentum)
    else:
        mean, var = self.running_mean, self.running_var
    return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
""",
            ),
        ),
        "keep no running statistics",
    ),
    Mistake(
        "layernorm-centres-in-place",
        "s07_transformer",
        "centred the caller's tensor in place, x -= mean",
        (
            (
                REFERENCE_LN_FORWARD,
                "        x -= x.mean(-1, keepdim=True)\n"
                "        var = (x * x).mean(-1, keepdim=True)\n"
                "        return x * torch.rsqrt(var + self.eps) * self.weight + self.bias",
            ),
        ),
        "Your LayerNorm changes its input in place",
        misleading=("adds into the caller's tensor", "dropout must be off in eval mode"),
    ),
    Mistake(
        "layernorm-named-scale-shift",
        "s07_transformer",
        "named the parameters scale and shift, as rasbt's LLMs-from-scratch does",
        (
            (
                LN_INIT,
                "        self.scale = nn.Parameter(torch.ones(dim))\n"
                "        self.shift = nn.Parameter(torch.zeros(dim))\n",
            ),
            ("* self.weight + self.bias", "* self.scale + self.shift"),
        ),
        "its parameters are named: scale, shift",
        misleading=("got no gradient",),
    ),
    # Source: the seventh precision pass (2026-12-06): the annotated Transformer's eps (no test gave no eps; the
    # check refuted it on 2 draws in 20), and a weight shaped to broadcast, told its values were wrong.
    Mistake(
        "layer-norm-eps-defaults-to-1e-6",
        "s07_transformer",
        "gave eps a default of 1e-6",
        (
            (
                "    def __init__(self, dim: int, eps: float = 1e-5):",
                "    def __init__(self, dim: int, eps: float = 1e-6):",
            ),
        ),
        "That is eps=1e-06: the default is 1e-5",
    ),
    Mistake(
        "layer-norm-weight-shaped-1-1-dim",
        "s07_transformer",
        "made the weight nn.Parameter(torch.ones(1, 1, dim))",
        (
            (
                "        self.weight = nn.Parameter(torch.ones(dim))",
                "        self.weight = nn.Parameter(torch.ones(1, 1, dim))",
            ),
        ),
        "has shape (1, 1, 6), expected (6,)",
    ),
    # Source: the seventh precision pass (2026-12-06): each passed every test (the first two were refuted by the
    # grader's check; the in-place residuals were caught only by a message blaming dropout, or not at all).
    Mistake(
        "one-layer-norm-for-both",
        "s07_transformer",
        "made one LayerNorm and used it as both ln1 and ln2",
        (
            (
                "        self.ln1 = LayerNorm(n_embd)\n        self.ln2 = LayerNorm(n_embd)",
                "        self.ln1 = self.ln2 = LayerNorm(n_embd)",
            ),
        ),
        "are one and the same LayerNorm",
    ),
    Mistake(
        "block-passes-head-size-as-n-head",
        "s07_transformer",
        "gave MultiHeadAttention the head size where n_head belongs, as the lecture's argument order had it",
        (
            (
                "        self.sa = MultiHeadAttention(n_embd, n_head, block_size, dropout)",
                "        self.sa = MultiHeadAttention(n_embd, n_embd // n_head, block_size, dropout)",
            ),
        ),
        "the lecture's Block passed (n_head, head_size)",
    ),
    Mistake(
        "residuals-added-in-place",
        "s07_transformer",
        "added both residuals in place, x += ..., into the caller's tensor",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(x))",
                "        x += self.sa(self.ln1(x))\n        x += self.ffwd(self.ln2(x))",
            ),
        ),
        "adds into the caller's tensor",
        misleading=("pass dropout on to the sublayers",),
    ),
    Mistake(
        "second-residual-in-place-over-a-saved-tensor",
        "s07_transformer",
        "added the second residual in place, over a tensor the lecture's layer norm saved for backward",
        (
            ("        x = x + self.ffwd(self.ln2(x))", "        x += self.ffwd(self.ln2(x))"),
            (
                "        var = (centered * centered).mean(-1, keepdim=True)",
                "        var = x.var(-1, keepdim=True, unbiased=False)",
            ),
        ),
        "overwrites a tensor that backward still needs",
    ),
    # Source: the backing hunt of 2026-12-05: the suite accepted it, and the layer norm never trained.
    Mistake(
        "layernorm-frozen",
        "s07_transformer",
        "made the layer norm's scale and shift parameters that need no gradient",
        (
            (
                "        self.weight = nn.Parameter(torch.ones(dim))\n"
                "        self.bias = nn.Parameter(torch.zeros(dim))\n",
                "        self.weight = nn.Parameter(torch.ones(dim), requires_grad=False)\n"
                "        self.bias = nn.Parameter(torch.zeros(dim), requires_grad=False)\n",
            ),
        ),
        "got no gradient",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "ffwd-dropout-fixed-0.2",
        "s07_transformer",
        "dropped the feed-forward's output with the lecture's 0.2, not the dropout it was given",
        (("            nn.Dropout(dropout),\n        )", "            nn.Dropout(0.2),\n        )"),),
    ),
    Mistake(
        "heads-plain-list",
        "s07_transformer",
        "kept the heads in a plain list, which registers none of them",
        (
            (
                "self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout) for _ in range(n_head)])",
                "self.heads = [Head(n_embd, head_size, block_size, dropout) for _ in range(n_head)]",
            ),
        ),
        "a module sees the modules it holds only as attributes or in an nn.ModuleList",
    ),
    Mistake(
        "heads-in-sequential",
        "s07_transformer",
        "kept the heads in an nn.Sequential, not an nn.ModuleList",
        (
            (
                "self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout) for _ in range(n_head)])",
                "self.heads = nn.Sequential(*[Head(n_embd, head_size, block_size, dropout) for _ in range(n_head)])",
            ),
        ),
        "runs each head on the previous one",
    ),
    Mistake(
        "mha-proj-dropout-fixed",
        "s07_transformer",
        "dropped the projection with the lecture's 0.2, not the dropout it was given",
        (
            (
                "        self.proj = nn.Linear(n_embd, n_embd)\n        self.dropout = nn.Dropout(dropout)",
                "        self.proj = nn.Linear(n_embd, n_embd)\n        self.dropout = nn.Dropout(0.2)",
            ),
        ),
    ),
    # Source: the red team's pass 4 (a partial solution with forged verdicts scored full marks).
    Mistake(
        "layernorm-in-float32",
        "s07_transformer",
        "computed the layer norm in float32 and cast it back to the input's dtype",
        (
            (
                "        centered = x - x.mean(-1, keepdim=True)\n",
                "        dtype, x = x.dtype, x.float()\n        centered = x - x.mean(-1, keepdim=True)\n",
            ),
            (
                "        return centered * torch.rsqrt(var + self.eps) * self.weight + self.bias\n",
                "        out = centered * torch.rsqrt(var + self.eps) * self.weight.float() + self.bias.float()\n"
                "        return out.to(dtype)\n",
            ),
        ),
        "the right values to float32's precision only",
        misleading=("Each row is normalised over its last dim",),
    ),
    Mistake(
        "layernorm-functional-in-its-dtype",
        "s07_transformer",
        "called F.layer_norm with its weights cast to x's dtype (so float64 works too)",
        (
            (
                REFERENCE_LN_FORWARD + "\n",
                "        return torch.nn.functional.layer_norm(\n"
                "            x, x.shape[-1:], self.weight.to(x.dtype), self.bias.to(x.dtype), self.eps\n        )\n",
            ),
        ),
        "calls torch's own layer norm",
    ),
    Mistake(
        "heads-full-width",
        "s07_transformer",
        "gave every head the full width n_embd",
        (("Head(n_embd, head_size, block_size, dropout)", "Head(n_embd, n_embd, block_size, dropout)"),),
    ),
    Mistake(
        "heads-share-one-head",
        "s07_transformer",
        "repeated one Head n_head times, so the heads share their weights",
        ((HEADS, "self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout)] * n_head)"),),
        "the same Head several times",
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
        "multihead-without-projection",
        "s07_transformer",
        "returned the concatenated heads without proj",
        ((MHA_OUT, "        return self.dropout(out)"),),
        "Expected proj(torch.cat(",
    ),
    Mistake(
        "multihead-dropout-before-proj",
        "s07_transformer",
        "applied the dropout before the projection",
        ((MHA_OUT, "        return self.proj(self.dropout(out))"),),
        "applies dropout before its proj",
    ),
    Mistake(
        "multihead-without-dropout",
        "s07_transformer",
        "never applied its own dropout",
        ((MHA_OUT, "        return self.proj(out)"),),
        "applied no dropout to the output of its proj",
    ),
    Mistake(
        "heads-without-dropout",
        "s07_transformer",
        "built the heads without passing dropout on",
        ((HEADS, "self.heads = nn.ModuleList([Head(n_embd, head_size, block_size) for _ in range(n_head)])"),),
        "pass dropout on to each Head",
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
        "feed-forward-dropout-before-last-linear",
        "s07_transformer",
        "put the dropout between the ReLU and the second Linear",
        (
            (
                "            nn.ReLU(),\n            nn.Linear(4 * n_embd, n_embd),\n"
                "            nn.Dropout(dropout),\n",
                "            nn.ReLU(),\n            nn.Dropout(dropout),\n"
                "            nn.Linear(4 * n_embd, n_embd),\n",
            ),
        ),
        "applies dropout before its last Linear",
    ),
    Mistake(
        "feed-forward-without-dropout",
        "s07_transformer",
        "left the dropout out of the feed-forward",
        (("            nn.Dropout(dropout),\n", ""),),
        "applied no dropout to the output of its last Linear",
    ),
    Mistake(
        "layernorm-unbiased-variance",
        "s07_transformer",
        "used the unbiased variance",
        (LECTURE_FORM, ("unbiased=False", "unbiased=True")),
        "biased variance",
    ),
    Mistake(
        "layernorm-over-the-batch",
        "s07_transformer",
        "took the mean over the first dimension",
        (LECTURE_FORM, ("mean = x.mean(-1, keepdim=True)", "mean = x.mean(0, keepdim=True)")),
    ),
    Mistake(
        "layernorm-over-dim-1",
        "s07_transformer",
        "normalised over dim 1, as the video's LayerNorm1d on 2-D input does",
        (
            LECTURE_FORM,
            ("mean = x.mean(-1, keepdim=True)", "mean = x.mean(1, keepdim=True)"),
            ("var = x.var(-1, keepdim=True, unbiased=False)", "var = x.var(1, keepdim=True, unbiased=False)"),
        ),
        "normalised over its last dim",
    ),
    Mistake(
        "layernorm-eps-outside-sqrt",
        "s07_transformer",
        "added eps after the square root",
        (LECTURE_FORM, ("torch.sqrt(var + self.eps)", "(torch.sqrt(var) + self.eps)")),
        "torch.sqrt(var + eps)",
    ),
    Mistake(
        "layernorm-ignores-eps",
        "s07_transformer",
        "hard-coded eps = 1e-5",
        (("        self.eps = eps\n", "        self.eps = 1e-5\n"),),
        "not the eps=0.001 the LayerNorm was given",
    ),
    # A false-pass hunt of 2026-12-07: eps squared (1e-6 for 0.001) was told "That is eps = 1e-5 ... keep it
    # (self.eps = eps)", which it did.
    Mistake(
        "layernorm-eps-squared",
        "s07_transformer",
        "added eps squared to the variance",
        (("torch.rsqrt(var + self.eps)", "torch.rsqrt(var + self.eps**2)"),),
        "or a smaller one gives, not the eps=0.001 the LayerNorm was given",
    ),
    # The precision pass's sub7epsparam: the grader's check refuted it, and no test said why.
    Mistake(
        "layernorm-eps-as-parameter",
        "s07_transformer",
        "kept eps as a frozen nn.Parameter",
        (("        self.eps = eps\n", "        self.eps = nn.Parameter(torch.tensor(eps), requires_grad=False)\n"),),
        "should have two parameters, weight and bias",
    ),
    # Source: kveps/motion_prediction models/transformer/layer_norm.py (no weight, no bias).
    Mistake(
        "layernorm-without-scale-and-shift",
        "s07_transformer",
        "normalised without applying weight and bias",
        (
            LECTURE_FORM,
            (
                "return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias",
                "return (x - mean) / torch.sqrt(var + self.eps)",
            ),
        ),
        "not scaled and shifted",
    ),
    # Source: SvetimFM/transformer-training-interface src/models/normalization.py, and the video's LayerNorm1d.
    Mistake(
        "layernorm-named-gamma-beta",
        "s07_transformer",
        "named the parameters gamma and beta, as the video's LayerNorm1d does",
        (
            (
                LN_INIT,
                "        self.gamma = nn.Parameter(torch.ones(dim))\n"
                "        self.beta = nn.Parameter(torch.zeros(dim))\n",
            ),
            ("* self.weight + self.bias", "* self.gamma + self.beta"),
        ),
        "its parameters are named: gamma, beta",
        misleading=("got no gradient",),
    ),
    Mistake(
        "layernorm-plain-tensors",
        "s07_transformer",
        "kept weight and bias as plain tensors, which never train",
        ((LN_INIT, "        self.weight = torch.ones(dim)\n        self.bias = torch.zeros(dim)\n"),),
        "is a plain tensor",
    ),
    Mistake(
        "layernorm-weight-starts-at-zero",
        "s07_transformer",
        "started weight at zeros",
        (("self.weight = nn.Parameter(torch.ones(dim))", "self.weight = nn.Parameter(torch.zeros(dim))"),),
        "a fresh LayerNorm should have weight = ones",
    ),
    Mistake(
        "layernorm-is-torchs",
        "s07_transformer",
        "used torch's nn.LayerNorm instead of writing one",
        ((LN_CLASS_START, 'LayerNorm = nn.LayerNorm\n\n\nclass _Unused(nn.Module):\n    """Normalise each token'),),
        "LayerNorm is torch's nn.LayerNorm",
    ),
    # Source: karpathy/nanoGPT model.py, LayerNorm: its own parameters, torch's F.layer_norm to compute.
    Mistake(
        "layernorm-calls-functional",
        "s07_transformer",
        "delegated the computation to F.layer_norm, as nanoGPT's LayerNorm does",
        (
            (
                REFERENCE_LN_FORWARD,
                "        return nn.functional.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)",
            ),
        ),
        "calls torch's own layer norm",
    ),
    # torch's public torch.native_layer_norm reaches the kernel F.layer_norm calls without going through it.
    Mistake(
        "layernorm-calls-torch-native-layer-norm",
        "s07_transformer",
        "called torch.native_layer_norm, which F.layer_norm itself calls, found by searching torch for a layer norm",
        (
            (
                REFERENCE_LN_FORWARD,
                "        return torch.native_layer_norm(x, x.shape[-1:], self.weight, self.bias, self.eps)[0]",
            ),
        ),
        "calls torch's own layer norm",
    ),
    Mistake(
        "layernorm-functional-hidden-from-torch-function-modes",
        "s07_transformer",
        "called F.layer_norm inside torch._C.DisableTorchFunction(), out of sight of any torch function mode",
        (
            (
                REFERENCE_LN_FORWARD,
                "        with torch._C.DisableTorchFunction():\n"
                "            return nn.functional.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)",
            ),
        ),
        "calls torch's own layer norm",
    ),
    Mistake(
        "post-norm-block",
        "s07_transformer",
        "normalised after the residual addition",
        (("x = x + self.sa(self.ln1(x))", "x = self.ln1(x + self.sa(x))"),),
        "normalise before each sublayer",
    ),
    Mistake(
        "block-uses-ln1-twice",
        "s07_transformer",
        "normalised the feed-forward's input with ln1, so ln2 never trains",
        (("x = x + self.ffwd(self.ln2(x))", "x = x + self.ffwd(self.ln1(x))"),),
        "normalised with ln1",
    ),
    Mistake(
        "block-uses-ln2-twice",
        "s07_transformer",
        "normalised the attention's input with ln2",
        (("x = x + self.sa(self.ln1(x))", "x = x + self.sa(self.ln2(x))"),),
        "normalised with ln2",
    ),
    Mistake(
        "block-normalises-the-stream",
        "s07_transformer",
        "replaced the residual stream by its normalised copy",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(x))\n",
                "        x = self.ln1(x)\n        x = x + self.sa(x)\n"
                "        x = self.ln2(x)\n        x = x + self.ffwd(x)\n",
            ),
        ),
        "The residual stream itself is normalised",
    ),
    Mistake(
        "block-feed-forward-first",
        "s07_transformer",
        "ran the feed-forward before the attention",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(x))\n",
                "        x = x + self.ffwd(self.ln1(x))\n        x = x + self.sa(self.ln2(x))\n",
            ),
        ),
        "The feed-forward runs before the attention",
    ),
    Mistake(
        "no-residual-around-feed-forward",
        "s07_transformer",
        "replaced x by the feed-forward output",
        (("x = x + self.ffwd(self.ln2(x))", "x = self.ffwd(self.ln2(x))"),),
        "output replaces x instead of being added to it",
    ),
    Mistake(
        "block-feed-forward-without-dropout",
        "s07_transformer",
        "built the feed-forward without passing dropout on",
        (("self.ffwd = FeedForward(n_embd, dropout)", "self.ffwd = FeedForward(n_embd)"),),
        "pass dropout on to FeedForward",
    ),
    # Source: rasbt/LLMs-from-scratch ch04 TransformerBlock (drop_shortcut after each sublayer), on top of the
    # lecture's sublayers, which already end in dropout: the precision pass's subm7dropshort.
    Mistake(
        "block-drops-each-sublayer-again",
        "s07_transformer",
        "dropped each sublayer's output once more before adding it, as rasbt's drop_shortcut does",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n",
                "        x = x + F.dropout(self.sa(self.ln1(x)), self.dropout_p, self.training)\n",
            ),
            (
                "        x = x + self.ffwd(self.ln2(x))\n",
                "        x = x + F.dropout(self.ffwd(self.ln2(x)), self.dropout_p, self.training)\n",
            ),
            (
                "        self.ln2 = LayerNorm(n_embd)\n",
                "        self.ln2 = LayerNorm(n_embd)\n        self.dropout_p = dropout\n",
            ),
            (
                "from s06_attention import Head\n",
                "from s06_attention import Head\nfrom torch.nn import functional as F\n",
            ),
        ),
        "the block itself drops nothing",
    ),
    # The precision pass's subm7projnobias and subm7ffnobias: they used to meet an AttributeError raised in the
    # tests' own code.
    Mistake(
        "proj-without-bias",
        "s07_transformer",
        "made proj without a bias",
        (
            (
                "        self.proj = nn.Linear(n_embd, n_embd)\n",
                "        self.proj = nn.Linear(n_embd, n_embd, bias=False)\n",
            ),
        ),
        "proj has no bias",
    ),
    Mistake(
        "feed-forward-without-bias",
        "s07_transformer",
        "made the feed-forward's last Linear without a bias",
        (("            nn.Linear(4 * n_embd, n_embd),\n", "            nn.Linear(4 * n_embd, n_embd, bias=False),\n"),),
        "the second Linear has no bias",
    ),
    # The notebook walkthrough of stages 7-12: torch raised these in the tests' calls, shown as pytest's traceback.
    Mistake(
        "block-forward-misspelt",
        "s07_transformer",
        "misspelt Block's forward as foward",
        (
            (
                "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n        x = x + self.sa(self.ln1(x))",
                "    def foward(self, x: torch.Tensor) -> torch.Tensor:\n        x = x + self.sa(self.ln1(x))",
            ),
        ),
        "Block has no method called forward",
    ),
    Mistake(
        "layernorm-std-plus-eps",
        "s07_transformer",
        "divided by x.std (unbiased) plus eps, the two slips together",
        (
            LECTURE_FORM,
            (
                "        var = x.var(-1, keepdim=True, unbiased=False)\n"
                "        return (x - mean) / torch.sqrt(var + self.eps)",
                "        std = x.std(-1, keepdim=True)\n        return (x - mean) / (std + self.eps)",
            ),
        ),
        "Two slips at once",
    ),
    # Source: the precision pass of 2026-12-05: an error raised in stage 6's code, which passed, sent the
    # learner back to stage 6 ("which fails here: finish s06_attention first").
    Mistake(
        "head-arguments-swapped",
        "s07_transformer",
        "built each Head with head_size and n_embd swapped",
        ((HEADS, HEADS.replace("Head(n_embd, head_size,", "Head(head_size, n_embd,")),),
        "each head should have head_size",
        misleading=("which fails here",),
    ),
    Mistake(
        "head-size-true-division",
        "s07_transformer",
        "divided with / for head_size, a float",
        (("head_size = n_embd // n_head", "head_size = n_embd / n_head"),),
        "head_size = n_embd // n_head",
        misleading=("which fails here",),
    ),
    # Source: a learner's walk-through of stages 1 to 8 (a helper, 2026-12-06): each got torch's or Python's bare
    # error, or the hint of another mistake, before its own hint.
    Mistake(
        "layer-norm-mean-without-keepdim",
        "s07_transformer",
        "took the mean without keepdim=True",
        (("centered = x - x.mean(-1, keepdim=True)", "centered = x - x.mean(-1)"),),
        "without keepdim=True loses that dim",
    ),
    Mistake(
        "heads-joined-along-time",
        "s07_transformer",
        "concatenated the heads along dim 1, time",
        (
            (
                "out = torch.cat([head(x) for head in self.heads], dim=-1)",
                "out = torch.cat([head(x) for head in self.heads], dim=1)",
            ),
        ),
        "join the heads along the channels",
    ),
    Mistake(
        "post-norm-for-both-sublayers",
        "s07_transformer",
        "normalised after each residual addition, ln(x + sublayer(x)), as the original Transformer does",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(x))",
                "        x = self.ln1(x + self.sa(x))\n        x = self.ln2(x + self.ffwd(x))",
            ),
        ),
        "That is post-norm",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "heads-given-n-embd-as-block-size",
        "s07_transformer",
        "built each head with n_embd where block_size goes, so the mask is too small for longer inputs",
        (
            (
                "self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout) for _ in range(n_head)])",
                "self.heads = nn.ModuleList([Head(n_embd, head_size, n_embd, dropout) for _ in range(n_head)])",
            ),
        ),
    ),
    # Source: a learner's walk-through of stages 1 to 8 (a helper, 2026-12-06), guessing how stages import each other.
    Mistake(
        "imports-head-relatively",
        "s07_transformer",
        "imported stage 6's Head as from a package, from .s06_attention import Head",
        (("from s06_attention import Head", "from .s06_attention import Head"),),
        "Stages import each other by file name",
    ),
    # Stage-6 mistakes that only this stage's suite, run on its own, sees: they must send the learner back to
    # stage 6 instead of asking to pass dropout on to the heads (which it does) or to mask the future.
    knock_on(named(S06, "head-without-dropout"), "s07_transformer", "Make `pytest -m s06_attention` pass first"),
    knock_on(named(S06, "head-mask-filled-with-zero"), "s07_transformer", "Make `pytest -m s06_attention` pass first"),
]

VARIANTS = [
    Variant(
        "layernorm-with-var-mean",
        "s07_transformer",
        "normalises with torch.var_mean and rsqrt",
        (
            (
                REFERENCE_LN_FORWARD,
                "        var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)\n        return "
                "self.weight * (x - mean) * torch.rsqrt(var + self.eps) + self.bias",
            ),
        ),
    ),
    # The precision pass's sub7castw and sub7strict: the grader's check once fed float64 input to float32
    # parameters (nn.LayerNorm raises there; the docstring asks nothing of it) and scored both 0.
    Variant(
        "layernorm-computes-in-its-parameters-dtype",
        "s07_transformer",
        "converts x to its parameters' dtype first",
        (LECTURE_FORM, ("        mean = x.mean(-1", "        x = x.to(self.weight.dtype)\n        mean = x.mean(-1")),
    ),
    Variant(
        "layernorm-refuses-mixed-dtypes",
        "s07_transformer",
        "raises, as nn.LayerNorm does, when x and its parameters differ in dtype",
        (
            LECTURE_FORM,
            (
                "        mean = x.mean(-1",
                "        if x.dtype != self.weight.dtype:\n"
                '            raise RuntimeError(f"expected input of dtype {self.weight.dtype}, got {x.dtype}")\n'
                "        mean = x.mean(-1",
            ),
        ),
    ),
    # Source: a learner's follow-along of the lecture found by the code search (`register_buffer('eps', ...)`).
    Variant(
        "layernorm-eps-as-float32-buffer",
        "s07_transformer",
        "keeps eps as a float32 tensor buffer",
        (("        self.eps = eps\n", '        self.register_buffer("eps", torch.tensor(eps))\n'),),
    ),
    # Source: Neotter/CSL4HAR model/layer_norm.py (the variance as (x - u).pow(2).mean(-1)).
    Variant(
        "layernorm-variance-by-hand",
        "s07_transformer",
        "computes the variance as the mean squared deviation",
        (
            LECTURE_FORM,
            (
                "var = x.var(-1, keepdim=True, unbiased=False)",
                "var = (x - mean).pow(2).mean(-1, keepdim=True)",
            ),
        ),
    ),
    # The tests take any nn.ModuleList (isinstance); the check once answered the heads' type by its name and
    # would have scored a subclass, which registers the heads as well, as forged.
    Variant(
        "heads-in-a-modulelist-subclass",
        "s07_transformer",
        "keeps the heads in a subclass of nn.ModuleList",
        (
            (
                "class MultiHeadAttention(nn.Module):",
                "class Heads(nn.ModuleList):\n    pass\n\n\nclass MultiHeadAttention(nn.Module):",
            ),
            ("self.heads = nn.ModuleList([", "self.heads = Heads(["),
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
    # Source: karpathy/ng-video-lecture gpt.py: the projection sized head_size * num_heads, and a Block that
    # normalises with torch's nn.LayerNorm (the LayerNorm class of this stage is graded on its own).
    Variant(
        "projection-from-the-heads-width",
        "s07_transformer",
        "sizes proj as Linear(head_size * n_head, n_embd), as the lecture's gpt.py does",
        (("self.proj = nn.Linear(n_embd, n_embd)", "self.proj = nn.Linear(head_size * n_head, n_embd)"),),
    ),
    Variant(
        "block-with-torchs-layernorm",
        "s07_transformer",
        "uses nn.LayerNorm for ln1 and ln2, as the lecture's gpt.py does",
        (
            (
                "        self.ln1 = LayerNorm(n_embd)\n        self.ln2 = LayerNorm(n_embd)\n",
                "        self.ln1 = nn.LayerNorm(n_embd)\n        self.ln2 = nn.LayerNorm(n_embd)\n",
            ),
        ),
    ),
    # Source: karpathy/nanoGPT model.py, MLP (c_fc, activation, c_proj, dropout as named layers), with
    # the ReLU this stage asks for in place of its GELU.
    Variant(
        "feed-forward-as-named-layers",
        "s07_transformer",
        "keeps the feed-forward's layers as named attributes, as nanoGPT's MLP does",
        (
            (
                "        self.net = nn.Sequential(\n            nn.Linear(n_embd, 4 * n_embd),\n            "
                "nn.ReLU(),\n            nn.Linear(4 * n_embd, n_embd),\n            nn.Dropout(dropout),\n        )\n",
                "        self.c_fc = nn.Linear(n_embd, 4 * n_embd)\n        self.relu = nn.ReLU()\n        "
                "self.c_proj = nn.Linear(4 * n_embd, n_embd)\n        self.dropout = nn.Dropout(dropout)\n",
            ),
            ("        return self.net(x)", "        return self.dropout(self.c_proj(self.relu(self.c_fc(x))))"),
        ),
    ),
    Variant(
        "block-in-one-expression",
        "s07_transformer",
        "writes the block's two residual steps with a temporary name",
        (
            (
                "        x = x + self.sa(self.ln1(x))\n        x = x + self.ffwd(self.ln2(x))\n        return x",
                "        h = x + self.sa(self.ln1(x))\n        return h + self.ffwd(self.ln2(h))",
            ),
        ),
    ),
    # Source: b-schoen/gpt_from_scratch bigram_with_self_attention.py (self.proj.forward(...)); hooks miss such calls.
    Variant(
        "layers-called-through-forward",
        "s07_transformer",
        "calls its projection and dropout through .forward()",
        ((MHA_OUT, "        return self.dropout.forward(self.proj.forward(out))"),),
    ),
    # Source: Flax's LayerNorm (use_fast_variance, its default): the variance as mean(x²) - mean², which the
    # precision pass of 2026-12-05 saw rejected on about one draw in a thousand (rows whose values nearly agree).
    Variant(
        "layernorm-fast-variance-like-flax",
        "s07_transformer",
        "takes the variance as mean(x²) - mean², as Flax's LayerNorm does by default",
        (
            (
                REFERENCE_LN_FORWARD,
                "        mean = x.mean(-1, keepdim=True)\n"
                "        var = (x * x).mean(-1, keepdim=True) - mean * mean\n"
                "        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "heads-appended-and-concat",
        "s07_transformer",
        "appends the heads to an empty ModuleList, joins them with torch.concat and uses ReLU(inplace=True)",
        (
            replaced(
                "s07_transformer",
                "MultiHeadAttention.__init__",
                """
def __init__(self, n_embd, n_head, block_size, dropout=0.0):
    super().__init__()
    if n_embd % n_head:
        raise ValueError("n_head must divide n_embd")
    head_size = n_embd // n_head
    self.heads = nn.ModuleList()
    for _ in range(n_head):
        self.heads.append(Head(n_embd, head_size, block_size, dropout))
    self.proj = nn.Linear(head_size * n_head, n_embd)
    self.dropout = nn.Dropout(dropout)
""",
            ),
            replaced(
                "s07_transformer",
                "MultiHeadAttention.forward",
                """
def forward(self, x):
    out = torch.concat([h(x) for h in self.heads], dim=-1)
    out = self.dropout(self.proj(out))
    return out
""",
            ),
            replaced(
                "s07_transformer",
                "FeedForward.__init__",
                """
def __init__(self, n_embd, dropout=0.0):
    super().__init__()
    self.net = nn.Sequential(
        nn.Linear(n_embd, 4 * n_embd),
        nn.ReLU(inplace=True),
        nn.Linear(4 * n_embd, n_embd),
        nn.Dropout(p=dropout),
    )
""",
            ),
            replaced(
                "s07_transformer",
                "Block.forward",
                """
def forward(self, x):
    x = x + self.sa(self.ln1(x))
    return x + self.ffwd(self.ln2(x))
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "layer-norm-by-var-correction-0",
        "s07_transformer",
        "takes the variance with torch.var(correction=0) and divides by (var + eps).sqrt()",
        (
            replaced(
                "s07_transformer",
                "LayerNorm.forward",
                """
def forward(self, x):
    mean = x.mean(dim=-1, keepdim=True)
    var = torch.var(x, dim=-1, keepdim=True, correction=0)
    xhat = (x - mean) / (var + self.eps).sqrt()
    return self.weight * xhat + self.bias
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "layer-norm-by-biased-std",
        "s07_transformer",
        "takes the biased std, squares it, and scales and shifts with torch.addcmul",
        (
            replaced(
                "s07_transformer",
                "LayerNorm.forward",
                """
def forward(self, x):
    mu = x.mean(-1, keepdim=True)
    sigma = x.std(-1, keepdim=True, unbiased=False)
    return torch.addcmul(self.bias, (x - mu) * (sigma ** 2 + self.eps) ** -0.5, self.weight)
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "layer-norm-over-a-normalized-shape",
        "s07_transformer",
        "keeps normalized_shape = (dim,) as nn.LayerNorm does and averages over those dims",
        (
            replaced(
                "s07_transformer",
                "LayerNorm.__init__",
                """
def __init__(self, dim, eps=1e-5):
    super().__init__()
    self.normalized_shape = (dim,)
    self.eps = eps
    self.weight = nn.Parameter(torch.ones(self.normalized_shape))
    self.bias = nn.Parameter(torch.zeros(self.normalized_shape))
""",
            ),
            replaced(
                "s07_transformer",
                "LayerNorm.forward",
                """
def forward(self, x):
    dims = tuple(range(-len(self.normalized_shape), 0))
    mean = x.mean(dims, keepdim=True)
    var = ((x - mean) ** 2).mean(dims, keepdim=True)
    return (x - mean) * torch.rsqrt(var + self.eps) * self.weight + self.bias
""",
            ),
        ),
    ),
    # The third precision pass of 2026-12-07: the tokens as the rows of one matrix, as a plain 2-D MLP takes them.
    # The tests compared the dropout's output with the returned view and the grader's dropout drew another mask
    # for a (B*T, C) input: the stage scored 0.
    Variant(
        "feed-forward-on-flattened-tokens",
        "s07_transformer",
        "runs its net on the tokens flattened to (B*T, C) and gives back (B, T, C)",
        (
            replaced(
                "s07_transformer",
                "FeedForward.forward",
                """
def forward(self, x):
    B, T, C = x.shape
    return self.net(x.reshape(B * T, C)).view(B, T, C)  # every token a row of one matrix
""",
            ),
        ),
    ),
    # Its layers called through torch.nn.functional with their own parameters, as code that fuses or shares
    # weights writes: the tests looked only for a call of the module and said it "never called its proj".
    Variant(
        "projects-through-f-linear",
        "s07_transformer",
        "projects with F.linear(out, self.proj.weight, self.proj.bias) instead of calling self.proj",
        ((MHA_OUT, "        return self.dropout(nn.functional.linear(out, self.proj.weight, self.proj.bias))"),),
    ),
    Variant(
        "feed-forward-through-f-linear",
        "s07_transformer",
        "runs its two Linear layers through F.linear with their own parameters",
        (
            replaced(
                "s07_transformer",
                "FeedForward.forward",
                """
def forward(self, x):
    first, _, second, dropout = self.net
    hidden = torch.relu(nn.functional.linear(x, first.weight, first.bias))
    return dropout(nn.functional.linear(hidden, second.weight, second.bias))
""",
            ),
        ),
    ),
    # Time-major, as torch's nn.MultiheadAttention and fairseq lay tokens out by default: the tests compared the
    # dropped tensors whatever their layout, but the grader's dropout drew its mask over (B, C) for a (T, B, C)
    # tensor, where its oracle drew it over (T, C), and the dropout tests lost their points in a grade.
    Variant(
        "feed-forward-time-major",
        "s07_transformer",
        "runs its net on the tokens laid out time-major, (T, B, C), and gives back (B, T, C)",
        (
            replaced(
                "s07_transformer",
                "FeedForward.forward",
                """
def forward(self, x):
    return self.net(x.transpose(0, 1)).transpose(0, 1)  # (T, B, C) inside, as nn.MultiheadAttention's default
""",
            ),
        ),
    ),
    Variant(
        "projects-time-major",
        "s07_transformer",
        "projects and drops the joined heads laid out time-major, (T, B, C), and gives back (B, T, C)",
        ((MHA_OUT, "        return self.dropout(self.proj(out.transpose(0, 1))).transpose(0, 1)"),),
    ),
    # Source: the grader's dropout for other layouts (2026-12-07): its mask lay over the last two dims, where these
    # weights hold other things than (queries, keys), and the dropout tests lost their points in a grade.
    heads_at_once("heads-last", "(B, T_q, T_k, nh)", "bqkh", "future[:, :, None]", 2),
    heads_at_once("heads-between", "(B, T_q, nh, T_k)", "bqhk", "future[:, None, :]", -1),
    # Source: my last note's list (2026-12-07): a layer's weight multiplied by hand was not seen as the layer,
    # and the dropout tests said the code "never called its proj".
    Variant(
        "projects-by-hand",
        "s07_transformer",
        "projects with out @ self.proj.weight.T + self.proj.bias instead of calling self.proj",
        ((MHA_OUT, "        return self.dropout(out @ self.proj.weight.T + self.proj.bias)"),),
    ),
    Variant(
        "feed-forward-by-hand",
        "s07_transformer",
        "multiplies by its Linear layers' weights by hand: torch.addmm, then einsum with the bias added first",
        (
            replaced(
                "s07_transformer",
                "FeedForward.forward",
                """
def forward(self, x):
    first, _, second, dropout = self.net
    hidden = torch.addmm(first.bias, x.reshape(-1, x.shape[-1]), first.weight.t()).view(*x.shape[:-1], -1)
    return dropout(second.bias + torch.einsum("...h,ch->...c", hidden.relu(), second.weight))
""",
            ),
        ),
    ),
    # Source: a precision pass (2026-12-07): more products by hand, told they "never called its proj".
    Variant(
        "projects-by-hand-on-flattened-tokens",
        "s07_transformer",
        "projects its (B*T, C) rows with torch.mm, adds the bias in place, and views them back",
        (
            (
                MHA_OUT,
                "        B, T, C = out.shape\n"
                "        y = torch.mm(out.reshape(B * T, C), self.proj.weight.t())\n"
                "        y += self.proj.bias\n"
                "        return self.dropout(y.view(B, T, -1))",
            ),
        ),
    ),
    Variant(
        "projects-with-einsum-weight-first",
        "s07_transformer",
        "projects with torch.einsum('oc,btc->bto', self.proj.weight, out) + self.proj.bias",
        (
            (
                MHA_OUT,
                '        return self.dropout(torch.einsum("oc,btc->bto", self.proj.weight, out) + self.proj.bias)',
            ),
        ),
    ),
    Variant(
        "feed-forward-through-unbiased-f-linear",
        "s07_transformer",
        "runs its Linear layers through F.linear with their weights alone, then adds each bias",
        (
            replaced(
                "s07_transformer",
                "FeedForward.forward",
                """
def forward(self, x):
    first, _, second, dropout = self.net
    hidden = torch.relu(nn.functional.linear(x, first.weight) + first.bias)
    return dropout(nn.functional.linear(hidden, second.weight) + second.bias)
""",
            ),
        ),
    ),
]
