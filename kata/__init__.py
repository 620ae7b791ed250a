"""The kata's own machinery: the stage manifest, the corpus, loading the graded implementation.

In a notebook: `kata.start()`, `kata.check("s03_bigram")`, `kata.hint("s03_bigram")`, `kata.load_corpus()`."""

import importlib

_NOTEBOOK_API = {name: "kata.notebook" for name in ("start", "check", "hint")} | {"load_corpus": "kata.corpus"}


def __getattr__(name: str):
    # Loaded on first use, so that `import kata.<module>` (the CLI, each forked run) stays cheap.
    if name in _NOTEBOOK_API:
        return getattr(importlib.import_module(_NOTEBOOK_API[name]), name)
    raise AttributeError(f"module 'kata' has no attribute {name!r}")
