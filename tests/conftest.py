"""Fixtures shared by the stage tests (the helpers they use live in support.py)."""

import pytest
import torch
from support import ReferenceTokenizer, encoded_corpus, lecture_get_batch, vocabulary_of

from kata.corpus import load_corpus
from kata.suite import import_optimizer_machinery


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """The maintainer's tier runs heavy set-ups once per group of tests (`--dist loadgroup`). Where the
    installed pytest-xdist cannot group (pytest-dev/pytest-xdist#1386), say so instead of running them twice."""
    grouping = hasattr(config, "workerinput") and config.getvalue("loadgroup")
    ungrouped = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if grouping and ungrouped:
        raise pytest.UsageError(
            f"pytest-xdist did not group {ungrouped[0]} with its xdist_group: this pytest and pytest-xdist do not "
            "work together (see pyproject.toml's dev extra); install the versions it names: pip install -e '.[dev]'"
        )


@pytest.fixture(scope="session")
def optimizer_machinery() -> None:
    """For the modules whose tests build optimizers: the first one's imports happen in set-up, outside
    every test's time limit."""
    import_optimizer_machinery()


@pytest.fixture(scope="session")
def corpus() -> str:
    return load_corpus()


@pytest.fixture(scope="session")
def corpus_vocabulary(corpus) -> tuple[str, ...]:
    """A tuple: tests hand the learner's code a fresh list of it, so code that changes its argument
    cannot change the vocabulary the references and later tests use."""
    return vocabulary_of(corpus)


@pytest.fixture(scope="session")
def corpus_tokenizer(corpus_vocabulary) -> ReferenceTokenizer:
    return ReferenceTokenizer(corpus_vocabulary)


@pytest.fixture(scope="session")
def corpus_ids(corpus) -> torch.Tensor:
    """The encoded corpus, 1-D int64: a copy of its own for each run, which code that writes into it cannot
    pass on to the next."""
    return encoded_corpus(corpus).clone()


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
