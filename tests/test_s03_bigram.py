"""Stage 3 · Bigram language model."""

import math

import torch
from feedback import NEW_TOKENS_ALONE, close, expect_equal_tensors, expect_tensor, fail, pair, show, time_major_hint
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import random_floats, random_tokens, seeds
from support import fixed_seed
from torch import nn
from torch.nn import functional as F

from kata.implementation import StageModule

stage = StageModule("s03_bigram")

LECTURE_FIRST_LOSS = 4.8786
LECTURE_UNTRAINED_SAMPLE = "\nSKIcLT;AcELMoTbvZv C?nq-"


def model_with_table(table: torch.Tensor):
    """A graded model whose lookup table holds `table` (V, V)."""
    V = table.shape[0]
    model = stage.BigramLanguageModel(V)
    layer = getattr(model, "token_embedding_table", None)
    if not isinstance(layer, nn.Embedding) or layer.weight.shape != table.shape:
        fail(f"BigramLanguageModel({V}).token_embedding_table: expected nn.Embedding({V}, {V}), got {layer!r}")
    with torch.no_grad():
        layer.weight.copy_(table)
    return model


def successor_table(vocab_size: int) -> torch.Tensor:
    """A table under which token i is followed by token (i + 1) % V with certainty."""
    table = torch.full((vocab_size, vocab_size), -1e4)
    table[torch.arange(vocab_size), (torch.arange(vocab_size) + 1) % vocab_size] = 0.0
    return table


class TestForward:
    def test_the_table_is_an_embedding_of_vocab_size_by_vocab_size(self):
        with fixed_seed(0):
            model = stage.BigramLanguageModel(7)
        table = getattr(model, "token_embedding_table", None)
        if not isinstance(table, nn.Embedding) or tuple(table.weight.shape) != (7, 7):
            fail(f"BigramLanguageModel(7).token_embedding_table: expected nn.Embedding(7, 7), got {table!r}")
        count = sum(parameter.numel() for parameter in model.parameters())
        if count != 7 * 7:
            fail(
                f"BigramLanguageModel(7) has {count} parameters, where its table alone has 49: a bigram's logits are "
                "the table's rows, with no layer after it (lm_head comes with the next model of the lecture)"
            )

    @given(seeds, st.integers(1, 4), st.integers(1, 9), st.integers(1, 30))
    @example(0, 2, 3, 5)
    def test_shapes_for_any_batch_time_and_vocabulary(self, seed, B, T, V):
        with fixed_seed(seed):
            model = stage.BigramLanguageModel(V)
        idx = random_tokens((B, T), V, seed)
        logits, loss = pair(model(idx), f"model(idx of shape ({B}, {T}))")
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (B, T, V) or loss is not None:
            fail(
                f"model(idx of shape ({B}, {T})) with V={V}, no targets: expected logits ({B}, {T}, {V}) and loss "
                f"None, got {show(logits)} and {show(loss)}"
            )
        call = f"model(idx, targets) with B={B}, T={T}, V={V}"
        logits, loss = pair(model(idx, random_tokens((B, T), V, seed + 1)), call)
        expect_flattened_logits(logits, B * T, V, call)
        loss_value(loss, call)

    @given(seeds, st.integers(1, 4), st.integers(1, 9), st.integers(2, 30))
    @example(0, 2, 3, 5)
    def test_loss_is_the_mean_cross_entropy(self, seed, B, T, V):
        table = random_floats((V, V), seed)
        idx, targets = random_tokens((B, T), V, seed), random_tokens((B, T), V, seed + 1)
        call = f"model(idx, targets) with B={B}, T={T}, V={V} and a known table"
        logits, loss = pair(model_with_table(table)(idx, targets), call)
        expect_flattened_logits(logits, B * T, V, call)
        expected = -F.log_softmax(table[idx], dim=-1).gather(-1, targets.unsqueeze(-1)).mean()
        got = loss_value(loss, call)
        if not math.isclose(got, expected.item(), abs_tol=1e-5):
            hint = ""
            if math.isclose(got, expected.item() * B * T, rel_tol=1e-5) and B * T > 1:
                hint = "That is the sum over the positions: the loss is their mean."
            shifted = F.cross_entropy(table[idx][:, :-1].reshape(-1, V), targets[:, 1:].reshape(-1)) if T > 1 else None
            if shifted is not None and math.isclose(got, shifted.item(), abs_tol=1e-5):
                hint = (
                    "That pairs each position with the target after its own: targets already hold the next tokens "
                    "(y is x one token later), so compare logits and targets position by position, unshifted."
                )
            probabilities = F.softmax(table[idx].view(B * T, V), dim=-1)
            if math.isclose(got, F.cross_entropy(probabilities, targets.view(-1)).item(), abs_tol=1e-5):
                hint = SOFTMAX_BEFORE_CROSS_ENTROPY
            if math.isclose(got, F.nll_loss(table[idx].view(B * T, V), targets.view(-1)).item(), abs_tol=1e-5):
                hint = (
                    "That is F.nll_loss of the raw logits, which expects log-probabilities: use "
                    "F.cross_entropy(logits, targets), which takes the log-softmax itself."
                )
            fail(
                f"{call}: expected the mean cross-entropy {expected.item():.6f} (of the logits against the targets), "
                f"got {got!r}",
                hint,
            )
        # The mean loss does not depend on the order of the rows; the logits returned beside it do.
        hint = time_major_hint(logits, table[idx], 1e-6)
        expect_equal_tensors(logits, table[idx].view(B * T, V), f"{call}, the logits", atol=1e-6, hint=hint)

    def test_the_loss_sends_its_gradient_to_the_table(self):
        V, B, T = 5, 2, 3
        table, targets = random_floats((V, V), 9), random_tokens((B, T), V, 10)
        idx = torch.tensor([[0, 0, 3], [2, 0, 4]])  # token 0 three times: its row adds three positions' gradients
        model = model_with_table(table)
        call = f"model(idx, targets) with B={B}, T={T}, V={V}, then loss.backward()"
        _, loss = pair(model(idx, targets), call)
        if not isinstance(loss, torch.Tensor) or not loss.requires_grad:
            fail(
                f"{call}: the loss does not depend on the table's weight, so training cannot change it",
                "Compute the logits from the table itself, self.token_embedding_table(idx): .data, .detach(), "
                "torch.no_grad() or .item() cuts the loss off from it.",
            )
        loss.backward()
        grad = model.token_embedding_table.weight.grad
        if grad is None or grad.is_sparse:
            fail(
                f"{call}: the table's weight got "
                + ("no gradient" if grad is None else "a sparse gradient, which AdamW refuses"),
                "Build the table as nn.Embedding(vocab_size, vocab_size), without sparse=True."
                if grad is not None
                else "",
            )
        leaf = table.clone().requires_grad_()
        F.cross_entropy(leaf[idx].view(B * T, V), targets.view(-1)).backward()
        hint = (
            "Row 0 got its gradient divided by how often token 0 occurs: that is nn.Embedding's "
            "scale_grad_by_freq=True; leave it out."
            if close(grad[0] * 3, leaf.grad[0], atol=1e-6) and not close(grad[0], leaf.grad[0], atol=1e-6)
            else ""
        )
        expect_equal_tensors(grad, leaf.grad, f"{call}, the table's gradient", atol=1e-6, hint=hint)

    @given(st.integers(1, 300))
    @example(65)
    def test_an_all_zero_table_gives_exactly_ln_V(self, V):
        idx = torch.arange(6).view(2, 3) % V
        _, loss = model_with_table(torch.zeros(V, V))(idx, (idx + 1) % V)
        got = loss_value(loss, f"model(idx, targets) with an all-zero table, V={V}")
        if not math.isclose(got, math.log(V), abs_tol=1e-5):
            fail(
                f"With an all-zero table every next token has probability 1/V, so the loss must be ln {V} = "
                f"{math.log(V):.6f}; got {got:.6f}"
            )

    def test_a_fresh_model_starts_near_ln_V(self, lecture_batch):
        with fixed_seed(0):
            model = stage.BigramLanguageModel(65)
        call = "A fresh model(65) on the lecture's batch"
        _, loss = pair(model(*lecture_batch), call)
        got = loss_value(loss, call)
        if not math.log(65) - 0.1 < got < math.log(65) + 1.0:
            fail(f"{call}: expected a loss a little above ln 65 = 4.17, got {got:.4f}")

    def test_reproduces_the_lectures_first_loss(self, lecture_batch):
        with fixed_seed(1337):
            model = stage.BigramLanguageModel(65)
        call = "torch.manual_seed(1337); BigramLanguageModel(65) on the lecture's first batch"
        logits, loss = pair(model(*lecture_batch), call)
        expect_flattened_logits(logits, 32, 65, call)
        got = loss_value(loss, call)
        if not math.isclose(got, LECTURE_FIRST_LOSS, abs_tol=1e-4):
            targets = lecture_batch[1].view(-1)
            of_probabilities = F.cross_entropy(F.softmax(logits.detach(), dim=-1), targets).item()
            fail(
                f"{call}: expected the loss {LECTURE_FIRST_LOSS} (the lecture prints 4.8786), got {got:.4f}",
                SOFTMAX_BEFORE_CROSS_ENTROPY if math.isclose(got, of_probabilities, abs_tol=1e-4) else "",
            )
        with fixed_seed(0):
            other = stage.BigramLanguageModel(65)
        weights, others = list(model.parameters()), list(other.parameters())
        if weights and all(torch.equal(a, b) for a, b in zip(weights, others, strict=True)):
            fail(
                "BigramLanguageModel(65) has the same weights after torch.manual_seed(1337) as after "
                "torch.manual_seed(0): it seeds torch itself (a torch.manual_seed(1337) in __init__?), so every model "
                "starts alike and building one resets the caller's random draws",
                "Leave the seed to the caller: the lecture calls torch.manual_seed(1337) before it builds the model.",
            )


SOFTMAX_BEFORE_CROSS_ENTROPY = (
    "That is the cross-entropy of softmax(logits): F.cross_entropy applies log_softmax itself, so pass it the "
    "logits, not probabilities."
)


def expect_flattened_logits(logits, rows: int, V: int, call: str) -> None:
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (rows, V):
        fail(f"{call}: expected logits of shape ({rows}, {V}) (flattened for cross_entropy), got {show(logits)}")


def loss_value(loss, call: str) -> float:
    """The loss as a number, failing unless it is what F.cross_entropy returns: a 0-dim tensor."""
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        hint = "loss.backward() needs the tensor itself: return F.cross_entropy's result, not loss.item()."
        fail(f"{call}: expected the loss as a 0-dim tensor, got {show(loss)}", hint if isinstance(loss, float) else "")
    return loss.item()


def expected_generation(table, idx, max_new_tokens, seed, *, softmax_dim=-1, position=-1, every_position=False):
    """What generate should give; softmax_dim and position other than -1 give what two mistakes give, and
    every_position what a third gives: a token drawn for every position, (B*T) draws a step, the last one kept."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(max_new_tokens):
        B, T = idx.shape
        logits = table[idx].view(B * T, -1) if every_position else table[idx[:, position]]
        drawn = torch.multinomial(F.softmax(logits, dim=softmax_dim), num_samples=1, generator=generator)
        idx = torch.cat((idx, drawn.view(B, T)[:, -1:] if every_position else drawn), dim=1)
    return idx


def greedy_generation(table, idx, max_new_tokens):
    """The most likely next token at every step (argmax), as generate without sampling gives."""
    for _ in range(max_new_tokens):
        idx = torch.cat((idx, table[idx[:, -1]].argmax(dim=-1, keepdim=True)), dim=1)
    return idx


def generation_mistakes(got, table, idx, max_new_tokens, seed) -> list[str]:
    """The hints of the mistakes whose tokens `got` are, and the right tokens are not."""
    expected = expected_generation(table, idx, max_new_tokens, seed)
    mistakes = {
        SOFTMAX_OVER_THE_BATCH: expected_generation(table, idx, max_new_tokens, seed, softmax_dim=0),
        EVERY_POSITION: expected_generation(table, idx, max_new_tokens, seed, every_position=True),
        FIRST_POSITION: expected_generation(table, idx, max_new_tokens, seed, position=0),
        GREEDY: greedy_generation(table, idx, max_new_tokens),
        GLOBAL_GENERATOR: expected_generation(table, idx, max_new_tokens, seed + 1),  # the test seeds it so
    }
    return [
        hint for hint, tokens in mistakes.items() if close(got, tokens, atol=0) and not close(expected, tokens, atol=0)
    ]


RETURNED_IN_THE_LOOP = (
    "That is the prompt and one new token: generate returned after its first step. Return idx after the loop "
    "(is the return indented into it?)."
)


def returned_after_one_step(got, idx) -> bool:
    """Whether `got` is the prompt followed by one token (a return indented into the loop)."""
    return (
        isinstance(got, torch.Tensor)
        and tuple(got.shape) == (idx.shape[0], idx.shape[1] + 1)
        and torch.equal(got[:, : idx.shape[1]], idx)
    )


def only_the_new_tokens(got, idx, max_new_tokens) -> str:
    if returned_after_one_step(got, idx) and max_new_tokens > 1:
        return RETURNED_IN_THE_LOOP
    if isinstance(got, torch.Tensor) and tuple(got.shape) == (idx.shape[0], max_new_tokens):
        return NEW_TOKENS_ALONE
    return ""


GREEDY = "These are the most likely tokens, argmax at every step: draw with torch.multinomial instead, which samples."
GLOBAL_GENERATOR = (
    "These are the draws of torch's global generator, not of the one passed: give it to the draw, "
    "torch.multinomial(probs, num_samples=1, generator=generator)."
)
FIRST_POSITION = (
    "It continues from the first token of each row: the next token depends on the *last* position, logits[:, -1, :]."
)
SOFTMAX_OVER_THE_BATCH = (
    "These are the tokens a softmax over dim 0, across the batch, draws: each row's probabilities come from its own "
    "logits, F.softmax(logits, dim=-1)."
)
EVERY_POSITION = (
    "These are the tokens drawn when every position is sampled and the last draw kept: sample from the last "
    "position's logits only, logits[:, -1, :], so that the generator draws one number a row each step."
)


class TestGenerate:
    @given(seeds, st.integers(1, 3), st.integers(1, 6), st.integers(0, 12), st.integers(2, 20))
    @example(0, 2, 3, 4, 5)
    @example(1, 2, 3, 0, 5)  # no new token: idx as it came
    def test_samples_each_next_token_from_the_last_position(self, seed, B, T, new_tokens, V):
        table = random_floats((V, V), seed) * 2
        idx = random_tokens((B, T), V, seed)
        before = idx.clone()
        model = model_with_table(table)  # before the seed: building it draws from torch's global generator
        with fixed_seed(seed + 1):  # torch's global generator differs from the one passed: using it shows
            got = model.generate(idx, new_tokens, generator=torch.Generator().manual_seed(seed))
        if not torch.equal(idx, before):
            fail("generate(idx, ...) changed the tensor it was given: build a new one with torch.cat instead")
        call = f"generate(idx of shape ({B}, {T}), {new_tokens}, generator=<seed {seed}>) with V={V}"
        hint = (
            "Each step: softmax of the last position's logits (dim=-1), then "
            "torch.multinomial(probs, num_samples=1, generator=generator), appended with torch.cat(..., dim=1)."
        )
        expected = expected_generation(table, idx, new_tokens, seed)
        told = generation_mistakes(got, table, idx, new_tokens, seed)
        if len(told) > 1:  # one row of one token draws alike for all three: ask again where each differs
            other_table, other_idx = random_floats((5, 5), 0), random_tokens((2, 3), 5, 0)
            other = model_with_table(other_table)
            with fixed_seed(1):  # the global generator one seed past the one passed, as above
                again = other.generate(other_idx, 4, generator=torch.Generator().manual_seed(0))
            told = generation_mistakes(again, other_table, other_idx, 4, 0) or told
        hint = " Or: ".join(told) or only_the_new_tokens(got, idx, new_tokens) or hint
        expect_equal_tensors(got, expected, call, hint=hint)

    def test_follows_a_table_that_makes_each_next_token_certain(self):
        model = model_with_table(successor_table(10))
        idx = torch.tensor([[3, 1, 4], [2, 7, 5], [0, 9, 9]])
        got = model.generate(idx, 6, generator=torch.Generator().manual_seed(0))
        expected = torch.cat([idx, torch.tensor([[5, 6, 7, 8, 9, 0], [6, 7, 8, 9, 0, 1], [0, 1, 2, 3, 4, 5]])], dim=1)
        hint = only_the_new_tokens(got, idx, 6)
        if isinstance(got, torch.Tensor) and got.shape == expected.shape and got[:, 3].tolist() == [4, 3, 1]:
            hint = FIRST_POSITION
        expect_equal_tensors(
            got,
            expected,
            "With a table where token i is always followed by i + 1, generate([[3, 1, 4], [2, 7, 5], [0, 9, 9]], 6)",
            hint=hint,
        )

    def test_samples_rather_than_taking_the_most_likely_token(self):
        got = model_with_table(torch.zeros(5, 5)).generate(
            torch.zeros((1, 1), dtype=torch.long), 200, generator=torch.Generator().manual_seed(0)
        )
        expect_tensor(got, "With an all-zero table, generate(zeros((1, 1)), 200)")
        if returned_after_one_step(got, torch.zeros((1, 1), dtype=torch.long)):
            fail(f"With an all-zero table, generate(zeros((1, 1)), 200) returned {show(got)}", RETURNED_IN_THE_LOOP)
        seen = sorted(set(got[0].tolist()))
        if seen != [0, 1, 2, 3, 4]:
            fail(
                "With an all-zero table (5 equally likely tokens) 200 generated tokens should include all 5, got "
                f"only {seen}: draw with torch.multinomial, not argmax"
            )

    def test_reproduces_the_lectures_untrained_sample(self, corpus_tokenizer):
        with fixed_seed(1337):
            model = stage.BigramLanguageModel(65)
            ids = model.generate(torch.zeros((1, 1), dtype=torch.long), 100)
        expect_tensor(ids, "torch.manual_seed(1337), BigramLanguageModel(65), generate(zeros((1, 1)), 100)")
        text = corpus_tokenizer.decode(ids[0].tolist())
        if not text.startswith(LECTURE_UNTRAINED_SAMPLE):
            fail(
                "torch.manual_seed(1337), BigramLanguageModel(65), generate(zeros((1, 1)), 100): expected the "
                f"lecture's {LECTURE_UNTRAINED_SAMPLE!r}..., got {text[:25]!r}...",
                RETURNED_IN_THE_LOOP if returned_after_one_step(ids, torch.zeros((1, 1), dtype=torch.long)) else "",
            )
