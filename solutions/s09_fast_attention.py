"""Stage 9 · Fast attention, the way production code does it (reference).

The per-head loop of stage 7 computes n_head small matrix products one after another. Here one
projection makes q, k and v for every head at once, the heads become a batch dimension, and
PyTorch's fused scaled_dot_product_attention does the masking, scaling and softmax in one call. The
layer norms, written out in stage 7, become torch's fused nn.LayerNorm, holding the same weights.
"""

import torch
import torch.nn as nn
from s07_transformer import MultiHeadAttention
from s08_gpt import GPTConfig, GPTLanguageModel
from torch.nn import functional as F


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        if n_embd % n_head != 0:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        self.n_head = n_head
        self.block_size = block_size
        self.dropout = dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=False)  # q, k and v of all heads
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.resid_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        # (B, T, C) -> (B, n_head, T, head_size): the heads become a batch dimension.
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        dropout = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout, is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y))

    @classmethod
    def from_multihead(cls, mha: MultiHeadAttention) -> "CausalSelfAttention":
        """The same attention as `mha`, with its weights copied into the fused layout."""
        n_embd, n_head = mha.proj.in_features, len(mha.heads)
        block_size = mha.heads[0].tril.shape[0]
        attention = cls(n_embd, n_head, block_size, mha.dropout.p)
        with torch.no_grad():
            for part, name in enumerate(("query", "key", "value")):
                weights = torch.cat([getattr(head, name).weight for head in mha.heads], dim=0)
                attention.c_attn.weight[part * n_embd : (part + 1) * n_embd] = weights
            attention.c_proj.load_state_dict(mha.proj.state_dict())
        return attention.to(mha.proj.weight.device)


def _fused_layer_norm(norm: nn.Module) -> nn.LayerNorm:
    """torch's nn.LayerNorm holding `norm`'s weight and bias: what stage 7's LayerNorm computes in seven
    operations (and as many in the backward pass), one fused kernel computes. Its eps is the default, 1e-5, with
    which stage 8 builds its norms; the two parameters alone are copied, whatever else a stage 7 norm keeps (an
    eps buffer, say)."""
    fused = nn.LayerNorm(norm.weight.shape[0])
    fused.load_state_dict({"weight": norm.weight, "bias": norm.bias})
    return fused.to(norm.weight.device)


def fast_gpt(config: GPTConfig) -> GPTLanguageModel:
    """A GPT whose blocks attend with CausalSelfAttention and whose layer norms are torch's fused ones; it
    computes what the per-head GPT it starts from computes, only faster."""
    model = GPTLanguageModel(config)
    for block in model.blocks:
        block.sa = CausalSelfAttention.from_multihead(block.sa)
        block.ln1, block.ln2 = _fused_layer_norm(block.ln1), _fused_layer_norm(block.ln2)
    model.ln_f = _fused_layer_norm(model.ln_f)
    return model
