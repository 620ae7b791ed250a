"""`kata train` and `kata sample` on the references, small: Ctrl-C, --resume, the run folder, old
runs after a preset changes, sampling options, the progress bar."""

import contextlib
import dataclasses
import os
import shutil
import signal

import pytest
import torch
from rich.console import Console

from kata import implementation, train
from kata.manifest import REPOSITORY_ROOT, presets

pytestmark = [pytest.mark.meta, pytest.mark.xdist_group("train")]
SOLUTIONS = REPOSITORY_ROOT / "solutions"


def quick(preset, **changes):
    """The preset with short evaluations: these tests are about the run's mechanics, not its figures."""
    return dataclasses.replace(preset, eval_interval=20, eval_iters=4, final_eval_iters=4, **changes)


@contextlib.contextmanager
def graded_folder_kept():
    """kata train grades the folder it trains on; the stage suites this worker runs later grade --impl's."""
    graded = implementation.activate(None)
    implementation.activate(graded)
    try:
        yield
    finally:
        implementation.activate(graded)


@pytest.fixture(autouse=True)
def keep_graded_folder():
    with graded_folder_kept():
        yield


@pytest.fixture(autouse=True)
def quick_runs(monkeypatch):
    """The references are trusted here (the stage checks are tested elsewhere)."""
    monkeypatch.setattr(
        train, "check_learner", lambda folder, preset, tokenizer="characters": ([], preset.model == "gpt")
    )
    monkeypatch.setattr(train, "preset_named", lambda name: quick(presets()[name]))
    monkeypatch.setattr(train, "FINAL_SAMPLE_TOKENS", 60)  # 500 took a gpt-cpu run 1.1 s


def run(preset, out, steps=None, resume=False, console=None, folder=SOLUTIONS, tokenizer="characters"):
    console = console or Console(quiet=True)
    return train.train_command(
        preset,
        folder=folder,
        console=console,
        device="cpu",
        steps=steps,
        seed=7,
        out=out,
        resume=resume,
        tokenizer=tokenizer,
    )


def sample(out, console=None, **options):
    return train.sample_command(out, console=console or Console(quiet=True), **options)


def interrupt_at(monkeypatch, step):
    """Press Ctrl-C while the batch of `step` is being drawn."""
    original = train.Run.batch

    def batch(self, split):
        if split == "train" and self.step == step:
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, split)

    monkeypatch.setattr(train.Run, "batch", batch)


def test_ctrl_c_then_resume_gives_exactly_the_uninterrupted_run(tmp_path, monkeypatch):
    assert run("bigram", tmp_path / "straight", 60) == 0
    original_batch = train.Run.batch
    interrupt_at(monkeypatch, 25)
    assert run("bigram", tmp_path / "stopped", 60) == 130
    stopped = torch.load(tmp_path / "stopped" / train.CHECKPOINT, weights_only=False)
    assert stopped["step"] == 26  # the step in progress finished, then the run stopped
    monkeypatch.setattr(train.Run, "batch", original_batch)
    console = Console(record=True, width=200)
    assert run("bigram", tmp_path / "stopped", resume=True, console=console) == 0
    straight = torch.load(tmp_path / "straight" / train.CHECKPOINT, weights_only=False)
    resumed = torch.load(tmp_path / "stopped" / train.CHECKPOINT, weights_only=False)
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name
    strip = lambda rows: [{k: v for k, v in row.items() if k != "elapsed_s"} for row in rows]  # noqa: E731
    assert strip(resumed["metrics"]) == strip(straight["metrics"])
    # Times add up across sessions: the curve's clock never goes back, and the summary counts both sessions.
    seconds = [row["elapsed_s"] for row in resumed["metrics"]]
    assert seconds == sorted(seconds) and resumed["training_seconds"] >= stopped["training_seconds"]
    assert resumed["sessions"] == 2
    output = console.export_text()
    assert "Resuming bigram at step 26 of 60" in output
    assert "over 2 sessions; this command trained 34 steps" in output


def test_a_gpt_run_writes_its_folder_and_samples(tmp_path, capsys):
    out = tmp_path / "gpt"
    assert run("gpt-cpu", out, 20) == 0
    for name in ("checkpoint.pt", "metrics.csv", "loss.png", "attention.png", "sample.txt"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sample(out, console=Console(), tokens=40, prompt="ROMEO:", seed=1) == 0
    assert capsys.readouterr().out.startswith("ROMEO:")


def test_an_old_run_still_loads_after_its_preset_changes(tmp_path, monkeypatch, capsys):
    out = tmp_path / "gpt"
    assert run("gpt-cpu", out, 10) == 0
    state = torch.load(out / train.CHECKPOINT, weights_only=False)
    assert state["model_arguments"]["config"]["n_embd"] == 128 and len(state["tokenizer"]["vocabulary"]) == 65
    changed = dict(n_embd=64, n_head=2, n_layer=1, dropout=0.1)
    monkeypatch.setattr(train, "preset_named", lambda name: quick(presets()[name], block_size=32, gpt=changed))
    assert sample(out, console=Console(), tokens=20, seed=1) == 0
    assert len(capsys.readouterr().out) > 20
    assert run("gpt-cpu", out, 14, resume=True) == 0  # four more steps of the model as it was
    resumed = torch.load(out / train.CHECKPOINT, weights_only=False)
    assert resumed["step"] == 14 and resumed["model_arguments"] == state["model_arguments"]


@pytest.fixture(scope="session")  # once per worker, though xdist interleaves other modules
def bigram_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "bigram"
    with graded_folder_kept(), pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(train, "check_learner", lambda folder, preset, tokenizer="characters": ([], False))
        monkeypatch.setattr(train, "preset_named", lambda name: quick(presets()[name]))
        assert run("bigram", out, 40) == 0
    return out


def test_a_run_saved_before_tokenizers_were_named_still_samples(bigram_run, tmp_path):
    out = tmp_path / "older"
    out.mkdir()
    state = torch.load(bigram_run / train.CHECKPOINT, weights_only=False)
    state["vocabulary"] = state.pop("tokenizer")["vocabulary"]  # how checkpoints held the characters before
    torch.save(state, out / train.CHECKPOINT)
    assert sampled_text(out, seed=3) == sampled_text(bigram_run, seed=3)


def sampled_text(out, **options) -> str:
    console = Console(record=True, width=200)
    assert sample(out, console=console, tokens=60, **options) == 0
    return console.export_text()


def test_a_seed_repeats_a_sample_and_no_seed_says_which_was_drawn(bigram_run):
    assert sampled_text(bigram_run, seed=5) == sampled_text(bigram_run, seed=5)
    assert sampled_text(bigram_run, seed=5) != sampled_text(bigram_run, seed=6)
    assert "--seed" in sampled_text(bigram_run)  # how to get the same text again


def test_top_k_1_always_takes_the_likeliest_character(bigram_run):
    def text(**options):
        return sampled_text(bigram_run, **options).rsplit("(sampled by", 1)[0]  # without the line naming the seed

    assert text(seed=1, top_k=1) == text(seed=2, top_k=1, temperature=3.0)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (dict(temperature=0.0), "--temperature must be a number above 0 (got 0)"),
        (dict(temperature=-1.0), "--temperature must be a number above 0 (got -1)"),
        (dict(temperature=float("nan")), "--temperature must be a number above 0 (got nan)"),
        (dict(top_k=0), "--top-k must be between 1 and 65, the size of the run's vocabulary (got 0)"),
        (dict(top_k=66), "--top-k must be between 1 and 65, the size of the run's vocabulary (got 66)"),
        (dict(tokens=-1), "--tokens must be 0 or more (got -1)"),
        (dict(top_p=1.5), "--top-p must lie in (0, 1] (got 1.5)"),
        (dict(top_p=0.9), "--top-p comes with your own generation: it works once stage 10"),  # a bigram run
        (dict(prompt="Zoë"), "The prompt holds characters the run's vocabulary lacks: 'ë'."),
    ],
)
def test_bad_sampling_options_get_a_clear_error(bigram_run, options, message):
    console = Console(record=True, width=300)
    assert sample(bigram_run, console=console, **options) == 2
    assert message in console.export_text()


def test_sampling_a_folder_without_a_run_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="train a run first"):
        sample(tmp_path)


def test_the_progress_bar_shows_no_nan_before_the_first_loss():
    console = Console(record=True, width=120, force_terminal=True)
    progress = train.progress_bar(console, tokens_per_step=768)
    task = progress.add_task("training", total=100, loss=None)
    console.print(progress)
    before = console.export_text()
    assert "nan" not in before and "loss   —" in before and "— tokens/s" in before
    progress.update(task, advance=1, loss=2.5)
    console.print(progress)
    assert "loss 2.5000" in console.export_text()


def test_a_diverging_run_stops_with_a_message(tmp_path):
    folder = tmp_path / "diverges"
    shutil.copytree(SOLUTIONS, folder, ignore=shutil.ignore_patterns("__pycache__"))
    step = folder / "s04_training.py"
    step.write_text(step.read_text().replace("    return loss.item()", "    return float('nan')"))
    console = Console(record=True, width=300)
    assert run("bigram", tmp_path / "run", 5, console=console, folder=folder) == 1
    output = console.export_text()
    assert "the training loss became nan at step 0" in output and "nan" not in output.split("Training stopped")[0]


def test_a_gpt_run_samples_through_the_learners_own_stage_10_once_it_passes(tmp_path):
    out = tmp_path / "gpt"
    assert run("gpt-cpu", out, 5) == 0
    console = Console(record=True, width=300)
    assert sample(out, console=console, tokens=30, seed=3, top_p=0.9, temperature=0.8) == 0
    assert "sampled by your stage-10 generate, with its KV cache, seed 3" in console.export_text()


@pytest.mark.end_to_end
def test_a_run_on_the_learners_bpe_tokens_trains_and_samples_any_text(tmp_path):
    out = tmp_path / "bpe"
    assert run("gpt-cpu", out, 5, tokenizer="bpe") == 0
    state = torch.load(out / train.CHECKPOINT, weights_only=False)
    assert state["tokenizer"]["kind"] == "bpe" and len(state["tokenizer"]["merges"]) == 256
    assert state["model_arguments"]["config"]["vocab_size"] == 512
    console = Console(record=True, width=300)
    assert sample(out, console=console, tokens=20, seed=1, prompt="Zoë: ") == 0  # bytes: any text encodes
    assert console.export_text().startswith("Zoë: ")
