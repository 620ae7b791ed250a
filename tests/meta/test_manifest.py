"""The manifest is the one source: the README's stage table, markers and test files follow it."""

import ast

import pytest

from kata.manifest import REPOSITORY_ROOT, stage_table_markdown, stages

pytestmark = pytest.mark.meta


def test_the_readme_stage_table_is_generated_from_the_manifest():
    readme = (REPOSITORY_ROOT / "README.md").read_text(encoding="utf-8")
    start, end = "<!-- stages: generated from kata/stages.toml -->\n", "\n<!-- end of stages -->"
    table = readme.split(start, 1)[-1].split(end, 1)[0]
    assert table == stage_table_markdown(), f"Replace the README's stage table with:\n{stage_table_markdown()}"


def test_every_stage_has_its_files_and_marker(pytestconfig):
    markers = "\n".join(pytestconfig.getini("markers"))
    for stage in stages():
        assert stage.test_file.is_file(), f"{stage.test_file} is missing"
        assert (REPOSITORY_ROOT / "exercises" / stage.module_file).is_file()
        assert (REPOSITORY_ROOT / "solutions" / stage.module_file).is_file()
        assert f"{stage.marker}:" in markers


def test_every_hint_names_test_classes_of_its_own_stage():
    for stage in stages():
        tree = ast.parse(stage.test_file.read_text(encoding="utf-8"))
        classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
        for number, hint in enumerate(stage.hints, start=1):
            unknown = sorted(set(hint.tests) - classes)
            assert not unknown, f"Hint {number} of {stage.name} names {unknown}, not a class of {stage.test_file.name}"
