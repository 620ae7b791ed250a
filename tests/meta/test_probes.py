"""The grader's own check of each symbol (kata/grading/probes.py): it covers the manifest, and it agrees
with the references and with every correct variant, so it never takes a point from correct code."""

import pytest
import torch
from catalogs import MISTAKES, VARIANTS
from probe_runs import draws_for, refutations, refutations_at_scale, refutations_on_draws

from kata import corpus, reference_runs
from kata.grading import at_scale, probe_calls, probes
from kata.grading.confirm import confirm
from kata.manifest import REPOSITORY_ROOT, stage_named, stages
from kata.results import Outcome, TestResult
from kata.workspace import copy_pristine_stubs

pytestmark = pytest.mark.meta
ALL_SYMBOLS = [f"{stage.name}.{symbol}" for stage in stages() for symbol in stage.symbols]


def test_every_symbol_of_the_manifest_has_a_probe_and_a_call():
    assert sorted(probes.PROBES) == sorted(ALL_SYMBOLS)
    assert sorted(probe_calls.CALLS) == sorted(ALL_SYMBOLS)


def disagreements(folder, symbols: list[str], seed: int) -> dict[str, str]:
    found = refutations(folder, symbols, seed)
    return {
        symbol: "; ".join(f"{aspect or 'core'}: {why}" for aspect, why in wrong.items())
        for symbol, wrong in found.items()
    }


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_the_references_pass_every_probe(seed):
    assert disagreements(REPOSITORY_ROOT / "solutions", ALL_SYMBOLS, seed) == {}


@pytest.mark.parametrize("stage_name", ["s01_tokenizer", "s02_batches", "s05_averaging", "s12_bpe"])
def test_the_references_pass_the_quick_probes_on_many_draws(stage_name):
    """Rare draws (an empty text, a length of one) must not fail correct code: these stages' checks are quick
    enough to try on 100 draws each."""
    symbols = [symbol for symbol in ALL_SYMBOLS if symbol.startswith(f"{stage_name}.")]
    found = refutations_on_draws(REPOSITORY_ROOT / "solutions", symbols, list(range(1000, 1100)))
    assert {seed: wrong for seed, wrong in found.items() if wrong} == {}


@pytest.mark.end_to_end
@pytest.mark.parametrize("first", [0, 75, 150, 225])
def test_the_references_pass_every_probe_on_many_draws(first):
    """A rare draw must not fail correct code: one in 100 of stage 10's did (a near-tie at temperature 1e-4), which
    scored a perfect stage as nothing. 300 draws of every stage, in four parts the workers share (about 40 s each)."""
    found = refutations_on_draws(REPOSITORY_ROOT / "solutions", ALL_SYMBOLS, list(range(first, first + 75)))
    assert {seed: wrong for seed, wrong in found.items() if wrong} == {}


def test_the_stubs_pass_only_what_they_give(tmp_path):
    found = disagreements(copy_pristine_stubs(tmp_path / "exercises"), ALL_SYMBOLS, 0)  # whatever exercises/ holds
    given = ["s08_gpt.GPTConfig", "s11_gpt2.GPT2Config"]  # the stubs hand these configurations to the learner
    assert sorted(found) == sorted(set(ALL_SYMBOLS) - set(given))
    assert all("NotImplementedError" in why for why in found.values()), found


def test_a_layer_the_check_cannot_set_is_said_in_words_not_as_torchs_error(tmp_path):
    """The check copies its weights into the student's layers: one without the lecture's bias was reported as
    "calling it raised AttributeError: 'NoneType' object has no attribute 'copy_'", as if their code had."""
    [mistake] = [mistake for mistake in MISTAKES if mistake.name == "feed-forward-without-bias"]
    found = disagreements(mistake.write_to(tmp_path / "impl"), ["s07_transformer.FeedForward"], 0)
    said = "core: ValueError: one Linear in it has no bias, where the lecture's model has one"
    assert found == {"s07_transformer.FeedForward": said}, found
    with pytest.raises(
        ValueError, match=r"one Linear in it has a weight of shape \(3, 2\), where the grader's is \(2, 3\)"
    ):
        probe_calls.set_linear(torch.nn.Linear(2, 3), {"weight": torch.zeros(2, 3)})


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda variant: variant.name)
def test_every_correct_variant_passes_its_stages_probes(variant, tmp_path):
    folder = variant.write_to(tmp_path / "impl")
    symbols = [symbol for symbol in ALL_SYMBOLS if symbol.split(".")[0] == variant.stage]
    for seed in draws_for(variant.name):
        assert disagreements(folder, symbols, seed) == {}, f"the probes reject a correct variant that {variant.what}"
    if variant.stage in at_scale.symbols_by_stage([variant.stage]):
        seed = draws_for(variant.name)[-1]
        assert refutations_at_scale(folder, seed, variant.stage) == {}, f"at scale, for one that {variant.what}"


def test_the_references_answer_the_check_at_scale():
    assert refutations_at_scale(REPOSITORY_ROOT / "solutions", 0) == {}


def test_every_call_at_scale_has_its_expected_answer_and_backs_the_tests_of_its_size():
    assert sorted(at_scale.EXPECTED) == sorted(probe_calls.AT_SCALE)
    for symbol in at_scale.EXPECTED:
        for aspect in [at_scale.ASPECT, *at_scale.value_aspects(symbol)]:
            assert probes.PROBES[symbol].backs.get(aspect), f"{symbol}'s {aspect} backs no test"
    training, validation = corpus.splits()
    assert training[: corpus.BPE_TRAINING_CHARACTERS].isascii()  # as the texts at scale are
    assert validation[: corpus.BPE_ENCODED_CHARACTERS].isascii()


def test_every_aspect_backs_a_test_that_exercises_its_symbol():
    """A wrong aspect takes the points of the tests its fragments name: a fragment that names no test (after a
    rename, say) would let a forged verdict on that aspect stand."""
    recorded = reference_runs.symbols()
    for symbol, check in probes.PROBES.items():
        for aspect, fragments in check.backs.items():
            for fragment in fragments:
                named = [nodeid for nodeid, symbols in recorded.items() if fragment in nodeid and symbol in symbols]
                assert named, f"{symbol}'s aspect {aspect!r}: no test that exercises it is named like {fragment!r}"


def stage_1_results(failing: str = "") -> list[TestResult]:
    """Every recorded stage-1 test of CharTokenizer, passing but for the one named like `failing`."""
    symbol = "s01_tokenizer.CharTokenizer"
    nodeids = [nodeid for nodeid, symbols in reference_runs.symbols().items() if symbol in symbols]
    return [
        TestResult(nodeid, "s01_tokenizer", Outcome.FAILED if failing and failing in nodeid else Outcome.PASSED)
        for nodeid in nodeids
    ]


def test_a_wrong_aspect_takes_only_the_points_of_the_tests_resting_on_it():
    stage, wrong = stage_named("s01_tokenizer"), {"s01_tokenizer.CharTokenizer": {"vocabulary": "no .vocabulary"}}
    honest = confirm(stage, stage_1_results(failing="test_attributes"), wrong)
    assert not honest.problem
    assert [r.passed for r in honest.results] == [r.passed for r in stage_1_results(failing="test_attributes")]
    forged = confirm(stage, stage_1_results(), wrong)  # the test that rests on it reported passing
    assert "scores nothing" in forged.problem
    assert [r.nodeid for r in forged.results if not r.passed] == [
        r.nodeid for r in stage_1_results() if "test_attributes" in r.nodeid
    ]
    core = confirm(
        stage, stage_1_results(failing="test_attributes"), {"s01_tokenizer.CharTokenizer": {"": "wrong ids"}}
    )
    assert not any(r.passed for r in core.results)


def test_a_disagreement_on_dropout_costs_the_dropout_tests_never_the_stage():
    """The probes' dropout mask follows the lecture's layouts: a precision pass's Block that ran its feed-forward
    time-major, (T, B, C), dropped correctly, passed every test, and scored 0 of 15 as forged."""
    stage = stage_named("s07_transformer")
    nodeids = [nodeid for nodeid in reference_runs.symbols() if "test_s07_transformer" in nodeid]
    passing = [TestResult(nodeid, stage.name, Outcome.PASSED) for nodeid in nodeids]
    found = confirm(stage, passing, {"s07_transformer.Block": {"dropping": "dropping[0] differs by up to 3.73"}})
    assert not found.problem
    lost = [result.nodeid for result in found.results if not result.passed]
    assert lost and all("dropout" in nodeid for nodeid in lost) and len(lost) < len(nodeids) / 4
    forged = confirm(stage, passing, {"s07_transformer.Block": {"": "output differs by up to 2.1"}})
    assert "scores nothing" in forged.problem  # any other disagreement still voids the stage


def stage_10_results() -> list[TestResult]:
    """Every recorded stage-10 test, all reported passing (as a forger reports them)."""
    stage = stage_named("s10_generation")
    nodeids = [nodeid for nodeid in reference_runs.symbols() if "test_s10_generation" in nodeid]
    return [TestResult(nodeid, stage.name, Outcome.PASSED) for nodeid in nodeids]


def test_an_earlier_slip_that_explains_nothing_here_shields_no_forged_stage():
    """A red-team pass forged every test of stage 10 and, to switch the forged verdict off, left out a validation
    of stage 9's that no stage-10 test calls: the stage scored 14 of 15 where the code earned 12."""
    stage = stage_named("s10_generation")
    own = {"s10_generation.next_token_probabilities": {"rejects": "no ValueError for top_p -0.1"}}
    slip = {"s09_fast_attention.CausalSelfAttention": {"rejects_indivisible": "no ValueError for n_embd 10, n_head 3"}}
    assert "scores nothing" in confirm(stage, stage_10_results(), own).problem
    assert "scores nothing" in confirm(stage, stage_10_results(), own | slip).problem
    # What an earlier wrong does explain stays out of the verdict: a dropout of stage 9's shows in stage 10's.
    dropping = {"s10_generation.attend_with_cache": {"eval_dropout": "dropped in eval mode"}}
    knock_on = {"s09_fast_attention.CausalSelfAttention": {"": "output differs by up to 0.5"}}
    assert not confirm(stage, stage_10_results(), dropping | knock_on).problem


def test_an_earlier_symbol_wrong_in_its_values_shields_no_forged_validation():
    """The fourth red-team pass (2026-12-07): stage 7's FeedForward wrong in the check alone (where stage 8 was not
    imported) shielded stage 8's forged block_size validation: 13.3 of 15 where the honest code earns 14.2."""
    stage = stage_named("s08_gpt")
    nodeids = [nodeid for nodeid in reference_runs.symbols() if "test_s08_gpt" in nodeid]
    passing = [TestResult(nodeid, stage.name, Outcome.PASSED) for nodeid in nodeids]
    own = {"s08_gpt.GPTLanguageModel": {"rejects_too_long": "no ValueError for 9 tokens with block_size 8"}}
    shield = {"s07_transformer.FeedForward": {"": "output differs by up to 1.0"}}
    assert "scores nothing" in confirm(stage, passing, own | shield).problem


def test_only_a_stage_this_one_builds_on_shields_a_forged_stage():
    """A red-team pass forged stage 1 and left stage 2 wrong at scale (the same aspect's name) to switch the forged
    verdict off; a stub of any other stage (its core refuted) did the same."""
    stage = stage_named("s01_tokenizer")
    own = {"s01_tokenizer.CharTokenizer": {"at_scale": "no answer within 30 s"}}
    for other in ({"s02_batches.encode_text": {"at_scale": "other values"}}, {"s12_bpe.BPETokenizer": {"": "stub"}}):
        assert "scores nothing" in confirm(stage, stage_1_results(), own | other).problem


def _with_leaves(value, leaf):
    """`value`'s dicts and lists, every other value replaced by `leaf`."""
    if isinstance(value, dict):
        return {key: _with_leaves(item, leaf) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_leaves(item, leaf) for item in value]
    return leaf


# Answers a submission can send through the protocol that no oracle expects: a tensor of two numbers has no
# truth value, an int past float's range makes math.isclose raise.
ODD_LEAVES = [torch.tensor([1, 2]), 10**400, "raised ValueError: no", None, [], {"plain": 0}]


@pytest.mark.parametrize("symbol", ALL_SYMBOLS)
def test_an_answer_no_oracle_expects_is_refuted_never_raised(symbol):
    """One submission's odd answer must cost that submission its symbol, never stop the grader (and the batch)."""
    inputs = probes.choose_inputs([symbol], 0)[symbol]
    expected = None if probes.PROBES[symbol].judge else probes.PROBES[symbol].expected(inputs)
    for leaf in ODD_LEAVES:
        for answer in (leaf, _with_leaves(expected, leaf)):
            assert probes.verdict(symbol, inputs, answer), f"{symbol} accepted {answer!r:.200}"


def test_a_wrong_value_at_scale_refutes_the_tests_that_judge_it_alone(tmp_path):
    """Merges whose ties go otherwise still round-trip: at scale they take the points of the tests that judge the
    merges, never those of the round trip, which such code passes."""
    mistake = next(mistake for mistake in MISTAKES if mistake.name == "ties-by-the-second-id-then-the-first")
    refuted = refutations_at_scale(mistake.write_to(tmp_path / "impl"), 0, "s12_bpe")
    assert sorted(refuted["s12_bpe.BPETokenizer"]) == ["at_scale_encoded", "at_scale_merges"], refuted


@pytest.mark.parametrize("name", ["config-with-nanogpts-bias-field", "gpt2-config-with-nanogpts-bias-field"])
def test_a_config_with_a_field_more_loses_the_defaults_test_alone(name, tmp_path):
    """A precision pass (2026-12-07): a config with nanoGPT's bias field fails the test of the defaults, and the
    check refuted the config's core, which took the points of every test that builds a config (stage 8 scored 0)."""
    mistake = next(mistake for mistake in MISTAKES if mistake.name == name)
    stage = stage_named(mistake.stage)
    config = f"{stage.name}.{next(symbol for symbol in stage.symbols if symbol.endswith('Config'))}"
    refuted = refutations(mistake.write_to(tmp_path / "impl"), [config], 0)
    assert list(refuted[config]) == ["defaults"], refuted
    assert refuted[config]["defaults"].endswith("it holds ['bias'] besides"), refuted  # not only what it should hold
    nodeids = [nodeid for nodeid, symbols in reference_runs.symbols().items() if config in symbols]
    results = [TestResult(n, stage.name, Outcome.FAILED if "test_defaults" in n else Outcome.PASSED) for n in nodeids]
    graded = confirm(stage, results, refuted)
    assert not graded.problem
    assert [r.nodeid for r in graded.results if not r.passed] == [n for n in nodeids if "test_defaults" in n]
