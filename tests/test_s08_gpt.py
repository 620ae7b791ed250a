"""Stage 8 · The full GPT. The graded implementation's own stages 6 and 7 are used."""

import dataclasses
import math

import pytest
import torch
from feedback import expect_equal_tensors, fail, show
from strategies import random_tokens
from support import fixed_seed

from kata.implementation import StageModule

stage = StageModule("s08_gpt")

LECTURE_PARAMETERS = 10_788_929  # the lecture prints 10.788929 M


def tiny_config(**changes):
    config = dict(vocab_size=20, block_size=8, n_embd=16, n_head=2, n_layer=2, dropout=0.0)
    return stage.GPTConfig(**{**config, **changes})


def tiny_gpt(seed=0, **changes):
    with fixed_seed(seed):
        return stage.GPTLanguageModel(tiny_config(**changes))


class TestLecturesModel:
    def test_defaults_and_10_79_million_parameters(self):
        with fixed_seed(0):
            model = stage.GPTLanguageModel(stage.GPTConfig())
        expected = dict(vocab_size=65, block_size=256, n_embd=384, n_head=6, n_layer=6, dropout=0.2)
        got = dataclasses.asdict(stage.GPTConfig())
        if got != expected:
            fail(f"GPTConfig(): expected the lecture's {expected}, got {got}")
        count = sum(p.numel() for p in model.parameters())
        if count != LECTURE_PARAMETERS:
            fail(
                f"GPTLanguageModel(GPTConfig()) should have {LECTURE_PARAMETERS:,} parameters (the lecture's "
                f"10.788929 M), got {count:,}"
            )


class TestForward:
    def test_contract_with_and_without_targets(self):
        model = tiny_gpt().eval()
        idx = random_tokens((3, 8), 20, 0)
        logits, loss = model(idx)
        if tuple(logits.shape) != (3, 8, 20) or loss is not None:
            fail(
                f"model(idx of shape (3, 8)), V=20: expected logits (3, 8, 20) and loss None, got {show(logits)} "
                f"and {show(loss)}"
            )
        logits, loss = model(idx, random_tokens((3, 8), 20, 1))
        if tuple(logits.shape) != (24, 20) or not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            fail(f"model(idx, targets): expected logits (24, 20) and a 0-dim loss, got {show(logits)} and {show(loss)}")

    def test_is_embeddings_then_blocks_then_final_norm_then_head(self):
        model = tiny_gpt(6).eval()
        idx = random_tokens((2, 5), 20, 8)
        x = model.token_embedding_table(idx) + model.position_embedding_table(torch.arange(5))
        expected = model.lm_head(model.ln_f(model.blocks(x)))
        hint = "Expected lm_head(ln_f(blocks(token_embedding + position_embedding)))."
        expect_equal_tensors(
            model(idx)[0].detach(), expected.detach(), "GPT forward on idx of shape (2, 5)", atol=1e-5, hint=hint
        )

    def test_rejects_a_sequence_longer_than_block_size(self):
        with pytest.raises(ValueError):
            tiny_gpt()(random_tokens((1, 9), 20, 0))
            fail(
                "model(idx of 9 tokens) with block_size 8 should raise ValueError: there is no position embedding "
                "for position 8"
            )

    def test_a_fresh_model_starts_near_ln_V(self):
        model = tiny_gpt(3).eval()
        _, loss = model(random_tokens((4, 8), 20, 2), random_tokens((4, 8), 20, 3))
        if abs(loss.item() - math.log(20)) > 0.15:
            fail(
                f"A fresh GPT (V=20) should start near ln 20 = {math.log(20):.3f}; got {loss.item():.3f}. "
                "Initialise Linear and Embedding weights with std 0.02, biases at 0."
            )

    def test_uses_the_position_of_each_token(self):
        logits, _ = tiny_gpt(1).eval()(torch.full((1, 4), 7))
        if torch.allclose(logits[0, 0], logits[0, 1]):
            fail(
                "The same token at positions 0 and 1 gave the same logits: add the position embedding to the token "
                "embedding"
            )

    def test_the_past_never_depends_on_the_future(self):
        model = tiny_gpt(2).eval()
        idx = random_tokens((2, 8), 20, 4)
        changed = idx.clone()
        changed[:, 5:] = (changed[:, 5:] + 1) % 20
        if not torch.allclose(model(idx)[0][:, :5], model(changed)[0][:, :5], atol=1e-6):
            fail("GPT: changing tokens after position 4 changed the logits at positions 0..4")

    def test_overfits_one_batch(self):
        model = tiny_gpt(4).train()
        idx, targets = random_tokens((4, 8), 20, 5), random_tokens((4, 8), 20, 6)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(150):
            _, loss = model(idx, targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if loss.item() > 0.1:
            fail(
                "150 AdamW steps on one fixed batch should drive the loss near 0 (a GPT can memorise it); it is "
                f"{loss.item():.3f}"
            )


def expected_generation(model, idx, max_new_tokens, seed):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(max_new_tokens):
            probs = torch.softmax(model(idx[:, -model.config.block_size :])[0][:, -1, :], dim=-1)
            idx = torch.cat((idx, torch.multinomial(probs, num_samples=1, generator=generator)), dim=1)
    return idx


class TestGenerate:
    def test_runs_past_block_size_on_the_last_block_size_tokens(self):
        model = tiny_gpt(5).eval()
        idx = random_tokens((2, 3), 20, 7)
        got = model.generate(idx, 12, generator=torch.Generator().manual_seed(0))
        hint = "Feed the model idx[:, -block_size:] each step, sample the last position with the generator."
        expect_equal_tensors(
            got,
            expected_generation(model, idx, 12, 0),
            "generate(idx of shape (2, 3), 12) with block_size 8",
            hint=hint,
        )
