"""Stage 4 · Training loop.

Lecture: "training the bigram model" (34:53) and "port our code to a script" (38:00).

Batches arrive through `next_batch`, a function that returns a fresh (xb, yb) each call, so this
stage works with any data source. `model(xb, yb)` returns (logits, loss) as in stage 3.

Check it with `.venv/bin/kata check s04_training` (or `.venv/bin/pytest -m s04_training`) from the kata's
folder; `.venv/bin/kata hint s04_training` gives a hint.
"""

from collections.abc import Callable

import torch
import torch.nn as nn

Batch = tuple[torch.Tensor, torch.Tensor]


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, xb: torch.Tensor, yb: torch.Tensor) -> float:
    """One optimisation step: forward with targets, clear the old gradients, backward, optimizer step.

    Return the loss of this batch as a Python float.
    """
    raise NotImplementedError("stage s04_training: train_step")


def estimate_loss(model: nn.Module, next_batch: Callable[[], Batch], eval_iters: int) -> float:
    """Return the mean loss over `eval_iters` batches from next_batch(), as a float.

    Compute without gradients (torch.no_grad) and in eval mode, then put the model back in the
    mode it was in (training or not) before the call.
    """
    raise NotImplementedError("stage s04_training: estimate_loss")


def train(model: nn.Module, next_batch: Callable[[], Batch], steps: int, lr: float = 1e-3) -> list[float]:
    """Train with torch.optim.AdamW at learning rate `lr` for `steps` steps, one fresh batch each.

    Return the loss of every step (a list of `steps` floats).
    """
    raise NotImplementedError("stage s04_training: train")
