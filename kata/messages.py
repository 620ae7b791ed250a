"""Learner-facing messages are built from whole sentences, joined here and nowhere else."""

_ENDINGS = (".", "!", "?", ":")


def sentences(*parts: str | None) -> str:
    """Join whole sentences with one space; empty parts are left out and each part ends with a full stop
    unless it already ends a sentence (a part ending in ':' introduces what follows)."""
    kept = [part.strip() for part in parts if part and part.strip()]
    return " ".join(part if part.endswith(_ENDINGS) else part + "." for part in kept)
