"""The catalogs of the meta tier, one module per stage (named after it): MISTAKES, learner mistakes the
suite must reject with a diagnosis where it can tell one, and VARIANTS, correct implementations it must
accept. Each entry edits a copy of the references (tests/catalog.py)."""

import importlib

from kata.manifest import stages

_modules = [importlib.import_module(f"catalogs.{stage.name}") for stage in stages()]
MISTAKES = [mistake for module in _modules for mistake in module.MISTAKES]
VARIANTS = [variant for module in _modules for variant in module.VARIANTS]
