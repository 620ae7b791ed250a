"""The kata's pytest plugin (kata/pytest_plugin.py), through pytest's own `pytester`: inert outside a kata
run; in one, the per-test limit from option, environment and ini in that order, learner-facing reports,
the maintainer's tiers deselected unless asked for, the per-stage summary, and nothing collected (no
conftest.py loaded) from inside the graded folder."""

import textwrap

import pytest
from catalog import Edited

from kata.limits import Limits, limits_from
from kata.manifest import stage_named
from kata.suite import run_suite

pytest_plugins = ["pytester"]
pytestmark = [pytest.mark.meta, pytest.mark.xdist_group("pytester")]

STAGE_TESTS = """
    import sys
    import time

    import hypothesis
    import pytest
    import torch
    from _pytest.assertion.rewrite import AssertionRewritingHook

    from kata.implementation import StageModule

    stage = StageModule("s05_averaging")


    def rewritten(module):
        return isinstance(module.__spec__.loader, AssertionRewritingHook)


    # Rewriting hypothesis's 100-odd modules in every run cost ~0.9 s where no bytecode may be written
    # (kata/unrewritten_libraries.py); this file's own asserts keep pytest's explanations.
    def test_rewrites_the_asserts_of_its_tests_and_not_those_of_other_libraries():
        assert not rewritten(hypothesis) and not rewritten(sys.modules["hypothesis.core"])
        assert rewritten(sys.modules[__name__])


    def test_not_implemented():
        stage.average_loops(torch.zeros(1, 2, 3))


    def test_runs_forever():
        while True:
            time.sleep(0.05)


    def test_wrong_answer():
        assert 1 + 1 == 3


    def test_meets_none_from_the_code():
        x, y = stage.__dict__.get("nothing")  # as `x, y = get_batch(...)` where get_batch has no return


    @pytest.mark.meta
    def test_maintainers_tier():
        pass


    @pytest.mark.meta
    @pytest.mark.end_to_end
    def test_maintainers_end_to_end_tier():
        pass
"""


@pytest.fixture
def kata_run(pytester, exercises_copy, monkeypatch):
    """A folder with tests named like stage 5's and a graded folder (the original stubs) that holds a
    conftest.py and a test that would fail if pytest ever loaded them."""
    monkeypatch.delenv("KATA_IMPL", raising=False)
    monkeypatch.delenv("KATA_TEST_TIMEOUT", raising=False)
    graded = exercises_copy.rename(pytester.path / "graded")
    (graded / "conftest.py").write_text('raise SystemExit("the graded folder\'s conftest.py was loaded")\n')
    (graded / "test_inside.py").write_text("def test_inside():\n    assert False, 'collected inside'\n")
    pytester.makepyfile(test_s05_averaging_probe=textwrap.dedent(STAGE_TESTS))
    pytester.makeini("[pytest]\nkata_test_timeout = 100\n")

    def run(*arguments):
        # "." names the tests to run: without it, `--impl` runs the kata's own suite (this file included)
        return pytester.runpytest_subprocess(".", f"--impl={graded}", "-p", "no:cacheprovider", *arguments)

    return run


def test_outside_a_kata_run_the_plugin_stays_out_of_the_way(pytester, monkeypatch):
    monkeypatch.delenv("KATA_IMPL", raising=False)
    pytester.makepyfile(test_plain="def test_fails():\n    assert [1, 2] == [1, 3]\n\ndef test_passes():\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(failed=1, passed=1)
    output = result.stdout.str()
    assert "kata: grading" not in output
    assert "stages" not in output
    result.stdout.fnmatch_lines(["*assert [[]1, 2[]] == [[]1, 3[]]*"])  # pytest's own report, untouched


def test_a_kata_run_reports_to_the_learner_and_sums_up_the_stage(kata_run, monkeypatch):
    monkeypatch.setenv("KATA_TEST_TIMEOUT", "1")  # the environment comes before the ini file's 100 s
    result = kata_run()
    result.assert_outcomes(failed=4, passed=1, deselected=2)
    output = result.stdout.str()
    assert "kata: grading" in output
    assert "s05_averaging.average_loops is not implemented yet" in output
    assert "Stopped after 1 s: your code seems to run forever." in output
    # An error raised in the test's own code on what graded code returned: words and the test's line, no traceback.
    assert "The test could not use what your code gave it: TypeError: cannot unpack non-iterable NoneType" in output
    assert "A function that ends without a return statement returns None." in output
    assert 'x, y = stage.__dict__.get("nothing")' in output and "_pytest/" not in output
    assert "collected inside" not in output and "conftest.py was loaded" not in output
    result.stdout.fnmatch_lines(["*✘ Stage 5 · The averaging trick behind self-attention*1 of 5 tests pass*"])
    result.stdout.fnmatch_lines(["Next: open *s05_averaging.py (Stage 5*"])


def test_the_option_comes_before_the_environment_and_meta_selects_the_maintainers_tier(kata_run, monkeypatch):
    monkeypatch.setenv("KATA_TEST_TIMEOUT", "1")
    result = kata_run("--test-timeout=2", "--meta", "-k", "forever or maintainers")
    result.assert_outcomes(failed=1, passed=1, deselected=5)  # -k four, --end-to-end not given one
    assert "Stopped after 2 s: your code seems to run forever." in result.stdout.str()


def test_the_learner_loop_does_not_run_a_stage_on_after_one_of_its_tests_was_stopped(kata_run, monkeypatch):
    monkeypatch.setenv("KATA_TEST_TIMEOUT", "1")
    result = kata_run("--stop-stage-after-timeout")
    result.assert_outcomes(failed=4, passed=1, deselected=2)
    output = " ".join(result.stdout.str().split())
    assert "Stopped after 1 s: your code seems to run forever." in output
    not_run = "Not run: an earlier test of this stage, test_runs_forever, was stopped at its time limit"
    # The two tests after it, in the order they run. Counted in the failures' reports alone: the short summary
    # repeats each message, cut to the terminal's width except where CI is set in the environment.
    failures = output.split(" FAILURES ")[1].split(" stages ")[0]
    assert failures.count(not_run) == 2, output
    assert "1 + 1 == 3" not in output and "is not implemented yet" in output  # the test before it ran


@pytest.mark.parametrize(
    ("option", "ini", "environ", "expected"),
    [
        (None, "", {}, Limits()),
        (None, "7", {}, Limits(test_seconds=7.0)),
        (None, "7", {"KATA_TEST_TIMEOUT": "5"}, Limits(test_seconds=5.0)),
        (3.0, "7", {"KATA_TEST_TIMEOUT": "5"}, Limits(test_seconds=3.0)),
        (0.0, "7", {}, Limits(test_seconds=0.0)),
    ],
)
def test_limits_come_from_option_then_environment_then_ini(option, ini, environ, expected):
    assert limits_from(option, ini, environ) == expected


def test_an_error_raised_in_an_earlier_stage_that_passes_sends_the_learner_to_the_call(tmp_path):
    """Stage 7 builds each Head with n_embd and head_size swapped: the error is raised in stage 6's code, which
    passes its own tests in the same run, so the message points at stage 7's call, not back to stage 6."""
    heads = "Head(n_embd, head_size, block_size, dropout)"
    swapped = Edited(
        "swapped", "s07_transformer", "", ((heads, heads.replace("n_embd, head_size", "head_size, n_embd")),)
    )
    stages = [stage_named("s06_attention"), stage_named("s07_transformer")]
    run = run_suite(swapped.write_to(tmp_path / "impl"), stages, profile="meta")
    assert run.for_stage("s06_attention") and not any(r.outcome.is_failure for r in run.for_stage("s06_attention"))
    messages = [failure.message for failure in run.failures()]
    pointed = "s06_attention passes its own tests here, so look at that call"
    assert any(pointed in message and "s07_transformer.py:" in message for message in messages), messages
    assert not any("which fails here" in message for message in messages), messages


def test_an_error_raised_two_stages_down_names_the_stage_that_made_the_call(tmp_path):
    """Stage 8 run on its own over stage 7's swapped Head arguments: the error is raised in stage 6's code, and the
    call into it is stage 7's, not stage 8's (whose forward only called the blocks). Where a test calls an earlier
    stage's code itself, there is no call of the learner's to look at."""
    heads = "Head(n_embd, head_size, block_size, dropout)"
    swapped = Edited(
        "swapped", "s07_transformer", "", ((heads, heads.replace("n_embd, head_size", "head_size, n_embd")),)
    )
    folder = swapped.write_to(tmp_path / "impl")
    messages = [failure.message for failure in run_suite(folder, [stage_named("s08_gpt")], profile="meta").failures()]
    called = "The error is raised in s06_attention's code, called from "
    assert any(called in message and "s07_transformer.py:" in message for message in messages), messages
    assert not any(called + "s08_gpt" in message for message in messages), messages
    messages = [
        failure.message for failure in run_suite(folder, [stage_named("s09_fast_attention")], profile="meta").failures()
    ]
    built = "which this test calls itself. If `pytest -m s06_attention` passes, look at how your code built"
    assert any(built in message for message in messages), messages


def test_the_hidden_round_trip_names_a_vocabulary_with_repeats_before_building_a_tokenizer_of_it(tmp_path):
    """`kata grade` runs the hidden tests: a build_vocabulary that keeps every character made a CharTokenizer of the
    corpus's million, which ran out of time and read as code that runs forever (a graded notebook, 2026-12-06)."""
    repeats = Edited("repeats", "s01_tokenizer", "", (("return sorted(set(text))", "return sorted(text)"),))
    run = run_suite(repeats.write_to(tmp_path / "impl"), [stage_named("s01_tokenizer")], include_hidden=True)
    [message] = [failure.message for failure in run.failures() if "round_trip" in failure.nodeid]
    assert "1,115,394 entries, 65 of them distinct" in message and "runs forever" not in message, message


def test_stage_10_passes_over_a_stage_9_c_proj_without_a_bias(tmp_path):
    """Stage 10's own code adds c_proj's bias where there is one, so a stage-9 mistake it does not depend on must
    not fail it: the test's own oracle once crashed on the missing bias and blamed what attend_with_cache returned
    (a graded notebook, 2026-12-06). Not a catalog variant: the grader's check rightly refutes stage 9 here."""
    without_bias = Edited(
        "c-proj-without-bias",
        "s09_fast_attention",
        "",
        (
            (
                "        self.c_proj = nn.Linear(n_embd, n_embd)\n",
                "        self.c_proj = nn.Linear(n_embd, n_embd, bias=False)\n",
            ),
            (
                "            attention.c_proj.load_state_dict(mha.proj.state_dict())\n",
                "            attention.c_proj.weight.copy_(mha.proj.weight)\n",
            ),
        ),
    )
    run = run_suite(without_bias.write_to(tmp_path / "impl"), [stage_named("s10_generation")], profile="meta")
    assert run.results and not run.failures(), [failure.message for failure in run.failures()]


def test_a_suite_run_loads_only_the_kata_and_hypothesis_plugins(tmp_path):
    """Whatever else is installed (pytest-xdist here): a learner's pytest-randomly would reseed every test."""

    class Loaded:
        names: set = set()

        def pytest_configure(self, config):
            self.names = {name for name, _ in config.pluginmanager.list_name_plugin()}

    loaded = Loaded()
    run_suite(Edited("unchanged", "s01_tokenizer", "", ()).write_to(tmp_path / "impl"), [stage_named("s01_tokenizer")],
              extra_args=("--collect-only",), plugins=(loaded,))  # fmt: skip
    assert {"kata.pytest_plugin", "_hypothesis_pytestplugin"} <= loaded.names, loaded.names
    assert not {"xdist", "anyio"} & loaded.names, loaded.names


def test_a_mask_moved_only_where_the_devices_differ_is_told_why_the_move_does_not_count(tmp_path):
    """A precision pass (2026-12-07): `if tril.device != q.device: tril = tril.to(q.device)` is right on a GPU, but
    never moves on a CPU, where the test runs; the test told such code to move the mask, which it does."""
    made = "    tril = torch.tril(torch.ones(T, T, dtype=torch.bool, device=q.device))\n"
    guarded = (
        made.replace(", device=q.device", "") + "    if tril.device != q.device:\n        tril = tril.to(q.device)\n"
    )
    folder = Edited("guarded", "s06_attention", "", ((made, guarded),)).write_to(tmp_path / "impl")
    run = run_suite(folder, [stage_named("s06_attention")], profile="meta")
    [failure] = run.failures()
    assert "A move made only where the devices differ never runs on a CPU" in failure.message, failure.message
    run = run_suite(
        Edited("plain", "s06_attention", "", ((made, made.replace(", device=q.device", "")),)).write_to(
            tmp_path / "plain"
        ),
        [stage_named("s06_attention")],
        profile="meta",
    )
    assert "A move made only where" not in run.failures()[0].message  # said only to code that compares devices
