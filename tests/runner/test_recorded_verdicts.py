"""`kata train` reuses a stage's recorded verdict while the files it depends on stay the same."""

import pytest
from support import solve

from kata import stage_status
from kata.manifest import stage_named
from kata.stage_status import RecordedVerdicts, StageState, StageStatus, check_stages

pytestmark = pytest.mark.meta


@pytest.fixture
def runs(monkeypatch):
    """The stages each check actually runs (the others come from recorded verdicts)."""
    ran = []
    original = stage_status._run_stages

    def run_stages(folder, selected, limits):
        ran.append([stage.name for stage in selected])
        return original(folder, selected, limits)

    monkeypatch.setattr(stage_status, "_run_stages", run_stages)
    return ran


def test_a_verdict_is_reused_until_the_file_changes(exercises_copy, runs):
    solve(exercises_copy, "s01_tokenizer")
    selected = [stage_named("s01_tokenizer"), stage_named("s02_batches")]
    first = check_stages(exercises_copy, selected, reuse_verdicts=True)
    again = check_stages(exercises_copy, selected, reuse_verdicts=True)
    assert runs == [["s01_tokenizer", "s02_batches"]]
    assert [again[name].state for name in again] == [StageState.DONE, StageState.NOT_STARTED]
    assert again["s02_batches"].summary() == first["s02_batches"].summary()
    solve(exercises_copy, "s02_batches")
    assert check_stages(exercises_copy, selected, reuse_verdicts=True)["s02_batches"].done
    assert runs[-1] == ["s02_batches"]


def test_the_learner_s_views_always_run_the_tests(exercises_copy, runs):
    check_stages(exercises_copy, [stage_named("s01_tokenizer")])
    check_stages(exercises_copy, [stage_named("s01_tokenizer")])
    assert runs == [["s01_tokenizer"], ["s01_tokenizer"]]


def test_a_verdict_depends_on_the_stages_it_builds_on(exercises_copy):
    verdicts = RecordedVerdicts(exercises_copy)
    gpt = stage_named("s08_gpt")
    before = verdicts.fingerprint(gpt)
    (exercises_copy / "s06_attention.py").write_text("# changed\n", encoding="utf-8")  # s08 builds on s07 on s06
    assert verdicts.fingerprint(gpt) != before
    assert verdicts.fingerprint(stage_named("s05_averaging")) == RecordedVerdicts(exercises_copy).fingerprint(
        stage_named("s05_averaging")
    )


def test_a_stopped_run_is_not_recorded(exercises_copy):
    stage = stage_named("s01_tokenizer")
    verdicts = RecordedVerdicts(exercises_copy)
    verdicts.record([StageStatus(stage, StageState.STOPPED, problem="it ran for more than 60 s")])
    assert verdicts.lookup(stage) is None
    verdicts.record([StageStatus(stage, StageState.PARTIAL, 3, 7)])
    assert verdicts.lookup(stage).summary() == "3 of 7 tests pass"
