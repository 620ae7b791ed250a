"""Helpers shared by the stage tests: the tests' own tokenizer, model and batches, and seeding.

Inputs that come from an earlier stage (the vocabulary, the encoded corpus, batches, a model to
train) are built with this code, never by the graded implementation, so each stage is graded on
its own: a learner stuck on stage 2 can still be graded on stage 5.
"""

import contextlib
import shutil
from pathlib import Path

import torch
from torch import nn

from kata.manifest import REPOSITORY_ROOT


@contextlib.contextmanager
def fixed_seed(seed: int):
    """Seed torch's global generator for the block, and leave it as it was afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


class ReferenceTokenizer:
    """The tests' own character tokenizer (stage 1 is graded separately)."""

    def __init__(self, vocabulary):
        self.vocabulary = list(vocabulary)
        self.vocab_size = len(self.vocabulary)
        self.lookup = {char: index for index, char in enumerate(self.vocabulary)}

    def encode(self, text):
        return [self.lookup[char] for char in text]

    def decode(self, ids):
        return "".join(self.vocabulary[int(i)] for i in ids)


class TableBigram(nn.Module):
    """The tests' own bigram model, for stages that train or evaluate a model (stage 3 is graded separately)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.token_embedding_table(idx)
        if targets is None:
            return logits, None
        return logits, nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())


def lecture_get_batch(data, batch_size, block_size, generator=None):
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    x = torch.stack([data[i : i + block_size] for i in ix])
    y = torch.stack([data[i + 1 : i + block_size + 1] for i in ix])
    return x, y


def solve(folder: Path, stage_name: str) -> None:
    """Put the reference of `stage_name` into a learner's folder (for the runner's tests)."""
    shutil.copy(REPOSITORY_ROOT / "solutions" / f"{stage_name}.py", folder / f"{stage_name}.py")
