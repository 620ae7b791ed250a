"""Fixtures shared by the stage tests.

Inputs that come from an earlier stage (the vocabulary, the encoded corpus, batches) are built
here with the tests' own code, never by the graded implementation, so each stage is graded on
its own: a learner stuck on stage 2 can still be graded on stage 5.
"""

import contextlib

import pytest
import torch
from torch import nn

from kata.corpus import load_corpus


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


@pytest.fixture(scope="session")
def corpus() -> str:
    return load_corpus()


@pytest.fixture(scope="session")
def corpus_vocabulary(corpus) -> list[str]:
    return sorted(set(corpus))


@pytest.fixture(scope="session")
def corpus_tokenizer(corpus_vocabulary) -> ReferenceTokenizer:
    return ReferenceTokenizer(corpus_vocabulary)


@pytest.fixture(scope="session")
def corpus_ids(corpus, corpus_vocabulary) -> torch.Tensor:
    """The encoded corpus, 1-D int64. The corpus is ASCII, so a byte lookup table encodes it fast."""
    table = torch.zeros(256, dtype=torch.long)
    for index, char in enumerate(corpus_vocabulary):
        table[ord(char)] = index
    return table[torch.frombuffer(bytearray(corpus.encode("ascii")), dtype=torch.uint8).long()]


@pytest.fixture(scope="session")
def train_ids(corpus_ids) -> torch.Tensor:
    return corpus_ids[: int(0.9 * len(corpus_ids))]


@pytest.fixture(scope="session")
def val_ids(corpus_ids) -> torch.Tensor:
    return corpus_ids[int(0.9 * len(corpus_ids)) :]


@pytest.fixture(scope="session")
def lecture_batch(train_ids):
    """The lecture's first batch: seed 1337, batch 4, block 8, from the training split."""
    return lecture_get_batch(train_ids, 4, 8, generator=torch.Generator().manual_seed(1337))
