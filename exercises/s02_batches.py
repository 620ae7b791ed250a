"""Stage 2 · Encoded corpus and batches.

Lecture: "data loader: batches of chunks of data" (14:27).

A transformer never reads the whole text at once. It trains on chunks of block_size + 1 tokens,
and one chunk holds block_size examples: the context data[:t+1] predicts the next token data[t+1],
for every t. Many chunks, drawn at random places, are stacked into a batch of shape
(batch_size, block_size).

Check it with `.venv/bin/kata check s02_batches` (or `.venv/bin/pytest -m s02_batches`) from the kata's
folder; `.venv/bin/kata hint s02_batches` gives a hint.
"""

import torch


def encode_text(text: str, tokenizer) -> torch.Tensor:
    """Return `tokenizer.encode(text)` as a 1-D tensor of dtype torch.long (int64).

    On the corpus: shape (1115394,), starting [18, 47, 56, 57, 58, 1, 15, 47, 58, 47] ("First Citi").
    """
    raise NotImplementedError("stage s02_batches: encode_text")


def train_val_split(data: torch.Tensor, train_fraction: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (train, val): the first n = int(train_fraction * len(data)) tokens, and the rest.

    On the corpus: 1,003,854 training and 111,540 validation tokens.
    Raise ValueError unless 0 < train_fraction < 1.
    """
    raise NotImplementedError("stage s02_batches: train_val_split")


def context_target_pairs(data: torch.Tensor, block_size: int) -> list[tuple[torch.Tensor, int]]:
    """Return the block_size examples in the first block_size + 1 tokens of `data`:

        [(data[:1], int(data[1])), (data[:2], int(data[2])), ..., (data[:block_size], int(data[block_size]))]

    Raise ValueError when block_size < 1 or data has fewer than block_size + 1 tokens.
    """
    raise NotImplementedError("stage s02_batches: context_target_pairs")


def get_batch(
    data: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (x, y), both int64 of shape (batch_size, block_size).

    Draw the start of each window exactly as the lecture does:
        ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x[b] is the window data[ix[b] : ix[b] + block_size]; y is the same window one token later, so
    y[b, t] is the token that follows x[b, :t+1]. Every window, the very last one included, can be drawn.
    With torch.Generator().manual_seed(1337), batch 4, block 8, on the training split,
    x[0] is [24, 43, 58, 5, 57, 1, 46, 43]: the lecture's first batch.

    Raise ValueError when batch_size or block_size < 1, or data has fewer than block_size + 1 tokens.
    """
    raise NotImplementedError("stage s02_batches: get_batch")
