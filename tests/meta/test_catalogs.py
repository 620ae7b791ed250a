"""The meta tier: proves the suite is a good grader. Run with `pytest --meta`."""

import pytest
from catalogs import MISTAKES, VARIANTS
from message_quality import unspoken_failures
from probe_runs import draws_for, refutations, stage_files_read_by

from kata.grading.confirm import confirm, rests_on
from kata.grading.submission import symbols_reached
from kata.manifest import stage_named, stages
from kata.results import FailureKind, Outcome
from kata.suite import run_suite
from kata.workspace import copy_pristine_stubs

pytestmark = pytest.mark.meta


# Stages 6-9 build on each other, so their mistakes are many and easy to let through.
MODEL_STAGES = ("s06_attention", "s07_transformer", "s08_gpt", "s09_fast_attention")


def test_the_catalogs_are_large_enough_and_cover_every_stage():
    assert len(MISTAKES) >= 30 and len(VARIANTS) >= 10
    assert len([mistake for mistake in MISTAKES if mistake.graded in MODEL_STAGES]) >= 60
    assert len([variant for variant in VARIANTS if variant.graded in MODEL_STAGES]) >= 20
    for stage in stages():
        assert any(m.stage == stage.name for m in MISTAKES), f"no catalogued mistake for {stage.name}"
        assert any(v.stage == stage.name for v in VARIANTS), f"no catalogued variant for {stage.name}"
    names = [entry.name for entry in MISTAKES + VARIANTS]
    repeated = sorted({name for name in names if names.count(name) > 1})
    assert not repeated, f"catalog names must be unique, and these repeat: {repeated}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda mistake: mistake.name)
def test_the_suite_rejects_the_mistake(mistake, tmp_path):
    # with the hidden tests, as `kata grade` runs the stage
    run = run_suite(
        mistake.write_to(tmp_path / "impl"), [stage_named(mistake.graded)], profile="meta", include_hidden=True
    )
    assert not run.collection_errors, run.output
    failures = run.failures()
    assert failures, f"the suite accepted a learner who {mistake.what}"
    unspoken = "\n".join(unspoken_failures(run))
    assert not unspoken, f"failures that do not speak to a learner who {mistake.what}:\n{unspoken}"
    messages = "\n".join(failure.message for failure in failures)
    if mistake.diagnosis:
        assert mistake.diagnosis in messages, f"no failure message says {mistake.diagnosis!r}; they say:\n{messages}"
    said = [phrase for phrase in mistake.misleading if phrase in messages]
    assert not said, f"a failure message blames correct code with {said[0]!r}; they say:\n{messages}"
    forged, zeroed = as_graded(mistake, tmp_path / "impl", run.for_stage(mistake.graded))
    assert not forged, f"the grader's own check backs no failing test {forged} of a learner who {mistake.what}"
    assert not zeroed, f"the grader scores nothing for a learner who {mistake.what}, who forged nothing: {zeroed}"


def as_graded(mistake, folder, results: list) -> tuple[dict[int, list[str]], dict[int, str]]:
    """What `kata grade` makes of the mistake, on each draw of its check's inputs tried. Code in the tests'
    sandbox can forge their verdicts: each test the mistake fails must rest on something the grader's own
    check finds wrong, or a forged pass of it would count (the first part, by draw). And the honest verdicts
    must keep what they earned: the stage must not be scored as forged (the second part)."""
    stage = stage_named(mistake.graded)
    # The other stages answer as the references do, whose passing the check test_probes.py proves.
    changed = [name for name in stages_probed_for(stage) if mistake.stage in stage_files_read_by(name)]
    symbols = [f"{name}.{symbol}" for name in changed for symbol in stage_named(name).symbols]
    failing = [result.nodeid for result in results if result.outcome.is_failure]
    forged, zeroed = {}, {}
    for seed in draws_for(mistake.name):
        refuted = refutations(folder, symbols, seed)
        wrongs = [(symbol, aspect) for symbol, aspects in refuted.items() for aspect in aspects]
        if unbacked := [test for test in failing if not any(rests_on(test, *wrong, stage) for wrong in wrongs)]:
            forged[seed] = [test.split("::", 1)[1] for test in unbacked]
        if problem := confirm(stage, results, refuted).problem:
            zeroed[seed] = problem
    return forged, zeroed


def stages_probed_for(stage) -> list[str]:
    """The stages whose symbols `kata grade` probes when it grades `stage`: its own and those its tests reach."""
    return sorted({symbol.split(".")[0] for symbol in symbols_reached(stage)})


# Mistakes of an earlier stage, graded with a later stage's suite, which judges that stage on the learner's own
# earlier ones. Before confirm() allowed for it, each scored the later stage nothing, as if forged (on draws 0
# and 1: 7 of 27 stage-6 mistakes at stage 7, 21 of 44 stage-7 ones at stage 8, 11 of 28 stage-8 ones at
# stage 9, 5 of 26 stage-9 ones at stage 10, 5 of 44 stage-7 ones at stage 11).
# Since a red-team pass (2026-12-06), only what an earlier wrong explains is left out of the verdict
# (probes.explained_by): one mistake of each kind found by grading every catalogued mistake at each later stage.
KNOCK_ON = [
    ("head-scaled-by-n-embd", "s07_transformer"),
    ("mask-sized-by-the-width", "s07_transformer"),
    ("feed-forward-without-relu", "s08_gpt"),
    ("head-projections-with-bias", "s07_transformer"),  # the head's biases in MultiHeadAttention's "heads"
    ("mask-as-parameter", "s07_transformer"),  # its tril buffer there
    ("head-dropout-on-output", "s07_transformer"),  # a dropout in the later symbol's dropout
    ("block-drops-each-sublayer-again", "s08_gpt"),
    ("no-output-dropout", "s11_gpt2"),  # stage 9's "dropping_from_multihead" in GPT-2's "dropping"
]


@pytest.mark.parametrize(("name", "later"), KNOCK_ON, ids=lambda value: value)
def test_an_earlier_stages_mistake_never_scores_a_later_stage_as_forged(name, later, tmp_path):
    mistake = next(mistake for mistake in MISTAKES if mistake.name == name)
    folder, stage = mistake.write_to(tmp_path / "impl"), stage_named(later)
    results = run_suite(folder, [stage], profile="meta").for_stage(later)
    symbols = [f"{probed}.{symbol}" for probed in stages_probed_for(stage) for symbol in stage_named(probed).symbols]
    for seed in draws_for(mistake.name):
        assert not confirm(stage, results, refutations(folder, symbols, seed)).problem, f"draw {seed}"


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_the_suite_accepts_the_variant(variant, tmp_path):
    # with the hidden tests, as `kata grade` runs the stage
    run = run_suite(
        variant.write_to(tmp_path / "impl"), [stage_named(variant.graded)], profile="meta", include_hidden=True
    )
    failures = "\n".join(f"{failure.nodeid}: {failure.message}" for failure in run.failures())
    unspoken = "\n".join(unspoken_failures(run))
    assert not unspoken, f"failures that do not speak to the learner, for a variant that {variant.what}:\n{unspoken}"
    assert run.exit_code == 0 and run.results, (
        f"the suite rejected a correct variant that {variant.what}:\n{failures}{run.output[-2000:]}"
    )


def test_every_stub_fails_each_of_its_tests_as_not_implemented_yet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the original stubs, whatever exercises/ holds now, shown as exercises/...
    run = run_suite(copy_pristine_stubs(tmp_path / "exercises"), profile="meta")
    assert not run.collection_errors, run.collection_errors
    for stage in stages():
        results = run.for_stage(stage.name)
        assert results, f"no tests ran for {stage.name}"
        for result in results:
            assert result.outcome is Outcome.FAILED, f"{result.nodeid} {result.outcome} on the stub"
            assert result.kind is FailureKind.NOT_IMPLEMENTED, f"{result.nodeid}: {result.kind}"
            assert "is not implemented yet (exercises/s" in result.message, result.message
