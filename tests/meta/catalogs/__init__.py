"""The catalogs of the meta tier, one module per stage (named after it): MISTAKES, learner mistakes the
suite must reject with a diagnosis where it can tell one, and VARIANTS, correct implementations it must
accept. Each entry edits a copy of the references (tests/catalog.py). Entries that follow code written
elsewhere (the lecture's repository, nanoGPT, minGPT, learners' repositories) name it in a `# Source:`
comment; they re-express its approach in the kata's API rather than copy it."""

import importlib

from kata.manifest import stages

_modules = [importlib.import_module(f"catalogs.{stage.name}") for stage in stages()]
MISTAKES = [mistake for module in _modules for mistake in module.MISTAKES]
VARIANTS = [variant for module in _modules for variant in module.VARIANTS]
