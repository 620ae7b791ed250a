"""What the grader checks outside the sandbox that ran the tests: for every symbol of every stage, fresh
random inputs, and the answer the grader's own computation (oracles.py) expects for them.

The sandboxed probe run (probe_calls.py) sends back what the submission's public API gave on these
inputs; `verdicts` compares, here, in a process that never imports the submission.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from kata.grading import oracles

LECTURE_CONFIG = dict(vocab_size=65, block_size=256, n_embd=384, n_head=6, n_layer=6, dropout=0.2)
CHARACTERS = list("abcdefghij klmnopqrstuvwxyzABCDEF\n!?.,;'-é你😀")


@dataclass(frozen=True)
class Probe:
    make_inputs: Callable[[torch.Generator], dict]
    expected: Callable[[dict], object]
    atol: float = 1e-4  # floating-point values: the order of operations may differ from the oracle's


PROBES: dict[str, Probe] = {}


def probe(symbol: str, expected: Callable[[dict], object], atol: float = 1e-4):
    """Register the decorated function, which draws a probe's inputs, with the oracle of its answer."""

    def register(make_inputs):
        PROBES[symbol] = Probe(make_inputs, expected, atol)
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


def small_config(rng: torch.Generator) -> dict:
    n_head = integer(rng, 1, 3)
    return dict(vocab_size=integer(rng, 5, 20), block_size=8, n_embd=4 * n_head, n_head=n_head, n_layer=2, dropout=0.0)


# ---- stage 1 ----------------------------------------------------------------------------------------


@probe("s01_tokenizer.build_vocabulary", lambda inputs: oracles.vocabulary(inputs["text"]))
def vocabulary_inputs(rng):
    return {"text": text_over(rng, distinct_characters(rng, 12), integer(rng, 0, 40))}


def tokenizer_answer(inputs):
    vocabulary = inputs["vocabulary"]
    return {
        "vocab_size": len(vocabulary),
        "encoded": [vocabulary.index(char) for char in inputs["text"]],
        "decoded": "".join(vocabulary[i] for i in inputs["ids"]),
        "rejects_unknown": True,
        "rejects_bad_id": True,
    }


@probe("s01_tokenizer.CharTokenizer", tokenizer_answer)
def tokenizer_inputs(rng):
    characters = distinct_characters(rng, 13)
    vocabulary, unknown = characters[:12], characters[12]
    ids = tokens(rng, len(vocabulary), integer(rng, 1, 20)).tolist()
    bad_id = [len(vocabulary), -1][integer(rng, 0, 1)]
    return {
        "vocabulary": vocabulary,
        "text": text_over(rng, vocabulary, 30),
        "ids": ids,
        "unknown": unknown,
        "bad_id": bad_id,
    }


# ---- stage 2 ----------------------------------------------------------------------------------------


@probe("s02_batches.encode_text", lambda inputs: torch.tensor([inputs["vocabulary"].index(c) for c in inputs["text"]]))
def encode_inputs(rng):
    vocabulary = distinct_characters(rng, 10)
    return {"vocabulary": vocabulary, "text": text_over(rng, vocabulary, integer(rng, 0, 50))}


def split_answer(inputs):
    n = int(inputs["fraction"] * len(inputs["data"]))
    return [inputs["data"][:n], inputs["data"][n:]]


@probe("s02_batches.train_val_split", split_answer)
def split_inputs(rng):
    return {"data": tokens(rng, 50, integer(rng, 2, 200)), "fraction": [0.9, 0.5, 0.75, 0.3][integer(rng, 0, 3)]}


def pairs_answer(inputs):
    data = inputs["data"].tolist()
    return [[data[: t + 1], data[t + 1]] for t in range(inputs["block_size"])]


@probe("s02_batches.context_target_pairs", pairs_answer)
def pairs_inputs(rng):
    block_size = integer(rng, 1, 10)
    return {"data": tokens(rng, 50, block_size + integer(rng, 1, 6)), "block_size": block_size}


def batch_answer(inputs):
    return oracles.lecture_batch(inputs["data"], inputs["batch_size"], inputs["block_size"], inputs["seed"])


@probe("s02_batches.get_batch", batch_answer)
def batch_inputs(rng):
    block_size = integer(rng, 1, 10)
    data = tokens(rng, 40, block_size + integer(rng, 1, 60))
    return {"data": data, "batch_size": integer(rng, 1, 6), "block_size": block_size, "seed": integer(rng, 0, 2**30)}


# ---- stage 3 ----------------------------------------------------------------------------------------


def bigram_answer(inputs):
    table, idx = inputs["table"], inputs["idx"]
    logits = table[idx]
    generated = oracles.sample_tokens(lambda context: table[context], idx, inputs["new_tokens"], inputs["seed"])
    return {
        "logits": logits,
        "flat_logits": logits.flatten(0, 1),
        "loss": oracles.cross_entropy(logits, inputs["targets"]).item(),
        "generated": generated,
    }


@probe("s03_bigram.BigramLanguageModel", bigram_answer)
def bigram_inputs(rng):
    V, B, T = integer(rng, 3, 20), integer(rng, 1, 4), integer(rng, 1, 8)
    idx, targets = tokens(rng, V, B, T), tokens(rng, V, B, T)
    return {
        "vocab_size": V,
        "table": normal(rng, V, V),
        "idx": idx,
        "targets": targets,
        "seed": integer(rng, 0, 2**30),
        "new_tokens": integer(rng, 1, 10),
    }


# ---- stage 4 ----------------------------------------------------------------------------------------


def table_and_batches(rng, count: int) -> dict:
    V = integer(rng, 3, 10)
    batches = [[tokens(rng, V, 3, 4), tokens(rng, V, 3, 4)] for _ in range(count)]
    return {"table": normal(rng, V, V), "batches": batches, "lr": [1e-3, 1e-2, 5e-2][integer(rng, 0, 2)]}


def train_step_answer(inputs):
    losses, table = oracles.adamw_on_a_table(inputs["table"], inputs["batches"], inputs["lr"])
    return {"losses": losses, "table": table}


@probe("s04_training.train_step", train_step_answer, atol=1e-5)
def train_step_inputs(rng):
    return table_and_batches(rng, 4)


def estimate_answer(inputs):
    losses = [oracles.cross_entropy(inputs["table"][x], y).item() for x, y in inputs["batches"]]
    return {"loss": sum(losses) / len(losses), "calls": len(losses), "training_after": True}


@probe("s04_training.estimate_loss", estimate_answer, atol=1e-5)
def estimate_inputs(rng):
    return table_and_batches(rng, integer(rng, 1, 6))


def train_answer(inputs):
    batches = inputs["batches"]
    losses, table = oracles.adamw_on_a_table(inputs["table"], batches[: inputs["steps"]], inputs["lr"])
    return {"losses": losses, "table": table}


@probe("s04_training.train", train_answer, atol=1e-5)
def train_inputs(rng):
    steps = integer(rng, 1, 6)
    return {**table_and_batches(rng, steps + 2), "steps": steps}  # two batches more: for a loop that prefetches


# ---- stage 5 ----------------------------------------------------------------------------------------


def averaging_inputs(rng):
    dtype = [torch.float32, torch.float64][integer(rng, 0, 1)]
    return {"x": normal(rng, integer(rng, 1, 3), integer(rng, 1, 12), integer(rng, 1, 5)).to(dtype)}


def weights_inputs(rng):
    return {"T": integer(rng, 1, 16)}


for _name in ("average_loops", "average_matmul", "average_softmax"):
    probe(f"s05_averaging.{_name}", lambda inputs: oracles.running_mean(inputs["x"]), atol=1e-5)(averaging_inputs)
for _name in ("tril_average_weights", "softmax_average_weights"):
    probe(f"s05_averaging.{_name}", lambda inputs: oracles.average_weights(inputs["T"]), atol=1e-6)(weights_inputs)


# ---- stage 6 ----------------------------------------------------------------------------------------


@probe("s06_attention.attention_weights", lambda inputs: oracles.attention_weights(inputs["q"], inputs["k"]).float())
def attention_weights_inputs(rng):
    B, T, head_size = integer(rng, 1, 3), integer(rng, 1, 10), integer(rng, 1, 16)
    return {"q": normal(rng, B, T, head_size), "k": normal(rng, B, T, head_size)}


@probe("s06_attention.Head", lambda inputs: oracles.head(inputs["weights"], inputs["x"]).float())
def head_inputs(rng):
    n_embd, head_size, block_size = integer(rng, 1, 12), integer(rng, 1, 6), 8
    x = normal(rng, integer(rng, 1, 3), integer(rng, 1, block_size), n_embd)
    weights = head_weights(rng, n_embd, head_size)
    return {"n_embd": n_embd, "head_size": head_size, "block_size": block_size, "weights": weights, "x": x}


# ---- stage 7 ----------------------------------------------------------------------------------------


def sequence(rng, n_embd: int, block_size: int = 8) -> torch.Tensor:
    return normal(rng, integer(rng, 1, 3), integer(rng, 1, block_size), n_embd)


@probe("s07_transformer.MultiHeadAttention", lambda inputs: oracles.multihead(inputs["weights"], inputs["x"]).float())
def multihead_inputs(rng):
    n_head = integer(rng, 1, 4)
    n_embd = n_head * integer(rng, 1, 4)
    weights = multihead_weights(rng, n_embd, n_head)
    return {"n_embd": n_embd, "n_head": n_head, "block_size": 8, "weights": weights, "x": sequence(rng, n_embd)}


@probe("s07_transformer.FeedForward", lambda inputs: oracles.feed_forward(inputs["weights"], inputs["x"]).float())
def feed_forward_inputs(rng):
    n_embd = integer(rng, 1, 10)
    weights = [linear_weights(rng, n_embd, 4 * n_embd), linear_weights(rng, 4 * n_embd, n_embd)]
    return {"n_embd": n_embd, "weights": weights, "x": sequence(rng, n_embd)}


def layer_norm_answer(inputs):
    return oracles.layer_norm(inputs["weights"], inputs["x"], inputs["eps"]).to(inputs["x"].dtype)


@probe("s07_transformer.LayerNorm", layer_norm_answer)
def layer_norm_inputs(rng):
    dim = integer(rng, 2, 9)
    x = (normal(rng, integer(rng, 1, 4), dim) * 3 + 1).to([torch.float32, torch.float64][integer(rng, 0, 1)])
    return {"dim": dim, "eps": [1e-5, 1e-3][integer(rng, 0, 1)], "weights": norm_weights(rng, dim), "x": x}


@probe("s07_transformer.Block", lambda inputs: oracles.block(inputs["weights"], inputs["x"], inputs["n_head"]).float())
def block_inputs(rng):
    n_head = integer(rng, 1, 3)
    n_embd = 4 * n_head
    weights = block_weights(rng, n_embd, n_head)
    return {"n_embd": n_embd, "n_head": n_head, "block_size": 8, "weights": weights, "x": sequence(rng, n_embd)}


# ---- stage 8 ----------------------------------------------------------------------------------------


@probe("s08_gpt.GPTConfig", lambda inputs: LECTURE_CONFIG)
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
        "loss": oracles.cross_entropy(logits, inputs["targets"]).item(),
        "generated": generated,
    }


@probe("s08_gpt.GPTLanguageModel", gpt_answer)
def gpt_inputs(rng):
    config = small_config(rng)
    V, B, T = config["vocab_size"], integer(rng, 1, 3), integer(rng, 1, config["block_size"])
    return {
        "config": config,
        "weights": gpt_weights(rng, config),
        "idx": tokens(rng, V, B, T),
        "targets": tokens(rng, V, B, T),
        "prompt": tokens(rng, V, 1, integer(rng, 1, 4)),
        "new_tokens": config["block_size"] + integer(rng, 1, 4),  # runs past block_size: the context is cropped
        "seed": integer(rng, 0, 2**30),
    }


# ---- stage 9 ----------------------------------------------------------------------------------------


def fused_answer(inputs):
    n_head, x = inputs["n_head"], inputs["x"]
    direct = oracles.multihead(oracles.fused_to_heads(inputs["fused"], n_head), x).float()
    return {"direct": direct, "from_multihead": oracles.multihead(inputs["per_head"], x).float()}


@probe("s09_fast_attention.CausalSelfAttention", fused_answer)
def fused_inputs(rng):
    n_head = integer(rng, 1, 4)
    n_embd = n_head * integer(rng, 1, 4)
    return {
        "n_embd": n_embd,
        "n_head": n_head,
        "block_size": 8,
        "fused": fused_weights(rng, n_embd),
        "per_head": multihead_weights(rng, n_embd, n_head),
        "x": sequence(rng, n_embd),
    }


def fast_gpt_answer(inputs):
    logits = oracles.gpt_logits(inputs["weights"], inputs["idx"], inputs["config"]["n_head"]).float()
    return {"attention": ["CausalSelfAttention"], "logits": logits}


@probe("s09_fast_attention.fast_gpt", fast_gpt_answer)
def fast_gpt_inputs(rng):
    config = small_config(rng)
    idx = tokens(rng, config["vocab_size"], integer(rng, 1, 3), integer(rng, 1, config["block_size"]))
    return {"config": config, "weights": gpt_weights(rng, config, fused=True), "idx": idx}


# ---- comparing ------------------------------------------------------------------------------------


def difference(got, expected, atol: float, where: str = "") -> str:
    """Where `got` differs from `expected`, in words ("" when it does not)."""
    here = where or "the answer"
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{here} should be a tensor, came back as {type(got).__name__}"
        if tuple(got.shape) != tuple(expected.shape):
            return f"{here} has shape {tuple(got.shape)}, expected {tuple(expected.shape)}"
        if got.dtype != expected.dtype:
            return f"{here} has dtype {got.dtype}, expected {expected.dtype}"
        if expected.is_floating_point():
            gap = (got.double() - expected.double()).abs().nan_to_num(float("inf"))
            return f"{here} differs by up to {gap.max().item():.3g}" if gap.numel() and gap.max() > atol else ""
        return "" if torch.equal(got, expected) else f"{here} has other values"
    if isinstance(expected, dict):
        if not isinstance(got, dict) or set(got) != set(expected):
            return f"{here} should hold {sorted(expected)}"
        return next((d for key in expected if (d := difference(got[key], expected[key], atol, key))), "")
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            return f"{here} should be a list of {len(expected)}"
        found = (difference(g, e, atol, f"{here}[{i}]") for i, (g, e) in enumerate(zip(got, expected, strict=True)))
        return next((d for d in found if d), "")
    if isinstance(expected, float):
        ok = isinstance(got, int | float) and not isinstance(got, bool) and math.isclose(got, expected, abs_tol=atol)
        return "" if ok else f"{here} is {got!r}, expected {expected:.6g}"
    return (
        "" if got == expected and type(got) is type(expected) else f"{here} is {got!r:.80}, expected {expected!r:.80}"
    )


def choose_inputs(symbols: list[str], seed: int) -> dict[str, dict]:
    """Fresh inputs for these symbols: `seed` comes from the grader's own randomness, once per run."""
    rng = torch.Generator().manual_seed(seed)
    return {symbol: PROBES[symbol].make_inputs(rng) for symbol in symbols}


def verdict(symbol: str, inputs: dict, answer) -> str:
    """ "" when the submission's answer is the grader's; else what differs."""
    return difference(answer, PROBES[symbol].expected(inputs), PROBES[symbol].atol)
