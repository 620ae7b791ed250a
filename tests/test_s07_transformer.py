"""Stage 7 · The transformer block. The graded implementation's own Head (stage 6) is used."""

import torch
from feedback import close, expect_equal_tensors, expect_tensor, expect_value_error, fail
from hypothesis import example, given
from hypothesis import strategies as st
from strategies import random_floats, seeds
from support import expect_dropout_last, fixed_seed, recorded_dropout, submodule
from torch import nn

from kata.implementation import StageModule
from kata.torch_calls import torchs_layer_norm_runs

stage = StageModule("s07_transformer")
attention = StageModule("s06_attention")


def built(factory, *args, seed=0, **kwargs):
    with fixed_seed(seed):
        return factory(*args, **kwargs)


def linears(module: nn.Module) -> list[nn.Linear]:
    return [layer for layer in module.modules() if isinstance(layer, nn.Linear)]


class TestMultiHeadAttention:
    def test_has_n_head_heads_of_size_n_embd_over_n_head(self):
        mha = built(stage.MultiHeadAttention, 12, 3, 8)
        heads = list(getattr(mha, "heads", []))
        if isinstance(getattr(mha, "heads", None), (list, tuple)):
            fail(
                f"MultiHeadAttention(12, 3, 8).heads is a plain Python {type(mha.heads).__name__} of {len(heads)}: "
                "a module sees the modules it holds only as attributes or in an nn.ModuleList, so these heads' "
                "weights are missing from parameters(), state_dict() and .to(device), and never train. Wrap them, "
                "nn.ModuleList([Head(...) for _ in range(n_head)])"
            )
        if isinstance(getattr(mha, "heads", None), nn.Sequential):
            fail(
                f"MultiHeadAttention(12, 3, 8).heads is an nn.Sequential of {len(heads)}: calling it runs each head on "
                "the previous one's output, where every head attends over x itself. Keep them in an nn.ModuleList, "
                "nn.ModuleList([Head(...) for _ in range(n_head)]), and join head(x) for each head."
            )
        if not isinstance(getattr(mha, "heads", None), nn.ModuleList) or len(heads) != 3:
            fail(
                "MultiHeadAttention(12, 3, 8).heads: expected an nn.ModuleList of 3 Heads, got "
                f"{getattr(mha, 'heads', None)!r}"
            )
        if len({id(head) for head in heads}) != 3:
            fail(
                "MultiHeadAttention(12, 3, 8).heads holds the same Head several times, so the heads share their "
                "weights: build a new Head for each, nn.ModuleList([Head(...) for _ in range(n_head)])"
            )
        sizes = [head.key.out_features for head in heads]
        if sizes != [4, 4, 4]:
            fail(f"MultiHeadAttention(12, 3, 8): each head should have head_size 12 // 3 = 4, got {sizes}")
        if not isinstance(getattr(mha, "proj", None), nn.Linear) or tuple(mha.proj.weight.shape) != (12, 12):
            fail("MultiHeadAttention(12, 3, 8).proj: expected nn.Linear(12, 12)")
        if mha.proj.bias is None:
            fail(
                "MultiHeadAttention(12, 3, 8).proj has no bias: expected nn.Linear(12, 12), which has one, as the "
                "lecture's model (and its parameter count) does. Leave out bias=False"
            )

    def test_rejects_n_embd_not_divisible_by_n_head(self):
        call = "MultiHeadAttention(10, 3, 8)"
        expect_value_error(lambda: stage.MultiHeadAttention(10, 3, 8), call, "10 is not divisible by 3")

    @given(seeds, st.integers(1, 4), st.integers(1, 4), st.integers(1, 8))
    @example(0, 2, 3, 5)
    def test_concatenates_its_heads_then_projects(self, seed, n_head, head_size, T):
        n_embd = n_head * head_size
        mha = built(stage.MultiHeadAttention, n_embd, n_head, 8, seed=seed).eval()
        x = random_floats((2, T, n_embd), seed)
        call = f"MultiHeadAttention({n_embd}, {n_head}, 8) on x of shape (2, {T}, {n_embd})"
        got = mha(x)  # first: where the heads' widths do not add up, the learner's own line says so
        heads, proj = submodule(mha, "heads", call), submodule(mha, "proj", call)
        expected = proj(torch.cat([head(x) for head in heads], dim=-1))
        expect_equal_tensors(
            got,
            expected.detach(),
            call,
            atol=1e-5,
            hint="Expected proj(torch.cat([head(x) for head in self.heads], dim=-1)).",
        )

    def test_drops_each_heads_weights_and_the_projected_output(self):
        mha = built(stage.MultiHeadAttention, 12, 3, 8, dropout=0.5)
        x = random_floats((2, 5, 12), 7)
        call = "MultiHeadAttention(12, 3, 8, dropout=0.5) in training mode"
        with fixed_seed(0), recorded_dropout() as calls:
            attention.Head(12, 4, 8, 0.5).train()(x)
        if not any(dropout.active and dropout.p == 0.5 for dropout in calls):
            fail(
                "Your Head (stage 6) applies no dropout of p=0.5 in training mode even when built with dropout=0.5, "
                "so no MultiHeadAttention made of it can. Make `pytest -m s06_attention` pass first"
            )
        for number, head in enumerate(getattr(mha, "heads", [])):
            with fixed_seed(0), recorded_dropout() as calls:
                head.train()(x)
            if not any(dropout.active and dropout.p == 0.5 for dropout in calls):
                fail(
                    f"{call}: head {number} applied no dropout of p=0.5 to its weights: pass dropout on to each "
                    "Head(n_embd, head_size, block_size, dropout)"
                )
        expect_dropout_last(mha, x, getattr(mha, "proj", None), call, "proj", p=0.5)


class TestFeedForward:
    def test_widens_four_times_applies_relu_and_projects_back(self):
        ffwd = built(stage.FeedForward, 6).eval()
        layers = linears(ffwd)
        shapes = [tuple(layer.weight.shape) for layer in layers]
        if shapes != [(24, 6), (6, 24)]:
            fail(f"FeedForward(6): expected Linear(6, 24) then Linear(24, 6), got weights of shapes {shapes}")
        if without := [name for name, layer in zip(("first", "second"), layers, strict=True) if layer.bias is None]:
            fail(
                f"FeedForward(6): the {' and the '.join(without)} Linear has no bias: nn.Linear(6, 24) and "
                "nn.Linear(24, 6) have one, as the lecture's model (and its parameter count) does. Leave out bias=False"
            )
        x = random_floats((2, 5, 6), 1)
        expected = layers[1](torch.relu(layers[0](x)))
        expect_equal_tensors(
            ffwd(x).detach(),
            expected.detach(),
            "FeedForward(6) on x of shape (2, 5, 6)",
            atol=1e-6,
            hint="Expected Linear -> ReLU -> Linear.",
        )

    def test_drops_the_output_of_its_last_linear(self):
        ffwd = built(stage.FeedForward, 6, 0.5)
        last_linear = (linears(ffwd) or [None])[-1]
        call = "FeedForward(6, dropout=0.5) in training mode"
        expect_dropout_last(ffwd, random_floats((2, 5, 6), 2), last_linear, call, "last Linear", p=0.5)


def start_diagnosis(layer_norm, dim: int) -> str:
    """Which of weight and bias a fresh LayerNorm starts elsewhere than ones and zeros, said first where the values
    are wrong (a bias of ones shifts every output by one, which the formula's hint would not name)."""
    wrong = [
        f"{name} = {start}({dim})"
        for name, start, values in (("weight", "ones", torch.ones(dim)), ("bias", "zeros", torch.zeros(dim)))
        if isinstance(value := getattr(layer_norm, name, None), torch.Tensor)
        and value.shape == values.shape
        and not torch.equal(value.detach(), values)
    ]
    if not wrong:
        return ""
    return f"A fresh LayerNorm should start with {' and '.join(wrong)}, as nn.LayerNorm does; yours does not."


def layernorm_diagnosis(got, x, reference, eps) -> str:
    """Name the mistake when the layer norm computes a known wrong variant."""
    generic = (
        "Each row is normalised over its last dim: (x - mean) / torch.sqrt(var + eps) * weight + bias, mean "
        "and var over dim -1."
    )
    if x.shape[-1] < 2 or got.shape != x.shape:
        return generic
    if x.dtype == torch.float64:
        weight, bias = reference.weight.detach(), reference.bias.detach()  # the module itself keeps its dtype
        in_float32 = nn.functional.layer_norm(x.float(), x.shape[-1:], weight.float(), bias.float(), eps).double()
        exact = nn.functional.layer_norm(x, x.shape[-1:], weight.double(), bias.double(), eps)
        if torch.allclose(got, in_float32, atol=1e-5) and not torch.allclose(got, exact, atol=1e-12, rtol=0):
            return (
                "These are the right values to float32's precision only: something computes in float32 (a tensor "
                "made without dtype=, a .float(), a float32 buffer). Keep the input's dtype throughout."
            )
    mean, weight, bias = x.mean(-1, keepdim=True), reference.weight.to(x.dtype), reference.bias.to(x.dtype)
    biased, unbiased = x.var(-1, keepdim=True, unbiased=False), x.var(-1, keepdim=True)
    known = [
        (
            (x - mean) / torch.sqrt(unbiased + eps) * weight + bias,
            "That is the unbiased variance: use x.var(-1, keepdim=True, unbiased=False), as nn.LayerNorm does.",
        ),
        (
            (x - mean) / torch.sqrt((x * x).mean(-1, keepdim=True) + eps) * weight + bias,
            "The variance is the mean square of x itself: take it from the centred values, ((x - mean) ** "
            "2).mean(-1, keepdim=True).",
        ),
        (
            (x - mean) / (torch.sqrt(biased) + eps) * weight + bias,
            "eps is added after the square root: divide by torch.sqrt(var + eps).",
        ),
        (
            (x - mean) / (torch.sqrt(unbiased) + eps) * weight + bias,
            "Two slips at once: x.std (or x.var) is unbiased by default, and eps is added after the square root. "
            "Divide by torch.sqrt(x.var(-1, keepdim=True, unbiased=False) + eps).",
        ),
        (
            (x - mean) / torch.sqrt(biased + 1e-5) * weight + bias,
            f"That is what eps = 1e-5 (nn.LayerNorm's default) or a smaller one gives, not the eps={eps:g} the "
            "LayerNorm was given: keep it as given (self.eps = eps) and add it to the variance, torch.sqrt(var + "
            "self.eps).",
        ),
        (
            (x - mean) / torch.sqrt(biased + eps),
            "The output is normalised but not scaled and shifted: multiply by self.weight and add self.bias.",
        ),
    ]
    for expected, diagnosis in known:
        if torch.allclose(got, expected.to(got.dtype), atol=1e-5) and not torch.allclose(
            expected, reference(x), atol=1e-5
        ):
            return diagnosis
    return generic


IN_PLACE_CENTRING = (
    "Your LayerNorm changes its input in place (x -= mean): write centred = x - x.mean(-1, keepdim=True), which "
    "makes a new tensor"
)
NO_RUNNING_STATISTICS = (
    "A layer norm normalises each row by its own mean and variance in both modes: keep no running statistics "
    "(that is BatchNorm)"
)


def changes_its_input(layer_norm, x: torch.Tensor) -> bool:
    """Whether the layer norm (a Block's ln1, say, which may be missing), called on a copy of x, changes that copy."""
    if not isinstance(layer_norm, nn.Module):
        return False
    given = x.clone()
    try:
        with torch.no_grad():
            layer_norm(given)
    except NotImplementedError:
        raise
    except Exception:  # what it raises, a test of its own says
        return False
    return not torch.equal(given, x)


def expect_named_weight_and_bias(layer_norm, dim: int) -> None:
    """weight and bias must be nn.Parameters under these names, as nn.LayerNorm's are."""
    call = f"LayerNorm({dim})"
    parameters = dict(layer_norm.named_parameters())
    for name, start in (("weight", "ones"), ("bias", "zeros")):
        value = getattr(layer_norm, name, None)
        if isinstance(value, torch.Tensor) and not isinstance(value, nn.Parameter):
            fail(
                f"{call}.{name} is a plain tensor, so the optimizer never sees it: make it "
                f"nn.Parameter(torch.{start}(dim))"
            )
        if name not in parameters:
            named = ", ".join(parameters) or "none"
            fail(
                f"{call} should have nn.Parameters named weight (ones) and bias (zeros), as nn.LayerNorm does; "
                f"its parameters are named: {named}. Rename them: the tests and the later stages use these names"
            )


def expect_weight_and_bias(layer_norm, dim: int) -> None:
    """weight and bias must be its only nn.Parameters, under these names, starting at ones and zeros."""
    call = f"LayerNorm({dim})"
    expect_named_weight_and_bias(layer_norm, dim)
    parameters = dict(layer_norm.named_parameters())
    others = sorted(set(parameters) - {"weight", "bias"})
    if others:
        fail(
            f"{call} should have two parameters, weight and bias, as nn.LayerNorm does; it also has "
            f"{', '.join(others)}. Keep eps a plain number (self.eps = eps): every nn.Parameter counts in the "
            "model's parameters and its state_dict, and the optimizer updates it unless it is frozen"
        )
    for name, start in (("weight", "ones"), ("bias", "zeros")):
        if tuple(parameters[name].shape) != (dim,):
            fail(
                f"{call}.{name} has shape {tuple(parameters[name].shape)}, expected ({dim},): make it "
                f"nn.Parameter(torch.{start}(dim)), which broadcasts over any leading dimensions"
            )
    if not torch.equal(parameters["weight"].detach(), torch.ones(dim)) or not torch.equal(
        parameters["bias"].detach(), torch.zeros(dim)
    ):
        fail(f"{call}: a fresh LayerNorm should have weight = ones({dim}) and bias = zeros({dim})")


class TestLayerNorm:
    def test_learns_its_scale_and_shift(self):
        layer_norm = stage.LayerNorm(8)
        expect_named_weight_and_bias(layer_norm, 8)  # named otherwise, they would seem to get no gradient
        x = random_floats((2, 3, 8), 0)
        if changes_its_input(layer_norm, x):  # asked first: on x that requires its gradient, torch raises about leaves
            fail("LayerNorm(8) changed the tensor it was given", IN_PLACE_CENTRING)
        x.requires_grad_()  # a graph to go back through, frozen parameters or not
        layer_norm(x).pow(2).sum().backward()
        frozen = [name for name in ("weight", "bias") if getattr(getattr(layer_norm, name, None), "grad", None) is None]
        if frozen:
            fail(
                f"LayerNorm(8): after backward, {' and '.join(frozen)} got no gradient, so training never changes "
                "them: make each an nn.Parameter that requires its gradient (the default), and use it itself in "
                "forward (self.weight, not self.weight.data or a detached copy)"
            )

    def test_passes_the_gradient_back_as_nn_layernorm_does(self):
        layer_norm, reference = built(stage.LayerNorm, 8, 1e-5), nn.LayerNorm(8, eps=1e-5)  # both fresh
        x, upstream = random_floats((2, 3, 8), 15) * 2 + 1, random_floats((2, 3, 8), 16)
        given, expected = x.clone().requires_grad_(), x.clone().requires_grad_()
        (layer_norm(given) * upstream).sum().backward()
        (reference(expected) * upstream).sum().backward()
        if given.grad is None:
            fail("LayerNorm(8): after backward, the input got no gradient: compute the output from x itself")
        expect_equal_tensors(
            given.grad,
            expected.grad,
            "A fresh LayerNorm(8)'s gradient with respect to its input, against a fresh nn.LayerNorm(8)'s",
            atol=1e-5,
            hint="The values are right but the gradient is not: keep the mean and the variance in the graph (no "
            "torch.no_grad(), .detach() or .item() on them), for the gradient runs back through them too.",
        )

    def test_computes_the_same_in_eval_mode(self):
        layer_norm, x = built(stage.LayerNorm, 8), random_floats((2, 3, 8), 12) * 3 + 1
        with torch.no_grad():
            trained = layer_norm.train()(x.clone())
            evaluated = layer_norm.eval()(x.clone())
        expect_tensor(trained, "LayerNorm(8) on x of shape (2, 3, 8)")
        expect_equal_tensors(
            evaluated,
            trained,
            "LayerNorm(8) in eval mode, against its output in training mode on the same x of shape (2, 3, 8)",
            atol=1e-6,
            hint=NO_RUNNING_STATISTICS,
        )

    def test_eps_defaults_to_1e_5_as_nn_layernorms_does(self):
        x = 0.001 * random_floats((2, 3, 6), 11)  # a variance near 1e-6, where eps weighs
        layer_norm = built(stage.LayerNorm, 6)
        got = layer_norm(x)
        call = "LayerNorm(6), no eps given, on x of variance about 1e-6"
        hint = next(
            (
                f"That is eps={eps:g}: the default is 1e-5, as nn.LayerNorm's is, def __init__(self, dim, eps=1e-5)."
                for eps in (1e-6, 1e-8, 1e-12, 1e-3, 0.0)
                if close(got, nn.LayerNorm(6, eps=eps)(x), 1e-5)
            ),
            None,
        )
        if hint is None:  # not another eps: a mistake the other tests meet too, which the eps test shows first
            hint = start_diagnosis(layer_norm, 6) or (
                layernorm_diagnosis(got.detach(), x, nn.LayerNorm(6), 1e-5) if isinstance(got, torch.Tensor) else ""
            )
        expect_equal_tensors(got.detach(), nn.LayerNorm(6)(x).detach(), call, atol=1e-5, hint=hint)

    def test_is_written_from_scratch(self):
        if isinstance(stage.LayerNorm, type) and issubclass(stage.LayerNorm, nn.LayerNorm):
            fail(
                "LayerNorm is torch's nn.LayerNorm: this stage asks you to write it yourself. Compute the mean and "
                "the biased variance over the last dim, then (x - mean) / torch.sqrt(var + eps) * weight + bias"
            )
        layer_norm, x = built(stage.LayerNorm, 8), random_floats((2, 3, 8), 0)
        if torchs_layer_norm_runs(lambda: layer_norm(x)):
            fail(
                "LayerNorm calls torch's own layer norm (nn.LayerNorm, F.layer_norm or torch.native_layer_norm): this "
                "stage asks you to write it yourself. Compute the mean and the biased variance over the last dim, "
                "then (x - mean) / torch.sqrt(var + eps) * weight + bias"
            )

    @given(
        seeds,
        st.lists(st.integers(1, 5), min_size=0, max_size=2),
        st.integers(1, 9),
        st.sampled_from([torch.float32, torch.float64]),
        st.sampled_from([1e-5, 1e-3]),
    )
    @example(0, [2, 3], 8, torch.float32, 1e-5)
    @example(1, [4], 6, torch.float64, 1e-3)
    @example(56, [], 2, torch.float32, 1e-5)  # two values that nearly agree: amplification 793
    def test_matches_nn_layernorm_on_any_shape_and_dtype(self, seed, leading, dim, dtype, eps):
        ours = built(stage.LayerNorm, dim, eps)
        expect_weight_and_bias(ours, dim)
        reference = nn.LayerNorm(dim, eps=eps)
        with torch.no_grad():
            reference.weight.copy_(random_floats((dim,), seed))
            reference.bias.copy_(random_floats((dim,), seed + 1))
            ours.weight.copy_(reference.weight)
            ours.bias.copy_(reference.bias)
        x = random_floats((*leading, dim), seed, dtype) * 3 + 1
        expected = reference.to(dtype)(x).detach()
        got = ours.to(dtype)(x).detach()
        if dtype == torch.float64 and got.shape == x.shape:
            # An eps kept as a float32 tensor (register_buffer("eps", torch.tensor(eps))) is eps rounded to
            # float32: in float64 that moves the output by up to about 1e-10, above float64's own rounding.
            # Both are correct, so compare with whichever of the two the layer norm is nearer.
            rounded = torch.tensor(eps, dtype=torch.float32).item()
            with_rounded_eps = nn.functional.layer_norm(x, (dim,), reference.weight, reference.bias, rounded).detach()
            expected = min(expected, with_rounded_eps, key=lambda output: (got - output).abs().max().item())
        # Rounding in x - mean grows by 1/sqrt(var + eps): nearly constant rows amplify it.
        amplification = (
            (x.abs().amax() / torch.sqrt(x.var(-1, unbiased=False) + eps).amin()).item() if x.numel() else 1.0
        )
        # A variance taken as mean(x²) - mean², as Flax's LayerNorm takes it by default (use_fast_variance), rounds
        # by about eps · max|x|², which the normalising divides by var: its output carries up to eps · amplification²
        # (0.015 on the example's row of amplification 793, where that is 0.075), the centred one eps · amplification.
        rounding = 2e-6 if dtype == torch.float32 else 1e-12
        tolerance = rounding * (1 + amplification) + torch.finfo(dtype).eps * amplification**2
        call = (
            f"LayerNorm({dim}, eps={eps}) on x of shape {tuple(x.shape)} and dtype {str(dtype).removeprefix('torch.')}"
        )
        hint = "" if close(got, expected, tolerance) else layernorm_diagnosis(got, x, reference, eps)
        expect_equal_tensors(got, expected, call, atol=tolerance, hint=hint)


def randomised_norms(block) -> None:
    """Give ln1 and ln2 different weights and biases: fresh, both are the same function (ones and zeros),
    which would hide a block that uses one where the other belongs."""
    with torch.no_grad():
        for offset, name in enumerate(("ln1", "ln2")):
            layer_norm = submodule(block, name, "Block(8, 2, 6)")
            for number, parameter in enumerate(layer_norm.parameters()):
                parameter.copy_(1 + 0.5 * random_floats(tuple(parameter.shape), 100 + 10 * offset + number))


def block_diagnosis(block, x, got) -> str:
    """Name the mistake when the block computes a known wrong arrangement."""
    sa, ffwd, ln1, ln2 = (submodule(block, name, "Block(8, 2, 6)") for name in ("sa", "ffwd", "ln1", "ln2"))

    def pre_norm(first_norm, second_norm):
        h = x + sa(first_norm(x))
        return h + ffwd(second_norm(h))

    def normalised_stream():
        h = ln1(x)
        h = h + sa(h)
        h = ln2(h)
        return h + ffwd(h)

    known = [
        (
            pre_norm(ln1, ln1),
            "The feed-forward's input is normalised with ln1: use ln2 there, x + ffwd(ln2(x)); as written ln2 "
            "is never used and never trains.",
        ),
        (pre_norm(ln2, ln2), "The attention's input is normalised with ln2: use ln1 there, x + sa(ln1(x))."),
        (
            normalised_stream(),
            "The residual stream itself is normalised: keep x as it is and add each sublayer's output to it, "
            "x = x + sa(ln1(x)).",
        ),
        (
            (lambda h: h + sa(ln2(h)))(x + ffwd(ln1(x))),
            "The feed-forward runs before the attention: communicate first, x = x + sa(ln1(x)), then compute, "
            "x = x + ffwd(ln2(x)).",
        ),
        (
            ffwd(ln2(x + sa(ln1(x)))),
            "The feed-forward's output replaces x instead of being added to it: x = x + ffwd(ln2(x)).",
        ),
        (
            x + sa(ln1(x)) + ffwd(ln2(x)),
            "The attention and the feed-forward both read the block's input, side by side (GPT-J's parallel "
            "block): the feed-forward reads the stream after the attention, x = x + sa(ln1(x)), then x = x + "
            "ffwd(ln2(x)).",
        ),
        (
            x + ffwd(ln2(x + sa(ln1(x)))),
            "The feed-forward's output is added to the block's input, not to the stream after the attention: "
            "keep the sum, x = x + sa(ln1(x)), then x = x + ffwd(ln2(x)).",
        ),
        (
            (lambda h: h + ffwd(ln2(h)))(sa(ln1(x))),
            "The attention's output replaces x instead of being added to it: x = x + sa(ln1(x)).",
        ),
        (
            (lambda h: ln2(h + ffwd(h)))(ln1(x + sa(x))),
            "That is post-norm, ln(x + sublayer(x)), as in the original Transformer paper; the block is pre-norm "
            "(at 1:32:51 in the lecture): normalise each sublayer's input and add its output to x unnormalised, "
            "x = x + sa(ln1(x)), then x = x + ffwd(ln2(x)).",
        ),
    ]
    for expected, diagnosis in known:
        if isinstance(got, torch.Tensor) and got.shape == x.shape and torch.allclose(got, expected, atol=1e-5):
            return diagnosis
    return (
        "Expected x = x + sa(ln1(x)), then x = x + ffwd(ln2(x)): normalise before each sublayer, add its output to x."
    )


class TestBlock:
    def test_has_two_layer_norms_and_n_head_heads(self):
        block = built(stage.Block, 8, 2, 6)
        sa, ln1, ln2 = (submodule(block, name, "Block(8, 2, 6)") for name in ("sa", "ln1", "ln2"))
        if ln1 is ln2:
            fail(
                "Block(8, 2, 6).ln1 and .ln2 are one and the same LayerNorm: the block needs two, each with its own "
                "weight and bias, LayerNorm(n_embd) made twice"
            )
        heads = list(getattr(sa, "heads", []))
        if len(heads) != 2:
            fail(
                f"Block(8, 2, 6).sa has {len(heads)} heads, expected n_head = 2",
                "MultiHeadAttention takes (n_embd, n_head, block_size, dropout): the lecture's Block passed "
                "(n_head, head_size) to its MultiHeadAttention, which took them in that order."
                if len(heads) == 8 // 2
                else "",
            )

    def test_leaves_its_input_as_it_was_and_trains(self):
        block = built(stage.Block, 8, 2, 6).train()
        x = random_floats((2, 6, 8), 7)
        before = x.clone()
        out = block(x)
        if not torch.equal(x, before):
            if changes_its_input(getattr(block, "ln1", None), before):
                fail(
                    "Block(8, 2, 6) changed the tensor it was given, and so does its ln1 on its own", IN_PLACE_CENTRING
                )
            fail(
                "Block(8, 2, 6) changed the tensor it was given",
                "x += ... adds into the caller's tensor: write x = x + self.sa(self.ln1(x)), which makes a new one.",
            )
        try:
            out.sum().backward()
        except RuntimeError as error:
            if "inplace" not in str(error):
                raise
            fail(
                f"Backward through Block(8, 2, 6) failed: {error}".split(" Hint:")[0],
                "x += ... overwrites a tensor that backward still needs: write x = x + self.ffwd(self.ln2(x)).",
            )

    def test_is_pre_norm_attention_then_feed_forward(self):
        block = built(stage.Block, 8, 2, 6).eval()
        randomised_norms(block)
        x = random_floats((2, 6, 8), 2)
        with torch.no_grad():
            sa, ffwd, ln1, ln2 = (submodule(block, name, "Block(8, 2, 6)") for name in ("sa", "ffwd", "ln1", "ln2"))
            for name, layer_norm in (("ln1", ln1), ("ln2", ln2)):
                evaluated, trained = layer_norm.eval()(x.clone()), layer_norm.train()(x.clone())
                layer_norm.eval()
                if isinstance(trained, torch.Tensor) and not close(evaluated, trained, 1e-6):
                    fail(
                        f"Block(8, 2, 6) in eval mode: its {name} gave other values in eval mode than in training "
                        "mode, on the same input",
                        NO_RUNNING_STATISTICS,
                    )
            after_attention = x + sa(ln1(x))
            expected = after_attention + ffwd(ln2(after_attention))
            got = block(x)
            hint = block_diagnosis(block, x, got)
        expect_equal_tensors(got, expected, "Block(8, 2, 6) on x of shape (2, 6, 8)", atol=1e-5, hint=hint)

    def test_zeroed_sublayers_leave_the_residual_path_as_the_identity(self):
        block = built(stage.Block, 8, 2, 6).eval()
        with torch.no_grad():
            sa, ffwd = submodule(block, "sa", "Block(8, 2, 6)"), submodule(block, "ffwd", "Block(8, 2, 6)")
            for layer in (submodule(sa, "proj", "Block(8, 2, 6).sa"), linears(ffwd)[-1]):
                layer.weight.zero_()
                if layer.bias is not None:  # a missing bias fails the sublayers' own tests, with its own message
                    layer.bias.zero_()
        x = random_floats((2, 6, 8), 3)
        got = block(x)
        hint = "The block must add each sublayer to x (residual connections)."
        if close(got, nn.functional.layer_norm(x, (8,)), 1e-4):
            hint = (
                "With both sublayers giving 0 the block returns x normalised: it normalises the residual stream "
                "itself (post-norm, ln(x + sa(x)), or x = ln1(x)). Normalise only each sublayer's input and add its "
                "output to x as it is, x = x + sa(ln1(x))."
            )
        expect_equal_tensors(got.detach(), x, "Block with both sublayers' output layers zeroed", atol=1e-6, hint=hint)

    def test_the_past_never_depends_on_the_future(self):
        block = built(stage.Block, 8, 2, 10).eval()
        x = random_floats((1, 10, 8), 4)
        changed = x.clone()
        changed[:, 4:] += random_floats((1, 6, 8), 5)  # not a constant shift, which the layer norms remove
        if not torch.allclose(block(x)[:, :4], block(changed)[:, :4], atol=1e-6, equal_nan=True):
            head = built(attention.Head, 8, 4, 10).eval()
            if not torch.allclose(head(x)[:, :4], head(changed)[:, :4], atol=1e-6, equal_nan=True):
                fail(
                    "Block: changing tokens after position 3 changed outputs at positions 0..3, and so does your "
                    "Head (stage 6) on its own. Make `pytest -m s06_attention` pass first"
                )
            ln1 = getattr(block, "ln1", None)
            if callable(ln1) and not torch.allclose(ln1(x)[:, :4], ln1(changed)[:, :4], atol=1e-6, equal_nan=True):
                fail(
                    "Block: changing tokens after position 3 changed outputs at positions 0..3, and so does its ln1 "
                    "on its own",
                    "Your LayerNorm mixes positions: it should normalise each token over its own features, the "
                    "last dim only, x.mean(-1, keepdim=True) and the variance likewise, never over the whole tensor.",
                )
            fail("Block: changing tokens after position 3 changed outputs at positions 0..3")

    def test_dropout_is_off_in_eval_mode(self):
        block = built(stage.Block, 8, 2, 6, dropout=0.5)
        x = random_floats((2, 6, 8), 5)
        block.eval()
        before = x.clone()
        if not torch.equal(block(x), block(x)):
            if not torch.equal(x, before):  # the first call changed x, and the second was given what it left
                said = "so two calls on the same x gave two outputs"
                if changes_its_input(getattr(block, "ln1", None), before):
                    fail(
                        f"Block(dropout=0.5) changed the tensor it was given (so does its ln1 on its own), {said}",
                        IN_PLACE_CENTRING,
                    )
                fail(
                    f"Block(dropout=0.5) changed the tensor it was given, {said}",
                    "x += ... adds into the caller's tensor: write x = x + self.sa(self.ln1(x)), a new one.",
                )
            fail(
                "Block(dropout=0.5) in eval mode gave two different outputs for the same input: dropout must be "
                "off in eval mode"
            )
        with fixed_seed(1):
            trained = block.train()(x.clone())  # clones: a block that adds into its input would return that input
        if torch.allclose(trained, block.eval()(x.clone())):
            fail("Block(dropout=0.5) in training mode gave the eval output: pass dropout on to the sublayers")

    def test_passes_dropout_on_to_both_sublayers(self):
        block = built(stage.Block, 8, 2, 6, dropout=0.5).train()
        x = random_floats((2, 6, 8), 6)
        in_sublayers = 0
        for name, sublayer in (("sa", "MultiHeadAttention"), ("ffwd", "FeedForward")):
            with fixed_seed(0), recorded_dropout() as calls:
                getattr(block, name)(x)
            if not any(dropout.active and dropout.p == 0.5 for dropout in calls):
                fail(
                    f"Block(8, 2, 6, dropout=0.5).{name} applied no dropout of p=0.5 in training mode: pass dropout "
                    f"on to {sublayer}"
                )
            in_sublayers += sum(dropout.active for dropout in calls)
        with fixed_seed(0), recorded_dropout() as calls:
            block(x)
        if (in_block := sum(dropout.active for dropout in calls)) > in_sublayers:
            fail(
                f"Block(8, 2, 6, dropout=0.5) in training mode applies dropout {in_block} times, its sublayers "
                f"{in_sublayers} times: the block itself drops nothing, x + sa(ln1(x)) then x + ffwd(ln2(x)), since "
                "each sublayer already ends in dropout. Remove the block's own dropout"
            )
