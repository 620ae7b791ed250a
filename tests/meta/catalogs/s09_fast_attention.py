"""Stage 9 · Fast batched attention: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant

MISTAKES = [
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
        "reshaped to heads without moving them before T",
        (
            (
                "t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)",
                "t.view(B, self.n_head, T, C // self.n_head)",
            ),
        ),
    ),
    Mistake(
        "keys-before-queries",
        "s09_fast_attention",
        "copied the key weights where the queries go",
        (('("query", "key", "value")', '("key", "query", "value")'),),
        "c_attn.weight stacks",
    ),
    Mistake(
        "dropout-in-eval-mode",
        "s09_fast_attention",
        "applied attention dropout in eval mode",
        (("dropout = self.dropout if self.training else 0.0", "dropout = self.dropout"),),
        "dropout_p=0",
    ),
    Mistake(
        "c-attn-with-bias",
        "s09_fast_attention",
        "kept a bias on c_attn",
        (("nn.Linear(n_embd, 3 * n_embd, bias=False)", "nn.Linear(n_embd, 3 * n_embd)"),),
        "bias=False",
    ),
    Mistake(
        "fast-gpt-keeps-the-heads",
        "s09_fast_attention",
        "returned the per-head GPT",
        (("    for block in model.blocks:\n        block.sa = CausalSelfAttention.from_multihead(block.sa)\n", ""),),
        "CausalSelfAttention",
    ),
]

VARIANTS = [
    Variant(
        "fused-reshape-with-permute",
        "s09_fast_attention",
        "reshapes with permute and reshape",
        (
            (
                "        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))",
                "        q, k, v = [t.reshape(B, T, self.n_head, -1).permute(0, 2, 1, 3) for t in (q, k, v)]",
            ),
            (
                "        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again",
                "        y = y.permute(0, 2, 1, 3).reshape(B, T, C)",
            ),
        ),
    ),
]
