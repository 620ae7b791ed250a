"""Stage 9 · Fast batched attention: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import knock_on, named, replaced

from catalogs.s06_attention import MISTAKES as S06
from catalogs.s07_transformer import MISTAKES as S07

SPLIT = "        q, k, v = self.c_attn(x).split(C, dim=2)\n"
HEADS = "        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))\n"
ATTEND = "y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)"
JOIN = "y = y.transpose(1, 2).contiguous().view(B, T, C)"
OUTPUT = "return self.resid_dropout(self.c_proj(y))"
COPY_PROJ = "            attention.c_proj.load_state_dict(mha.proj.state_dict())\n"
NORMS = "        block.ln1, block.ln2 = _fused_layer_norm(block.ln1), _fused_layer_norm(block.ln2)\n"
LN_F = "    model.ln_f = _fused_layer_norm(model.ln_f)\n"
STACK = (
    '            for part, name in enumerate(("query", "key", "value")):\n'
    "                weights = torch.cat([getattr(head, name).weight for head in mha.heads], dim=0)\n"
    "                attention.c_attn.weight[part * n_embd : (part + 1) * n_embd] = weights\n"
)

MISTAKES = [
    # Source: the false-pass hunt of 2026-12-07: every test passed and the grade was 0 (fresh norms all hold ones
    # and zeros, so the test's fresh model could not tell).
    Mistake(
        "fast-gpt-one-norm-for-all",
        "s09_fast_attention",
        "puts one fused nn.LayerNorm in the place of every norm",
        (
            (
                "    for block in model.blocks:\n",
                "    shared = _fused_layer_norm(model.ln_f)\n    for block in model.blocks:\n",
            ),
            (NORMS, "        block.ln1 = block.ln2 = shared\n"),
            (LN_F, "    model.ln_f = shared\n"),
        ),
        "holds one set of weights for all of them",
    ),
    # Source: the red-team pass of 2026-12-07: the check ran the attention under torch.no_grad(), where the tests
    # do not, so a forged copy of this kept 13.6 of 15.
    Mistake(
        "queries-scaled-in-place-on-the-split",
        "s09_fast_attention",
        "scales the queries in place, on the view split returns, which autograd refuses",
        (
            (SPLIT, SPLIT + "        q *= (C // self.n_head) ** -0.5\n"),
            (ATTEND, ATTEND.replace("is_causal=True)", "is_causal=True, scale=1.0)")),
        ),
        "",
    ),
    # Source: the precision pass of 2026-12-07: its four fused norms, a subclass of stage 7's, were listed as
    # written out beside the ln_f it forgot.
    Mistake(
        "fused-subclass-norms-but-not-ln-f",
        "s09_fast_attention",
        "fuses the blocks' norms with a subclass of stage 7's LayerNorm calling F.layer_norm, and forgets ln_f",
        (
            (
                "from s07_transformer import MultiHeadAttention\n",
                "from s07_transformer import LayerNorm, MultiHeadAttention\n",
            ),
            (
                "def _fused_layer_norm(norm: nn.Module) -> nn.LayerNorm:\n",
                "class FusedLayerNorm(LayerNorm):\n"
                "    def forward(self, x):\n"
                "        return F.layer_norm(x, (x.shape[-1],), self.weight, self.bias, self.eps)\n"
                "\n\n"
                "def _fused_layer_norm(norm: nn.Module) -> nn.LayerNorm:\n",
            ),
            ("    fused = nn.LayerNorm(norm.weight.shape[0])\n", "    fused = FusedLayerNorm(norm.weight.shape[0])\n"),
            (LN_F, ""),
        ),
        "These are still your stage 7 LayerNorm, written out: ln_f.",
    ),
    # Source: my last note's list (2026-12-07): told to convert each block.sa, which it does.
    Mistake(
        "fast-gpt-initialises-again",
        "s09_fast_attention",
        "applies the model's init again after the conversion",
        ((LN_F, LN_F + "    model.apply(model._init_weights)\n"),),
        "differ from GPTLanguageModel(config)'s from the same seed, outside the attention",
        misleading=("which keeps its weights",),
    ),
    # The stage asks for torch's fused layer norm since the gpt-cpu race (2026-12-07): a fast_gpt that keeps
    # stage 7's written-out norms computes the same, a fifth slower a training step.
    Mistake(
        "fast-gpt-keeps-written-out-norms",
        "s09_fast_attention",
        "fused the attention but kept stage 7's LayerNorms",
        ((NORMS, ""), (LN_F, "")),
        "These are still your stage 7 LayerNorm, written out: blocks.0.ln1, blocks.0.ln2",
    ),
    Mistake(
        "fast-gpt-forgets-ln-f",
        "s09_fast_attention",
        "fused the blocks' layer norms but not the model's ln_f",
        ((LN_F, ""),),
        "These are still your stage 7 LayerNorm, written out: ln_f.",
    ),
    # Source: a message hunt (2026-12-07): told to pass dropout_p=0 in eval mode, which it does.
    Mistake(
        "output-dropped-with-f-dropout-in-eval-mode",
        "s09_fast_attention",
        "dropped the output with F.dropout(..., self.dropout), which drops in eval mode too",
        ((OUTPUT, "return F.dropout(self.c_proj(y), self.dropout)"),),
        "a dropout outside the fused call drops in eval mode",
        misleading=("use dropout_p=0 unless self.training",),
    ),
    # Source: the sixth precision pass (2026-12-06): it passed every test, and the grader's check, which
    # compares the whole dropped output, scored the honest stage as forged.
    Mistake(
        "from-multihead-sets-only-the-fused-dropout",
        "s09_fast_attention",
        "built the attention without mha's dropout and then set only the fused attention's rate",
        (
            (
                "        attention = cls(n_embd, n_head, block_size, mha.dropout.p)\n",
                "        attention = cls(n_embd, n_head, block_size)\n"
                "        attention.dropout = mha.dropout.p  # the rate the fused attention drops with\n",
            ),
        ),
        "build it with mha's dropout, cls(n_embd, n_head, block_size, mha.dropout.p), so that the output's",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "resid-dropout-fixed-0.2",
        "s09_fast_attention",
        "dropped the output with the lecture's 0.2, not the dropout it was given",
        (("self.resid_dropout = nn.Dropout(dropout)", "self.resid_dropout = nn.Dropout(0.2)"),),
    ),
    Mistake(
        "attn-dropout-fixed-0.2",
        "s09_fast_attention",
        "dropped the attention weights with the lecture's 0.2, not the dropout it was given",
        (("dropout = self.dropout if self.training else 0.0", "dropout = 0.2 if self.training else 0.0"),),
    ),
    Mistake(
        "from-multihead-dropout-from-default",
        "s09_fast_attention",
        "built from_multihead's attention with the lecture's 0.2, not mha's dropout",
        (
            (
                "attention = cls(n_embd, n_head, block_size, mha.dropout.p)",
                "attention = cls(n_embd, n_head, block_size, 0.2)",
            ),
        ),
    ),
    Mistake(
        "attention-written-out-not-fused",
        "s09_fast_attention",
        "wrote the attention out instead of calling F.scaled_dot_product_attention",
        (
            (
                ATTEND,
                "att = (q @ k.transpose(-2, -1)) * (C // self.n_head) ** -0.5\n"
                "        future = torch.ones(T, T, dtype=torch.bool).tril().logical_not()\n"
                "        att = att.masked_fill(future, float('-inf'))\n"
                "        y = F.dropout(att.softmax(-1), dropout, self.training) @ v",
            ),
        ),
        "should call F.scaled_dot_product_attention",
    ),
    Mistake(
        "not-causal",
        "s09_fast_attention",
        "left out is_causal=True",
        (("is_causal=True", "is_causal=False"),),
        "Position 0 changes when later tokens change",
    ),
    Mistake(
        "heads-not-transposed",
        "s09_fast_attention",
        "reshaped (B, T, C) straight to (B, n_head, T, head_size), without the transpose",
        (
            (
                "t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)",
                "t.reshape(B, self.n_head, T, C // self.n_head)",
            ),
        ),
        "although is_causal=True is passed",
    ),
    Mistake(
        "heads-viewed-without-transpose",
        "s09_fast_attention",
        "viewed (B, T, C) straight as (B, n_head, T, head_size), which torch refuses for split outputs",
        (
            (
                "t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)",
                "t.view(B, self.n_head, T, C // self.n_head)",
            ),
        ),
        # a learner's walk-through (2026-12-06) was told to merge the heads back, and tried .reshape
        "so .view can split only their last dim",
        misleading=("y.transpose(1, 2).contiguous().view(B, T, C)",),
    ),
    Mistake(
        "heads-not-joined-back",
        "s09_fast_attention",
        "put the heads side by side without transposing them back",
        ((JOIN, "y = y.contiguous().view(B, T, C)"),),
        "the heads are split or joined wrong",
    ),
    Mistake(
        "split-as-k-q-v",
        "s09_fast_attention",
        "read c_attn's output as k, q, v",
        ((SPLIT, "        k, q, v = self.c_attn(x).split(C, dim=2)\n"),),
        "gives q, k and v in that order",
    ),
    Mistake(
        "scaled-by-n-embd",
        "s09_fast_attention",
        "passed scale=C ** -0.5 to the fused attention",
        ((ATTEND, "y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True, scale=C**-0.5)"),),
        "Leave out scale=",
    ),
    Mistake(
        "keys-before-queries",
        "s09_fast_attention",
        "copied the key weights where the queries go",
        (('("query", "key", "value")', '("key", "query", "value")'),),
        "c_attn.weight stacks",
    ),
    Mistake(
        "weights-stacked-head-by-head",
        "s09_fast_attention",
        "stacked each head's query, key and value weights together, head after head",
        (
            (
                STACK,
                "            weights = [torch.cat([h.query.weight, h.key.weight, h.value.weight]) for h in mha.heads]\n"
                "            attention.c_attn.weight.copy_(torch.cat(weights))\n",
            ),
        ),
        "should hold the heads' query weights",
    ),
    Mistake(
        "c-proj-not-copied",
        "s09_fast_attention",
        "never copied mha.proj into c_proj",
        ((COPY_PROJ, ""),),
        "should be a copy of mha.proj",
    ),
    Mistake(
        "c-proj-bias-not-copied",
        "s09_fast_attention",
        "copied proj's weight but not its bias",
        ((COPY_PROJ, "            attention.c_proj.weight.copy_(mha.proj.weight)\n"),),
        "should be a copy of mha.proj",
    ),
    Mistake(
        "c-proj-skipped",
        "s09_fast_attention",
        "never applied c_proj in forward",
        ((OUTPUT, "return self.resid_dropout(y)"),),
        "The forward never applies c_proj",
    ),
    Mistake(
        "dropout-in-eval-mode",
        "s09_fast_attention",
        "applied attention dropout in eval mode",
        (("dropout = self.dropout if self.training else 0.0", "dropout = self.dropout"),),
        "dropout_p=0",
    ),
    Mistake(
        "no-attention-dropout",
        "s09_fast_attention",
        "never passed dropout_p, so the attention weights are never dropped",
        ((ATTEND, "y = F.scaled_dot_product_attention(q, k, v, is_causal=True)"),),
        "passed dropout_p=0 to scaled_dot_product_attention",
    ),
    Mistake(
        "no-output-dropout",
        "s09_fast_attention",
        "left out the dropout after c_proj",
        ((OUTPUT, "return self.c_proj(y)"),),
        "applied no dropout to the output of its c_proj",
    ),
    Mistake(
        "output-dropout-before-c-proj",
        "s09_fast_attention",
        "applied the output dropout before c_proj",
        ((OUTPUT, "return self.c_proj(self.resid_dropout(y))"),),
        "applies dropout before its c_proj",
    ),
    Mistake(
        "from-multihead-drops-the-dropout",
        "s09_fast_attention",
        "built the fast attention without mha's dropout",
        (
            (
                "attention = cls(n_embd, n_head, block_size, mha.dropout.p)",
                "attention = cls(n_embd, n_head, block_size)",
            ),
        ),
        "build it with mha's dropout",
    ),
    Mistake(
        "c-attn-with-bias",
        "s09_fast_attention",
        "kept a bias on c_attn",
        (("nn.Linear(n_embd, 3 * n_embd, bias=False)", "nn.Linear(n_embd, 3 * n_embd)"),),
        "bias=False",
    ),
    Mistake(
        "no-divisibility-check-in-fast-attention",
        "s09_fast_attention",
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
        "fast-gpt-keeps-the-heads",
        "s09_fast_attention",
        "returned the per-head GPT",
        (("        block.sa = CausalSelfAttention.from_multihead(block.sa)\n", ""),),
        "CausalSelfAttention",
    ),
    Mistake(
        "fast-gpt-with-fresh-attention",
        "s09_fast_attention",
        "gave each block a new CausalSelfAttention instead of converting its heads",
        (
            (
                "block.sa = CausalSelfAttention.from_multihead(block.sa)",
                "block.sa = CausalSelfAttention(config.n_embd, config.n_head, config.block_size, config.dropout)",
            ),
        ),
        "which keeps its weights",
    ),
    # The precision pass's subm9projnobias: nanoGPT's default bias=False, with a from_multihead that copies the
    # bias only where there is one. It used to meet a TypeError raised in the tests' own code.
    Mistake(
        "c-proj-without-bias",
        "s09_fast_attention",
        "made c_proj without a bias, as nanoGPT's bias=False models do",
        (
            (
                "        self.c_proj = nn.Linear(n_embd, n_embd)\n",
                "        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)\n",
            ),
            (
                "            attention.c_proj.load_state_dict(mha.proj.state_dict())\n",
                "            attention.c_proj.weight.copy_(mha.proj.weight)\n",
            ),
        ),
        "with a bias",
    ),
    Mistake(
        "heads-joined-with-view-without-contiguous",
        "s09_fast_attention",
        "merged the heads with .view right after transpose",
        ((JOIN, "y = y.transpose(1, 2).view(B, T, C)"),),
        ".contiguous().view(B, T, C)",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "float-tril-as-attention-mask",
        "s09_fast_attention",
        "passed the lecture's float tril as attn_mask, which is added to the scores",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.forward",
                """
def forward(self, x):
    B, T, C = x.shape
    q, k, v = self.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
    mask = torch.tril(torch.ones(T, T, device=x.device))
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
    return self.resid_dropout(self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C)))
""",
            ),
        ),
        "masks nothing",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "heads-weights-copied-transposed",
        "s09_fast_attention",
        "copied each head's weights transposed, side by side",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.from_multihead",
                """
@classmethod
def from_multihead(cls, mha):
    n_embd, n_head = mha.proj.in_features, len(mha.heads)
    attention = cls(n_embd, n_head, mha.heads[0].tril.shape[0], mha.dropout.p)
    with torch.no_grad():
        q = torch.cat([h.query.weight.T for h in mha.heads], dim=1)
        k = torch.cat([h.key.weight.T for h in mha.heads], dim=1)
        v = torch.cat([h.value.weight.T for h in mha.heads], dim=1)
        attention.c_attn.weight.copy_(torch.cat([q, k, v], dim=0))
        attention.c_proj.load_state_dict(mha.proj.state_dict())
    return attention
""",
            ),
        ),
        "query weights transposed",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "c-proj-copied-transposed",
        "s09_fast_attention",
        "copied mha.proj's weight transposed into c_proj",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.from_multihead",
                """
@classmethod
def from_multihead(cls, mha):
    n_embd, n_head = mha.proj.in_features, len(mha.heads)
    attention = cls(n_embd, n_head, mha.heads[0].tril.shape[0], mha.dropout.p)
    with torch.no_grad():
        for part, name in enumerate(("query", "key", "value")):
            rows = slice(part * n_embd, (part + 1) * n_embd)
            attention.c_attn.weight[rows] = torch.cat([getattr(h, name).weight for h in mha.heads])
        attention.c_proj.weight.copy_(mha.proj.weight.T)
        attention.c_proj.bias.copy_(mha.proj.bias)
    return attention
""",
            ),
        ),
        "transposed: both are nn.Linear weights",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "value-weights-where-the-keys-go",
        "s09_fast_attention",
        "copied the value weights into the rows of the keys",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.from_multihead",
                """
@classmethod
def from_multihead(cls, mha):
    n_embd, n_head = mha.proj.in_features, len(mha.heads)
    attention = cls(n_embd, n_head, mha.heads[0].tril.shape[0], mha.dropout.p)
    q = torch.cat([h.query.weight for h in mha.heads])
    k = torch.cat([h.value.weight for h in mha.heads])
    v = torch.cat([h.value.weight for h in mha.heads])
    with torch.no_grad():
        attention.c_attn.weight.copy_(torch.cat([q, k, v]))
        attention.c_proj.load_state_dict(mha.proj.state_dict())
    return attention
""",
            ),
        ),
        "they hold their value weights",
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Mistake(
        "boolean-causal-mask-instead-of-is-causal",
        "s09_fast_attention",
        "passed a boolean tril as attn_mask instead of is_causal=True",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.forward",
                """
def forward(self, x):
    B, T, C = x.shape
    q, k, v = self.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
    mask = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
    y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
    return self.resid_dropout(self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C)))
""",
            ),
        ),
        "boolean attn_mask",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "from-multihead-counts-heads-by-their-size",
        "s09_fast_attention",
        "took the number of heads from a head's size, mha.heads[0].key.weight.shape[0]",
        (
            (
                "n_embd, n_head = mha.proj.in_features, len(mha.heads)",
                "n_embd, n_head = mha.proj.in_features, mha.heads[0].key.weight.shape[0]",
            ),
        ),
    ),
    # Earlier stages' mistakes that only this stage's suite, run on its own, sees: it must send the learner back to
    # the stage at fault instead of blaming the stacking of c_attn.
    knock_on(named(S06, "head-scaled-by-n-embd"), "s09_fast_attention", "Make `pytest -m s06_attention` pass first"),
    knock_on(
        named(S07, "multihead-without-projection"), "s09_fast_attention", "Make `pytest -m s07_transformer` pass first"
    ),
]

VARIANTS = [
    # Source: huggingface/pytorch-image-models, vision_transformer.py Attention.forward, re-expressed in the kata's
    # API (the sixth precision pass, 2026-12-06).
    Variant(
        "heads-by-reshape-and-permute-like-timm",
        "s09_fast_attention",
        "splits q, k and v with one reshape and permute, as timm's Attention does",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.forward",
                """
def forward(self, x):
    B, T, C = x.shape
    qkv = self.c_attn(x).view(B, T, 3, self.n_head, C // self.n_head).permute(2, 0, 3, 1, 4)
    q, k, v = qkv[0], qkv[1], qkv[2]  # each (B, nh, T, hs)
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0, is_causal=True)
    y = y.permute(0, 2, 1, 3).flatten(start_dim=2)
    return self.resid_dropout(self.c_proj(y))
""",
            ),
        ),
    ),
    Variant(
        "fused-reshape-with-permute",
        "s09_fast_attention",
        "reshapes with permute and reshape",
        (
            (HEADS, "        q, k, v = [t.reshape(B, T, self.n_head, -1).permute(0, 2, 1, 3) for t in (q, k, v)]\n"),
            (
                "        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again",
                "        y = y.permute(0, 2, 1, 3).reshape(B, T, C)",
            ),
        ),
    ),
    # Source: karpathy/nanoGPT model.py, CausalSelfAttention.forward: one view and transpose per tensor, the
    # dropout rate chosen inline, attn_mask=None spelled out.
    Variant(
        "heads-split-one-by-one",
        "s09_fast_attention",
        "splits k, q and v into heads one line each, as nanoGPT does",
        (
            (
                HEADS,
                "        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)\n"
                "        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)\n"
                "        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)\n",
            ),
            (
                ATTEND,
                "y = F.scaled_dot_product_attention(\n            q, k, v, attn_mask=None, "
                "dropout_p=self.dropout if self.training else 0, is_causal=True\n        )",
            ),
        ),
    ),
    Variant(
        "fused-attention-with-positional-arguments",
        "s09_fast_attention",
        "passes attn_mask, dropout_p and is_causal by position",
        ((ATTEND, "y = F.scaled_dot_product_attention(q, k, v, None, dropout, True)"),),
    ),
    # Source: karpathy/nanochat's attention (the precision pass's sub9gqa), which passes enable_gqa; the grader's
    # own attention once refused the keyword and scored this 0.
    Variant(
        "fused-attention-with-enable-gqa",
        "s09_fast_attention",
        "passes enable_gqa=False, as nanochat does",
        ((ATTEND, "y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True, enable_gqa=False)"),),
    ),
    Variant(
        "split-with-chunk-and-unflatten",
        "s09_fast_attention",
        "splits with chunk and makes the heads with unflatten",
        (
            (SPLIT, "        q, k, v = self.c_attn(x).chunk(3, dim=-1)\n"),
            (HEADS, "        q, k, v = (t.unflatten(-1, (self.n_head, -1)).transpose(1, 2) for t in (q, k, v))\n"),
            (JOIN, "y = y.transpose(1, 2).flatten(2)"),
        ),
    ),
    Variant(
        "weights-copied-in-one-go",
        "s09_fast_attention",
        "stacks all weights in one torch.cat and copies proj's weight and bias by hand",
        (
            (
                STACK,
                "            stacked = [getattr(head, name).weight for name in ('query', 'key', 'value') "
                "for head in mha.heads]\n            attention.c_attn.weight.copy_(torch.cat(stacked))\n",
            ),
            (
                COPY_PROJ,
                "            attention.c_proj.weight.copy_(mha.proj.weight)\n"
                "            attention.c_proj.bias.copy_(mha.proj.bias)\n",
            ),
        ),
    ),
    Variant(
        "fast-gpt-rebuilds-the-blocks",
        "s09_fast_attention",
        "swaps the attention of each block with setattr",
        (
            (
                "        block.sa = CausalSelfAttention.from_multihead(block.sa)\n",
                '        setattr(block, "sa", CausalSelfAttention.from_multihead(getattr(block, "sa")))\n',
            ),
        ),
    ),
    # The precision pass's sub9import: a recorder that patched the attribute once counted no fused call here.
    Variant(
        "fused-attention-imported-by-name",
        "s09_fast_attention",
        "calls scaled_dot_product_attention imported by name",
        (
            (
                "from torch.nn import functional as F\n",
                "from torch.nn import functional as F\nfrom torch.nn.functional import scaled_dot_product_attention\n",
            ),
            (ATTEND, "y = scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)"),
        ),
    ),
    # Source: karpathy/nanoGPT model.py CausalSelfAttention (the eighth precision pass, 2026-12-06).
    Variant(
        "nanogpt-causal-self-attention",
        "s09_fast_attention",
        "is nanoGPT's CausalSelfAttention, with its flash flag and attn_dropout",
        (
            ("import torch\n", "import torch\nimport math\n"),
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.__init__",
                """
def __init__(self, n_embd, n_head, block_size, dropout=0.0):
    super().__init__()
    if n_embd % n_head != 0:
        raise ValueError("n_embd must be divisible by n_head")
    # key, query, value projections for all heads, but in a batch
    self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
    # output projection
    self.c_proj = nn.Linear(n_embd, n_embd)
    # regularization
    self.attn_dropout = nn.Dropout(dropout)
    self.resid_dropout = nn.Dropout(dropout)
    self.n_head = n_head
    self.n_embd = n_embd
    self.dropout = dropout
    # flash attention make GPU go brrrrr but support is only in PyTorch >= 2.0
    self.flash = hasattr(torch.nn.functional, 'scaled_dot_product_attention')
    if not self.flash:
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size)).view(1, 1, block_size, block_size))
""",
            ),
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.forward",
                """
def forward(self, x):
    B, T, C = x.size()  # batch size, sequence length, embedding dimensionality (n_embd)
    q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
    k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
    q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
    v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
    if self.flash:
        y = torch.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0, is_causal=True
        )
    else:
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v
    y = y.transpose(1, 2).contiguous().view(B, T, C)
    y = self.resid_dropout(self.c_proj(y))
    return y
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "dropout-rate-times-training",
        "s09_fast_attention",
        "passes dropout_p=self.dropout * self.training",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.forward",
                """
def forward(self, x):
    B, T, C = x.shape
    q, k, v = self.c_attn(x).split(C, dim=2)
    q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
    y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout * self.training, is_causal=True)
    return self.resid_dropout(self.c_proj(y.transpose(1, 2).reshape(B, T, C)))
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "from-multihead-shares-proj",
        "s09_fast_attention",
        "takes mha.proj itself as c_proj and sets c_attn's weight through .data",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.from_multihead",
                """
@classmethod
def from_multihead(cls, mha):
    n_embd = mha.proj.weight.shape[0]
    attention = cls(n_embd, len(mha.heads), mha.heads[0].tril.shape[0], mha.dropout.p)
    weights = [getattr(h, name).weight for name in ("query", "key", "value") for h in mha.heads]
    attention.c_attn.weight.data = torch.cat(weights).clone()
    attention.c_proj = mha.proj
    return attention
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "fast-gpt-replaces-by-name",
        "s09_fast_attention",
        "finds the attentions and layer norms by named_modules and sets each new one with setattr on its parent",
        (
            replaced(
                "s09_fast_attention",
                "fast_gpt",
                """
def fast_gpt(config):
    model = GPTLanguageModel(config)
    for name, module in list(model.named_modules()):
        parent, _, attribute = name.rpartition(".")
        if isinstance(module, MultiHeadAttention):
            setattr(model.get_submodule(parent), attribute, CausalSelfAttention.from_multihead(module))
        elif type(module).__name__ == "LayerNorm":
            fused = nn.LayerNorm(module.weight.shape, eps=module.eps)
            fused.load_state_dict(module.state_dict())
            setattr(model.get_submodule(parent), attribute, fused)
    return model
""",
            ),
        ),
    ),
    # Source: the eighth precision pass, 2026-12-06.
    Variant(
        "in-place-output-dropout",
        "s09_fast_attention",
        "drops c_proj's output with nn.Dropout(inplace=True)",
        (
            replaced(
                "s09_fast_attention",
                "CausalSelfAttention.__init__",
                """
def __init__(self, n_embd, n_head, block_size, dropout=0.0):
    super().__init__()
    if n_embd % n_head != 0:
        raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
    self.n_head = n_head
    self.dropout = dropout
    self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)
    self.c_proj = nn.Linear(n_embd, n_embd)
    self.resid_dropout = nn.Dropout(dropout, inplace=True)
""",
            ),
        ),
    ),
    # Its output projection through F.linear with c_proj's own parameters: the tests looked only for a call of
    # c_proj and said it "never called its c_proj".
    Variant(
        "c-proj-through-f-linear",
        "s09_fast_attention",
        "projects with F.linear(y, self.c_proj.weight, self.c_proj.bias) instead of calling self.c_proj",
        ((OUTPUT, "return self.resid_dropout(F.linear(y, self.c_proj.weight, self.c_proj.bias))"),),
    ),
    # Its output projected and dropped time-major, (T, B, C): the grader's dropout drew another mask for it.
    Variant(
        "c-proj-time-major",
        "s09_fast_attention",
        "projects and drops its output laid out time-major, (T, B, C), and gives back (B, T, C)",
        ((OUTPUT, "return self.resid_dropout(self.c_proj(y.transpose(0, 1))).transpose(0, 1)"),),
    ),
    # Source: my last note's list (2026-12-07): a layer's weight multiplied by hand was not seen as the layer.
    Variant(
        "c-proj-by-hand",
        "s09_fast_attention",
        "projects with y @ self.c_proj.weight.T + self.c_proj.bias instead of calling self.c_proj",
        ((OUTPUT, "return self.resid_dropout(y @ self.c_proj.weight.T + self.c_proj.bias)"),),
    ),
    # Norms made afresh rather than copied: fast_gpt builds a fresh model, whose norms hold ones and zeros.
    Variant(
        "fast-gpt-fresh-torch-norms",
        "s09_fast_attention",
        "gives each block and ln_f a new nn.LayerNorm(config.n_embd) without copying the weights",
        (
            (NORMS, "        block.ln1, block.ln2 = nn.LayerNorm(config.n_embd), nn.LayerNorm(config.n_embd)\n"),
            (LN_F, "    model.ln_f = nn.LayerNorm(config.n_embd)\n"),
        ),
    ),
    # A norm of its own that calls torch.layer_norm, bound over each written-out norm's forward.
    Variant(
        "fast-gpt-norm-forward-through-torch-layer-norm",
        "s09_fast_attention",
        "keeps stage 7's LayerNorm modules and makes each forward call torch.layer_norm with its weight and bias",
        (
            (
                NORMS,
                "        for norm in (block.ln1, block.ln2):\n"
                "            norm.forward = lambda x, n=norm: torch.layer_norm(\n"
                "                x, n.weight.shape, n.weight, n.bias, n.eps\n"
                "            )\n",
            ),
            (
                LN_F,
                "    norm = model.ln_f\n"
                "    norm.forward = lambda x: torch.layer_norm(\n"
                "        x, norm.weight.shape, norm.weight, norm.bias, norm.eps\n"
                "    )\n",
            ),
        ),
    ),
    # torch's kernel reached without torch.nn.functional, which a torch function mode does not see: its autograd
    # node shows it.
    Variant(
        "fused-layer-norm-through-native-layer-norm",
        "s09_fast_attention",
        "makes its fused layer norm a module that calls torch.native_layer_norm",
        (
            (
                "def _fused_layer_norm(norm: nn.Module) -> nn.LayerNorm:\n",
                "class NativeLayerNorm(nn.LayerNorm):\n"
                "    def forward(self, x):\n"
                "        shape = self.normalized_shape\n"
                "        return torch.native_layer_norm(x, shape, self.weight, self.bias, self.eps)[0]\n"
                "\n\n"
                "def _fused_layer_norm(norm: nn.Module) -> nn.LayerNorm:\n",
            ),
            (
                "    fused = nn.LayerNorm(norm.weight.shape[0])\n",
                "    fused = NativeLayerNorm(norm.weight.shape[0])\n",
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-07: stage 7's accepted eps buffer, in the state_dict that stage 9's
    # hint then loaded into nn.LayerNorm ("Unexpected key(s) in state_dict: eps"), cost 20 tests of stages 9 and 10.
    Variant(
        "layernorm-eps-buffer-through-fast-gpt",
        "s07_transformer",
        "keeps eps as a float32 tensor buffer, which fast_gpt's norms then replace",
        (("        self.eps = eps\n", '        self.register_buffer("eps", torch.tensor(eps))\n'),),
        graded_stage="s09_fast_attention",
    ),
]
