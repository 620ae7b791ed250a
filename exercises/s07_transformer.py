"""Stage 7 · The transformer block.

Lecture: "multi-headed self-attention" (1:21:59), "feedforward layers" (1:24:25), "residual
connections" (1:26:48), "layernorm" (1:32:51), "adding dropout" (1:37:49).

A block is communication (attention over the past) then computation (a small network per token).
Each works on a normalised copy of the stream and adds its result back to it: the residual path
lets gradients flow straight from the loss to the first layers.

This stage builds on your Head from stage 6.

Beyond the lecture: MultiHeadAttention raises ValueError when n_head does not divide n_embd (the
lecture never checks), and LayerNorm is yours, written out: the video's gpt.py uses nn.LayerNorm,
and its LayerNorm1d names the parameters gamma and beta and takes the unbiased variance over dim 1.
Dropout goes where the lecture puts it: on each head's weights, and last in each sublayer.

Check it with `.venv/bin/kata check s07_transformer` (or `.venv/bin/pytest -m s07_transformer`) from the kata's
folder; `.venv/bin/kata hint s07_transformer` gives a hint.
"""

import torch
import torch.nn as nn
from s06_attention import Head  # noqa: F401  (yours: stages import each other by file name)


class MultiHeadAttention(nn.Module):
    """n_head Heads of size n_embd // n_head, run in parallel and concatenated on the last dim,
    then a projection `proj` = nn.Linear(n_embd, n_embd) and dropout: (B, T, n_embd) -> (B, T, n_embd).

    Attributes: `heads` (an nn.ModuleList of n_head distinct Heads, each given `dropout`), `proj`,
    `dropout` (nn.Dropout, applied to proj's output: dropout(proj(cat))).
    Raise ValueError when n_embd is not divisible by n_head.
    """

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        raise NotImplementedError("stage s07_transformer: MultiHeadAttention.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("stage s07_transformer: MultiHeadAttention.forward")


class FeedForward(nn.Module):
    """`net` = nn.Sequential(Linear(n_embd, 4 * n_embd), ReLU, Linear(4 * n_embd, n_embd), Dropout):
    the dropout comes last, after the second Linear."""

    def __init__(self, n_embd: int, dropout: float = 0.0):
        super().__init__()
        raise NotImplementedError("stage s07_transformer: FeedForward.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("stage s07_transformer: FeedForward.forward")


class LayerNorm(nn.Module):
    """Layer normalisation over the last dimension, written from scratch (neither nn.LayerNorm
    nor F.layer_norm):

        (x - mean) / sqrt(var + eps) * weight + bias,   mean and var over dim -1

    with the biased variance (unbiased=False), `weight` an nn.Parameter of ones(dim) and `bias`
    an nn.Parameter of zeros(dim), under exactly these names (as nn.LayerNorm has them; not gamma
    and beta). Must match nn.LayerNorm(dim, eps) on any shape and dtype.
    """

    def __init__(self, dim: int, eps: float = 1e-5):
        super().__init__()
        raise NotImplementedError("stage s07_transformer: LayerNorm.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("stage s07_transformer: LayerNorm.forward")


class Block(nn.Module):
    """Pre-norm transformer block with attributes `sa` (MultiHeadAttention), `ffwd` (FeedForward),
    `ln1` and `ln2` (LayerNorm), both sublayers given `dropout`:

        x = x + sa(ln1(x));  x = x + ffwd(ln2(x))
    """

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float = 0.0):
        super().__init__()
        raise NotImplementedError("stage s07_transformer: Block.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("stage s07_transformer: Block.forward")
