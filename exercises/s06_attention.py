"""Stage 6 · Self-attention.

Lecture: "version 4: self-attention" (1:02:00) and "note 6: scaled self-attention" (1:16:56).

Version 3 of stage 5 gave every past token the same weight. Self-attention lets the data decide:
every token emits a query (what am I looking for?) and a key (what do I contain?). The dot product
of a query with the keys says how much each past token matters; masked so that no token sees the
future, softmaxed so each row sums to 1, these weights mix the tokens' values.

Shapes: B = batch, T = time (T <= block_size), C = n_embd, hs = head_size.

Beyond the lecture: `attention_weights` is the head's weights as a function of its own, and the
scale is head_size ** -0.5 (k.shape[-1] ** -0.5, as in the lecture's final gpt.py), not C ** -0.5 as
the video first wrote it: C is n_embd, the width of x, not of a head.

Check it with `.venv/bin/kata check s06_attention` (or `.venv/bin/pytest -m s06_attention`) from the kata's
folder; `.venv/bin/kata hint s06_attention` gives a hint.
"""

import torch
import torch.nn as nn
from torch.nn import functional as F  # noqa: F401  (the lecture's F.softmax, F.cross_entropy, ...)


def attention_weights(q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    """Return the (B, T, T) causal attention weights for queries and keys of shape (B, T, hs):

        softmax over the last dim of  (q @ k^T) * hs**-0.5,  with -inf above the diagonal.

    Row t is zero after column t and sums to 1. The scaling keeps the affinities' variance near 1
    for unit-variance q and k, so the softmax does not saturate towards one-hot. Make the mask on q's
    device (device=q.device), so the same code runs on a GPU.
    """
    raise NotImplementedError("stage s06_attention: attention_weights")


class Head(nn.Module):
    """One head of causal self-attention: (B, T, n_embd) -> (B, T, head_size), for any T <= block_size."""

    def __init__(self, n_embd: int, head_size: int, block_size: int, dropout: float = 0.0):
        """Create `key`, `query` and `value` as nn.Linear(n_embd, head_size, bias=False), a buffer
        `tril` = torch.tril(torch.ones(block_size, block_size)) (self.register_buffer, not a plain
        attribute), and `dropout` = nn.Dropout(dropout)."""
        super().__init__()
        raise NotImplementedError("stage s06_attention: Head.__init__")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """k, q, v from x; weights as in attention_weights (mask with self.tril[:T, :T]); dropout
        on the weights, after the softmax (not on the output); return weights @ v."""
        raise NotImplementedError("stage s06_attention: Head.forward")
