"""Stage 4 · Training loop.

The models here are the tests' own (TableBigram in conftest.py), so this stage is graded without stage 3.
"""

import copy
import math

import pytest
import torch
from feedback import fail, show, times
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import at_most, random_tokens, seeds
from support import TableBigram, fixed_seed, lecture_get_batch
from torch import nn

from kata.implementation import StageModule, load_stage

pytestmark = pytest.mark.usefixtures("optimizer_machinery")  # its tests build optimizers

stage = StageModule("s04_training")

LECTURE_LOSS_AFTER_100_STEPS = 4.6563


class HandAdamW:
    """AdamW written out (decoupled weight decay, bias correction), with torch's defaults."""

    def __init__(self, parameters, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01):
        self.parameters = list(parameters)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.m = [torch.zeros_like(p) for p in self.parameters]
        self.v = [torch.zeros_like(p) for p in self.parameters]
        self.t = 0

    @torch.no_grad()
    def step(self, gradients):
        self.t += 1
        beta1, beta2 = self.betas
        for p, g, m, v in zip(self.parameters, gradients, self.m, self.v, strict=True):
            p.mul_(1 - self.lr * self.weight_decay)
            m.mul_(beta1).add_(g, alpha=1 - beta1)
            v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
            m_hat = m / (1 - beta1**self.t)
            v_hat = v / (1 - beta2**self.t)
            p.sub_(self.lr * m_hat / (v_hat.sqrt() + self.eps))


class HandSGD:
    """Plain SGD, p -= lr * gradient, to tell it from AdamW (other options, weight decay included, unused)."""

    def __init__(self, parameters, lr, **_):
        self.parameters, self.lr = list(parameters), lr

    @torch.no_grad()
    def step(self, gradients):
        for p, g in zip(self.parameters, gradients, strict=True):
            p.sub_(self.lr * g)


def hand_step(model, optimizer, xb, yb) -> float:
    _, loss = model(xb, yb)
    optimizer.step(torch.autograd.grad(loss, optimizer.parameters))
    return loss.item()


class UnclearedAdamW(HandAdamW):
    """HandAdamW fed gradients that add up across steps, as they do where nothing clears them."""

    def __init__(self, parameters, lr):
        super().__init__(parameters, lr)
        self.summed = [torch.zeros_like(parameter) for parameter in self.parameters]

    def step(self, gradients):
        self.summed = [earlier + new for earlier, new in zip(self.summed, gradients, strict=True)]
        super().step(self.summed)


def batches(count, vocab_size=8, seed=0):
    return [
        (random_tokens((4, 5), vocab_size, seed + 2 * k), random_tokens((4, 5), vocab_size, seed + 2 * k + 1))
        for k in range(count)
    ]


def small_model(seed=0, vocab_size=8):
    with fixed_seed(seed):
        return TableBigram(vocab_size)


def weights(model) -> torch.Tensor:
    return model.token_embedding_table.weight.detach()


LOSSES_AFTER_THE_UPDATES = (
    "The weights after the steps match AdamW's: only the losses returned differ. Each should be its batch's loss "
    "before the update, the one loss.backward() used."
)


def expect_same_weights(model, reference, call, step, *, before=None, uncleared=None):
    """`before`: the model's weights before this step; `uncleared`: a model trained with gradients never zeroed."""
    got, expected = weights(model), weights(reference)
    if torch.allclose(got, expected, atol=1e-6, rtol=0):
        return
    mistake = "Each step must: compute the loss, zero the old gradients, backward, optimizer.step(), in that order."
    if before is not None and torch.equal(got, before):
        mistake = (
            "The weights did not change: optimizer.step() did not run, or found no gradients. Call it after "
            "loss.backward(), and clear the old gradients before loss.backward(), not between the two."
        )
    elif uncleared is not None and torch.allclose(got, weights(uncleared), atol=1e-6, rtol=0):
        mistake = (
            "These are the weights that gradients adding up across steps give: clear them in each step, "
            "optimizer.zero_grad(set_to_none=True), before loss.backward()."
        )
    change = (got - expected).abs().max().item()
    fail(f"{call}: after step {step} the weights differ from a hand-written AdamW step by up to {change:.3g}", mistake)


# Optimizers that train differently from the lecture's AdamW, and what to change, for train's message.
OTHER_OPTIMIZERS = [
    (
        dict(weight_decay=0.01, fresh_each_step=True),
        "That is a new AdamW every step, which forgets its running averages: create it once, before the loop.",
    ),
    (dict(weight_decay=0.0), "That is AdamW without weight decay (or Adam): keep AdamW's default weight_decay, 0.01."),
    (dict(weight_decay=0.1), "That is weight_decay=0.1: keep AdamW's default, 0.01, as the lecture does."),
    (
        dict(weight_decay=0.01, betas=(0.9, 0.95)),
        "That is AdamW with betas=(0.9, 0.95), nanoGPT's: keep torch's defaults, (0.9, 0.999), as the lecture does.",
    ),
    (
        dict(weight_decay=0.0, optimizer=HandSGD),
        "That is plain SGD: train with torch.optim.AdamW(model.parameters(), lr=lr), as the lecture does.",
    ),
    (
        dict(weight_decay=0.01, lr=1e-3),
        "That is AdamW at lr=1e-3, train's default, not the lr=0.05 it was given: pass it on, "
        "torch.optim.AdamW(model.parameters(), lr=lr).",
    ),
]


LOG10_LOSSES = "These are the losses' log10 (makemore plots loss.log10()): record loss.item() itself."
SLOWER_THAN_LR = (
    "The first loss matches, but the weights moved less than AdamW at lr moves them: keep the learning rate at lr "
    "on every step (no warm-up, no schedule)."
)


def training_diagnosis(model, reference, start, data, losses, expected) -> str:
    """Why train's losses differ from AdamW's `expected` ones, where a known mistake explains it ("" if none)."""
    if all(math.isclose(got, math.log10(loss), abs_tol=1e-5) for got, loss in zip(losses, expected, strict=True)):
        return LOG10_LOSSES
    if torch.allclose(weights(model), weights(reference), atol=1e-6, rtol=0):
        return LOSSES_AFTER_THE_UPDATES
    if wrong_step := train_step_first():
        return wrong_step
    if diagnosis := optimizer_diagnosis(start, data, losses):
        return diagnosis
    moved, expected_move = (weights(model) - weights(start)).norm(), (weights(reference) - weights(start)).norm()
    return SLOWER_THAN_LR if math.isclose(losses[0], expected[0], abs_tol=1e-5) and moved < expected_move else ""


def train_step_first() -> str:
    """Where train_step, which train runs at every step, is wrong itself, say so first: train may well be right."""
    model = small_model(1)
    reference = copy.deepcopy(model)
    optimizer, hand = torch.optim.AdamW(model.parameters(), lr=0.1), HandAdamW(reference.parameters(), lr=0.1)
    try:
        for xb, yb in batches(2, seed=1):
            got, expected = stage.train_step(model, optimizer, xb, yb), hand_step(reference, hand, xb, yb)
            if not isinstance(got, float) or not math.isclose(got, expected, abs_tol=1e-5):
                break
            if not torch.allclose(weights(model), weights(reference), atol=1e-6, rtol=0):
                break
        else:
            return ""
    except Exception:  # a stub, or code that raises: its own test says so
        pass
    return (
        "train_step, which train runs at every step, is wrong itself (TestTrainStep says how): fix it first; train "
        "may well be right."
    )


def batch_order_hint() -> str:
    """Where train hands train_step a batch's targets as its inputs and its inputs as its targets, say so (a
    misleading-message hunt's train_step(model, optimizer, yb, xb) was told nothing, or that its loss is AdamW's)."""
    module, calls = load_stage("s04_training"), []
    original = module.train_step

    def recorded(*args, **kwargs):
        calls.append([*args[2:4], *kwargs.values()])
        return original(*args, **kwargs)

    xb, yb = batches(1, seed=3)[0]
    module.train_step = recorded  # train looks it up in its module at each step
    try:
        stage.train(small_model(2), lambda: (xb.clone(), yb.clone()), 1, lr=1e-3)
    except Exception:  # train's own tests say what is wrong there
        return ""
    finally:
        module.train_step = original
    handed = calls[0][:2] if calls else []
    if len(handed) == 2 and all(isinstance(t, torch.Tensor) for t in handed):
        if torch.equal(handed[0], yb) and torch.equal(handed[1], xb):
            return "train hands train_step the batch the wrong way round: train_step(model, optimizer, xb, yb)."
    return ""


def optimizer_diagnosis(start, data, losses) -> str:
    """Which other optimizer gives these losses on `data` from the weights of `start`, if any."""
    for settings, diagnosis in OTHER_OPTIMIZERS:
        model = copy.deepcopy(start)
        fresh = settings.get("fresh_each_step", False)
        betas = settings.get("betas", (0.9, 0.999))
        options = dict(lr=settings.get("lr", 0.05), weight_decay=settings["weight_decay"], betas=betas)
        kind = settings.get("optimizer", HandAdamW)
        hand = kind(model.parameters(), **options)
        replayed = []
        for xb, yb in data:
            optimizer = kind(model.parameters(), **options) if fresh else hand
            replayed.append(hand_step(model, optimizer, xb, yb))
        if all(math.isclose(a, b, abs_tol=1e-5) for a, b in zip(losses, replayed, strict=True)):
            return diagnosis
    return ""


class TestTrainStep:
    @given(seeds, st.sampled_from([1e-3, 1e-2, 0.1]))
    @example(0, 0.1)
    @at_most(25)  # each example trains four steps: fewer of them keep the suite fast
    def test_matches_a_hand_written_adamw_step_over_several_steps(self, seed, lr):
        model = small_model(seed)
        reference, uncleared = copy.deepcopy(model), copy.deepcopy(model)  # uncleared: gradients never zeroed
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        hand, hand_uncleared = HandAdamW(reference.parameters(), lr=lr), UnclearedAdamW(uncleared.parameters(), lr=lr)
        for step, (xb, yb) in enumerate(batches(4, seed=seed), start=1):
            before = weights(model).clone()
            got = stage.train_step(model, optimizer, xb, yb)
            expected = hand_step(reference, hand, xb, yb)
            hand_step(uncleared, hand_uncleared, xb, yb)
            call = f"train_step(model, AdamW(lr={lr}), xb, yb)"
            if not isinstance(got, float):
                fail(f"{call} should return the loss as a Python float (loss.item()), got {show(got)}")
            if not math.isclose(got, expected, abs_tol=1e-5):
                fail(
                    f"{call}: step {step} should return the batch's loss before the update, {expected:.6f}, got "
                    f"{got:.6f}"
                )
            expect_same_weights(model, reference, call, step, before=before, uncleared=uncleared)


class ProbeModel(TableBigram):
    """Records, at each forward, whether it and its submodule `dropout` (as a GPT's dropout layers) were in
    training mode, and whether gradients were on."""

    def __init__(self):
        super().__init__(8)
        self.dropout = nn.Dropout(0.0)
        self.seen = []

    def forward(self, idx, targets=None):
        self.seen.append((self.training, self.dropout.training, torch.is_grad_enabled()))
        return super().forward(idx, targets)


OUTER_MODULE_ONLY = (
    "Assigning model.training changes the outer module only; model.eval() and model.train(mode) set every "
    "submodule too, its dropout layers included."
)


def counting(batch_list):
    """A next_batch that serves batch_list in order and counts its calls. Past the end it serves fresh
    batches: a loop that fetches the next batch ahead of each step, as nanoGPT's train.py does, asks
    for one more than it trains on."""
    calls = []

    def next_batch():
        calls.append(len(calls))
        if len(calls) <= len(batch_list):
            return batch_list[len(calls) - 1]
        return batches(1, seed=1000 + len(calls))[0]

    return next_batch, calls


class TestEstimateLoss:
    def test_is_the_mean_loss_over_eval_iters_batches(self):
        model, data = small_model(3), batches(5)
        next_batch, calls = counting(data)
        got = stage.estimate_loss(model, next_batch, 5)
        with torch.no_grad():
            expected = sum(model(xb, yb)[1].item() for xb, yb in data) / 5
        if len(calls) != 5:
            fail(f"estimate_loss(model, next_batch, 5) should call next_batch 5 times, called it {times(len(calls))}")
        if not isinstance(got, float) or not math.isclose(got, expected, abs_tol=1e-5):
            fail(
                f"estimate_loss(model, next_batch, 5): expected the mean of the 5 losses, {expected:.6f}, got "
                f"{show(got)}"
            )

    def test_evaluates_in_eval_mode_without_gradients(self):
        model = ProbeModel()
        stage.estimate_loss(model, counting(batches(3))[0], 3)
        modes = [training for training, _, _ in model.seen]
        if modes and not modes[0] and any(modes):
            fail(
                f"estimate_loss called the model in eval mode for its first batch, then in training mode for batch "
                f"{modes.index(True) + 1}: the mode is put back inside the loop; put it back once, after the loop"
            )
        if any(modes):
            fail(
                "estimate_loss called the model in training mode: call model.eval() first (dropout must be off "
                "when evaluating)"
            )
        if any(dropout_training for _, dropout_training, _ in model.seen):
            fail("estimate_loss called the model with its dropout submodule in training mode", OUTER_MODULE_ONLY)
        if any(grad for _, _, grad in model.seen):
            fail(
                "estimate_loss ran the model with gradients on: wrap the loop in `with torch.no_grad():` (or "
                "decorate the function)"
            )
        if any(p.grad is not None for p in model.parameters()):
            fail("estimate_loss left gradients on the model's parameters: it must not call backward")

    def test_puts_the_model_back_in_the_mode_it_found(self):
        for start_in_training in (True, False):
            model = ProbeModel().train(start_in_training)
            stage.estimate_loss(model, counting(batches(2))[0], 2)
            if model.training != start_in_training:
                mode = "training" if start_in_training else "eval"
                fail(
                    f"A model in {mode} mode came back from estimate_loss in "
                    f"{'training' if model.training else 'eval'} mode: "
                    "remember model.training before model.eval(), then model.train(that value)"
                )
            if model.dropout.training != start_in_training:
                fail(
                    f"A model in {'training' if start_in_training else 'eval'} mode came back from estimate_loss "
                    f"with its dropout submodule in {'training' if model.dropout.training else 'eval'} mode",
                    OUTER_MODULE_ONLY,
                )


class TestTrain:
    def test_runs_adamw_at_the_given_rate_with_a_fresh_batch_per_step(self):
        model = small_model(1)
        reference = copy.deepcopy(model)
        data = batches(6)
        next_batch, calls = counting(data)
        losses = stage.train(model, next_batch, 6, lr=0.05)
        if len(calls) not in (6, 7):
            fail(
                "train(model, next_batch, 6) should call next_batch once per step (6 times, or 7 when it fetches "
                f"each next batch ahead), called it {times(len(calls))}"
            )
        start = copy.deepcopy(reference)
        hand = HandAdamW(reference.parameters(), lr=0.05)
        expected = [hand_step(reference, hand, xb, yb) for xb, yb in data]
        if not isinstance(losses, list) or len(losses) != 6 or not all(isinstance(loss, float) for loss in losses):
            tensors = isinstance(losses, list) and any(isinstance(loss, torch.Tensor) for loss in losses)
            fail(
                f"train(model, next_batch, 6) should return a list of 6 floats, got {show(losses)}",
                "Return each step's loss as a Python float, loss.item(): a tensor that still points into the "
                "autograd graph is no number to plot or average."
                if tensors
                else "",
            )
        if not all(math.isclose(a, b, abs_tol=1e-5) for a, b in zip(losses, expected, strict=True)):
            fail(
                f"train(model, next_batch, 6, lr=0.05): the losses {[round(x, 4) for x in losses]} differ from "
                f"torch.optim.AdamW at lr=0.05's {[round(x, 4) for x in expected]}",
                training_diagnosis(model, reference, start, data, losses, expected),
            )
        expect_same_weights(model, reference, "train(model, next_batch, 6, lr=0.05)", 6)

    def test_lowers_the_loss_on_the_corpus(self, train_ids, val_ids):
        model = small_model(0, vocab_size=65)
        generator = torch.Generator().manual_seed(0)
        losses = stage.train(model, lambda: lecture_get_batch(train_ids, 32, 8, generator), 300, lr=1e-2)
        val_generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            val_loss = sum(model(*lecture_get_batch(val_ids, 64, 8, val_generator))[1].item() for _ in range(10)) / 10
        if not val_loss < losses[0] - 1.0:
            fail(
                "train(bigram, <corpus batches>, 300, lr=1e-2): the loss should fall by over 1 nat, from "
                f"{losses[0]:.3f}; validation loss after training is {val_loss:.3f}",
                # a fresh model of 65 tokens starts near ln 65, whose log10 is about 0.62
                LOG10_LOSSES
                if math.log10(3.5) < losses[0] < math.log10(6)
                else train_step_first() or batch_order_hint(),
            )

    def test_reproduces_the_lectures_loss_after_100_steps(self, train_ids):
        with fixed_seed(1337):
            model = TableBigram(65)
            # The lecture samples 100 untrained tokens first; that draw moves the global generator along.
            idx = torch.zeros((1, 1), dtype=torch.long)
            for _ in range(100):
                probs = nn.functional.softmax(model(idx)[0][:, -1, :], dim=-1)
                idx = torch.cat((idx, torch.multinomial(probs, num_samples=1)), dim=1)
            losses = stage.train(model, lambda: lecture_get_batch(train_ids, 32, 8), 100, lr=1e-3)
        if not math.isclose(losses[-1], LECTURE_LOSS_AFTER_100_STEPS, abs_tol=1e-4):
            fail(
                f"The lecture's 100 AdamW steps (lr 1e-3, batch 32) end at loss {LECTURE_LOSS_AFTER_100_STEPS}; "
                f"train gave {losses[-1]:.4f}",
                LOG10_LOSSES
                if math.isclose(losses[-1], math.log10(LECTURE_LOSS_AFTER_100_STEPS), abs_tol=1e-4)
                else train_step_first() or batch_order_hint(),
            )
