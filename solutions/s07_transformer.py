"""Stage 7 · The transformer block (reference).

Lecture: "multi-headed self-attention" (1:21:59), "feedforward layers" (1:24:25), "residual
connections" (1:26:48), "layernorm" (1:32:51), "adding dropout" (1:37:49).
Communication (attention) then computation (feed-forward), each on a normalised copy of the
stream and added back to it, so gradients flow straight through the residual path.
"""

import torch
import torch.nn as nn
from s06_attention import Head


class MultiHeadAttention(nn.Module):
    """n_head heads of size n_embd // n_head in parallel, concatenated, then projected."""

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        if n_embd % n_head != 0:
            raise ValueError(f"n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        head_size = n_embd // n_head
        self.heads = nn.ModuleList([Head(n_embd, head_size, block_size, dropout) for _ in range(n_head)])
        self.proj = nn.Linear(n_embd, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([head(x) for head in self.heads], dim=-1)
        return self.dropout(self.proj(out))


class FeedForward(nn.Module):
    """Each token thinks on its own about what it gathered: widen 4x, ReLU, project back."""

    def __init__(self, n_embd: int, dropout: float = 0.0):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.ReLU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class LayerNorm(nn.Module):
    """Normalise each token's features to zero mean and unit variance, then scale and shift."""

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        centered = x - x.mean(-1, keepdim=True)
        # The biased variance, from the centred values: the same as x.var(-1, keepdim=True, unbiased=False),
        # which on a CPU takes several times as long (about 0.6 ms of a 1 ms layer norm at the gpt-cpu size).
        var = (centered * centered).mean(-1, keepdim=True)
        return centered * torch.rsqrt(var + self.eps) * self.weight + self.bias


class Block(nn.Module):
    """Pre-norm transformer block: x + sa(ln1(x)), then x + ffwd(ln2(x))."""

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        self.sa = MultiHeadAttention(n_embd, n_head, block_size, dropout)
        self.ffwd = FeedForward(n_embd, dropout)
        self.ln1 = LayerNorm(n_embd)
        self.ln2 = LayerNorm(n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x
