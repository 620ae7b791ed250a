import shutil
from pathlib import Path

import pytest

from kata.manifest import REPOSITORY_ROOT


@pytest.fixture
def exercises_copy(tmp_path) -> Path:
    """A learner's folder: a fresh copy of the stubs, in its own working copy."""
    folder = tmp_path / "exercises"
    shutil.copytree(REPOSITORY_ROOT / "exercises", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder
