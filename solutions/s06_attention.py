"""Stage 6 · Self-attention (reference).

Lecture: "version 4: self-attention" (1:02:00) and "note 6: scaled self-attention" (1:16:56).
Version 3 gave every past token the same weight. Self-attention lets the data decide: each token
emits a query (what am I looking for?) and a key (what do I contain?); their dot products become
the weights, still masked so no token sees the future, and the tokens exchange values.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F


def attention_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """(B, T, hs) queries and keys -> (B, T, T) causal attention weights, each row summing to 1."""
    T, head_size = q.shape[-2], k.shape[-1]
    # Scaling by 1/sqrt(head_size) keeps the affinities' variance near 1, so the softmax stays
    # diffuse at initialisation instead of saturating towards one-hot.
    wei = q @ k.transpose(-2, -1) * head_size**-0.5
    tril = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))
    wei = wei.masked_fill(~tril, float("-inf"))
    return F.softmax(wei, dim=-1)


class Head(nn.Module):
    """One head of causal self-attention: (B, T, n_embd) -> (B, T, head_size)."""

    def __init__(self, n_embd: int, head_size: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        # Not a parameter: a fixed mask, saved with the model and moved with .to(device).
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        k = self.key(x)  # (B, T, hs)
        q = self.query(x)  # (B, T, hs)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        v = self.value(x)  # (B, T, hs)
        return wei @ v
