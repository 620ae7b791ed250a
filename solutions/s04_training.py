"""Stage 4 · Training loop (reference).

Lecture: "training the bigram model" (34:53) and "port our code to a script" (38:00). Batches come
in through a callable, so this stage works with any data source (and does not depend on stage 2).
"""

from collections.abc import Callable

import torch
import torch.nn as nn

Batch = tuple[torch.Tensor, torch.Tensor]


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, xb: torch.Tensor, yb: torch.Tensor) -> float:
    """One optimisation step on one batch; returns the batch's loss before the update."""
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)  # gradients add up across backward calls unless cleared
    loss.backward()
    optimizer.step()
    return loss.item()


@torch.no_grad()
def estimate_loss(model: nn.Module, next_batch: Callable[[], Batch], eval_iters: int) -> float:
    """The mean loss over eval_iters batches: a steadier figure than one batch's loss."""
    was_training = model.training
    model.eval()  # dropout and the like behave as at inference time
    losses = torch.zeros(eval_iters)
    for k in range(eval_iters):
        xb, yb = next_batch()
        _, loss = model(xb, yb)
        losses[k] = loss.item()
    model.train(was_training)
    return losses.mean().item()


def train(model: nn.Module, next_batch: Callable[[], Batch], steps: int, lr: float = 1e-3) -> list[float]:
    """`steps` AdamW steps, each on a fresh batch; returns the loss of every step."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        xb, yb = next_batch()
        losses.append(train_step(model, optimizer, xb, yb))
    return losses
