"""Stage 2 · Encoded corpus and batches (reference).

Lecture: "data loader: batches of chunks of data" (14:27). A transformer never sees the whole text
at once: it trains on random chunks of block_size + 1 tokens, many of them stacked into a batch.
"""

import torch


def encode_text(text: str, tokenizer) -> torch.Tensor:
    """The whole text as a 1-D int64 tensor of token ids."""
    return torch.tensor(tokenizer.encode(text), dtype=torch.long)


def train_val_split(data: torch.Tensor, train_fraction: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `train_fraction` of the tokens for training, the rest for validation."""
    if not 0 < train_fraction < 1:
        raise ValueError(f"train_fraction must lie strictly between 0 and 1, got {train_fraction}")
    n = int(train_fraction * len(data))
    return data[:n], data[n:]


def context_target_pairs(data: torch.Tensor, block_size: int) -> list[tuple[torch.Tensor, int]]:
    """The block_size training examples hidden in the first block_size + 1 tokens:
    each context data[:t+1] and the token data[t+1] that follows it."""
    _check_sizes(data, batch_size=1, block_size=block_size)
    x = data[:block_size]
    y = data[1 : block_size + 1]
    return [(x[: t + 1], int(y[t])) for t in range(block_size)]


def get_batch(
    data: torch.Tensor, batch_size: int, block_size: int, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """batch_size random windows of data (x) and the same windows one token later (y)."""
    _check_sizes(data, batch_size, block_size)
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i : i + block_size] for i in ix])
    y = torch.stack([data[i + 1 : i + block_size + 1] for i in ix])
    return x, y


def _check_sizes(data: torch.Tensor, batch_size: int, block_size: int) -> None:
    if batch_size < 1 or block_size < 1:
        raise ValueError(f"batch_size and block_size must be at least 1, got {batch_size} and {block_size}")
    if len(data) < block_size + 1:
        raise ValueError(f"a block of {block_size} needs at least {block_size + 1} tokens, the data has {len(data)}")
