"""Fixtures shared by the stage tests (the helpers they use live in support.py)."""

import pytest
import torch
from support import ReferenceTokenizer, lecture_get_batch

from kata.corpus import load_corpus


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
