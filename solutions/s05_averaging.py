"""Stage 5 · The averaging trick behind self-attention (reference).

Lecture: "the mathematical trick in self-attention" (42:13), versions 1 to 3. Each token gets the
mean of itself and every token before it (never after): the weakest form of communication, and
the shape self-attention will keep while learning the weights instead of fixing them.
"""

import torch
from torch.nn import functional as F


def average_loops(x: torch.Tensor) -> torch.Tensor:
    """Version 1: out[b, t] = mean of x[b, 0..t], with plain loops."""
    B, T, C = x.shape
    xbow = torch.zeros_like(x)
    for b in range(B):
        for t in range(T):
            xprev = x[b, : t + 1]  # (t+1, C)
            xbow[b, t] = torch.mean(xprev, 0)
    return xbow


def tril_average_weights(T: int) -> torch.Tensor:
    """Version 2's (T, T) weights: row t spreads 1 evenly over columns 0..t."""
    wei = torch.tril(torch.ones(T, T))
    return wei / wei.sum(1, keepdim=True)


def average_matmul(x: torch.Tensor) -> torch.Tensor:
    """Version 2: the same averages as one matrix multiply, (T, T) @ (B, T, C) -> (B, T, C)."""
    wei = tril_average_weights(x.shape[1]).to(x)
    return wei @ x


def softmax_average_weights(T: int) -> torch.Tensor:
    """Version 3's (T, T) weights: zero affinities, -inf for the future, softmax along each row."""
    tril = torch.tril(torch.ones(T, T))
    wei = torch.zeros((T, T))
    wei = wei.masked_fill(tril == 0, float("-inf"))
    return F.softmax(wei, dim=-1)


def average_softmax(x: torch.Tensor) -> torch.Tensor:
    """Version 3: the weights self-attention will use, here with every affinity equal."""
    wei = softmax_average_weights(x.shape[1]).to(x)
    return wei @ x
