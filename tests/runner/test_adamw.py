"""kata's AdamW (kata/adamw.py) against torch.optim.AdamW: the same updates, and state dicts that each
loads from the other, so checkpoints resume whichever wrote them."""

import copy

import pytest
import torch

from kata import adamw
from kata.adamw import AdamW, fused_kernel_runs_on

pytestmark = pytest.mark.meta
SETTINGS = dict(lr=1e-2, betas=(0.9, 0.99), weight_decay=0.1)


def small_model() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))


def train(model, optimizer, steps: int, *, first_step: int = 0) -> None:
    """`steps` steps of a warm-up schedule, each on a batch drawn from the step's own seed."""
    for step in range(first_step, first_step + steps):
        for group in optimizer.param_groups:
            group["lr"] = SETTINGS["lr"] * (step + 1) / 30
        x = torch.randn(4, 5, generator=torch.Generator().manual_seed(step))
        loss = model(x).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def assert_same_weights(model, other) -> None:
    for ours, theirs in zip(model.parameters(), other.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_the_fused_kernel_runs_on_the_cpu_and_not_for_integers():
    assert fused_kernel_runs_on("cpu", torch.float32) and not fused_kernel_runs_on("cpu", torch.int64)


def test_kata_train_gets_torchs_adamw_where_the_fused_kernel_does_not_run(monkeypatch):
    assert type(adamw.adamw(small_model().parameters(), **SETTINGS)) is AdamW
    monkeypatch.setattr(adamw, "fused_kernel_runs_on", lambda device_type, dtype: False)
    assert type(adamw.adamw(small_model().parameters(), **SETTINGS)) is torch.optim.AdamW


def test_it_updates_the_weights_as_torchs_adamw_does():
    ours, theirs = small_model(), small_model()
    train(ours, AdamW(ours.parameters(), **SETTINGS), 30)
    train(theirs, torch.optim.AdamW(theirs.parameters(), **SETTINGS), 30)
    assert_same_weights(ours, theirs)
    assert not torch.equal(ours[0].weight, small_model()[0].weight)  # it did train


@pytest.mark.parametrize("saved_by, loaded_by", [(AdamW, torch.optim.AdamW), (torch.optim.AdamW, AdamW)])
def test_a_state_dict_saved_by_either_resumes_with_the_other(saved_by, loaded_by):
    model = small_model()
    optimizer = saved_by(model.parameters(), **SETTINGS)
    train(model, optimizer, 20)
    resumed = small_model()
    resumed.load_state_dict(model.state_dict())
    resumed_optimizer = loaded_by(resumed.parameters(), lr=1.0, betas=(0.5, 0.5), weight_decay=0.0)
    resumed_optimizer.load_state_dict(copy.deepcopy(optimizer.state_dict()))  # as torch.save and torch.load would
    train(model, optimizer, 10, first_step=20)
    train(resumed, resumed_optimizer, 10, first_step=20)
    assert_same_weights(resumed, model)


def test_zero_grad_clears_or_zeroes_the_gradients():
    model = small_model()
    optimizer = AdamW(model.parameters(), **SETTINGS)
    model(torch.ones(1, 5)).sum().backward()
    optimizer.zero_grad(set_to_none=False)
    assert all(torch.count_nonzero(parameter.grad) == 0 for parameter in model.parameters())
    optimizer.zero_grad()
    assert all(parameter.grad is None for parameter in model.parameters())
