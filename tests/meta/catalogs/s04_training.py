"""Stage 4 · Training loop: mistakes and variants."""

from catalog import Edited as Mistake
from catalog import Edited as Variant
from catalog import replaced

MISTAKES = [
    # Source: a red-team pass (2026-12-07): the check trained for 2 to 6 steps, where the test runs 100, and a
    # forged pass of the test this fails counted.
    Mistake(
        "train-evaluates-every-50-steps",
        "s04_training",
        "printed estimate_loss every 50 steps inside train, which draws more batches",
        (
            (
                "    for _ in range(steps):\n",
                "    for step in range(steps):\n"
                "        if step > 0 and step % 50 == 0:  # report progress as the lecture does\n"
                '            print(f"step {step}: loss {estimate_loss(model, next_batch, 10):.4f}")\n',
            ),
        ),
        "",
    ),
    # Source: a misleading-message hunt (2026-12-07): its failures gave no cause.
    Mistake(
        "train-hands-the-batch-the-wrong-way-round",
        "s04_training",
        "called train_step(model, optimizer, yb, xb) in train",
        (
            (
                "        losses.append(train_step(model, optimizer, xb, yb))",
                "        losses.append(train_step(model, optimizer, yb, xb))",
            ),
        ),
        "train hands train_step the batch the wrong way round",
    ),
    # Source: a misleading-message hunt (2026-12-07): it was told to call model.eval() first, which it does.
    Mistake(
        "estimate-loss-puts-the-mode-back-inside-the-loop",
        "s04_training",
        "put the model's mode back inside the loop, after the first batch",
        (
            (
                "        losses[k] = loss.item()\n    model.train(was_training)",
                "        losses[k] = loss.item()\n        model.train(was_training)",
            ),
        ),
        "the mode is put back inside the loop",
        misleading=("call model.eval() first",),
    ),
    # Source: the seventh precision pass (2026-12-06): nanoGPT's train.py; the message had no hint for it.
    Mistake(
        "betas-like-nanogpt",
        "s04_training",
        "trained with nanoGPT's betas=(0.9, 0.95) instead of torch's defaults",
        (
            (
                "torch.optim.AdamW(model.parameters(), lr=lr)",
                "torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95))",
            ),
        ),
        "That is AdamW with betas=(0.9, 0.95)",
    ),
    # Source: the seventh precision pass (2026-12-06): train's test blamed the optimizer, whose weights were right.
    Mistake(
        "returns-the-loss-after-the-update",
        "s04_training",
        "returned the batch's loss computed again after optimizer.step()",
        (
            (
                "    optimizer.step()\n    return loss.item()",
                "    optimizer.step()\n    with torch.no_grad():\n"
                "        _, loss = model(xb, yb)\n    return loss.item()",
            ),
        ),
        "only the losses returned differ",
    ),
    # Source: the seventh precision pass (2026-12-06): the suite's and the check's models had no submodule, so
    # a mode set by assignment, which reaches the outer module alone, passed both.
    Mistake(
        "evaluates-with-model-training-false",
        "s04_training",
        "set model.training = False to evaluate, which leaves the submodules (dropout) in training mode",
        (("    model.eval()  # dropout", "    model.training = False  # dropout"),),
        "Assigning model.training changes the outer module only",
    ),
    Mistake(
        "restores-the-mode-by-assignment",
        "s04_training",
        "put the mode back with model.training = was_training, which leaves the submodules in eval mode",
        (("    model.train(was_training)", "    model.training = was_training"),),
        "with its dropout submodule in eval mode",
    ),
    # Source: the backing hunt of 2026-12-05: each failed a test that nothing the grader's check found backed.
    Mistake(
        "estimate-returns-tensor",
        "s04_training",
        "returned the estimate as a tensor, not a float",
        (("return losses.mean().item()", "return losses.mean()"),),
    ),
    Mistake(
        "no-zero-grad",
        "s04_training",
        "never cleared the gradients",
        (("    optimizer.zero_grad(set_to_none=True)  # gradients add up across backward calls unless cleared\n", ""),),
        "gradients adding up across steps",
    ),
    Mistake(
        "zero-grad-after-backward",
        "s04_training",
        "cleared the gradients between backward and step",
        (
            (
                "    optimizer.zero_grad(set_to_none=True)  # gradients add up across backward calls unless "
                "cleared\n    loss.backward()\n",
                "    loss.backward()\n    optimizer.zero_grad(set_to_none=True)\n",
            ),
        ),
        "The weights did not change",
    ),
    Mistake(
        "step-returns-a-tensor",
        "s04_training",
        "returned the loss tensor",
        (("    optimizer.step()\n    return loss.item()", "    optimizer.step()\n    return loss"),),
        "Python float",
    ),
    Mistake(
        "evaluates-in-training-mode",
        "s04_training",
        "never switched to eval mode",
        (("    model.eval()  # dropout and the like behave as at inference time\n", ""),),
        "model.eval()",
    ),
    Mistake(
        "eval-leaves-training-mode-on",
        "s04_training",
        "always switched back to training mode",
        (("model.train(was_training)", "model.train()"),),
        "came back from estimate_loss",
    ),
    Mistake(
        "evaluates-with-gradients",
        "s04_training",
        "evaluated with gradients on",
        (("@torch.no_grad()\n", ""),),
        "torch.no_grad()",
    ),
    Mistake(
        "estimate-reports-last-batch",
        "s04_training",
        "returned the last batch's loss",
        (("return losses.mean().item()", "return losses[-1].item()"),),
        "mean of the 5 losses",
    ),
    Mistake(
        "train-reuses-one-batch",
        "s04_training",
        "fetched one batch before the loop",
        (
            (
                "    for _ in range(steps):\n        xb, yb = next_batch()\n",
                "    xb, yb = next_batch()\n    for _ in range(steps):\n",
            ),
        ),
        "once per step",
    ),
    Mistake(
        "train-ignores-lr",
        "s04_training",
        "hard-coded the learning rate",
        (("AdamW(model.parameters(), lr=lr)", "AdamW(model.parameters(), lr=1e-3)"),),
        "That is AdamW at lr=1e-3, train's default, not the lr=0.05 it was given",
        misleading=("no warm-up, no schedule",),
    ),
    Mistake(
        "train-with-sgd",
        "s04_training",
        "used SGD instead of AdamW",
        (("torch.optim.AdamW(model.parameters(), lr=lr)", "torch.optim.SGD(model.parameters(), lr=lr)"),),
        "That is plain SGD",
        misleading=("no warm-up, no schedule",),
    ),
    Mistake(
        "train-new-optimizer-each-step",
        "s04_training",
        "created the optimizer inside the loop",
        (
            (
                "    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)\n    losses = []\n    for _ in "
                "range(steps):\n",
                "    losses = []\n    for _ in range(steps):\n"
                "        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)\n",
            ),
        ),
        "create it once, before the loop",
    ),
    Mistake(
        "train-weight-decay-0.1",
        "s04_training",
        "gave AdamW nanoGPT's weight_decay=0.1",
        (("AdamW(model.parameters(), lr=lr)", "AdamW(model.parameters(), lr=lr, weight_decay=0.1)"),),
        "keep AdamW's default, 0.01",
    ),
    Mistake(
        "train-with-adam",
        "s04_training",
        "used Adam (no weight decay) instead of AdamW",
        (("torch.optim.AdamW(model.parameters(), lr=lr)", "torch.optim.Adam(model.parameters(), lr=lr)"),),
        "without weight decay (or Adam)",
    ),
    # Source: the tenth precision pass (2026-12-06): karpathy/makemore part 3 (lossi.append(loss.log10().item())): the
    # training loss recorded as log10.
    # No hint before this pass: the message said only that the losses differ.
    Mistake(
        "train-records-log10-loss",
        "s04_training",
        "recorded each step's loss as its log10, as makemore plots it",
        (
            replaced(
                "s04_training",
                "train",
                """
def train(model, next_batch, steps, lr=1e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    lossi = []
    for i in range(steps):
        xb, yb = next_batch()
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        lossi.append(loss.log10().item())
    return lossi
""",
            ),
        ),
        "These are the losses' log10",
    ),
    # Source: the tenth precision pass (2026-12-06): learner bug: step before backward (so each step applies nothing
    # new, gradients cleared right after).
    Mistake(
        "step-before-backward",
        "s04_training",
        "called optimizer.step() before loss.backward()",
        (
            replaced(
                "s04_training",
                "train_step",
                """
def train_step(model, optimizer, xb, yb):
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    optimizer.step()
    loss.backward()
    return loss.item()
""",
            ),
        ),
        "did not run, or found no gradients. Call it after loss.backward()",
        # train's tests once blamed its learning rate for the late step (a graded notebook, 2026-12-06)
        misleading=("keep the learning rate at lr on every step",),
    ),
    # Source: the tenth precision pass (2026-12-06): learner bug: estimate_loss switches to eval and never switches
    # back (no model.train()).
    Mistake(
        "estimate-never-restores-mode",
        "s04_training",
        "left the model in eval mode after estimating the loss",
        (
            replaced(
                "s04_training",
                "estimate_loss",
                """
@torch.no_grad()
def estimate_loss(model, next_batch, eval_iters):
    model.eval()
    losses = torch.zeros(eval_iters)
    for k in range(eval_iters):
        xb, yb = next_batch()
        _, loss = model(xb, yb)
        losses[k] = loss.item()
    return losses.mean().item()
""",
            ),
        ),
        "remember model.training before model.eval(), then model.train(that value)",
    ),
    # Source: the tenth precision pass (2026-12-06): learner bug: the mean divides by eval_iters but the loop runs
    # eval_iters - 1 batches (range(1, eval_iters)).
    Mistake(
        "estimate-off-by-one-batches",
        "s04_training",
        "averaged the losses of eval_iters - 1 batches over eval_iters",
        (
            replaced(
                "s04_training",
                "estimate_loss",
                """
@torch.no_grad()
def estimate_loss(model, next_batch, eval_iters):
    was_training = model.training
    model.eval()
    total = 0.0
    for k in range(1, eval_iters):
        xb, yb = next_batch()
        _, loss = model(xb, yb)
        total += loss.item()
    model.train(was_training)
    return total / eval_iters
""",
            ),
        ),
        "should call next_batch 5 times, called it 4 times",
    ),
    # Source: the tenth precision pass (2026-12-06): learner bug: the list of step losses keeps the loss tensors
    # (graph attached), not floats.
    Mistake(
        "train-keeps-loss-tensors",
        "s04_training",
        "returned the detached loss tensors, not floats",
        (
            replaced(
                "s04_training",
                "train",
                """
def train(model, next_batch, steps, lr=1e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        xb, yb = next_batch()
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return losses
""",
            ),
        ),
        "loss.item()",
    ),
    # Source: the tenth precision pass (2026-12-06): nanoGPT train.py get_lr (linear warmup, then cosine decay): a
    # learner adds warmup to the kata's train.
    # No hint before this pass: the messages gave the wrong losses, not that the rate must stay at lr.
    Mistake(
        "train-with-warmup-like-nanogpt",
        "s04_training",
        "warmed the learning rate up over 100 steps, as nanoGPT does",
        (
            ("import torch\nimport torch.nn as nn\n", "import math\n\nimport torch\nimport torch.nn as nn\n"),
            replaced(
                "s04_training",
                "train",
                """
def train(model, next_batch, steps, lr=1e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    warmup_iters = 100  # nanoGPT's config/train_shakespeare_char.py
    losses = []
    for it in range(steps):
        cur = lr * (it + 1) / warmup_iters if it < warmup_iters else lr
        for param_group in optimizer.param_groups:
            param_group['lr'] = cur
        xb, yb = next_batch()
        losses.append(train_step(model, optimizer, xb, yb))
    return losses
""",
            ),
        ),
        "keep the learning rate at lr on every step",
    ),
    # Source: the tenth precision pass (2026-12-06): learner bug: loss = model(xb, yb) without unpacking the (logits,
    # loss) pair.
    # No hint before this pass: a bare AttributeError.
    Mistake(
        "forgets-to-unpack-the-pair",
        "s04_training",
        "called backward on the (logits, loss) pair without unpacking it",
        (
            replaced(
                "s04_training",
                "train_step",
                """
def train_step(model, optimizer, xb, yb):
    loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()
""",
            ),
        ),
        "The model returns the pair (logits, loss)",
    ),
    # Source: the sixth red-team pass (a helper, 2026-12-06): wrong only at an edge the tests try and the check
    # never drew, so a forged pass of the failing tests had counted.
    Mistake(
        "train-reseeds-the-global-generator",
        "s04_training",
        "seeded torch's global generator with the lecture's 1337 at the start of train",
        (
            (
                "    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)\n    losses = []",
                "    torch.manual_seed(1337)  # reproducible runs\n"
                "    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)\n    losses = []",
            ),
        ),
    ),
]

VARIANTS = [
    Variant(
        "zero-grad-before-forward",
        "s04_training",
        "clears gradients before the forward pass",
        (
            (
                "    _, loss = model(xb, yb)\n    optimizer.zero_grad(set_to_none=True)  # gradients add up across "
                "backward calls unless cleared\n",
                "    optimizer.zero_grad()\n    _, loss = model(xb, yb)\n",
            ),
        ),
    ),
    Variant(
        "estimate-with-a-list",
        "s04_training",
        "averages Python floats and restores the mode with if",
        (
            ("@torch.no_grad()\n", ""),
            (
                "    losses = torch.zeros(eval_iters)\n    for k in range(eval_iters):\n        xb, yb = "
                "next_batch()\n        _, loss = model(xb, yb)\n        losses[k] = loss.item()\n    "
                "model.train(was_training)\n    return losses.mean().item()",
                "    losses = []\n    with torch.no_grad():\n        for _ in range(eval_iters):\n            "
                "losses.append(model(*next_batch())[1].item())\n    if was_training:\n        model.train()\n    "
                "return sum(losses) / len(losses)",
            ),
        ),
    ),
    # Source: karpathy/nanoGPT train.py, its training loop: fetch the first batch before the loop, the next one right
    # after each forward (the GPU keeps working meanwhile), step, then clear the gradients.
    Variant(
        "train-prefetches-the-next-batch",
        "s04_training",
        "fetches each next batch ahead of the step, as nanoGPT's train.py does (steps + 1 calls)",
        (
            (
                "    losses = []\n    for _ in range(steps):\n        xb, yb = next_batch()\n        "
                "losses.append(train_step(model, optimizer, xb, yb))\n    return losses",
                "    losses = []\n    xb, yb = next_batch()\n    for _ in range(steps):\n        _, loss = "
                "model(xb, yb)\n        xb, yb = next_batch()\n        loss.backward()\n        optimizer.step()\n"
                "        optimizer.zero_grad(set_to_none=True)\n        losses.append(loss.item())\n    return losses",
            ),
        ),
    ),
    # Source: the lecture's gpt.py training loop, re-expressed in the kata's API (the seventh precision pass,
    # 2026-12-06).
    Variant(
        "training-loop-inline-like-the-lecture",
        "s04_training",
        "writes the lecture's loop out in train instead of calling train_step",
        (
            replaced(
                "s04_training",
                "train",
                """
def train(model, next_batch, steps, lr=1e-3):
    # the lecture's loop: sample a batch, evaluate the loss, zero, backward, step
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    lossi = []
    for iter in range(steps):
        xb, yb = next_batch()
        logits, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        lossi.append(loss.item())
    return lossi
""",
            ),
        ),
    ),
    # Source: rasbt/LLMs-from-scratch, ch05 calc_loss_batch and evaluate_model, re-expressed in the kata's API
    # (the seventh precision pass, 2026-12-06).
    Variant(
        "loss-computed-beside-the-model-like-llms-from-scratch",
        "s04_training",
        "calls the model without targets and computes the cross-entropy itself, as calc_loss_batch does",
        (
            replaced(
                "s04_training",
                "train_step",
                """
def train_step(model, optimizer, input_batch, target_batch):
    optimizer.zero_grad()
    logits, _ = model(input_batch)
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten())
    loss.backward()
    optimizer.step()
    return loss.item()
""",
            ),
            replaced(
                "s04_training",
                "estimate_loss",
                """
def estimate_loss(model, next_batch, eval_iters):
    was_training = model.training
    model.eval()
    total_loss = 0.0
    with torch.no_grad():
        for i in range(eval_iters):
            input_batch, target_batch = next_batch()
            logits, _ = model(input_batch)
            total_loss += torch.nn.functional.cross_entropy(logits.flatten(0, 1), target_batch.flatten()).item()
    model.train(was_training)
    return total_loss / eval_iters
""",
            ),
        ),
    ),
    # Source: the seventh precision pass, 2026-12-06.
    Variant(
        "evaluates-under-inference-mode",
        "s04_training",
        "evaluates under torch.inference_mode and restores the mode in a finally block",
        (
            replaced(
                "s04_training",
                "estimate_loss",
                """
def estimate_loss(model, next_batch, eval_iters):
    mode = model.training
    model.eval()
    try:
        with torch.inference_mode():
            losses = torch.stack([model(*next_batch())[1] for _ in range(eval_iters)])
        return losses.mean().item()
    finally:
        model.train(mode)
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): rasbt/LLMs-from-scratch ch05 train_model_simple
    # (optimizer.zero_grad() first; loss.backward(); optimizer.step()); float(loss) for the value.
    Variant(
        "llms-from-scratch-order-float",
        "s04_training",
        "clears the gradients before the forward pass and returns float(loss)",
        (
            replaced(
                "s04_training",
                "train_step",
                """
def train_step(model, optimizer, xb, yb):
    optimizer.zero_grad()
    logits, loss = model(xb, yb)
    loss.backward()
    optimizer.step()
    return float(loss)
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): the lecture's estimate_loss (torch.zeros(eval_iters); losses[k] =
    # loss.item(); model.eval()/model.train()), restoring the mode with an if/else and returning float(losses.mean()).
    Variant(
        "lecture-estimate-if-else",
        "s04_training",
        "restores the mode with an if/else and returns float(losses.mean())",
        (
            replaced(
                "s04_training",
                "estimate_loss",
                """
@torch.no_grad()
def estimate_loss(model, next_batch, eval_iters):
    training = model.training
    model.eval()
    losses = torch.zeros(eval_iters)
    for k in range(eval_iters):
        X, Y = next_batch()
        logits, loss = model(X, Y)
        losses[k] = loss.item()
    out = float(losses.mean())
    if training:
        model.train()
    else:
        model.eval()
    return out
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): ramprasathk07/Mini-LLaMa-From-Scratch test.py (evaluate_loss:
    # losses.append(loss.item()); np.mean(losses)), re-expressed in the kata's API. np.mean returns np.float64, a
    # subclass of float. The grader's check took its np.float64 for a wrong type.
    Variant(
        "numpy-mean-estimate",
        "s04_training",
        "returns np.mean of the losses",
        (
            ("import torch\nimport torch.nn as nn\n", "import numpy as np\nimport torch\nimport torch.nn as nn\n"),
            replaced(
                "s04_training",
                "estimate_loss",
                """
def estimate_loss(model, next_batch, eval_iters):
    prev = model.training
    model.eval()
    vals = []
    with torch.no_grad():
        for _ in range(eval_iters):
            xb, yb = next_batch()
            vals.append(model(xb, yb)[1].item())
    model.train(prev)
    return np.mean(vals)
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): the lecture's gpt.py loop with positional lr,
    # zero_grad(set_to_none=False) and the loop variable named "steps" shadowing the argument after range() was
    # evaluated.
    Variant(
        "positional-lr-shadowed-steps",
        "s04_training",
        "passes lr positionally, clears with set_to_none=False and reuses the name steps for the loop variable",
        (
            replaced(
                "s04_training",
                "train",
                """
def train(model, next_batch, steps, lr=1e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr)
    losses = []
    for steps in range(steps):
        xb, yb = next_batch()
        logits, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): karpathy/minGPT mingpt/trainer.py
    # (model.zero_grad(set_to_none=True); loss.backward(); optimizer.step()), without the clipping.
    Variant(
        "mingpt-model-zero-grad",
        "s04_training",
        "clears the gradients with model.zero_grad after the forward pass, as minGPT does",
        (
            replaced(
                "s04_training",
                "train_step",
                """
def train_step(model, optimizer, xb, yb):
    logits, loss = model(xb, yb)
    model.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): nanoGPT model.py configure_optimizers spelled out with torch's
    # defaults (betas, eps, weight_decay 0.01) and foreach=False (a learner avoiding the multi-tensor path).
    Variant(
        "adamw-explicit-defaults-foreach-off",
        "s04_training",
        "spells out AdamW's defaults and sets foreach=False",
        (
            replaced(
                "s04_training",
                "train",
                """
def train(model, next_batch, steps, lr=1e-3):
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=0.01, foreach=False)
    return [train_step(model, optimizer, *next_batch()) for _ in range(steps)]
""",
            ),
        ),
    ),
    # Source: the tenth precision pass (2026-12-06): nanoGPT train.py (model.train() after evaluation): a train_step
    # that puts the model in training mode first.
    Variant(
        "train-step-sets-training-mode",
        "s04_training",
        "puts the model in training mode at the start of train_step",
        (
            replaced(
                "s04_training",
                "train_step",
                """
def train_step(model, optimizer, xb, yb):
    model.train()
    _, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()
""",
            ),
        ),
    ),
    # Source: the precision pass of 2026-12-07, after nanoGPT's configure_optimizers (the fused kernel where torch
    # has one).
    Variant(
        "train-with-fused-adamw",
        "s04_training",
        "asks AdamW for its fused kernel where its signature has one, as nanoGPT's configure_optimizers does",
        (
            replaced(
                "s04_training",
                "train",
                """
def train(model, next_batch, steps, lr=1e-3):
    import inspect

    fused_available = "fused" in inspect.signature(torch.optim.AdamW).parameters
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, fused=fused_available)
    return [train_step(model, optimizer, *next_batch()) for _ in range(steps)]
""",
            ),
        ),
    ),
    # Source: the false-pass hunt of 2026-12-07, which asked whether to accept it: it differs only for a model that
    # arrives holding gradients from elsewhere, which neither the kata nor the lecture ever hands train_step.
    Variant(
        "zero-grad-after-the-step",
        "s04_training",
        "clears the gradients after the optimizer's step instead of before the backward pass",
        (
            (
                "    optimizer.zero_grad(set_to_none=True)  # gradients add up across backward calls unless cleared\n"
                "    loss.backward()\n"
                "    optimizer.step()\n",
                "    loss.backward()\n    optimizer.step()\n    optimizer.zero_grad(set_to_none=True)\n",
            ),
        ),
    ),
    # The same hunt: a mean over the tokens rather than over the batches, equal where every batch has one size, as
    # get_batch's do.
    Variant(
        "estimate-loss-weighted-by-tokens",
        "s04_training",
        "averages the evaluation losses weighted by each batch's tokens",
        (
            (
                "    losses = torch.zeros(eval_iters)\n"
                "    for k in range(eval_iters):\n"
                "        xb, yb = next_batch()\n"
                "        _, loss = model(xb, yb)\n"
                "        losses[k] = loss.item()\n"
                "    model.train(was_training)\n"
                "    return losses.mean().item()\n",
                "    total, tokens = 0.0, 0\n"
                "    for _ in range(eval_iters):\n"
                "        xb, yb = next_batch()\n"
                "        _, loss = model(xb, yb)\n"
                "        total += loss.item() * yb.numel()\n"
                "        tokens += yb.numel()\n"
                "    model.train(was_training)\n"
                "    return total / tokens\n",
            ),
        ),
    ),
]
