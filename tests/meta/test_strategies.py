"""The stage tests draw text from tests/strategies.py's `characters`, never from a codec's set: hypothesis builds
that set by encoding every code point (1.5 s), once per fresh .hypothesis/ folder, which each grading sandbox is."""

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.meta

TESTS = Path(__file__).resolve().parent.parent


def codec_draws(source: str) -> list[str]:
    """The st.text(...) calls without an alphabet (whose default is characters(codec="utf-8")) and the calls
    passing codec=, each as its source text."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        keywords = {keyword.arg for keyword in node.keywords}
        default_alphabet = node.func.attr == "text" and not node.args and "alphabet" not in keywords
        if default_alphabet or "codec" in keywords:
            found.append(ast.get_source_segment(source, node))
    return found


def test_catches_both_forms():
    assert codec_draws('st.text(max_size=3)\nst.characters(codec="ascii")\nst.text(chars, max_size=3)') == [
        "st.text(max_size=3)",
        'st.characters(codec="ascii")',
    ]


SOURCES = sorted(path for path in TESTS.rglob("*.py") if path != Path(__file__).resolve())


@pytest.mark.parametrize("path", SOURCES, ids=lambda path: str(path.relative_to(TESTS)))
def test_no_test_file_draws_from_a_codec(path):
    found = codec_draws(path.read_text())
    if found:
        pytest.fail(f"{path.relative_to(TESTS)} draws {found[0]}: draw from strategies.characters or texts() instead")
