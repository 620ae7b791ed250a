"""Stage 8 · The full GPT. The graded implementation's own stages 6 and 7 are used."""

import dataclasses
import math

import pytest
import torch
from feedback import (
    NEW_TOKENS_ALONE,
    close,
    expect_equal_tensors,
    expect_value_error,
    fail,
    pair,
    rearranged_like,
    show,
    time_major_hint,
)
from strategies import random_floats, random_tokens
from support import (
    expect_every_parameter_learns,
    expect_tensors_on_the_inputs_device,
    fixed_seed,
    recorded_dropout,
    recorded_inputs,
    shapes_only,
    submodule,
)
from torch import nn
from torch.nn import functional as F

from kata.implementation import StageModule

pytestmark = pytest.mark.usefixtures("optimizer_machinery")  # its tests build optimizers

stage = StageModule("s08_gpt")
transformer = StageModule("s07_transformer")

LECTURE_PARAMETERS = 10_788_929  # the lecture prints 10.788929 M
INITIAL_STD = 0.02  # the lecture's gpt.py draws every Linear and Embedding weight with this std
INITIALISATION = (
    "This stage asks for the initialisation of the lecture's gpt.py (the video itself kept PyTorch's defaults): "
    "every Linear and Embedding weight drawn from a normal with mean 0 and std 0.02, every Linear bias 0, with "
    "self.apply(self._init_weights) at the end of __init__."
)


def tiny_config(**changes):
    config = dict(vocab_size=20, block_size=8, n_embd=16, n_head=2, n_layer=2, dropout=0.0)
    return stage.GPTConfig(**{**config, **changes})


def tiny_gpt(seed=0, **changes):
    with fixed_seed(seed):
        return stage.GPTLanguageModel(tiny_config(**changes))


def forward_logits(model, idx: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """The logits of model(idx) without targets, once they have the (B, T, V) shape the stage asks for."""
    B, T = idx.shape
    logits, loss = pair(model(idx), "model(idx)")
    if loss is not None:
        fail(f"model(idx) without targets should return loss None, got {show(loss)}")
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (B, T, vocab_size):
        last_only = isinstance(logits, torch.Tensor) and tuple(logits.shape) == (B, 1, vocab_size)
        fail(
            f"model(idx of shape ({B}, {T})) without targets, V={vocab_size}: expected logits of shape "
            f"({B}, {T}, {vocab_size}), got {show(logits)}",
            "Those are the logits of the last position only, nanoGPT's shortcut for generation: this stage asks "
            "for every position's logits, lm_head of the whole (B, T, n_embd) stream, as the bigram model returns."
            if last_only
            else "",
        )
    return logits


def config_of(model):
    """model.config, which the docstring asks the model to keep, or a failure that says it is missing."""
    config = getattr(model, "config", None)
    if not isinstance(config, stage.GPTConfig):
        fail(
            f'GPTLanguageModel should keep the GPTConfig it was built with as self.config (the docstring: "Keep '
            f'config"); generate reads config.block_size from it. Got {show(config)}'
        )
    return config


def forward_loss(model, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The loss of model(idx, targets), once the logits are (B*T, V) and the loss a 0-dim tensor."""
    logits, loss = pair(model(idx, targets), "model(idx, targets)")
    (B, T), V = idx.shape, config_of(model).vocab_size
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (B * T, V):
        fail(
            f"model(idx of shape ({B}, {T}), targets): expected logits of shape ({B * T}, {V}), got {show(logits)}",
            "Those are the (B, T, V) logits, which nanoGPT returns beside its loss: this stage keeps the bigram's "
            "contract and returns the logits the loss was computed on, flattened with logits.view(B*T, V)."
            if isinstance(logits, torch.Tensor) and tuple(logits.shape) == (B, T, V)
            else "",
        )
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        fail(f"model(idx, targets): expected the loss as a 0-dim tensor, got {show(loss)}")
    return loss


STD_PASSED_AS_MEAN = (
    "Every weight has std about 1, the Linear ones too: nn.init.normal_(weight, 0.02) passes 0.02 as the mean, "
    "its second argument, and keeps std 1. Name it: nn.init.normal_(weight, mean=0.0, std=0.02)."
)


def lowest_initial_std(name: str, *, n_layer: int) -> float:
    """The smallest std a fresh weight may have: 0.02 for the embeddings and lm_head, and within the blocks as small
    as nanoGPT draws its residual projections, 0.02 / sqrt(2 n_layer), less the sampling noise of a small layer."""
    at_the_ends = name.startswith(("token_embedding_table", "position_embedding_table", "lm_head"))
    return 0.85 * INITIAL_STD / (1 if at_the_ends else math.sqrt(2 * n_layer))


def expect_a_fresh_layer_norm(name: str, norm: nn.Module) -> None:
    """A layer norm of a fresh model starts as the identity: its weight at ones and its bias at zeros."""
    for part_name, start in (("weight", 1.0), ("bias", 0.0)):
        values = getattr(norm, part_name, None)
        if isinstance(values, torch.Tensor) and not torch.all(values == start):
            fail(
                f"A fresh GPTLanguageModel's {name}.{part_name} should start at {start:g} everywhere, got values "
                f"with mean {values.mean().item():.3g} and std {values.std().item():.3g}",
                "Initialise only the Linear and Embedding weights (isinstance(module, nn.Linear) or nn.Embedding): "
                "a layer norm starts as the identity, at ones and zeros.",
            )


def loss_diagnosis(loss: torch.Tensor, logits: torch.Tensor, targets: torch.Tensor) -> str:
    """Which other loss of these (B, T, V) logits the learner's is, as a hint; "" when none."""
    (B, T, V), flat, flat_targets = logits.shape, logits.view(-1, logits.shape[-1]), targets.view(-1)
    shifted = F.cross_entropy(logits[:, :-1].reshape(-1, V), targets[:, 1:].reshape(-1))
    others = [
        (
            shifted,
            "That is the loss of logits[:, :-1] against targets[:, 1:], Hugging Face's shift: targets already hold "
            "the next tokens (y is x one token later), so compare them position by position, unshifted.",
        ),
        (
            F.cross_entropy(flat, flat_targets, ignore_index=0),
            "That leaves out the positions whose target is token 0 (ignore_index=0): every token id is a real "
            "character here, so count them all.",
        ),
        (
            B * T * F.cross_entropy(flat, flat_targets),
            "That is the sum over the positions: the loss is their mean, as F.cross_entropy gives by default.",
        ),
        (
            F.cross_entropy(flat.softmax(-1), flat_targets),
            "That is the cross-entropy of the probabilities: F.cross_entropy takes the logits and applies the "
            "softmax itself.",
        ),
    ]
    return next((hint for other, hint in others if close(loss, other, 1e-5)), "")


def part(model, name: str):
    return submodule(model, name, "GPTLanguageModel")


def through_blocks(blocks, x: torch.Tensor) -> torch.Tensor:
    for block in blocks:
        x = block(x)
    return x


def expect_no_dropout_outside_the_blocks(model, in_blocks: int) -> None:
    """The lecture's GPT drops only inside its blocks; nanoGPT's also drops the embeddings' sum, which passes."""
    idx = random_tokens((2, 8), 20, 8)
    with fixed_seed(0), recorded_dropout() as calls:
        model(idx)
    embeddings = part(model, "token_embedding_table")(idx) + part(model, "position_embedding_table")(torch.arange(8))
    on_embeddings = [dropout for dropout in calls if rearranged_like(dropout.input, embeddings, 0)]  # (B*T, C) too
    elsewhere = sum(dropout.active for dropout in calls) - in_blocks - len(on_embeddings[:1])
    if elsewhere > 0:
        fail(
            f"GPTLanguageModel(config with dropout=0.5) in training mode applies dropout {elsewhere} more "
            f"time{'s' if elsewhere > 1 else ''} than its blocks do, and not on the embeddings: the lecture's GPT "
            "drops only inside its blocks (nanoGPT also drops tok_emb + pos_emb). Remove the extra dropout"
        )


def registered_blocks(model) -> bool:
    blocks = getattr(model, "blocks", None)
    return isinstance(blocks, (nn.Sequential, nn.ModuleList)) and all(isinstance(block, nn.Module) for block in blocks)


def expect_blocks_of_heads(model, *, n_layer: int, n_head: int, block_size: int) -> None:
    """model.blocks: n_layer registered Blocks of n_head heads each, with a word for the arguments swapped."""
    blocks = getattr(model, "blocks", None)
    if not registered_blocks(model):
        fail(
            f"model.blocks should be an nn.Sequential of Blocks, got {type(blocks).__name__}: modules kept in a "
            "plain list are not registered, so their parameters are neither counted nor trained"
        )
    heads = [len(getattr(getattr(block, "sa", None), "heads", [])) for block in blocks]
    if (len(blocks), heads) != (n_layer, [n_head] * n_layer):
        swapped = {
            (n_head, n_layer): "n_layer and n_head are swapped",
            (n_layer, block_size): "n_head and block_size are swapped",
        }.get((len(blocks), heads[0] if len(set(heads)) == 1 else None))
        fail(
            f"GPTLanguageModel(config with n_layer={n_layer}, n_head={n_head}, block_size={block_size}): expected "
            f"{n_layer} blocks of {n_head} heads each, got {len(blocks)} blocks with {heads} heads",
            f"{swapped}: Block(n_embd, n_head, block_size, dropout) for _ in range(n_layer)." if swapped else "",
        )


class TestLecturesModel:
    def test_has_n_layer_blocks_of_n_head_heads(self):
        model = tiny_gpt(n_embd=24, n_head=4, n_layer=3)
        expect_blocks_of_heads(model, n_layer=3, n_head=4, block_size=8)
        blocks = model.blocks
        if len({id(block) for block in blocks}) != 3:
            fail(
                "model.blocks holds the same Block several times, so the layers share their weights: build a new "
                "Block for each layer"
            )

    def test_defaults_and_10_79_million_parameters(self):
        with shapes_only():
            model = stage.GPTLanguageModel(stage.GPTConfig())
        expected = dict(vocab_size=65, block_size=256, n_embd=384, n_head=6, n_layer=6, dropout=0.2)
        got = dataclasses.asdict(stage.GPTConfig())
        if got != expected:
            fail(f"GPTConfig(): expected the lecture's {expected}, got {got}")
        count = sum(p.numel() for p in model.parameters())
        if count != LECTURE_PARAMETERS:
            fail(
                f"GPTLanguageModel(GPTConfig()) should have {LECTURE_PARAMETERS:,} parameters (the lecture's "
                f"10.788929 M), got {count:,}",
                "That is 65 fewer, one per token: lm_head = nn.Linear(n_embd, vocab_size) keeps its bias."
                if LECTURE_PARAMETERS - count == 65
                else "That is one vocab_size x n_embd table fewer: the token embedding and lm_head share their "
                "weight (nanoGPT's weight tying, GPT-2's too); the lecture's GPT keeps them apart."
                if LECTURE_PARAMETERS - count == 65 * 384
                else "",
            )

    def test_initialises_weights_like_the_lecture(self):
        model = tiny_gpt(7, vocab_size=65, block_size=32, n_embd=64, n_head=4, n_layer=2)
        if registered_blocks(model):  # blocks of other heads than asked: weights too few to judge, or none
            expect_blocks_of_heads(model, n_layer=2, n_head=4, block_size=32)
        weighted = [module for module in model.modules() if isinstance(module, (nn.Linear, nn.Embedding))]
        # every weight at std 1, the Linear ones too (whose default is far smaller): normal_(weight, 0.02)
        std_one = all(abs(module.weight.std().item() - 1) < 0.15 for module in weighted)
        for name, module in model.named_modules():
            if "LayerNorm" in type(module).__name__:
                expect_a_fresh_layer_norm(name, module)
            if not isinstance(module, (nn.Linear, nn.Embedding)):
                continue
            std, mean = module.weight.std().item(), module.weight.mean().item()
            if not lowest_initial_std(name, n_layer=2) <= std <= 1.25 * INITIAL_STD or abs(mean) > 0.25 * INITIAL_STD:
                default = 1.0 if isinstance(module, nn.Embedding) else (3 * module.in_features) ** -0.5
                is_default = abs(std - default) < 0.15 * default and not std_one
                fail(
                    f"A fresh GPTLanguageModel's {name}.weight has mean {mean:.3g} and std {std:.3g}"
                    + (f", PyTorch's default for an {type(module).__name__}" if is_default else ""),
                    STD_PASSED_AS_MEAN if std_one else INITIALISATION,
                )
            if isinstance(module, nn.Linear) and module.bias is not None and module.bias.abs().max() > 0:
                fail(f"A fresh GPTLanguageModel's {name}.bias is not zero", INITIALISATION)

    def test_config_dropout_reaches_every_block(self):
        x = random_floats((2, 8, 16), 8)
        with fixed_seed(8), recorded_dropout() as calls:
            transformer.Block(16, 2, 8, 0.5).train()(x)
        if not any(dropout.active and dropout.p == 0.5 for dropout in calls):
            fail(
                "Your Block (stage 7) applies no dropout of p=0.5 in training mode even when built with "
                "dropout=0.5, so no GPT made of it can. Make `pytest -m s07_transformer` pass first"
            )
        model, in_blocks = tiny_gpt(8, dropout=0.5).train(), 0
        for number, block in enumerate(part(model, "blocks")):
            with fixed_seed(0), recorded_dropout() as calls:
                block(x)
            in_blocks += sum(dropout.active for dropout in calls)
            used = sorted({dropout.p for dropout in calls if dropout.active})
            if 0.5 not in used:
                found = f" (it uses p={', '.join(f'{p:g}' for p in used)})" if used else ""
                fail(
                    f"GPTLanguageModel(config with dropout=0.5) in training mode: block {number} applies no dropout "
                    f"of p=0.5{found}. Pass config.dropout to each Block(n_embd, n_head, block_size, dropout)"
                )
        expect_no_dropout_outside_the_blocks(model, in_blocks)

    def test_eval_mode_drops_nothing(self):
        model, idx = tiny_gpt(9, dropout=0.5).eval(), random_tokens((2, 8), 20, 9)
        with fixed_seed(0):
            first = forward_logits(model, idx, 20).detach()
        with fixed_seed(1):
            second = forward_logits(model, idx, 20).detach()
        if not torch.equal(first, second):
            fail(
                "GPTLanguageModel(config with dropout=0.5) in eval mode gave two different outputs for the same "
                "idx: something still drops after model.eval(). nn.Dropout turns itself off; F.dropout needs "
                "training=self.training"
            )


class TestForward:
    def test_contract_with_and_without_targets(self):
        model = tiny_gpt().eval()
        idx = random_tokens((3, 8), 20, 0)
        logits = forward_logits(model, idx, 20)
        forward_loss(model, idx, random_tokens((3, 8), 20, 1))
        # The loss does not depend on the order of the rows; the logits returned beside it do.
        flat, _ = model(idx, random_tokens((3, 8), 20, 1))
        expect_equal_tensors(
            flat,
            logits.reshape(24, 20),
            "model(idx of shape (3, 8), targets), in eval mode: the logits, against model(idx)'s flattened",
            atol=1e-5,
            hint=time_major_hint(flat, logits, 1e-5),
        )

    def test_is_embeddings_then_blocks_then_final_norm_then_head(self):
        model = tiny_gpt(6).eval()
        idx = random_tokens((2, 5), 20, 8)
        got = forward_logits(model, idx, 20)
        tokens, positions = part(model, "token_embedding_table")(idx), part(model, "position_embedding_table")
        lm_head, ln_f, blocks = part(model, "lm_head"), part(model, "ln_f"), part(model, "blocks")
        expected = lm_head(ln_f(through_blocks(blocks, tokens + positions(torch.arange(5)))))
        known = [
            (
                lm_head(ln_f(through_blocks(blocks, tokens))),
                "The position embedding is missing: add position_embedding_table(torch.arange(T)) to the token "
                "embedding before the blocks.",
            ),
            (
                lm_head(through_blocks(blocks, tokens + positions(torch.arange(5)))),
                "The final layer norm is skipped: apply ln_f to the blocks' output before lm_head.",
            ),
        ]
        hint = next(
            (diagnosis for logits, diagnosis in known if close(got, logits.detach(), atol=1e-5)),
            "Expected lm_head(ln_f(blocks(token_embedding + position_embedding))).",
        )
        call = "GPT forward on idx of shape (2, 5)"
        expect_equal_tensors(got.detach(), expected.detach(), call, atol=1e-5, hint=hint)

    def test_the_loss_is_the_mean_cross_entropy_of_its_logits(self):
        model = tiny_gpt(2).eval()
        idx, targets = random_tokens((3, 8), 20, 4), random_tokens((3, 8), 20, 5)
        targets[0, 0], targets[2, 7] = 0, 19  # the first and the last token id among them
        logits = forward_logits(model, idx, 20).detach()
        loss = forward_loss(model, idx, targets)
        flat, flat_targets = logits.view(24, 20), targets.view(24)
        expected = F.cross_entropy(flat, flat_targets)
        if not close(loss, expected, 1e-5):
            fail(
                f"model(idx of shape (3, 8), targets), in eval mode: expected the loss {expected.item():.6f}, the mean "
                f"cross-entropy of its logits against the targets, F.cross_entropy(logits.view(B*T, V), "
                f"targets.view(B*T)); got {loss.item():.6f}",
                loss_diagnosis(loss, logits, targets),
            )

    def test_rejects_a_sequence_longer_than_block_size(self):
        call = "model(idx of 9 tokens) with block_size 8"
        reason = "there is no position embedding for position 8, so check T against block_size before embedding"
        model, idx = tiny_gpt(), random_tokens((1, 9), 20, 0)
        expect_value_error(lambda: model(idx), call, reason)  # the lecture's code fails in the position embedding

    def test_makes_its_positions_on_the_inputs_device(self):
        model, idx, targets = tiny_gpt(), random_tokens((2, 5), 20, 0), random_tokens((2, 5), 20, 1)
        expect_tensors_on_the_inputs_device(lambda: model(idx, targets), "GPT forward on idx of shape (2, 5)")

    def test_a_fresh_model_starts_near_ln_V(self):
        model = tiny_gpt(3).eval()
        loss = forward_loss(model, random_tokens((4, 8), 20, 2), random_tokens((4, 8), 20, 3))
        if abs(loss.item() - math.log(20)) > 0.15:
            fail(
                f"A fresh GPT (V=20) should start near ln 20 = {math.log(20):.3f}; got {loss.item():.3f}",
                "With weights drawn with std 0.02 the logits start near 0, so every token starts about equally likely.",
            )

    def test_uses_the_position_of_each_token(self):
        model = tiny_gpt(1).eval()
        logits = forward_logits(model, torch.full((1, 4), 7), 20)
        if torch.allclose(logits[0, 0], logits[0, 1]):
            if torch.allclose(logits[0, 0], forward_logits(model, torch.full((1, 4), 3), 20)[0, 0]):
                fail(
                    "The same token at positions 0 and 1 gave the same logits, and so did another token: the "
                    "logits do not depend on the input at all",
                    "Look at what comes after the blocks: a fresh model's ln_f starts with weight ones and lm_head "
                    "with small random weights, and neither may start at zero.",
                )
            fail(
                "The same token at positions 0 and 1 gave the same logits: add the embedding of each position, "
                "position_embedding_table(torch.arange(T)), to the token embedding"
            )

    def test_the_past_never_depends_on_the_future(self):
        model = tiny_gpt(2).eval()
        idx = random_tokens((2, 8), 20, 4)
        changed = idx.clone()
        changed[:, 5:] = (changed[:, 5:] + 1) % 20
        logits, logits_changed = forward_logits(model, idx, 20), forward_logits(model, changed, 20)
        if not torch.allclose(logits[:, :5], logits_changed[:, :5], atol=1e-6, equal_nan=True):
            with fixed_seed(2):
                block = transformer.Block(16, 2, 8).eval()
            x = random_floats((2, 8, 16), 2)
            later_changed = x.clone()
            later_changed[:, 5:] += random_floats((2, 3, 16), 3)  # not a constant shift: the layer norms remove it
            if not torch.allclose(block(x)[:, :5], block(later_changed)[:, :5], atol=1e-6, equal_nan=True):
                fail(
                    "GPT: changing tokens after position 4 changed the logits at positions 0..4, and your Block "
                    "(stage 7) on its own looks ahead too. Make `pytest -m s07_transformer` pass first"
                )
            fail("GPT: changing tokens after position 4 changed the logits at positions 0..4")

    def test_every_parameter_learns_from_the_loss(self):
        model = tiny_gpt().eval()
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():  # weights of its own: a zero the initialisation leaves would stop a gradient too
            for parameter in model.parameters():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.5)
        idx, targets = random_tokens((3, 8), 20, 0), random_tokens((3, 8), 20, 1)
        idx[0, 0] = 0  # token 0, which an nn.Embedding(padding_idx=0) never trains
        call = "model(idx of shape (3, 8), targets)"
        expect_every_parameter_learns(model, forward_loss(model, idx, targets), call, tokens=idx)

    def test_overfits_one_batch(self):
        model = tiny_gpt(4).train()
        idx, targets = random_tokens((4, 8), 20, 5), random_tokens((4, 8), 20, 6)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
        for _ in range(150):
            loss = forward_loss(model, idx, targets)
            if loss.item() <= 0.1:
                break  # memorised: the rest of the steps would only cost time
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        if loss.item() > 0.1:
            fail(
                "150 AdamW steps on one fixed batch should drive the loss near 0 (a GPT can memorise it); it is "
                f"{loss.item():.3f}"
            )


def expected_generation(model, idx, max_new_tokens, seed: int | None):
    """What generate should return with a generator seeded `seed`; with None, the most likely tokens."""
    generator = None if seed is None else torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for _ in range(max_new_tokens):
            logits, _ = pair(model(idx[:, -config_of(model).block_size :]), "model(idx)")
            probs = torch.softmax(logits[:, -1, :], dim=-1)
            if generator is None:
                chosen = probs.argmax(dim=-1, keepdim=True)
            else:
                chosen = torch.multinomial(probs, num_samples=1, generator=generator)
            idx = torch.cat((idx, chosen), dim=1)
    return idx


def with_spread_logits(model):
    """`model` with its lm_head redrawn so that the logits of a step spread over a few units: a fresh model's are
    nearly even, and sampled alike whatever mild temperature a generate divides them by (nanoGPT's 0.8 passed)."""
    lm_head = submodule(model, "lm_head", "GPTLanguageModel")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        lm_head.weight.copy_(
            torch.randn(lm_head.weight.shape, generator=generator) * 2 / lm_head.weight.shape[1] ** 0.5
        )
    return model


def fed_the_last_block_size_tokens(fed: list, got, *, block_size: int) -> bool:
    """Whether each forward a generate made (its inputs, `fed`) took the last block_size tokens of what it had
    made until then, one step after another."""
    if not isinstance(got, torch.Tensor) or len(fed) < 2:
        return False
    start = got.shape[1] - len(fed)
    return all(torch.equal(given, got[:, : start + step][:, -block_size:]) for step, given in enumerate(fed))


def generated(model, idx, max_new_tokens):
    """model.generate with a seeded generator; a ValueError (a context longer than block_size) is explained."""
    try:
        return model.generate(idx, max_new_tokens, generator=torch.Generator().manual_seed(0))
    except ValueError as error:
        raised = str(error)
    block_size = config_of(model).block_size
    try:
        model(idx.new_zeros(1, block_size))
        hint = (
            "Feed the model only the last block_size tokens each step, idx[:, -block_size:]: it has no position "
            "embedding beyond."
        )
    except ValueError:
        hint = (
            f"Your forward rejects a sequence of exactly block_size ({block_size}) tokens, which fits: reject only "
            "T > block_size."
        )
    fail(
        f"generate(idx of shape {tuple(idx.shape)}, {max_new_tokens}) with block_size {block_size} "
        f"raised ValueError: {raised}",
        hint,
    )


class TestGenerate:
    def test_generate_makes_its_tensors_on_the_inputs_device(self):
        model, idx = tiny_gpt(5).eval(), random_tokens((1, 3), 20, 7)  # one row, as the check's prompt
        expect_tensors_on_the_inputs_device(lambda: generated(model, idx, 4), "generate(idx of shape (1, 3), 4)")

    def test_leaves_the_model_in_the_mode_it_found_it(self):
        model = tiny_gpt(5).train()
        generated(model, random_tokens((1, 2), 20, 7), 3)
        if not model.training:
            fail(
                "generate(idx, 3) on a model in training mode left it in eval mode, so training after a sample "
                "would run without dropout: leave the mode as the caller set it (or put it back after sampling)"
            )
        generated(model.eval(), random_tokens((1, 2), 20, 7), 3)
        if model.training:
            fail(
                "generate(idx, 3) on a model in eval mode left it in training mode, so an evaluation after a sample "
                "would drop: put back the mode the caller set (was_training = self.training, then "
                "self.train(was_training)), not always training mode"
            )

    def test_runs_past_block_size_on_the_last_block_size_tokens(self):
        model = with_spread_logits(tiny_gpt(5).eval())
        idx = random_tokens((2, 3), 20, 7)
        runs, fed = [], []
        for global_seed in (1, 2):  # a generate that ignores its generator draws from the global one
            with fixed_seed(global_seed), recorded_inputs(model) as inputs:
                runs.append(generated(model, idx, 12))
            fed.append(inputs)
        got, again = runs
        hint = "Feed the model idx[:, -block_size:] each step, sample the last position with the generator."
        if fed_the_last_block_size_tokens(fed[0], got, block_size=8):
            hint = (
                "Each step fed the model the right tokens, idx[:, -block_size:], but the tokens drawn are not from "
                "softmax(logits[:, -1, :]): sample the last position with torch.multinomial(F.softmax(logits[:, -1, "
                ":], dim=-1), num_samples=1, generator=generator), with nothing in between (no temperature, no "
                "top-k: stage 10 adds those)."
            )
        if close(got, expected_generation(model, idx, 12, seed=None), atol=0):
            hint = (
                "These are the most likely tokens, one after another: sample instead, "
                "torch.multinomial(probs, num_samples=1, generator=generator)."
            )
        if isinstance(got, torch.Tensor) and isinstance(again, torch.Tensor) and not torch.equal(got, again):
            hint = (
                "Two runs with generators seeded alike gave different tokens, so generate ignores its generator: "
                "sample with torch.multinomial(probs, num_samples=1, generator=generator). The stage asks for it "
                "(the lecture's generate has none) so that a seed makes samples reproducible."
            )
        if isinstance(got, torch.Tensor) and got.shape == (2, 12):
            hint = NEW_TOKENS_ALONE
        if isinstance(got, torch.Tensor) and got.shape == (2, 8 + 1):
            hint = (
                "That is block_size + 1 tokens: the crop replaced idx, so each step threw away the tokens before the "
                "window. Crop into a name of its own, idx_cond = idx[:, -block_size:], feed the model that, and "
                "append each new token to the whole idx."
            )
        expect_equal_tensors(
            got,
            expected_generation(model, idx, 12, 0),
            "generate(idx of shape (2, 3), 12) with block_size 8",
            hint=hint,
        )
