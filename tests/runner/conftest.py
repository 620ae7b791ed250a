from pathlib import Path

import pytest

from kata.workspace import copy_pristine_stubs


@pytest.fixture
def exercises_copy(tmp_path) -> Path:
    """A new learner's folder: the original stubs as the kata ships them, whatever exercises/ holds now."""
    return copy_pristine_stubs(tmp_path / "exercises")
