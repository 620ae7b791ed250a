"""Helpers shared by the stage tests: the tests' own tokenizer, model and batches, seeding, and recorders
of what graded code calls (dropout, layer norm, fused attention, a layer's forward), so a check can say
where a module drops or which function it leans on.

Inputs that come from an earlier stage (the vocabulary, the encoded corpus, batches, a model to
train) are built with this code, never by the graded implementation, so each stage is graded on
its own: a learner stuck on stage 2 can still be graded on stage 5.
"""

import contextlib
import functools
import linecache
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
from feedback import fail, rearranged_like, show
from torch import nn
from torch.overrides import TorchFunctionMode

from kata.implementation import display_path
from kata.manifest import REPOSITORY_ROOT
from kata.torch_calls import MadeOnTheCPU, TorchCalls, after_each_forward


@contextlib.contextmanager
def fixed_seed(seed: int):
    """Seed torch's global generator for the block, and leave it as it was afterwards. Only the CPU's:
    torch.manual_seed would also queue a seeding for each absent accelerator, with a formatted stack
    trace each time (about 1 ms, paid hundreds of times per run)."""
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        yield


class ReferenceTokenizer:
    """The tests' own character tokenizer (stage 1 is graded separately)."""

    def __init__(self, vocabulary):
        self.vocabulary = list(vocabulary)
        self.vocab_size = len(self.vocabulary)
        self.lookup = {char: index for index, char in enumerate(self.vocabulary)}

    def encode(self, text):
        return list(map(self.lookup.__getitem__, text))

    def decode(self, ids):
        return "".join(self.vocabulary[int(i)] for i in ids)


class TableBigram(nn.Module):
    """The tests' own bigram model, for stages that train or evaluate a model (stage 3 is graded separately)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        logits = self.token_embedding_table(idx)
        if targets is None:
            return logits, None
        return logits, nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())


# The corpus's vocabulary and encoding, once per process: the maintainer's tier starts a thousand runs in one
# process, and the session fixtures (tests/conftest.py) would compute them again for each (10 ms a run).
@functools.cache
def vocabulary_of(corpus: str) -> tuple[str, ...]:
    return tuple(sorted(set(corpus)))


@functools.cache
def encoded_corpus(corpus: str) -> torch.Tensor:
    """The corpus is ASCII, so a byte lookup table encodes it fast. Callers copy it before handing it out."""
    table = torch.zeros(256, dtype=torch.long)
    for index, char in enumerate(vocabulary_of(corpus)):
        table[ord(char)] = index
    return table[torch.frombuffer(bytearray(corpus.encode("ascii")), dtype=torch.uint8).long()]


class _ValuesSkipped(TorchFunctionMode):
    """Under torch.device("meta"): what only sets values (nn.init's functions, normal_, tril, ...) returns its
    tensor, or an empty one shaped like it, at once. A meta tensor has no values, yet torch runs such calls through
    its Python decompositions: 62 ms for the lecture's GPT, 18 ms with them skipped; GPT-2, 29 and 6 ms."""

    VALUE_SETTERS = frozenset({"normal_", "uniform_", "zero_", "fill_", "copy_", "bernoulli_", "random_"})

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if getattr(func, "__module__", None) == "torch.nn.init" or name in self.VALUE_SETTERS:
            return args[0] if args else kwargs["tensor"]
        if name in ("tril", "triu"):
            return torch.empty_like(args[0])
        return func(*args, **kwargs)


@contextlib.contextmanager
def shapes_only():
    """Build a model's parameters with their shapes but without memory or values: to count them."""
    with torch.device("meta"), _ValuesSkipped():
        yield


def attention_by_hand(q, k, v, allowed=None, *, added=None) -> torch.Tensor:
    """softmax(q kᵀ / √head_size + added) v, each query seeing only the keys where `allowed` (T, S) holds 1: the
    attention stages' tests' oracle, written out. By default the causal triangle, which ends at the last key where
    keys outnumber queries (a cache): query t sees keys j <= S - T + t."""
    T, S = q.shape[-2], k.shape[-2]
    allowed = torch.ones(T, S).tril(S - T) if allowed is None else allowed
    scores = (q @ k.transpose(-2, -1) / k.shape[-1] ** 0.5).masked_fill(allowed == 0, float("-inf"))
    return (scores if added is None else scores + added).softmax(dim=-1) @ v


def lecture_get_batch(data, batch_size, block_size, generator=None):
    """The lecture's get_batch: the same draw of starts, and the same rows, gathered by one indexing where
    the lecture stacks a slice per row (27 times faster at batch 32; stage 4 draws 400 batches a run)."""
    ix = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
    rows = ix[:, None] + torch.arange(block_size)
    return data[rows], data[rows + 1]


def solve(folder: Path, stage_name: str) -> None:
    """Put the reference of `stage_name` into a learner's folder (for the runner's tests)."""
    shutil.copy(REPOSITORY_ROOT / "solutions" / f"{stage_name}.py", folder / f"{stage_name}.py")


@dataclass(frozen=True)
class DropoutCall:
    """One call of F.dropout: what went in, what came out, with which probability and mode."""

    input: torch.Tensor
    output: torch.Tensor
    p: float
    training: bool

    @property
    def active(self) -> bool:
        return self.training and self.p > 0


# The parameters of the recorded functions in order, to read positional arguments by name.
_PARAMETERS = {
    nn.functional.dropout: ("input", "p", "training", "inplace"),
    torch.dropout: ("input", "p", "train"),
    nn.functional.scaled_dot_product_attention: (
        "query",
        "key",
        "value",
        "attn_mask",
        "dropout_p",
        "is_causal",
        "scale",
    ),
}


def _by_name(func, args: tuple, kwargs: dict) -> dict:
    return {**dict(zip(_PARAMETERS[func], args, strict=False)), **kwargs}


@contextlib.contextmanager
def recorded_dropout():
    """Record every dropout in the block (F.dropout, which nn.Dropout calls, or torch.dropout), so a test can
    tell *where* a module drops: on which tensor, before or after which layer."""
    calls: list[DropoutCall] = []

    def record(func, args, kwargs):
        arguments = _by_name(func, args, kwargs)
        before = arguments["input"].detach().clone()
        output = func(*args, **kwargs)
        p, training = arguments.get("p", 0.5), arguments.get("training", arguments.get("train", True))
        calls.append(DropoutCall(before, output.detach().clone(), float(p), bool(training)))
        return output

    with TorchCalls((nn.functional.dropout, torch.dropout), record):
        yield calls


@contextlib.contextmanager
def recorded_fused_attention():
    """Record the arguments, by name, of every call of F.scaled_dot_product_attention in the block."""
    calls: list[dict] = []
    fused = nn.functional.scaled_dot_product_attention

    def record(func, args, kwargs):
        calls.append(_by_name(func, args, kwargs))
        return func(*args, **kwargs)

    with TorchCalls((fused,), record):
        yield calls


@contextlib.contextmanager
def recorded_forward(module: nn.Module):
    """Record (input, output) of every forward of `module` in the block: module(x) and module.forward(x) both, and
    for a layer with a weight, what code computes with that weight by other means: F.linear(x, layer.weight,
    layer.bias), as code that calls its layers through torch.nn.functional does (a precision pass's MLP did), and
    the product by hand: x @ layer.weight.T, torch.mm, bmm, einsum or tensordot with the weight or a view of it,
    or F.linear without the bias, then the bias added (+ or +=); or torch.addmm(layer.bias, x, layer.weight.t())."""
    calls: list[tuple[torch.Tensor, torch.Tensor]] = []
    functional: list[torch.Tensor] = []  # the outputs recorded from F.linear, which the module's own call returns
    weight, bias = getattr(module, "weight", None), getattr(module, "bias", None)
    unbiased: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # x @ weight.T's output, by id: (x, that output)

    def record(args: tuple, output) -> None:
        if not (functional and output is functional[-1]):
            calls.append((args[0].detach().clone(), output.detach().clone()))

    def record_functional(x, output) -> None:
        record((x,), output)
        functional.append(output)

    def with_the_weight(func, args, kwargs):
        output = func(*args, **kwargs)
        name = getattr(func, "__name__", "")
        if name in _PRODUCTS:
            operands = [*args[1:]] if name == "einsum" else [*args, *kwargs.values()]
            operands = [*operands[0]] if len(operands) == 1 and isinstance(operands[0], list | tuple) else operands
            tensors = [operand for operand in operands if isinstance(operand, torch.Tensor) and operand is not bias]
            others = [tensor for tensor in tensors if not _a_view_of(tensor, weight)]
            if len(others) == 1 and len(tensors) == 2:
                biased = name in ("linear", "addmm") and any(operand is bias for operand in operands)
                if bias is None or biased:
                    record_functional(others[0], output)
                else:
                    unbiased[id(output)] = (others[0], output)
        elif name in _SUMS and bias is not None and len(args) == 2:
            term = args[0] if args[1] is bias else args[1] if args[0] is bias else None
            x, product = unbiased.get(id(term), (None, None))
            if product is not None and product is term:
                record_functional(x, output)
        return output

    after_each_forward(module, record)
    try:
        with TorchCalls(_WITH_A_WEIGHT, with_the_weight):
            yield calls
    finally:
        del module.forward


# What a layer's weight is used in by code that does not call the layer (recorded_forward): torch's products, with
# or without the bias, and the sums that add the bias after, as the tensor methods that `@`, `+` and `+=` call.
_PRODUCTS = ("linear", "addmm", "matmul", "__matmul__", "mm", "bmm", "einsum", "tensordot")
_SUMS = ("add", "__add__", "__radd__", "add_", "__iadd__")
_WITH_A_WEIGHT = (
    torch._C._nn.linear,
    torch.addmm,
    torch.matmul,
    torch.Tensor.matmul,
    torch.Tensor.__matmul__,
    torch.mm,
    torch.Tensor.mm,
    torch.bmm,
    torch.Tensor.bmm,
    torch.einsum,
    torch.tensordot,
    torch.add,
    torch.Tensor.add,
    torch.Tensor.__add__,
    torch.Tensor.__radd__,
    torch.Tensor.add_,
    torch.Tensor.__iadd__,
)


def _a_view_of(tensor, weight) -> bool:
    return weight is not None and isinstance(tensor, torch.Tensor) and (tensor is weight or tensor._base is weight)


@contextlib.contextmanager
def recorded_inputs(module: nn.Module):
    """Record the first argument of every forward of `module` in the block, whatever it returns."""
    inputs: list = []
    after_each_forward(module, lambda args, output: inputs.append(args[0].detach().clone() if args else None))
    try:
        yield inputs
    finally:
        del module.forward


def submodule(owner: nn.Module, name: str, call: str) -> nn.Module:
    """owner.<name>, a submodule the stage's docstring names, or a failure that says it is missing
    (rather than an AttributeError raised inside the tests)."""
    module = getattr(owner, name, None)
    if isinstance(module, list | tuple) and module and all(isinstance(item, nn.Module) for item in module):
        fail(
            f"{call}: its {name} is a plain Python {type(module).__name__} of {len(module)} modules, which the module "
            "holding it does not see (their weights are missing from parameters() and never train): wrap them, "
            f"nn.ModuleList([...])"
        )
    if not isinstance(module, nn.Module):
        fail(f"{call} should have a submodule named {name}, as the stage's docstring says; got {show(module)}")
    return module


def expect_dropout_last(
    module: nn.Module, x: torch.Tensor, last_layer, call: str, layer_name: str, *, p: float, rate_hint: str = ""
):
    """In training mode, `module` must return dropout(p) of what `last_layer` computed, as the lecture does.
    `rate_hint`, where given, is the advice when that dropout is missing or drops at another rate."""
    if not isinstance(last_layer, nn.Linear):
        fail(f"{call}: expected its {layer_name} to be an nn.Linear, got {last_layer!r}")
    with fixed_seed(0), recorded_dropout() as calls, recorded_forward(last_layer) as layer_calls:
        out = module.train()(x)
    module.eval()
    if not layer_calls:
        fail(f"{call} never called its {layer_name}")
    layer_input, layer_output = layer_calls[-1]
    dropped = [dropout for dropout in calls if dropout.active]
    if any(same_elements(dropout.output, layer_input) for dropout in dropped):
        fail(
            f"{call} applies dropout before its {layer_name}: apply it last, to the {layer_name}'s output, as its "
            "docstring asks"
        )
    after = [dropout for dropout in dropped if same_elements(dropout.input, layer_output)]
    returned = [dropout for dropout in dropped if isinstance(out, torch.Tensor) and same_elements(out, dropout.output)]
    if not after and returned and returned[-1].p == p:
        fail(
            f"{call} ends with a dropout of p={p:g}, but what it drops is not what its {layer_name} returned: "
            f"something runs between the {layer_name} and the dropout (an activation after it?); end with "
            f"dropout({layer_name}(...))"
        )
    if not after:
        hint = rate_hint or "end with dropout, as its docstring asks"
        fail(f"{call} applied no dropout to the output of its {layer_name}: {hint}")
    if after[-1].p != p:
        hint = rate_hint or "use the dropout it was given"
        fail(f"{call} dropped its {layer_name}'s output with p={after[-1].p:g}: {hint}")
    if not isinstance(out, torch.Tensor) or not same_elements(out.detach(), after[-1].output):
        fail(f"{call} should return the dropped output of its {layer_name}, with nothing after the dropout")


def expect_every_parameter_learns(
    model: nn.Module, loss: torch.Tensor, call: str, *, tokens: torch.Tensor | None = None
) -> None:
    """After loss.backward(), every parameter of `model` must hold a gradient, and not all zeros. `call` says what
    gave the loss ("model(idx of shape (3, 8), targets)"). Given the `tokens` it read, so must each of their rows of
    its token_embedding_table (an nn.Embedding(padding_idx=0) trains every row but that one)."""
    loss.backward()
    untrained = [
        name for name, parameter in model.named_parameters() if parameter.grad is None or not parameter.grad.any()
    ]
    table = getattr(getattr(model, "token_embedding_table", None), "weight", None)
    rows = table.grad if isinstance(table, torch.Tensor) and tokens is not None else None
    unlearned_rows = (
        [] if rows is None or rows.is_sparse else [t for t in tokens.unique().tolist() if not rows[t].any()]
    )
    model.zero_grad(set_to_none=True)
    if unlearned_rows and not untrained:
        fail(
            f"After loss.backward() on {call}, the token embedding rows of tokens {unlearned_rows}, which idx holds, "
            "got no gradient: training would never change them",
            "nn.Embedding(vocab_size, n_embd, padding_idx=...) keeps that row out of training: leave padding_idx "
            "out, as every token here is text.",
        )
    if untrained:
        named = ", ".join(untrained[:4]) + (f" and {len(untrained) - 4} more" if len(untrained) > 4 else "")
        fail(
            f"After loss.backward() on {call}, {len(untrained)} of its parameters got no gradient: {named}. Training "
            "would never change them",
            "Either the forward never uses them (a layer built but not called, or called where another was meant), "
            "or something between them and the loss cuts the graph: a .detach(), a torch.no_grad() block, .data, or "
            "a tensor rebuilt from plain numbers (torch.tensor(x.tolist())).",
        )


def same_elements(a: torch.Tensor, b: torch.Tensor) -> bool:
    """The same numbers, whatever the layout: a layer may run on the tokens flattened to (B*T, C), or time-major,
    and return them as (B, T, C) (precision passes' FeedForward and Block did)."""
    return rearranged_like(a, b, 0) is not None


# torch's names of the operators a learner writes as symbols (>= calls torch.ge), as the learner wrote them
_AS_WRITTEN = {
    name: f"{symbol} (torch.{name})" for name, symbol in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))
}
_AS_WRITTEN |= {name: f"{symbol} (torch.{name})" for name, symbol in (("eq", "=="), ("ne", "!="), ("matmul", "@"))}
_AS_WRITTEN |= {name: f"{symbol} (torch.{name})" for name, symbol in (("add", "+"), ("sub", "-"), ("mul", "*"))}
_AS_WRITTEN |= {"div": "/ (torch.div)", "truediv": "/ (torch.div)", "and": "& (torch.bitwise_and)"}
_AS_WRITTEN |= {"or": "| (torch.bitwise_or)"}


def operation(name: str) -> str:
    """An operation as the learner wrote it: >= (torch.ge) rather than ge, or __rmul__."""
    bare = name.strip("_")
    bare = bare[1:] if name.startswith("__r") and bare[1:] in _AS_WRITTEN else bare
    return _AS_WRITTEN.get(bare, name)


def expect_tensors_on_the_inputs_device(action, call: str, *, the_input: str = "idx") -> None:
    """Fail where action() mixes a tensor it made without device= with the input's tensors or a parameter;
    `the_input` names the input whose device the hint suggests."""
    with MadeOnTheCPU() as recorder:
        action()
    if mixed := recorder.mix:
        file, _, line = mixed.where.rpartition(":")
        where = f" (at {display_path(Path(file))}:{line})" if file else ""
        fail(
            f"{call} makes a tensor with {mixed.made_with}(...) without device={where} and uses it with the input's "
            f"tensors in {operation(mixed.mixed_in)}: on a GPU that raises 'Expected all tensors to be on the same "
            "device'",
            f"Make it on the input's device, {mixed.made_with}(..., device={the_input}.device), or move it there with "
            f".to({the_input}.device), as the lecture's code does",
            _moved_where_the_devices_differ(file, line),
        )


def _moved_where_the_devices_differ(file: str, line: str) -> str:
    """Where the lines after the one that made the tensor compare devices, why moving it there did not count (a
    precision pass, 2026-12-07: code that moved it in `if mask.device != q.device:` read "move it there")."""
    following = [linecache.getline(file, number) for number in range(int(line or 0), int(line or 0) + 4)]
    if not any(".device !=" in text or ".device ==" in text for text in following):
        return ""
    return (
        "A move made only where the devices differ never runs on a CPU, where this test runs, so the test cannot "
        "see it: make the tensor on the input's device at once"
    )
