"""`kata train` and `kata sample` on the references, small: Ctrl-C, --resume, the run folder."""

import dataclasses
import os
import signal

import pytest
import torch
from rich.console import Console

from kata import train
from kata.manifest import REPOSITORY_ROOT

pytestmark = [pytest.mark.meta, pytest.mark.xdist_group("train")]
SOLUTIONS = REPOSITORY_ROOT / "solutions"


@pytest.fixture(autouse=True)
def quick_runs(monkeypatch):
    """The references are trusted here (the stage checks are tested elsewhere), and evaluations
    are short: these tests are about the run's mechanics, not its figures."""
    monkeypatch.setattr(train, "check_learner", lambda folder, preset: ([], preset.model == "gpt"))
    for name, preset in train.PRESETS.items():
        monkeypatch.setitem(
            train.PRESETS, name, dataclasses.replace(preset, eval_interval=20, eval_iters=4, final_eval_iters=4)
        )


def run(preset, out, steps, resume=False):
    return train.train_command(preset, SOLUTIONS, "cpu", steps, 7, out, resume, Console(quiet=True))


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
    assert run("bigram", tmp_path / "stopped", 60, resume=True) == 0
    straight = torch.load(tmp_path / "straight" / train.CHECKPOINT, weights_only=False)
    resumed = torch.load(tmp_path / "stopped" / train.CHECKPOINT, weights_only=False)
    for name, tensor in straight["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name
    strip = lambda rows: [{k: v for k, v in row.items() if k != "elapsed_s"} for row in rows]  # noqa: E731
    assert strip(resumed["metrics"]) == strip(straight["metrics"])


def test_a_gpt_run_writes_its_folder_and_samples(tmp_path, capsys):
    out = tmp_path / "gpt"
    assert run("gpt-cpu", out, 20) == 0
    for name in ("checkpoint.pt", "metrics.csv", "loss.png", "attention.png", "sample.txt"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert train.sample_command(out, 40, "ROMEO:", None, Console()) == 0
    assert capsys.readouterr().out.startswith("ROMEO:")
