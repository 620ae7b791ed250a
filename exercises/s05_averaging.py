"""Stage 5 · The averaging trick behind self-attention.

Lecture: "the mathematical trick in self-attention" (42:13), versions 1 to 3.

Tokens should talk to the tokens before them, never to those after (those are what we predict).
The weakest way to talk: each position takes the mean of itself and everything before it,

    out[b, t] = mean(x[b, 0], x[b, 1], ..., x[b, t])

for x of shape (B, T, C). Three versions compute the same thing; the output has the input's shape
and dtype. Version 3 is the form self-attention keeps, with learned weights instead of equal ones.

Check it with `.venv/bin/kata check s05_averaging` (or `.venv/bin/pytest -m s05_averaging`) from the kata's
folder; `.venv/bin/kata hint s05_averaging` gives a hint.
"""

import torch
from torch.nn import functional as F  # noqa: F401  (the lecture's F.softmax, F.cross_entropy, ...)


def average_loops(x: torch.Tensor) -> torch.Tensor:
    """Version 1: loop over b and t, out[b, t] = x[b, :t+1].mean(0)."""
    raise NotImplementedError("stage s05_averaging: average_loops")


def tril_average_weights(T: int) -> torch.Tensor:
    """Version 2's (T, T) float weights: torch.tril(torch.ones(T, T)) with each row divided by its sum.

    tril_average_weights(3) == [[1, 0, 0], [1/2, 1/2, 0], [1/3, 1/3, 1/3]]
    """
    raise NotImplementedError("stage s05_averaging: tril_average_weights")


def average_matmul(x: torch.Tensor) -> torch.Tensor:
    """Version 2: tril_average_weights(T) @ x, one matrix multiply broadcast over the batch."""
    raise NotImplementedError("stage s05_averaging: average_matmul")


def softmax_average_weights(T: int) -> torch.Tensor:
    """Version 3's (T, T) weights: zeros, set to -inf above the diagonal (masked_fill where
    tril == 0), then softmax along each row. Equal to version 2's weights."""
    raise NotImplementedError("stage s05_averaging: softmax_average_weights")


def average_softmax(x: torch.Tensor) -> torch.Tensor:
    """Version 3: softmax_average_weights(T) @ x."""
    raise NotImplementedError("stage s05_averaging: average_softmax")
