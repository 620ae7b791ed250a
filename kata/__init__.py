"""The kata's own machinery: the stage manifest, the corpus, loading the graded implementation."""
