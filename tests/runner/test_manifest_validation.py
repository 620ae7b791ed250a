"""kata/stages.toml is validated when it is loaded: each mistake is reported with how to fix it."""

import pytest

from kata.manifest import FORMAT_VERSION, MANIFEST_PATH, ManifestError, parse_manifest, presets, stages

pytestmark = pytest.mark.meta

STAGE = """
[[stage]]
name = "{name}"
title = "A stage"
symbols = ["thing"]
points = 10
prerequisites = {prerequisites}
lecture = "somewhere (1:00)"
hints = ["a nudge"]
"""
PRESET = """
[[preset]]
name = "tiny"
description = "a tiny run"
model = "bigram"
stages = ["s01_first"]
batch_size = 4
block_size = 8
steps = 10
lr = 1e-3
eval_interval = 5
eval_iters = 2
final_eval_iters = 2
"""


def manifest_text(*, stages=(("s01_first", []), ("s02_second", ["s01_first"])), preset=PRESET, header=None):
    header = f"format = {FORMAT_VERSION}\n" if header is None else header
    entries = "".join(STAGE.format(name=name, prerequisites=list(prerequisites)) for name, prerequisites in stages)
    return header + preset + entries


def problems_in(text: str) -> str:
    with pytest.raises(ManifestError) as error:
        parse_manifest(text)
    return str(error.value)


def test_the_kata_s_own_manifest_is_valid_and_drives_training():
    parse_manifest(MANIFEST_PATH.read_text(encoding="utf-8"))
    names = [stage.name for stage in stages()]
    for preset in presets().values():
        assert set(preset.stages) | set(preset.optional_stages) <= set(names)
    assert presets()["gpt-cpu"].gpt["n_layer"] == 4


def test_a_hint_may_name_the_test_classes_it_helps_with():
    tagged = manifest_text().replace('"a nudge"', '"a nudge", { text = "the answer", tests = ["TestThing"] }', 1)
    first = parse_manifest(tagged).stages[0]
    assert [(hint.text, hint.tests) for hint in first.hints] == [("a nudge", ()), ("the answer", ("TestThing",))]


def test_a_valid_manifest_gives_stages_in_order_and_presets():
    manifest = parse_manifest(manifest_text())
    assert [(stage.number, stage.name) for stage in manifest.stages] == [(1, "s01_first"), (2, "s02_second")]
    assert manifest.presets["tiny"].stages == ("s01_first",) and manifest.presets["tiny"].min_lr is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (manifest_text(header=""), "add `format = 1`"),
        (manifest_text(header="format = 7\n"), "this kata reads format 1"),
        (manifest_text().replace("prerequisites = []", "prerequisite = []"), "Did you mean `prerequisites`?"),
        (manifest_text().replace('lecture = "somewhere (1:00)"\n', "", 1), "has no `lecture`: add it"),
        (manifest_text().replace("points = 10", "points = 0", 1), "but it must be a whole number above 0"),
        (manifest_text().replace('"a nudge"', "3", 1), "it must be a list of at least one hint"),
        (manifest_text().replace('"a nudge"', '{ text = "a", tests = ["generate"] }', 1), 'tests = ["TestGenerate"]'),
        (manifest_text().replace('"a nudge"', '{ txt = "a", tests = ["TestX"] }', 1), "at least one hint: text, or"),
        (manifest_text(stages=(("s01_first", []), ("s01_first", [])), preset=""), "Two [[stage]] tables are called"),
        (manifest_text(stages=(("s01_first", ["s02_second"]), ("s02_second", []))), "which names a later stage"),
        (manifest_text(stages=(("s01_first", ["s09_nine"]),)), "which names no stage"),
        (manifest_text() + "[[stages]]\n", "unknown key `stages`. Did you mean `stage`?"),
        (manifest_text(preset=PRESET.replace('stages = ["s01_first"]', 'stages = ["s07_x"]')), "no stage has that"),
        (manifest_text(preset=PRESET.replace("model = ", "modle = ")), "Did you mean `model`?"),
        (manifest_text(preset=PRESET.replace('"bigram"', '"rnn"')), 'it must be "bigram" or "gpt"'),
        (manifest_text(preset=PRESET + "min_lr = 1.0\n"), "min_lr above lr"),
        (manifest_text(preset=PRESET + "warmup_steps = 10\n"), "warms up for 10 of its 10 steps"),
        (manifest_text(preset=PRESET + "gpt = { n_embd = 8 }\n"), "takes no gpt table: remove it"),
        (manifest_text(preset=PRESET.replace('"bigram"', '"gpt"') + "gpt = { n_emb = 8 }\n"), "Did you mean `n_embd`"),
        (manifest_text(preset=PRESET + PRESET), "Two [[preset]] tables are called `tiny`"),
        ("format = 1\n[[stage]\n", "is not valid TOML"),
    ],
)
def test_each_mistake_is_reported_with_its_fix(text, expected):
    assert expected in problems_in(text)


def test_every_problem_is_listed_at_once():
    text = manifest_text().replace("points = 10", "points = -1").replace("title = ", "titel = ")
    message = problems_in(text)
    assert message.startswith("kata/stages.toml has 6 problems:")
    assert message.count("[[stage]] number 2 (s02_second)") == 3
