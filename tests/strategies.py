"""Hypothesis strategies shared by the stage tests."""

import torch
from hypothesis import settings
from hypothesis import strategies as st

# Printable ASCII, whitespace and a few characters outside the corpus' vocabulary.
characters = st.characters(codec="utf-8", exclude_categories=("Cs",))


@st.composite
def vocabularies(draw, min_size: int = 1, max_size: int = 40) -> list[str]:
    """A list of distinct single characters, in any order."""
    return draw(st.lists(characters, min_size=min_size, max_size=max_size, unique=True))


@st.composite
def vocabulary_and_text(draw) -> tuple[list[str], str]:
    vocabulary = draw(vocabularies())
    text = "".join(draw(st.lists(st.sampled_from(vocabulary), max_size=50)))
    return vocabulary, text


@st.composite
def vocabulary_and_ids(draw) -> tuple[list[str], list[int]]:
    vocabulary = draw(vocabularies())
    ids = draw(st.lists(st.integers(0, len(vocabulary) - 1), max_size=50))
    return vocabulary, ids


seeds = st.integers(0, 2**31 - 1)


def at_most(max_examples: int) -> settings:
    """The active profile's settings with at most `max_examples` examples, for a property whose examples are slow
    (the meta profile's 10 stay 10)."""
    return settings(max_examples=min(max_examples, settings.default.max_examples))


def random_tokens(shape: tuple[int, ...], vocab_size: int, seed: int) -> torch.Tensor:
    """Reproducible token ids, drawn from a private generator (never the global one)."""
    return torch.randint(vocab_size, shape, generator=torch.Generator().manual_seed(seed))


def random_floats(shape: tuple[int, ...], seed: int, dtype=torch.float32) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64).to(dtype)
