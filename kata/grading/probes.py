"""What the grader checks outside the sandbox that ran the tests: for every symbol of every stage, fresh
random inputs, and the answer the grader's own computation (oracles.py) expects for them.

The sandboxed probe run (probe_calls.py) sends back what the submission's public API gave on these
inputs; `verdicts` compares, here, in a process that never imports the submission.
"""

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from kata.grading import oracles

LECTURE_CONFIG = dict(vocab_size=65, block_size=256, n_embd=384, n_head=6, n_layer=6, dropout=0.2)
CHARACTERS = list("abcdefghij klmnopqrstuvwxyzABCDEF\n!?.,;'-é你😀")


@dataclass(frozen=True)
class Probe:
    make_inputs: Callable[[torch.Generator], dict]
    expected: Callable[[dict], object]
    # Floating-point values: the order of operations may differ from the oracle's. A function of the inputs
    # where a deep network's rounding depends on the draw (see network_tolerance).
    atol: float | Callable[[dict], float] = 1e-4
    # Where an exact answer cannot be expected (sampling, a message's words): what is wrong with the answer,
    # by aspect (see below), or "" / {} when nothing is.
    judge: Callable[[dict, object], str | dict[str, str]] | None = None
    # Aspects: keys of the answer that back only some of the symbol's tests, each with fragments of those
    # tests' names. A wrong aspect takes the points of those tests alone; anything else wrong in the answer
    # (its core) takes the points of every test of the symbol.
    backs: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Whether a float64 answer where float32 is expected is wrong: only where the tests check the dtype.
    exact_dtype: bool = False
    # Tests of other symbols that rest on this one too, because the stage has those call it (generate samples
    # from next_token_probabilities): aspect ("" its core) -> fragments of their ids ("TestGenerate::test_x").
    reached_by: dict[str, tuple[str, ...]] = field(default_factory=dict)


PROBES: dict[str, Probe] = {}


def probe(
    symbol: str,
    expected: Callable[[dict], object],
    atol: float | Callable[[dict], float] = 1e-4,
    judge=None,
    backs: dict[str, tuple[str, ...]] | None = None,
    exact_dtype: bool = False,
    reached_by: dict[str, tuple[str, ...]] | None = None,
):
    """Register the decorated function, which draws a probe's inputs, with the oracle of its answer."""

    def register(make_inputs):
        PROBES[symbol] = Probe(make_inputs, expected, atol, judge, backs or {}, exact_dtype, reached_by or {})
        return make_inputs

    return register


# ---- random inputs -------------------------------------------------------------------------------


def integer(rng: torch.Generator, low: int, high: int) -> int:
    """Uniform in [low, high]."""
    return int(torch.randint(low, high + 1, (1,), generator=rng))


def normal(rng: torch.Generator, *shape: int, scale: float = 1.0) -> torch.Tensor:
    return torch.randn(shape, generator=rng) * scale


def tokens(rng: torch.Generator, vocab_size: int, *shape: int) -> torch.Tensor:
    return torch.randint(vocab_size, shape, generator=rng)


def rows_and_positions(
    rng: torch.Generator, rows: tuple[int, int], positions: tuple[int, int], *, besides: tuple[int, ...] = ()
) -> tuple[int, int]:
    """B and T, each uniform in its range, T never B nor a size in `besides` (n_head) where its range allows
    another: a time-major (T, B, C) tensor then tells its positions from its rows, and heads-last attention
    weights, (B, T, T, nh), their positions from their heads, as the grader's dropout lays its mask out by them
    (probe_calls.dropout_mask), and code that swaps such dims cannot pass unseen."""
    B = integer(rng, *rows)
    low, high = positions
    every = range(low, high + 1)
    allowed = [T for T in every if T != B and T not in besides] or list(every)
    return B, allowed[integer(rng, 0, len(allowed) - 1)]


def sequence(rng, n_embd: int, block_size: int = 8, *, besides: tuple[int, ...] = ()) -> torch.Tensor:
    """x of 2 to block_size - 1 positions: one position hides the causal mask, and block_size of them a mask
    that is not cut to the input's length."""
    return normal(rng, *rows_and_positions(rng, (1, 3), (2, block_size - 1), besides=besides), n_embd)


def distinct_characters(rng: torch.Generator, count: int) -> list[str]:
    order = torch.randperm(len(CHARACTERS), generator=rng).tolist()
    return [CHARACTERS[i] for i in order[:count]]


def text_over(rng: torch.Generator, vocabulary: list[str], length: int) -> str:
    return "".join(vocabulary[i] for i in tokens(rng, len(vocabulary), length).tolist())


def linear_weights(rng: torch.Generator, n_in: int, n_out: int, bias: bool = True) -> dict:
    weights = {"weight": normal(rng, n_out, n_in, scale=n_in**-0.5)}
    return {**weights, "bias": normal(rng, n_out, scale=0.1)} if bias else weights


def norm_weights(rng: torch.Generator, dim: int) -> dict:
    return {"weight": 1 + normal(rng, dim, scale=0.2), "bias": normal(rng, dim, scale=0.2)}


def head_weights(rng: torch.Generator, n_embd: int, head_size: int) -> dict:
    return {name: normal(rng, head_size, n_embd, scale=n_embd**-0.5) for name in ("key", "query", "value")}


def multihead_weights(rng: torch.Generator, n_embd: int, n_head: int) -> dict:
    heads = [head_weights(rng, n_embd, n_embd // n_head) for _ in range(n_head)]
    return {"heads": heads, "proj": linear_weights(rng, n_embd, n_embd)}


def fused_weights(rng: torch.Generator, n_embd: int) -> dict:
    return {
        "c_attn": normal(rng, 3 * n_embd, n_embd, scale=n_embd**-0.5),
        "c_proj": linear_weights(rng, n_embd, n_embd),
    }


def block_weights(rng: torch.Generator, n_embd: int, n_head: int, fused: bool = False) -> dict:
    attention = fused_weights(rng, n_embd) if fused else multihead_weights(rng, n_embd, n_head)
    ffwd = [linear_weights(rng, n_embd, 4 * n_embd), linear_weights(rng, 4 * n_embd, n_embd)]
    return {"sa": attention, "ffwd": ffwd, "ln1": norm_weights(rng, n_embd), "ln2": norm_weights(rng, n_embd)}


def gpt_weights(rng: torch.Generator, config: dict, fused: bool = False) -> dict:
    C, V = config["n_embd"], config["vocab_size"]
    return {
        "tok": normal(rng, V, C),
        "pos": normal(rng, config["block_size"], C),
        "blocks": [block_weights(rng, C, config["n_head"], fused) for _ in range(config["n_layer"])],
        "ln_f": norm_weights(rng, C),
        "lm_head": linear_weights(rng, C, V),
    }


def dropout_rate(rng: torch.Generator) -> float:
    # Never the lecture's 0.2, nanoGPT's 0.1 or nn.Dropout's default 0.5: a rate written into the code, not
    # taken from the argument, must not match by chance
    return [0.3, 0.4, 0.6][integer(rng, 0, 2)]


def small_config(rng: torch.Generator) -> dict:
    # Three heads: one hides every mistake in how heads are split and joined, and n_head = n_layer would hide a
    # model built with the two swapped.
    # n_layer drawn: a model that builds a fixed number of blocks must differ on some draw (a red-team pass capped
    # them at two, where n_layer was always 2)
    block_size, n_embd, n_layer = 8, 12, [1, 2, 4][integer(rng, 0, 2)]
    vocab_size = vocabulary_size(rng, block_size, n_embd)
    return dict(vocab_size=vocab_size, block_size=block_size, n_embd=n_embd, n_head=3, n_layer=n_layer, dropout=0.0)


def vocabulary_size(rng: torch.Generator, block_size: int, n_embd: int) -> int:
    """5 to 20, but neither the context's length nor the width: a table sized by one where the other belongs
    (a position table of vocab_size rows) has the right shape when they are equal."""
    sizes = [size for size in range(5, 21) if size not in (block_size, n_embd)]
    return sizes[integer(rng, 0, len(sizes) - 1)]


# ---- stage 1 ----------------------------------------------------------------------------------------


# The check at scale (at_scale.py) times the corpus-wide calls; its aspect backs the tests that make them.
@probe(
    "s01_tokenizer.build_vocabulary",
    lambda inputs: oracles.vocabulary(inputs["text"]),
    backs={
        "at_scale": ("test_corpus_gives_the_lectures_65_characters", "test_the_whole_corpus_survives_a_round_trip"),
        "at_scale_values": ("test_corpus_gives_the_lectures_65_characters",),  # a vocabulary in another order
    },
)
def vocabulary_inputs(rng):
    characters = distinct_characters(rng, 12)
    # Starting with three characters in descending order, the text never meets them sorted; "a" and "B" sort
    # apart from how they would without regard to case.
    text = "".join(sorted(characters[:3], reverse=True)) + text_over(rng, characters, integer(rng, 0, 40)) + "aB"
    return {"text": text + text[0]}  # and one character at least twice


def tokenizer_answer(inputs):
    vocabulary = inputs["vocabulary"]
    decoded = "".join(vocabulary[i] for i in inputs["ids"])
    return {
        "vocabulary": vocabulary,
        "vocab_size": len(vocabulary),
        "encoded": [vocabulary.index(char) for char in inputs["text"]],
        "decoded": decoded,
        "decoded_tensor": decoded,
        "encoded_type": "ids",
        "rejects_bad_id": [True, True],
        "rejects_bad_vocabularies": [True] * len(inputs["bad_vocabularies"]),
        "empty": [[], ""],  # encode("") and decode([])
        "nul_round_trip": inputs["nul_text"],
    }


def tokenizer_judge(inputs, answer) -> dict[str, str]:
    """The answer the oracle gives, and a ValueError for the unknown character that names it and its position."""
    if not isinstance(answer, dict) or "unknown_message" not in answer:
        return {"": "the answer should hold the message of the ValueError for an unknown character"}
    rest = {key: value for key, value in answer.items() if key != "unknown_message"}
    found = by_aspect(rest, tokenizer_answer(inputs), 0.0, TOKENIZER_ASPECTS)
    said, position, unknown = answer["unknown_message"], inputs["unknown_at"], inputs["unknown"]
    if not (isinstance(said, list) and len(said) == 1 and isinstance(message := said[0], str)):
        found["unknown_message"] = f"encode raised no ValueError for a character outside the vocabulary at {position}"
        return found
    named = unknown in message or repr(unknown)[1:-1] in message  # a line break may be named as \n
    if not named or not re.search(rf"(?<!\d){position}(?!\d)", message):
        found["unknown_message"] = f"the ValueError for the unknown character at {position} says {message[:200]!r}"
    return found


TOKENIZER_ASPECTS = {
    "vocabulary": ("test_attributes",),
    "decoded_tensor": ("test_decode_accepts_a_tensor",),
    "encoded_type": ("test_decode_undoes_encode",),
    "unknown_message": ("test_a_character_outside_the_vocabulary",),
    "rejects_bad_id": ("test_an_id_out_of_range",),
    "rejects_bad_vocabularies": ("test_a_bad_vocabulary",),
    "empty": ("test_decode_undoes_encode", "test_encode_undoes_decode"),  # both draw empty cases
    "nul_round_trip": ("test_decode_undoes_encode", "test_encode_undoes_decode"),  # the first has it as an example
    "at_scale": ("test_the_whole_corpus_survives_a_round_trip",),
    "at_scale_encoded": ("test_the_whole_corpus_survives_a_round_trip",),
    "at_scale_decoded": ("test_the_whole_corpus_survives_a_round_trip",),
}


@probe("s01_tokenizer.CharTokenizer", tokenizer_answer, judge=tokenizer_judge, backs=TOKENIZER_ASPECTS)
def tokenizer_inputs(rng):
    characters = distinct_characters(rng, 13)
    vocabulary, unknown = characters[:12], characters[12]
    ids = tokens(rng, len(vocabulary), integer(rng, 2, 20)).tolist()  # two at least: one id hides a separator
    text = text_over(rng, vocabulary, 30)
    repeated = vocabulary[integer(rng, 0, 11)]
    return {
        "vocabulary": vocabulary,
        "text": text,
        "ids": ids,
        "unknown": unknown,
        "unknown_at": (at := integer(rng, 1, 29)),
        "unknown_text": text[:at] + unknown + text[at:],
        # the NUL character, last too: numpy's str arrays drop it at the end of an element
        "nul_text": f"{vocabulary[0]}\x00{vocabulary[1]}\x00",
        "bad_ids": [len(vocabulary), -1],  # one past the last, and below the first
        "bad_vocabularies": [
            vocabulary + [repeated],
            vocabulary[:5] + [vocabulary[5] + vocabulary[6]] + vocabulary[7:],
            vocabulary[:3] + [""] + vocabulary[3:],
            "".join(vocabulary) + repeated,
            [b"a", b"b"],  # bytes, not characters, though each is one long
        ],
    }


# ---- stage 2 ----------------------------------------------------------------------------------------


def encode_answer(inputs):
    vocabulary = inputs["vocabulary"]
    # int64 also for an empty text, which torch.tensor([]) would make float32
    return {
        "encoded": torch.tensor([vocabulary.index(c) for c in inputs["text"]], dtype=torch.long),
        "empty": torch.tensor([], dtype=torch.long),
    }


@probe(
    "s02_batches.encode_text",
    encode_answer,
    backs={
        "empty": ("test_short_texts_give_1d_int64",),
        "at_scale": ("test_the_corpus",),
        "at_scale_values": ("test_the_corpus",),
    },
)
def encode_inputs(rng):
    vocabulary = distinct_characters(rng, 10)
    return {"vocabulary": vocabulary, "text": text_over(rng, vocabulary, integer(rng, 0, 50))}


def split_answer(inputs):
    def split(data, fraction):
        n = int(fraction * len(data))
        return [data[:n], data[n:]]

    return {
        "split": split(inputs["data"], inputs["fraction"]),
        "split_0_9": split(inputs["data_0_9"], 0.9),
        "rejects": [True, True, True, True],  # 0, 1 and fractions outside them
    }


@probe("s02_batches.train_val_split", split_answer, backs={"rejects": ("test_rejects_a_fraction_outside",)})
def split_inputs(rng):
    return {
        "data": tokens(rng, 50, integer(rng, 2, 200)),
        # each differs, at every length from 2, from the lecture's int(0.9 * len) pasted in and from
        # int((1 - fraction) * len): 0.5 and 0.75 did not at some (0.9 did not at any); data_0_9 tries 0.9
        "fraction": [0.3, 0.25, 0.2, 0.1][integer(rng, 0, 3)],
        # 0.9 of 10k + 4 tokens is 9k + 3.6: truncated, not rounded, to 9k + 3
        "data_0_9": tokens(rng, 50, 10 * integer(rng, 1, 20) + 4),
    }


def pairs_answer(inputs):
    data = inputs["data"].tolist()
    pairs = [[data[: t + 1], data[t + 1]] for t in range(inputs["block_size"])]
    # the pairs need only the first block + 1
    return {"pairs": pairs, "rejects": True, "rejects_no_block": True, "one_window": pairs}


@probe(
    "s02_batches.context_target_pairs",
    pairs_answer,
    # exactly block_size + 1 tokens, the shortest data that has the pairs: the draws above hold more
    backs={
        "rejects": ("test_rejects_data_shorter_than_a_block",),
        "rejects_no_block": ("test_rejects_a_block_size_below_1",),
        "one_window": ("test_any_data",),
    },
)
def pairs_inputs(rng):
    block_size = integer(rng, 1, 10)
    return {"data": tokens(rng, 50, block_size + integer(rng, 1, 6)), "block_size": block_size}


def batch_answer(inputs):
    batch = oracles.lecture_batch(inputs["data"], inputs["batch_size"], inputs["block_size"], inputs["seed"])
    window = inputs["data"][: inputs["block_size"] + 1]
    one_window = [window[:-1].expand(inputs["batch_size"], -1), window[1:].expand(inputs["batch_size"], -1)]
    # without a generator, twice after one seed, as the test draws the lecture's first batch and the next
    unseeded = oracles.lecture_batch(
        inputs["data"], inputs["batch_size"], inputs["block_size"], inputs["seed"], batches=2
    )
    return {"batch": batch, "rejects": [True, True, True], "one_window": one_window, "unseeded": unseeded}


@probe(
    "s02_batches.get_batch",
    batch_answer,
    backs={
        "rejects": ("test_rejects_impossible_sizes",),
        "one_window": ("test_any_sizes", "test_every_window_can_be_drawn_the_last_included"),
        "unseeded": ("test_without_a_generator_draws_from_torchs_own",),
    },
)
def batch_inputs(rng):
    block_size = integer(rng, 1, 10)
    data = tokens(rng, 40, block_size + integer(rng, 20, 60))  # enough starts that another generator shows
    # rows enough that another generator's draws cannot match them by chance (one row of some 40 starts did)
    return {"data": data, "batch_size": integer(rng, 3, 6), "block_size": block_size, "seed": integer(rng, 0, 2**30)}


# ---- stage 3 ----------------------------------------------------------------------------------------


def bigram_answer(inputs):
    table, idx = inputs["table"], inputs["idx"]
    logits = table[idx]
    generated = oracles.sample_tokens(lambda context: table[context], idx, inputs["new_tokens"], inputs["seed"])
    return {
        "logits": logits,
        "flat_logits": logits.flatten(0, 1),
        "flat_shape": list(logits.flatten(0, 1).shape),
        "loss": oracles.cross_entropy(logits, inputs["targets"]).float(),  # a 0-dim tensor, for backward
        "generated": generated,
        "fresh": fresh_embedding(inputs["vocab_size"], inputs["seed"]),
        "unseeded": generated,  # the global generator seeded alike draws the same
        "lecture_sample": lecture_sample(inputs),
        "parameter_count": inputs["vocab_size"] ** 2,
        "one_row": oracles.sample_tokens(
            lambda context: table[context], idx[:1], inputs["new_tokens"], inputs["seed"] + 1
        ),
        "no_new_tokens": idx,
        "table_gradient": table_gradient(table, inputs["gradient_idx"], inputs["targets"]),
    }


def table_gradient(table: torch.Tensor, idx: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The gradient of the mean cross-entropy with respect to the bigram's table."""
    leaf = table.double().clone().requires_grad_()
    torch.nn.functional.cross_entropy(leaf[idx].flatten(0, 1), targets.flatten()).backward()
    return leaf.grad.float()


def fresh_embedding(V: int, seed: int | torch.Generator) -> torch.Tensor:
    """The table nn.Embedding(V, V) draws after torch.manual_seed(seed): the lecture's first loss rests on it."""
    # Its own generator, seeded as manual_seed seeds the global one: the grader grades in threads.
    generator = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(seed)
    return torch.empty(V, V).normal_(0.0, 1.0, generator=generator)


def lecture_sample(inputs) -> torch.Tensor:
    """What the lecture samples with the global generator seeded once before the model is built: the table's draw,
    then the tokens, from one stream."""
    generator = torch.Generator().manual_seed(inputs["seed"])
    table = fresh_embedding(inputs["vocab_size"], generator)
    return oracles.sample_tokens(lambda context: table[context], inputs["idx"][:1, :1], inputs["new_tokens"], generator)


BIGRAM_ASPECTS = {
    "loss": ("loss", "ln_V", "test_shapes_for_any_batch"),
    # the logits returned beside the loss: their shape, which three tests read, and the order of their rows,
    # which one does (the loss does not depend on it: logits flattened time-major keep the other tests)
    "flat_shape": ("test_shapes_for_any_batch", "test_loss_is_the_mean_cross_entropy", "lectures_first_loss"),
    "flat_logits": ("test_loss_is_the_mean_cross_entropy",),
    # the lecture's numbers rest on nn.Embedding's N(0, 1) draw; starting near ln V does not (std 0.02 does too)
    "fresh": ("test_reproduces_the_lectures_first_loss", "test_reproduces_the_lectures_untrained_sample"),
    "unseeded": ("test_reproduces_the_lectures_untrained_sample",),
    # seeded once, before the model is built, as the test does (a red-team pass's model drew a layer it never used,
    # and a generate seeded a generator of its own from torch.initial_seed())
    "lecture_sample": ("test_reproduces_the_lectures_untrained_sample",),
    "parameter_count": ("test_the_table_is_an_embedding_of_vocab_size_by_vocab_size",),
    # a batch of one, which the draws above never are: .squeeze() of the (1, 1) draw leaves no batch dimension
    "one_row": (
        "test_samples_each_next_token_from_the_last_position",
        "test_samples_rather_than_taking_the_most_likely_token",
        "test_reproduces_the_lectures_untrained_sample",
    ),
    # no new token: idx as it came (a torch.cat of an empty list of draws raises)
    "no_new_tokens": ("test_samples_each_next_token_from_the_last_position",),
    # a table the loss never reaches (logits from .data), a sparse gradient, one scaled by the tokens' frequency
    "table_gradient": ("test_the_loss_sends_its_gradient_to_the_table",),
}


# the tests compare the loss within 1e-5 and its gradient within 1e-6: a label smoothing of 1e-4 is within 1e-4
@probe("s03_bigram.BigramLanguageModel", bigram_answer, atol=1e-5, backs=BIGRAM_ASPECTS)
def bigram_inputs(rng):
    # two rows or more and five tokens or more: a softmax over the batch, with one row, samples uniformly, and a
    # few uniform draws can match the table's
    V, B, T = integer(rng, 3, 20), integer(rng, 2, 4), integer(rng, 2, 8)  # T of 1 hides logits flattened time-major
    idx, targets = tokens(rng, V, B, T), tokens(rng, V, B, T)
    return {
        "vocab_size": V,
        "table": normal(rng, V, V),
        "idx": idx,
        "targets": targets,
        "seed": integer(rng, 0, 2**30),
        "new_tokens": integer(rng, 5, 10),
        # for the table's gradient: token 0 twice, as in the test, whose row adds both positions' (and which an
        # nn.Embedding(padding_idx=0) never trains); the other aspects read idx as drawn
        "gradient_idx": with_token_0_twice(idx),
    }


def with_token_0_twice(idx: torch.Tensor) -> torch.Tensor:
    idx = idx.clone()
    idx[0, 0] = idx[-1, -1] = 0
    return idx


# ---- stage 4 ----------------------------------------------------------------------------------------


def table_and_batches(rng, count: int) -> dict:
    V = integer(rng, 3, 10)
    batches = [[tokens(rng, V, 3, 4), tokens(rng, V, 3, 4)] for _ in range(count)]
    lr = [2e-3, 1e-2, 5e-2][integer(rng, 0, 2)]  # never train's default 1e-3, which a hard-coded rate would match
    return {"table": normal(rng, V, V), "batches": batches, "lr": lr}


def train_step_answer(inputs):
    losses, table = oracles.adamw_on_a_table(inputs["table"], inputs["batches"], inputs["lr"])
    return {"losses": losses, "table": table}


@probe("s04_training.train_step", train_step_answer, atol=1e-5)
def train_step_inputs(rng):
    return table_and_batches(rng, 4)


def estimate_answer(inputs):
    losses = [oracles.cross_entropy(inputs["table"][x], y).item() for x, y in inputs["batches"]]
    return {
        "loss": sum(losses) / len(losses),
        "loss_type": "float",
        "calls": len(losses),
        "training_after": [True, False],
        "training_during": False,
        "gradients_during": False,
    }


@probe(
    "s04_training.estimate_loss",
    estimate_answer,
    atol=1e-5,
    backs={
        "training_during": ("test_evaluates_in_eval_mode_without_gradients",),
        "gradients_during": ("test_evaluates_in_eval_mode_without_gradients",),
        "training_after": ("test_puts_the_model_back",),
        "loss_type": ("test_is_the_mean_loss_over_eval_iters_batches",),
    },
)
def estimate_inputs(rng):
    return table_and_batches(rng, integer(rng, 2, 6))  # one batch hides a loss of the last batch alone


def train_answer(inputs):
    batches = inputs["batches"]
    losses, table = oracles.adamw_on_a_table(inputs["table"], batches[: inputs["steps"]], inputs["lr"])
    # what torch's global generator, seeded before train, draws after it: train draws nothing from it
    global_draws = torch.randint(2**31, (4,), generator=torch.Generator().manual_seed(inputs["seed"])).tolist()
    return {
        "losses": losses,
        "table": table,
        "loss_types": ["float"] * inputs["steps"],
        "global_draws": global_draws,
        "long_run": [True, global_draws],  # a batch a step, one fetched ahead at most; nothing drawn besides
    }


@probe(
    "s04_training.train",
    train_answer,
    atol=1e-5,
    backs={
        "loss_types": ("test_runs_adamw_at_the_given_rate_with_a_fresh_batch_per_step",),
        # the lecture's batches come from the global generator, which a train that reseeds it (or draws from
        # it) moves elsewhere
        "global_draws": ("test_reproduces_the_lectures_loss_after_100_steps",),
        # and over as many steps as that test: one batch a step, nothing drawn besides (a red-team pass's train
        # evaluated every 50 steps, with batches of the test's global generator)
        "long_run": ("test_reproduces_the_lectures_loss_after_100_steps",),
    },
)
def train_inputs(rng):
    steps = integer(rng, 2, 6)  # one step hides a missing zero_grad, an optimizer made each step, a reused batch
    # two batches more: for a loop that prefetches; a seed never the lecture's 1337, which a reseeding train sets
    return {**table_and_batches(rng, steps + 2), "steps": steps, "seed": integer(rng, 0, 1000), "long_steps": 100}


# ---- stage 5 ----------------------------------------------------------------------------------------


def averaging_inputs(rng):
    # T > 1: at T = 1 every average is the input itself, and a softmax over the wrong dimension, or a mask
    # filled with zeros, looks right (the stage's tests try T = 1 as well)
    # C > 1: at C = 1 a mean over the features too (torch.mean(xprev) without a dim) looks right
    # and more positions than the lecture's 8: a mask made for its T = 8 is cut short there
    return {
        "x": normal(rng, integer(rng, 1, 3), integer(rng, 2, 12), integer(rng, 2, 5)),
        "x_long": normal(rng, 1, integer(rng, 17, 40), integer(rng, 2, 5)),
        # and more than the 256 of the lecture's gpt.py, a block_size a tril buffer may be sized by
        "x_past_block_size": normal(rng, 1, 300, 2),  # as many as the hidden test's: no buffer it passes fails here
    }


def weights_inputs(rng):
    return {"T": integer(rng, 2, 16)}  # one position hides which triangle, and which way the rows are normalised


def running_means(inputs):
    return {
        "values": [
            oracles.running_mean(inputs["x"].float()),
            oracles.running_mean(inputs["x"].double()),
            oracles.running_mean(inputs["x_long"].float()),
        ],
        "past_block_size": oracles.running_mean(inputs["x_past_block_size"].float()),
        "half": ["torch.bfloat16", "torch.float16"],  # it runs on them and keeps them (numpy has no bfloat16)
    }


for _name in ("average_loops", "average_matmul", "average_softmax"):
    # The tests check that the output keeps the input's dtype.
    probe(
        f"s05_averaging.{_name}",
        running_means,
        atol=1e-5,
        exact_dtype=True,
        backs={
            "half": ("test_each_position_is_the_mean_of_itself_and_the_past",),
            "past_block_size": ("test_the_versions_agree_past_the_lectures_block_size",),
        },
    )(averaging_inputs)
for _name in ("tril_average_weights", "softmax_average_weights"):
    probe(f"s05_averaging.{_name}", lambda inputs: oracles.average_weights(inputs["T"]), atol=1e-6)(weights_inputs)


# ---- stage 6 ----------------------------------------------------------------------------------------


# What the tensors made on the CPU inside a call mixed with (kata/torch_calls.py's MadeOnTheCPU): nothing.
ON_THE_INPUTS_DEVICE: list[str] = []


@probe(
    "s06_attention.attention_weights",
    lambda inputs: {
        "weights": oracles.attention_weights(inputs["q"], inputs["k"]).float(),
        "weights_long": oracles.attention_weights(inputs["q_long"], inputs["k_long"]).float(),
        "inputs_kept": True,  # q and k as they were: the caller's, scaled in place, would be changed
        "made_on_the_cpu": ON_THE_INPUTS_DEVICE,
    },
    backs={
        "made_on_the_cpu": ("test_makes_its_mask_on_the_inputs_device",),
        "inputs_kept": ("test_match_a_hand_computation",),
    },
)
def attention_weights_inputs(rng):
    B, T, head_size = integer(rng, 1, 3), integer(rng, 2, 10), integer(rng, 2, 16)  # size 1 hides the scaling
    head_size += head_size == T  # and a size of T the scaling by k.shape[1]
    long = integer(rng, 17, 32)  # more positions than the lecture's 8: a mask made for them is cut short
    return {
        "q": normal(rng, B, T, head_size),
        "k": normal(rng, B, T, head_size),
        "q_long": normal(rng, 1, long, head_size),
        "k_long": normal(rng, 1, long, head_size),
    }


def head_answer(inputs):
    # short, long, then short again, as the test of several lengths calls one head (a red-team pass's head kept the
    # mask of the longest input it had met, and failed only there)
    output = [oracles.head(inputs["weights"], x).float() for x in (inputs["x"], inputs["x_full"], inputs["x"])]
    dropping = [oracles.head(inputs["weights"], inputs["x"], inputs["p"]).float(), output[0]]  # training, then eval
    return {
        "output": output,
        "trains": True,  # a gradient flows back through its dropout
        "dropping": dropping,
        "biases": [False] * 3,
        "tril_buffer": [inputs["block_size"]] * 2,
        "made_on_the_cpu": ON_THE_INPUTS_DEVICE,
        "fused_calls": 0,
    }


@probe(
    "s06_attention.Head",
    head_answer,
    backs={
        "trains": ("test_lets_gradients_through_its_dropout",),
        "biases": ("test_has_key_query_value_without_bias_and_a_tril_buffer",),
        "tril_buffer": ("test_has_key_query_value_without_bias_and_a_tril_buffer",),
        "dropping": ("test_dropout_acts_on_the_weights_in_training_only",),
        "made_on_the_cpu": ("test_makes_its_tensors_on_the_inputs_device",),
        "fused_calls": ("test_dropout_acts_on_the_weights_in_training_only",),
    },
)
def head_inputs(rng):
    # head size 1 hides the scaling, a width equal to it which of the two scales, width 1 makes q k^T symmetric;
    # see `sequence` for the positions. A second input of block_size positions, more than the width, shows a mask
    # made n_embd × n_embd, which the first may be short enough to fit.
    head_size = integer(rng, 2, 6)
    n_embd = head_size + integer(rng, 1, 6)
    block_size = n_embd + integer(rng, 1, 3)
    x = sequence(rng, n_embd, block_size)
    weights = head_weights(rng, n_embd, head_size)
    return {
        "n_embd": n_embd,
        "head_size": head_size,
        "block_size": block_size,
        "weights": weights,
        "x": x,
        "x_full": normal(rng, 1, block_size, n_embd),
        "p": dropout_rate(rng),
    }


# ---- stage 7 ----------------------------------------------------------------------------------------


def multihead_answer(inputs):
    output = oracles.multihead(inputs["weights"], inputs["x"]).float()
    dropping = [oracles.multihead(inputs["weights"], inputs["x"], inputs["p"]).float(), output]
    # in an nn.ModuleList, which registers each head's weights
    heads = ["ModuleList", sum(weight.numel() for weight in flattened(inputs["weights"]))]
    full = oracles.multihead(inputs["weights"], inputs["x_full"]).float()
    return {"output": output, "heads": heads, "dropping": dropping, "rejects_indivisible": True, "output_full": full}


@probe(
    "s07_transformer.MultiHeadAttention",
    multihead_answer,
    backs={
        "rejects_indivisible": ("test_rejects_n_embd_not_divisible",),
        "dropping": ("test_drops_each_heads_weights_and_the_projected_output",),
        "heads": ("test_has_n_head_heads_of_size_n_embd_over_n_head", "test_concatenates_its_heads_then_projects"),
    },
)
def multihead_inputs(rng):
    n_head = integer(rng, 2, 4)  # one head hides every mistake in how heads are split and joined
    n_embd = n_head * integer(rng, 2, 4)  # and a head size of 1 the scaling, which way q and k go, their order
    return layer_inputs(rng, n_embd, n_head, multihead_weights(rng, n_embd, n_head))


def layer_inputs(rng, n_embd: int, n_head: int, weights: dict) -> dict:
    """The inputs of an attention layer or a block: as Head's, a second x of block_size positions, more than the
    width, for which a mask made n_embd × n_embd is too small."""
    block_size = n_embd + integer(rng, 1, 3)
    return {
        "n_embd": n_embd,
        "n_head": n_head,
        "block_size": block_size,
        "weights": weights,
        "x": sequence(rng, n_embd, block_size, besides=(n_head,)),
        "x_full": normal(rng, 1, block_size, n_embd),
        "p": dropout_rate(rng),
    }


def feed_forward_answer(inputs):
    output = oracles.feed_forward(inputs["weights"], inputs["x"]).float()
    return {
        "output": output,
        "dropping": [oracles.feed_forward(inputs["weights"], inputs["x"], inputs["p"]).float(), output],
    }


@probe(
    "s07_transformer.FeedForward",
    feed_forward_answer,
    backs={"dropping": ("test_drops_the_output_of_its_last_linear",)},
)
def feed_forward_inputs(rng):
    n_embd = integer(rng, 1, 10)
    weights = [linear_weights(rng, n_embd, 4 * n_embd), linear_weights(rng, 4 * n_embd, n_embd)]
    return {"n_embd": n_embd, "weights": weights, "x": sequence(rng, n_embd), "p": dropout_rate(rng)}


def layer_norm_answer(inputs):
    x, weights = inputs["x"], inputs["weights"]
    return {
        "output": oracles.layer_norm(weights, x, inputs["eps"]).to(x.dtype),
        "input_kept": True,
        "rows": oracles.layer_norm(weights, x[0], inputs["eps"]).to(x.dtype),
        "in_eval_mode": oracles.layer_norm(weights, x, inputs["eps"]).to(x.dtype),
        "nearly_constant": oracles.layer_norm(weights, x * 0.03, 2**-10).to(x.dtype),
        "default_eps": oracles.layer_norm(weights, x * 0.001, 1e-5).to(x.dtype),  # nn.LayerNorm's default
        "fresh": [[1.0] * inputs["dim"], [0.0] * inputs["dim"]],
        "parameters": ["bias", "weight"],
        "trainable": ["bias", "weight"],
        "torchs_own_calls": 0,
        "input_gradient": layer_norm_gradient(weights, x, inputs["eps"]).to(x.dtype),
    }


def layer_norm_gradient(weights: dict, x: torch.Tensor, eps: float) -> torch.Tensor:
    """What probe_calls.gradient_back finds for a right layer norm: the mean and the variance in the graph."""
    leaf = x.double().clone().requires_grad_()
    output = oracles.layer_norm(weights, leaf, eps)
    (output * torch.linspace(-1, 1, output.numel(), dtype=output.dtype).view_as(output)).sum().backward()
    return leaf.grad


LAYER_NORM_ASPECTS = {
    "trainable": ("test_learns_its_scale_and_shift",),
    "input_kept": ("test_learns_its_scale_and_shift",),  # x -= mean on a leaf that requires its gradient raises
    "rows": ("test_matches_nn_layernorm",),  # B, T, C = x.shape
    "in_eval_mode": ("test_computes_the_same_in_eval_mode",),  # BatchNorm's running statistics left in
    # the others use a fresh one too
    "fresh": ("test_matches_nn_layernorm", "test_eps_defaults_to_1e_5", "test_passes_the_gradient_back"),
    "parameters": ("test_matches_nn_layernorm",),
    "torchs_own_calls": ("test_is_written_from_scratch",),
    "float64": ("test_matches_nn_layernorm",),
    "default_eps": ("test_eps_defaults_to_1e_5_as_nn_layernorms_does",),
    # statistics kept out of the graph (torch.no_grad(), .detach()): the values right, the gradient not
    "input_gradient": ("test_passes_the_gradient_back_as_nn_layernorm_does",),
}


def layer_norm_judge(inputs, answer) -> dict[str, str]:
    """The values within float32's tolerance (the core), and to float64's precision as the tests want them
    (an aspect): computed in float32 and cast back, a layer norm is off by about 1e-7. The input is float64
    for both (float32 input would hide that; the arithmetic is the same in either dtype)."""
    expected = layer_norm_answer(inputs)
    if found := by_aspect(answer, expected, 1e-4, LAYER_NORM_ASPECTS):
        return found
    # as the test allows, eps rounded to float32 (an eps kept as a float32 buffer, an accepted variant), which moves
    # the output by up to about 1e-9 here; 2**-10, nearly_constant's eps, is exact in float32
    rounded = layer_norm_answer({**inputs, "eps": torch.tensor(inputs["eps"], dtype=torch.float32).item()})
    precise = (
        difference(answer[key], expected[key], 1e-9, key) if difference(answer[key], rounded[key], 1e-9, key) else ""
        for key in ("output", "nearly_constant")
    )
    return {"float64": why} if (why := next((why for why in precise if why), "")) else {}


@probe("s07_transformer.LayerNorm", layer_norm_answer, judge=layer_norm_judge, backs=LAYER_NORM_ASPECTS)
def layer_norm_inputs(rng):
    dim = integer(rng, 2, 9)
    # (B, T, C): normalised over the last dimension alone, not over the positions (on (B, C) dim 1 is the last)
    x = (normal(rng, integer(rng, 1, 3), integer(rng, 2, 4), dim) * 3 + 1).double()
    return {"dim": dim, "eps": [1e-5, 1e-3][integer(rng, 0, 1)], "weights": norm_weights(rng, dim), "x": x}


def block_tolerance(inputs) -> float:
    return network_tolerance(lambda weights: oracles.block(weights, inputs["x"], inputs["n_head"]), inputs["weights"])


def block_answer(inputs):
    output = oracles.block(inputs["weights"], inputs["x"], inputs["n_head"]).float()
    dropping = oracles.block(inputs["weights"], inputs["x"], inputs["n_head"], inputs["p"]).float()
    full = oracles.block(inputs["weights"], inputs["x_full"], inputs["n_head"]).float()
    return {"output": output, "dropping": [dropping, output], "input_kept_and_trains": True, "output_full": full}


@probe(
    "s07_transformer.Block",
    block_answer,
    atol=block_tolerance,
    backs={
        "dropping": ("test_dropout_is_off_in_eval_mode", "test_passes_dropout_on_to_both_sublayers"),
        "input_kept_and_trains": ("test_leaves_its_input_as_it_was_and_trains",),
    },
)
def block_inputs(rng):
    n_head = integer(rng, 2, 3)  # one head hides every mistake in how heads are split and joined
    n_embd = 4 * n_head
    return layer_inputs(rng, n_embd, n_head, block_weights(rng, n_embd, n_head))


# ---- stage 8 ----------------------------------------------------------------------------------------


# The defaults back only the test that reads them: a config with a field more (nanoGPT's bias, say) fails that test,
# and every other test builds its config from its own values (a precision pass found the stage scored 0, 1.9 at
# stage 11, where the core was refuted).
@probe(
    "s08_gpt.GPTConfig",
    lambda inputs: {"defaults": LECTURE_CONFIG},
    backs={"defaults": ("test_defaults_and_10_79_million_parameters",)},
)
def config_inputs(rng):
    return {}


def gpt_answer(inputs):
    config, weights = inputs["config"], inputs["weights"]

    def logits_of(idx):
        return oracles.gpt_logits(weights, idx, config["n_head"]).float()

    logits = logits_of(inputs["idx"])
    generated = oracles.sample_tokens(
        logits_of, inputs["prompt"], inputs["new_tokens"], inputs["seed"], config["block_size"]
    )
    return {
        "logits": logits,
        "flat_logits": logits.flatten(0, 1),
        "flat_shape": list(logits.flatten(0, 1).shape),
        "loss": oracles.cross_entropy(logits, inputs["targets"]).item(),
        "loss_type": "Tensor",
        "generated": generated,
        "generated_rows": oracles.sample_tokens(logits_of, inputs["prompt_rows"], 3, inputs["seed"] + 5),
        # every weight registered; and a model of six layers, the most a test builds, as many blocks as its config
        # says (a model capped at some number of blocks passes the draws' n_layer of 1, 2 or 4 that are below it)
        "parameter_count": [
            sum(weight.numel() for weight in flattened(weights)),
            gpt_parameter_count({**config, "n_layer": DEEPEST}),
        ],
        "rejects_too_long": True,
        "keeps_config": True,
        "dropping": oracles.gpt_logits(weights, inputs["idx"], config["n_head"], inputs["p"]).float(),
        "evaluated_with_dropout": logits,  # in eval mode nothing drops
        "made_on_the_cpu": ON_THE_INPUTS_DEVICE,
        "generate_made_on_the_cpu": ON_THE_INPUTS_DEVICE,
        # the parameters the loss's gradient does not reach (a block's output detached, say), in training mode and in
        # eval mode
        "trains": [],
        "learns": [],
        "mode_kept": [True, False],  # generate leaves a model in the mode it found it in
        "fresh_positions_differ": True,
    }


DEEPEST = LECTURE_CONFIG["n_layer"]


def gpt_parameter_count(config: dict) -> int:
    """The parameters of stage 8's GPT of `config` (10,788,929 for LECTURE_CONFIG)."""
    V, T, C, n_layer = (config[key] for key in ("vocab_size", "block_size", "n_embd", "n_layer"))
    block = 3 * C * C + (C * C + C) + (C * 4 * C + 4 * C) + (4 * C * C + C) + 2 * (2 * C)  # heads, proj, MLP, norms
    return V * C + T * C + n_layer * block + 2 * C + (C * V + V)


def flattened(weights) -> list[torch.Tensor]:
    if isinstance(weights, torch.Tensor):
        return [weights]
    parts = weights.values() if isinstance(weights, dict) else weights
    return [tensor for part in parts for tensor in flattened(part)]


def initialisation_judge(
    statistics, std_bounds: Callable[[str], tuple[float, float]], *, norms: bool, largest_mean: float | None = None
) -> str:
    """A fresh model as its stage's tests want it: every weight drawn with a std within std_bounds(its name) (and,
    where `largest_mean` is given, a mean within it of 0: `normal_(w, 0.02, 0.02)` draws with mean 0.02),
    every bias at zero and, where `norms`, the layer norms at ones and zeros. Judged from each parameter's
    std and largest absolute value (each weight has at least 1,000 numbers here, so its std is measured
    within a few percent)."""
    if not isinstance(statistics, dict) or not all(isinstance(v, list) and len(v) == 3 for v in statistics.values()):
        return "the fresh model's statistics should be [std, largest absolute value, mean] per parameter"
    for name, (std, largest, mean) in statistics.items():
        if not all(isinstance(value, float) for value in (std, largest, mean)):
            return f"the fresh model's {name} has no statistics"
        if ".ln" in f".{name}":
            expected = 1.0 if name.endswith("weight") else 0.0
            if norms and (abs(largest - expected) > 1e-6 or std > 1e-6):
                return f"a fresh model's {name} should start at {expected:g} everywhere"
        elif name.endswith("bias"):
            if largest != 0.0:
                return f"a fresh model's {name} should start at zeros (largest value {largest:.3g})"
        else:
            low, high = std_bounds(name)
            if not low <= std <= high:
                return f"a fresh model's {name} has std {std:.4f}, expected between {low:.4f} and {high:.4f}"
            if largest_mean is not None and abs(mean) > largest_mean:
                return f"a fresh model's {name} has mean {mean:.4f}, expected within {largest_mean:g} of 0"
    return ""


def gpt_judge(inputs, answer) -> dict[str, str]:
    if not isinstance(answer, dict) or "init" not in answer:
        return {"": "the answer should hold the fresh model's statistics"}
    rest = {key: value for key, value in answer.items() if key != "init"}
    expected, tolerance = gpt_answer(inputs), gpt_tolerance(inputs)
    weights, n_head = inputs["weights"], inputs["config"]["n_head"]
    nanogpt = oracles.gpt_logits(weights, inputs["idx"], n_head, inputs["p"], embedding_dropout=True).float()
    if not difference(rest.get("dropping"), nanogpt, tolerance):
        expected["dropping"] = nanogpt  # dropout on the embeddings too, as nanoGPT's GPT has: the tests accept it
    found = by_aspect(rest, expected, tolerance, GPT_ASPECTS)
    # As stage 8's tests: std at most 1.25 x 0.02 and at least 0.85 x 0.02 at the ends, as small as nanoGPT's residual
    # projections within the blocks; the layer norms at ones and zeros
    if wrong := initialisation_judge(answer["init"], lecture_std_bounds, norms=True, largest_mean=0.25 * 0.02):
        found["init"] = wrong
    return found


GPT_ASPECTS = {
    "init": ("test_initialises_weights_like_the_lecture", "test_a_fresh_model_starts_near_ln_V"),
    "rejects_too_long": ("test_rejects_a_sequence_longer_than_block_size",),
    # model.config: the tests build the model's inputs and read its sizes from it
    "keeps_config": (
        "test_contract_with_and_without_targets",
        "test_the_loss_is_the_mean_cross_entropy_of_its_logits",
        "test_a_fresh_model_starts_near_ln_V",
        "test_overfits_one_batch",
        "test_every_parameter_learns_from_the_loss",
        "test_runs_past_block_size_on_the_last_block_size_tokens",
    ),
    "dropping": ("test_config_dropout_reaches_every_block",),
    "evaluated_with_dropout": ("test_eval_mode_drops_nothing",),
    "made_on_the_cpu": ("test_makes_its_positions_on_the_inputs_device",),
    "generate_made_on_the_cpu": ("test_generate_makes_its_tensors_on_the_inputs_device",),
    "trains": ("test_overfits_one_batch",),
    "learns": ("test_every_parameter_learns_from_the_loss",),
    "mode_kept": ("test_leaves_the_model_in_the_mode_it_found_it",),
    "fresh_positions_differ": ("test_uses_the_position_of_each_token",),
    "generated_rows": ("test_runs_past_block_size_on_the_last_block_size_tokens",),
    "loss_type": (
        "test_contract_with_and_without_targets",
        "test_the_loss_is_the_mean_cross_entropy_of_its_logits",
        "test_a_fresh_model_starts_near_ln_V",
    ),
    # the logits returned beside the loss: their shape, which every test calling forward_loss reads, and the order
    # of their rows, which one test does (the loss does not depend on it)
    "flat_shape": (
        "test_contract_with_and_without_targets",
        "test_the_loss_is_the_mean_cross_entropy_of_its_logits",
        "test_a_fresh_model_starts_near_ln_V",
        "test_overfits_one_batch",
        "test_every_parameter_learns_from_the_loss",
    ),
    "flat_logits": ("test_contract_with_and_without_targets",),
    "loss": (
        "test_the_loss_is_the_mean_cross_entropy_of_its_logits",
        "test_a_fresh_model_starts_near_ln_V",
        "test_overfits_one_batch",
    ),
    # every weight registered: the tests that walk the model's modules find its blocks only then
    "parameter_count": (
        "test_has_n_layer_blocks_of_n_head_heads",
        "test_defaults_and_10_79_million_parameters",
        "test_is_embeddings_then_blocks_then_final_norm_then_head",
        "test_config_dropout_reaches_every_block",
    ),
}


def gpt_tolerance(inputs) -> float:
    n_head = inputs["config"]["n_head"]
    return network_tolerance(lambda weights: oracles.gpt_logits(weights, inputs["idx"], n_head), inputs["weights"])


# The model whose initial weights are judged: large enough for a std to be measured within a few percent.
INIT_CONFIG = dict(vocab_size=65, block_size=32, n_embd=64, n_head=4, n_layer=2, dropout=0.0)
# GPT-2's, with three layers: at two, its c_proj std 0.02 / sqrt(2 n_layer) equals 0.02 / n_layer
GPT2_INIT_CONFIG = {**INIT_CONFIG, "n_layer": 3}


@probe("s08_gpt.GPTLanguageModel", gpt_answer, judge=gpt_judge, backs=GPT_ASPECTS)
def gpt_inputs(rng):
    config = small_config(rng)
    # B and T > 1: all logits, and rows flattened time-major differ from batch-major ones
    B, T = rows_and_positions(rng, (2, 3), (2, config["block_size"]), besides=(config["n_head"],))
    V = config["vocab_size"]
    return {
        "init_config": INIT_CONFIG,
        "deepest": DEEPEST,
        "config": config,
        "weights": gpt_weights(rng, config),
        "idx": with_first_and_last_ids(tokens(rng, V, B, T), V),  # token 0, which a padding_idx would not train
        "targets": with_first_and_last_ids(tokens(rng, V, B, T), V),
        "prompt": tokens(rng, V, 1, integer(rng, 1, 4)),
        # runs past block_size for many steps: the context is cropped, and a crop from the wrong end must change
        # one of the draws
        "new_tokens": 4 * config["block_size"] + integer(rng, 1, 4),
        "prompt_rows": tokens(rng, V, 2, 2),  # two rows, as a test's prompt: code that keeps only the first fails
        "seed": integer(rng, 0, 2**30),
        "p": dropout_rate(rng),
    }


def lecture_std_bounds(name: str) -> tuple[float, float]:
    """The std a fresh weight of stage 8's GPT (INIT_CONFIG) may have, as stage 8's tests allow."""
    at_the_ends = name.startswith(("token_embedding_table", "position_embedding_table", "lm_head"))
    lowest = 0.85 * 0.02 / (1 if at_the_ends else math.sqrt(2 * INIT_CONFIG["n_layer"]))
    return lowest, 0.025


def with_first_and_last_ids(targets: torch.Tensor, V: int) -> torch.Tensor:
    """`targets` holding token 0 and token V - 1 (at the first and last position): a loss that leaves one out shows."""
    targets = targets.clone()
    targets[0, 0], targets[-1, -1] = 0, V - 1
    return targets


# ---- stage 9 ----------------------------------------------------------------------------------------


def fused_answer(inputs):
    n_head, x = inputs["n_head"], inputs["x"]
    direct = oracles.multihead(oracles.fused_to_heads(inputs["fused"], n_head), x).float()
    fused = oracles.fused_to_heads(inputs["fused"], n_head)
    return {
        "direct": direct,
        "from_multihead": oracles.multihead(inputs["per_head"], x).float(),
        "dropping": [oracles.multihead(fused, x, inputs["p"]).float(), direct],
        "dropping_from_multihead": oracles.multihead(inputs["per_head"], x, inputs["p"]).float(),
        "rejects_indivisible": True,
        "fused_calls": [True],  # one call of F.scaled_dot_product_attention, with is_causal=True
    }


@probe(
    "s09_fast_attention.CausalSelfAttention",
    fused_answer,
    backs={
        "rejects_indivisible": ("test_rejects_n_embd_not_divisible",),
        "dropping": ("test_dropout_is_off_in_eval_mode", "test_drops_the_attention_weights_and_the_output"),
        "dropping_from_multihead": ("test_from_multihead_keeps_the_dropout",),
        "fused_calls": ("test_uses_fused_scaled_dot_product_attention",),
    },
)
def fused_inputs(rng):
    n_head = integer(rng, 2, 4)  # one head hides every mistake in how heads are split and joined
    # and a head size of 1 the scaling, which way q and k go, their order; one equal to n_head, code that reads
    # the one for the other
    sizes = [size for size in (2, 3, 4, 5) if size != n_head]
    n_embd = n_head * sizes[integer(rng, 0, len(sizes) - 1)]
    return {
        "n_embd": n_embd,
        "n_head": n_head,
        "block_size": 8,
        "fused": fused_weights(rng, n_embd),
        "per_head": multihead_weights(rng, n_embd, n_head),
        "x": sequence(rng, n_embd, besides=(n_head,)),
        "p": dropout_rate(rng),
    }


def fast_gpt_answer(inputs):
    weights, idx, n_head = inputs["weights"], inputs["idx"], inputs["config"]["n_head"]
    logits = oracles.gpt_logits(weights, idx, n_head).float()
    return {
        "attention": ["CausalSelfAttention"],
        "logits": logits,
        "converted_minus_per_head": torch.zeros_like(logits),
        "norm_calls": 2 * inputs["config"]["n_layer"] + 1,  # each block's ln1 and ln2, and ln_f
    }


def fast_gpt_judge(inputs, answer) -> dict[str, str]:
    """The logits within the network's tolerance, and the fused copy of a fresh per-head model equal to it
    within float32 rounding (1e-6, where correct copies differ by 3e-8): a fresh model's attention is nearly
    uniform, so keys copied where the queries go move its logits by only about 1e-4."""
    expected = fast_gpt_answer(inputs)
    found = by_aspect(answer, expected, gpt_tolerance(inputs), {"norm_calls": ()})
    if "" in found:
        return found
    fused_copy = "converted_minus_per_head"
    if why := difference(answer[fused_copy], expected[fused_copy], 1e-6, fused_copy):
        found["converted"] = why  # not the core: stage 10's tests build their models with fast_gpt
    return found


@probe(
    "s09_fast_attention.fast_gpt",
    fast_gpt_answer,
    judge=fast_gpt_judge,
    backs={
        "converted": ("test_is_the_same_model_as_the_per_head_gpt",),
        "norm_calls": ("test_normalises_with_torch_fused_layer_norm",),
    },
)
def fast_gpt_inputs(rng):
    config = small_config(rng)
    # T > 1: with one position, queries and keys swapped give the same scores
    idx = tokens(rng, config["vocab_size"], integer(rng, 1, 3), integer(rng, 2, config["block_size"]))
    weights = gpt_weights(rng, config, fused=True)
    return {"config": config, "weights": weights, "idx": idx, "seed": integer(rng, 0, 2**30)}


# ---- stage 10 ---------------------------------------------------------------------------------------


def probabilities_answer(inputs):
    def probabilities(options_list, logits=inputs["logits"]):
        return [oracles.next_token_probabilities(logits, **options).float() for options in options_list]

    order = oracles.next_token_probabilities(inputs["order_logits"], top_k=2, top_p=0.5).float()
    return {
        "probs": probabilities(inputs["options"]),
        "logits_kept": [True, True],  # the caller's logits as they were, at temperature 1 and at another
        "one_row": probabilities(inputs["options"], inputs["logits"][:1]),
        "order": order,  # top_k first: of 0.4 and 0.3, renormalised, 0.57 alone holds top_p 0.5
        "rejects": [True] * len(inputs["bad"]),
        "boundaries": probabilities(inputs["boundaries"], inputs["boundary_logits"]),
        "made_on_the_cpu": ON_THE_INPUTS_DEVICE,
    }


BOUNDARIES = [dict(top_k=1), dict(top_p=1.0), dict(temperature=1e-3)]  # and top_k=V, added per draw
# as stage 10's test tries them (and top_k past the vocabulary, added per draw)
BAD_OPTIONS = [
    dict(temperature=0.0),
    dict(temperature=-1.0),
    dict(top_k=0),
    dict(top_p=0.0),
    dict(top_p=1.5),
    dict(top_p=-0.1),
]


def with_a_clear_maximum(logits: torch.Tensor) -> torch.Tensor:
    """`logits` with each row's largest raised by 0.1: at temperature 1e-3 a gap of a few 1e-6 between the two
    largest would leave float32's rounding (a relative 6e-8 of logits / 1e-3) to decide their probabilities."""
    return logits + 0.1 * torch.nn.functional.one_hot(logits.argmax(-1), logits.shape[-1])


@probe(
    "s10_generation.next_token_probabilities",
    probabilities_answer,
    atol=1e-5,
    backs={
        "rejects": ("test_rejects_bad_arguments",),
        "logits_kept": ("test_leaves_the_logits_it_was_given_as_they_were",),
        "made_on_the_cpu": ("test_makes_its_tensors_on_the_logits_device",),
        "boundaries": (
            "test_rejects_bad_arguments_and_accepts_the_boundaries",
            "test_top_p_keeps_the_smallest_nucleus_holding_top_p[1.0-",  # the one case that is a boundary
            "test_top_k_keeps_the_k_most_likely_in_each_row",  # which tries top_k = V
        ),
    },
    reached_by={
        "": (
            "TestGenerate::test_samples_what_the_full_forward_gives_past_block_size",
            "TestGenerate::test_top_k_1_is_greedy_decoding",
            "TestGenerate::test_every_token_is_inside_the_top_k",
            "TestGenerate::test_a_second_call_starts_afresh",
        )
    },
)
def probabilities_inputs(rng):
    V = integer(rng, 4, 30)
    options = [
        dict(),
        dict(temperature=0.5),
        dict(top_k=integer(rng, 2, V - 1)),  # top_k V masks nothing: a top-k that masks the caller's logits hides
        dict(top_p=0.7),
        dict(temperature=2.0, top_k=3, top_p=0.9),
    ]
    logits = normal(rng, integer(rng, 2, 3), V, scale=2.0)  # rows: each is its own distribution
    order_logits = torch.tensor([[0.4, 0.3, 0.2, 0.1]]).log()
    return {
        "logits": logits,
        "options": options,
        "boundaries": [*BOUNDARIES, dict(top_k=V)],
        "boundary_logits": with_a_clear_maximum(logits),
        "bad": [*BAD_OPTIONS, dict(top_k=V + 1)],
        "order_logits": order_logits,
    }


def cache_answer(inputs):
    held: dict[int, list] = {}
    returned = []
    for layer, k, v in inputs["updates"]:
        previous = held.get(layer)
        held[layer] = [k, v] if previous is None else [torch.cat((previous[0], k), 2), torch.cat((previous[1], v), 2)]
        returned.append(list(held[layer]))
    return {"empty": [0, 0], "returned": returned, "length": held[0][0].shape[2]}


@probe("s10_generation.KVCache", cache_answer, atol=0.0)
def cache_inputs(rng):
    B, H, hs = integer(rng, 1, 2), integer(rng, 1, 3), integer(rng, 1, 4)
    steps = [integer(rng, 1, 4), 1, 2]
    updates = [[layer, normal(rng, B, H, T, hs), normal(rng, B, H, T, hs)] for T in steps for layer in (0, 1)]
    return {"updates": updates}


def cached_attention_answer(inputs):
    def parts(fused: dict, x: torch.Tensor) -> list[torch.Tensor]:
        whole = oracles.multihead(oracles.fused_to_heads(fused, inputs["n_head"]), x).float()
        return [whole[:, : inputs["split"]], whole[:, inputs["split"] :]]

    first = parts(inputs["fused"], inputs["x"])
    return {"parts": first, "eval_dropout": first, "second_layer": parts(inputs["second_fused"], inputs["second_x"])}


@probe(
    "s10_generation.attend_with_cache",
    cached_attention_answer,
    backs={
        "eval_dropout": ("test_drops_nothing_while_generating",),
        "second_layer": ("test_each_layer_masks_by_its_own_cached_positions",),
    },
)
def cached_attention_inputs(rng):
    n_head = integer(rng, 2, 3)  # one head hides every mistake in how heads are split and joined
    n_embd = n_head * integer(rng, 2, 4)  # and a head size of 1 the scaling, which way q and k go, their order
    T = integer(rng, 4, 9)
    x = normal(rng, integer(rng, 1, 2), T, n_embd)
    return {
        "n_embd": n_embd,
        "n_head": n_head,
        "fused": fused_weights(rng, n_embd),
        "x": x,
        "split": integer(rng, 2, T - 2),  # parts of 2 or more: a part of one position hides its mask
        # layer 1's own weights and input, run after layer 0 in one cache: the same ones hid a layer reading layer 0's
        "second_fused": fused_weights(rng, n_embd),
        "second_x": normal(rng, *x.shape),
    }


def cached_forward_answer(inputs):
    logits = oracles.gpt_logits(inputs["weights"], inputs["idx"], inputs["config"]["n_head"]).float()
    return {
        "logits": [logits[:, : inputs["split"]], logits[:, inputs["split"] :]],
        "rejects_too_long": [True, True],  # on an empty cache, and past the cached positions
        "made_on_the_cpu": ON_THE_INPUTS_DEVICE,
        "full_block": oracles.gpt_logits(inputs["weights"], inputs["full"], inputs["config"]["n_head"]).float(),
    }


def layered_config(rng: torch.Generator) -> dict:
    """small_config with two blocks or more: one block hides a cache that mixes its layers up (a red-team pass's
    attend_with_cache read layer 0's keys in every layer, and generate's check on a one-block model backed none of
    the tests it failed)."""
    config = small_config(rng)
    return {**config, "n_layer": max(config["n_layer"], 2)}


@probe(
    "s10_generation.forward_with_cache",
    cached_forward_answer,
    atol=gpt_tolerance,
    backs={
        "rejects_too_long": ("test_grows_the_cache_and_rejects_more_than_block_size",),
        "made_on_the_cpu": ("test_makes_its_positions_and_masks_on_the_inputs_device",),
        "full_block": ("test_logits_equal_the_full_forward_at_every_step",),
    },
)
def cached_forward_inputs(rng):
    config = layered_config(rng)
    T = integer(rng, 4, config["block_size"])
    idx = tokens(rng, config["vocab_size"], integer(rng, 1, 2), T)
    return {
        "config": config,
        "weights": gpt_weights(rng, config, fused=True),
        "idx": idx,
        "split": integer(rng, 2, T - 2),  # parts of 2 or more: a part of one position hides its mask
        "full": tokens(rng, config["vocab_size"], 1, config["block_size"]),
    }


GENERATION_KEYS = {
    "long_prompt",
    "greedy",
    "greedy_again",
    "sampled",
    "uncached_reads",
    "uncached",
    "sampled_rows",
    "reads",
    "same_generator",
    "second_call",
    "global_seed",
    "rejects",
    "cold",
    "nucleus",
    "defaults",
    "made_on_the_cpu",
    "draws",
    "plain_draws",
    "mode_kept",
    "second_call_reads",
}


def generation_judge(inputs, answer) -> dict[str, str]:
    """Greedy decoding must be the oracle's; each sampled token must be one of the three most likely (the
    draws themselves rest on floating-point noise at the boundaries, so they are not compared one by one),
    and the draws must be draws: 8 rows that always take the most likely token, where a sampler would do
    that with a chance below one in a million, never sampled. The same generator gives the same tokens
    whatever the global seed, and the cache is used: after the first step, most steps read one position."""
    if not isinstance(answer, dict) or set(answer) != GENERATION_KEYS:
        return {"": f"the answer should hold {sorted(GENERATION_KEYS)}"}
    again = {**inputs, "prompt": inputs["second_prompt"]}
    # said where the run without the cache is right: a false-pass hunt's generate, which refilled a full cache from
    # the newest token alone, was told about top_k
    uncached_right = not tokens_judge(inputs, answer["uncached"], "uncached", rows=1, top_k=3)
    for name, asked, rows, top_k in (
        ("greedy", inputs, 1, 1),
        ("greedy_again", again, 1, 1),
        ("sampled", inputs, 1, 3),
    ):
        if wrong := tokens_judge(asked, answer[name], name, rows=rows, top_k=top_k):
            return {
                "": f"{wrong} (with use_cache=False it samples rightly: the cache goes wrong)"
                if uncached_right
                else wrong
            }
    found = {}
    if wrong := tokens_judge(inputs, answer["uncached"], "uncached", rows=1, top_k=3):  # use_cache=False works
        found["uncached"] = wrong
    elif not torch.equal(answer["uncached"], answer["sampled"]):  # every option, as with the cache (a false-pass
        # hunt's use_cache=False ran nanoGPT's generate, which has no top_p)
        found["uncached"] = "with use_cache=False it drew other tokens than with the cache, same options and generator"
    if wrong := tokens_judge(inputs, answer["sampled_rows"], "sampled_rows", rows=8, top_k=3):
        found["sampled_rows"] = wrong
    elif (chance := chance_of_always_the_most_likely(inputs, answer["sampled_rows"], 1.5)) < 1e-6:
        found["sampled_rows"] = f"every sampled token was the most likely one, a chance of {chance:.1g} for a sampler"
    for name, differ in (
        ("same_generator", "the same generator gave other tokens under another global seed"),
        ("defaults", "without options it sampled other tokens than with temperature=1.0, top_k=None, top_p=None"),
    ):
        if wrong := same_tokens_twice(answer[name], differ):
            found[name] = wrong
    runs = [("plain_draws", answer["plain_draws"], {})]
    if isinstance(answer["draws"], list) and len(answer["draws"]) == len(inputs["draw_options"]):
        runs += [("draws", got, options) for got, options in zip(answer["draws"], inputs["draw_options"], strict=True)]
    else:
        found["draws"] = f"draws should be {len(inputs['draw_options'])} runs of generate"
    for name, got, options in runs:
        if name not in found and (wrong := draws_judge(inputs, got, options, seed=inputs["seed"] + 3)):
            found[name] = wrong
    if wrong := tokens_judge(inputs, answer["second_call"], "second_call", rows=1, top_k=1):
        found["second_call"] = f"greedily, after a first call from another prompt on the same model: {wrong}"
    elif answer["second_call_reads"] != [inputs["prompt"].shape[1]]:
        found["second_call"] = (
            f"after a first call on the same model, a second one read {str(answer['second_call_reads'])[:40]} "
            f"positions at its first step, not its whole prompt of {inputs['prompt'].shape[1]}"
        )
    if wrong := global_seed_judge(answer["global_seed"]):
        found["global_seed"] = wrong
    long = {**inputs, "prompt": inputs["long_prompt"], "new_tokens": inputs["long_new_tokens"]}
    if wrong := tokens_judge(long, answer["long_prompt"], "long_prompt", rows=1, top_k=1):
        found["long_prompt"] = f"from a prompt longer than block_size: {wrong}"
    # at temperature 1e-4 a logit 1e-3 below the largest still has a chance of e^-10: allow those
    for name, option, margin in (("cold", "temperature=1e-4", 2e-3), ("nucleus", "top_p=1e-6", 1e-4)):
        if wrong := tokens_judge(inputs, answer[name], name, rows=1, top_k=1, margin=margin):
            found[name] = f"with {option}, which leaves only the most likely token: {wrong}"
    start, block_size = inputs["prompt"].shape[1], inputs["config"]["block_size"]
    whole_contexts = [min(start + step, block_size) for step in range(inputs["new_tokens"])]
    if answer["uncached_reads"] != whole_contexts:
        found["uncached_reads"] = (
            f"with use_cache=False, generate read {str(answer['uncached_reads'])[:100]} positions per step, not the "
            f"whole context each step, {whole_contexts}"
        )
    if isinstance(answer["made_on_the_cpu"], str):  # what the call raised
        found["made_on_the_cpu"] = (
            f"generate(model, prompt, {inputs['new_tokens']}, top_k=3, top_p=0.9) {answer['made_on_the_cpu']}"
        )
    elif answer["made_on_the_cpu"] != ON_THE_INPUTS_DEVICE:
        found["made_on_the_cpu"] = (
            f"made a tensor on the CPU and mixed it with the model's: {answer['made_on_the_cpu']}"
        )
    if answer["rejects"] != [True] * 3:
        found["rejects"] = (
            f"generate with temperature 0, top_k past the vocabulary, top_p 1.5 raised: {answer['rejects']}"
        )
    if answer["mode_kept"] != [True, False]:
        found["mode_kept"] = (
            f"model.training after generate on a model in training mode, then in eval mode: {answer['mode_kept']}"
        )
    reads = answer["reads"]
    # the prompt, then one new token a step until the cache holds block_size positions, then the last block_size
    # tokens into a fresh cache (as the test asks: a cache that drops its oldest positions reads one a step)
    cached = block_size - start
    expected_reads = [start] + [1] * cached + [block_size] * (inputs["new_tokens"] - 1 - cached)
    if not isinstance(reads, list) or not all(isinstance(n, int) for n in reads):
        found["reads"] = f"how many positions each forward pass read came back as {str(reads)[:100]}"
    elif reads != expected_reads:
        found["reads"] = f"generate read {reads} positions per step, expected {expected_reads}"
    return found


def global_seed_judge(runs) -> str:
    """Three generations without a generator, after torch.manual_seed(1), (1) and (2): the global generator
    decides the draws, so the first two agree and the third (8 rows of 6 tokens at temperature 1.5) does not."""
    if not (isinstance(runs, list) and len(runs) == 3 and all(isinstance(run, torch.Tensor) for run in runs)):
        return f"three generations without a generator came back as {str(runs)[:100]}"
    if not (runs[0].shape == runs[1].shape and torch.equal(runs[0], runs[1])):
        return "without a generator, the same global seed gave other tokens"
    if runs[0].shape == runs[2].shape and torch.equal(runs[0], runs[2]):
        return (
            "without a generator, two global seeds gave the same tokens: it does not sample from the global generator"
        )
    return ""


def same_tokens_twice(pair, differ: str) -> str:
    """What is wrong with two generations that should be the same tokens ("" when they are)."""
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, torch.Tensor) for t in pair)):
        return f"two generations that should agree came back as {str(pair)[:100]}"
    return "" if pair[0].shape == pair[1].shape and torch.equal(pair[0], pair[1]) else differ


GENERATION_ASPECTS = {
    # each row's tokens among the top 3 of the full forward: what the cache gives must be what it would
    "sampled_rows": (
        "test_samples_what_the_full_forward_gives_past_block_size",
        "test_every_token_is_inside_the_top_k",
        "test_the_cache_does_not_change_the_tokens",
        "test_without_options_samples_at_temperature_1_from_every_token",
        "test_top_k_1_is_greedy_decoding",  # its tokens come from the same cached forward passes
        "test_a_second_call_starts_afresh",
    ),
    # the tests that compare tokens draw them from the generator they pass
    "same_generator": (
        "test_same_generator_same_tokens_whatever_the_global_seed",
        "test_samples_what_the_full_forward_gives_past_block_size",
        "test_the_cache_does_not_change_the_tokens",
        "test_starts_from_the_last_block_size_tokens_of_a_longer_prompt",
        "test_a_second_call_starts_afresh",
    ),
    "reads": ("test_the_cache_reads_one_new_token_per_step",),
    "second_call": ("test_a_second_call_starts_afresh",),
    "global_seed": ("test_without_a_generator_samples_from_the_global_one",),
    "uncached": ("test_the_cache_does_not_change_the_tokens",),
    "uncached_reads": ("test_without_the_cache_reads_the_whole_context_each_step",),
    "rejects": ("test_rejects_bad_arguments",),
    "mode_kept": ("test_leaves_the_model_in_the_mode_it_found_it",),
    "long_prompt": ("test_starts_from_the_last_block_size_tokens_of_a_longer_prompt",),
    "cold": ("test_samples_what_the_full_forward_gives_past_block_size",),  # sampled with its temperature
    "nucleus": ("test_samples_what_the_full_forward_gives_past_block_size",),  # and its top_p
    "defaults": ("test_without_options_samples_at_temperature_1_from_every_token",),
    "made_on_the_cpu": ("test_makes_its_tensors_on_the_inputs_device",),
    # sampled with every option, then with none: a sampler of one's own fails both, a temperature applied twice
    # the first alone
    "draws": ("test_samples_what_the_full_forward_gives_past_block_size",),
    "plain_draws": (
        "test_samples_what_the_full_forward_gives_past_block_size",
        "test_without_options_samples_at_temperature_1_from_every_token",
        "test_starts_from_the_last_block_size_tokens_of_a_longer_prompt",
        "test_a_second_call_starts_afresh",
    ),
}


# The draws compared token by token: a temperature applied twice, top_k dropped beside top_p, or a sampler of
# one's own keep every token among the likely ones and the same generator's tokens the same (a red-team pass
# forged the tests they fail, which nothing else here backed).
DRAW_ROWS = 4


def draws_judge(inputs, got, options: dict, *, seed: int) -> str:
    """Each token must be torch.multinomial's draw from the oracle's probabilities (with `options`) for the
    context the learner's generate had, with the generator the call was given (`seed`), one call a step: with the
    probabilities in float64 or in float32, so that a draw at a boundary that rounding moves is taken either way."""
    config, prompt = inputs["config"], inputs["prompt"]
    expected_shape = (DRAW_ROWS, prompt.shape[1] + inputs["new_tokens"])
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != expected_shape or got.dtype != torch.int64:
        return f"draws tokens should be an int64 tensor of shape {expected_shape}"
    if got.min() < 0 or got.max() >= config["vocab_size"]:
        return f"draws tokens should be ids from 0 to {config['vocab_size'] - 1}"
    drawn = torch.Generator().manual_seed(seed)
    for step in range(prompt.shape[1], got.shape[1]):
        logits = oracles.gpt_logits(inputs["weights"], got[:, :step][:, -config["block_size"] :], config["n_head"])
        state, taken = drawn.get_state(), torch.zeros(DRAW_ROWS, dtype=torch.bool)
        for dtype in (torch.float64, torch.float32):
            drawn.set_state(state)
            probs = oracles.next_token_probabilities(logits[:, -1].to(dtype), **options).to(dtype)
            taken |= torch.multinomial(probs, 1, generator=drawn)[:, 0] == got[:, step]
        if not taken.all():
            given = ", ".join(f"{name}={value}" for name, value in options.items()) or "no options"
            return (
                f"with {given} and a seeded generator, token {step} is not what "
                "torch.multinomial(probs, 1, generator=generator) draws from the oracle's probabilities"
            )
    return ""


def tokens_judge(inputs, got, name: str, *, rows: int, top_k: int, margin: float = 1e-4) -> str:
    """What is wrong with generated tokens ("" when nothing is): each must be one of the top_k most likely of the
    full forward, or within `margin` of the k-th logit (float32's rounding in the learner's forward, or a
    temperature, may pick either of two logits that close)."""
    config, prompt = inputs["config"], inputs["prompt"]
    expected_shape = (rows, prompt.shape[1] + inputs["new_tokens"])
    if not isinstance(got, torch.Tensor) or tuple(got.shape) != expected_shape or got.dtype != torch.int64:
        return f"{name} tokens should be an int64 tensor of shape {expected_shape}"
    if not torch.equal(got[:, : prompt.shape[1]], prompt.expand(rows, -1)):
        return f"{name} tokens should start with the prompt"
    if got.min() < 0 or got.max() >= config["vocab_size"]:
        return f"{name} tokens should be ids from 0 to {config['vocab_size'] - 1}"
    for step in range(prompt.shape[1], got.shape[1]):
        context = got[:, :step][:, -config["block_size"] :]
        logits = oracles.gpt_logits(inputs["weights"], context, config["n_head"])[:, -1]
        lowest = logits.topk(top_k, dim=-1).values[:, -1:] - margin
        if not (logits.gather(-1, got[:, step : step + 1]) >= lowest).all():
            return f"{name} token {step} is not one top_k={top_k} allows"
    return ""


def chance_of_always_the_most_likely(inputs, got: torch.Tensor, temperature: float) -> float:
    """How likely a top-3 sampler is to take the most likely token at every step of `got` (1.0 if `got`
    ever takes another: then it sampled)."""
    config, start = inputs["config"], inputs["prompt"].shape[1]
    chance = 1.0
    for step in range(start, got.shape[1]):
        logits = oracles.gpt_logits(inputs["weights"], got[:, :step][:, -config["block_size"] :], config["n_head"])
        probs = oracles.next_token_probabilities(logits[:, -1], temperature=temperature, top_k=3)
        best = probs.max(dim=-1)
        if not torch.equal(best.indices, got[:, step]):
            return 1.0
        chance *= best.values.prod().item()
    return chance


@probe("s10_generation.generate", lambda inputs: None, judge=generation_judge, backs=GENERATION_ASPECTS)
def generation_inputs(rng):
    config = layered_config(rng)
    # two tokens at least: a prompt of one read one token at a time reads what the cache should
    prompt = tokens(rng, config["vocab_size"], 1, integer(rng, 2, 3))
    new_tokens = config["block_size"] + integer(rng, 1, 3)  # runs past block_size: a fresh cache
    return {
        "config": config,
        "weights": gpt_weights(rng, config, fused=True),
        "prompt": prompt,
        "new_tokens": new_tokens,
        "seed": integer(rng, 0, 2**30),
        # past block_size by more than the new tokens: every step's context starts after the prompt's start
        "long_prompt": tokens(rng, config["vocab_size"], 1, config["block_size"] + integer(rng, 5, 8)),
        "long_new_tokens": 4,  # greedily: a context cut from the prompt's start must miss on one of them
        # greedily too, from another prompt: a wrong cached attention may shift no argmax of one run (a mask
        # that hid each token from itself did not, on one draw in twelve)
        "second_prompt": tokens(rng, config["vocab_size"], 1, integer(rng, 3, 5)),
        # every option at once, twice: cold, where a temperature applied twice shows, and hot with a top_k of 2,
        # where one dropped beside top_p does (a single run missed one or the other on 4 to 34 draws in 100,
        # by its options)
        "draw_options": [dict(temperature=0.5, top_k=3, top_p=0.99), dict(temperature=2.0, top_k=2, top_p=0.99)],
    }


# ---- stage 11 ---------------------------------------------------------------------------------------

GPT2_SMALL = dict(vocab_size=50257, block_size=1024, n_embd=768, n_head=12, n_layer=12, dropout=0.0)


def gpt2_block_weights(rng, n_embd: int) -> dict:
    return {
        "ln_1": norm_weights(rng, n_embd),
        "c_attn": linear_weights(rng, n_embd, 3 * n_embd),
        "attn_proj": linear_weights(rng, n_embd, n_embd),
        "ln_2": norm_weights(rng, n_embd),
        "c_fc": linear_weights(rng, n_embd, 4 * n_embd),
        "mlp_proj": linear_weights(rng, 4 * n_embd, n_embd),
    }


def gpt2_config(rng) -> dict:
    n_head = integer(rng, 2, 3)  # one head hides every mistake in how heads are split and joined
    # never n_head layers, as small_config; a width never block_size, where a position table of n_embd rows fits
    block_size, n_embd, n_layer = 8, 6 * n_head, [1, 4][integer(rng, 0, 1)]
    vocab_size = vocabulary_size(rng, block_size, n_embd)
    return dict(
        vocab_size=vocab_size, block_size=block_size, n_embd=n_embd, n_head=n_head, n_layer=n_layer, dropout=0.0
    )


def gpt2_weights(rng, config: dict) -> dict:
    C = config["n_embd"]
    return {
        "wte": normal(rng, config["vocab_size"], C),
        "wpe": normal(rng, config["block_size"], C),
        "h": [gpt2_block_weights(rng, C) for _ in range(config["n_layer"])],
        "ln_f": norm_weights(rng, C),
    }


@probe(
    "s11_gpt2.GPT2Config",
    lambda inputs: {"defaults": GPT2_SMALL},
    backs={"defaults": ("test_defaults_are_gpt2_small_with_124_439_808_parameters",)},
)
def gpt2_config_inputs(rng):
    return {}


def gpt2_attention_answer(inputs):
    weights = {"c_attn": inputs["c_attn"], "c_proj": inputs["c_proj"]}
    return {
        "output": oracles.gpt2_attention(weights, inputs["x"], inputs["n_head"]).float(),
        "stage_9_attention": True,  # a subclass of stage 9's CausalSelfAttention
    }


@probe(
    "s11_gpt2.GPT2Attention",
    gpt2_attention_answer,
    backs={"stage_9_attention": ("test_attention_is_your_stage_9_attention",)},
)
def gpt2_attention_inputs(rng):
    n_head = integer(rng, 2, 3)  # one head hides every mistake in how heads are split and joined
    n_embd = n_head * integer(rng, 2, 4)  # and a head size of 1 the scaling, which way q and k go, their order
    weights = {"c_attn": linear_weights(rng, n_embd, 3 * n_embd), "c_proj": linear_weights(rng, n_embd, n_embd)}
    return {"n_embd": n_embd, "n_head": n_head, **weights, "x": sequence(rng, n_embd)}


# erf's GELU differs from the tanh approximation by at most 5e-4 a unit: at least 1.6e-4 on these draws (x twice
# sequence's size) over 200 of them, eight times the tolerance; float32's rounding stays near 1e-6
@probe("s11_gpt2.GPT2MLP", lambda inputs: oracles.gpt2_mlp(inputs, inputs["x"]).float(), atol=2e-5)
def gpt2_mlp_inputs(rng):
    n_embd = integer(rng, 2, 8)  # width 1 hides which way the weights go
    weights = {"c_fc": linear_weights(rng, n_embd, 4 * n_embd), "c_proj": linear_weights(rng, 4 * n_embd, n_embd)}
    return {"n_embd": n_embd, **weights, "x": 2 * sequence(rng, n_embd)}


def gpt2_block_tolerance(inputs) -> float:
    n_head = inputs["config"]["n_head"]
    return network_tolerance(lambda weights: oracles.gpt2_block(weights, inputs["x"], n_head), inputs["weights"])


@probe(
    "s11_gpt2.GPT2Block",
    lambda inputs: oracles.gpt2_block(inputs["weights"], inputs["x"], inputs["config"]["n_head"]).float(),
    atol=gpt2_block_tolerance,
)
def gpt2_block_inputs(rng):
    config = gpt2_config(rng)
    return {
        "config": config,
        "weights": gpt2_block_weights(rng, config["n_embd"]),
        "x": sequence(rng, config["n_embd"]),
    }


def gpt2_logits(inputs) -> torch.Tensor:
    return oracles.gpt2_logits(inputs["weights"], inputs["idx"], inputs["config"]["n_head"]).float()


def gpt2_parameter_count(config: dict) -> int:
    """The parameters of GPT-2 of `config`, its head tied to the token embedding (124,439,808 for GPT2_SMALL)."""
    V, T, C, n_layer = (config[key] for key in ("vocab_size", "block_size", "n_embd", "n_layer"))
    block = 2 * C + (C * 3 * C + 3 * C) + (C * C + C) + 2 * C + (C * 4 * C + 4 * C) + (4 * C * C + C)
    return V * C + T * C + n_layer * block + 2 * C


def gpt2_answer(inputs):
    logits = gpt2_logits(inputs)
    return {
        "logits": logits,
        "loss": oracles.cross_entropy(logits.double(), inputs["targets"]).float(),
        "flat_logits": logits.flatten(0, 1),
        "rejects_block_size": False,
        "tied": True,
        # the head is the token embedding, and has no bias; and GPT-2 small's twelve layers, as many blocks as the
        # config says (the draws' n_layer is 1 or 4)
        "parameter_count": [
            sum(weight.numel() for weight in flattened(inputs["weights"])),
            gpt2_parameter_count({**inputs["config"], "n_layer": GPT2_SMALL["n_layer"]}),
        ],
        "rejects_too_long": True,
        "made_on_the_cpu": ON_THE_INPUTS_DEVICE,
        "eval_dropping": logits,  # built with dropout, in eval mode: nothing drops
        "embeddings_dropped_whole": True,
        "trains": [],  # the parameters the loss's gradient does not reach (a forward under torch.no_grad(), say)
    }


def gpt2_judge(inputs, answer) -> dict[str, str]:
    """The oracle's logits, and a fresh model initialised as GPT-2: c_proj weights with std 0.02 / sqrt(2 n_layer)."""
    if not isinstance(answer, dict) or "init" not in answer:
        return {"": "the answer should hold the fresh model's statistics"}
    rest = {key: value for key, value in answer.items() if key not in ("init", "dropping")}
    scaled = 0.02 / math.sqrt(2 * GPT2_INIT_CONFIG["n_layer"])

    def within_12_percent(name: str) -> tuple[float, float]:  # as stage 11's tests
        wanted = scaled if name.endswith("c_proj.weight") else 0.02
        return 0.88 * wanted, 1.12 * wanted

    found = by_aspect(rest, gpt2_answer(inputs), gpt2_tolerance(inputs), GPT2_ASPECTS)
    if wrong := initialisation_judge(answer["init"], within_12_percent, norms=True):
        found["init"] = wrong
    if wrong := difference(answer.get("dropping"), *gpt2_dropping(inputs), "dropping"):
        found["dropping"] = wrong  # with a tolerance of its own: the dropped network rounds otherwise
    return found


def gpt2_dropping(inputs) -> tuple[torch.Tensor, float]:
    """The logits of GPT-2 with dropout p in training mode, and the tolerance for this draw."""
    n_head, p = inputs["config"]["n_head"], inputs["p"]

    def logits_of(weights):
        return oracles.gpt2_logits(weights, inputs["idx"], n_head, p)

    return logits_of(inputs["weights"]).float(), network_tolerance(logits_of, inputs["weights"])


GPT2_ASPECTS = {
    "init": ("test_initialisation_is_gpt2s",),
    "rejects_too_long": ("test_rejects_a_sequence_longer_than_block_size",),
    "loss": ("test_the_loss_is_the_mean_cross_entropy",),
    "flat_logits": ("test_the_loss_is_the_mean_cross_entropy_of_the_same_logits",),
    "rejects_block_size": ("test_logits_equal_hugging_faces_after_loading_its_state_dict",),
    "parameter_count": ("test_head_shares_the_token_embedding_and_has_no_bias", "test_defaults_are_gpt2_small"),
    "made_on_the_cpu": ("test_makes_its_positions_on_the_inputs_device",),
    "dropping": ("test_config_dropout_reaches_the_embeddings_and_every_block",),
    "eval_dropping": ("test_config_dropout_reaches_the_embeddings_and_every_block",),
    "embeddings_dropped_whole": ("test_config_dropout_reaches_the_embeddings_and_every_block",),
    "trains": ("test_every_parameter_learns_from_the_loss",),
}


def gpt2_tolerance(inputs) -> float:
    n_head = inputs["config"]["n_head"]
    return network_tolerance(lambda weights: oracles.gpt2_logits(weights, inputs["idx"], n_head), inputs["weights"])


def gpt2_inputs_with(rng) -> dict:
    config = gpt2_config(rng)
    # two positions or more: one hides the causal mask, and a loss summed where it should be averaged; two rows or
    # more: one hides logits flattened time-major
    B_and_T = rows_and_positions(rng, (2, 3), (2, config["block_size"]), besides=(config["n_head"],))
    idx = tokens(rng, config["vocab_size"], *B_and_T)
    return {"config": config, "weights": gpt2_weights(rng, config), "idx": idx}


@probe("s11_gpt2.GPT2", gpt2_answer, judge=gpt2_judge, backs=GPT2_ASPECTS)
def gpt2_whole_inputs(rng):
    inputs = gpt2_inputs_with(rng)
    targets = tokens(rng, inputs["config"]["vocab_size"], *inputs["idx"].shape)
    seed, p = integer(rng, 0, 2**30), dropout_rate(rng)
    deepest = GPT2_SMALL["n_layer"]
    return {**inputs, "targets": targets, "init_config": GPT2_INIT_CONFIG, "seed": seed, "p": p, "deepest": deepest}


def hugging_face_state_dict(weights: dict) -> dict[str, torch.Tensor]:
    """The weights under Hugging Face's GPT2LMHeadModel keys, its four Conv1D weights transposed."""
    state = {"transformer.wte.weight": weights["wte"], "transformer.wpe.weight": weights["wpe"]}
    for layer, block in enumerate(weights["h"]):
        prefix = f"transformer.h.{layer}."
        for norm in ("ln_1", "ln_2"):
            state[prefix + norm + ".weight"], state[prefix + norm + ".bias"] = (
                block[norm]["weight"],
                block[norm]["bias"],
            )
        for ours, theirs in (
            ("c_attn", "attn.c_attn"),
            ("attn_proj", "attn.c_proj"),
            ("c_fc", "mlp.c_fc"),
            ("mlp_proj", "mlp.c_proj"),
        ):
            state[prefix + theirs + ".weight"] = block[ours]["weight"].T.contiguous()
            state[prefix + theirs + ".bias"] = block[ours]["bias"]
    state["transformer.ln_f.weight"], state["transformer.ln_f.bias"] = (
        weights["ln_f"]["weight"],
        weights["ln_f"]["bias"],
    )
    state["lm_head.weight"] = weights["wte"]
    return state


@probe(
    "s11_gpt2.load_gpt2_state_dict",
    lambda inputs: {
        "logits": gpt2_logits(inputs),
        "state_dict_kept": [True, True],  # after loading, and after the loaded model's parameters changed
        "still_learns": True,  # every parameter still requires a gradient
        # on one row, as the tests' loaded models run: a forward that squeezes the logits fails there alone
        "without_head_key": gpt2_logits(inputs)[:1],
        # each key left out, a wrong shape, a key of no layer, an embedding of another vocabulary
        "rejects": [True] * (len(inputs["keys"]) + 3),
        "with_mask_buffers": gpt2_logits(inputs)[:1],
    },
    atol=gpt2_tolerance,
    backs={
        "rejects": ("test_rejects_a_state_dict_that_does_not_fit",),
        "state_dict_kept": ("test_leaves_the_state_dict_it_was_given_as_it_was",),
        "still_learns": ("test_the_loaded_model_can_still_learn",),
        "without_head_key": ("test_loads_a_state_dict_without_the_head_key",),
        "with_mask_buffers": ("test_loads_an_older_transformers_state_dict_with_mask_buffers",),
    },
)
def loaded_gpt2_inputs(rng):
    inputs = gpt2_inputs_with(rng)
    state_dict = hugging_face_state_dict(inputs["weights"])
    # Not the token embedding: the checkpoint holds it twice (as lm_head.weight too), and a loader may take
    # the shared matrix from either key, which the docstring allows.
    shared = ("lm_head.weight", "transformer.wte.weight")
    in_blocks = sorted(key for key in state_dict if ".h." in key)
    others = sorted(key for key in state_dict if ".h." not in key and key not in shared)
    # each left out in turn (one of a block's, and every one besides: a loader that checks only some of these
    # few passes a draw of one), the first then given the wrong shape
    keys = [in_blocks[integer(rng, 0, len(in_blocks) - 1)], *others]
    return {**inputs, "state_dict": state_dict, "keys": keys}


# ---- stage 12 ---------------------------------------------------------------------------------------


def pairs_of(ids: list[int]) -> list[list[int]]:
    counts: dict[tuple[int, int], int] = {}
    for pair in zip(ids, ids[1:], strict=False):
        counts[pair] = counts.get(pair, 0) + 1
    return sorted([a, b, count] for (a, b), count in counts.items())


@probe("s12_bpe.pair_counts", lambda inputs: pairs_of(inputs["ids"]))
def pair_count_inputs(rng):
    return {"ids": tokens(rng, 5, integer(rng, 0, 30)).tolist()}


@probe(
    "s12_bpe.merge_pair",
    lambda inputs: {
        "merged": oracles.bpe_merge(inputs["ids"], inputs["pair"], inputs["new_id"]),
        "input_after": inputs["ids"],  # left as it was
        "at_the_end": [[9, 9], [9, 3]],
        "edges": [[], [1], [1, 3, 2]],
    },
    backs={
        # the cases with a pair to merge ([1] has none, so code that merges in place passes it)
        "input_after": ("test_left_to_right_without_overlap[ids0", "test_left_to_right_without_overlap[ids1"),
        # no id, one id, and ids without the pair: the draws above always hold the pair, the tests' need not
        "edges": ("test_any_ids",),
    },
    # the tokenizer merges as merge_pair does, as the stage builds it: a pair missed at the end stops training
    # too early, whatever text the tokenizer's own check drew
    reached_by={"": ("test_s12_bpe.py::TestTrain::", "test_s12_bpe.py::TestEncodeDecode::")},
)
def merge_inputs(rng):
    ids = tokens(rng, 4, integer(rng, 3, 30)).tolist()
    start = integer(rng, 0, len(ids) - 2)  # a pair the ids hold: with none to merge, merging in place hides
    return {"ids": ids, "pair": ids[start : start + 2], "new_id": integer(rng, 256, 300)}


def bpe_answer(inputs):
    merges = oracles.bpe_train(inputs["text"], inputs["vocab_size"])
    return {
        "merges": merges,
        "encoded": oracles.bpe_encode(inputs["other"], merges),
        "decoded": inputs["other"],
        "size": 256 + len(merges),
        "short_merges": [len(oracles.bpe_train(inputs["short"], 300)), 0, 0],  # and on "" and "x", none
        "in_learned_order": [[97, 256], [257, 97, 256]],  # in "ababc" ab occurs twice, bc once
        "absent_skipped": [257],
        "lone_byte": "\ufffd",
        "rejects_below_256": True,
        "bytes_alone": 0,  # vocab_size 256: the bytes, no merge
        "base_bytes": True,
        "short_texts": [[], [97]],
        "ties": [oracles.bpe_train(text, 259) for text in inputs["tie_texts"]],
        "merged_ties": oracles.bpe_train(inputs["merged_ties"], 260),
        "classic_encoded": oracles.bpe_encode(inputs["classic"], oracles.bpe_train(inputs["classic"], 259)),
        "overlapping": oracles.bpe_train(inputs["overlapping"], 257),
        "half_characters": [
            bytes_of_merges(oracles.bpe_train(inputs["half_characters"], 260)),
            inputs["half_characters"],
        ],
        "filled_size": 258,
        "fresh_after_another": [0, 0],
    }


def bytes_of_merges(merges: list[list[int]]) -> list[list[int]]:
    """The bytes of each id the merges [left, right, new id] make, in their order."""
    vocab = {byte: [byte] for byte in range(256)}
    for left, right, new_id in merges:
        vocab[new_id] = vocab[left] + vocab[right]
    return [vocab[new_id] for *_, new_id in merges]


@probe(
    "s12_bpe.BPETokenizer",
    bpe_answer,
    backs={
        "short_merges": ("test_stops_when_no_pair_is_left",),
        "in_learned_order": (
            "test_encode_replays_the_merges_in_the_order_they_were_learned",
            "test_compresses_the_validation_split_as_the_reference_does",  # merged in another order, it differs
            "test_the_classic_aaabdaaabac",  # its encoding too
        ),
        "lone_byte": ("test_decode_replaces_bytes_that_are_not_utf8",),
        "absent_skipped": ("test_encode_skips_a_merge_whose_pair_is_not_there",),
        "rejects_below_256": ("test_rejects_a_vocab_size_below_256",),
        "bytes_alone": ("test_a_vocab_size_of_256_learns_no_merges",),
        "base_bytes": (
            "test_the_256_bytes_come_first",
            "test_learns_the_references_merges_on_the_corpus",
            "test_decode_undoes_encode_for_any_text",
        ),
        "short_texts": ("test_decode_undoes_encode_for_any_text",),  # "" and one byte have no pair to merge
        # merges of pairs that occur once, ties going to the smallest pair of ids
        # and the corpus's merges, which meet ties too: where the random text drawn meets none that matter
        "ties": (
            "test_ties_go_to_the_smallest_pair",
            "test_the_classic_aaabdaaabac",
            "test_learns_the_references_merges_on_the_corpus",
            "test_compresses_the_validation_split_as_the_reference_does",
        ),
        # ties between pairs of merged ids, which a key packing a pair into p0 * 256 + p1 ranks otherwise
        "merged_ties": ("test_ties_among_merged_tokens_go_to_the_smallest_pair",),
        # a merge that builds on an earlier one applies to a text that did not hold its pair before encoding
        "classic_encoded": (
            "test_the_classic_aaabdaaabac",
            "test_compresses_the_validation_split_as_the_reference_does",
        ),
        # the random texts rarely hold a run of three, or a merge that cuts a character of several bytes
        "overlapping": ("test_counts_overlapping_pairs_as_pair_counts_does",),
        # and a merge of a merged id: bytes(pair) works for two bytes only
        "half_characters": ("test_a_merge_may_cut_a_character_in_two", "test_decode_undoes_encode_for_any_text"),
        "filled_size": ("test_vocab_size_counts_entries_filled_in_without_train",),
        # the tokenizer trained on the corpus's slice, which training too slow for it never gives these tests
        "at_scale": (
            "test_learns_the_references_merges_on_the_corpus",
            "test_decode_undoes_encode_for_any_text",
            "test_compresses_the_validation_split_as_the_reference_does",
        ),
        "at_scale_merges": (
            "test_learns_the_references_merges_on_the_corpus",
            "test_compresses_the_validation_split_as_the_reference_does",
        ),
        "at_scale_encoded": ("test_compresses_the_validation_split_as_the_reference_does",),
        "at_scale_decoded": (
            "test_decode_undoes_encode_for_any_text",
            "test_compresses_the_validation_split_as_the_reference_does",
        ),
        # dicts in the class body, or a default argument, shared by every tokenizer: what one learns, all hold
        "fresh_after_another": (
            "test_each_tokenizer_starts_with_merges_of_its_own",
            "test_the_256_bytes_come_first",
            "test_decode_undoes_encode_for_any_text",
        ),
    },
)
def bpe_inputs(rng):
    alphabet = distinct_characters(rng, 6)
    # Its UTF-8 bytes are not its code point. None is in CHARACTERS, so never in the training text: bytes merged
    # into one token there would let a decode of each token alone pass.
    several_bytes = ["ß", "€", "🙂"][integer(rng, 0, 2)]
    return {
        "text": text_over(rng, alphabet, 200),
        "vocab_size": 256 + integer(rng, 8, 24),  # merges enough to meet ties and build on each other
        "other": text_over(rng, alphabet, 20) + several_bytes + text_over(rng, alphabet, 20),
        "short": text_over(rng, alphabet, integer(rng, 2, 12)),
        "tie_texts": TIE_TEXTS,
        "merged_ties": "aaab\x00",  # as stage 12's test: after aa and ab, (256, 257) and (257, 0) tie
        "classic": CLASSIC,
        "overlapping": "aaab" * 2 + "cd" * 3,  # as stage 12's test: aa 4 times, overlapping, cd 3 times
        "half_characters": "aé" * 8,  # its first merge, (97, 195), cuts é (C3 A9) in two
    }


# As stage 12's tie tests: pairs that occur once, ties that go to the smallest pair ("acab": the first ids tie too)
CLASSIC = "aaabdaaabac"  # Wikipedia's example, as in stage 12's test: it encodes to XdXac
TIE_TEXTS = ["dcab", "abcd", "xyxzyz", "acab", CLASSIC]


# ---- comparing ------------------------------------------------------------------------------------


def difference(got, expected, atol: float, where: str = "", *, exact_dtype: bool = False) -> str:
    """Where `got` differs from `expected`, in words ("" when it does not). A float64 tensor where float32
    is expected is compared by its values, as the tests compare them, unless `exact_dtype`: correct code
    may compute in double precision (numpy's default, say)."""
    here = where or "the answer"
    if isinstance(got, str) and got.startswith("raised ") and not isinstance(expected, str):
        return f"{here}: computing it {got}"  # what probe_calls.guarded sends for an aspect that raised
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{here} should be a tensor, came back as {type(got).__name__}"
        if tuple(got.shape) != tuple(expected.shape):
            return f"{here} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
        more_precise = got.dtype == torch.float64 and expected.dtype == torch.float32
        if got.dtype != expected.dtype and (exact_dtype or not more_precise):
            return f"{here} has dtype {got.dtype}, expected {expected.dtype}"
        if expected.is_floating_point():
            gap = (got.double() - expected.double()).abs().nan_to_num(float("inf"))
            return f"{here} differs by up to {gap.max().item():.3g}" if gap.numel() and gap.max() > atol else ""
        return "" if torch.equal(got, expected) else f"{here} has other values"
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{here} should hold {sorted(expected)}{_keys_apart(got, expected)}"
        found = (difference(got[key], expected[key], atol, key, exact_dtype=exact_dtype) for key in expected)
        return next((d for d in found if d), "")
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return (
                f"{here} is {got!r:.80}, expected []" if not expected else f"{here} should be a list of {len(expected)}"
            )
        pairs = enumerate(zip(got, expected, strict=True))
        found = (difference(g, e, atol, f"{here}[{i}]", exact_dtype=exact_dtype) for i, (g, e) in pairs)
        return next((d for d in found if d), "")
    if isinstance(expected, float):
        ok = type(got) in (int, float) and abs(got) < 1e300 and math.isclose(got, expected, abs_tol=atol)
        return "" if ok else f"{here} is {got!r:.80}, expected {expected:.6g}"
    same = type(got) is type(expected) and got == expected  # the type first: a tensor's == is no bool
    return "" if same else f"{here} is {got!r:.80}, expected {expected!r:.80}"


def _keys_apart(got, expected: dict) -> str:
    """What a dict answer lacks and holds besides, for `difference` to say ("" where it is no dict)."""
    if not isinstance(got, dict):
        return ""
    lacks, besides = sorted(set(expected) - set(got)), sorted(str(key) for key in set(got) - set(expected))
    said = [*([f"lacks {lacks}"] if lacks else []), *([f"holds {besides} besides"] if besides else [])]
    return f": it {' and '.join(said)}"[:200]


def choose_inputs(symbols: list[str], seed: int) -> dict[str, dict]:
    """Fresh inputs for these symbols: `seed` comes from the grader's own randomness, once per run."""
    rng = torch.Generator().manual_seed(seed)
    return {symbol: PROBES[symbol].make_inputs(rng) for symbol in symbols}


def verdict(symbol: str, inputs: dict, answer) -> dict[str, str]:
    """What is wrong with the submission's answer, in words, by aspect ("" for its core); {} when it is the
    grader's."""
    check = PROBES[symbol]
    try:
        if check.judge:
            found = check.judge(inputs, answer)
        else:
            atol = check.atol(inputs) if callable(check.atol) else check.atol
            found = by_aspect(answer, check.expected(inputs), atol, check.backs, exact_dtype=check.exact_dtype)
    except Exception as error:  # an answer no judge foresaw (a tensor where a count belongs, say): refuted
        return {"": f"its answer could not be judged ({type(error).__name__}: {error})"[:300]}
    return found if isinstance(found, dict) else {"": found} if found else {}


def by_aspect(answer, expected, atol: float, backs: dict, *, exact_dtype: bool = False) -> dict[str, str]:
    """`difference`, key by key where both are dicts with the same keys: each wrong key that is an aspect
    under its own name, the first other one as the core's."""
    if not (isinstance(answer, dict) and isinstance(expected, dict) and set(answer) == set(expected)):
        return {"": why} if (why := difference(answer, expected, atol, exact_dtype=exact_dtype)) else {}
    found: dict[str, str] = {}
    for key in expected:
        if why := difference(answer[key], expected[key], atol, key, exact_dtype=exact_dtype):
            found.setdefault(key if key in backs else "", why)
    return found


def backs_the_test(symbol: str, aspect: str, nodeid: str) -> bool:
    """Whether a wrong `aspect` of `symbol` ("" its core) takes the points of the test `nodeid`. A fragment
    with a "[" names one case of a parametrized test, the others name all of its cases."""
    test = nodeid.rsplit("::", 1)[-1]
    name = test.split("[", 1)[0]
    fragments = PROBES[symbol].backs.get(aspect, ())
    return aspect == "" or any(fragment in (test if "[" in fragment else name) for fragment in fragments)


# The check builds each stage on the learner's earlier stages, so an earlier symbol's wrong aspect may show again
# in a later symbol's answer: its core in any aspect, a dropout wrong in the later dropout (a name that begins
# alike: "dropping_from_multihead" in "dropping"), a head's parameters in MultiHeadAttention's "heads".
# Found by grading every catalogued mistake at each later stage that reaches it; test_catalogs.py's KNOCK_ON keeps
# one of each.
KNOCKED_ON_BY = {"heads": ("biases", "tril_buffer")}


# What the probes' dropout mask judges (probe_calls.dropout_mask): drawn for the lecture's layouts, (B, T, C),
# (B, nh, T, T), and for (B*T, C), (T, B, C), weights with the heads last or keys before queries, so correct code
# that drops in yet another one draws another mask and disagrees with the check (a precision pass's Block scored 0
# of 15). Such a disagreement takes the points of the tests it backs, as any wrong aspect does, but never the
# stage's as forged verdicts: a forger gains no point from it either.
MASK_ASPECTS = frozenset({"dropping", "dropping_from_multihead"})


def explained_by(aspect: str, earlier_aspect: str) -> bool:
    """Whether a wrong `aspect` of a symbol may come from a wrong `earlier_aspect` of an earlier stage's symbol."""
    return (
        earlier_aspect == ""
        or earlier_aspect.split("_from_")[0] == aspect
        or earlier_aspect in KNOCKED_ON_BY.get(aspect, ())
    )


def reaches_the_test(symbol: str, aspect: str, nodeid: str) -> bool:
    """Whether a wrong `aspect` of `symbol` takes the points of a test of another symbol that calls it."""
    return any(fragment in nodeid for fragment in PROBES[symbol].reached_by.get(aspect, ()))


def network_tolerance(output_of: Callable[[object], torch.Tensor], weights) -> float:
    """1e-4, widened where this draw of weights makes the network's float32 rounding grow: a layer norm over
    a row of nearly equal numbers amplifies it (n_embd is 4 in some draws). How much it grows is measured
    on the oracle: its output with every weight moved by float32's rounding (a relative 2**-24), twice.
    Over 1,500 draws of stage 11's probe, the references' error stayed within 4.4 times that figure."""
    generator = torch.Generator().manual_seed(0)
    output = output_of(weights)
    moved = (output_of(_rounded(weights, generator)) - output for _ in range(2))
    return 1e-4 + 20 * max(gap.abs().max().item() for gap in moved)


def _rounded(weights, generator: torch.Generator):
    if isinstance(weights, torch.Tensor):
        noise = torch.randn(weights.shape, generator=generator, dtype=torch.float64)
        return weights.double() * (1 + 2**-24 * noise)
    if isinstance(weights, dict):
        return {key: _rounded(value, generator) for key, value in weights.items()}
    return [_rounded(value, generator) for value in weights]
