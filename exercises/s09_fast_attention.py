"""Stage 9 · Fast attention, the way production code does it.

Stage 7 computes the heads one after another, each with three small matrix products. Production
code (nanoGPT, GPT-2) makes q, k and v for every head with one projection, treats the heads as a
batch dimension, and lets torch.nn.functional.scaled_dot_product_attention do the scaling, the
causal mask and the softmax in one fused call; and it normalises with torch's nn.LayerNorm, one
fused kernel where stage 7's LayerNorm, written out, takes seven operations. Same function, much
faster.

This stage builds on your MultiHeadAttention (stage 7) and GPT (stage 8). Where those compute
something other than standard attention (a Head scaled by n_embd ** -0.5, say), no correct fast
attention can match them, and the tests say which stage to fix first.

Beyond nanoGPT's CausalSelfAttention: c_attn has no bias (the heads have none), and the constructor
raises ValueError, where nanoGPT asserts, when n_head does not divide n_embd.

Check it with `.venv/bin/kata check s09_fast_attention` (or `.venv/bin/pytest -m s09_fast_attention`) from the kata's
folder; `.venv/bin/kata hint s09_fast_attention` gives a hint.
"""

import torch
import torch.nn as nn
from s07_transformer import MultiHeadAttention
from s08_gpt import GPTConfig, GPTLanguageModel
from torch.nn import functional as F  # noqa: F401  (the lecture's F.softmax, F.cross_entropy, ...)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention, batched: (B, T, n_embd) -> (B, T, n_embd).

    Attributes: `c_attn` = nn.Linear(n_embd, 3 * n_embd, bias=False), whose output splits into
    q, k, v (in that order, each n_embd wide, head after head inside each); `c_proj` =
    nn.Linear(n_embd, n_embd); and dropout. Raise ValueError when n_embd % n_head != 0.
    """

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        raise NotImplementedError("stage s09_fast_attention: CausalSelfAttention.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Split c_attn(x) into q, k, v; reshape each (B, T, C) -> (B, T, n_head, C // n_head) and
        transpose to (B, n_head, T, C // n_head); F.scaled_dot_product_attention(q, k, v,
        dropout_p=..., is_causal=True); put the heads side by side again (B, T, C); then c_proj and
        dropout. Use dropout only in training mode: dropout_p is the constructor's dropout there."""
        raise NotImplementedError("stage s09_fast_attention: CausalSelfAttention.forward")

    @classmethod
    def from_multihead(cls, mha: MultiHeadAttention) -> "CausalSelfAttention":
        """A CausalSelfAttention that computes exactly what `mha` computes, with mha's dropout
        (mha.dropout.p): stack the heads' query weights, then their key weights, then their value
        weights into c_attn.weight, and copy mha.proj into c_proj."""
        raise NotImplementedError("stage s09_fast_attention: CausalSelfAttention.from_multihead")


def fast_gpt(config: GPTConfig) -> GPTLanguageModel:
    """A GPTLanguageModel(config) whose blocks' `sa` are replaced by
    CausalSelfAttention.from_multihead(block.sa), and whose layer norms (each block's ln1 and ln2, and
    the model's ln_f) by torch's nn.LayerNorm(config.n_embd) holding the same weight and bias
    (fused.load_state_dict({"weight": ln.weight, "bias": ln.bias})): the same model, faster.
    `.venv/bin/kata train` uses it."""
    raise NotImplementedError("stage s09_fast_attention: fast_gpt")
